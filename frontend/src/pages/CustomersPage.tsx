import { FilterOutlined, QrcodeOutlined, ReloadOutlined, TagsOutlined } from '@ant-design/icons'
import { useQuery, useQueryClient } from '@tanstack/react-query'
import { AutoComplete, Badge, Button, Card, DatePicker, Empty, Flex, Input, Popover, Select, Space, Table, Tag, Tooltip, Typography } from 'antd'
import type { TableColumnsType } from 'antd'
import dayjs from 'dayjs'
import { useMemo, useState } from 'react'
import { useTranslation } from 'react-i18next'
import { Link, useNavigate, useSearchParams } from 'react-router-dom'
import { listChannels, listCustomers, listWecomStaff, type Customer, type CustomerFilter, type Follow } from '../api'
import { useAuth } from '../auth/AuthContext'
import { PERM } from '../auth/permissions'
import { ConnectionSelect, useConnectionOptions } from '../components/connections'
import { BulkTagModal, TagMultiSelect, useTagTree } from '../components/customerTags'
import { ChannelTag, CustomerAvatar, FollowStatusTag, GenderIcon, SourceChannel, TagList, useAddWay } from '../components/customers'
import { LoadMore } from '../components/LoadMore'
import { PageHeader } from '../components/PageHeader'
import { ErrorState } from '../components/states'
import { useCursorList } from '../components/useCursorList'
import { formatDateTime, formatRelative } from '../utils/format'
import { tid } from '../utils/testid'

const MAX_FOLLOWS = 3

/** When the brand first met the customer (the API's earliest add), else the earliest follow. */
export function addedAt(c: Customer): string {
  if (c.added_at) return c.added_at
  const times = c.follow_staff.map((f) => f.followed_at).filter((x): x is string => !!x)
  return times.length ? times.reduce((a, b) => (a < b ? a : b)) : c.created_at
}

const ids = (v: string | null) => (v ? v.split(',').map(Number).filter((n) => Number.isInteger(n) && n > 0) : [])

