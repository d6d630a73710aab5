import {
  ArrowLeftOutlined,
  DeleteOutlined,
  DownloadOutlined,
  EditOutlined,
  PoweroffOutlined,
  ReloadOutlined,
  SyncOutlined,
  WarningOutlined,
} from '@ant-design/icons'
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query'
import {
  Alert,
  App,
  Badge,
  Button,
  Card,
  Col,
  Descriptions,
  Empty,
  Flex,
  Input,
  Popconfirm,
  Row,
  Select,
  Space,
  Switch,
  Table,
  Tabs,
  Tag,
  Tooltip,
  Typography,
} from 'antd'
import type { TableColumnsType } from 'antd'
import { useState } from 'react'
import { useTranslation } from 'react-i18next'
import { Link, useNavigate, useParams } from 'react-router-dom'
import {
  deleteChannel,
  fetchChannelQr,
  recreateChannelWay,
  getChannel,
  listChannelAdds,
  listChannelDecisions,
  listChannelProblems,
  listChannelWelcomes,
  refreshChannel,
  setChannelPresence,
  updateChannel,
  type Channel,
  type ChannelAdd,
  type ChannelDecision,
  type ChannelProblem,
  type ChannelStaff,
  type ChannelWelcomeResult,
} from '../api'
import { useAuth } from '../auth/AuthContext'
import { PERM } from '../auth/permissions'
import { ChannelStatusBadge, QrImage, RoutingFlags, saveBlob, StrategyTag, useChannelGroups, useConnectionNames } from '../components/channels'
import { defaultRange, RangeFilter, StatsPanel, type DayRange } from '../components/channelStats'
import { CopyField } from '../components/CopyField'
import { LoadMore } from '../components/LoadMore'
import { PageHeader } from '../components/PageHeader'
import { ErrorState, NotFound, PageLoading } from '../components/states'
import { useApiError } from '../components/useApiError'
import { useCursorList } from '../components/useCursorList'
import { formatDateTime, formatRelative } from '../utils/format'
import { dataAttrs, tid } from '../utils/testid'
import { useDebounced } from '../utils/useDebounced'

const POLL_MS = 3000
const QR_COLOURS = ['black', 'blue', 'red', 'green', 'orange', 'purple'] as const
const COLOUR_HEX: Record<string, string> = { black: '#000', blue: '#1677ff', red: '#f5222d', green: '#389e0d', orange: '#d46b08', purple: '#531dab' }

