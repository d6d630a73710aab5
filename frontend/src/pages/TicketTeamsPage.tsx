import { DeleteOutlined, EditOutlined, EyeOutlined, PlusOutlined, ReloadOutlined } from '@ant-design/icons'
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query'
import { Alert, App, Badge, Button, Card, Col, Divider, Drawer, Empty, Form, Input, InputNumber, Popconfirm, Row, Select, Space, Switch, Table, Tag, Tooltip, Typography } from 'antd'
import type { TableColumnsType } from 'antd'
import { useMemo, useState } from 'react'
import { useTranslation } from 'react-i18next'
import { ApiError, createTeam, deleteTeam, listAgents, listTeams, replaceTeam, type Agent, type FieldError, type RoutingStrategy, type Team, type TeamIn } from '../api'
import { useAuth } from '../auth/AuthContext'
import { PERM } from '../auth/permissions'
import { AgentPresence } from '../components/AgentPresence'
import { PageHeader } from '../components/PageHeader'
import { ErrorState } from '../components/states'
import { AgentsCard } from '../components/ticketAgents'
import {
  AGENTS_KEY,
  RegionsInput,
  routingErrorText,
  rowsToSkills,
  SkillsByCategoryList,
  skillsToRows,
  StaffSelect,
  STRATEGIES,
  STRATEGY_COLORS,
  TagList,
  TEAMS_KEY,
  TicketTypesInput,
  useStaffNames,
  type CategorySkills,
} from '../components/ticketRouting'
import { clearChangedErrors, isConflict, placeErrors, type NamePath, type T } from '../components/tickets'
import { errorText, useApiError } from '../components/useApiError'
import { formatDateTime } from '../utils/format'
import { dataAttrs, tid } from '../utils/testid'

// 团队与客服: routing's settings. Teams (what they serve, how they assign, members, lead and manager,
// skills by category, overflow) with their waiting queues, and agents (components/ticketAgents.tsx:
// presence, load against capacity, skills, regions). Read-only without tickets.settings.manage.

const REFRESH_MS = 15_000

type NameOf = (id: number | null | undefined) => string

export default function TicketTeamsPage() {
  const { t } = useTranslation()
  const { can } = useAuth()
  const canManage = can(PERM.ticketsSettingsManage)
  const queryClient = useQueryClient()
  const teams = useQuery({ queryKey: TEAMS_KEY, queryFn: listTeams, refetchInterval: REFRESH_MS })
  const agents = useQuery({ queryKey: AGENTS_KEY, queryFn: listAgents, refetchInterval: REFRESH_MS })
  const nameOf = useStaffNames(agents.data)

  const error = teams.error ?? agents.error
  if (error && !teams.data && !agents.data)
    return (
      <ErrorState
        error={error}
        onRetry={() => {
          void teams.refetch()
          void agents.refetch()
        }}
      />
    )

  return (
    <>
      <PageHeader
        title={t('ticketRouting.title')}
        description={t('ticketRouting.subtitle')}
        extra={
          <>
            <AgentPresence />
            <Button
              icon={<ReloadOutlined spin={teams.isFetching || agents.isFetching} />}
              onClick={() => {
                void queryClient.invalidateQueries({ queryKey: TEAMS_KEY })
                void queryClient.invalidateQueries({ queryKey: AGENTS_KEY })
              }}
              data-testid="routing-refresh"
            >
              {t('common.refresh')}
            </Button>
          </>
        }
      />
      {!canManage ? <Alert type="info" showIcon style={{ marginBottom: 16 }} message={t('ticketRouting.readOnly')} data-testid="routing-read-only" /> : null}
      <TeamsCard teams={teams.data ?? []} agents={agents.data ?? []} loading={teams.isLoading} canManage={canManage} nameOf={nameOf} />
      <AgentsCard agents={agents.data ?? []} teams={teams.data ?? []} loading={agents.isLoading} canManage={canManage} nameOf={nameOf} />
    </>
  )
}

// ---------------------------------------------------------------------------------------------------
// Teams
// ---------------------------------------------------------------------------------------------------

