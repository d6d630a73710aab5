import {
  identityCreateApiKey,
  identityCreateDepartment,
  identityCreateRole,
  identityCreateUser,
  identityDeleteRole,
  identityGetUser,
  identityListApiKeys,
  identityListAuditLog,
  identityListDepartments,
  identityListPermissions,
  identityListRoles,
  identityListUsers,
  identityRevokeApiKey,
  identityUpdateRole,
  identityUpdateUser,
} from '../client'
import { unwrap } from './client'
import type { ApiKeyCreate, AuditQuery, DepartmentCreate, PageParams, RoleCreate, RoleUpdate, UserCreate, UserQuery, UserUpdate } from './types'

const t = { throwOnError: true } as const

export const listUsers = (query: UserQuery = {}) => unwrap(identityListUsers({ query, ...t }))
export const getUser = (id: number) => unwrap(identityGetUser({ path: { user_id: id }, ...t }))
export const createUser = (body: UserCreate) => unwrap(identityCreateUser({ body, ...t }))
export const updateUser = (id: number, body: UserUpdate) => unwrap(identityUpdateUser({ path: { user_id: id }, body, ...t }))

export const listDepartments = () => unwrap(identityListDepartments(t))
export const createDepartment = (body: DepartmentCreate) => unwrap(identityCreateDepartment({ body, ...t }))

export const listRoles = () => unwrap(identityListRoles(t))
export const createRole = (body: RoleCreate) => unwrap(identityCreateRole({ body, ...t }))
export const updateRole = (id: number, body: RoleUpdate) => unwrap(identityUpdateRole({ path: { role_id: id }, body, ...t }))
export const deleteRole = async (id: number): Promise<void> => {
  await identityDeleteRole({ path: { role_id: id }, ...t })
}
export const listPermissions = () => unwrap(identityListPermissions(t))

export const listApiKeys = (query: PageParams = {}) => unwrap(identityListApiKeys({ query, ...t }))
export const createApiKey = (body: ApiKeyCreate) => unwrap(identityCreateApiKey({ body, ...t }))
export const revokeApiKey = (id: number) => unwrap(identityRevokeApiKey({ path: { api_key_id: id }, ...t }))

export const listAuditLog = (query: AuditQuery = {}) => unwrap(identityListAuditLog({ query, ...t }))
