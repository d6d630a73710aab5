import {
  ArrowLeftOutlined,
  CheckCircleFilled,
  CloseCircleFilled,
  CloudSyncOutlined,
  EditOutlined,
  PoweroffOutlined,
  ReloadOutlined,
  SyncOutlined,
  ThunderboltOutlined,
} from '@ant-design/icons'
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query'
import { Alert, App, Button, Card, Col, Descriptions, Empty, Flex, Popconfirm, Row, Space, Table, Tag, Tooltip, Typography } from 'antd'
import type { TableColumnsType } from 'antd'
import { useCallback, useState } from 'react'
import { useTranslation } from 'react-i18next'
import { Link, useParams } from 'react-router-dom'
import {
  disableConnection,
  getConnection,
  listJobs,
  startSync,
  syncShopNow,
  testConnection,
  updateConnection,
  type Connection,
  type ConnectionTestResult,
  type Job,
  type SyncMode,
} from '../api'
import { useAuth } from '../auth/AuthContext'
import { PERM } from '../auth/permissions'
import { CallbackCredentials, ConnectionStatusBadge, WecomConnectionModal } from '../components/connections'
import { isShopPlatform, ShopCallback, ShopConnectionInfo, ShopConnectionModal } from '../components/shopConnection'
import { JsonBlock } from '../components/JsonBlock'
import { isJobActive, JobProgress, JobStatusTag, useJob, useJobTitle } from '../components/JobProgress'
import { LoadMore } from '../components/LoadMore'
import { PageHeader } from '../components/PageHeader'
import { ErrorState, NotFound, PageLoading } from '../components/states'
import { useApiError } from '../components/useApiError'
import { useCursorList } from '../components/useCursorList'
import { formatDateTime } from '../utils/format'
import { tid } from '../utils/testid'
import { PlatformTag } from './ConnectionsPage'

