import {
  AppstoreOutlined,
  BarChartOutlined,
  DeleteOutlined,
  EditOutlined,
  FolderOutlined,
  MoreOutlined,
  PlusOutlined,
  PoweroffOutlined,
  QrcodeOutlined,
  ReloadOutlined,
} from '@ant-design/icons'
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query'
import {
  Alert,
  App,
  AutoComplete,
  Badge,
  Button,
  Card,
  Dropdown,
  Empty,
  Flex,
  Form,
  Input,
  Modal,
  Popconfirm,
  Popover,
  Select,
  Space,
  Table,
  Tag,
  Tooltip,
  Typography,
} from 'antd'
import type { MenuProps, TableColumnsType } from 'antd'
import { useMemo, useState } from 'react'
import { useTranslation } from 'react-i18next'
import { Link, useNavigate, useSearchParams } from 'react-router-dom'
import {
  channelSummary,
  createChannelGroup,
  deleteChannel,
  deleteChannelGroup,
  listChannels,
  listUnknownStates,
  updateChannel,
  updateChannelGroup,
  type Channel,
  type ChannelGroup,
} from '../api'
import { useAuth } from '../auth/AuthContext'
import { PERM } from '../auth/permissions'
import { ChannelStatusBadge, ProblemsFlag, QrImage, RoutingFlags, StrategyTag, useChannelGroups } from '../components/channels'
import { LoadMore } from '../components/LoadMore'
import { PageHeader } from '../components/PageHeader'
import { ErrorState } from '../components/states'
import { useApiError } from '../components/useApiError'
import { useCursorList } from '../components/useCursorList'
import { formatDateTime } from '../utils/format'
import { dataAttrs, tid } from '../utils/testid'

const MAX_STAFF_SHOWN = 3

