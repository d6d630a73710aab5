import {
  AlertOutlined,
  ArrowLeftOutlined,
  CarOutlined,
  CheckCircleOutlined,
  ClockCircleOutlined,
  CloseCircleOutlined,
  DollarOutlined,
  GiftOutlined,
  RollbackOutlined,
  ShoppingCartOutlined,
  TagOutlined,
} from '@ant-design/icons'
import { Card, Col, Collapse, Descriptions, Empty, Flex, Row, Space, Table, Tag, Timeline, Tooltip, Typography } from 'antd'
import type { TableColumnsType } from 'antd'
import type { ReactNode } from 'react'
import { useTranslation } from 'react-i18next'
import { Link, useLocation, useNavigate, useParams } from 'react-router-dom'
import type { OrderDetail, OrderLine, OrderRefund, OrderTimelineEntry } from '../api'
import { Money, OrderLabels, OrderStatusTag, RefundStateTag, ShopPlatformTag, useOrder } from '../components/commerce'
import { CopyField } from '../components/CopyField'
import { JsonBlock } from '../components/JsonBlock'
import { ErrorState, NotFound, PageLoading } from '../components/states'
import { formatDateTime, formatFen, formatRelative } from '../utils/format'
import { tid } from '../utils/testid'

const TIMELINE_STYLE: Record<string, { color: string; icon: ReactNode }> = {
  'status.created': { color: 'gray', icon: <ShoppingCartOutlined /> },
  'status.paid': { color: 'blue', icon: <DollarOutlined /> },
  'status.shipped': { color: 'cyan', icon: <CarOutlined /> },
  'status.completed': { color: 'green', icon: <CheckCircleOutlined /> },
  'status.closed': { color: 'gray', icon: <CloseCircleOutlined /> },
  refund_state: { color: 'orange', icon: <RollbackOutlined /> },
  presale: { color: 'cyan', icon: <ClockCircleOutlined /> },
  gift: { color: 'purple', icon: <GiftOutlined /> },
  'alert.big_order': { color: 'red', icon: <AlertOutlined /> },
  'alert.product_sales': { color: 'red', icon: <AlertOutlined /> },
}

export default function OrderDetailPage() {
  const { id: idParam } = useParams()
  const id = Number(idParam)
  const { t } = useTranslation()
  const navigate = useNavigate()
  const location = useLocation()
  const order = useOrder(id)

  if (!Number.isInteger(id) || id <= 0) return <NotFound />
  if (order.isLoading) return <PageLoading />
  if (order.error || !order.data) return <ErrorState error={order.error} onRetry={() => void order.refetch()} />
  const o = order.data

  return (
    <>
      <Link
        to="/commerce/orders"
        data-testid="order-back"
        onClick={(e) => {
          // back to the list as it was (filters, loaded pages) when we came from it
          if ((location.state as { fromList?: boolean } | null)?.fromList) {
            e.preventDefault()
            navigate(-1)
          }
        }}
      >
        <ArrowLeftOutlined /> {t('commerce.order.back')}
      </Link>
      <div style={{ height: 12 }} />
      <OrderHeader o={o} />
      <Row gutter={[16, 16]} style={{ marginTop: 16 }}>
        <Col xs={24} xl={16}>
          <ItemsCard items={o.items} />
          <RefundsCard refunds={o.refunds} />
          <Row gutter={16} style={{ marginTop: 16 }}>
            <Col xs={24} md={12}>
              <LogisticsCard logistics={o.logistics} />
            </Col>
            <Col xs={24} md={12}>
              <PromotionsCard promotions={o.promotions} />
            </Col>
          </Row>
          <Collapse
            style={{ marginTop: 16, background: '#fff' }}
            data-testid="order-raw"
            items={[{ key: 'raw', label: t('commerce.order.raw'), children: <JsonBlock value={o.raw} testId="order-raw-json" /> }]}
          />
        </Col>
        <Col xs={24} xl={8}>
          <TimelineCard entries={o.timeline} refunds={o.refunds} />
        </Col>
      </Row>
    </>
  )
}

