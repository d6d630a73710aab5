import { ReloadOutlined } from '@ant-design/icons'
import { useQuery } from '@tanstack/react-query'
import { Button, Card, Empty, Flex, Input, Select, Space, Table, Tooltip, TreeSelect, Typography } from 'antd'
import type { TableColumnsType } from 'antd'
import { useMemo } from 'react'
import { useTranslation } from 'react-i18next'
import { Link, useNavigate, useSearchParams } from 'react-router-dom'
import { listCustomers, listTagGroups, listWecomStaff, type Customer, type Follow } from '../api'
import { useAuth } from '../auth/AuthContext'
import { PERM } from '../auth/permissions'
import { ConnectionSelect, useConnectionOptions } from '../components/connections'
import { ChannelTag, CustomerAvatar, FollowStatusTag, GenderIcon, TagList, useAddWay } from '../components/customers'
import { LoadMore } from '../components/LoadMore'
import { PageHeader } from '../components/PageHeader'
import { ErrorState } from '../components/states'
import { useCursorList } from '../components/useCursorList'
import { formatDateTime, formatRelative } from '../utils/format'
import { tid } from '../utils/testid'

const MAX_FOLLOWS = 3

/** When the customer first added anyone (the earliest follow), else when we first saw them. */
export function addedAt(c: Customer): string {
  const times = c.follow_staff.map((f) => f.followed_at).filter((x): x is string => !!x)
  return times.length ? times.reduce((a, b) => (a < b ? a : b)) : c.created_at
}

export default function CustomersPage() {
  const { t } = useTranslation()
  const { can } = useAuth()
  const navigate = useNavigate()
  const addWay = useAddWay()
  const [params, setParams] = useSearchParams()
  const q = params.get('q') ?? ''
  const staff = params.get('staff') ?? ''
  const tagId = params.get('tag') ? Number(params.get('tag')) : undefined
  const connectionId = params.get('connection') ? Number(params.get('connection')) : undefined
  const setParam = (key: string, value: string | number | undefined | null) => {
    const next = new URLSearchParams(params)
    if (value === undefined || value === null || value === '') next.delete(key)
    else next.set(key, String(value))
    setParams(next, { replace: true })
  }

  const { connections } = useConnectionOptions()
  const customers = useCursorList(['customers', q, staff, tagId ?? null, connectionId ?? null], (cursor) =>
    listCustomers({ limit: 50, cursor, q: q || undefined, staff: staff || undefined, tag_id: tagId, connection_id: connectionId }),
  )
  const tags = useQuery({ queryKey: ['tags', null], queryFn: () => listTagGroups() })
  const tagTree = useMemo(
    () =>
      (tags.data ?? [])
        .filter((g) => g.tags.length)
        .map((g) => ({
          title: g.name,
          value: `g${g.id}`,
          selectable: false,
          children: g.tags.map((tag) => ({ title: tag.name, value: tag.id })),
        })),
    [tags.data],
  )
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
    { title: t('customers.tags'), key: 'tags', width: 260, render: (_, c) => <TagList tags={c.tags} max={4} testId={`customer-tags-${c.id}`} /> },
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

  const filtered = !!(q || staff || tagId || connectionId)

  return (
    <>
      <PageHeader
        title={t('customers.title')}
        extra={
          <Button icon={<ReloadOutlined />} onClick={() => void customers.refetch()} data-testid="customers-refresh">
            {t('common.refresh')}
          </Button>
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
          <TreeSelect
            allowClear
            showSearch
            treeNodeFilterProp="title"
            treeDefaultExpandAll
            value={tagId}
            onChange={(v?: number | string) => setParam('tag', typeof v === 'number' ? v : undefined)}
            treeData={tagTree}
            loading={tags.isLoading}
            placeholder={t('customers.filterTag')}
            style={{ width: 220 }}
            data-testid="customers-filter-tag"
            notFoundContent={<Empty image={Empty.PRESENTED_IMAGE_SIMPLE} description={t('tags.empty')} />}
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
            <Button onClick={() => setParams(new URLSearchParams(), { replace: true })} data-testid="customers-reset">
              {t('common.reset')}
            </Button>
          ) : null}
        </Flex>
        <Table<Customer>
          rowKey="id"
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
    </>
  )
}
