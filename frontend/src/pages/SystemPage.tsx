import { CheckCircleOutlined, ReloadOutlined } from '@ant-design/icons'
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query'
import { Alert, App, Badge, Button, Card, Col, Empty, Flex, Popconfirm, Row, Segmented, Space, Statistic, Switch, Table, Tag, Tooltip, Typography } from 'antd'
import type { TableColumnsType } from 'antd'
import { lazy, Suspense, useEffect, useState } from 'react'
import { useTranslation } from 'react-i18next'
import {
  getSystemOverview,
  listDeadLetters,
  listTimers,
  probe,
  replayDeadLetter,
  type DeadLetter,
  type DeadLetterKind,
  type TimerInfo,
  type WorkerInfo,
} from '../api'
import { useAuth } from '../auth/AuthContext'
import { PERM } from '../auth/permissions'
import type { BacklogSample } from '../components/BacklogChart'
import { JsonBlock } from '../components/JsonBlock'
import { LoadMore } from '../components/LoadMore'
import { PageHeader } from '../components/PageHeader'
import { ErrorState } from '../components/states'
import { useApiError } from '../components/useApiError'
import { useCursorList } from '../components/useCursorList'
import { formatDateTime, formatRelative, formatTime } from '../utils/format'
import { tid } from '../utils/testid'

const BacklogChart = lazy(() => import('../components/BacklogChart'))
const REFRESH_MS = 5000
const MAX_SAMPLES = 60

function Stat({ title, value, testId, alert }: { title: string; value: number | undefined; testId: string; alert?: boolean }) {
  return (
    <Statistic
      title={title}
      value={value ?? '—'}
      valueStyle={alert && value ? { color: '#cf1322' } : undefined}
      valueRender={(node) => (
        <span data-testid={testId} data-value={value ?? ''}>
          {node}
        </span>
      )}
    />
  )
}

