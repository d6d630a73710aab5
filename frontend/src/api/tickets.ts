import {
  ticketsCreateCalendar,
  ticketsCreatePolicy,
  ticketsDeleteCalendar,
  ticketsListCalendars,
  ticketsListPolicies,
  ticketsPreviewDeadline,
  ticketsReplaceCalendar,
  ticketsReplacePolicy,
} from '../client'
import type { CalendarIn, SlaPolicyIn } from '../client'
import { unwrap } from './client'

// The service desk's settings: business calendars (工作日历) and SLA policies, with the deadline preview.
export type {
  CalendarIn as TicketCalendarIn,
  CalendarOut as TicketCalendar,
  DeadlinePreviewOut as DeadlinePreview,
  Priority as TicketPriority,
  SlaPolicyIn,
  SlaPolicyOut as SlaPolicy,
  Targets as SlaTargets,
} from '../client'

const t = { throwOnError: true } as const

export const listCalendars = () => unwrap(ticketsListCalendars(t))
export const createCalendar = (body: CalendarIn) => unwrap(ticketsCreateCalendar({ body, ...t }))
export const replaceCalendar = (id: number, body: CalendarIn) =>
  unwrap(ticketsReplaceCalendar({ path: { calendar_id: id }, body, ...t }))
/** 409 with the policies' names in `detail` while a policy uses the calendar. */
export const deleteCalendar = async (id: number): Promise<void> => {
  await ticketsDeleteCalendar({ path: { calendar_id: id }, ...t })
}

export const listSlaPolicies = () => unwrap(ticketsListPolicies(t))
export const createSlaPolicy = (body: SlaPolicyIn) => unwrap(ticketsCreatePolicy({ body, ...t }))
export const replaceSlaPolicy = (id: number, body: SlaPolicyIn) =>
  unwrap(ticketsReplacePolicy({ path: { policy_id: id }, body, ...t }))
/** When `minutes` business minutes from `start` (ISO with offset) fall due on the policy's calendar. */
export const previewDeadline = (policyId: number, start: string, minutes: number) =>
  unwrap(ticketsPreviewDeadline({ path: { policy_id: policyId }, body: { start, minutes }, ...t }))
