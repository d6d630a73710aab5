import { PlusOutlined, ReloadOutlined } from '@ant-design/icons'
import { Button, Card, Empty, Flex, Select, Table, Tabs, Typography } from 'antd'
import type { TableColumnsType } from 'antd'
import { useState } from 'react'
import { useTranslation } from 'react-i18next'
import { Link, useNavigate, useSearchParams } from 'react-router-dom'
import { listTickets, type Ticket, type TicketPriority, type TicketStatus, type TicketView } from '../api'
import { useAuth } from '../auth/AuthContext'
import { PERM } from '../auth/permissions'
import { AgentPresence } from '../components/AgentPresence'
import { LoadMore } from '../components/LoadMore'
import { PageHeader } from '../components/PageHeader'
import { ErrorState } from '../components/states'
import { NewTicketModal, PriorityTag, queueClock, SlaCountdown, STATUSES, StatusTag, TICKETS_KEY, useNow, useUserNames } from '../components/ticketParts'
import { PRIORITIES } from '../components/tickets'
import { useCursorList } from '../components/useCursorList'
import { formatDateTime } from '../utils/format'

// 工单队列: the tickets of a view (mine, unassigned, breaching soon, all), filtered by status and
// priority, with each one's SLA due time counting down.

type Tab = TicketView | 'all'
const TABS: Tab[] = ['mine', 'team', 'unassigned', 'breaching', 'all']
const TAB_LABELS: Record<Tab, string> = {
  mine: 'tabMine',
  team: 'tabTeam',
  unassigned: 'tabUnassigned',
  breaching: 'tabBreaching',
  all: 'tabAll',
}
const REFRESH_MS = 30_000

