import { request } from './transport'
import type {
  ApiKey,
  ApiKeyCreate,
  ApiKeyCreated,
  AuditEntry,
  AuditQuery,
  Department,
  DepartmentCreate,
  Page,
  PageParams,
  PermissionInfo,
  Role,
  RoleCreate,
  RoleUpdate,
  User,
  UserCreate,
  UserUpdate,
} from './types'

const V1 = '/api/v1'

export const listUsers = (q: PageParams = {}) => request<Page<User>>('GET', `${V1}/users`, { query: { ...q } })
export const createUser = (body: UserCreate) => request<User>('POST', `${V1}/users`, { body })
export const updateUser = (id: number, body: UserUpdate) => request<User>('PATCH', `${V1}/users/${id}`, { body })

export const listDepartments = () => request<Department[]>('GET', `${V1}/departments`)
export const createDepartment = (body: DepartmentCreate) =>
  request<Department>('POST', `${V1}/departments`, { body })

export const listRoles = () => request<Role[]>('GET', `${V1}/roles`)
export const createRole = (body: RoleCreate) => request<Role>('POST', `${V1}/roles`, { body })
export const updateRole = (id: number, body: RoleUpdate) => request<Role>('PATCH', `${V1}/roles/${id}`, { body })
export const deleteRole = (id: number) => request<void>('DELETE', `${V1}/roles/${id}`)
export const listPermissions = () => request<PermissionInfo[]>('GET', `${V1}/permissions`)

export const listApiKeys = (q: PageParams = {}) => request<Page<ApiKey>>('GET', `${V1}/api-keys`, { query: { ...q } })
export const createApiKey = (body: ApiKeyCreate) => request<ApiKeyCreated>('POST', `${V1}/api-keys`, { body })
export const revokeApiKey = (id: number) => request<void>('DELETE', `${V1}/api-keys/${id}`)

export const listAuditLog = (q: AuditQuery = {}) =>
  request<Page<AuditEntry>>('GET', `${V1}/audit-log`, { query: { ...q } })
