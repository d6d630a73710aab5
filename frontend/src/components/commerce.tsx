// Shared pieces of the commerce pages: platform / status tags, money, the shops query and the order table.
import { GiftOutlined, ShopOutlined } from '@ant-design/icons'
import { useQuery } from '@tanstack/react-query'
import { Badge, Empty, Space, Table, Tag, Tooltip, Typography } from 'antd'
import type { TableColumnsType } from 'antd'
import type { CSSProperties, ReactNode } from 'react'
import { useTranslation } from 'react-i18next'
import { Link } from 'react-router-dom'
import { getOrder, listShops, type Order } from '../api'
import { formatDateTime, formatFen, formatRelative } from '../utils/format'
import { tid } from '../utils/testid'

export const SHOP_PLATFORMS = ['youzan', 'taobao', 'douyin', 'jd', 'pdd'] as const
export type ShopPlatform = (typeof SHOP_PLATFORMS)[number]
export const ORDER_STATUSES = ['created', 'paid', 'shipped', 'completed', 'closed'] as const
export const REFUND_STATES = ['none', 'partial_refunding', 'partial_refunded', 'full_refunding', 'full_refunded'] as const

const PLATFORM_COLOR: Record<string, string> = {
  youzan: 'red',
  taobao: 'orange',
  douyin: 'geekblue',
  jd: 'volcano',
  pdd: 'magenta',
}

const STATUS_COLOR: Record<string, string> = {
  created: 'default',
  paid: 'blue',
  shipped: 'cyan',
  completed: 'green',
  closed: 'default',
}

const REFUND_COLOR: Record<string, string> = {
  none: 'default',
  partial_refunding: 'orange',
  partial_refunded: 'gold',
  full_refunding: 'orange',
  full_refunded: 'red',
}

const HEALTH_BADGE: Record<string, 'success' | 'warning' | 'error' | 'default' | 'processing'> = {
  ok: 'success',
  lagging: 'warning',
  failing: 'error',
  never_synced: 'processing',
  disabled: 'default',
}

/** A platform's name in the console's language ("淘宝/天猫"). */
export function usePlatformName() {
  const { t } = useTranslation()
  return (platform: string) => t(`commerce.platforms.${platform}`, { defaultValue: t(`connections.platforms.${platform}`, { defaultValue: platform }) })
}

export function ShopPlatformTag({ platform, testId }: { platform: string; testId?: string }) {
  const name = usePlatformName()
  return (
    <Tag color={PLATFORM_COLOR[platform] ?? 'default'} icon={<ShopOutlined />} data-testid={testId} data-platform={platform} style={{ marginInlineEnd: 4 }}>
      {name(platform)}
    </Tag>
  )
}

/** 待付款 / 已付款 / 已发货 / 已完成 / 已关闭, with the platform's own status in small text. */
export function OrderStatusTag({ status, platformStatus, testId }: { status: string; platformStatus?: string | null; testId?: string }) {
  const { t } = useTranslation()
  return (
    <span data-testid={testId} data-status={status}>
      <Tag color={STATUS_COLOR[status] ?? 'default'}>{t(`commerce.orderStatus.${status}`, { defaultValue: status })}</Tag>
      {platformStatus ? (
        <Typography.Text type="secondary" ellipsis={{ tooltip: platformStatus }} style={{ display: 'block', fontSize: 12, maxWidth: 150 }}>
          {platformStatus}
        </Typography.Text>
      ) : null}
    </span>
  )
}

export function RefundStateTag({ state, testId }: { state: string; testId?: string }) {
  const { t } = useTranslation()
  if (!state || state === 'none') {
    return (
      <span className="muted" data-testid={testId} data-state="none">
        —
      </span>
    )
  }
  return (
    <Tag color={REFUND_COLOR[state] ?? 'default'} data-testid={testId} data-state={state}>
      {t(`commerce.refundState.${state}`, { defaultValue: state })}
    </Tag>
  )
}

export function HealthBadge({ health, testId }: { health: string; testId?: string }) {
  const { t } = useTranslation()
  return (
    <Tooltip title={t(`commerce.healthHint.${health}`, { defaultValue: '' }) || undefined}>
      <span data-testid={testId} data-health={health}>
        <Badge status={HEALTH_BADGE[health] ?? 'default'} text={t(`commerce.health.${health}`, { defaultValue: health })} />
      </span>
    </Tooltip>
  )
}