export default function TicketQueuePage() {
  const { t } = useTranslation()
  const { can } = useAuth()
  const navigate = useNavigate()
  const [params, setParams] = useSearchParams()
  const [creating, setCreating] = useState(false)
  const now = useNow(1000)
  const nameOf = useUserNames()
  const tab: Tab = TABS.includes(params.get('view') as Tab) ? (params.get('view') as Tab) : 'mine'
  const status = STATUSES.includes(params.get('status') as TicketStatus) ? (params.get('status') as TicketStatus) : undefined
  const priority = PRIORITIES.includes(params.get('priority') as TicketPriority) ? (params.get('priority') as TicketPriority) : undefined
  const query = { view: tab === 'all' ? undefined : tab, status, priority }
  const tickets = useCursorList([...TICKETS_KEY, 'list', query], (cursor) => listTickets({ ...query, cursor, limit: 50 }), { refetchInterval: REFRESH_MS })

  const setParam = (key: string, value?: string) => {
    const next = new URLSearchParams(params)
    if (value) next.set(key, value)
    else next.delete(key)
    setParams(next, { replace: true })
  }

  const columns: TableColumnsType<Ticket> = [
    {
      title: t('tickets.desk.queue.number'),
      key: 'id',
      width: 80,
      render: (_, r) => (
        <Link to={`/tickets/${r.id}`} onClick={(e) => e.stopPropagation()} data-testid={`ticket-link-${r.id}`}>
          #{r.id}
        </Link>
      ),
    },
    { title: t('tickets.desk.queue.ticketTitle'), dataIndex: 'title', ellipsis: true, render: (v: string) => <span data-testid="ticket-title">{v}</span> },
    {
      title: t('tickets.desk.queue.customer'),
      key: 'customer',
      width: 120,
      render: (_, r) => {
        const name = (r as Ticket & { customer_name?: string | null }).customer_name
        if (r.customer_id == null) return <Typography.Text type="secondary">—</Typography.Text>
        return can(PERM.customersView) ? (
          <Link to={`/customers/${r.customer_id}`} onClick={(e) => e.stopPropagation()}>
            {name || `#${r.customer_id}`}
          </Link>
        ) : (
          name || `#${r.customer_id}`
        )
      },
    },
    { title: t('tickets.desk.queue.priority'), dataIndex: 'priority', width: 90, render: (v: string, r) => <PriorityTag priority={v} testId={`ticket-priority-${r.id}`} /> },
    { title: t('tickets.desk.queue.status'), dataIndex: 'status', width: 120, render: (v: string, r) => <StatusTag status={v} testId={`ticket-status-${r.id}`} /> },
    {
      title: t('tickets.desk.queue.assignee'),
      key: 'assignee',
      width: 120,
      render: (_, r) => {
        const name = (r as Ticket & { assignee_name?: string | null }).assignee_name ?? nameOf(r.assignee_id)
        return name ?? <Typography.Text type="secondary">{t('tickets.desk.queue.unassigned')}</Typography.Text>
      },
    },
    {
      title: t('tickets.desk.queue.slaDue'),
      key: 'sla',
      width: 200,
      render: (_, r) => <SlaCountdown ticket={r} clock={queueClock(r, now)} now={now} label testId={`ticket-sla-${r.id}`} />,
    },
    { title: t('tickets.desk.queue.created'), dataIndex: 'created_at', width: 170, render: (v: string) => formatDateTime(v) },
  ]

  if (tickets.error && !tickets.items.length) return <ErrorState error={tickets.error} onRetry={() => void tickets.refetch()} />
  const filtered = !!(status || priority)

  return (
    <>
      <PageHeader
        title={t('tickets.desk.queue.title')}
        description={t('tickets.desk.queue.subtitle')}
        extra={
          <>
            <AgentPresence />
            <Button icon={<ReloadOutlined spin={tickets.isFetching} />} onClick={() => void tickets.refetch()} data-testid="tickets-refresh">
              {t('common.refresh')}
            </Button>
            {can(PERM.ticketsEdit) ? (
              <Button type="primary" icon={<PlusOutlined />} onClick={() => setCreating(true)} data-testid="ticket-create">
                {t('tickets.desk.queue.create')}
              </Button>
            ) : null}
          </>
        }
      />
      <Card>
        <Tabs
          activeKey={tab}
          onChange={(key) => setParam('view', key)}
          items={TABS.map((key) => ({ key, label: <span data-testid={`tickets-tab-${key}`}>{t(`tickets.desk.queue.${TAB_LABELS[key]}`)}</span> }))}
        />
        <Flex wrap gap={12} style={{ marginBottom: 16 }}>
          <Select
            allowClear
            value={status}
            onChange={(v?: string) => setParam('status', v)}
            placeholder={t('tickets.desk.queue.filterStatus')}
            options={STATUSES.map((s) => ({ value: s, label: t(`tickets.desk.status.${s}`) }))}
            style={{ width: 160 }}
            data-testid="tickets-filter-status"
            optionRender={(opt) => <span data-testid={`tickets-filter-status-option-${opt.value}`}>{opt.label}</span>}
          />
          <Select
            allowClear
            value={priority}
            onChange={(v?: string) => setParam('priority', v)}
            placeholder={t('tickets.desk.queue.filterPriority')}
            options={PRIORITIES.map((p) => ({ value: p, label: t(`tickets.priority.${p}`) }))}
            style={{ width: 140 }}
            data-testid="tickets-filter-priority"
            optionRender={(opt) => <span data-testid={`tickets-filter-priority-option-${opt.value}`}>{opt.label}</span>}
          />
          {filtered ? (
            <Button
              onClick={() => {
                const next = new URLSearchParams(params)
                next.delete('status')
                next.delete('priority')
                setParams(next, { replace: true })
              }}
              data-testid="tickets-reset"
            >
              {t('common.reset')}
            </Button>
          ) : null}
        </Flex>
        <Table<Ticket>
          rowKey="id"
          size="middle"
          columns={columns}
          dataSource={tickets.items}
          loading={tickets.isLoading}
          pagination={false}
          data-testid="tickets-table"
          data-view={tab}
          onRow={(r) => ({
            onClick: () => navigate(`/tickets/${r.id}`),
            style: { cursor: 'pointer' },
            'data-testid': `ticket-row-${r.id}`,
          } as object)}
          locale={{
            emptyText: <Empty image={Empty.PRESENTED_IMAGE_SIMPLE} description={filtered ? t('tickets.desk.queue.noMatch') : t('tickets.desk.queue.empty')} data-testid="tickets-empty" />,
          }}
        />
        <LoadMore
          hasMore={!!tickets.hasNextPage}
          loading={tickets.isFetchingNextPage}
          onLoad={() => void tickets.fetchNextPage()}
          count={tickets.items.length}
          testId="tickets-load-more"
        />
      </Card>
      <NewTicketModal open={creating} onClose={() => setCreating(false)} />
    </>
  )
}
