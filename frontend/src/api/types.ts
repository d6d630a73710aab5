// Shapes of the SCRM API (see the back end's OpenAPI spec). Pages import these names only.

export type DataScope = 'all' | 'department' | 'own'

export interface Page<T> {
  items: T[]
  next_cursor?: string | null
}

export interface PageParams {
  limit?: number
  cursor?: string | null
}

export interface TokenResponse {
  access_token: string
  token_type: string
}

export interface Me {
  /** null when the caller is an API key */
  user: { id: number; email: string; display_name: string } | null
  tenant: { id: number; name: string }
  tenants: { id: number; name: string; role_name: string }[]
  role: { id: number; key: string; name: string } | null
  permissions: string[]
  data_scope: DataScope
}

export interface User {
  id: number
  email: string
  display_name: string
  role_id: number
  role_name: string
  department_id?: number | null
  department_name?: string | null
  is_active: boolean
  last_login_at?: string | null
  created_at: string
}

export interface UserCreate {
  email: string
  display_name: string
  password: string
  role_id: number
  department_id?: number | null
}

export interface UserUpdate {
  display_name?: string
  role_id?: number
  department_id?: number | null
  is_active?: boolean
}

export interface Department {
  id: number
  name: string
  parent_id?: number | null
}

export interface DepartmentCreate {
  name: string
  parent_id?: number | null
}

export interface Role {
  id: number
  key: string
  name: string
  permissions: string[]
  data_scope: DataScope
  is_builtin: boolean
}

export interface RoleCreate {
  name: string
  permissions: string[]
  data_scope: DataScope
}

export type RoleUpdate = Partial<RoleCreate>

export interface PermissionInfo {
  code: string
  label_zh: string
  label_en: string
}

export interface ApiKey {
  id: number
  name: string
  prefix: string
  role_id: number
  role_name: string
  created_at: string
  last_used_at?: string | null
  revoked_at?: string | null
}

export interface ApiKeyCreated extends ApiKey {
  secret: string
}

export interface ApiKeyCreate {
  name: string
  role_id: number
}

export interface AuditEntry {
  id: number
  created_at: string
  actor: string
  actor_name?: string | null
  action: string
  target_type?: string | null
  target_id?: string | null
  ip?: string | null
  user_agent?: string | null
  detail: Record<string, unknown>
}

export interface AuditQuery extends PageParams {
  action?: string
  actor?: string
}

export interface WorkerInfo {
  worker_id: string
  hostname: string
  pid: number
  mode: string
  started_at: string
  last_beat_at: string
  alive: boolean
  processed_total: number
}

export interface SystemOverview {
  outbox: { pending: number; processing: number; dead: number; done_last_hour: number }
  timers: { scheduled: number; overdue: number; next_due_at?: string | null }
  inbox: { received: number; failed: number }
  workers: WorkerInfo[]
}

export type DeadLetterKind = 'event' | 'timer'

export interface DeadLetter {
  id: number
  kind: DeadLetterKind
  name: string
  handler?: string | null
  attempts: number
  last_error?: string | null
  created_at: string
  failed_at?: string | null
  payload: unknown
}

export interface TimerInfo {
  id: number
  kind: string
  key: string
  due_at: string
  status: string
  attempts: number
}