export default function CustomersPage() {
  const { t } = useTranslation()
  const { can } = useAuth()
  const navigate = useNavigate()
  const addWay = useAddWay()
  const queryClient = useQueryClient()
  const [params, setParams] = useSearchParams()
  const [bulkOpen, setBulkOpen] = useState(false)
  const [selected, setSelected] = useState<number[]>([])
  const q = params.get('q') ?? ''
  const staff = params.get('staff') ?? ''
  // `tag` (one tag, older links) reads as tags_all
  const tagsAll = [...new Set([...ids(params.get('tags_all')), ...ids(params.get('tag'))])]
  const tagsAny = ids(params.get('tags_any'))
  const tagsNone = ids(params.get('tags_none'))
  const channelId = params.get('channel') ? Number(params.get('channel')) : undefined
  const store = params.get('store') ?? ''
  const region = params.get('region') ?? ''
  const addedFrom = params.get('added_from') ?? ''
  const addedTo = params.get('added_to') ?? ''
  const connectionId = params.get('connection') ? Number(params.get('connection')) : undefined
  const setParam = (key: string, value: string | number | number[] | undefined | null) => {
    const next = new URLSearchParams(params)
    const text = Array.isArray(value) ? value.join(',') : value
    if (text === undefined || text === null || text === '') next.delete(key)
    else next.set(key, String(text))
    if (key === 'tags_all') next.delete('tag')
    setParams(next, { replace: true })
    setSelected([])
  }
  const setRange = (from: string, to: string) => {
    const next = new URLSearchParams(params)
    if (from) next.set('added_from', from)
    else next.delete('added_from')
    if (to) next.set('added_to', to)
    else next.delete('added_to')
    setParams(next, { replace: true })
    setSelected([])
  }

  const filter: CustomerFilter = {
    q: q || null,
    staff: staff || null,
    tags_all: tagsAll,
    tags_any: tagsAny,
    tags_none: tagsNone,
    channel_id: channelId ?? null,
    store: store || null,
    region: region || null,
    connection_id: connectionId ?? null,
    added_from: addedFrom || null,
    added_to: addedTo || null,
  }
  const { connections } = useConnectionOptions()
  const customers = useCursorList(['customers', filter], (cursor) =>
    listCustomers({
      limit: 50,
      cursor,
      q: q || undefined,
      staff: staff || undefined,
      tags_all: tagsAll.length ? tagsAll : undefined,
      tags_any: tagsAny.length ? tagsAny : undefined,
      tags_none: tagsNone.length ? tagsNone : undefined,
      channel_id: channelId,
      store: store || undefined,
      region: region || undefined,
      added_from: addedFrom || undefined,
      added_to: addedTo || undefined,
      connection_id: connectionId,
    }),
  )
  const channels = useQuery({
    queryKey: ['channels', 'list', 'all-names'],
    queryFn: () => listChannels({ limit: 200 }),
    enabled: can(PERM.channelsView),
    staleTime: 60_000,
  })
  const places = useMemo(() => {
    const stores = new Set<string>()
    const regions = new Set<string>()
    for (const c of channels.data?.items ?? []) {
      if (c.store) stores.add(c.store)
      if (c.region) regions.add(c.region)
    }
    for (const c of customers.items) {
      if (c.store) stores.add(c.store)
      if (c.region) regions.add(c.region)
    }
    return { stores: [...stores].sort().map((value) => ({ value })), regions: [...regions].sort().map((value) => ({ value })) }
  }, [channels.data, customers.items])
  const staffList = useQuery({
    queryKey: ['wecom-staff', 'picker'],
    queryFn: () => listWecomStaff({ limit: 200, has_customer_contact: true }),
    enabled: can(PERM.usersView),
    staleTime: 60_000,
  })
  const staffOptions = (staffList.data?.items ?? []).map((s) => ({ value: s.userid, label: `${s.name} (${s.userid})` }))

  const followLine = (f: Follow, c: Customer, i: number) => (
    <div key={`${f.connection_id}-${f.staff_userid}`} style={{ marginBottom: 4 }} data-testid={`customer-follow-${c.id}-${f.staff_userid}`}>
      <Space size={4} wrap>
        <Typography.Text strong={f.status === 'active'} delete={f.status !== 'active'}>
          {f.staff_name || f.staff_userid}
        </Typography.Text>
        {f.remark ? <Typography.Text type="secondary">{t('customers.remarkInline', { remark: f.remark })}</Typography.Text> : null}
        <ChannelTag follow={f} />
        {f.add_way != null && !f.state ? <Typography.Text type="secondary" style={{ fontSize: 12 }}>{addWay(f.add_way)}</Typography.Text> : null}
        {f.status !== 'active' ? <FollowStatusTag status={f.status} testId={i === 0 ? `customer-follow-status-${c.id}` : undefined} /> : null}
      </Space>
    </div>
  )

  const columns: TableColumnsType<Customer> = [
    {
      title: t('customers.customer'),
      key: 'customer',
      width: 240,
      fixed: 'left',
      render: (_, c) => (
        <Space>
          <CustomerAvatar src={c.avatar_url} />
          <span>
            <Link to={`/customers/${c.id}`} state={{ fromList: true }} onClick={(e) => e.stopPropagation()} data-testid={`customer-link-${c.id}`}>
              {c.name || t('customers.unnamed')}
            </Link>{' '}
            <GenderIcon gender={c.gender} />
            {c.corp_name ? (
              <Typography.Text type="secondary" style={{ display: 'block', fontSize: 12 }}>
                @{c.corp_name}
              </Typography.Text>
            ) : null}
          </span>
        </Space>
      ),
    },
    {
      title: t('customers.followStaff'),
      key: 'follows',
      render: (_, c) => {
        if (!c.follow_staff.length) return <span className="muted">—</span>
        const shown = c.follow_staff.slice(0, MAX_FOLLOWS)
        return (
          <>
            {shown.map((f, i) => followLine(f, c, i))}
            {c.follow_staff.length > MAX_FOLLOWS ? (
              <Typography.Text type="secondary">{t('customers.moreFollows', { count: c.follow_staff.length - MAX_FOLLOWS })}</Typography.Text>
            ) : null}
          </>
        )
      },
    },
    { title: t('customers.tags'), key: 'tags', width: 240, render: (_, c) => <TagList tags={c.tags} max={4} testId={`customer-tags-${c.id}`} /> },
    {
      title: t('customers.source'),
      key: 'source',
      width: 170,
      render: (_, c) => (
        <span>
          <SourceChannel customer={c} testId={`customer-source-${c.id}`} />
          {c.store ? (
            <Typography.Text type="secondary" style={{ display: 'block', fontSize: 12 }}>
              {[c.store, c.region].filter(Boolean).join(' · ')}
            </Typography.Text>
          ) : null}
        </span>
      ),
    },
    {
      title: t('customers.addedAt'),
      key: 'added',
      width: 170,
      render: (_, c) => {
        const at = addedAt(c)
        return (
          <Tooltip title={formatRelative(at)}>
            <span>{formatDateTime(at)}</span>
          </Tooltip>
        )
      },
    },
  ]

  if (customers.error && !customers.items.length) return <ErrorState error={customers.error} onRetry={() => void customers.refetch()} />

  const tagFilterCount = tagsAll.length + tagsAny.length + tagsNone.length
  const filtered = !!(q || staff || tagFilterCount || connectionId || channelId || store || region || addedFrom || addedTo)
  const canEdit = can(PERM.customersEdit)

  return (
    <>
      <PageHeader
        title={t('customers.title')}
        extra={
          <>
            <Button icon={<ReloadOutlined />} onClick={() => void customers.refetch()} data-testid="customers-refresh">
              {t('common.refresh')}
            </Button>
            {canEdit ? (
              <Button type="primary" icon={<TagsOutlined />} onClick={() => setBulkOpen(true)} data-testid="customers-bulk-tag">
                {selected.length ? t('customers.bulk.buttonSelected', { count: selected.length }) : t('customers.bulk.button')}
              </Button>
            ) : null}
          </>
        }
      />
      <Card>
        <Flex wrap gap={12} style={{ marginBottom: 16 }}>
          <Input.Search
            key={`q-${q}`}
            allowClear
            defaultValue={q}
            placeholder={t('customers.searchPlaceholder')}
            onSearch={(v) => setParam('q', v.trim())}
            style={{ width: 320 }}
            data-testid="customers-search"
          />
          {can(PERM.usersView) ? (
            <Select
              allowClear
              showSearch
              optionFilterProp="label"
              value={staff || undefined}
              onChange={(v?: string) => setParam('staff', v)}
              options={staffOptions}
              loading={staffList.isLoading}
              placeholder={t('customers.filterStaff')}
              style={{ width: 220 }}
              data-testid="customers-filter-staff"
              optionRender={(opt) => <span data-testid={`customers-filter-staff-option-${opt.value}`}>{opt.label}</span>}
            />
          ) : (
            <Input.Search
              key={`s-${staff}`}
              allowClear
              defaultValue={staff}
              placeholder={t('customers.filterStaffUserid')}
              onSearch={(v) => setParam('staff', v.trim())}
              style={{ width: 220 }}
              data-testid="customers-filter-staff"
            />
          )}
          <Popover
            trigger="click"
            placement="bottomLeft"
            title={t('customers.tagFilter.title')}
            content={
              <div style={{ width: 320 }} data-testid="customers-tag-filter-panel">
                {(
                  [
                    ['tags_all', tagsAll, t('customers.tagFilter.all')],
                    ['tags_any', tagsAny, t('customers.tagFilter.any')],
                    ['tags_none', tagsNone, t('customers.tagFilter.none')],
                  ] as const
                ).map(([key, value, text]) => (
                  <div key={key} style={{ marginBottom: 12 }}>
                    <Typography.Text type="secondary">{text}</Typography.Text>
                    <TagMultiSelect value={value} onChange={(v) => setParam(key, v)} testId={`customers-filter-${key.replace('_', '-')}`} style={{ width: '100%' }} />
                  </div>
                ))}
              </div>
            }
          >
            <Button icon={<FilterOutlined />} data-testid="customers-filter-tag">
              {t('customers.filterTag')}
              {tagFilterCount ? <Badge count={tagFilterCount} size="small" style={{ marginInlineStart: 4 }} /> : null}
            </Button>
          </Popover>
          {can(PERM.channelsView) ? (
            <Select
              allowClear
              showSearch
              optionFilterProp="label"
              value={channelId}
              onChange={(v?: number) => setParam('channel', v)}
              options={(channels.data?.items ?? []).map((c) => ({ value: c.id, label: c.name }))}
              loading={channels.isLoading}
              placeholder={
                <span>
                  <QrcodeOutlined /> {t('customers.filterChannel')}
                </span>
              }
              style={{ width: 190 }}
              data-testid="customers-filter-channel"
              optionRender={(opt) => <span data-testid={`customers-filter-channel-option-${opt.value}`}>{opt.label}</span>}
            />
          ) : null}
          <AutoComplete
            key={`store-${store}`}
            allowClear
            defaultValue={store}
            options={places.stores}
            filterOption={(input, opt) => !!opt?.value.includes(input)}
            onSelect={(v: string) => setParam('store', v)}
            onClear={() => setParam('store', '')}
            style={{ width: 150 }}
            data-testid="customers-filter-store"
          >
            <Input placeholder={t('customers.filterStore')} onPressEnter={(e) => setParam('store', e.currentTarget.value.trim())} />
          </AutoComplete>
          <AutoComplete
            key={`region-${region}`}
            allowClear
            defaultValue={region}
            options={places.regions}
            filterOption={(input, opt) => !!opt?.value.includes(input)}
            onSelect={(v: string) => setParam('region', v)}
            onClear={() => setParam('region', '')}
            style={{ width: 120 }}
            data-testid="customers-filter-region"
          >
            <Input placeholder={t('customers.filterRegion')} onPressEnter={(e) => setParam('region', e.currentTarget.value.trim())} />
          </AutoComplete>
          <DatePicker.RangePicker
            value={[addedFrom && /^\d{4}-\d{2}-\d{2}$/.test(addedFrom) ? dayjs(addedFrom) : null, addedTo && /^\d{4}-\d{2}-\d{2}$/.test(addedTo) ? dayjs(addedTo) : null]}
            allowEmpty={[true, true]}
            placeholder={[t('customers.addedFrom'), t('customers.addedTo')]}
            onChange={(v) => setRange(v?.[0]?.format('YYYY-MM-DD') ?? '', v?.[1]?.format('YYYY-MM-DD') ?? '')}
            presets={[
              { label: t('channels.stats.today'), value: [dayjs().startOf('day'), dayjs().startOf('day')] },
              { label: t('channels.stats.last7'), value: [dayjs().subtract(6, 'day'), dayjs()] },
              { label: t('channels.stats.last30'), value: [dayjs().subtract(29, 'day'), dayjs()] },
            ]}
            style={{ width: 260 }}
            data-testid="customers-filter-added"
          />
          {connections.length > 1 ? (
            <ConnectionSelect
              value={connectionId}
              onChange={(v) => setParam('connection', v)}
              allowClear
              placeholder={t('customers.filterConnection')}
              style={{ width: 220 }}
              testId="customers-filter-connection"
            />
          ) : null}
          {filtered ? (
            <Button
              onClick={() => {
                setParams(new URLSearchParams(), { replace: true })
                setSelected([])
              }}
              data-testid="customers-reset"
            >
              {t('common.reset')}
            </Button>
          ) : null}
        </Flex>
        {filtered && tagFilterCount ? (
          <Space wrap style={{ marginBottom: 12 }} data-testid="customers-tag-filter-summary">
            {tagsAll.length ? <FilterTags label={t('customers.tagFilter.allShort')} ids={tagsAll} /> : null}
            {tagsAny.length ? <FilterTags label={t('customers.tagFilter.anyShort')} ids={tagsAny} /> : null}
            {tagsNone.length ? <FilterTags label={t('customers.tagFilter.noneShort')} ids={tagsNone} color="red" /> : null}
          </Space>
        ) : null}
        <Table<Customer>
          rowKey="id"
          rowSelection={
            canEdit
              ? {
                  selectedRowKeys: selected,
                  onChange: (keys) => setSelected(keys as number[]),
                  preserveSelectedRowKeys: true,
                  getCheckboxProps: (c) => ({ ...({ 'data-testid': `customer-select-${c.id}` } as object) }),
                }
              : undefined
          }
          columns={columns}
          dataSource={customers.items}
          loading={customers.isLoading}
          pagination={false}
          scroll={{ x: 1000 }}
          rowClassName={() => 'clickable-row'}
          onRow={(c) => ({ ...tid(`customer-row-${c.id}`), onClick: () => navigate(`/customers/${c.id}`, { state: { fromList: true } }) })}
          data-testid="customers-table"
          locale={{
            emptyText: (
              <Empty description={filtered ? t('customers.noMatch') : t('customers.empty')} data-testid="customers-empty">
                {!filtered && can(PERM.connectionsView) ? (
                  <Link to="/settings/connections">
                    <Button type="primary">{t('layout.connections')}</Button>
                  </Link>
                ) : null}
              </Empty>
            ),
          }}
        />
        <LoadMore
          hasMore={!!customers.hasNextPage}
          loading={customers.isFetchingNextPage}
          onLoad={() => void customers.fetchNextPage()}
          count={customers.items.length}
          testId="customers-load-more"
        />
      </Card>
      {bulkOpen ? (
        <BulkTagModal
          filter={filter}
          filtered={filtered}
          selected={selected}
          onClose={() => setBulkOpen(false)}
          onDone={() => {
            void queryClient.invalidateQueries({ queryKey: ['customers'] })
          }}
        />
      ) : null}
    </>
  )
}

function FilterTags({ label, ids, color = 'blue' }: { label: string; ids: number[]; color?: string }) {
  const tags = useTagTree()
  return (
    <span>
      <Typography.Text type="secondary">{label}</Typography.Text>{' '}
      {ids.map((id) => (
        <Tag key={id} color={color}>
          {tags.nameOf(id)}
        </Tag>
      ))}
    </span>
  )
}
