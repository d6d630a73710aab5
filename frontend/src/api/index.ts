import './client'

export * from './types'
export { ApiError, getToken, setToken, onUnauthorized } from './http'
export type { FieldError } from './http'
export * from './auth'
export * from './identity'
export * from './system'