function OrderHeader({ o }: { o: OrderDetail }) {
  const { t } = useTranslation()
  const times: [string, string | null][] = [
    ['placedAt', o.placed_at],
    ['paidAt', o.paid_at],
    ['shippedAt', o.shipped_at],
    ['receivedAt', o.received_at],
    ['closedAt', o.closed_at],
    ['updatedAt', o.platform_updated_at],
  ]
  return (
    <Card data-testid="order-header" data-order-id={o.id} data-status={o.status}>
      <Flex justify="space-between" align="start" wrap gap={16}>
        <div>
          <Space align="center" wrap>
            <ShopPlatformTag platform={o.platform} testId="order-platform" />
            <Typography.Title level={3} style={{ margin: 0, fontFamily: 'monospace' }} data-testid="order-external-id">
              {o.external_id}
            </Typography.Title>
            <Typography.Text copyable={{ text: o.external_id }} />
          </Space>
          <div style={{ marginTop: 8 }}>
            <Space wrap>
              <Typography.Text type="secondary" data-testid="order-shop">
                {o.shop_name}
              </Typography.Text>
              <OrderStatusTag status={o.status} testId="order-status" />
              <Typography.Text type="secondary" style={{ fontSize: 12 }} data-testid="order-platform-status">
                {o.platform_status}
              </Typography.Text>
              <RefundStateTag state={o.refund_state} testId="order-refund-state" />
              {o.is_presale ? (
                <Tag color="cyan">
                  {t('commerce.order.presale')}
                  {o.presale_ship_at ? ` · ${t('commerce.order.presaleShip', { date: formatDateTime(o.presale_ship_at).slice(0, 10) })}` : ''}
                </Tag>
              ) : null}
              {o.is_gift ? <Tag color="purple">{t('commerce.order.gift')}</Tag> : null}
              {!o.complete ? <Tag color="warning">{t('commerce.order.incomplete')}</Tag> : null}
            </Space>
          </div>
          {o.labels.length ? (
            <div style={{ marginTop: 8 }}>
              <OrderLabels labels={o.labels} testId="order-labels" />
            </div>
          ) : null}
        </div>
        <div style={{ textAlign: 'right' }}>
          <Typography.Text type="secondary">{t('commerce.order.payment')}</Typography.Text>
          <div>
            <Money fen={o.payment_fen} strong style={{ fontSize: 28 }} testId="order-payment" />
          </div>
        </div>
      </Flex>
      <Row gutter={[24, 16]} style={{ marginTop: 16 }}>
        <Col xs={24} lg={8}>
          <Descriptions
            title={t('commerce.order.amounts')}
            size="small"
            column={1}
            data-testid="order-amounts"
            items={[
              { key: 'total', label: t('commerce.order.total'), children: <Money fen={o.total_fen} testId="order-total" /> },
              { key: 'discount', label: t('commerce.order.discount'), children: <Money fen={o.discount_fen ? -o.discount_fen : 0} testId="order-discount" /> },
              { key: 'post', label: t('commerce.order.postFee'), children: <Money fen={o.post_fee_fen} testId="order-post-fee" /> },
              { key: 'payment', label: t('commerce.order.payment'), children: <Money fen={o.payment_fen} strong /> },
              {
                key: 'refunded',
                label: t('commerce.order.refunded'),
                children: <Money fen={o.refunded_fen} type={o.refunded_fen ? 'danger' : undefined} testId="order-refunded" />,
              },
              { key: 'fee', label: t('commerce.order.platformFee'), children: <Money fen={o.platform_fee_fen} testId="order-platform-fee" /> },
            ]}
          />
        </Col>
        <Col xs={24} lg={8}>
          <Descriptions
            title={t('commerce.order.buyer')}
            size="small"
            column={1}
            data-testid="order-buyer"
            items={[
              {
                key: 'customer',
                label: t('commerce.order.customer'),
                children: o.customer_id ? (
                  <Link to={`/customers/${o.customer_id}`} data-testid="order-customer-link">
                    {o.customer_name || `#${o.customer_id}`}
                  </Link>
                ) : (
                  <Typography.Text type="secondary">{t('commerce.orders.unlinked')}</Typography.Text>
                ),
              },
              { key: 'nick', label: t('commerce.order.buyerNick'), children: <span data-testid="order-buyer-nick">{o.buyer_nick || '—'}</span> },
              { key: 'phone', label: t('commerce.order.buyerPhone'), children: <span data-testid="order-buyer-phone">{o.buyer_phone_masked || '—'}</span> },
              {
                key: 'region',
                label: t('commerce.order.region'),
                children: <span data-testid="order-region">{[o.receiver_province, o.receiver_city].filter(Boolean).join(' ') || '—'}</span>,
              },
            ]}
          />
        </Col>
        <Col xs={24} lg={8}>
          <Descriptions
            title={t('commerce.order.times')}
            size="small"
            column={1}
            data-testid="order-times"
            items={times
              .filter(([, v]) => !!v)
              .map(([k, v]) => ({
                key: k,
                label: t(`commerce.order.${k}`),
                children: (
                  <Tooltip title={formatRelative(v)}>
                    <span data-testid={`order-time-${k}`}>{formatDateTime(v)}</span>
                  </Tooltip>
                ),
              }))}
          />
        </Col>
      </Row>
    </Card>
  )
}

