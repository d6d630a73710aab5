// Token storage, the problem+json error type and the one place that notices a 401.

const TOKEN_KEY = 'scrm.token'

export function getToken(): string | null {
  try {
    return localStorage.getItem(TOKEN_KEY)
  } catch {
    return null
  }
}

export function setToken(token: string | null): void {
  if (token) localStorage.setItem(TOKEN_KEY, token)
  else localStorage.removeItem(TOKEN_KEY)
}

export interface FieldError {
  field: string
  message: string
  /** pydantic's error type ("missing", "string_too_short"…) when the server's validation refused it. */
  code?: string
  /** The limits of that error ({min_length: 1}…). */
  context?: Record<string, unknown>
}

/** An error answer of the API (`application/problem+json`), or a network failure (status 0). */
export class ApiError extends Error {
  readonly status: number
  readonly title: string
  readonly detail: string
  readonly type: string
  readonly errors: FieldError[]
  /** The whole problem document: extensions such as `merged_into_id` live here. */
  readonly body: Record<string, unknown>

  constructor(status: number, body: unknown) {
    const p = (body && typeof body === 'object' ? body : {}) as Record<string, unknown>
    const detail = typeof p.detail === 'string' ? p.detail : ''
    const title = typeof p.title === 'string' ? p.title : ''
    super(detail || title || `HTTP ${status}`)
    this.name = 'ApiError'
    this.status = status
    this.title = title
    this.detail = detail
    this.type = typeof p.type === 'string' ? p.type : 'about:blank'
    this.body = p
    this.errors = normaliseFieldErrors(p.errors ?? (Array.isArray(p.detail) ? p.detail : undefined))
  }
}

function normaliseFieldErrors(raw: unknown): FieldError[] {
  if (!Array.isArray(raw)) return []
  return raw.flatMap((e): FieldError[] => {
    if (!e || typeof e !== 'object') return []
    const o = e as Record<string, unknown>
    // problem+json `{field, message}`, or FastAPI's default `{loc, msg}` as a fallback
    const field =
      typeof o.field === 'string'
        ? o.field
        : Array.isArray(o.loc)
          ? o.loc.filter((x) => x !== 'body' && x !== 'query' && x !== 'path').join('.')
          : ''
    const message = typeof o.message === 'string' ? o.message : typeof o.msg === 'string' ? o.msg : ''
    const code = typeof o.code === 'string' ? o.code : typeof o.type === 'string' ? o.type : undefined
    const context = o.context && typeof o.context === 'object' ? (o.context as Record<string, unknown>) : undefined
    return message ? [{ field: field.replace(/^(body|query|path)\./, ''), message, code, context }] : []
  })
}

type Listener = () => void
const unauthorizedListeners = new Set<Listener>()

/** Called whenever an authenticated request answers 401 (token expired, revoked, or user deactivated). */
export function onUnauthorized(fn: Listener): () => void {
  unauthorizedListeners.add(fn)
  return () => unauthorizedListeners.delete(fn)
}

export function notifyUnauthorized(): void {
  setToken(null)
  unauthorizedListeners.forEach((fn) => fn())
}
