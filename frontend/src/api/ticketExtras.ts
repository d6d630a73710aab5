import {
  publicGetPublicRating,
  publicSubmitPublicRating,
  ticketsAssign,
  ticketsCreateRatingLink,
  ticketsDownloadAttachment,
  ticketsListDuplicates,
  ticketsMergeTicket,
  ticketsRateTicket,
  ticketsRoutingDecisions,
  ticketsUploadAttachment,
} from '../client'
import type { AssignIn, RatingIn, TicketMergeIn } from '../client'
import { unwrap } from './client'

// What 工单详情 does beyond the ticket itself: routing by hand and its record, duplicates and merging,
// attachments, satisfaction ratings, and the customer's public rating page (no login).
export type {
  AgentOut as DeskAgent,
  AttachmentOut as TicketAttachment,
  DuplicateOut as TicketDuplicate,
  PublicRatingOut as PublicRating,
  RatingLinkOut as RatingLink,
  RoutingDecisionOut as RoutingDecision,
  TeamOut as DeskTeam,
} from '../client'

const t = { throwOnError: true } as const

/** The tenant's teams and agents (names, members, presence and load), for the 分配 dialog. */

/**
 * Assignment by hand. 409 when the agent is at capacity (send again with `force`) or the ticket is
 * resolved or closed; 422 with `assignee_id` (not a member of the team) or `team_id` (no such team).
 */
export const assignTicket = (id: number, body: AssignIn) => unwrap(ticketsAssign({ path: { ticket_id: id }, body, ...t }))
/** Every routing decision on the ticket, oldest first. */
export const routingDecisions = (id: number) => unwrap(ticketsRoutingDecisions({ path: { ticket_id: id }, ...t }))

/** Open tickets of the same customer or order within 14 days, most likely first, each with its reasons. */
export const listDuplicates = (id: number) => unwrap(ticketsListDuplicates({ path: { ticket_id: id }, ...t }))
/** Closes ticket `id` as a duplicate of `into_ticket_id`; 409 with the reason when not allowed. */
export const mergeTicket = (id: number, body: TicketMergeIn) => unwrap(ticketsMergeTicket({ path: { ticket_id: id }, body, ...t }))

/** Uploads one file; 413 past the size limit, 415 for a type not allowed, 422 when the declared type disagrees. */
export const uploadAttachment = (id: number, file: File) =>
  unwrap(ticketsUploadAttachment({ path: { ticket_id: id }, body: { file }, ...t }))

/** The attachment's bytes (the download needs the bearer token, so it is fetched rather than linked). */
export const downloadAttachment = async (ticketId: number, attachmentId: number): Promise<Blob> => {
  const answer = await ticketsDownloadAttachment({
    path: { ticket_id: ticketId, attachment_id: attachmentId },
    parseAs: 'blob',
    headers: { Accept: '*/*' },
    ...t,
  })
  return answer.data as unknown as Blob
}

/** Staff record the customer's rating (once, for a resolved or closed ticket; 409 otherwise). */
export const rateTicket = (id: number, body: RatingIn) => unwrap(ticketsRateTicket({ path: { ticket_id: id }, body, ...t }))
/** A signed link (14 days) for the customer to rate the ticket without logging in. */
export const createRatingLink = (id: number) => unwrap(ticketsCreateRatingLink({ path: { ticket_id: id }, ...t }))

/** What a rating link shows: 404 for an invalid link, 410 when expired. */
export const getPublicRating = (token: string) => unwrap(publicGetPublicRating({ path: { token }, ...t }))
/** The customer's rating through the link: 409 once rated, 404 invalid, 410 expired. */
export const submitPublicRating = (token: string, body: RatingIn) =>
  unwrap(publicSubmitPublicRating({ path: { token }, body, ...t }))
