// Names the pages use for the API's shapes. All come from the generated client (src/client/types.gen.ts).
import type {
  IdentityListAuditLogData,
  IdentityListUsersData,
  TimerOut,
} from '../client'

export type {
  ApiKeyCreate,
  ApiKeyCreated,
  ApiKeyOut as ApiKey,
  AuditEntryOut as AuditEntry,
  DataScope,
  DeadLetterKind,
  DeadLetterOut as DeadLetter,
  DepartmentCreate,
  DepartmentOut as Department,
  MeOut as Me,
  OverviewOut as SystemOverview,
  PermissionOut as PermissionInfo,
  RoleCreate,
  RoleOut as Role,
  RoleUpdate,
  TokenOut as TokenResponse,
  UserCreate,
  UserOut as User,
  UserUpdate,
  WorkerOut as WorkerInfo,
} from '../client'

export type TimerInfo = TimerOut

export interface Page<T> {
  items: T[]
  next_cursor?: string | null
}

export interface PageParams {
  limit?: number
  cursor?: string | null
}

export type UserQuery = NonNullable<IdentityListUsersData['query']>
export type AuditQuery = NonNullable<IdentityListAuditLogData['query']>
