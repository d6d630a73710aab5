import {
  segmentsCountSegment,
  segmentsCreateSegment,
  segmentsDeleteSegment,
  segmentsExportSegment,
  segmentsGetSegment,
  segmentsListSegments,
  segmentsPreviewSegment,
  segmentsSegmentMembers,
  segmentsUpdateSegment,
} from '../client'
import { unwrap } from './client'
import type { Condition, PageParams, SegmentCreate, SegmentPatch } from './types'

const t = { throwOnError: true } as const

export const listSegments = (query: PageParams = {}) => unwrap(segmentsListSegments({ query, ...t }))
export const getSegment = (id: number) => unwrap(segmentsGetSegment({ path: { segment_id: id }, ...t }))
export const createSegment = (body: SegmentCreate) => unwrap(segmentsCreateSegment({ body, ...t }))
export const updateSegment = (id: number, body: SegmentPatch) =>
  unwrap(segmentsUpdateSegment({ path: { segment_id: id }, body, ...t }))
export const deleteSegment = async (id: number): Promise<void> => {
  await segmentsDeleteSegment({ path: { segment_id: id }, ...t })
}
export const countSegment = (id: number) => unwrap(segmentsCountSegment({ path: { segment_id: id }, ...t }))
export const segmentMembers = (id: number, query: PageParams = {}) =>
  unwrap(segmentsSegmentMembers({ path: { segment_id: id }, query, ...t }))
/** The builder's live count: count and first page of an unsaved condition. */
export const previewSegment = (condition: Condition, limit = 20, signal?: AbortSignal) =>
  unwrap(segmentsPreviewSegment({ body: { condition: condition as Record<string, unknown>, limit }, signal, ...t }))

/** The members as CSV or Excel, as a Blob (streamed by the server). */
export async function exportSegment(id: number, format: 'csv' | 'xlsx'): Promise<Blob> {
  return (await segmentsExportSegment({ path: { segment_id: id }, query: { format }, parseAs: 'blob', ...t })).data as unknown as Blob
}
