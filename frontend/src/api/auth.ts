import { identityLogin, identityMe, identitySwitchTenant } from '../client'
import { unwrap } from './client'

export const login = (body: { email: string; password: string }) => unwrap(identityLogin({ body, throwOnError: true }))

export const switchTenant = (tenant_id: number) => unwrap(identitySwitchTenant({ body: { tenant_id }, throwOnError: true }))

export const getMe = () => unwrap(identityMe({ throwOnError: true }))
