import { ApiOutlined, CloudDownloadOutlined, HistoryOutlined, PlusOutlined, ReloadOutlined, SyncOutlined } from '@ant-design/icons'
import { useMutation, useQueryClient } from '@tanstack/react-query'
import { App, Button, Card, DatePicker, Empty, Form, Modal, Space, Table, Tag, Tooltip, Typography } from 'antd'
import type { TableColumnsType } from 'antd'
import dayjs, { type Dayjs } from 'dayjs'
import { useState } from 'react'
import { useTranslation } from 'react-i18next'
import { Link } from 'react-router-dom'
import { ApiError, backfillShop, syncShopNow, testConnection, type Connection, type ConnectionTestResult, type Job, type ShopHealth } from '../api'
import { useAuth } from '../auth/AuthContext'
import { PERM } from '../auth/permissions'
import { HealthBadge, ShopPlatformTag, useShops } from '../components/commerce'
import { CopyField } from '../components/CopyField'
import { isJobActive, JobProgress, JobStatusTag } from '../components/JobProgress'
import { PageHeader } from '../components/PageHeader'
import { CHANNEL_PLATFORMS, ShopConnectionCreated, ShopConnectionModal } from '../components/shopConnection'
import { ErrorState } from '../components/states'
import { fieldErrorText, useApiError } from '../components/useApiError'
import { formatDateTime, formatDuration, formatRelative } from '../utils/format'
import { tid } from '../utils/testid'

const REFRESH_MS = 5_000

