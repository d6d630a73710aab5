import {
  jobsCancel,
  jobsGetJob,
  jobsListJobs,
  platformsConnectionNames,
  platformsCreateConnection,
  platformsDisableConnection,
  platformsGetConnection,
  platformsListConnections,
  platformsListPlatformTypes,
  platformsStartConnectionSync,
  platformsTestConnection,
  platformsUpdateConnection,
} from '../client'
import { unwrap } from './client'
import type { ConnectionCreate, ConnectionQuery, ConnectionUpdate, JobQuery, SyncMode } from './types'

const t = { throwOnError: true } as const

/** Ids and names of the workspace's connections, for pickers (any member). */
export const listConnectionNames = () => unwrap(platformsConnectionNames(t))
export const listPlatformTypes = () => unwrap(platformsListPlatformTypes(t))
export const listConnections = (query: ConnectionQuery = {}) => unwrap(platformsListConnections({ query, ...t }))
export const getConnection = (id: number) => unwrap(platformsGetConnection({ path: { connection_id: id }, ...t }))
export const createConnection = (body: ConnectionCreate) => unwrap(platformsCreateConnection({ body, ...t }))
export const updateConnection = (id: number, body: ConnectionUpdate) =>
  unwrap(platformsUpdateConnection({ path: { connection_id: id }, body, ...t }))
export const disableConnection = (id: number) => unwrap(platformsDisableConnection({ path: { connection_id: id }, ...t }))
export const testConnection = (id: number) => unwrap(platformsTestConnection({ path: { connection_id: id }, ...t }))
export const startSync = (id: number, mode: SyncMode) =>
  unwrap(platformsStartConnectionSync({ path: { connection_id: id }, body: { mode }, ...t }))

export const listJobs = (query: JobQuery = {}) => unwrap(jobsListJobs({ query, ...t }))
export const getJob = (id: number) => unwrap(jobsGetJob({ path: { job_id: id }, ...t }))
export const cancelJob = (id: number) => unwrap(jobsCancel({ path: { job_id: id }, ...t }))
