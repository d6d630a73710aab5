import { ReloadOutlined } from '@ant-design/icons'
import { useQuery, useQueryClient } from '@tanstack/react-query'
import { Alert, Button, Card, Col, Empty, Flex, Row, Select, Skeleton, Statistic, Table, Tag, Typography } from 'antd'
import type { TableColumnsType } from 'antd'
import { lazy, Suspense, useState, type ReactNode } from 'react'
import { useTranslation } from 'react-i18next'
import { Link, useNavigate } from 'react-router-dom'
import { listTickets, ticketStats, type Ticket, type TicketStats } from '../api'
import { PageHeader } from '../components/PageHeader'
import { ErrorState } from '../components/states'
import { CLOCKS, PriorityTag, PROVINCES, provinceOf, queueClock, SlaCountdown, STATUSES, StatusTag, TICKETS_KEY, useNow } from '../components/ticketParts'
import { PRIORITIES } from '../components/tickets'
import { dataAttrs } from '../utils/testid'

// SLA 看板: counts by status and priority, SLA attainment per clock, tickets created and resolved per
// day, the tickets about to breach, and the complaint heat map by province.

const charts = () => import('../components/ticketCharts')
const CountBars = lazy(() => charts().then((m) => ({ default: m.CountBars })))
const AttainmentChart = lazy(() => charts().then((m) => ({ default: m.AttainmentChart })))
const DailyChart = lazy(() => charts().then((m) => ({ default: m.DailyChart })))
const ProvinceHeatMap = lazy(() => charts().then((m) => ({ default: m.ProvinceHeatMap })))

const TZ = 'Asia/Shanghai'
const REFRESH_MS = 30_000
const DAY_CHOICES = [7, 30, 90]
const COMPLAINT = 'complaint'
const STATUS_COLORS: Record<string, string> = {
  new: '#1677ff',
  open: '#13c2c2',
  waiting_customer: '#faad14',
  waiting_third_party: '#722ed1',
  resolved: '#52c41a',
  closed: '#bfbfbf',
}
const PRIORITY_COLORS: Record<string, string> = { urgent: '#ff4d4f', high: '#fa8c16', normal: '#1677ff', low: '#bfbfbf' }

const percent = (v: number | null | undefined) => (v == null ? '—' : `${Math.round(v * 1000) / 10}%`)

function ChartBox({ children }: { children: ReactNode }) {
  return <Suspense fallback={<Skeleton active paragraph={{ rows: 4 }} />}>{children}</Suspense>
}

export default function TicketDashboardPage() {
  const { t } = useTranslation()
  const queryClient = useQueryClient()
  const [days, setDays] = useState(30)
  const [ticketType, setTicketType] = useState<string>()
  const query = { days, tz: TZ, ticket_type: ticketType }
  const stats = useQuery({ queryKey: [...TICKETS_KEY, 'stats', query], queryFn: () => ticketStats(query), refetchInterval: REFRESH_MS })

  if (stats.error && !stats.data) return <ErrorState error={stats.error} onRetry={() => void stats.refetch()} />
  const s = stats.data

  return (
    <>
      <PageHeader
        title={t('tickets.desk.dashboard.title')}
        description={t('tickets.desk.dashboard.subtitle')}
        extra={
          <>
            <Select
              value={days}
              onChange={setDays}
              options={DAY_CHOICES.map((n) => ({ value: n, label: t('tickets.desk.dashboard.days', { n }) }))}
              style={{ width: 130 }}
              data-testid="dashboard-days"
            />
            <Select
              allowClear
              value={ticketType}
              onChange={setTicketType}
              placeholder={t('tickets.desk.dashboard.allTypes')}
              options={Object.keys(s?.by_type ?? {}).map((v) => ({ value: v, label: v }))}
              style={{ width: 160 }}
              data-testid="dashboard-type"
            />
            <Button icon={<ReloadOutlined spin={stats.isFetching} />} onClick={() => void queryClient.invalidateQueries({ queryKey: TICKETS_KEY })} data-testid="dashboard-refresh">
              {t('common.refresh')}
            </Button>
          </>
        }
      />
      {!s ? (
        <Skeleton active />
      ) : (
        <Flex vertical gap={16}>
          <Figures stats={s} />
          <Row gutter={[16, 16]}>
            <Col xs={24} lg={8}>
              <Card size="small" title={t('tickets.desk.dashboard.byStatus')}>
                <ChartBox>
                  <CountBars
                    testId="dashboard-by-status"
                    rows={STATUSES.map((k) => ({ name: t(`tickets.desk.status.${k}`), value: s.by_status[k] ?? 0, color: STATUS_COLORS[k] }))}
                  />
                </ChartBox>
              </Card>
            </Col>
            <Col xs={24} lg={8}>
              <Card size="small" title={t('tickets.desk.dashboard.byPriority')}>
                <ChartBox>
                  <CountBars
                    testId="dashboard-by-priority"
                    rows={PRIORITIES.map((k) => ({ name: t(`tickets.priority.${k}`), value: s.by_priority[k] ?? 0, color: PRIORITY_COLORS[k] }))}
                  />
                </ChartBox>
              </Card>
            </Col>
            <Col xs={24} lg={8}>
              <Card size="small" title={t('tickets.desk.dashboard.slaChart')}>
                <ChartBox>
                  <AttainmentChart
                    testId="dashboard-sla"
                    labels={{ met: t('tickets.desk.dashboard.met'), breached: t('tickets.desk.dashboard.breached'), running: t('tickets.desk.dashboard.running') }}
                    rows={CLOCKS.map((clock) => ({ clock: t(`tickets.desk.clock.${clock}`), ...(s.sla[clock] ?? { met: 0, breached: 0, running: 0 }) }))}
                  />
                </ChartBox>
              </Card>
            </Col>
          </Row>
          <Card size="small" title={t('tickets.desk.dashboard.daily')}>
            <ChartBox>
              <DailyChart testId="dashboard-daily" days={s.daily} labels={{ created: t('tickets.desk.dashboard.created'), resolved: t('tickets.desk.dashboard.resolved') }} />
            </ChartBox>
          </Card>
          <Row gutter={[16, 16]}>
            <Col xs={24} xl={14}>
              <HeatMapCard days={days} overall={s} />
            </Col>
            <Col xs={24} xl={10}>
              <BreachingList />
            </Col>
          </Row>
        </Flex>
      )}
    </>
  )
}