export default function ChannelDetailPage() {
  const { id: idParam } = useParams()
  const id = Number(idParam)
  const { t } = useTranslation()
  const { can } = useAuth()
  const manage = can(PERM.channelsManage)
  const navigate = useNavigate()
  const queryClient = useQueryClient()
  const { message } = App.useApp()
  const showError = useApiError()
  const code = useQuery({
    queryKey: ['channels', 'detail', id],
    queryFn: () => getChannel(id),
    enabled: Number.isInteger(id) && id > 0,
    refetchInterval: POLL_MS,
  })
  const setCode = (saved: Channel) => {
    queryClient.setQueryData(['channels', 'detail', id], saved)
    void queryClient.invalidateQueries({ queryKey: ['channels', 'list'] })
  }
  const setStatus = useMutation({
    mutationFn: (status: 'active' | 'disabled') => updateChannel(id, { status }),
    onSuccess: (saved) => {
      setCode(saved)
      void message.success(saved.status === 'active' ? t('channels.enabled') : t('channels.disabled'))
    },
    onError: (e) => showError(e),
  })
  const refresh = useMutation({
    mutationFn: () => refreshChannel(id),
    onSuccess: (saved) => {
      setCode(saved)
      void queryClient.invalidateQueries({ queryKey: ['channel-decisions', id] })
      void message.success(t('channels.detail.refreshed'))
    },
    onError: (e) => showError(e),
  })
  const recreate = useMutation({
    mutationFn: () => recreateChannelWay(id),
    onSuccess: (saved) => {
      setCode(saved)
      void queryClient.invalidateQueries({ queryKey: ['channel-qr', id] })
      void queryClient.invalidateQueries({ queryKey: ['channel-decisions', id] })
      void message.success(t('channels.detail.recreated'))
    },
    onError: (e) => showError(e),
  })
  const remove = useMutation({
    mutationFn: () => deleteChannel(id),
    onSuccess: () => {
      void queryClient.invalidateQueries({ queryKey: ['channels'] })
      void message.success(t('channels.deletedMsg', { name: code.data?.name ?? '' }))
      navigate('/channels')
    },
    onError: (e) => showError(e),
  })

  if (!Number.isInteger(id) || id <= 0) return <NotFound />
  if (code.isLoading) return <PageLoading />
  if (code.error || !code.data) return <ErrorState error={code.error} onRetry={() => void code.refetch()} />
  const c = code.data
  const live = c.status !== 'deleted'

  return (
    <>
      <Link to="/channels" data-testid="channel-back">
        <ArrowLeftOutlined /> {t('channels.title')}
      </Link>
      <div style={{ height: 8 }} />
      <PageHeader
        title={
          <Space wrap>
            <span data-testid="channel-name">{c.name}</span>
            <ChannelStatusBadge status={c.status} testId="channel-status" />
          </Space>
        }
        description={c.description ?? undefined}
        extra={
          manage && live ? (
            <>
              <Tooltip title={t('channels.detail.refreshHint')}>
                <Button icon={<SyncOutlined />} onClick={() => refresh.mutate()} loading={refresh.isPending} disabled={c.status !== 'active'} data-testid="channel-refresh-way">
                  {t('channels.detail.refresh')}
                </Button>
              </Tooltip>
              <Button icon={<EditOutlined />} onClick={() => navigate(`/channels/${c.id}/edit`)} data-testid="channel-edit">
                {t('common.edit')}
              </Button>
              {c.status === 'active' ? (
                <Popconfirm
                  title={t('channels.disableConfirm', { name: c.name })}
                  description={<div style={{ maxWidth: 300 }}>{t('channels.disableHint')}</div>}
                  okText={t('channels.disable')}
                  okButtonProps={{ danger: true, ...tid('confirm-ok') }}
                  onConfirm={() => setStatus.mutateAsync('disabled').catch(() => undefined)}
                >
                  <Button icon={<PoweroffOutlined />} loading={setStatus.isPending} data-testid="channel-disable">
                    {t('channels.disable')}
                  </Button>
                </Popconfirm>
              ) : (
                <Button icon={<PoweroffOutlined />} loading={setStatus.isPending} onClick={() => setStatus.mutate('active')} data-testid="channel-enable">
                  {t('channels.enable')}
                </Button>
              )}
              <Popconfirm
                title={t('channels.deleteConfirm', { name: c.name })}
                description={<div style={{ maxWidth: 300 }}>{t('channels.deleteHint')}</div>}
                okText={t('common.delete')}
                okButtonProps={{ danger: true, ...tid('confirm-ok') }}
                onConfirm={() => remove.mutateAsync().catch(() => undefined)}
              >
                <Button danger icon={<DeleteOutlined />} loading={remove.isPending} data-testid="channel-delete">
                  {t('common.delete')}
                </Button>
              </Popconfirm>
            </>
          ) : (
            <Button icon={<ReloadOutlined />} onClick={() => void code.refetch()}>
              {t('common.refresh')}
            </Button>
          )
        }
      />
      {c.status === 'disabled' ? <Alert type="warning" showIcon style={{ marginBottom: 16 }} message={t('channels.detail.disabledHint')} data-testid="channel-disabled-hint" /> : null}
      {c.status === 'deleted' ? <Alert type="error" showIcon style={{ marginBottom: 16 }} message={t('channels.detail.deletedHint')} /> : null}
      {c.way.error || (live && !c.qr_url) ? (
        <Alert
          type="error"
          showIcon
          style={{ marginBottom: 16 }}
          message={c.way.error ? t('channels.detail.wayError') : t('channels.noQr')}
          description={
            <>
              {c.way.error ? <div>{c.way.error}</div> : null}
              <div>{t('channels.detail.recreateHint')}</div>
            </>
          }
          action={
            manage ? (
              <Popconfirm
                title={t('channels.detail.recreateConfirm')}
                description={<div style={{ maxWidth: 300 }}>{t('channels.detail.recreateHint')}</div>}
                okText={t('channels.detail.recreate')}
                okButtonProps={tid('confirm-ok')}
                onConfirm={() => recreate.mutateAsync().catch(() => undefined)}
              >
                <Button size="small" loading={recreate.isPending} data-testid="channel-recreate-way">
                  {t('channels.detail.recreate')}
                </Button>
              </Popconfirm>
            ) : undefined
          }
          data-testid="channel-way-error"
        />
      ) : null}
      {c.problems.total ? (
        <Alert
          type="warning"
          showIcon
          icon={<WarningOutlined />}
          style={{ marginBottom: 16 }}
          message={t('channels.detail.problemsBanner', { count: c.problems.total, time: formatRelative(c.problems.last_at) })}
          description={
            <Space wrap>
              {Object.entries(c.problems.by_kind).map(([kind, n]) => (
                <Tag key={kind} color="warning">
                  {t(`channels.problemKind.${kind}`, { defaultValue: kind })} × {n}
                </Tag>
              ))}
            </Space>
          }
          data-testid="channel-problems-banner"
          data-count={c.problems.total}
        />
      ) : null}
      <Row gutter={[16, 16]}>
        <Col xs={24} lg={9} xxl={7}>
          <QrCard channel={c} />
        </Col>
        <Col xs={24} lg={15} xxl={17}>
          <InfoCard channel={c} />
        </Col>
        <Col xs={24}>
          <StaffCard channel={c} manage={manage} onPresence={() => void code.refetch()} />
        </Col>
        {can(PERM.channelsAnalytics) ? (
          <Col xs={24}>
            <StatsCard channel={c} />
          </Col>
        ) : null}
        <Col xs={24}>
          <ActivityCard channel={c} />
        </Col>
      </Row>
    </>
  )
}