export default function ChannelsPage() {
  const { t } = useTranslation()
  const { can } = useAuth()
  const manage = can(PERM.channelsManage)
  const navigate = useNavigate()
  const [params, setParams] = useSearchParams()
  const [groupsOpen, setGroupsOpen] = useState(false)
  const q = params.get('q') ?? ''
  const groupId = params.get('group') ? Number(params.get('group')) : undefined
  const store = params.get('store') ?? ''
  const region = params.get('region') ?? ''
  const status = params.get('status') ?? ''
  const setParam = (key: string, value: string | number | undefined | null) => {
    const next = new URLSearchParams(params)
    if (value === undefined || value === null || value === '') next.delete(key)
    else next.set(key, String(value))
    setParams(next, { replace: true })
  }

  const codes = useCursorList(['channels', 'list', q, groupId ?? null, store, region, status], (cursor) =>
    listChannels({
      limit: 50,
      cursor,
      q: q || undefined,
      group_id: groupId,
      store: store || undefined,
      region: region || undefined,
      status: (status || undefined) as Channel['status'] | undefined,
    }),
  )
  const groups = useChannelGroups()
  // stores and regions known from the analytics (every code's), for the filters' suggestions
  const places = useQuery({
    queryKey: ['channels', 'places'],
    queryFn: () => channelSummary({}),
    enabled: can(PERM.channelsAnalytics),
    staleTime: 60_000,
  })
  const storeOptions = useMemo(() => {
    const all = new Set<string>()
    places.data?.codes.forEach((c) => c.store && all.add(c.store))
    codes.items.forEach((c) => c.store && all.add(c.store))
    return [...all].sort().map((v) => ({ value: v }))
  }, [places.data, codes.items])
  const regionOptions = useMemo(() => {
    const all = new Set<string>()
    places.data?.codes.forEach((c) => c.region && all.add(c.region))
    codes.items.forEach((c) => c.region && all.add(c.region))
    return [...all].sort().map((v) => ({ value: v }))
  }, [places.data, codes.items])

  const unknown = useQuery({ queryKey: ['channels', 'unknown-states'], queryFn: () => listUnknownStates(), staleTime: 30_000 })
  const unknownTotal = (unknown.data ?? []).reduce((n, u) => n + u.count, 0)
  const groupName = (id: number | null | undefined) => (id == null ? null : (groups.data?.find((g) => g.id === id)?.name ?? `#${id}`))

  const columns: TableColumnsType<Channel> = [
    {
      title: t('channels.name'),
      key: 'name',
      fixed: 'left',
      width: 220,
      render: (_, c) => (
        <div>
          <Space size={4} wrap>
            <Link to={`/channels/${c.id}`} onClick={(e) => e.stopPropagation()} data-testid={`channel-link-${c.id}`}>
              <Typography.Text strong>{c.name}</Typography.Text>
            </Link>
            <ProblemsFlag channel={c} testId={`channel-problems-${c.id}`} />
          </Space>
          <div>
            {groupName(c.group_id) ? (
              <Tag icon={<FolderOutlined />} bordered={false}>
                {groupName(c.group_id)}
              </Tag>
            ) : null}
            {c.store ? <Tag color="geekblue">{c.store}</Tag> : null}
            {c.region ? <Tag>{c.region}</Tag> : null}
          </div>
          {c.description ? (
            <Typography.Text type="secondary" style={{ fontSize: 12 }} ellipsis={{ tooltip: c.description }}>
              {c.description}
            </Typography.Text>
          ) : null}
        </div>
      ),
    },
    {
      title: t('channels.qr'),
      key: 'qr',
      width: 80,
      render: (_, c) => (
        <Popover
          content={<QrImage channel={c} size={200} />}
          title={c.name}
          placement="right"
          destroyOnHidden
        >
          <span onClick={(e) => e.stopPropagation()} style={{ display: 'inline-block' }}>
            <QrImage channel={c} size={56} opts={{ scale: 2 }} testId={`channel-qr-thumb-${c.id}`} />
          </span>
        </Popover>
      ),
    },
    {
      title: t('channels.staff'),
      key: 'staff',
      width: 210,
      render: (_, c) => {
        const shown = c.staff.slice(0, MAX_STAFF_SHOWN)
        return (
          <div data-testid={`channel-staff-${c.id}`}>
            {shown.map((s) => (
              <div key={s.userid} style={{ lineHeight: '22px' }}>
                <Badge status={s.is_online ? 'success' : 'default'} />
                <span style={{ marginInlineStart: 4 }}>{s.name || s.userid}</span>
                {s.backup ? (
                  <Tag style={{ marginInlineStart: 6 }} color="orange" bordered={false}>
                    {t('channels.backup')}
                  </Tag>
                ) : null}
                {c.way.users.includes(s.userid) && c.status === 'active' ? (
                  <Tooltip title={t('channels.onWayHint')}>
                    <Tag style={{ marginInlineStart: 4 }} color="green" bordered={false}>
                      {t('channels.onWay')}
                    </Tag>
                  </Tooltip>
                ) : null}
                {s.daily_cap ? (
                  <Typography.Text type="secondary" style={{ fontSize: 12, marginInlineStart: 4 }}>
                    {s.adds_today}/{s.daily_cap}
                  </Typography.Text>
                ) : null}
              </div>
            ))}
            {c.staff.length > MAX_STAFF_SHOWN ? (
              <Typography.Text type="secondary">{t('channels.moreStaff', { count: c.staff.length - MAX_STAFF_SHOWN })}</Typography.Text>
            ) : null}
          </div>
        )
      },
    },
    {
      title: t('channels.strategyLabel'),
      key: 'strategy',
      width: 150,
      render: (_, c) => (
        <Space size={[0, 4]} wrap>
          <StrategyTag strategy={c.routing.strategy ?? 'round_robin'} testId={`channel-strategy-${c.id}`} />
          <RoutingFlags channel={c} />
        </Space>
      ),
    },
    {
      title: t('channels.tags'),
      key: 'tags',
      width: 150,
      render: (_, c) =>
        c.tags.length ? (
          <span data-testid={`channel-tags-${c.id}`}>
            {c.tags.map((tag) => (
              <Tag key={tag.id} color="blue" style={{ marginBottom: 4 }}>
                {tag.name}
              </Tag>
            ))}
          </span>
        ) : (
          <span className="muted">—</span>
        ),
    },
    {
      title: t('channels.addsToday'),
      key: 'today',
      width: 100,
      align: 'right',
      render: (_, c) => (
        <Tooltip title={t('channels.addsTotal', { count: c.adds_total })}>
          <Typography.Text strong style={{ fontSize: 16 }} data-testid={`channel-adds-today-${c.id}`} data-value={c.adds_today}>
            {c.adds_today}
          </Typography.Text>
          <Typography.Text type="secondary" style={{ fontSize: 12, marginInlineStart: 4 }}>
            / {c.adds_total}
          </Typography.Text>
        </Tooltip>
      ),
    },
    {
      title: t('common.status'),
      key: 'status',
      width: 90,
      render: (_, c) => <ChannelStatusBadge status={c.status} testId={`channel-status-${c.id}`} />,
    },
    {
      title: t('common.actions'),
      key: 'actions',
      width: manage ? 130 : 70,
      fixed: 'right',
      render: (_, c) => <RowActions channel={c} manage={manage} />,
    },
  ]

  if (codes.error && !codes.items.length) return <ErrorState error={codes.error} onRetry={() => void codes.refetch()} />
  const filtered = !!(q || groupId || store || region || status)

  return (
    <>
      <PageHeader
        title={t('channels.title')}
        description={t('channels.subtitle')}
        extra={
          <>
            <Button icon={<ReloadOutlined />} onClick={() => void codes.refetch()} data-testid="channels-refresh">
              {t('common.refresh')}
            </Button>
            {can(PERM.channelsAnalytics) ? (
              <Button icon={<BarChartOutlined />} onClick={() => navigate('/channels/dashboard')} data-testid="channels-dashboard-link">
                {t('layout.channelDashboard')}
              </Button>
            ) : null}
            <Button icon={<AppstoreOutlined />} onClick={() => setGroupsOpen(true)} data-testid="channel-groups-manage">
              {t('channels.groups.title')}
            </Button>
            {manage ? (
              <Button type="primary" icon={<PlusOutlined />} onClick={() => navigate('/channels/new')} data-testid="channel-create">
                {t('channels.create')}
              </Button>
            ) : null}
          </>
        }
      />
      {unknownTotal ? (
        <Alert
          type="warning"
          showIcon
          closable
          style={{ marginBottom: 16 }}
          message={t('channels.unknown.title', { count: unknownTotal })}
          description={
            <>
              <div style={{ marginBottom: 8 }}>{t('channels.unknown.hint')}</div>
              <Space wrap>
                {(unknown.data ?? []).slice(0, 12).map((u) => (
                  <Tooltip key={`${u.connection_id}-${u.state}`} title={`${t('channels.unknown.last')}: ${formatDateTime(u.last_seen_at)}`}>
                    <Tag>
                      {u.state || '—'} × {u.count}
                    </Tag>
                  </Tooltip>
                ))}
              </Space>
            </>
          }
          data-testid="channels-unknown-states"
          data-count={unknownTotal}
        />
      ) : null}
      <Card>
        <Flex wrap gap={12} style={{ marginBottom: 16 }}>
          <Input.Search
            key={`q-${q}`}
            allowClear
            defaultValue={q}
            placeholder={t('channels.searchPlaceholder')}
            onSearch={(v) => setParam('q', v.trim())}
            style={{ width: 240 }}
            data-testid="channels-search"
          />
          <Select
            allowClear
            value={groupId}
            onChange={(v?: number) => setParam('group', v)}
            placeholder={t('channels.filterGroup')}
            options={(groups.data ?? []).map((g) => ({ value: g.id, label: `${g.name} (${g.code_count})` }))}
            loading={groups.isLoading}
            style={{ width: 180 }}
            data-testid="channels-filter-group"
            optionRender={(opt) => <span data-testid={`channels-filter-group-option-${opt.value}`}>{opt.label}</span>}
          />
          <AutoComplete
            key={`s-${store}`}
            allowClear
            defaultValue={store}
            options={storeOptions}
            filterOption={(input, opt) => !!opt?.value.includes(input)}
            onSelect={(v: string) => setParam('store', v)}
            onClear={() => setParam('store', '')}
            style={{ width: 170 }}
            data-testid="channels-filter-store"
          >
            <Input placeholder={t('channels.filterStore')} onPressEnter={(e) => setParam('store', e.currentTarget.value.trim())} />
          </AutoComplete>
          <AutoComplete
            key={`r-${region}`}
            allowClear
            defaultValue={region}
            options={regionOptions}
            filterOption={(input, opt) => !!opt?.value.includes(input)}
            onSelect={(v: string) => setParam('region', v)}
            onClear={() => setParam('region', '')}
            style={{ width: 150 }}
            data-testid="channels-filter-region"
          >
            <Input placeholder={t('channels.filterRegion')} onPressEnter={(e) => setParam('region', e.currentTarget.value.trim())} />
          </AutoComplete>
          <Select
            allowClear
            value={status || undefined}
            onChange={(v?: string) => setParam('status', v)}
            placeholder={t('channels.filterStatus')}
            options={['active', 'disabled', 'deleted'].map((s) => ({ value: s, label: t(`channels.status.${s}`) }))}
            style={{ width: 130 }}
            data-testid="channels-filter-status"
            optionRender={(opt) => <span data-testid={`channels-filter-status-option-${opt.value}`}>{opt.label}</span>}
          />
          {filtered ? (
            <Button onClick={() => setParams(new URLSearchParams(), { replace: true })} data-testid="channels-reset">
              {t('common.reset')}
            </Button>
          ) : null}
        </Flex>
        <Table<Channel>
          rowKey="id"
          columns={columns}
          dataSource={codes.items}
          loading={codes.isLoading}
          pagination={false}
          scroll={{ x: 1130 }}
          rowClassName={() => 'clickable-row'}
          onRow={(c) => ({ ...dataAttrs({ testid: `channel-row-${c.id}`, name: c.name }), onClick: () => navigate(`/channels/${c.id}`) })}
          data-testid="channels-table"
          locale={{
            emptyText: (
              <Empty
                image={<QrcodeOutlined style={{ fontSize: 48, color: '#bfbfbf' }} />}
                styles={{ image: { height: 56 } }}
                description={filtered ? t('channels.noMatch') : t('channels.empty')}
                data-testid="channels-empty"
              >
                {!filtered && manage ? (
                  <Button type="primary" icon={<PlusOutlined />} onClick={() => navigate('/channels/new')}>
                    {t('channels.create')}
                  </Button>
                ) : null}
              </Empty>
            ),
          }}
        />
        <LoadMore
          hasMore={!!codes.hasNextPage}
          loading={codes.isFetchingNextPage}
          onLoad={() => void codes.fetchNextPage()}
          count={codes.items.length}
          testId="channels-load-more"
        />
      </Card>
      {groupsOpen ? <GroupsModal onClose={() => setGroupsOpen(false)} /> : null}
    </>
  )
}

