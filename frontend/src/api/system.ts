import { request } from './transport'
import type { DeadLetter, DeadLetterKind, Page, PageParams, SystemOverview, TimerInfo } from './types'

const V1 = '/api/v1'

export const getSystemOverview = () => request<SystemOverview>('GET', `${V1}/system/overview`)
export const listDeadLetters = (kind: DeadLetterKind, q: PageParams = {}) =>
  request<Page<DeadLetter>>('GET', `${V1}/system/dead-letters`, { query: { kind, ...q } })
export const replayDeadLetter = (kind: DeadLetterKind, id: number) =>
  request<unknown>('POST', `${V1}/system/dead-letters/${kind}/${id}/replay`)
export const listTimers = (q: PageParams = {}) =>
  request<Page<TimerInfo>>('GET', `${V1}/system/timers`, { query: { ...q } })

/** Liveness / readiness probes: true when the endpoint answers 2xx. */
export async function probe(path: '/healthz' | '/readyz'): Promise<boolean> {
  try {
    const res = await fetch(path, { headers: { Accept: 'application/json' } })
    return res.ok
  } catch {
    return false
  }
}
