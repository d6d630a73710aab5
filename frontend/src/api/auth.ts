import { request } from './transport'
import type { Me, TokenResponse } from './types'

export const login = (body: { email: string; password: string }) =>
  request<TokenResponse>('POST', '/api/v1/auth/login', { body, auth: false })

export const switchTenant = (tenant_id: number) =>
  request<TokenResponse>('POST', '/api/v1/auth/switch-tenant', { body: { tenant_id } })

export const getMe = () => request<Me>('GET', '/api/v1/me')