function RowActions({ channel: c, manage }: { channel: Channel; manage: boolean }) {
  const { t } = useTranslation()
  const navigate = useNavigate()
  const { message, modal } = App.useApp()
  const showError = useApiError()
  const queryClient = useQueryClient()
  const invalidate = () => void queryClient.invalidateQueries({ queryKey: ['channels'] })
  const setStatus = useMutation({
    mutationFn: (status: 'active' | 'disabled') => updateChannel(c.id, { status }),
    onSuccess: (saved) => {
      void message.success(saved.status === 'active' ? t('channels.enabled') : t('channels.disabled'))
      invalidate()
    },
    onError: (e) => showError(e),
  })
  const remove = useMutation({
    mutationFn: () => deleteChannel(c.id),
    onSuccess: () => {
      void message.success(t('channels.deletedMsg', { name: c.name }))
      invalidate()
    },
    onError: (e) => showError(e),
  })
  if (!manage || c.status === 'deleted') {
    return (
      <Button size="small" type="link" onClick={(e) => (e.stopPropagation(), navigate(`/channels/${c.id}`))}>
        {t('common.view')}
      </Button>
    )
  }
  const items: MenuProps['items'] = [
    c.status === 'active'
      ? { key: 'disable', icon: <PoweroffOutlined />, label: <span data-testid={`channel-disable-${c.id}`}>{t('channels.disable')}</span> }
      : { key: 'enable', icon: <PoweroffOutlined />, label: <span data-testid={`channel-enable-${c.id}`}>{t('channels.enable')}</span> },
    { type: 'divider' },
    { key: 'delete', danger: true, icon: <DeleteOutlined />, label: <span data-testid={`channel-delete-${c.id}`}>{t('common.delete')}</span> },
  ]
  return (
    <Space size={0} onClick={(e) => e.stopPropagation()}>
      <Button size="small" type="link" icon={<EditOutlined />} onClick={() => navigate(`/channels/${c.id}/edit`)} data-testid={`channel-edit-${c.id}`}>
        {t('common.edit')}
      </Button>
      <Dropdown
        trigger={['click']}
        menu={{
          items,
          onClick: ({ key, domEvent }) => {
            domEvent.stopPropagation()
            if (key === 'enable') setStatus.mutate('active')
            if (key === 'disable')
              modal.confirm({
                title: t('channels.disableConfirm', { name: c.name }),
                content: t('channels.disableHint'),
                okText: t('channels.disable'),
                okButtonProps: { danger: true, ...tid('confirm-ok') },
                onOk: () => setStatus.mutateAsync('disabled').catch(() => undefined),
              })
            if (key === 'delete')
              modal.confirm({
                title: t('channels.deleteConfirm', { name: c.name }),
                content: t('channels.deleteHint'),
                okText: t('common.delete'),
                okButtonProps: { danger: true, ...tid('confirm-ok') },
                onOk: () => remove.mutateAsync().catch(() => undefined),
              })
          },
        }}
      >
        <Button size="small" type="text" icon={<MoreOutlined />} loading={setStatus.isPending || remove.isPending} data-testid={`channel-more-${c.id}`} />
      </Dropdown>
    </Space>
  )
}