/** Fen shown as yuan ("¥169.00"), with the fen in `data-fen`. */
export function Money({
  fen,
  testId,
  strong,
  type,
  style,
}: {
  fen?: number | null
  testId?: string
  strong?: boolean
  type?: 'secondary' | 'danger' | 'success'
  style?: CSSProperties
}) {
  return (
    <Typography.Text strong={strong} type={type} data-testid={testId} data-fen={fen ?? ''} style={{ whiteSpace: 'nowrap', ...style }}>
      {formatFen(fen)}
    </Typography.Text>
  )
}

export function OrderLabels({ labels, testId }: { labels: string[]; testId?: string }) {
  if (!labels.length) return <span className="muted" data-testid={testId}>—</span>
  return (
    <span data-testid={testId}>
      {labels.map((label) => (
        <Tag key={label} color={label.startsWith('赠品') ? 'purple' : label.startsWith('预售') ? 'cyan' : 'gold'} icon={label.startsWith('赠品') ? <GiftOutlined /> : undefined} style={{ marginBottom: 4 }}>
          {label}
        </Tag>
      ))}
    </span>
  )
}

/** Every shop connection with its sync health; `refetchMs` polls (the shops page refreshes every 5 s). */
export function useShops(refetchMs?: number) {
  return useQuery({
    queryKey: ['commerce', 'shops'],
    queryFn: listShops,
    refetchInterval: refetchMs ?? false,
    staleTime: refetchMs ? 0 : 30_000,
  })
}

/** One order's details (cached): for the logistics of a listed order, which the list does not carry. */
export function useOrder(id: number | undefined, enabled = true) {
  return useQuery({
    queryKey: ['commerce', 'order', id],
    queryFn: () => getOrder(id as number),
    enabled: enabled && id !== undefined && Number.isInteger(id) && id > 0,
    staleTime: 30_000,
  })
}

/** The tracking numbers of a shipped order, read from its details. */
export function OrderTracking({ order, testId }: { order: Order; testId?: string }) {
  const shipped = order.status === 'shipped' || order.status === 'completed' || !!order.shipped_at
  const detail = useOrder(order.id, shipped)
  if (!shipped) return <span className="muted" data-testid={testId}>—</span>
  const items = (detail.data?.logistics ?? []) as { company?: string | null; tracking_no?: string | null }[]
  if (!items.length) return <span className="muted" data-testid={testId}>{detail.isLoading ? '…' : '—'}</span>
  return (
    <span data-testid={testId} data-tracking={items.map((l) => l.tracking_no ?? '').join(',')}>
      {items.map((l, i) => (
        <div key={`${l.company}-${l.tracking_no}-${i}`} style={{ whiteSpace: 'nowrap' }}>
          {l.company ? <Typography.Text type="secondary">{l.company} </Typography.Text> : null}
          <Typography.Text copyable={l.tracking_no ? { text: l.tracking_no } : false}>{l.tracking_no || '—'}</Typography.Text>
        </div>
      ))}
    </span>
  )
}

export type OrderColumn = 'id' | 'platform' | 'shop' | 'customer' | 'items' | 'amount' | 'refunded' | 'status' | 'refund' | 'tracking' | 'labels' | 'placed'