export default function ConnectionDetailPage() {
  const { id: idParam } = useParams()
  const id = Number(idParam)
  const { t } = useTranslation()
  const { can } = useAuth()
  const manage = can(PERM.connectionsManage)
  const queryClient = useQueryClient()
  const { message } = App.useApp()
  const showError = useApiError()
  const [editing, setEditing] = useState(false)
  const [testResult, setTestResult] = useState<ConnectionTestResult | null>(null)
  const [startedJob, setStartedJob] = useState<Job | null>(null)
  const jobTitle = useJobTitle()

  const conn = useQuery({ queryKey: ['connection', id], queryFn: () => getConnection(id), enabled: Number.isInteger(id) && id > 0 })
  const jobs = useCursorList(['jobs', 'connection', id], (cursor) => listJobs({ connection_id: id, limit: 10, cursor }), {
    enabled: Number.isInteger(id) && id > 0,
  })

  const refreshAfterJob = useCallback(
    (job: Job) => {
      void queryClient.invalidateQueries({ queryKey: ['jobs', 'connection', id] })
      void queryClient.invalidateQueries({ queryKey: ['connection', id] })
      void queryClient.invalidateQueries({ queryKey: ['connections'] })
      if (job.status === 'succeeded') {
        // what a sync changes
        void queryClient.invalidateQueries({ queryKey: ['customers'] })
        void queryClient.invalidateQueries({ queryKey: ['wecom-staff'] })
        void queryClient.invalidateQueries({ queryKey: ['wecom-departments'] })
        void queryClient.invalidateQueries({ queryKey: ['tags'] })
      }
    },
    [queryClient, id],
  )

  const test = useMutation({
    mutationFn: () => testConnection(id),
    onMutate: () => setTestResult(null),
    onSuccess: (r) => {
      setTestResult(r)
      void queryClient.invalidateQueries({ queryKey: ['connection', id] })
    },
    onError: (e) => showError(e),
  })
  const sync = useMutation({
    mutationFn: (mode: SyncMode) => startSync(id, mode),
    onSuccess: (job) => {
      setStartedJob(job)
      queryClient.setQueryData(['job', job.id], job)
      void queryClient.invalidateQueries({ queryKey: ['jobs', 'connection', id] })
    },
    onError: (e) => showError(e),
  })
  const shopSync = useMutation({
    mutationFn: () => syncShopNow(id),
    onSuccess: () => {
      void message.success(t('commerce.shops.syncQueued', { name: conn.data?.name ?? '' }))
      void queryClient.invalidateQueries({ queryKey: ['commerce', 'shops'] })
    },
    onError: (e) => showError(e),
  })
  const setStatus = useMutation({
    mutationFn: (enable: boolean) => (enable ? updateConnection(id, { status: 'active' }) : disableConnection(id)),
    onSuccess: (c, enable) => {
      queryClient.setQueryData(['connection', id], c)
      void queryClient.invalidateQueries({ queryKey: ['connections'] })
      void message.success(enable ? t('connections.enabled') : t('connections.disabled'))
    },
    onError: (e) => showError(e),
  })

  // the job on show: the one just started, else the newest of this connection
  const shownJob = startedJob ?? jobs.items[0] ?? null
  const live = useJob(shownJob?.id, shownJob ?? undefined)
  const running = isJobActive(live.data) || sync.isPending

  if (!Number.isInteger(id) || id <= 0) return <NotFound />
  if (conn.isLoading) return <PageLoading />
  if (conn.error || !conn.data) return <ErrorState error={conn.error} onRetry={() => void conn.refetch()} />
  const c: Connection = conn.data
  const cfg = c.config as Record<string, unknown>
  const disabled = c.status === 'disabled'
  const shop = isShopPlatform(c.platform)

  const secretFlag = (has: unknown) =>
    has ? (
      <Tag color="green" icon={<CheckCircleFilled />}>
        {t('connections.secretSet')}
      </Tag>
    ) : (
      <Tag>{t('connections.secretUnset')}</Tag>
    )

  const jobColumns: TableColumnsType<Job> = [
    { title: 'ID', dataIndex: 'id', width: 70 },
    { title: t('jobs.kind'), dataIndex: 'title', render: (_, j) => jobTitle(j) },
    { title: t('common.status'), dataIndex: 'status', width: 100, render: (v: string, j) => <JobStatusTag status={v} testId={`job-row-status-${j.id}`} /> },
    {
      title: t('jobs.progress'),
      key: 'progress',
      width: 120,
      render: (_, j) => (j.progress_total ? `${j.progress_done}/${j.progress_total}` : j.progress_done || '—'),
    },
    {
      title: t('jobs.message'),
      key: 'message',
      ellipsis: true,
      render: (_, j) => (j.error ? <Typography.Text type="danger">{j.error}</Typography.Text> : (j.message ?? '—')),
    },
    { title: t('jobs.createdBy'), dataIndex: 'created_by', width: 160, ellipsis: true, render: (v?: string | null) => v || '—' },
    { title: t('jobs.createdAt'), dataIndex: 'created_at', width: 170, render: (v: string) => formatDateTime(v) },
    { title: t('jobs.finishedAt'), dataIndex: 'finished_at', width: 170, render: (v?: string | null) => formatDateTime(v) },
  ]

  return (
    <>
      <Link to="/settings/connections" data-testid="connection-back">
        <ArrowLeftOutlined /> {t('connections.title')}
      </Link>
      <div style={{ height: 8 }} />
      <PageHeader
        title={
          <Space>
            <span data-testid="connection-name">{c.name}</span>
            <PlatformTag platform={c.platform} />
            <ConnectionStatusBadge status={c.status} testId="connection-status" />
          </Space>
        }
        extra={
          manage ? (
            <>
              <Button icon={<ThunderboltOutlined />} onClick={() => test.mutate()} loading={test.isPending} data-testid="connection-test">
                {t('connections.test')}
              </Button>
              <Button icon={<EditOutlined />} onClick={() => setEditing(true)} data-testid="connection-edit">
                {t('common.edit')}
              </Button>
              {disabled ? (
                <Button icon={<PoweroffOutlined />} onClick={() => setStatus.mutate(true)} loading={setStatus.isPending} data-testid="connection-enable">
                  {t('connections.enable')}
                </Button>
              ) : (
                <Popconfirm
                  title={t('connections.disableConfirm', { name: c.name })}
                  description={<div style={{ maxWidth: 320 }}>{t('connections.disableHint')}</div>}
                  okText={t('connections.disable')}
                  okButtonProps={{ danger: true, ...tid('confirm-ok') }}
                  onConfirm={() => setStatus.mutateAsync(false).catch(() => undefined)}
                >
                  <Button danger icon={<PoweroffOutlined />} loading={setStatus.isPending} data-testid="connection-disable">
                    {t('connections.disable')}
                  </Button>
                </Popconfirm>
              )}
            </>
          ) : (
            <Button icon={<ReloadOutlined />} onClick={() => void conn.refetch()}>
              {t('common.refresh')}
            </Button>
          )
        }
      />
      {disabled ? <Alert type="warning" showIcon style={{ marginBottom: 16 }} message={t('connections.disabledHint')} data-testid="connection-disabled-hint" /> : null}
      {c.last_error && !(testResult && !testResult.ok) ? (
        <Alert
          type="error"
          showIcon
          style={{ marginBottom: 16 }}
          message={t('connections.lastErrorAt', { time: formatDateTime(c.last_error_at) })}
          description={<span style={{ whiteSpace: 'pre-wrap' }}>{c.last_error}</span>}
          data-testid="connection-last-error"
        />
      ) : null}
      {testResult ? (
        <Alert
          type={testResult.ok ? 'success' : 'error'}
          showIcon
          icon={testResult.ok ? <CheckCircleFilled /> : <CloseCircleFilled />}
          closable
          onClose={() => setTestResult(null)}
          style={{ marginBottom: 16 }}
          message={
            <span data-testid="connection-test-result" data-ok={String(testResult.ok)}>
              {testResult.ok ? t('connections.testOk') : t('connections.testFailed')}
              <Typography.Text type="secondary" style={{ marginLeft: 8 }} data-testid="connection-test-latency">
                {t('connections.latency', { ms: Math.round(testResult.latency_ms) })}
              </Typography.Text>
            </span>
          }
          description={<span data-testid="connection-test-detail">{testResult.detail}</span>}
        />
      ) : null}
      <Row gutter={[16, 16]}>
        <Col xs={24} xl={10}>
          <Card title={t('connections.info')} data-testid="connection-info">
            {shop ? (
              <ShopConnectionInfo
                connection={c}
                extra={[
                  { key: 'created', label: t('common.createdAt'), children: formatDateTime(c.created_at) },
                  { key: 'updated', label: t('connections.updatedAt'), children: formatDateTime(c.updated_at) },
                ]}
              />
            ) : (
              <Descriptions
                column={1}
                size="small"
                styles={{ label: { width: 180 } }}
                items={[
                  { key: 'corp', label: 'CorpID', children: <Typography.Text code copyable>{String(cfg.corp_id ?? '—')}</Typography.Text> },
                  { key: 'contact', label: t('connections.contactSecret'), children: secretFlag(cfg.has_contact_secret) },
                  { key: 'agent', label: 'AgentId', children: cfg.agent_id != null ? String(cfg.agent_id) : <span className="muted">{t('connections.noApp')}</span> },
                  { key: 'app', label: t('connections.appSecret'), children: secretFlag(cfg.has_app_secret) },
                  { key: 'api', label: t('connections.api_base_url'), children: String(cfg.api_base_url ?? t('connections.default')) },
                  {
                    key: 'rate',
                    label: t('connections.rateLimits'),
                    children: t('connections.rateValue', {
                      minute: cfg.rate_limit_per_minute ?? 10000,
                      hour: cfg.rate_limit_per_hour ?? 150000,
                    }),
                  },
                  { key: 'created', label: t('common.createdAt'), children: formatDateTime(c.created_at) },
                  { key: 'updated', label: t('connections.updatedAt'), children: formatDateTime(c.updated_at) },
                ]}
              />
            )}
          </Card>
        </Col>
        <Col xs={24} xl={14}>
          <Card title={shop ? t('commerce.shops.callbackUrl') : t('connections.callbackTitle')} data-testid="connection-callback-card">
            {shop ? <ShopCallback connection={c} /> : <CallbackCredentials connection={c} />}
          </Card>
        </Col>
        <Col xs={24}>
          <Card
            title={
              <Space>
                <CloudSyncOutlined />
                {shop ? t('commerce.connect.shopSync') : t('connections.syncTitle')}
              </Space>
            }
            extra={
              shop ? (
                <Space>
                  <Link to="/commerce/shops" data-testid="connection-shops-link">
                    {t('commerce.connect.openShops')}
                  </Link>
                  {can(PERM.shopsManage) ? (
                    <Button
                      icon={<SyncOutlined />}
                      disabled={disabled}
                      loading={shopSync.isPending}
                      onClick={() => shopSync.mutate()}
                      data-testid="connection-shop-sync"
                    >
                      {t('commerce.shops.syncNow')}
                    </Button>
                  ) : null}
                </Space>
              ) : manage ? (
                <Space>
                  <Tooltip title={disabled ? t('connections.disabledHint') : t('connections.syncIncrementalHelp')}>
                    <Button
                      icon={<SyncOutlined />}
                      disabled={disabled || running}
                      loading={sync.isPending && sync.variables === 'incremental'}
                      onClick={() => sync.mutate('incremental')}
                      data-testid="connection-sync-incremental"
                    >
                      {t('connections.syncIncremental')}
                    </Button>
                  </Tooltip>
                  <Tooltip title={disabled ? t('connections.disabledHint') : t('connections.syncFullHelp')}>
                    <Button
                      type="primary"
                      icon={<CloudSyncOutlined />}
                      disabled={disabled || running}
                      loading={sync.isPending && sync.variables === 'full'}
                      onClick={() => sync.mutate('full')}
                      data-testid="connection-sync-full"
                    >
                      {t('connections.syncFull')}
                    </Button>
                  </Tooltip>
                </Space>
              ) : null
            }
            data-testid="connection-sync-card"
          >
            {shop ? (
              <Typography.Paragraph type="secondary">{t('commerce.connect.shopSyncHint')}</Typography.Paragraph>
            ) : null}
            {shownJob ? (
              <JobProgress key={shownJob.id} jobId={shownJob.id} initial={shownJob} onSettled={refreshAfterJob} />
            ) : jobs.isLoading ? null : (
              <Empty image={Empty.PRESENTED_IMAGE_SIMPLE} description={t('connections.noJobs')} data-testid="connection-no-jobs" />
            )}
            <Flex justify="space-between" align="center" style={{ margin: '24px 0 8px' }}>
              <Typography.Text strong>{t('connections.jobHistory')}</Typography.Text>
              <Button size="small" type="text" icon={<ReloadOutlined />} onClick={() => void jobs.refetch()} data-testid="connection-jobs-refresh">
                {t('common.refresh')}
              </Button>
            </Flex>
            <Table<Job>
              rowKey="id"
              size="small"
              columns={jobColumns}
              dataSource={jobs.items}
              loading={jobs.isLoading}
              pagination={false}
              scroll={{ x: 1000 }}
              data-testid="connection-jobs-table"
              onRow={(j) => ({ ...tid(`job-row-${j.id}`) })}
              expandable={{
                rowExpandable: (j) => !!(j.result || j.error),
                expandedRowRender: (j) => <JsonBlock value={j.error ? { error: j.error, result: j.result } : j.result} />,
              }}
              locale={{ emptyText: <Empty image={Empty.PRESENTED_IMAGE_SIMPLE} description={t('connections.noJobs')} /> }}
            />
            <LoadMore
              hasMore={!!jobs.hasNextPage}
              loading={jobs.isFetchingNextPage}
              onLoad={() => void jobs.fetchNextPage()}
              count={jobs.items.length}
              testId="connection-jobs-load-more"
            />
          </Card>
        </Col>
      </Row>
      {editing && shop ? (
        <ShopConnectionModal
          connection={c}
          onClose={() => setEditing(false)}
          onDone={(saved) => {
            setEditing(false)
            queryClient.setQueryData(['connection', id], saved)
          }}
        />
      ) : editing ? (
        <WecomConnectionModal
          connection={c}
          onClose={() => setEditing(false)}
          onDone={(saved) => {
            setEditing(false)
            queryClient.setQueryData(['connection', id], saved)
          }}
        />
      ) : null}
    </>
  )
}