export default function ShopsPage() {
  const { t } = useTranslation()
  const { can } = useAuth()
  const { message } = App.useApp()
  const showError = useApiError()
  const queryClient = useQueryClient()
  const manageShops = can(PERM.shopsManage)
  const manageConnections = can(PERM.connectionsManage)
  const shops = useShops(REFRESH_MS)
  const [creating, setCreating] = useState(false)
  const [created, setCreated] = useState<Connection | null>(null)
  const [backfilling, setBackfilling] = useState<ShopHealth | null>(null)
  const [watching, setWatching] = useState<{ shop: ShopHealth; job: Job } | null>(null)
  const [tests, setTests] = useState<Record<number, ConnectionTestResult>>({})

  const sync = useMutation({
    mutationFn: (s: ShopHealth) => syncShopNow(s.connection_id),
    onSuccess: (_, s) => {
      void message.success(t('commerce.shops.syncQueued', { name: s.name }))
      window.setTimeout(() => void queryClient.invalidateQueries({ queryKey: ['commerce', 'shops'] }), 1000)
    },
    onError: (e) => showError(e),
  })
  const test = useMutation({
    mutationFn: (s: ShopHealth) => testConnection(s.connection_id),
    onSuccess: (r, s) => {
      setTests((prev) => ({ ...prev, [s.connection_id]: r }))
      if (r.ok) void message.success(t('commerce.shops.testOk', { ms: Math.round(r.latency_ms) }))
      else void message.error(t('commerce.shops.testFailed', { detail: r.detail }))
    },
    onError: (e) => showError(e),
  })

  const columns: TableColumnsType<ShopHealth> = [
    {
      title: t('commerce.shops.name'),
      key: 'name',
      width: 230,
      fixed: 'left',
      render: (_, s) => (
        <span>
          <div>
            {can(PERM.connectionsView) ? (
              <Link to={`/settings/connections/${s.connection_id}`} data-testid={`shop-name-${s.connection_id}`}>
                {s.name}
              </Link>
            ) : (
              <span data-testid={`shop-name-${s.connection_id}`}>{s.name}</span>
            )}
          </div>
          <Space size={0} wrap style={{ marginTop: 4 }}>
            <ShopPlatformTag platform={s.platform} testId={`shop-platform-${s.connection_id}`} />
            <Tooltip title={t('commerce.shops.shopId')}>
              <Typography.Text type="secondary" style={{ fontSize: 12, fontFamily: 'monospace' }} data-testid={`shop-external-id-${s.connection_id}`}>
                {s.external_id || '—'}
              </Typography.Text>
            </Tooltip>
          </Space>
        </span>
      ),
    },
    {
      title: t('commerce.shops.health'),
      key: 'health',
      width: 150,
      render: (_, s) => (
        <span>
          <HealthBadge health={s.health} testId={`shop-health-${s.connection_id}`} />
          <Typography.Text type="secondary" style={{ display: 'block', fontSize: 12 }}>
            {t('commerce.shops.lag')}{' '}
            {s.lag_seconds == null ? (
              <span data-testid={`shop-lag-${s.connection_id}`}>—</span>
            ) : (
              <Tooltip title={t('commerce.shops.lagHint', { time: formatDateTime(s.cursor_at) })}>
                <span data-testid={`shop-lag-${s.connection_id}`} data-seconds={Math.round(s.lag_seconds)}>
                  {formatDuration(s.lag_seconds)}
                </span>
              </Tooltip>
            )}
          </Typography.Text>
        </span>
      ),
    },
    {
      title: `${t('commerce.shops.lastPull')} / ${t('commerce.shops.lastPush')}`,
      key: 'pull',
      width: 210,
      render: (_, s) => (
        <span>
          <span data-testid={`shop-last-pull-${s.connection_id}`}>
            <Tooltip title={formatDateTime(s.last_pull_at)}>
              <span>
                {t('commerce.shops.lastPull')} {formatRelative(s.last_pull_at, t('common.never'))}
              </span>
            </Tooltip>
            {s.last_pull_ok_at && s.last_pull_ok_at !== s.last_pull_at ? (
              <Typography.Text type="secondary" style={{ display: 'block', fontSize: 12 }}>
                {t('commerce.shops.lastPullOk', { time: formatRelative(s.last_pull_ok_at) })}
              </Typography.Text>
            ) : null}
            {s.last_pull_error ? (
              <Tooltip title={<span style={{ whiteSpace: 'pre-wrap' }}>{s.last_pull_error}</span>}>
                <Typography.Text type="danger" ellipsis style={{ display: 'block', maxWidth: 200, fontSize: 12 }} data-testid={`shop-last-error-${s.connection_id}`}>
                  {s.consecutive_failures ? `${t('commerce.shops.failures', { count: s.consecutive_failures })} · ` : ''}
                  {s.last_pull_error}
                </Typography.Text>
              </Tooltip>
            ) : null}
          </span>
          <Typography.Text type="secondary" style={{ display: 'block', fontSize: 12 }}>
            {t('commerce.shops.lastPush')}{' '}
            <Tooltip title={formatDateTime(s.last_push_at)}>
              <span data-testid={`shop-last-push-${s.connection_id}`}>{formatRelative(s.last_push_at, '—')}</span>
            </Tooltip>
          </Typography.Text>
        </span>
      ),
    },
    {
      title: t('commerce.shops.breaker'),
      key: 'breaker',
      width: 120,
      render: (_, s) => (
        <span data-testid={`shop-breaker-${s.connection_id}`} data-state={s.breaker}>
          <Tag color={s.breaker === 'open' ? 'red' : s.breaker === 'half_open' ? 'orange' : 'green'}>
            {t(`commerce.breaker.${s.breaker}`, { defaultValue: s.breaker })}
          </Tag>
          {s.breaker === 'open' && s.breaker_open_until ? (
            <Typography.Text type="secondary" style={{ display: 'block', fontSize: 12 }}>
              {t('commerce.breakerUntil', { time: formatDateTime(s.breaker_open_until) })}
            </Typography.Text>
          ) : null}
        </span>
      ),
    },
    {
      title: t('commerce.shops.orders'),
      key: 'orders',
      width: 90,
      align: 'right',
      render: (_, s) =>
        s.shop_id ? (
          <Link to={`/commerce/orders?shop=${s.shop_id}`} data-testid={`shop-orders-${s.connection_id}`} data-count={s.order_count}>
            {s.order_count}
          </Link>
        ) : (
          <span data-testid={`shop-orders-${s.connection_id}`} data-count={0}>
            0
          </span>
        ),
    },
    {
      title: t('commerce.shops.backfill'),
      key: 'backfill',
      width: 150,
      render: (_, s) =>
        s.backfill ? (
          <Space size={4} data-testid={`shop-backfill-${s.connection_id}`} data-status={s.backfill.status}>
            <JobStatusTag status={s.backfill.status} />
            {isJobActive(s.backfill) && s.backfill.percent != null ? <span>{Math.round(s.backfill.percent)}%</span> : null}
            <Button size="small" type="link" onClick={() => setWatching({ shop: s, job: s.backfill as Job })} data-testid={`shop-backfill-view-${s.connection_id}`}>
              {t('commerce.shops.viewBackfill')}
            </Button>
          </Space>
        ) : (
          <span className="muted" data-testid={`shop-backfill-${s.connection_id}`}>
            {t('commerce.shops.noBackfill')}
          </span>
        ),
    },
    {
      title: t('commerce.shops.callbackUrl'),
      key: 'callback',
      width: 220,
      render: (_, s) =>
        s.callback_url ? (
          <CopyField value={s.callback_url} testId={`shop-callback-${s.connection_id}`} />
        ) : (
          <Tooltip
            title={t('commerce.shops.noPush', { channel: CHANNEL_PLATFORMS[s.platform] ? t(`commerce.shops.${CHANNEL_PLATFORMS[s.platform]}`) : '' })}
          >
            <span className="muted" data-testid={`shop-callback-${s.connection_id}`} data-value="">
              —
            </span>
          </Tooltip>
        ),
    },
    {
      title: t('common.actions'),
      key: 'actions',
      width: 200,
      fixed: 'right',
      render: (_, s) => {
        const disabled = s.connection_status === 'disabled'
        const result = tests[s.connection_id]
        return (
          <Space size={4} wrap>
            {manageShops ? (
              <>
                <Tooltip title={disabled ? t('commerce.shops.disabledHint') : undefined}>
                  <Button
                    size="small"
                    icon={<SyncOutlined />}
                    disabled={disabled}
                    loading={sync.isPending && sync.variables?.connection_id === s.connection_id}
                    onClick={() => sync.mutate(s)}
                    data-testid={`shop-sync-${s.connection_id}`}
                  >
                    {t('commerce.shops.syncNow')}
                  </Button>
                </Tooltip>
                <Button
                  size="small"
                  icon={<HistoryOutlined />}
                  disabled={disabled}
                  onClick={() => setBackfilling(s)}
                  data-testid={`shop-backfill-open-${s.connection_id}`}
                >
                  {t('commerce.shops.backfillButton')}
                </Button>
              </>
            ) : null}
            {manageConnections ? (
              <Button
                size="small"
                icon={<ApiOutlined />}
                loading={test.isPending && test.variables?.connection_id === s.connection_id}
                onClick={() => test.mutate(s)}
                data-testid={`shop-test-${s.connection_id}`}
              >
                {t('commerce.shops.test')}
              </Button>
            ) : null}
            {result ? (
              <Tooltip title={result.detail}>
                <Tag color={result.ok ? 'success' : 'error'} data-testid={`shop-test-result-${s.connection_id}`} data-ok={result.ok ? 'true' : 'false'}>
                  {result.ok ? `${Math.round(result.latency_ms)} ms` : t('connections.testFailed')}
                </Tag>
              </Tooltip>
            ) : null}
          </Space>
        )
      },
    },
  ]

  if (shops.error && !shops.data) return <ErrorState error={shops.error} onRetry={() => void shops.refetch()} />

  return (
    <>
      <PageHeader
        title={t('commerce.shops.title')}
        description={t('commerce.shops.subtitle')}
        extra={
          <>
            <Button icon={<ReloadOutlined spin={shops.isFetching} />} onClick={() => void shops.refetch()} data-testid="shops-refresh">
              {t('common.refresh')}
            </Button>
            {manageConnections ? (
              <Button type="primary" icon={<PlusOutlined />} onClick={() => setCreating(true)} data-testid="shop-connect">
                {t('commerce.shops.connect')}
              </Button>
            ) : null}
          </>
        }
      />
      <Card>
        <Table<ShopHealth>
          rowKey="connection_id"
          columns={columns}
          dataSource={shops.data ?? []}
          loading={shops.isLoading}
          pagination={false}
          scroll={{ x: 1350 }}
          data-testid="shops-table"
          onRow={(s) => ({ ...tid(`shop-row-${s.connection_id}`), 'data-platform': s.platform } as object)}
          locale={{
            emptyText: (
              <Empty description={t('commerce.shops.empty')} data-testid="shops-empty">
                {manageConnections ? (
                  <Button type="primary" icon={<PlusOutlined />} onClick={() => setCreating(true)}>
                    {t('commerce.shops.connect')}
                  </Button>
                ) : null}
              </Empty>
            ),
          }}
        />
      </Card>
      {creating ? (
        <ShopConnectionModal
          onClose={() => setCreating(false)}
          onDone={(c) => {
            setCreating(false)
            setCreated(c)
          }}
        />
      ) : null}
      {created ? <ShopConnectionCreated connection={created} onClose={() => setCreated(null)} /> : null}
      {backfilling ? (
        <BackfillModal
          shop={backfilling}
          onClose={() => setBackfilling(null)}
          onStarted={(job) => {
            setWatching({ shop: backfilling, job })
            setBackfilling(null)
          }}
        />
      ) : null}
      {watching ? (
        <Modal
          open
          width={640}
          title={t('commerce.backfill.progressTitle', { name: watching.shop.name })}
          onCancel={() => setWatching(null)}
          onOk={() => setWatching(null)}
          okText={t('common.close')}
          okButtonProps={tid('backfill-progress-close')}
          cancelButtonProps={{ style: { display: 'none' } }}
          data-testid="backfill-progress-modal"
        >
          <JobProgress
            jobId={watching.job.id}
            initial={watching.job}
            onSettled={() => void queryClient.invalidateQueries({ queryKey: ['commerce'] })}
          />
        </Modal>
      ) : null}
    </>
  )
}