/** Orders as a table: the columns asked for, rows `order-row-{id}`, ids linking to the order's page. */
export function OrdersTable({
  orders,
  loading,
  columns: wanted,
  testId,
  empty,
  size,
  fromList,
}: {
  orders: Order[]
  loading?: boolean
  columns: OrderColumn[]
  testId: string
  empty?: ReactNode
  size?: 'small' | 'middle'
  /** Links tell the order's page it was opened from the orders list (its back link then goes back). */
  fromList?: boolean
}) {
  const { t } = useTranslation()
  const all: Record<OrderColumn, TableColumnsType<Order>[number]> = {
    id: {
      title: t('commerce.orders.orderId'),
      key: 'id',
      width: 180,
      fixed: 'left',
      render: (_, o) => (
        <Link to={`/commerce/orders/${o.id}`} state={fromList ? { fromList: true } : undefined} data-testid={`order-link-${o.id}`} data-external-id={o.external_id}>
          <Typography.Text style={{ fontFamily: 'monospace', color: 'inherit' }}>{o.external_id}</Typography.Text>
        </Link>
      ),
    },
    platform: { title: t('commerce.orders.platform'), key: 'platform', width: 120, render: (_, o) => <ShopPlatformTag platform={o.platform} testId={`order-platform-${o.id}`} /> },
    shop: { title: t('commerce.orders.shop'), dataIndex: 'shop_name', width: 160, ellipsis: true },
    customer: {
      title: t('commerce.orders.customer'),
      key: 'customer',
      width: 160,
      render: (_, o) =>
        o.customer_id ? (
          <span>
            <Link to={`/customers/${o.customer_id}`} data-testid={`order-customer-${o.id}`} onClick={(e) => e.stopPropagation()}>
              {o.customer_name || `#${o.customer_id}`}
            </Link>
            {o.buyer_nick && o.buyer_nick !== o.customer_name ? (
              <Typography.Text type="secondary" style={{ display: 'block', fontSize: 12 }}>
                {o.buyer_nick}
              </Typography.Text>
            ) : null}
          </span>
        ) : (
          <Tooltip title={t('commerce.orders.unlinked')}>
            <Typography.Text type="secondary">{o.buyer_nick || '—'}</Typography.Text>
          </Tooltip>
        ),
    },
    items: {
      title: t('commerce.orders.items'),
      key: 'items',
      width: 220,
      ellipsis: { showTitle: false },
      render: (_, o) => (
        <Tooltip title={o.first_item_title}>
          <span data-testid={`order-items-${o.id}`}>
            {o.first_item_title || '—'}
            <Typography.Text type="secondary" style={{ display: 'block', fontSize: 12 }}>
              {t('commerce.orders.itemsMore', { count: o.item_count })}
            </Typography.Text>
          </span>
        </Tooltip>
      ),
    },
    amount: { title: t('commerce.orders.amount'), key: 'amount', width: 120, align: 'right', render: (_, o) => <Money fen={o.payment_fen} strong testId={`order-amount-${o.id}`} /> },
    refunded: {
      title: t('commerce.order.refunded'),
      key: 'refunded',
      width: 110,
      align: 'right',
      render: (_, o) => (o.refunded_fen ? <Money fen={o.refunded_fen} type="danger" testId={`order-refunded-${o.id}`} /> : <span className="muted">—</span>),
    },
    status: {
      title: t('commerce.orders.status'),
      key: 'status',
      width: 170,
      render: (_, o) => <OrderStatusTag status={o.status} platformStatus={o.platform_status} testId={`order-status-${o.id}`} />,
    },
    refund: { title: t('commerce.orders.refund'), key: 'refund', width: 120, render: (_, o) => <RefundStateTag state={o.refund_state} testId={`order-refund-${o.id}`} /> },
    tracking: { title: t('commerce.customer.tracking'), key: 'tracking', width: 190, render: (_, o) => <OrderTracking order={o} testId={`order-tracking-${o.id}`} /> },
    labels: { title: t('commerce.orders.labels'), key: 'labels', width: 160, render: (_, o) => <OrderLabels labels={o.labels} testId={`order-labels-${o.id}`} /> },
    placed: {
      title: t('commerce.orders.placedAt'),
      key: 'placed',
      width: 170,
      render: (_, o) => (
        <Tooltip title={formatRelative(o.placed_at)}>
          <span>{formatDateTime(o.placed_at)}</span>
        </Tooltip>
      ),
    },
  }
  const columns = wanted.map((k) => all[k])
  const width = columns.reduce((n, c) => n + (typeof c.width === 'number' ? c.width : 150), 0)
  return (
    <Table<Order>
      rowKey="id"
      size={size}
      columns={columns}
      dataSource={orders}
      loading={loading}
      pagination={false}
      scroll={{ x: width }}
      data-testid={testId}
      onRow={(o) => ({ ...tid(`order-row-${o.id}`), 'data-platform': o.platform } as object)}
      locale={empty ? { emptyText: empty } : undefined}
    />
  )
}

export function EmptyOrders({ text, testId }: { text: string; testId?: string }) {
  return <Empty image={Empty.PRESENTED_IMAGE_SIMPLE} description={text} data-testid={testId} />
}

/** Platform tags of a list of platforms. */
export function PlatformTags({ platforms, testId }: { platforms: string[]; testId?: string }) {
  return (
    <Space size={0} wrap data-testid={testId} data-platforms={platforms.join(',')}>
      {platforms.map((p) => (
        <ShopPlatformTag key={p} platform={p} />
      ))}
    </Space>
  )
}
