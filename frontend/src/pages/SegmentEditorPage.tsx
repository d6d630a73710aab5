export default function SegmentEditorPage() { return null }