interface BackfillValues {
  range: [Dayjs, Dayjs]
}

function BackfillModal({ shop, onClose, onStarted }: { shop: ShopHealth; onClose: () => void; onStarted: (job: Job) => void }) {
  const { t } = useTranslation()
  const { message } = App.useApp()
  const showError = useApiError()
  const queryClient = useQueryClient()
  const [form] = Form.useForm<BackfillValues>()
  const start = useMutation({
    mutationFn: (v: BackfillValues) => backfillShop(shop.connection_id, v.range[0].toISOString(), v.range[1].toISOString()),
    onSuccess: (job) => {
      void message.success(t('commerce.backfill.started'))
      void queryClient.invalidateQueries({ queryKey: ['commerce', 'shops'] })
      onStarted(job)
    },
    onError: (e) => {
      // the API names `start` / `end`; both belong to the one range picker
      if (e instanceof ApiError && e.errors.some((x) => x.field === 'start' || x.field === 'end' || x.field === '')) {
        form.setFields([{ name: 'range', errors: e.errors.map((x) => fieldErrorText(x, t)) }])
      }
      showError(e)
    },
  })
  const now = dayjs()
  return (
    <Modal
      open
      width={560}
      title={t('commerce.backfill.title', { name: shop.name })}
      onCancel={onClose}
      onOk={() => form.submit()}
      okText={t('commerce.backfill.start')}
      okButtonProps={{ icon: <CloudDownloadOutlined />, ...tid('backfill-submit') }}
      confirmLoading={start.isPending}
      destroyOnHidden
      data-testid="backfill-modal"
    >
      <Form<BackfillValues> form={form} layout="vertical" initialValues={{ range: [now.subtract(7, 'day'), now] }} onFinish={(v) => start.mutate(v)}>
        <Form.Item name="range" label={t('commerce.backfill.range')} extra={t('commerce.backfill.rangeHelp')} rules={[{ required: true, message: t('commerce.backfill.rangeRequired') }]}>
          <DatePicker.RangePicker
            showTime={{ format: 'HH:mm' }}
            format="YYYY-MM-DD HH:mm"
            style={{ width: '100%' }}
            disabledDate={(d) => d.isAfter(dayjs().endOf('day'))}
            presets={[
              { label: t('commerce.backfill.last7'), value: [dayjs().subtract(7, 'day'), dayjs()] },
              { label: t('commerce.backfill.last30'), value: [dayjs().subtract(30, 'day'), dayjs()] },
              { label: t('commerce.backfill.last90'), value: [dayjs().subtract(90, 'day'), dayjs()] },
            ]}
            data-testid="backfill-range"
          />
        </Form.Item>
      </Form>
    </Modal>
  )
}