function QrCard({ channel: c }: { channel: Channel }) {
  const { t } = useTranslation()
  const showError = useApiError()
  const [colour, setColour] = useState<string>('black')
  const [label, setLabel] = useState<string>(c.store ?? '')
  const [busy, setBusy] = useState<'png' | 'svg' | null>(null)
  const shownLabel = useDebounced(label.trim(), 400)
  const usable = !!c.qr_url && c.status !== 'deleted'
  const download = async (format: 'png' | 'svg') => {
    setBusy(format)
    try {
      const blob = await fetchChannelQr(c.id, format, { color: colour, label: format === 'svg' ? label.trim() : undefined, scale: 12 })
      saveBlob(blob, `${c.name}-${c.state}.${format}`)
    } catch (e) {
      showError(e)
    } finally {
      setBusy(null)
    }
  }
  return (
    <Card title={t('channels.detail.qrTitle')} data-testid="channel-qr-card" style={{ height: '100%' }}>
      <Flex vertical align="center" gap={12}>
        <div className="qr-frame" style={{ borderColor: COLOUR_HEX[colour] }}>
          <QrImage channel={c} size={200} format="svg" opts={{ color: colour, label: shownLabel || undefined }} testId="channel-qr-image" style={{ width: 200, height: 'auto' }} />
        </div>
        <Space wrap>
          <Select
            value={colour}
            onChange={setColour}
            style={{ width: 110 }}
            options={QR_COLOURS.map((k) => ({
              value: k,
              label: (
                <Space size={6}>
                  <span className="colour-dot" style={{ background: COLOUR_HEX[k] }} />
                  {t(`channels.detail.colour.${k}`)}
                </Space>
              ),
            }))}
            data-testid="channel-qr-colour"
          />
          <Input
            value={label}
            onChange={(e) => setLabel(e.target.value)}
            maxLength={40}
            placeholder={t('channels.detail.qrLabel')}
            style={{ width: 150 }}
            data-testid="channel-qr-label"
          />
        </Space>
        <Space>
          <Button icon={<DownloadOutlined />} disabled={!usable} loading={busy === 'png'} onClick={() => void download('png')} data-testid="channel-qr-download-png">
            PNG
          </Button>
          <Button icon={<DownloadOutlined />} disabled={!usable} loading={busy === 'svg'} onClick={() => void download('svg')} data-testid="channel-qr-download-svg">
            SVG
          </Button>
        </Space>
        <Typography.Text type="secondary" style={{ fontSize: 12, textAlign: 'center' }}>
          {t('channels.detail.qrHint')}
        </Typography.Text>
      </Flex>
    </Card>
  )
}

