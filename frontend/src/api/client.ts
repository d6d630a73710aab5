// Configures the generated SDK (src/client, from openapi.json via `npm run gen:api`):
// same-origin base URL, the bearer token on every request, and errors turned into ApiError.
import { client } from '../client/client.gen'
import { ApiError, getToken, notifyUnauthorized } from './http'

client.setConfig({ baseUrl: '' })

client.interceptors.request.use((request) => {
  const token = getToken()
  if (token && !request.headers.has('Authorization')) request.headers.set('Authorization', `Bearer ${token}`)
  if (!request.headers.has('Accept')) request.headers.set('Accept', 'application/json, application/problem+json')
  return request
})

client.interceptors.error.use((error, response, request) => {
  if (error instanceof ApiError) return error
  if (!response) {
    // fetch itself failed: offline, DNS, CORS, aborted
    return new ApiError(0, { detail: error instanceof Error ? error.message : String(error) })
  }
  const body = typeof error === 'string' ? { detail: error.slice(0, 300) } : error
  if (response.status === 401 && !new URL(request.url, window.location.href).pathname.endsWith('/auth/login')) {
    notifyUnauthorized()
  }
  return new ApiError(response.status, body)
})

/** Awaits an SDK call made with `throwOnError: true` and returns its body. */
export async function unwrap<T>(call: Promise<{ data: T }>): Promise<T> {
  return (await call).data
}

export { client }
