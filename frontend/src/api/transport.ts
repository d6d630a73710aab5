// A small fetch wrapper used until the generated SDK (src/client) covers every endpoint.
import { ApiError, getToken, notifyUnauthorized } from './http'

type Query = Record<string, string | number | boolean | null | undefined>

export async function request<T>(
  method: 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE',
  path: string,
  opts: { query?: Query; body?: unknown; auth?: boolean } = {},
): Promise<T> {
  const qs = new URLSearchParams()
  for (const [k, v] of Object.entries(opts.query ?? {})) {
    if (v !== undefined && v !== null && v !== '') qs.set(k, String(v))
  }
  const url = qs.size ? `${path}?${qs}` : path
  const headers: Record<string, string> = { Accept: 'application/json, application/problem+json' }
  const token = opts.auth === false ? null : getToken()
  if (token) headers.Authorization = `Bearer ${token}`
  if (opts.body !== undefined) headers['Content-Type'] = 'application/json'
  let res: Response
  try {
    res = await fetch(url, {
      method,
      headers,
      body: opts.body === undefined ? undefined : JSON.stringify(opts.body),
    })
  } catch (e) {
    throw new ApiError(0, { detail: e instanceof Error ? e.message : String(e) })
  }
  const text = await res.text()
  let body: unknown = undefined
  if (text) {
    try {
      body = JSON.parse(text)
    } catch {
      body = { detail: text.slice(0, 300) }
    }
  }
  if (!res.ok) {
    if (res.status === 401 && opts.auth !== false) notifyUnauthorized()
    throw new ApiError(res.status, body)
  }
  return body as T
}