function ItemsCard({ items }: { items: OrderLine[] }) {
  const { t } = useTranslation()
  const columns: TableColumnsType<OrderLine> = [
    {
      title: t('commerce.order.itemTitle'),
      key: 'title',
      render: (_, l) => (
        <span>
          <span data-testid="order-item-title">{l.title || '—'}</span>
          {l.is_gift ? (
            <Tag color="purple" style={{ marginInlineStart: 6 }}>
              {t('commerce.order.giftItem')}
            </Tag>
          ) : null}
          {l.is_presale ? (
            <Tag color="cyan" style={{ marginInlineStart: 6 }}>
              {t('commerce.order.presaleItem')}
            </Tag>
          ) : null}
          {l.sku_description ? (
            <Typography.Text type="secondary" style={{ display: 'block', fontSize: 12 }}>
              {l.sku_description}
            </Typography.Text>
          ) : null}
        </span>
      ),
    },
    {
      title: t('commerce.order.sku'),
      key: 'sku',
      width: 170,
      render: (_, l) => (
        <span>
          <Typography.Text code>{l.sku_id || l.item_id || '—'}</Typography.Text>
          {l.outer_sku_id ? (
            <Typography.Text type="secondary" style={{ display: 'block', fontSize: 12 }}>
              {l.outer_sku_id}
            </Typography.Text>
          ) : null}
        </span>
      ),
    },
    { title: t('commerce.order.price'), dataIndex: 'price_fen', width: 100, align: 'right', render: (v: number) => formatFen(v) },
    { title: t('commerce.order.quantity'), dataIndex: 'quantity', width: 70, align: 'right' },
    { title: t('commerce.order.lineTotal'), dataIndex: 'total_fen', width: 100, align: 'right', render: (v: number) => formatFen(v) },
    { title: t('commerce.order.lineDiscount'), dataIndex: 'discount_fen', width: 90, align: 'right', render: (v: number) => (v ? formatFen(-v) : '—') },
    { title: t('commerce.order.linePayment'), dataIndex: 'payment_fen', width: 100, align: 'right', render: (v: number) => <Typography.Text strong>{formatFen(v)}</Typography.Text> },
  ]
  return (
    <Card title={t('commerce.order.items')} size="small">
      <Table<OrderLine>
        rowKey="external_id"
        size="small"
        columns={columns}
        dataSource={items}
        pagination={false}
        scroll={{ x: 720 }}
        data-testid="order-items"
        onRow={(l) => ({ ...tid(`order-item-${l.external_id}`) })}
        locale={{ emptyText: <Empty image={Empty.PRESENTED_IMAGE_SIMPLE} description={t('commerce.order.incomplete')} /> }}
      />
    </Card>
  )
}