function GroupsModal({ onClose }: { onClose: () => void }) {
  const { t } = useTranslation()
  const { can } = useAuth()
  const manage = can(PERM.channelsManage)
  const groups = useChannelGroups()
  const queryClient = useQueryClient()
  const { message } = App.useApp()
  const showError = useApiError()
  const [form] = Form.useForm<{ name: string; description?: string }>()
  const [editing, setEditing] = useState<number | null>(null)
  const [editName, setEditName] = useState('')
  const invalidate = () => {
    void queryClient.invalidateQueries({ queryKey: ['channel-groups'] })
    void queryClient.invalidateQueries({ queryKey: ['channels'] })
  }
  const create = useMutation({
    mutationFn: (v: { name: string; description?: string }) => createChannelGroup({ name: v.name.trim(), description: v.description?.trim() || null }),
    onSuccess: (g) => {
      void message.success(t('channels.groups.created', { name: g.name }))
      form.resetFields()
      invalidate()
    },
    onError: (e) => showError(e, form),
  })
  const rename = useMutation({
    mutationFn: ({ id, name }: { id: number; name: string }) => updateChannelGroup(id, { name }),
    onSuccess: () => {
      setEditing(null)
      invalidate()
    },
    onError: (e) => showError(e),
  })
  const remove = useMutation({
    mutationFn: (g: ChannelGroup) => deleteChannelGroup(g.id),
    onSuccess: () => invalidate(),
    onError: (e) => showError(e),
  })
  const columns: TableColumnsType<ChannelGroup> = [
    {
      title: t('channels.groups.name'),
      key: 'name',
      render: (_, g) =>
        editing === g.id ? (
          <Input
            size="small"
            autoFocus
            value={editName}
            maxLength={100}
            onChange={(e) => setEditName(e.target.value)}
            onPressEnter={() => editName.trim() && rename.mutate({ id: g.id, name: editName.trim() })}
            onKeyDown={(e) => e.key === 'Escape' && setEditing(null)}
            data-testid={`channel-group-rename-input-${g.id}`}
          />
        ) : (
          <span>
            <div data-testid={`channel-group-name-${g.id}`}>{g.name}</div>
            {g.description ? (
              <Typography.Text type="secondary" style={{ fontSize: 12 }}>
                {g.description}
              </Typography.Text>
            ) : null}
          </span>
        ),
    },
    { title: t('channels.groups.count'), dataIndex: 'code_count', width: 90 },
  ]
  if (manage)
    columns.push({
      title: t('common.actions'),
      key: 'actions',
      width: 140,
      render: (_, g) =>
        editing === g.id ? (
          <Space size={0}>
            <Button size="small" type="link" loading={rename.isPending} onClick={() => editName.trim() && rename.mutate({ id: g.id, name: editName.trim() })} data-testid={`channel-group-rename-save-${g.id}`}>
              {t('common.save')}
            </Button>
            <Button size="small" type="link" onClick={() => setEditing(null)}>
              {t('common.cancel')}
            </Button>
          </Space>
        ) : (
          <Space size={0}>
            <Button
              size="small"
              type="link"
              onClick={() => {
                setEditing(g.id)
                setEditName(g.name)
              }}
              data-testid={`channel-group-rename-${g.id}`}
            >
              {t('tags.rename')}
            </Button>
            <Popconfirm
              title={t('channels.groups.deleteConfirm', { name: g.name })}
              description={<div style={{ maxWidth: 260 }}>{t('channels.groups.deleteHint')}</div>}
              okText={t('common.delete')}
              okButtonProps={{ danger: true, ...tid('confirm-ok') }}
              onConfirm={() => remove.mutateAsync(g).catch(() => undefined)}
            >
              <Button size="small" type="link" danger data-testid={`channel-group-delete-${g.id}`}>
                {t('common.delete')}
              </Button>
            </Popconfirm>
          </Space>
        ),
    })
  return (
    <Modal open title={t('channels.groups.title')} onCancel={onClose} footer={null} width={620} destroyOnHidden data-testid="channel-groups-modal">
      <Typography.Paragraph type="secondary">{t('channels.groups.hint')}</Typography.Paragraph>
      {manage ? (
        <Form form={form} layout="inline" onFinish={(v) => create.mutate(v)} style={{ marginBottom: 16, rowGap: 8 }}>
          <Form.Item name="name" rules={[{ required: true, whitespace: true, message: t('channels.groups.nameRequired') }]}>
            <Input placeholder={t('channels.groups.name')} maxLength={100} style={{ width: 180 }} data-testid="channel-group-form-name" />
          </Form.Item>
          <Form.Item name="description">
            <Input placeholder={t('channels.groups.description')} maxLength={500} style={{ width: 200 }} />
          </Form.Item>
          <Form.Item>
            <Button type="primary" htmlType="submit" icon={<PlusOutlined />} loading={create.isPending} data-testid="channel-group-create">
              {t('common.create')}
            </Button>
          </Form.Item>
        </Form>
      ) : null}
      <Table<ChannelGroup>
        rowKey="id"
        size="small"
        columns={columns}
        dataSource={groups.data ?? []}
        loading={groups.isLoading}
        pagination={false}
        onRow={(g) => ({ ...tid(`channel-group-row-${g.id}`) })}
        data-testid="channel-groups-table"
        locale={{ emptyText: <Empty image={Empty.PRESENTED_IMAGE_SIMPLE} description={t('channels.groups.empty')} /> }}
      />
    </Modal>
  )
}
