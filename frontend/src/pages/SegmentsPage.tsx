export default function SegmentsPage() { return null }