function InfoCard({ channel: c }: { channel: Channel }) {
  const { t } = useTranslation()
  const connections = useConnectionNames()
  const groups = useChannelGroups()
  const w = c.welcome
  const r = c.routing
  return (
    <Card title={t('channels.detail.info')} data-testid="channel-info" style={{ height: '100%' }}>
      <Descriptions
        column={{ xs: 1, md: 2, xxl: 3 }}
        size="small"
        items={[
          { key: 'state', label: 'state', children: <CopyField value={c.state} testId="channel-state" /> },
          { key: 'config', label: 'config_id', children: <CopyField value={c.config_id} testId="channel-config-id" /> },
          { key: 'connection', label: t('channels.form.connection'), children: connections.nameOf(c.connection_id) },
          { key: 'group', label: t('channels.form.group'), children: groups.data?.find((g) => g.id === c.group_id)?.name ?? '—' },
          { key: 'store', label: t('channels.form.store'), children: [c.store, c.region].filter(Boolean).join(' · ') || '—' },
          {
            key: 'strategy',
            label: t('channels.strategyLabel'),
            children: (
              <Space size={[0, 4]} wrap>
                <StrategyTag strategy={r.strategy ?? 'round_robin'} testId="channel-strategy" />
                <RoutingFlags channel={c} />
                <Typography.Text type="secondary">{r.timezone}</Typography.Text>
              </Space>
            ),
          },
          {
            key: 'way',
            label: t('channels.detail.wayUsers'),
            children: (
              <Tooltip title={t('channels.detail.wayUsersHint')}>
                <span data-testid="channel-way-users" data-value={c.way.users.join(',')}>
                  {c.way.users.length ? c.way.users.map((u) => <Tag key={u}>{c.staff.find((s) => s.userid === u)?.name ?? u}</Tag>) : '—'}
                </span>
              </Tooltip>
            ),
          },
          {
            key: 'synced',
            label: t('channels.detail.waySynced'),
            children: (
              <span>
                {formatDateTime(c.way.synced_at)}
                {c.way.skip_verify != null ? (
                  <Tag style={{ marginInlineStart: 8 }}>{c.way.skip_verify ? t('channels.detail.skipVerifyOn') : t('channels.detail.skipVerifyOff')}</Tag>
                ) : null}
              </span>
            ),
          },
          {
            key: 'tags',
            label: t('channels.tags'),
            children: c.tags.length ? (
              <span data-testid="channel-detail-tags">
                {c.tags.map((tag) => (
                  <Tooltip key={tag.id} title={tag.wecom_tag_id ? undefined : t('tags.syncingHint')}>
                    <Tag color={tag.wecom_tag_id ? 'blue' : 'processing'}>{tag.name}</Tag>
                  </Tooltip>
                ))}
              </span>
            ) : (
              '—'
            ),
          },
          { key: 'remark', label: t('channels.form.remarkTemplate'), children: c.remark_template || '—' },
          {
            key: 'welcome',
            label: t('channels.form.welcomeTitle'),
            span: 2,
            children: w && w.enabled !== false ? (
              <span data-testid="channel-detail-welcome">
                <Typography.Paragraph style={{ marginBottom: 4, whiteSpace: 'pre-wrap' }} ellipsis={{ rows: 3, expandable: true }}>
                  {w.text || '—'}
                </Typography.Paragraph>
                {(w.attachments ?? []).length ? <Tag>{t('channels.detail.attachments', { count: (w.attachments ?? []).length })}</Tag> : null}
                {(w.variants ?? []).map((v) => (
                  <Tag key={v.name} color="orange">
                    {v.name}
                    {v.start && v.end ? ` ${v.start}–${v.end}` : ''}
                  </Tag>
                ))}
              </span>
            ) : (
              <Typography.Text type="secondary">{t('channels.form.welcomeOff')}</Typography.Text>
            ),
          },
          { key: 'total', label: t('channels.detail.addsTotal'), children: <span data-testid="channel-adds-total" data-value={c.adds_total}>{c.adds_total}</span> },
          { key: 'today', label: t('channels.addsToday'), children: <span data-testid="channel-adds-today" data-value={c.adds_today}>{c.adds_today}</span> },
          { key: 'created', label: t('common.createdAt'), children: formatDateTime(c.created_at) },
          { key: 'updated', label: t('connections.updatedAt'), children: formatDateTime(c.updated_at) },
        ]}
      />
    </Card>
  )
}