function TeamsCard({ teams, agents, loading, canManage, nameOf }: { teams: Team[]; agents: Agent[]; loading: boolean; canManage: boolean; nameOf: NameOf }) {
  const { t } = useTranslation()
  const { message, modal } = App.useApp()
  const showError = useApiError()
  const queryClient = useQueryClient()
  const [editing, setEditing] = useState<Team | 'new' | null>(null)
  const teamById = useMemo(() => new Map(teams.map((x) => [x.id, x])), [teams])

  const remove = useMutation({
    mutationFn: (team: Team) => deleteTeam(team.id),
    onSuccess: (_, team) => {
      void message.success(t('ticketRouting.teams.deleted', { name: team.name }))
      void queryClient.invalidateQueries({ queryKey: ['tickets', 'routing'] })
    },
    onError: (e, team) => {
      if (isConflict(e) && e instanceof ApiError) {
        modal.warning({
          title: t('ticketRouting.teams.cannotDelete', { name: team.name }),
          content: <span data-testid="team-in-use">{deleteConflictText(e, t)}</span>,
          okButtonProps: tid('team-in-use-ok'),
        })
        return
      }
      showError(e)
    },
  })

  const columns: TableColumnsType<Team> = [
    {
      title: t('ticketRouting.teams.name'),
      dataIndex: 'name',
      width: 150,
      fixed: 'left',
      render: (v: string, team) => (
        <Space size={4} wrap>
          <Typography.Text strong data-testid={`team-name-${team.id}`}>
            {v}
          </Typography.Text>
          {team.is_default ? (
            <Tag color="gold" data-testid={`team-default-${team.id}`}>
              {t('ticketRouting.teams.defaultTag')}
            </Tag>
          ) : null}
        </Space>
      ),
    },
    {
      title: t('ticketRouting.teams.strategy'),
      dataIndex: 'strategy',
      width: 100,
      render: (v: RoutingStrategy, team) => (
        <Tooltip title={t(`ticketRouting.strategyHelp.${v}`)}>
          <Tag color={STRATEGY_COLORS[v]} data-testid={`team-strategy-${team.id}`} data-value={v}>
            {t(`ticketRouting.strategy.${v}`)}
          </Tag>
        </Tooltip>
      ),
    },
    {
      title: t('ticketRouting.teams.ticketTypes'),
      key: 'types',
      width: 150,
      render: (_, team) => <TagList values={team.ticket_types} fallback={t('ticketRouting.teams.allTypes')} testId={`team-types-${team.id}`} />,
    },
    {
      title: t('ticketRouting.teams.regions'),
      key: 'regions',
      width: 150,
      render: (_, team) => <TagList values={team.regions} max={3} fallback={t('ticketRouting.teams.allRegions')} testId={`team-regions-${team.id}`} />,
    },
    {
      title: `${t('ticketRouting.teams.lead')} / ${t('ticketRouting.teams.manager')}`,
      key: 'people',
      width: 130,
      render: (_, team) => (
        <div style={{ fontSize: 12 }}>
          <div data-testid={`team-lead-${team.id}`} data-value={team.lead_user_id ?? ''}>
            <Typography.Text type="secondary" style={{ fontSize: 12 }}>
              {t('ticketRouting.teams.lead')}
            </Typography.Text>{' '}
            {team.lead_user_id != null ? nameOf(team.lead_user_id) : '—'}
          </div>
          <div data-testid={`team-manager-${team.id}`} data-value={team.manager_user_id ?? ''}>
            <Typography.Text type="secondary" style={{ fontSize: 12 }}>
              {t('ticketRouting.teams.manager')}
            </Typography.Text>{' '}
            {team.manager_user_id != null ? nameOf(team.manager_user_id) : '—'}
          </div>
        </div>
      ),
    },
    {
      title: t('ticketRouting.teams.overflow'),
      key: 'overflow',
      width: 150,
      render: (_, team) => (
        <span data-testid={`team-overflow-${team.id}`} data-value={team.overflow_team_id ?? ''}>
          {team.overflow_team_id != null ? (
            t('ticketRouting.teams.overflowText', {
              minutes: team.overflow_after_minutes ?? '?',
              team: teamById.get(team.overflow_team_id)?.name ?? `#${team.overflow_team_id}`,
            })
          ) : (
            <Typography.Text type="secondary">{t('ticketRouting.teams.overflowNone')}</Typography.Text>
          )}
        </span>
      ),
    },
    {
      title: t('ticketRouting.teams.members'),
      key: 'members',
      width: 70,
      align: 'right',
      render: (_, team) => (
        <Tooltip title={team.member_user_ids.length ? team.member_user_ids.map((id) => nameOf(id)).join('、') : undefined}>
          <span data-testid={`team-members-${team.id}`} data-count={team.member_user_ids.length}>
            {t('ticketRouting.teams.memberCount', { count: team.member_user_ids.length })}
          </span>
        </Tooltip>
      ),
    },
    {
      title: (
        <Tooltip title={t('ticketRouting.teams.waitingHelp')}>
          <span>{t('ticketRouting.teams.waiting')}</span>
        </Tooltip>
      ),
      key: 'waiting',
      width: 80,
      align: 'right',
      render: (_, team) => (
        <span data-testid={`team-waiting-${team.id}`} data-count={team.waiting}>
          <Badge count={team.waiting} showZero color={team.waiting ? '#fa8c16' : '#d9d9d9'} overflowCount={9999} />
        </span>
      ),
    },
    {
      title: t('common.actions'),
      key: 'actions',
      width: canManage ? 150 : 90,
      fixed: 'right',
      render: (_, team) =>
        canManage ? (
          <Space size={0}>
            <Button type="link" size="small" icon={<EditOutlined />} onClick={() => setEditing(team)} data-testid={`team-edit-${team.id}`}>
              {t('common.edit')}
            </Button>
            <Popconfirm
              title={t('ticketRouting.teams.deleteConfirm', { name: team.name })}
              description={t('ticketRouting.teams.deleteHint')}
              okText={t('common.delete')}
              okButtonProps={{ danger: true, ...tid('confirm-ok') }}
              onConfirm={() => remove.mutateAsync(team).catch(() => undefined)}
            >
              <Button type="link" size="small" danger icon={<DeleteOutlined />} data-testid={`team-delete-${team.id}`}>
                {t('common.delete')}
              </Button>
            </Popconfirm>
          </Space>
        ) : (
          <Button type="link" size="small" icon={<EyeOutlined />} onClick={() => setEditing(team)} data-testid={`team-view-${team.id}`}>
            {t('common.view')}
          </Button>
        ),
    },
  ]

  return (
    <Card
      title={t('ticketRouting.teams.title')}
      style={{ marginBottom: 16 }}
      extra={
        canManage ? (
          <Button type="primary" icon={<PlusOutlined />} onClick={() => setEditing('new')} data-testid="team-create">
            {t('ticketRouting.teams.create')}
          </Button>
        ) : null
      }
    >
      <Table<Team>
        rowKey="id"
        columns={columns}
        dataSource={teams}
        loading={loading}
        pagination={false}
        scroll={{ x: 1100 }}
        data-testid="teams-table"
        onRow={(team) => dataAttrs({ testid: `team-row-${team.id}`, name: team.name }) as object}
        locale={{ emptyText: <Empty description={t('ticketRouting.teams.empty')} data-testid="teams-empty" /> }}
      />
      {editing ? (
        <TeamDrawer team={editing === 'new' ? null : editing} teams={teams} agents={agents} readOnly={!canManage} nameOf={nameOf} onClose={() => setEditing(null)} />
      ) : null}
    </Card>
  )
}