function RefundsCard({ refunds }: { refunds: OrderRefund[] }) {
  const { t } = useTranslation()
  const columns: TableColumnsType<OrderRefund> = [
    { title: t('commerce.order.refundId'), dataIndex: 'external_id', width: 170, render: (v: string) => <Typography.Text code>{v}</Typography.Text> },
    {
      title: t('commerce.order.refundStatus'),
      key: 'status',
      width: 150,
      render: (_, r) => (
        <span data-testid={`order-refund-status-${r.external_id}`} data-status={r.status}>
          <Tag color={r.status === 'succeeded' ? 'red' : r.status === 'refused' || r.status === 'closed' ? 'default' : 'orange'}>
            {t(`commerce.refundStatus.${r.status}`, { defaultValue: r.status })}
          </Tag>
          <Typography.Text type="secondary" style={{ display: 'block', fontSize: 12 }}>
            {r.platform_status}
          </Typography.Text>
        </span>
      ),
    },
    { title: t('commerce.order.refundAmount'), dataIndex: 'amount_fen', width: 100, align: 'right', render: (v: number) => formatFen(v) },
    { title: t('commerce.order.refundType'), dataIndex: 'refund_type', width: 100, render: (v: string | null) => (v ? t(`commerce.refundType.${v}`, { defaultValue: v }) : '—') },
    {
      title: t('commerce.order.refundReason'),
      dataIndex: 'reason',
      width: 160,
      ellipsis: { showTitle: false },
      render: (v: string | null) => (v ? <Tooltip title={v}>{v}</Tooltip> : '—'),
    },
    { title: t('commerce.order.requestedAt'), dataIndex: 'requested_at', width: 170, render: (v: string | null) => formatDateTime(v) },
  ]
  return (
    <Card title={t('commerce.order.refunds')} size="small" style={{ marginTop: 16 }}>
      <Table<OrderRefund>
        rowKey="id"
        size="small"
        columns={columns}
        dataSource={refunds}
        pagination={false}
        scroll={{ x: 860 }}
        data-testid="order-refunds"
        locale={{ emptyText: <Empty image={Empty.PRESENTED_IMAGE_SIMPLE} description={t('commerce.order.noRefunds')} /> }}
      />
    </Card>
  )
}

function LogisticsCard({ logistics }: { logistics: Record<string, unknown>[] }) {
  const { t } = useTranslation()
  const str = (v: unknown) => (typeof v === 'string' || typeof v === 'number' ? String(v) : '')
  return (
    <Card title={t('commerce.order.logistics')} size="small" data-testid="order-logistics" data-count={logistics.length}>
      {logistics.length ? (
        <Flex vertical gap={8} style={{ width: '100%' }}>
          {logistics.map((l, i) => (
            <Descriptions
              key={`${str(l.company)}-${str(l.tracking_no)}-${i}`}
              size="small"
              column={1}
              bordered
              styles={{ label: { width: 100 } }}
              items={[
                { key: 'company', label: t('commerce.order.company'), children: str(l.company) || '—' },
                {
                  key: 'no',
                  label: t('commerce.order.trackingNo'),
                  children: <CopyField value={str(l.tracking_no)} testId={`order-tracking-no-${i}`} />,
                },
                ...(l.shipped_at ? [{ key: 'at', label: t('commerce.order.shippedAt'), children: formatDateTime(str(l.shipped_at)) }] : []),
              ]}
            />
          ))}
        </Flex>
      ) : (
        <Empty image={Empty.PRESENTED_IMAGE_SIMPLE} description={t('commerce.order.noLogistics')} />
      )}
    </Card>
  )
}

/** A promotion as the platform described it: its name or type, and its amount when there is one. */
function promotionLine(p: Record<string, unknown>): { name: string; amount: string } {
  const pick = (...keys: string[]) => keys.map((k) => p[k]).find((v) => typeof v === 'string' || typeof v === 'number')
  const name = String(pick('promotion_name', 'name', 'title', 'promotion_desc', 'type', 'promotion_id') ?? '—')
  const fen = p.amount_fen
  const yuan = pick('discount_fee', 'discount', 'amount')
  const amount = typeof fen === 'number' ? formatFen(fen) : yuan !== undefined ? `¥${yuan}` : ''
  return { name, amount }
}