function StaffCard({ channel: c, manage, onPresence }: { channel: Channel; manage: boolean; onPresence: () => void }) {
  const { t } = useTranslation()
  const showError = useApiError()
  const presence = useMutation({
    mutationFn: ({ userid, online }: { userid: string; online: boolean }) => setChannelPresence(c.connection_id, userid, online),
    onSuccess: () => onPresence(),
    onError: (e) => showError(e),
  })
  const columns: TableColumnsType<ChannelStaff> = [
    {
      title: t('channels.form.member'),
      key: 'member',
      render: (_, s) => (
        <span>
          <Typography.Text strong>{s.name || s.userid}</Typography.Text>{' '}
          <Typography.Text type="secondary" style={{ fontSize: 12 }}>
            {s.userid}
          </Typography.Text>
          {s.backup ? (
            <Tag color="orange" bordered={false} style={{ marginInlineStart: 6 }}>
              {t('channels.backup')}
            </Tag>
          ) : null}
          {c.way.users.includes(s.userid) && c.status === 'active' ? (
            <Tag color="green" bordered={false}>
              {t('channels.onWay')}
            </Tag>
          ) : null}
        </span>
      ),
    },
    {
      title: t('channels.detail.presence'),
      key: 'online',
      width: 140,
      render: (_, s) =>
        manage ? (
          <Switch
            size="small"
            checked={s.is_online}
            loading={presence.isPending && presence.variables?.userid === s.userid}
            checkedChildren={t('channels.online')}
            unCheckedChildren={t('channels.offline')}
            onChange={(online) => presence.mutate({ userid: s.userid, online })}
            data-testid={`channel-presence-${s.userid}`}
          />
        ) : (
          <Badge status={s.is_online ? 'success' : 'default'} text={s.is_online ? t('channels.online') : t('channels.offline')} />
        ),
    },
    { title: t('channels.form.weight'), dataIndex: 'weight', width: 70, align: 'right' },
    {
      title: t('channels.detail.todayCap'),
      key: 'cap',
      width: 120,
      align: 'right',
      render: (_, s) => (
        <span data-testid={`channel-staff-today-${s.userid}`} data-value={s.adds_today}>
          {s.adds_today}
          {s.daily_cap ? (
            <Typography.Text type={(s.adds_today ?? 0) >= s.daily_cap ? 'danger' : 'secondary'}> / {s.daily_cap}</Typography.Text>
          ) : null}
        </span>
      ),
    },
    { title: t('channels.form.storeRegion'), key: 'store', width: 160, render: (_, s) => [s.store, s.region].filter(Boolean).join(' · ') || '—' },
    {
      title: t('channels.form.ownSchedule'),
      key: 'schedule',
      width: 110,
      render: (_, s) => (s.schedule ? <Tag color="blue">{t('channels.detail.ownHours', { count: s.schedule.length })}</Tag> : <span className="muted">—</span>),
    },
  ]
  return (
    <Card title={t('channels.form.staffTitle')} data-testid="channel-staff-card">
      <Table<ChannelStaff>
        rowKey="userid"
        size="small"
        columns={columns}
        dataSource={c.staff}
        pagination={false}
        scroll={{ x: 800 }}
        onRow={(s) => dataAttrs({ testid: `channel-staff-${s.userid}` })}
        data-testid="channel-staff-table"
      />
    </Card>
  )
}