function deleteConflictText(e: ApiError, t: T): string {
  const open = /^the team has (\d+) open tickets/.exec(e.detail)
  if (open) return t('ticketRouting.teams.hasOpenTickets', { count: Number(open[1]) })
  const feeders = /^teams overflow into this team: (.+)$/.exec(e.detail)
  if (feeders) return t('ticketRouting.teams.overflowedInto', { teams: feeders[1] })
  return errorText(e, t)
}

/** The form: the API's shape (so its field paths name form fields), skills as rows. */
interface TeamForm {
  name: string
  strategy: RoutingStrategy
  ticket_types: string[]
  regions: string[]
  is_default: boolean
  skills: CategorySkills[]
  lead_user_id: number | null
  manager_user_id: number | null
  overflow_team_id: number | null
  overflow_after_minutes: number | null
  member_user_ids: number[]
}

function toTeamForm(team: Team | null): TeamForm {
  return {
    name: team?.name ?? '',
    strategy: team?.strategy ?? 'least_load',
    ticket_types: [...(team?.ticket_types ?? [])],
    regions: [...(team?.regions ?? [])],
    is_default: team?.is_default ?? false,
    skills: skillsToRows(team?.skills_by_category ?? {}),
    lead_user_id: team?.lead_user_id ?? null,
    manager_user_id: team?.manager_user_id ?? null,
    overflow_team_id: team?.overflow_team_id ?? null,
    overflow_after_minutes: team?.overflow_after_minutes ?? null,
    member_user_ids: [...(team?.member_user_ids ?? [])],
  }
}

function toTeamBody(v: TeamForm): TeamIn {
  return {
    name: (v.name ?? '').trim(),
    strategy: v.strategy,
    ticket_types: v.ticket_types ?? [],
    regions: v.regions ?? [],
    is_default: !!v.is_default,
    skills_by_category: rowsToSkills(v.skills),
    lead_user_id: v.lead_user_id ?? null,
    manager_user_id: v.manager_user_id ?? null,
    overflow_team_id: v.overflow_team_id ?? null,
    overflow_after_minutes: v.overflow_after_minutes ?? null,
    member_user_ids: v.member_user_ids ?? [],
  }
}

