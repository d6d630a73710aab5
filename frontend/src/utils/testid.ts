/** Props carrying a stable `data-testid`, for component props typed without data-* attributes. */
export function tid(id: string): Record<string, string> {
  return { 'data-testid': id }
}
