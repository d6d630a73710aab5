// 工单详情 › 分配: the ticket's team and assignee, the 分配 dialog (assignment by hand; an agent at
// capacity is offered 强制分配 after a confirm; the server's field errors on their fields) and the
// 分配记录, every routing decision with its reason, strategy and who was left out and why.
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query'
import { App, Button, Descriptions, Empty, Flex, Form, Input, Modal, Select, Space, Tag, Timeline, Typography } from 'antd'
import { useState } from 'react'
import { useTranslation } from 'react-i18next'
import { ApiError } from '../api'
import type { DeskAgent, DeskTeam, RoutingDecision } from '../api/ticketExtras'
import { assignTicket, routingDecisions } from '../api/ticketExtras'
import { listAgents, listTeams } from '../api/ticketRouting'
import type { TicketDetail } from '../api'
import { formatDateTime } from '../utils/format'
import { tid } from '../utils/testid'
import { TICKETS_KEY, useUserNames } from './ticketParts'
import type { T } from './tickets'
import { errorText } from './useApiError'

const DONE = ['resolved', 'closed']
const TEAMS_KEY = [...TICKETS_KEY, 'routing-teams'] as const
const AGENTS_KEY = [...TICKETS_KEY, 'routing-agents'] as const

export function useDeskTeams() {
  return useQuery({ queryKey: TEAMS_KEY, queryFn: listTeams, staleTime: 30_000 })
}

/** A team's name from its id ("#7" until the teams are loaded or when it is gone). */
export function useTeamName() {
  const teams = useDeskTeams()
  const names = new Map((teams.data ?? []).map((team) => [team.id, team.name]))
  return (id: number | null | undefined) => (id == null ? null : (names.get(id) ?? `#${id}`))
}

/** Staff names: the agents' names first (any ticket viewer may list them), the users' otherwise. */
export function usePeople() {
  const agents = useQuery({ queryKey: AGENTS_KEY, queryFn: listAgents, staleTime: 15_000 })
  const nameOf = useUserNames()
  const byId = new Map((agents.data ?? []).map((a) => [a.user_id, a]))
  return {
    agents: byId,
    name: (id: number | null | undefined) => (id == null ? null : (byId.get(id)?.name ?? nameOf(id))),
  }
}

// ---------------------------------------------------------------------------------------------------
// The server's words
// ---------------------------------------------------------------------------------------------------

/** "strategy" · "reason" of a decision in the console's language (an unknown one as the server said it). */
export function reasonText(reason: string, t: T): string {
  const level = /^escalation_level_(\d+)$/.exec(reason)
  if (level) return t('ticketExtras.routing.reason.escalation', { level: level[1] })
  return t(`ticketExtras.routing.reason.${reason}`, { defaultValue: reason })
}

/** The `(load/capacity)` a capacity 409 names, or null when the 409 is about something else. */
export function capacityOf(err: unknown): { load: number; capacity: number } | null {
  if (!(err instanceof ApiError) || err.status !== 409) return null
  const found = /at capacity \((\d+)\/(\d+)\)/.exec(err.detail)
  return found ? { load: Number(found[1]), capacity: Number(found[2]) } : null
}

function assignErrorText(message: string, t: T): string {
  const known: Record<string, string> = {
    "not a member of the ticket's team": 'notMember',
    'no such team': 'noSuchTeam',
  }
  return known[message] ? t(`ticketExtras.assign.serverErrors.${known[message]}`) : message
}

function conflictText(err: ApiError, t: T): string {
  if (/resolved or closed ticket is not assigned/.test(err.detail)) return t('ticketExtras.assign.serverErrors.done')
  return errorText(err, t)
}

// ---------------------------------------------------------------------------------------------------
// The card
// ---------------------------------------------------------------------------------------------------