function Figures({ stats: s }: { stats: TicketStats }) {
  const { t } = useTranslation()
  const figure = (key: string, title: string, value: ReactNode, color?: string, footer?: ReactNode) => (
    <Col xs={12} md={8} xl={4} key={key}>
      <Card size="small" {...dataAttrs({ testid: `dashboard-figure-${key}` })}>
        <Statistic title={title} value={value as string} valueStyle={color ? { color } : undefined} />
        {footer ? <Typography.Text type="secondary" style={{ fontSize: 12 }}>{footer}</Typography.Text> : null}
      </Card>
    </Col>
  )
  return (
    <Row gutter={[16, 16]}>
      {figure('total', t('tickets.desk.dashboard.total'), s.total)}
      {figure('breaching', t('tickets.desk.dashboard.breachingSoon'), s.breaching_soon, s.breaching_soon ? '#fa8c16' : undefined)}
      {figure('overdue', t('tickets.desk.dashboard.overdue'), s.overdue, s.overdue ? '#ff4d4f' : undefined)}
      {CLOCKS.map((clock) => {
        const a = s.sla[clock]
        return figure(
          `attainment-${clock}`,
          t('tickets.desk.dashboard.attainment', { clock: t(`tickets.desk.clock.${clock}`) }),
          percent(a?.attainment),
          a?.attainment != null && a.attainment < 0.9 ? '#ff4d4f' : '#52c41a',
          a && a.met + a.breached ? t('tickets.desk.dashboard.attainmentDetail', a) : t('tickets.desk.dashboard.noAttainment'),
        )
      })}
    </Row>
  )
}

