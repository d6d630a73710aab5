// Names the pages use for the API's shapes. All come from the generated client (src/client/types.gen.ts).
import type {
  CustomersListCustomersData,
  IdentityListAuditLogData,
  IdentityListUsersData,
  JobsListJobsData,
  PlatformsListConnectionsData,
  StaffListStaffData,
  SyncRequest,
  TimerOut,
} from '../client'

export type {
  ApiKeyCreate,
  ApiKeyCreated,
  ApiKeyOut as ApiKey,
  AuditEntryOut as AuditEntry,
  ConnectionCreate,
  ConnectionOut as Connection,
  ConnectionStatus,
  ConnectionTestOut as ConnectionTestResult,
  ConnectionUpdate,
  CustomerDetailOut as CustomerDetail,
  CustomerOut as Customer,
  FollowOut as Follow,
  IdentityOut as CustomerIdentity,
  JobOut as Job,
  LoginProvider,
  PlatformKind,
  PlatformTypeOut as PlatformType,
  StaffDepartmentOut as WecomDepartment,
  StaffOut as WecomStaff,
  TagBrief,
  TagGroupCreate,
  TagGroupOut as TagGroup,
  TagOut as CorpTag,
  TimelineOut as TimelineEntry,
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

export type ConnectionQuery = NonNullable<PlatformsListConnectionsData['query']>
export type JobQuery = NonNullable<JobsListJobsData['query']>
export type CustomerQuery = NonNullable<CustomersListCustomersData['query']>
export type WecomStaffQuery = NonNullable<StaffListStaffData['query']>
export type SyncMode = NonNullable<SyncRequest['mode']>

/** `JobOut.status` as the API documents it. */
export type JobStatus = 'queued' | 'running' | 'succeeded' | 'failed' | 'cancelled'
export const JOB_ACTIVE: readonly string[] = ['queued', 'running']

/** `FollowOut.status`. */
export type FollowStatus = 'active' | 'deleted_by_staff' | 'deleted_by_customer' | 'gone'