export function RoutingCard({ ticket, canEdit }: { ticket: TicketDetail; canEdit: boolean }) {
  const { t } = useTranslation()
  const teamName = useTeamName()
  const people = usePeople()
  const [open, setOpen] = useState(false)
  const decisions = useQuery({ queryKey: [...TICKETS_KEY, 'routing', ticket.id], queryFn: () => routingDecisions(ticket.id) })
  const assignee = ticket.assignee_id != null ? people.agents.get(ticket.assignee_id) : undefined
  const assignable = canEdit && !DONE.includes(ticket.status)
  return (
    <Flex vertical gap={12} data-testid="ticket-routing">
      <Descriptions
        size="small"
        column={1}
        items={[
          {
            key: 'team',
            label: t('ticketExtras.routing.team'),
            children: <span data-testid="routing-team">{teamName(ticket.team_id) ?? t('ticketExtras.routing.noTeam')}</span>,
          },
          {
            key: 'assignee',
            label: t('ticketExtras.routing.assignee'),
            children: (
              <Space size={6} wrap>
                <span data-testid="routing-assignee" data-assignee-id={ticket.assignee_id ?? ''}>
                  {people.name(ticket.assignee_id) ?? t('ticketExtras.routing.waiting')}
                </span>
                {assignee ? <AgentLoad agent={assignee} /> : null}
              </Space>
            ),
          },
        ]}
      />
      {assignable ? (
        <Button onClick={() => setOpen(true)} data-testid="assign-open">
          {t('ticketExtras.assign.open')}
        </Button>
      ) : null}
      <div>
        <Typography.Text strong>{t('ticketExtras.routing.history', { n: decisions.data?.length ?? 0 })}</Typography.Text>
        <DecisionList decisions={decisions.data ?? []} teamName={teamName} personName={people.name} loading={decisions.isLoading} />
      </div>
      {open ? <AssignDialog ticket={ticket} onClose={() => setOpen(false)} /> : null}
    </Flex>
  )
}

function AgentLoad({ agent }: { agent: DeskAgent }) {
  const { t } = useTranslation()
  const full = agent.load >= agent.capacity
  return (
    <Tag color={agent.status !== 'online' ? 'default' : full ? 'red' : 'green'} data-testid={`agent-load-${agent.user_id}`}>
      {t(`ticketExtras.agentStatus.${agent.status}`)} · {agent.load}/{agent.capacity}
    </Tag>
  )
}

function excludedTags(detail: Record<string, unknown>, t: T) {
  const known = ['not_online', 'at_capacity', 'missing_skills', 'other_region']
  return Object.entries(detail)
    .filter(([key, n]) => known.includes(key) && typeof n === 'number' && n > 0)
    .map(([key, n]) => (
      <Tag key={key} data-testid={`decision-excluded-${key}`}>
        {t(`ticketExtras.routing.excluded.${key}`)}: {String(n)}
      </Tag>
    ))
}