function PromotionsCard({ promotions }: { promotions: Record<string, unknown>[] }) {
  const { t } = useTranslation()
  return (
    <Card title={t('commerce.order.promotions')} size="small" data-testid="order-promotions" data-count={promotions.length}>
      {promotions.length ? (
        <ul style={{ margin: 0, paddingInlineStart: 18 }}>
          {promotions.map((p, i) => {
            const line = promotionLine(p)
            return (
              <li key={i}>
                <Tooltip title={<pre style={{ margin: 0, whiteSpace: 'pre-wrap' }}>{JSON.stringify(p, null, 2)}</pre>}>
                  <span>
                    <TagOutlined /> {line.name}
                  </span>
                </Tooltip>
                {line.amount ? <Typography.Text type="danger"> −{line.amount.replace(/^-/, '')}</Typography.Text> : null}
              </li>
            )
          })}
        </ul>
      ) : (
        <Empty image={Empty.PRESENTED_IMAGE_SIMPLE} description={t('commerce.order.noPromotions')} />
      )}
    </Card>
  )
}

/** The server's (Chinese) summary; in English, a line built from the kind when it is known. */
function useOrderTimelineText(refunds: OrderRefund[]) {
  const { t, i18n } = useTranslation()
  return (e: OrderTimelineEntry): string => {
    const d = (e.detail ?? {}) as Record<string, unknown>
    // refund lines: the server writes the refund's raw status; both languages get its label
    if (e.kind.startsWith('refund.')) {
      const status = e.kind.slice('refund.'.length)
      const refund = refunds.find((r) => r.id === d.refund_id)
      return t('commerce.order.refundLine', {
        id: refund?.external_id ?? '',
        status: t(`commerce.refundStatus.${status}`, { defaultValue: status }),
        amount: typeof d.amount_fen === 'number' ? formatFen(d.amount_fen) : '—',
      })
    }
    if (e.kind === 'refund_state') {
      const state = e.summary.split(/[:：]/).pop()?.trim() ?? ''
      return t('commerce.order.refundStateLine', { state: t(`commerce.refundState.${state}`, { defaultValue: state }) })
    }
    if (i18n.language !== 'en') return e.summary
    if (e.kind.startsWith('status.')) {
      const status = e.kind.slice('status.'.length)
      const label = t(`commerce.orderStatus.${status}`, { defaultValue: status })
      return typeof d.platform_status === 'string' ? `${label} (${d.platform_status})` : label
    }
    if (e.kind.startsWith('alert.')) return `${t(`commerce.alerts.kind.${e.kind.slice(6)}`, { defaultValue: e.kind })}: ${e.summary}`
    return e.summary
  }
}

function TimelineCard({ entries, refunds }: { entries: OrderTimelineEntry[]; refunds: OrderRefund[] }) {
  const { t } = useTranslation()
  const text = useOrderTimelineText(refunds)
  // newest first, like the customer's timeline
  const sorted = [...entries].reverse()
  return (
    <Card
      title={
        <Space>
          <ClockCircleOutlined />
          {t('commerce.order.timeline')}
        </Space>
      }
      size="small"
      data-testid="order-timeline"
      data-count={entries.length}
    >
      {sorted.length ? (
        <Timeline
          style={{ marginTop: 8 }}
          items={sorted.map((e) => {
            const style = TIMELINE_STYLE[e.kind] ?? (e.kind.startsWith('refund') ? TIMELINE_STYLE.refund_state : { color: 'blue', icon: undefined })
            const at = e.occurred_at ?? e.recorded_at
            return {
              key: e.id,
              color: style.color,
              dot: style.icon,
              children: (
                <div data-testid="order-timeline-item" data-kind={e.kind}>
                  <div>{text(e)}</div>
                  <Typography.Text type="secondary" style={{ fontSize: 12 }}>
                    {formatDateTime(at)} · {t(`commerce.order.source.${e.source}`, { defaultValue: e.source })}
                  </Typography.Text>
                </div>
              ),
            }
          })}
        />
      ) : (
        <Empty image={Empty.PRESENTED_IMAGE_SIMPLE} description={t('commerce.order.noTimeline')} />
      )}
    </Card>
  )
}
