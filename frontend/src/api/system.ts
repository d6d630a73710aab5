import { systemGetOverview, systemListDeadLetters, systemListTimers, systemReplayDeadLetter } from '../client'
import { unwrap } from './client'
import type { DeadLetterKind, PageParams } from './types'

const t = { throwOnError: true } as const

export const getSystemOverview = () => unwrap(systemGetOverview(t))
export const listDeadLetters = (kind: DeadLetterKind, query: PageParams = {}) =>
  unwrap(systemListDeadLetters({ query: { kind, ...query }, ...t }))
export const replayDeadLetter = (kind: DeadLetterKind, id: number) =>
  unwrap(systemReplayDeadLetter({ path: { kind, item_id: id }, ...t }))
export const listTimers = (query: PageParams = {}) => unwrap(systemListTimers({ query, ...t }))

/** Liveness / readiness probes (not in the OpenAPI document): true when the endpoint answers 2xx. */
export async function probe(path: '/healthz' | '/readyz'): Promise<boolean> {
  try {
    const res = await fetch(path, { headers: { Accept: 'application/json' } })
    return res.ok
  } catch {
    return false
  }
}
