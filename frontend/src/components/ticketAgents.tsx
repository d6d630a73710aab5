// 客服 (agents) of routing's settings: presence, load against capacity, skills, regions and teams,
// with the dialog that adds an agent or changes one.
import { EditOutlined, UserAddOutlined } from '@ant-design/icons'
import { useMutation, useQueryClient } from '@tanstack/react-query'
import { App, Button, Card, Col, Empty, Flex, Form, InputNumber, Modal, Progress, Row, Select, Table, Tooltip, Typography } from 'antd'
import type { TableColumnsType } from 'antd'
import { useMemo, useState } from 'react'
import { useTranslation } from 'react-i18next'
import { ApiError, saveAgent, type Agent, type AgentIn, type AgentStatus, type Team } from '../api'
import { formatDateTime, formatRelative } from '../utils/format'
import { dataAttrs, tid } from '../utils/testid'
import { PRESENCES, PresenceBadge, RegionsInput, routingErrorText, StaffSelect, TagList, TagsInput } from './ticketRouting'
import { clearChangedErrors, placeErrors } from './tickets'
import { errorText } from './useApiError'

type NameOf = (id: number | null | undefined) => string

function LoadBar({ agent }: { agent: Agent }) {
  const { t } = useTranslation()
  const share = agent.capacity ? Math.min(100, Math.round((agent.load / agent.capacity) * 100)) : 100
  const color = agent.capacity === 0 ? '#d9d9d9' : share >= 100 ? '#f5222d' : share >= 70 ? '#fa8c16' : '#52c41a'
  return (
    <Flex align="center" gap={8} data-testid={`agent-load-${agent.user_id}`} data-value={`${agent.load}/${agent.capacity}`}>
      <Progress percent={share} showInfo={false} strokeColor={color} size="small" style={{ width: 90, margin: 0 }} />
      <Typography.Text style={{ whiteSpace: 'nowrap' }}>{t('ticketRouting.agents.loadText', { load: agent.load, capacity: agent.capacity })}</Typography.Text>
    </Flex>
  )
}

export function AgentsCard({ agents, teams, loading, canManage, nameOf }: { agents: Agent[]; teams: Team[]; loading: boolean; canManage: boolean; nameOf: NameOf }) {
  const { t } = useTranslation()
  const [editing, setEditing] = useState<Agent | 'new' | null>(null)
  const teamById = useMemo(() => new Map(teams.map((x) => [x.id, x])), [teams])

  const columns: TableColumnsType<Agent> = [
    {
      title: t('ticketRouting.agents.name'),
      dataIndex: 'name',
      width: 140,
      fixed: 'left',
      render: (v: string, a) => (
        <Typography.Text strong data-testid={`agent-name-${a.user_id}`}>
          {v}
        </Typography.Text>
      ),
    },
    {
      title: t('ticketRouting.agents.presence'),
      dataIndex: 'status',
      width: 90,
      render: (v: AgentStatus, a) => <PresenceBadge status={v} testId={`agent-presence-${a.user_id}`} />,
    },
    { title: t('ticketRouting.agents.load'), key: 'load', width: 170, render: (_, a) => <LoadBar agent={a} /> },
    {
      title: t('ticketRouting.agents.skills'),
      key: 'skills',
      render: (_, a) => <TagList values={a.skills} fallback="—" testId={`agent-skills-${a.user_id}`} />,
    },
    {
      title: t('ticketRouting.agents.regions'),
      key: 'regions',
      width: 170,
      render: (_, a) => <TagList values={a.regions} max={3} fallback={t('ticketRouting.teams.allRegions')} testId={`agent-regions-${a.user_id}`} />,
    },
    {
      title: t('ticketRouting.agents.teams'),
      key: 'teams',
      width: 170,
      render: (_, a) => (
        <TagList values={a.team_ids.map((id) => teamById.get(id)?.name ?? `#${id}`)} max={3} fallback="—" testId={`agent-teams-${a.user_id}`} />
      ),
    },
    {
      title: t('ticketRouting.agents.lastAssigned'),
      dataIndex: 'last_assigned_at',
      width: 120,
      render: (v: string | null, a) => (
        <Tooltip title={v ? formatDateTime(v) : undefined}>
          <span data-testid={`agent-last-${a.user_id}`}>{v ? formatRelative(v) : t('common.never')}</span>
        </Tooltip>
      ),
    },
  ]
  if (canManage)
    columns.push({
      title: t('common.actions'),
      key: 'actions',
      width: 90,
      render: (_, a) => (
        <Button type="link" size="small" icon={<EditOutlined />} onClick={() => setEditing(a)} data-testid={`agent-edit-${a.user_id}`}>
          {t('common.edit')}
        </Button>
      ),
    })

  return (
    <Card
      title={t('ticketRouting.agents.title')}
      extra={
        canManage ? (
          <Button icon={<UserAddOutlined />} onClick={() => setEditing('new')} data-testid="agent-add">
            {t('ticketRouting.agents.add')}
          </Button>
        ) : null
      }
    >
      <Table<Agent>
        rowKey="user_id"
        columns={columns}
        dataSource={agents}
        loading={loading}
        pagination={agents.length > 50 ? { pageSize: 50, showSizeChanger: false } : false}
        scroll={{ x: 1050 }}
        data-testid="agents-table"
        onRow={(a) => dataAttrs({ testid: `agent-row-${a.user_id}`, name: a.name }) as object}
        locale={{ emptyText: <Empty description={t('ticketRouting.agents.empty')} data-testid="agents-empty" /> }}
      />
      {editing ? <AgentModal agent={editing === 'new' ? null : editing} agents={agents} teams={teams} nameOf={nameOf} onClose={() => setEditing(null)} /> : null}
    </Card>
  )
}

