// The customer 360 page's 订单 card: aggregates over every shop, the last 3 purchases, and all orders.
import { ShoppingOutlined } from '@ant-design/icons'
import { useQuery, useQueryClient } from '@tanstack/react-query'
import { Card, Col, Divider, Empty, List, Row, Space, Statistic, Table, Tag, Tooltip, Typography } from 'antd'
import type { TableColumnsType } from 'antd'
import { useEffect } from 'react'
import { useTranslation } from 'react-i18next'
import { Link } from 'react-router-dom'
import { listCustomerOrders, listRecentPurchases, type CustomerDetail, type OrderDetail, type ShopOrderStats } from '../api'
import { formatDateTime, formatFen, formatRelative } from '../utils/format'
import { tid } from '../utils/testid'
import { EmptyOrders, Money, OrdersTable, OrderStatusTag, ShopPlatformTag } from './commerce'
import { LoadMore } from './LoadMore'
import { useCursorList } from './useCursorList'

function RfmScore({ letter, value }: { letter: string; value: number }) {
  const color = value >= 4 ? 'green' : value >= 3 ? 'blue' : value > 0 ? 'orange' : 'default'
  return (
    <Tag color={color} style={{ fontSize: 14, padding: '2px 8px' }} data-testid={`customer-rfm-${letter.toLowerCase()}`} data-value={value}>
      {letter} {value || '—'}
    </Tag>
  )
}

export function CustomerOrdersCard({ customer }: { customer: CustomerDetail }) {
  const { t } = useTranslation()
  const queryClient = useQueryClient()
  const stats = customer.orders ?? null
  const orders = useCursorList(['commerce', 'customer-orders', customer.id], (cursor) => listCustomerOrders(customer.id, { limit: 20, cursor }))
  const recent = useQuery({ queryKey: ['commerce', 'recent-purchases', customer.id], queryFn: () => listRecentPurchases(customer.id, 3) })
  // the recent purchases are whole orders: the order pages and the tracking column need not read them again
  useEffect(() => {
    for (const o of recent.data ?? []) queryClient.setQueryData(['commerce', 'order', o.id], o)
  }, [recent.data, queryClient])

  const shopColumns: TableColumnsType<ShopOrderStats> = [
    { title: t('commerce.customer.shop'), key: 'shop', render: (_, s) => <Space size={4}><ShopPlatformTag platform={s.platform} />{s.shop_name}</Space> },
    { title: t('commerce.customer.orderCount'), dataIndex: 'order_count', width: 80, align: 'right' },
    { title: t('commerce.customer.spent'), dataIndex: 'spent_fen', width: 110, align: 'right', render: (v: number) => formatFen(v) },
    { title: t('commerce.customer.lastOrder'), dataIndex: 'last_order_at', width: 170, render: (v: string | null) => formatDateTime(v) },
  ]

  return (
    <Card
      size="small"
      title={
        <Space>
          <ShoppingOutlined />
          {t('commerce.customer.title')}
        </Space>
      }
      extra={
        <Link to={`/commerce/orders?customer=${customer.id}`} data-testid="customer-orders-all">
          {t('commerce.customer.allOrders')}
        </Link>
      }
      data-testid="customer-orders-card"
    >
      {stats && stats.order_count > 0 ? (
        <>
          <Row gutter={[16, 16]} data-testid="customer-order-stats">
            <Col xs={12} md={6} lg={4}>
              <Statistic title={t('commerce.customer.orderCount')} value={stats.order_count} valueRender={(n) => <span data-testid="customer-order-count" data-value={stats.order_count}>{n}</span>} />
            </Col>
            <Col xs={12} md={6} lg={4}>
              <Statistic
                title={
                  <Tooltip title={t('commerce.customer.aggregatesHint')}>
                    <span>{t('commerce.customer.totalSpent')}</span>
                  </Tooltip>
                }
                value={formatFen(stats.total_spent_fen)}
                valueRender={(n) => <span data-testid="customer-total-spent" data-fen={stats.total_spent_fen}>{n}</span>}
              />
            </Col>
            <Col xs={12} md={6} lg={4}>
              <Statistic
                title={t('commerce.customer.avgOrder')}
                value={formatFen(stats.avg_order_fen)}
                valueRender={(n) => <span data-testid="customer-avg-order" data-fen={stats.avg_order_fen}>{n}</span>}
              />
            </Col>
            <Col xs={12} md={6} lg={4}>
              <Statistic
                title={t('commerce.customer.platformCount')}
                value={stats.platform_count}
                valueRender={(n) => <span data-testid="customer-platform-count" data-value={stats.platform_count}>{n}</span>}
              />
            </Col>
            <Col xs={24} md={12} lg={4}>
              <Typography.Text type="secondary">{t('commerce.customer.firstOrder')}</Typography.Text>
              <div data-testid="customer-first-order">{formatDateTime(stats.first_order_at)}</div>
              <Typography.Text type="secondary">{t('commerce.customer.lastOrder')}</Typography.Text>
              <div data-testid="customer-last-order">
                <Tooltip title={formatRelative(stats.last_order_at)}>{formatDateTime(stats.last_order_at)}</Tooltip>
              </div>
            </Col>
            <Col xs={24} md={12} lg={4}>
              <Tooltip title={t('commerce.customer.rfmHint')}>
                <Typography.Text type="secondary">{t('commerce.customer.rfm')}</Typography.Text>
              </Tooltip>
              <div style={{ marginTop: 8 }} data-testid="customer-rfm">
                <RfmScore letter="R" value={stats.rfm_r} />
                <RfmScore letter="F" value={stats.rfm_f} />
                <RfmScore letter="M" value={stats.rfm_m} />
              </div>
            </Col>
          </Row>
          {stats.by_shop.length ? (
            <>
              <Divider orientation="left" plain style={{ margin: '16px 0 8px' }}>
                {t('commerce.customer.byShop')}
              </Divider>
              <Table<ShopOrderStats>
                rowKey="shop_id"
                size="small"
                columns={shopColumns}
                dataSource={stats.by_shop}
                pagination={false}
                data-testid="customer-orders-by-shop"
                onRow={(s) => ({ ...tid(`customer-shop-stats-${s.shop_id}`), 'data-platform': s.platform } as object)}
              />
            </>
          ) : null}
        </>
      ) : (
        <Empty image={Empty.PRESENTED_IMAGE_SIMPLE} description={t('commerce.customer.noOrders')} data-testid="customer-orders-none" />
      )}
      <Divider orientation="left" plain style={{ margin: '16px 0 8px' }}>
        {t('commerce.customer.recent')}
      </Divider>
      <RecentPurchases orders={recent.data ?? []} loading={recent.isLoading} />
      <Divider orientation="left" plain style={{ margin: '16px 0 8px' }}>
        {t('commerce.customer.allOrders')}
      </Divider>
      <OrdersTable
        size="small"
        orders={orders.items}
        loading={orders.isLoading}
        columns={['id', 'platform', 'shop', 'items', 'amount', 'refunded', 'status', 'tracking', 'placed']}
        testId="customer-orders-table"
        empty={<EmptyOrders text={t('commerce.customer.noOrders')} />}
      />
      <LoadMore
        hasMore={!!orders.hasNextPage}
        loading={orders.isFetchingNextPage}
        onLoad={() => void orders.fetchNextPage()}
        count={orders.items.length}
        testId="customer-orders-load-more"
      />
    </Card>
  )
}

