import {
  channelsAnalyticsLive,
  channelsAnalyticsSeries,
  channelsAnalyticsStaff,
  channelsAnalyticsSummary,
  channelsCreateCode,
  channelsCreateGroup,
  channelsDeleteCode,
  channelsDeleteGroup,
  channelsGetCode,
  channelsListAdds,
  channelsListCodes,
  channelsListDecisions,
  channelsListGroups,
  channelsListPresence,
  channelsListProblems,
  channelsListWelcomes,
  channelsQrPng,
  channelsQrSvg,
  channelsRecreateWay,
  channelsRefreshCode,
  channelsSetPresence,
  channelsUnknownStates,
  channelsUpdateCode,
  channelsUpdateGroup,
} from '../client'
import { unwrap } from './client'
import type { AnalyticsQuery, ChannelCreate, ChannelQuery, ChannelUpdate, GroupCreate, GroupUpdate, PageParams } from './types'

const t = { throwOnError: true } as const

export const listChannels = (query: ChannelQuery = {}) => unwrap(channelsListCodes({ query, ...t }))
export const getChannel = (id: number) => unwrap(channelsGetCode({ path: { channel_id: id }, ...t }))
export const createChannel = (body: ChannelCreate) => unwrap(channelsCreateCode({ body, ...t }))
export const updateChannel = (id: number, body: ChannelUpdate) =>
  unwrap(channelsUpdateCode({ path: { channel_id: id }, body, ...t }))
export const deleteChannel = async (id: number): Promise<void> => {
  await channelsDeleteCode({ path: { channel_id: id }, ...t })
}
export const refreshChannel = (id: number) => unwrap(channelsRefreshCode({ path: { channel_id: id }, ...t }))
/** A new contact way with the same state (the old one was deleted in WeCom): a new QR code. */
export const recreateChannelWay = (id: number) => unwrap(channelsRecreateWay({ path: { channel_id: id }, ...t }))

export const listChannelProblems = (id: number, query: PageParams = {}) =>
  unwrap(channelsListProblems({ path: { channel_id: id }, query, ...t }))
export const listChannelDecisions = (id: number, query: PageParams = {}) =>
  unwrap(channelsListDecisions({ path: { channel_id: id }, query, ...t }))
export const listChannelAdds = (id: number, query: PageParams = {}) =>
  unwrap(channelsListAdds({ path: { channel_id: id }, query, ...t }))
export const listChannelWelcomes = (id: number, query: PageParams = {}) =>
  unwrap(channelsListWelcomes({ path: { channel_id: id }, query, ...t }))

export interface QrOptions {
  color?: string
  /** SVG only: a coloured band under the code with this text. */
  label?: string
  scale?: number
}

/** The code's QR image (PNG or SVG) as a Blob, fetched with the session's token. */
export async function fetchChannelQr(id: number, format: 'png' | 'svg', opts: QrOptions = {}): Promise<Blob> {
  const query = { color: opts.color || undefined, scale: opts.scale }
  if (format === 'png') {
    return (await channelsQrPng({ path: { channel_id: id }, query, parseAs: 'blob', ...t })).data as unknown as Blob
  }
  return (await channelsQrSvg({ path: { channel_id: id }, query: { ...query, label: opts.label || undefined }, parseAs: 'blob', ...t }))
    .data as unknown as Blob
}

export const listChannelGroups = () => unwrap(channelsListGroups(t))
export const createChannelGroup = (body: GroupCreate) => unwrap(channelsCreateGroup({ body, ...t }))
export const updateChannelGroup = (id: number, body: GroupUpdate) =>
  unwrap(channelsUpdateGroup({ path: { group_id: id }, body, ...t }))
export const deleteChannelGroup = async (id: number): Promise<void> => {
  await channelsDeleteGroup({ path: { group_id: id }, ...t })
}

export const listChannelPresence = (connection_id?: number) =>
  unwrap(channelsListPresence({ query: connection_id ? { connection_id } : {}, ...t }))
export const setChannelPresence = (connectionId: number, userid: string, is_online: boolean) =>
  unwrap(channelsSetPresence({ path: { connection_id: connectionId, userid }, body: { is_online }, ...t }))
export const listUnknownStates = (connection_id?: number) =>
  unwrap(channelsUnknownStates({ query: connection_id ? { connection_id } : {}, ...t }))

export const channelSummary = (query: AnalyticsQuery = {}) => unwrap(channelsAnalyticsSummary({ query, ...t }))
export const channelSeries = (bucket: 'day' | 'hour', query: AnalyticsQuery = {}) =>
  unwrap(channelsAnalyticsSeries({ query: { ...query, bucket }, ...t }))
export const channelStaffStats = (query: AnalyticsQuery = {}) => unwrap(channelsAnalyticsStaff({ query, ...t }))
export const channelLive = (since?: number | null, tz?: string) =>
  unwrap(channelsAnalyticsLive({ query: { since: since ?? undefined, tz }, ...t }))