interface AgentForm {
  user_id: number | null
  status: AgentStatus
  capacity: number | null
  skills: string[]
  regions: string[]
}

function AgentModal({ agent, agents, teams, nameOf, onClose }: { agent: Agent | null; agents: Agent[]; teams: Team[]; nameOf: NameOf; onClose: () => void }) {
  const { t } = useTranslation()
  const { message } = App.useApp()
  const queryClient = useQueryClient()
  const [form] = Form.useForm<AgentForm>()
  const initial = useMemo<AgentForm>(
    () => ({
      user_id: agent?.user_id ?? null,
      status: agent?.status ?? 'offline',
      capacity: agent?.capacity ?? 10,
      skills: [...(agent?.skills ?? [])],
      regions: [...(agent?.regions ?? [])],
    }),
    [agent],
  )
  const already = useMemo(() => new Set(agents.map((a) => a.user_id)), [agents])
  const skillsInUse = useMemo(() => [...agents.flatMap((a) => a.skills), ...teams.flatMap((x) => Object.values(x.skills_by_category).flat())], [agents, teams])

  const save = useMutation({
    mutationFn: ({ userId, body }: { userId: number; body: AgentIn }) => saveAgent(userId, body),
    onSuccess: () => {
      void message.success(t('ticketRouting.agents.saved'))
      // more room or coming online may take waiting tickets at once
      void queryClient.invalidateQueries({ queryKey: ['tickets'] })
      onClose()
    },
    onError: (err) => {
      const showRest = (content: string) => void message.error({ content, key: 'api-error', className: 'api-error-message' })
      if (err instanceof ApiError && err.status === 404) {
        form.setFields([{ name: ['user_id'], errors: [errorText(err, t)] }])
      } else if (err instanceof ApiError && err.errors.length) {
        placeErrors(
          form,
          err,
          err.errors,
          (e) => {
            const head = e.field.split('.')[0]
            return ['status', 'capacity', 'skills', 'regions'].includes(head) ? { name: [head], text: routingErrorText(e, t) } : null
          },
          showRest,
          t,
        )
      } else {
        showRest(errorText(err, t))
      }
    },
  })

  return (
    <Modal
      open
      width={600}
      title={agent ? t('ticketRouting.agents.editTitle', { name: agent.name }) : t('ticketRouting.agents.addTitle')}
      onCancel={onClose}
      onOk={() => form.submit()}
      okText={t('common.save')}
      okButtonProps={{ loading: save.isPending, ...tid('agent-form-submit') }}
      cancelButtonProps={tid('agent-form-cancel')}
      destroyOnHidden
      data-testid="agent-modal"
    >
      <Form<AgentForm>
        form={form}
        layout="vertical"
        initialValues={initial}
        onFinish={(v) =>
          save.mutate({
            userId: agent?.user_id ?? (v.user_id as number),
            body: { status: v.status, capacity: v.capacity ?? 0, skills: v.skills ?? [], regions: v.regions ?? [] },
          })
        }
        onValuesChange={(changed: Partial<AgentForm>) => clearChangedErrors(form, changed)}
      >
        {agent ? null : (
          <Form.Item name="user_id" label={t('ticketRouting.agents.user')} rules={[{ required: true, message: t('ticketRouting.agents.userRequired') }]}>
            <StaffSelect agents={agents} nameOf={nameOf} exclude={already} testId="agent-form-user" />
          </Form.Item>
        )}
        <Row gutter={16}>
          <Col xs={24} md={14}>
            <Form.Item name="status" label={t('ticketRouting.agents.presence')}>
              <Select<AgentStatus>
                options={PRESENCES.map((s) => ({ value: s, label: <PresenceBadge status={s} /> }))}
                optionRender={(opt) => <span data-testid={`agent-form-status-option-${opt.value}`}>{opt.label}</span>}
                data-testid="agent-form-status"
              />
            </Form.Item>
          </Col>
          <Col xs={24} md={10}>
            <Form.Item name="capacity" label={t('ticketRouting.agents.capacity')} extra={t('ticketRouting.agents.capacityHelp')}>
              <InputNumber<number> min={0} max={500} precision={0} style={{ width: '100%' }} data-testid="agent-form-capacity" />
            </Form.Item>
          </Col>
        </Row>
        <Form.Item name="skills" label={t('ticketRouting.agents.skills')} extra={t('ticketRouting.agents.skillsHelp')}>
          <TagsInput suggestions={skillsInUse} testId="agent-form-skills" />
        </Form.Item>
        <Form.Item name="regions" label={t('ticketRouting.agents.regions')} extra={t('ticketRouting.agents.regionsHelp')}>
          <RegionsInput testId="agent-form-regions" placeholder={t('ticketRouting.teams.allRegions')} />
        </Form.Item>
      </Form>
    </Modal>
  )
}