function DecisionList(props: {
  decisions: RoutingDecision[]
  teamName: (id: number | null | undefined) => string | null
  personName: (id: number | null | undefined) => string | null
  loading: boolean
}) {
  const { t } = useTranslation()
  const { decisions, teamName, personName } = props
  if (!decisions.length) {
    return props.loading ? null : <Empty image={Empty.PRESENTED_IMAGE_SIMPLE} description={t('ticketExtras.routing.noHistory')} data-testid="routing-history-empty" />
  }
  return (
    <div data-testid="routing-history" data-count={decisions.length} style={{ marginTop: 8 }}>
      <Timeline
        items={[...decisions].reverse().map((d) => {
          const detail = (d.detail ?? {}) as Record<string, unknown>
          const skills = Array.isArray(detail.required_skills) ? (detail.required_skills as string[]) : []
          const former = typeof detail.former_assignee_id === 'number' ? detail.former_assignee_id : null
          const fromTeam = typeof detail.from_team_id === 'number' ? detail.from_team_id : null
          const note = typeof detail.note === 'string' && detail.note ? detail.note : null
          const excluded = excludedTags(detail, t)
          return {
            key: d.id,
            color: d.kind === 'assigned' || d.kind === 'reassigned' ? 'green' : d.kind === 'released' ? 'gray' : d.kind === 'unrouted' ? 'red' : 'blue',
            children: (
              <div data-testid="routing-decision" data-kind={d.kind} data-reason={d.reason}>
                <Space size={6} wrap>
                  <Typography.Text strong>{t(`ticketExtras.routing.kind.${d.kind}`, { defaultValue: d.kind })}</Typography.Text>
                  <span data-testid="decision-reason">{reasonText(d.reason, t)}</span>
                  {detail.force === true ? <Tag color="red">{t('ticketExtras.routing.forced')}</Tag> : null}
                </Space>
                <div>
                  {d.kind === 'team' || d.kind === 'overflowed' || d.kind === 'unrouted' ? (
                    <Typography.Text type="secondary">
                      {fromTeam != null ? `${teamName(fromTeam)} → ` : ''}
                      {teamName(d.team_id) ?? '—'}
                    </Typography.Text>
                  ) : d.kind === 'released' ? (
                    <Typography.Text type="secondary">{t('ticketExtras.routing.releasedFrom', { name: personName(former) ?? '—' })}</Typography.Text>
                  ) : (
                    <Typography.Text type="secondary">
                      {teamName(d.team_id) ?? '—'} · {personName(d.assignee_id) ?? t('ticketExtras.routing.waiting')}
                    </Typography.Text>
                  )}
                  {d.strategy ? (
                    <Tag style={{ marginLeft: 6 }} data-testid="decision-strategy">
                      {t(`ticketExtras.routing.strategy.${d.strategy}`, { defaultValue: d.strategy })}
                    </Tag>
                  ) : null}
                </div>
                {skills.length ? (
                  <div>
                    <Typography.Text type="secondary">{t('ticketExtras.routing.skills')}: </Typography.Text>
                    {skills.map((s) => (
                      <Tag key={s}>{s}</Tag>
                    ))}
                  </div>
                ) : null}
                {excluded.length ? (
                  <div data-testid="decision-excluded">
                    <Typography.Text type="secondary">{t('ticketExtras.routing.excludedLabel')}: </Typography.Text>
                    {excluded}
                  </div>
                ) : null}
                {note ? <div style={{ whiteSpace: 'pre-wrap' }}>{t('ticketExtras.routing.note', { note })}</div> : null}
                <Typography.Text type="secondary" style={{ fontSize: 12 }}>
                  {d.actor === 'system' ? t('ticketExtras.routing.system') : d.actor} · {formatDateTime(d.created_at)}
                </Typography.Text>
              </div>
            ),
          }
        })}
      />
    </div>
  )
}

// ---------------------------------------------------------------------------------------------------
// 分配 dialog
// ---------------------------------------------------------------------------------------------------

interface AssignValues {
  team_id?: number | null
  assignee_id?: number | null
  note?: string
}

function membersOf(team: DeskTeam | undefined): number[] {
  return team?.member_user_ids ?? []
}