const TEAM_FIELDS = ['name', 'strategy', 'is_default', 'lead_user_id', 'manager_user_id', 'overflow_team_id', 'overflow_after_minutes']

/** `member_user_ids.0` on the member picker (naming the user), `regions.2` on the regions, and so on. */
function placeTeamError(e: FieldError, body: TeamIn, t: T, nameOf: NameOf): { name: NamePath; text: string } | null {
  const text = routingErrorText(e, t, (id) => nameOf(id))
  const [head, second] = e.field.replace(/\[(\d+)\]/g, '.$1').split('.')
  if (TEAM_FIELDS.includes(head)) return { name: [head], text }
  if (head === 'member_user_ids') return { name: ['member_user_ids'], text }
  if (head === 'ticket_types' || head === 'regions') {
    const value = second !== undefined && /^\d+$/.test(second) ? body[head]?.[Number(second)] : undefined
    return { name: [head], text: value !== undefined ? `${value}: ${text}` : text }
  }
  if (head === 'skills_by_category') return { name: ['skills'], text: second ? `${second}: ${text}` : text }
  return null
}

function TeamDrawer({ team, teams, agents, readOnly, nameOf, onClose }: { team: Team | null; teams: Team[]; agents: Agent[]; readOnly: boolean; nameOf: NameOf; onClose: () => void }) {
  const { t } = useTranslation()
  const { message } = App.useApp()
  const queryClient = useQueryClient()
  const [form] = Form.useForm<TeamForm>()
  const initial = useMemo(() => toTeamForm(team), [team])
  const overflowTeam = Form.useWatch('overflow_team_id', form)
  const typesInUse = useMemo(() => teams.flatMap((x) => x.ticket_types), [teams])
  const skillsInUse = useMemo(() => [...agents.flatMap((a) => a.skills), ...teams.flatMap((x) => Object.values(x.skills_by_category).flat())], [agents, teams])

  const save = useMutation({
    mutationFn: (body: TeamIn) => (team ? replaceTeam(team.id, body) : createTeam(body)),
    onSuccess: () => {
      void message.success(team ? t('ticketRouting.teams.saved') : t('ticketRouting.teams.created'))
      void queryClient.invalidateQueries({ queryKey: ['tickets', 'routing'] })
      onClose()
    },
    onError: (err, body) => {
      const showRest = (content: string) => void message.error({ content, key: 'api-error', className: 'api-error-message' })
      if (isConflict(err)) {
        form.setFields([{ name: ['name'], errors: [t('ticketRouting.teams.nameTaken')] }])
        showRest(errorText(err, t))
      } else if (err instanceof ApiError && err.errors.length) {
        placeErrors(form, err, err.errors, (e) => placeTeamError(e, body, t, nameOf), showRest, t)
      } else {
        showRest(errorText(err, t))
      }
    },
  })

  const title = readOnly
    ? t('ticketRouting.teams.viewTitle', { name: team?.name ?? '' })
    : team
      ? t('ticketRouting.teams.editTitle', { name: team.name })
      : t('ticketRouting.teams.createTitle')

  return (
    <Drawer
      open
      width={760}
      title={title}
      onClose={onClose}
      destroyOnHidden
      data-testid="team-drawer"
      extra={
        readOnly ? null : (
          <Space>
            <Button onClick={onClose} data-testid="team-form-cancel">
              {t('common.cancel')}
            </Button>
            <Button type="primary" loading={save.isPending} onClick={() => form.submit()} data-testid="team-form-submit">
              {t('common.save')}
            </Button>
          </Space>
        )
      }
    >
      <Form<TeamForm>
        form={form}
        layout="vertical"
        initialValues={initial}
        disabled={readOnly}
        onFinish={(v) => save.mutate(toTeamBody(v))}
        onValuesChange={(changed: Partial<TeamForm>) => clearChangedErrors(form, changed)}
      >
        <Row gutter={16}>
          <Col xs={24} md={12}>
            <Form.Item name="name" label={t('ticketRouting.teams.name')} rules={[{ required: true, whitespace: true, message: t('ticketRouting.teams.nameRequired') }]}>
              <Input maxLength={100} placeholder={t('ticketRouting.teams.namePlaceholder')} data-testid="team-form-name" />
            </Form.Item>
          </Col>
          <Col xs={24} md={12}>
            <Form.Item name="strategy" label={t('ticketRouting.teams.strategy')}>
              <Select<RoutingStrategy>
                options={STRATEGIES.map((s) => ({ value: s, label: t(`ticketRouting.strategy.${s}`), help: t(`ticketRouting.strategyHelp.${s}`) }))}
                optionRender={(opt) => (
                  <div data-testid={`team-form-strategy-option-${opt.value}`}>
                    <div>{opt.label}</div>
                    <Typography.Text type="secondary" style={{ fontSize: 12, whiteSpace: 'normal' }}>
                      {opt.data.help}
                    </Typography.Text>
                  </div>
                )}
                data-testid="team-form-strategy"
              />
            </Form.Item>
          </Col>
          <Col xs={24} md={12}>
            <Form.Item name="ticket_types" label={t('ticketRouting.teams.ticketTypes')} extra={t('ticketRouting.teams.ticketTypesHelp')}>
              <TicketTypesInput inUse={typesInUse} testId="team-form-types" placeholder={t('ticketRouting.teams.allTypes')} />
            </Form.Item>
          </Col>
          <Col xs={24} md={12}>
            <Form.Item name="regions" label={t('ticketRouting.teams.regions')} extra={t('ticketRouting.teams.regionsHelp')}>
              <RegionsInput testId="team-form-regions" placeholder={t('ticketRouting.teams.allRegions')} />
            </Form.Item>
          </Col>
          <Col xs={24}>
            <Form.Item name="member_user_ids" label={t('ticketRouting.teams.members')} extra={t('ticketRouting.teams.membersHelp')}>
              <StaffSelect multiple agents={agents} nameOf={nameOf} testId="team-form-members" disabled={readOnly} />
            </Form.Item>
          </Col>
          <Col xs={24} md={12}>
            <Form.Item name="lead_user_id" label={t('ticketRouting.teams.lead')} extra={t('ticketRouting.teams.leadHelp')}>
              <StaffSelect agents={agents} nameOf={nameOf} testId="team-form-lead" disabled={readOnly} />
            </Form.Item>
          </Col>
          <Col xs={24} md={12}>
            <Form.Item name="manager_user_id" label={t('ticketRouting.teams.manager')} extra={t('ticketRouting.teams.leadHelp')}>
              <StaffSelect agents={agents} nameOf={nameOf} testId="team-form-manager" disabled={readOnly} />
            </Form.Item>
          </Col>
          <Col xs={24} md={12}>
            <Form.Item name="overflow_team_id" label={t('ticketRouting.teams.overflowTeam')} extra={t('ticketRouting.teams.overflowTeamHelp')}>
              <Select<number>
                allowClear
                placeholder={t('ticketRouting.teams.overflowNone')}
                options={teams.filter((x) => x.id !== team?.id).map((x) => ({ value: x.id, label: x.name }))}
                optionRender={(opt) => <span data-testid={`team-form-overflow-option-${opt.value}`}>{opt.label}</span>}
                data-testid="team-form-overflow"
              />
            </Form.Item>
          </Col>
          <Col xs={24} md={12}>
            <Form.Item name="overflow_after_minutes" label={t('ticketRouting.teams.overflowAfter')}>
              <InputNumber<number>
                min={1}
                max={10_080}
                precision={0}
                disabled={readOnly || overflowTeam == null}
                suffix={t('ticketRouting.teams.minutesSuffix')}
                style={{ width: '100%' }}
                data-testid="team-form-overflow-minutes"
              />
            </Form.Item>
          </Col>
          <Col xs={24}>
            <Form.Item name="is_default" valuePropName="checked" label={t('ticketRouting.teams.isDefault')} extra={t('ticketRouting.teams.isDefaultHelp')}>
              <Switch data-testid="team-form-default" />
            </Form.Item>
          </Col>
        </Row>
        <Divider style={{ margin: '4px 0 12px' }} />
        <Typography.Text strong>{t('ticketRouting.teams.skills')}</Typography.Text>
        <Typography.Paragraph type="secondary" style={{ fontSize: 12, marginBottom: 8 }}>
          {t('ticketRouting.teams.skillsHelp')}
        </Typography.Paragraph>
        <SkillsByCategoryList name="skills" readOnly={readOnly} skillSuggestions={skillsInUse} />
        {team ? (
          <>
            <Divider />
            <Typography.Text type="secondary" style={{ fontSize: 12 }}>
              {formatDateTime(team.updated_at)}
            </Typography.Text>
          </>
        ) : null}
      </Form>
    </Drawer>
  )
}
