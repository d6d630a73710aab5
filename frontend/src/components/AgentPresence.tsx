// 我的状态: the signed-in agent's presence (在线 / 离开 / 离线), for page headers of the service desk.
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query'
import { App, Badge, Flex, Segmented, Tooltip, Typography } from 'antd'
import { useTranslation } from 'react-i18next'
import { listAgents, setPresence, type AgentStatus } from '../api'
import { useAuth } from '../auth/AuthContext'
import { PERM } from '../auth/permissions'
import { AGENTS_KEY, PRESENCE_BADGE, PRESENCES, TEAMS_KEY } from './ticketRouting'
import { useApiError } from './useApiError'

/**
 * A switch of the signed-in user's presence; nothing for users who cannot handle tickets. Someone not
 * yet an agent shows as offline, and becomes one on switching. Going online may take waiting tickets
 * at once, so the agents, teams and ticket lists are refreshed after a switch.
 */
export function AgentPresence() {
  const { t } = useTranslation()
  const { can, me } = useAuth()
  const { message } = App.useApp()
  const showError = useApiError()
  const queryClient = useQueryClient()
  const allowed = can(PERM.ticketsEdit) && me?.user != null
  const agents = useQuery({ queryKey: AGENTS_KEY, queryFn: listAgents, enabled: allowed })
  const mine = agents.data?.find((a) => a.user_id === me?.user?.id)
  const current: AgentStatus = mine?.status ?? 'offline'

  const change = useMutation({
    mutationFn: setPresence,
    onSuccess: (agent) => {
      void message.success(t('ticketRouting.myPresenceChanged', { status: t(`ticketRouting.presence.${agent.status}`) }))
      void queryClient.invalidateQueries({ queryKey: AGENTS_KEY })
      void queryClient.invalidateQueries({ queryKey: TEAMS_KEY })
      void queryClient.invalidateQueries({ queryKey: ['tickets'] })
    },
    onError: (e) => showError(e),
  })

  if (!allowed) return null
  return (
    <Flex align="center" gap={8} data-testid="my-presence" data-value={current} data-load={mine ? `${mine.load}/${mine.capacity}` : ''}>
      <Tooltip title={t('ticketRouting.myPresenceHelp')}>
        <Typography.Text type="secondary">{t('ticketRouting.myPresence')}</Typography.Text>
      </Tooltip>
      <Segmented<AgentStatus>
        value={current}
        disabled={agents.isLoading || change.isPending}
        onChange={(status) => change.mutate(status)}
        options={PRESENCES.map((status) => ({
          value: status,
          label: (
            <span data-testid={`my-presence-${status}`}>
              <Badge status={PRESENCE_BADGE[status]} /> {t(`ticketRouting.presence.${status}`)}
            </span>
          ),
        }))}
      />
    </Flex>
  )
}