function StatsCard({ channel: c }: { channel: Channel }) {
  const { t } = useTranslation()
  const tz = c.routing.timezone ?? 'Asia/Shanghai'
  const [range, setRange] = useState<DayRange>(() => defaultRange(14, tz))
  return (
    <Card title={t('channels.detail.stats')} extra={<RangeFilter value={range} onChange={setRange} tz={tz} testId="channel-stats-range" />} data-testid="channel-stats">
      <StatsPanel filters={{ code_id: c.id, tz }} range={range} refetchInterval={POLL_MS} prefix="channel-stats" />
    </Card>
  )
}

function ActivityCard({ channel: c }: { channel: Channel }) {
  const { t } = useTranslation()
  const [tab, setTab] = useState('adds')
  return (
    <Card data-testid="channel-activity">
      <Tabs
        activeKey={tab}
        onChange={setTab}
        items={[
          { key: 'adds', label: <span data-testid="channel-tab-adds">{t('channels.detail.adds')}</span>, children: tab === 'adds' ? <AddsTable channel={c} /> : null },
          { key: 'welcomes', label: <span data-testid="channel-tab-welcomes">{t('channels.detail.welcomes')}</span>, children: tab === 'welcomes' ? <WelcomesTable channel={c} /> : null },
          {
            key: 'decisions',
            label: <span data-testid="channel-tab-decisions">{t('channels.detail.decisions')}</span>,
            children: tab === 'decisions' ? <DecisionsTable channel={c} /> : null,
          },
          {
            key: 'problems',
            label: (
              <span data-testid="channel-tab-problems">
                {t('channels.detail.problems')} {c.problems.total ? <Badge count={c.problems.total} size="small" /> : null}
              </span>
            ),
            children: tab === 'problems' ? <ProblemsTable channel={c} /> : null,
          },
        ]}
      />
    </Card>
  )
}

function AddsTable({ channel: c }: { channel: Channel }) {
  const { t } = useTranslation()
  const adds = useCursorList(['channel-adds', c.id], (cursor) => listChannelAdds(c.id, { limit: 20, cursor }), { refetchInterval: POLL_MS })
  const columns: TableColumnsType<ChannelAdd> = [
    { title: t('channels.detail.time'), dataIndex: 'occurred_at', width: 170, render: (v: string) => <Tooltip title={formatRelative(v)}>{formatDateTime(v)}</Tooltip> },
    {
      title: t('customers.customer'),
      key: 'customer',
      render: (_, a) =>
        a.customer_id ? (
          <Link to={`/customers/${a.customer_id}`} data-testid={`channel-add-customer-${a.id}`}>
            {t('channels.detail.customerN', { id: a.customer_id })}
          </Link>
        ) : (
          <Typography.Text type="secondary">{a.external_userid}</Typography.Text>
        ),
    },
    { title: t('channels.form.member'), key: 'staff', render: (_, a) => a.staff_name || a.staff_userid },
    {
      title: t('channels.detail.flags'),
      key: 'flags',
      render: (_, a) => (
        <Space size={[0, 4]} wrap>
          {a.is_returning ? <Tag color="purple">{t('channels.detail.returning')}</Tag> : <Tag color="green">{t('channels.detail.new')}</Tag>}
          {a.routed_to ? <Tag color="blue">{t('channels.detail.stickyTo', { userid: a.routed_to })}</Tag> : null}
          {a.is_half ? <Tag>{t('channels.detail.half')}</Tag> : null}
          {!a.was_listed ? (
            <Tooltip title={t('channels.detail.notListedHint')}>
              <Tag color="warning">{t('channels.detail.notListed')}</Tag>
            </Tooltip>
          ) : null}
          {a.over_cap ? <Tag color="error">{t('channels.detail.overCap')}</Tag> : null}
        </Space>
      ),
    },
    { title: t('channels.form.store'), key: 'store', width: 140, render: (_, a) => a.store || '—' },
  ]
  return (
    <>
      <Table<ChannelAdd>
        rowKey="id"
        size="small"
        columns={columns}
        dataSource={adds.items}
        loading={adds.isLoading}
        pagination={false}
        scroll={{ x: 800 }}
        onRow={(a) => dataAttrs({ testid: `channel-add-${a.id}` })}
        data-testid="channel-adds-table"
        locale={{ emptyText: <Empty image={Empty.PRESENTED_IMAGE_SIMPLE} description={t('channels.detail.noAdds')} /> }}
      />
      <LoadMore hasMore={!!adds.hasNextPage} loading={adds.isFetchingNextPage} onLoad={() => void adds.fetchNextPage()} count={adds.items.length} testId="channel-adds-load-more" />
    </>
  )
}