function RecentPurchases({ orders, loading }: { orders: OrderDetail[]; loading: boolean }) {
  const { t } = useTranslation()
  return (
    <List<OrderDetail>
      loading={loading}
      grid={{ gutter: 12, xs: 1, md: 3 }}
      dataSource={orders}
      data-testid="customer-recent-purchases"
      locale={{ emptyText: <Empty image={Empty.PRESENTED_IMAGE_SIMPLE} description={t('commerce.customer.noRecent')} /> }}
      renderItem={(o) => {
        const logistics = o.logistics as { company?: string | null; tracking_no?: string | null }[]
        return (
          <List.Item>
            <Card size="small" data-testid={`recent-purchase-${o.id}`} data-platform={o.platform}>
              <Space size={4} wrap>
                <ShopPlatformTag platform={o.platform} />
                <Link to={`/commerce/orders/${o.id}`} style={{ fontFamily: 'monospace' }}>
                  {o.external_id}
                </Link>
              </Space>
              <div style={{ margin: '6px 0' }}>
                <Money fen={o.payment_fen} strong />
                {o.refunded_fen ? (
                  <Typography.Text type="danger" style={{ marginInlineStart: 8, fontSize: 12 }}>
                    {t('commerce.customer.refunded', { amount: formatFen(o.refunded_fen) })}
                  </Typography.Text>
                ) : null}
                <span style={{ marginInlineStart: 8 }}>
                  <OrderStatusTag status={o.status} />
                </span>
              </div>
              <ul style={{ margin: 0, paddingInlineStart: 18 }}>
                {o.items.slice(0, 3).map((l) => (
                  <li key={l.external_id}>
                    <Typography.Text ellipsis style={{ maxWidth: 220 }}>
                      {l.title}
                    </Typography.Text>{' '}
                    <Typography.Text type="secondary">× {l.quantity}</Typography.Text>
                  </li>
                ))}
                {o.items.length > 3 ? <li className="muted">…</li> : null}
              </ul>
              {logistics.length ? (
                <Typography.Text type="secondary" style={{ display: 'block', fontSize: 12, marginTop: 4 }}>
                  {t('commerce.customer.tracking')}：{logistics.map((l) => [l.company, l.tracking_no].filter(Boolean).join(' ')).join('；')}
                </Typography.Text>
              ) : null}
              <Typography.Text type="secondary" style={{ display: 'block', fontSize: 12 }}>
                {o.shop_name} · {formatDateTime(o.placed_at)}
              </Typography.Text>
            </Card>
          </List.Item>
        )
      }}
    />
  )
}
