import { authProviders, identityLogin, identityMe, identitySwitchTenant } from '../client'
import { unwrap } from './client'

export const login = (body: { email: string; password: string }) => unwrap(identityLogin({ body, throwOnError: true }))

export const switchTenant = (tenant_id: number) => unwrap(identitySwitchTenant({ body: { tenant_id }, throwOnError: true }))

export const getMe = () => unwrap(identityMe({ throwOnError: true }))

/** WeCom corps whose members can log in with WeCom (public). */
export const listWecomLoginProviders = () => unwrap(authProviders({ throwOnError: true }))

/** Where the browser goes (a full page load) to log in with WeCom: the QR page, or OAuth inside the WeCom client. */
export function wecomAuthorizeUrl(connectionId: number, mode: 'qr' | 'oauth' = 'qr'): string {
  const base = `/api/v1/auth/wecom/${connectionId}/authorize`
  return mode === 'oauth' ? `${base}?mode=oauth` : base
}

/** True inside the WeCom desktop or mobile client, where OAuth replaces the QR code. */
export function inWecomClient(): boolean {
  return /wxwork/i.test(navigator.userAgent)
}
