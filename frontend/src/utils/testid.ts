/** Props carrying a stable `data-testid`, for component props typed without data-* attributes. */
export function tid(id: string): Record<string, string> {
  return { 'data-testid': id }
}

/** `data-*` attributes for component props typed without them (values as strings). */
export function dataAttrs(attrs: Record<string, string | number | boolean | null | undefined>): Record<string, string> {
  return Object.fromEntries(Object.entries(attrs).map(([k, v]) => [`data-${k}`, v == null ? '' : String(v)]))
}