const WELCOME_COLOR: Record<string, string> = {
  sent: 'success',
  probably_sent: 'processing',
  expired: 'warning',
  customer_chatting: 'default',
  failed: 'error',
  skipped: 'default',
}

function WelcomesTable({ channel: c }: { channel: Channel }) {
  const { t } = useTranslation()
  const rows = useCursorList(['channel-welcomes', c.id], (cursor) => listChannelWelcomes(c.id, { limit: 20, cursor }), { refetchInterval: POLL_MS })
  const columns: TableColumnsType<ChannelWelcomeResult> = [
    { title: t('channels.detail.time'), dataIndex: 'created_at', width: 170, render: (v: string) => formatDateTime(v) },
    {
      title: t('common.status'),
      dataIndex: 'status',
      width: 130,
      render: (v: string, w) => (
        <Tooltip title={w.error || undefined}>
          <Tag color={WELCOME_COLOR[v] ?? 'default'} data-testid={`channel-welcome-status-${w.id}`} data-status={v}>
            {t(`channels.welcomeStatus.${v}`, { defaultValue: v })}
          </Tag>
        </Tooltip>
      ),
    },
    { title: t('channels.detail.variant'), dataIndex: 'variant', width: 110, render: (v?: string | null) => (v ? <Tag color="orange">{v}</Tag> : <Tag>{t('channels.preview.default')}</Tag>) },
    { title: t('channels.welcome.text'), dataIndex: 'text', ellipsis: true, render: (v?: string | null) => v || '—' },
    { title: t('channels.form.member'), dataIndex: 'staff_userid', width: 110 },
    {
      title: t('customers.customer'),
      dataIndex: 'customer_id',
      width: 110,
      render: (v?: number | null) => (v ? <Link to={`/customers/${v}`}>{t('channels.detail.customerN', { id: v })}</Link> : '—'),
    },
    { title: t('channels.detail.attempts'), dataIndex: 'attempts', width: 70, align: 'right' },
  ]
  return (
    <>
      <Table<ChannelWelcomeResult>
        rowKey="id"
        size="small"
        columns={columns}
        dataSource={rows.items}
        loading={rows.isLoading}
        pagination={false}
        scroll={{ x: 900 }}
        onRow={(w) => dataAttrs({ testid: `channel-welcome-${w.id}`, status: w.status })}
        data-testid="channel-welcomes-table"
        locale={{ emptyText: <Empty image={Empty.PRESENTED_IMAGE_SIMPLE} description={t('channels.detail.noWelcomes')} /> }}
      />
      <LoadMore hasMore={!!rows.hasNextPage} loading={rows.isFetchingNextPage} onLoad={() => void rows.fetchNextPage()} count={rows.items.length} testId="channel-welcomes-load-more" />
    </>
  )
}