/** The complaint heat map: tickets per province, complaints by default when there are any. */
function HeatMapCard({ days, overall }: { days: number; overall: TicketStats }) {
  const { t } = useTranslation()
  const types = Object.keys(overall.by_type)
  const [picked, setPicked] = useState<string | null>()
  const [category, setCategory] = useState<string>()
  // undefined: not chosen yet (complaints when there are any); null: every type
  const ticketType = picked === undefined ? (types.includes(COMPLAINT) ? COMPLAINT : undefined) : (picked ?? undefined)
  const query = { days, tz: TZ, ticket_type: ticketType, category }
  const regional = useQuery({ queryKey: [...TICKETS_KEY, 'stats', query], queryFn: () => ticketStats(query), refetchInterval: REFRESH_MS })
  const counts = new Map<string, number>()
  const unmatched: string[] = []
  for (const { region, count } of regional.data?.by_region ?? []) {
    const name = provinceOf(region)
    if (name) counts.set(name, (counts.get(name) ?? 0) + count)
    else unmatched.push(region)
  }
  return (
    <Card
      size="small"
      title={t('tickets.desk.dashboard.heatMap')}
      extra={
        <Flex gap={8}>
          <Select
            allowClear
            value={ticketType}
            onChange={(v?: string) => setPicked(v ?? null)}
            placeholder={t('tickets.desk.dashboard.allTypes')}
            options={types.map((v) => ({ value: v, label: v }))}
            style={{ width: 140 }}
            data-testid="heatmap-type"
          />
          <Select
            allowClear
            value={category}
            onChange={setCategory}
            placeholder={t('tickets.desk.dashboard.allCategories')}
            options={Object.keys(overall.by_category).map((v) => ({ value: v, label: v }))}
            style={{ width: 140 }}
            data-testid="heatmap-category"
          />
        </Flex>
      }
    >
      <Typography.Text type="secondary">{t('tickets.desk.dashboard.heatMapHelp')}</Typography.Text>
      <ChartBox>
        <ProvinceHeatMap testId="dashboard-heatmap" counts={counts} seriesName={t('tickets.desk.dashboard.tickets')} />
      </ChartBox>
      <Flex vertical gap={4}>
        {regional.data?.no_region ? (
          <Typography.Text type="secondary" data-testid="heatmap-no-region">
            {t('tickets.desk.dashboard.noRegion', { count: regional.data.no_region })}
          </Typography.Text>
        ) : null}
        {unmatched.length ? <Alert type="info" showIcon message={t('tickets.desk.dashboard.unmatched', { names: unmatched.join('、') })} data-testid="heatmap-unmatched" /> : null}
      </Flex>
      <ProvinceTable counts={counts} />
    </Card>
  )
}

function ProvinceTable({ counts }: { counts: Map<string, number> }) {
  const { i18n } = useTranslation()
  const rows = [...counts.entries()].sort((a, b) => b[1] - a[1]).slice(0, 10)
  if (!rows.length) return null
  const english = new Map(PROVINCES.map(([, en, short]) => [short, en]))
  return (
    <Flex wrap gap={8} style={{ marginTop: 8 }} data-testid="heatmap-top">
      {rows.map(([name, n]) => (
        <Tag key={name} data-testid={`heatmap-province-${name}`}>
          {i18n.language === 'en' ? (english.get(name) ?? name) : name} <b>{n}</b>
        </Tag>
      ))}
    </Flex>
  )
}

/** Open tickets due within the hour or overdue (the queue's 即将超时 view). */
function BreachingList() {
  const { t } = useTranslation()
  const navigate = useNavigate()
  const now = useNow(1000)
  const tickets = useQuery({ queryKey: [...TICKETS_KEY, 'list', 'dashboard-breaching'], queryFn: () => listTickets({ view: 'breaching', limit: 20 }), refetchInterval: REFRESH_MS })
  const columns: TableColumnsType<Ticket> = [
    { title: t('tickets.desk.queue.number'), key: 'id', width: 70, render: (_, r) => <Link to={`/tickets/${r.id}`}>#{r.id}</Link> },
    { title: t('tickets.desk.queue.ticketTitle'), dataIndex: 'title', ellipsis: true },
    { title: t('tickets.desk.queue.priority'), dataIndex: 'priority', width: 80, render: (v: string) => <PriorityTag priority={v} /> },
    { title: t('tickets.desk.queue.status'), dataIndex: 'status', width: 110, render: (v: string) => <StatusTag status={v} /> },
    { title: t('tickets.desk.queue.slaDue'), key: 'sla', width: 190, render: (_, r) => <SlaCountdown ticket={r} clock={queueClock(r, now)} now={now} label /> },
  ]
  return (
    <Card
      size="small"
      title={t('tickets.desk.dashboard.breachingList')}
      extra={
        <Link to="/tickets?view=breaching" data-testid="dashboard-breaching-all">
          {t('tickets.desk.queue.tabBreaching')}
        </Link>
      }
    >
      <Table<Ticket>
        rowKey="id"
        size="small"
        columns={columns}
        dataSource={tickets.data?.items ?? []}
        loading={tickets.isLoading}
        pagination={false}
        data-testid="dashboard-breaching"
        onRow={(r) => ({ onClick: () => navigate(`/tickets/${r.id}`), style: { cursor: 'pointer' } })}
        locale={{ emptyText: <Empty image={Empty.PRESENTED_IMAGE_SIMPLE} description={t('tickets.desk.dashboard.breachingEmpty')} /> }}
      />
    </Card>
  )
}
