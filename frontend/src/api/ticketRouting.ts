import {
  ticketsCreateTeam,
  ticketsDeleteTeam,
  ticketsListAgents,
  ticketsListTeams,
  ticketsReplaceTeam,
  ticketsSaveAgent,
  ticketsSetPresence,
} from '../client'
import type { AgentIn, AgentStatus, TeamIn } from '../client'
import { unwrap } from './client'

// Routing's settings: teams (团队) with their members and queues, agents (客服) with presence, capacity,
// skills and regions, and the signed-in agent's own presence.
export type {
  AgentIn,
  AgentOut as Agent,
  AgentStatus,
  EscalationLevel,
  EscalationRole,
  ScrmTicketsRoutingAssignmentStrategy as RoutingStrategy,
  TeamIn,
  TeamOut as Team,
} from '../client'

const t = { throwOnError: true } as const

export const listTeams = () => unwrap(ticketsListTeams(t))
export const createTeam = (body: TeamIn) => unwrap(ticketsCreateTeam({ body, ...t }))
export const replaceTeam = (id: number, body: TeamIn) => unwrap(ticketsReplaceTeam({ path: { team_id: id }, body, ...t }))
/** 409 while the team has open tickets or another team overflows into it (the reason in `detail`). */
export const deleteTeam = async (id: number): Promise<void> => {
  await ticketsDeleteTeam({ path: { team_id: id }, ...t })
}

export const listAgents = () => unwrap(ticketsListAgents(t))
/** An agent's settings (a user of the tenant becomes an agent the first time). */
export const saveAgent = (userId: number, body: AgentIn) => unwrap(ticketsSaveAgent({ path: { user_id: userId }, body, ...t }))
/** The signed-in agent goes online, away or offline (online fills their teams' queues at once). */
export const setPresence = (status: AgentStatus) => unwrap(ticketsSetPresence({ body: { status }, ...t }))