function DecisionsTable({ channel: c }: { channel: Channel }) {
  const { t } = useTranslation()
  const rows = useCursorList(['channel-decisions', c.id], (cursor) => listChannelDecisions(c.id, { limit: 20, cursor }), { refetchInterval: POLL_MS })
  const nameOf = (u: string) => c.staff.find((s) => s.userid === u)?.name ?? u
  const columns: TableColumnsType<ChannelDecision> = [
    { title: t('channels.detail.time'), dataIndex: 'decided_at', width: 170, render: (v: string) => formatDateTime(v) },
    { title: t('channels.detail.trigger'), dataIndex: 'trigger', width: 120, render: (v: string) => t(`channels.trigger.${v}`, { defaultValue: v }) },
    {
      title: t('channels.detail.listed'),
      key: 'users',
      render: (_, d) => (
        <Space size={[0, 4]} wrap>
          {d.users.map((u) => (
            <Tag key={u} color="green">
              {nameOf(u)}
            </Tag>
          ))}
          <Tag color={d.mode === 'primary' ? 'default' : 'warning'}>{t(`channels.planMode.${d.mode}`, { defaultValue: d.mode })}</Tag>
        </Space>
      ),
    },
    {
      title: t('channels.detail.reason'),
      key: 'reason',
      render: (_, d) => (
        <div>
          <div>{d.reason}</div>
          {Object.entries(d.excluded).map(([u, why]) => (
            <Tag key={u} style={{ marginTop: 4 }}>
              {nameOf(u)}: {t(`channels.exclusion.${why}`, { defaultValue: why })}
            </Tag>
          ))}
        </div>
      ),
    },
    {
      title: t('channels.detail.pushed'),
      key: 'pushed',
      width: 110,
      render: (_, d) =>
        d.error ? (
          <Tooltip title={d.error}>
            <Tag color="error">{t('channels.detail.pushFailed')}</Tag>
          </Tooltip>
        ) : d.is_pushed ? (
          <Tag color="success">{t('channels.detail.pushedYes')}</Tag>
        ) : (
          <Tag>{t('channels.detail.pushedNo')}</Tag>
        ),
    },
  ]
  return (
    <>
      <Table<ChannelDecision>
        rowKey="id"
        size="small"
        columns={columns}
        dataSource={rows.items}
        loading={rows.isLoading}
        pagination={false}
        scroll={{ x: 900 }}
        onRow={(d) => dataAttrs({ testid: `channel-decision-${d.id}` })}
        data-testid="channel-decisions-table"
        locale={{ emptyText: <Empty image={Empty.PRESENTED_IMAGE_SIMPLE} description={t('channels.detail.noDecisions')} /> }}
      />
      <LoadMore hasMore={!!rows.hasNextPage} loading={rows.isFetchingNextPage} onLoad={() => void rows.fetchNextPage()} count={rows.items.length} testId="channel-decisions-load-more" />
    </>
  )
}

function ProblemsTable({ channel: c }: { channel: Channel }) {
  const { t } = useTranslation()
  const rows = useCursorList(['channel-problems', c.id], (cursor) => listChannelProblems(c.id, { limit: 20, cursor }), { refetchInterval: POLL_MS })
  const columns: TableColumnsType<ChannelProblem> = [
    { title: t('channels.detail.time'), dataIndex: 'occurred_at', width: 170, render: (v: string) => formatDateTime(v) },
    { title: t('channels.detail.kind'), dataIndex: 'kind', width: 170, render: (v: string) => <Tag color="warning">{t(`channels.problemKind.${v}`, { defaultValue: v })}</Tag> },
    { title: t('channels.detail.message'), dataIndex: 'message' },
  ]
  return (
    <>
      <Table<ChannelProblem>
        rowKey="id"
        size="small"
        columns={columns}
        dataSource={rows.items}
        loading={rows.isLoading}
        pagination={false}
        onRow={(p) => dataAttrs({ testid: `channel-problem-${p.id}`, kind: p.kind })}
        data-testid="channel-problems-table"
        locale={{ emptyText: <Empty image={Empty.PRESENTED_IMAGE_SIMPLE} description={t('channels.detail.noProblems')} /> }}
      />
      <LoadMore hasMore={!!rows.hasNextPage} loading={rows.isFetchingNextPage} onLoad={() => void rows.fetchNextPage()} count={rows.items.length} testId="channel-problems-load-more" />
    </>
  )
}