function AssignDialog({ ticket, onClose }: { ticket: TicketDetail; onClose: () => void }) {
  const { t } = useTranslation()
  const { message, modal } = App.useApp()
  const queryClient = useQueryClient()
  const teams = useDeskTeams()
  const people = usePeople()
  const [form] = Form.useForm<AssignValues>()
  const teamId = Form.useWatch('team_id', form) ?? ticket.team_id ?? null
  const team = (teams.data ?? []).find((x) => x.id === teamId)
  const assign = useMutation({
    mutationFn: (v: AssignValues & { force?: boolean }) =>
      assignTicket(ticket.id, {
        assignee_id: v.assignee_id ?? null,
        team_id: v.team_id != null && v.team_id !== ticket.team_id ? v.team_id : null,
        note: v.note?.trim() || null,
        force: !!v.force,
      }),
    onSuccess: (moved) => {
      void message.success(
        moved.assignee_id != null
          ? t('ticketExtras.assign.done', { name: people.name(moved.assignee_id) })
          : t('ticketExtras.assign.queued'),
      )
      void queryClient.invalidateQueries({ queryKey: TICKETS_KEY })
      onClose()
    },
    onError: (err, v) => {
      const full = capacityOf(err)
      if (full && !v.force) {
        modal.confirm({
          title: t('ticketExtras.assign.forceTitle'),
          content: t('ticketExtras.assign.forceBody', { name: people.name(v.assignee_id), ...full }),
          okText: t('ticketExtras.assign.force'),
          okButtonProps: { danger: true, ...tid('confirm-ok') },
          onOk: () => assign.mutate({ ...v, force: true }),
        })
        return
      }
      if (err instanceof ApiError && err.status === 422 && err.errors.length) {
        const onForm = err.errors.filter((e) => e.field === 'assignee_id' || e.field === 'team_id')
        form.setFields(onForm.map((e) => ({ name: e.field as keyof AssignValues, errors: [assignErrorText(e.message, t)] })))
      }
      const text = err instanceof ApiError && err.status === 409 ? conflictText(err, t) : errorText(err, t)
      void message.error({ content: text, key: 'api-error', className: 'api-error-message' })
      if (err instanceof ApiError && err.status === 409) void queryClient.invalidateQueries({ queryKey: TICKETS_KEY })
    },
  })
  const members = membersOf(team)
  return (
    <Modal
      open
      title={t('ticketExtras.assign.title', { id: ticket.id })}
      onCancel={onClose}
      onOk={() => form.submit()}
      okText={t('ticketExtras.assign.submit')}
      okButtonProps={{ loading: assign.isPending, ...tid('assign-submit') }}
      destroyOnHidden
      data-testid="assign-modal"
    >
      <Form
        form={form}
        layout="vertical"
        initialValues={{ team_id: ticket.team_id ?? undefined, assignee_id: ticket.assignee_id ?? undefined }}
        onFinish={(v) => assign.mutate(v)}
        onValuesChange={(changed: AssignValues) => {
          if ('team_id' in changed) {
            const next = (teams.data ?? []).find((x) => x.id === changed.team_id)
            const current = form.getFieldValue('assignee_id') as number | undefined
            if (current != null && !membersOf(next).includes(current)) form.setFieldValue('assignee_id', undefined)
          }
        }}
      >
        <Form.Item name="team_id" label={t('ticketExtras.routing.team')}>
          <Select
            loading={teams.isLoading}
            options={(teams.data ?? []).map((x) => ({ value: x.id, label: x.name }))}
            placeholder={t('ticketExtras.routing.noTeam')}
            data-testid="assign-team"
            optionRender={(opt) => <span data-testid={`assign-team-option-${opt.value}`}>{opt.label}</span>}
          />
        </Form.Item>
        <Form.Item name="assignee_id" label={t('ticketExtras.routing.assignee')} extra={t('ticketExtras.assign.assigneeHelp')}>
          <Select
            allowClear
            showSearch
            optionFilterProp="search"
            placeholder={t('ticketExtras.assign.toQueue')}
            notFoundContent={t('ticketExtras.assign.noMembers')}
            options={members.map((id) => ({ value: id, label: people.name(id) ?? `#${id}`, search: people.name(id) ?? '' }))}
            data-testid="assign-assignee"
            optionRender={(opt) => {
              const agent = people.agents.get(Number(opt.value))
              return (
                <Flex justify="space-between" gap={8} data-testid={`assign-assignee-option-${opt.value}`}>
                  <span>{opt.label}</span>
                  {agent ? <AgentLoad agent={agent} /> : null}
                </Flex>
              )
            }}
          />
        </Form.Item>
        <Form.Item name="note" label={t('ticketExtras.assign.note')}>
          <Input.TextArea rows={2} maxLength={500} data-testid="assign-note" />
        </Form.Item>
      </Form>
    </Modal>
  )
}