export default function SystemPage() {
  const { t } = useTranslation()
  const { can } = useAuth()
  const canReplay = can(PERM.systemManage)
  const queryClient = useQueryClient()
  const { message } = App.useApp()
  const showError = useApiError()
  const [auto, setAuto] = useState(true)
  const [kind, setKind] = useState<DeadLetterKind>('event')
  const [samples, setSamples] = useState<BacklogSample[]>([])
  const interval = auto ? REFRESH_MS : false

  const overview = useQuery({ queryKey: ['system', 'overview'], queryFn: getSystemOverview, refetchInterval: interval })
  const health = useQuery({
    queryKey: ['system', 'health'],
    queryFn: async () => ({ healthz: await probe('/healthz'), readyz: await probe('/readyz') }),
    refetchInterval: interval,
  })
  const dead = useCursorList(['system', 'dead-letters', kind], (cursor) => listDeadLetters(kind, { limit: 20, cursor }), {
    refetchInterval: interval,
  })
  const timers = useQuery({ queryKey: ['system', 'timers'], queryFn: () => listTimers({ limit: 20 }), refetchInterval: interval })

  const o = overview.data
  useEffect(() => {
    if (!o) return
    setSamples((prev) =>
      [...prev, { time: formatTime(new Date(overview.dataUpdatedAt)), pending: o.outbox.pending, processing: o.outbox.processing, dead: o.outbox.dead }].slice(
        -MAX_SAMPLES,
      ),
    )
  }, [o, overview.dataUpdatedAt])

  const replay = useMutation({
    mutationFn: (d: DeadLetter) => replayDeadLetter(d.kind ?? kind, d.id),
    onSuccess: () => {
      void message.success(t('system.replayed'))
      void queryClient.invalidateQueries({ queryKey: ['system'] })
    },
    onError: (e) => showError(e),
  })

  const refreshAll = () => void queryClient.invalidateQueries({ queryKey: ['system'] })

  if (overview.error && !o) return <ErrorState error={overview.error} onRetry={() => void overview.refetch()} />

  const workerColumns: TableColumnsType<WorkerInfo> = [
    {
      title: t('common.status'),
      dataIndex: 'alive',
      width: 100,
      render: (v: boolean, w) => (
        <span data-testid={`worker-alive-${w.worker_id}`} data-alive={v ? 'true' : 'false'}>
          <Badge status={v ? 'success' : 'error'} text={v ? t('system.alive') : t('system.offline')} />
        </span>
      ),
    },
    { title: t('system.workerId'), dataIndex: 'worker_id', render: (v: string) => <Typography.Text code>{v}</Typography.Text> },
    { title: t('system.hostname'), dataIndex: 'hostname' },
    { title: t('system.pid'), dataIndex: 'pid' },
    { title: t('system.mode'), dataIndex: 'mode', render: (v: string) => <Tag>{v}</Tag> },
    { title: t('system.startedAt'), dataIndex: 'started_at', render: (v: string) => formatDateTime(v) },
    {
      title: t('system.lastBeat'),
      dataIndex: 'last_beat_at',
      render: (v: string) => <Tooltip title={formatDateTime(v)}>{formatRelative(v)}</Tooltip>,
    },
    { title: t('system.processed'), dataIndex: 'processed_total', align: 'right' },
  ]

  const kindLabel = kind === 'event' ? t('system.kindEvent') : t('system.kindTimer')
  const deadColumns: TableColumnsType<DeadLetter> = [
    { title: 'ID', dataIndex: 'id', width: 80 },
    { title: t('system.name'), dataIndex: 'name', render: (v: string) => <Typography.Text strong>{v}</Typography.Text> },
    { title: t('system.handler'), dataIndex: 'handler', render: (v?: string | null) => (v ? <Typography.Text code>{v}</Typography.Text> : '—') },
    { title: t('system.attempts'), dataIndex: 'attempts', width: 100, align: 'right' },
    {
      title: t('system.lastError'),
      dataIndex: 'last_error',
      ellipsis: { showTitle: false },
      render: (v?: string | null) =>
        v ? (
          <Tooltip title={<span style={{ whiteSpace: 'pre-wrap' }}>{v}</span>} styles={{ root: { maxWidth: 560 } }}>
            <Typography.Text type="danger">{v}</Typography.Text>
          </Tooltip>
        ) : (
          '—'
        ),
    },
    { title: t('system.failedAt'), dataIndex: 'failed_at', width: 190, render: (v?: string | null) => formatDateTime(v) },
  ]
  if (canReplay) {
    deadColumns.push({
      title: t('common.actions'),
      key: 'actions',
      width: 120,
      render: (_, d) => (
        <Popconfirm
          title={t('system.replayConfirm', { kind: kind === 'event' ? t('system.kindEvent') : t('system.kindTimer') })}
          description={t('system.replayHint')}
          okText={t('system.replay')}
          okButtonProps={tid('confirm-ok')}
          onConfirm={() => replay.mutateAsync(d).catch(() => undefined)}
        >
          <Button size="small" loading={replay.isPending && replay.variables?.id === d.id} data-testid={`dead-letter-replay-${d.id}`}>
            {t('system.replay')}
          </Button>
        </Popconfirm>
      ),
    })
  }

  const timerColumns: TableColumnsType<TimerInfo> = [
    { title: 'ID', dataIndex: 'id', width: 80 },
    { title: t('system.kind'), dataIndex: 'kind', render: (v: string) => <Tag>{v}</Tag> },
    { title: t('system.key'), dataIndex: 'key', ellipsis: true },
    {
      title: t('system.dueAt'),
      dataIndex: 'due_at',
      render: (v: string) => (
        <Tooltip title={formatDateTime(v)}>
          <span>{formatRelative(v)}</span>
        </Tooltip>
      ),
    },
    { title: t('common.status'), dataIndex: 'status', render: (v: string) => <Tag>{v}</Tag> },
    { title: t('system.attempts'), dataIndex: 'attempts', align: 'right' },
  ]

  const probeBadge = (label: string, ok: boolean | undefined, testId: string) => (
    <span data-testid={testId} data-ok={ok === undefined ? '' : String(ok)}>
      <Badge status={ok === undefined ? 'processing' : ok ? 'success' : 'error'} text={label} />
    </span>
  )

  return (
    <>
      <PageHeader
        title={t('system.title')}
        extra={
          <Flex align="center" gap={12}>
            {probeBadge('/healthz', health.data?.healthz, 'system-health')}
            {probeBadge('/readyz', health.data?.readyz, 'system-ready')}
            {overview.dataUpdatedAt ? (
              <Typography.Text type="secondary" data-testid="system-updated-at">
                {t('system.updatedAt', { time: formatTime(new Date(overview.dataUpdatedAt)) })}
              </Typography.Text>
            ) : null}
            <Space>
              <Switch checked={auto} onChange={setAuto} size="small" data-testid="system-auto-refresh" />
              <span>{t('system.autoRefresh')}</span>
            </Space>
            <Button icon={<ReloadOutlined />} onClick={refreshAll} loading={overview.isFetching && !auto} data-testid="system-refresh">
              {t('common.refresh')}
            </Button>
          </Flex>
        }
      />
      {overview.error && o ? (
        <Alert type="warning" showIcon style={{ marginBottom: 16 }} message={t('errors.loadFailed')} description={(overview.error as Error).message} />
      ) : null}
      <Row gutter={[16, 16]}>
        <Col xs={24} xl={10}>
          <Card title={t('system.outbox')} className="stat-card" loading={!o} data-testid="system-outbox">
            <Row gutter={16}>
              <Col span={6}>
                <Stat title={t('system.pending')} value={o?.outbox.pending} testId="system-outbox-pending" />
              </Col>
              <Col span={6}>
                <Stat title={t('system.processing')} value={o?.outbox.processing} testId="system-outbox-processing" />
              </Col>
              <Col span={6}>
                <Stat title={t('system.dead')} value={o?.outbox.dead} testId="system-outbox-dead" alert />
              </Col>
              <Col span={6}>
                <Stat title={t('system.doneLastHour')} value={o?.outbox.done_last_hour} testId="system-outbox-done" />
              </Col>
            </Row>
          </Card>
        </Col>
        <Col xs={24} md={14} xl={8}>
          <Card title={t('system.timers')} className="stat-card" loading={!o} data-testid="system-timers">
            <Row gutter={16}>
              <Col span={7}>
                <Stat title={t('system.scheduled')} value={o?.timers.scheduled} testId="system-timers-scheduled" />
              </Col>
              <Col span={7}>
                <Stat title={t('system.overdue')} value={o?.timers.overdue} testId="system-timers-overdue" alert />
              </Col>
              <Col span={10}>
                <Tooltip title={formatDateTime(o?.timers.next_due_at)}>
                  <Statistic
                    title={t('system.nextDue')}
                    value={o?.timers.next_due_at ? formatRelative(o.timers.next_due_at) : '—'}
                    valueStyle={{ fontSize: 18, lineHeight: '38px' }}
                    valueRender={(node) => (
                      <span data-testid="system-timers-next-due" data-value={o?.timers.next_due_at ?? ''}>
                        {node}
                      </span>
                    )}
                  />
                </Tooltip>
              </Col>
            </Row>
          </Card>
        </Col>
        <Col xs={24} md={10} xl={6}>
          <Card title={t('system.inbox')} className="stat-card" loading={!o} data-testid="system-inbox">
            <Row gutter={16}>
              <Col span={12}>
                <Stat title={t('system.received')} value={o?.inbox.received} testId="system-inbox-received" />
              </Col>
              <Col span={12}>
                <Stat title={t('system.failed')} value={o?.inbox.failed} testId="system-inbox-failed" alert />
              </Col>
            </Row>
          </Card>
        </Col>
        <Col xs={24}>
          <Card title={t('system.trend')} size="small" data-testid="system-trend">
            {samples.length > 1 ? (
              <Suspense fallback={<div style={{ height: 220 }} />}>
                <BacklogChart
                  samples={samples}
                  labels={{ pending: t('system.pending'), processing: t('system.processing'), dead: t('system.dead') }}
                />
              </Suspense>
            ) : (
              <Flex align="center" justify="center" style={{ height: 120 }}>
                <Typography.Text type="secondary">{t('system.trendEmpty')}</Typography.Text>
              </Flex>
            )}
          </Card>
        </Col>
        <Col xs={24}>
          <Card title={t('system.workers')}>
            <Table<WorkerInfo>
              rowKey="worker_id"
              columns={workerColumns}
              dataSource={o?.workers ?? []}
              loading={!o}
              pagination={false}
              size="small"
              scroll={{ x: 900 }}
              data-testid="workers-table"
              locale={{
                emptyText: <Alert type="warning" showIcon message={t('system.workersEmpty')} data-testid="workers-empty" />,
              }}
            />
          </Card>
        </Col>
        <Col xs={24}>
          <Card
            title={
              <Space>
                {t('system.deadLetters')}
                {o?.outbox.dead ? <Badge count={o.outbox.dead} overflowCount={9999} /> : null}
              </Space>
            }
            extra={
              <Segmented<DeadLetterKind>
                value={kind}
                onChange={setKind}
                data-testid="dead-letter-kind"
                options={[
                  { value: 'event', label: <span data-testid="dead-letter-kind-event">{t('system.kindEvent')}</span> },
                  { value: 'timer', label: <span data-testid="dead-letter-kind-timer">{t('system.kindTimer')}</span> },
                ]}
              />
            }
          >
            <Typography.Paragraph type="secondary">{t('system.deadLettersHint')}</Typography.Paragraph>
            {dead.error && !dead.items.length ? (
              <ErrorState error={dead.error} onRetry={() => void dead.refetch()} />
            ) : (
              <>
                <Table<DeadLetter>
                  rowKey={(d) => `${d.kind ?? kind}-${d.id}`}
                  columns={deadColumns}
                  dataSource={dead.items}
                  loading={dead.isLoading}
                  pagination={false}
                  size="small"
                  scroll={{ x: 900 }}
                  data-testid="dead-letter-table"
                  aria-label={kindLabel}
                  expandable={{ expandedRowRender: (d) => <JsonBlock value={d.payload} testId={`dead-letter-payload-${d.id}`} /> }}
                  locale={{
                    emptyText: (
                      <Empty
                        image={<CheckCircleOutlined style={{ fontSize: 40, color: '#52c41a' }} />}
                        styles={{ image: { height: 48 } }}
                        description={t('system.deadEmpty')}
                        data-testid="dead-letter-empty"
                      />
                    ),
                  }}
                />
                <LoadMore
                  hasMore={!!dead.hasNextPage}
                  loading={dead.isFetchingNextPage}
                  onLoad={() => void dead.fetchNextPage()}
                  count={dead.items.length}
                  testId="dead-letter-load-more"
                />
              </>
            )}
          </Card>
        </Col>
        <Col xs={24}>
          <Card title={t('system.upcoming')}>
            <Table<TimerInfo>
              rowKey="id"
              columns={timerColumns}
              dataSource={timers.data?.items ?? []}
              loading={timers.isLoading}
              pagination={false}
              size="small"
              data-testid="timers-table"
              locale={{ emptyText: <Empty image={Empty.PRESENTED_IMAGE_SIMPLE} description={t('system.timersEmpty')} /> }}
            />
          </Card>
        </Col>
      </Row>
    </>
  )
}
