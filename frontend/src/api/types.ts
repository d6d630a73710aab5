// Names the pages use for the API's shapes. All come from the generated client (src/client/types.gen.ts).
import type {
  ChannelsAnalyticsSummaryData,
  CommerceListAlertsData,
  CommerceListOrdersData,
  ChannelsListCodesData,
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
  AlertOut as OrderAlert,
  CommerceSettingsIn,
  CommerceSettingsOut as CommerceSettings,
  CrossPlatformCustomerOut,
  CrossPlatformReportOut as CrossPlatformReport,
  GiftRule,
  OrderDetailOut as OrderDetail,
  OrderLineOut as OrderLine,
  OrderOut as Order,
  OrderStatsOut as OrderStats,
  OrderTimelineOut as OrderTimelineEntry,
  PlatformComboOut,
  ProductAlertRule,
  RefundOut as OrderRefund,
  ShopHealthOut as ShopHealth,
  ShopOrderStatsOut as ShopOrderStats,
  AddOut as ChannelAdd,
  BulkTagRequest,
  ChannelCreate,
  ChannelOut as Channel,
  ChannelUpdate,
  CodeStats as ChannelCodeStats,
  ConnectionName,
  CustomerFilter,
  DecisionOut as ChannelDecision,
  FieldOut as CustomerField,
  GroupCreate,
  GroupOut as ChannelGroup,
  GroupUpdate,
  LiveOut as ChannelLive,
  LiveScan,
  LiveStore,
  MergeOut as CustomerMerge,
  MergeRequest,
  MergeSuggestionOut as MergeSuggestion,
  PresenceOut as ChannelPresence,
  PreviewOut as SegmentPreview,
  ProblemOut as ChannelProblem,
  RangeIn as TimeRange,
  RoutingIn as Routing,
  SegmentCountOut as SegmentCount,
  SegmentIn as SegmentCreate,
  SegmentOut as Segment,
  SegmentPatch,
  SeriesOut as ChannelSeries,
  SeriesPoint,
  SpecialDateIn as SpecialDate,
  StaffEntryIn as ChannelStaffEntry,
  StaffEntryOut as ChannelStaff,
  StaffStats as ChannelStaffStats,
  StoreStats as ChannelStoreStats,
  SummaryOut as ChannelSummary,
  TagChangeOut,
  TagRef,
  UnknownStateOut as UnknownState,
  UnmergeRequest,
  VariantIn as WelcomeVariant,
  WelcomeIn as Welcome,
  WelcomeResultOut as ChannelWelcomeResult,
  WindowIn as WeeklyWindow,
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
export type ChannelQuery = NonNullable<ChannelsListCodesData['query']>
export type AnalyticsQuery = Omit<NonNullable<ChannelsAnalyticsSummaryData['query']>, never>
export type OrderQuery = NonNullable<CommerceListOrdersData['query']>
export type AlertQuery = NonNullable<CommerceListAlertsData['query']>
export type SyncMode = NonNullable<SyncRequest['mode']>

/** `JobOut.status` as the API documents it. */
export type JobStatus = 'queued' | 'running' | 'succeeded' | 'failed' | 'cancelled'
export const JOB_ACTIVE: readonly string[] = ['queued', 'running']

/** `FollowOut.status`. */
export type FollowStatus = 'active' | 'deleted_by_staff' | 'deleted_by_customer' | 'gone'

/** `ChannelOut.status`. */
export type ChannelStatus = 'active' | 'disabled' | 'deleted'

/** The condition language's JSON (segments, bulk actions): nested all / any / not groups of clauses. */
export type Condition =
  | { all: Condition[] }
  | { any: Condition[] }
  | { not: Condition }
  | { field: string; op: string; value?: unknown }
