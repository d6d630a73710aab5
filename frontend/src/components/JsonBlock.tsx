import { prettyJson } from '../utils/format'

export function JsonBlock({ value, testId }: { value: unknown; testId?: string }) {
  return (
    <pre className="json-block" data-testid={testId}>
      {prettyJson(value)}
    </pre>
  )
}
