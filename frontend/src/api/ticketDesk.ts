import {
  ticketsAddComment,
  ticketsCloseTicket,
  ticketsCreateTicket,
  ticketsGetTicket,
  ticketsListTickets,
  ticketsOpenTicket,
  ticketsReopenTicket,
  ticketsResolveTicket,
  ticketsResumeTicket,
  ticketsTicketStats,
  ticketsWaitCustomerTicket,
  ticketsWaitThirdPartyTicket,
} from '../client'
import type { CommentIn, Priority, TicketIn, TicketStatus, TransitionIn } from '../client'
import { unwrap } from './client'

// The service desk's tickets (工单): the queue, a ticket's detail, comments, transitions, and the SLA
// dashboard's figures.
export type {
  CommentOut as TicketComment,
  Outcome as TicketOutcome,
  TicketDetailOut as TicketDetail,
  TicketIn as TicketCreate,
  TicketOut as Ticket,
  TicketStatsOut as TicketStats,
  TicketStatus,
  TimelineEntryOut as TicketTimelineEntry,
} from '../client'

const t = { throwOnError: true } as const

/** The queue views the API takes (`team` only once routing's API accepts it). */
export type TicketView = 'mine' | 'team' | 'unassigned' | 'breaching'

export interface TicketQuery {
  view?: TicketView
  status?: TicketStatus
  priority?: Priority
  cursor?: string | null
  limit?: number
}

export const listTickets = (query: TicketQuery = {}) => unwrap(ticketsListTickets({ query, ...t }))
export const createTicket = (body: TicketIn) => unwrap(ticketsCreateTicket({ body, ...t }))
export const getTicket = (id: number) => unwrap(ticketsGetTicket({ path: { ticket_id: id }, ...t }))
/** A reply to the customer (stops the first-response clock) or, with `internal`, a note for staff. */
export const addTicketComment = (id: number, body: CommentIn) =>
  unwrap(ticketsAddComment({ path: { ticket_id: id }, body, ...t }))

export const TICKET_ACTIONS = ['open', 'wait_customer', 'wait_third_party', 'resume', 'resolve', 'close', 'reopen'] as const
export type TicketAction = (typeof TICKET_ACTIONS)[number]

const TRANSITIONS = {
  open: ticketsOpenTicket,
  wait_customer: ticketsWaitCustomerTicket,
  wait_third_party: ticketsWaitThirdPartyTicket,
  resume: ticketsResumeTicket,
  resolve: ticketsResolveTicket,
  close: ticketsCloseTicket,
  reopen: ticketsReopenTicket,
} as const

/** Moves the ticket; a 409 (ApiError) names the allowed actions in `body.errors[0].allowed`. */
export const transitionTicket = (id: number, action: TicketAction, body: TransitionIn = {}) =>
  unwrap(TRANSITIONS[action]({ path: { ticket_id: id }, body, ...t }))

export interface TicketStatsQuery {
  days?: number
  tz?: string
  ticket_type?: string
  category?: string
}

export const ticketStats = (query: TicketStatsQuery = {}) => unwrap(ticketsTicketStats({ query, ...t }))
