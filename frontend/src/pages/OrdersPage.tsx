import { ReloadOutlined } from '@ant-design/icons'
import { Button, Card, DatePicker, Flex, Input, InputNumber, Select, Space, Tag } from 'antd'
import dayjs from 'dayjs'
import { useState } from 'react'
import { useTranslation } from 'react-i18next'
import { Link, useSearchParams } from 'react-router-dom'
import { listOrders, type OrderQuery } from '../api'
import { EmptyOrders, ORDER_STATUSES, OrdersTable, REFUND_STATES, SHOP_PLATFORMS, usePlatformName, useShops } from '../components/commerce'
import { LoadMore } from '../components/LoadMore'
import { PageHeader } from '../components/PageHeader'
import { ErrorState } from '../components/states'
import { useCursorList } from '../components/useCursorList'
import { yuanToFen } from '../utils/format'

const DAY = /^\d{4}-\d{2}-\d{2}$/
const num = (v: string | null) => (v !== null && v !== '' && Number.isFinite(Number(v)) ? Number(v) : undefined)

export default function OrdersPage() {
  const { t } = useTranslation()
  const platformName = usePlatformName()
  const [params, setParams] = useSearchParams()
  const shops = useShops()
  const q = params.get('q') ?? ''
  const platform = params.get('platform') ?? ''
  const shopId = num(params.get('shop'))
  const status = params.get('status') ?? ''
  const refund = params.get('refund') ?? ''
  const from = params.get('from') ?? ''
  const to = params.get('to') ?? ''
  const min = num(params.get('min'))
  const max = num(params.get('max'))
  const province = params.get('province') ?? ''
  const city = params.get('city') ?? ''
  const customerId = num(params.get('customer'))
  const [minDraft, setMinDraft] = useState<number | null>(min ?? null)
  const [maxDraft, setMaxDraft] = useState<number | null>(max ?? null)

  const setParam = (key: string, value: string | number | null | undefined) => {
    const next = new URLSearchParams(params)
    if (value === undefined || value === null || value === '') next.delete(key)
    else next.set(key, String(value))
    setParams(next, { replace: true })
  }
  const setMany = (values: Record<string, string | number | null | undefined>) => {
    const next = new URLSearchParams(params)
    for (const [key, value] of Object.entries(values)) {
      if (value === undefined || value === null || value === '') next.delete(key)
      else next.set(key, String(value))
    }
    setParams(next, { replace: true })
  }

  const query: OrderQuery = {
    q: q || undefined,
    platform: platform || undefined,
    shop_id: shopId,
    status: (status || undefined) as OrderQuery['status'],
    refund_state: (refund || undefined) as OrderQuery['refund_state'],
    // local calendar days: [from 00:00, the day after `to` 00:00)
    placed_from: DAY.test(from) ? dayjs(from).startOf('day').toISOString() : undefined,
    placed_to: DAY.test(to) ? dayjs(to).add(1, 'day').startOf('day').toISOString() : undefined,
    min_payment_fen: yuanToFen(min) ?? undefined,
    max_payment_fen: yuanToFen(max) ?? undefined,
    province: province || undefined,
    city: city || undefined,
    customer_id: customerId,
  }
  const orders = useCursorList(['commerce', 'orders', query], (cursor) => listOrders({ ...query, limit: 50, cursor }))
  const filtered = !!(q || platform || shopId || status || refund || from || to || min !== undefined || max !== undefined || province || city || customerId)
  const shopOptions = (shops.data ?? [])
    .filter((s) => s.shop_id != null && (!platform || s.platform === platform))
    .map((s) => ({ value: s.shop_id as number, label: `${s.name} · ${platformName(s.platform)}` }))

  if (orders.error && !orders.items.length) return <ErrorState error={orders.error} onRetry={() => void orders.refetch()} />

  return (
    <>
      <PageHeader
        title={t('commerce.orders.title')}
        description={t('commerce.orders.subtitle')}
        extra={
          <Button icon={<ReloadOutlined />} onClick={() => void orders.refetch()} data-testid="orders-refresh">
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
            maxLength={100}
            placeholder={t('commerce.orders.searchPlaceholder')}
            onSearch={(v) => setParam('q', v.trim())}
            style={{ width: 320 }}
            data-testid="orders-search"
          />
          <Select
            allowClear
            value={platform || undefined}
            onChange={(v?: string) => setMany({ platform: v, shop: undefined })}
            placeholder={t('commerce.orders.filterPlatform')}
            options={SHOP_PLATFORMS.map((p) => ({ value: p, label: platformName(p) }))}
            style={{ width: 140 }}
            data-testid="orders-filter-platform"
            optionRender={(opt) => <span data-testid={`orders-filter-platform-option-${opt.value}`}>{opt.label}</span>}
          />
          <Select
            allowClear
            showSearch
            optionFilterProp="label"
            value={shopId}
            onChange={(v?: number) => setParam('shop', v)}
            placeholder={t('commerce.orders.filterShop')}
            options={shopOptions}
            loading={shops.isLoading}
            style={{ width: 220 }}
            data-testid="orders-filter-shop"
            optionRender={(opt) => <span data-testid={`orders-filter-shop-option-${opt.value}`}>{opt.label}</span>}
          />
          <Select
            allowClear
            value={status || undefined}
            onChange={(v?: string) => setParam('status', v)}
            placeholder={t('commerce.orders.filterStatus')}
            options={ORDER_STATUSES.map((s) => ({ value: s, label: t(`commerce.orderStatus.${s}`) }))}
            style={{ width: 130 }}
            data-testid="orders-filter-status"
            optionRender={(opt) => <span data-testid={`orders-filter-status-option-${opt.value}`}>{opt.label}</span>}
          />
          <Select
            allowClear
            value={refund || undefined}
            onChange={(v?: string) => setParam('refund', v)}
            placeholder={t('commerce.orders.filterRefund')}
            options={REFUND_STATES.map((s) => ({ value: s, label: t(`commerce.refundState.${s}`) }))}
            style={{ width: 150 }}
            data-testid="orders-filter-refund"
            optionRender={(opt) => <span data-testid={`orders-filter-refund-option-${opt.value}`}>{opt.label}</span>}
          />
          <DatePicker.RangePicker
            value={[DAY.test(from) ? dayjs(from) : null, DAY.test(to) ? dayjs(to) : null]}
            allowEmpty={[true, true]}
            placeholder={[t('commerce.orders.placedFrom'), t('commerce.orders.placedTo')]}
            onChange={(v) => setMany({ from: v?.[0]?.format('YYYY-MM-DD'), to: v?.[1]?.format('YYYY-MM-DD') })}
            presets={[
              { label: t('commerce.orders.today'), value: [dayjs().startOf('day'), dayjs().startOf('day')] },
              { label: t('commerce.orders.last7'), value: [dayjs().subtract(6, 'day'), dayjs()] },
              { label: t('commerce.orders.last30'), value: [dayjs().subtract(29, 'day'), dayjs()] },
            ]}
            style={{ width: 260 }}
            data-testid="orders-filter-placed"
          />
          <Space.Compact>
            <InputNumber<number>
              min={0}
              precision={2}
              prefix="¥"
              value={minDraft}
              onChange={(v) => setMinDraft(v)}
              onBlur={() => setParam('min', minDraft ?? undefined)}
              onPressEnter={() => setParam('min', minDraft ?? undefined)}
              placeholder={t('commerce.orders.minAmount')}
              style={{ width: 130 }}
              data-testid="orders-filter-min"
            />
            <InputNumber<number>
              min={0}
              precision={2}
              prefix="¥"
              value={maxDraft}
              onChange={(v) => setMaxDraft(v)}
              onBlur={() => setParam('max', maxDraft ?? undefined)}
              onPressEnter={() => setParam('max', maxDraft ?? undefined)}
              placeholder={t('commerce.orders.maxAmount')}
              style={{ width: 130 }}
              data-testid="orders-filter-max"
            />
          </Space.Compact>
          <Input
            key={`province-${province}`}
            allowClear
            defaultValue={province}
            placeholder={t('commerce.orders.province')}
            onPressEnter={(e) => setParam('province', e.currentTarget.value.trim())}
            onBlur={(e) => e.currentTarget.value.trim() !== province && setParam('province', e.currentTarget.value.trim())}
            onChange={(e) => !e.target.value && province && setParam('province', '')}
            style={{ width: 110 }}
            data-testid="orders-filter-province"
          />
          <Input
            key={`city-${city}`}
            allowClear
            defaultValue={city}
            placeholder={t('commerce.orders.city')}
            onPressEnter={(e) => setParam('city', e.currentTarget.value.trim())}
            onBlur={(e) => e.currentTarget.value.trim() !== city && setParam('city', e.currentTarget.value.trim())}
            onChange={(e) => !e.target.value && city && setParam('city', '')}
            style={{ width: 110 }}
            data-testid="orders-filter-city"
          />
          {customerId ? (
            <Tag closable onClose={() => setParam('customer', undefined)} style={{ alignSelf: 'center' }} data-testid="orders-filter-customer">
              {t('commerce.orders.customer')}{' '}
              <Link to={`/customers/${customerId}`}>#{customerId}</Link>
            </Tag>
          ) : null}
          {filtered ? (
            <Button
              onClick={() => {
                setMinDraft(null)
                setMaxDraft(null)
                setParams(new URLSearchParams(), { replace: true })
              }}
              data-testid="orders-reset"
            >
              {t('common.reset')}
            </Button>
          ) : null}
        </Flex>
        <OrdersTable
          orders={orders.items}
          loading={orders.isLoading}
          columns={['id', 'platform', 'shop', 'customer', 'items', 'amount', 'status', 'refund', 'labels', 'placed']}
          testId="orders-table"
          fromList
          empty={<EmptyOrders text={filtered ? t('commerce.orders.noMatch') : t('commerce.orders.empty')} testId="orders-empty" />}
        />
        <LoadMore
          hasMore={!!orders.hasNextPage}
          loading={orders.isFetchingNextPage}
          onLoad={() => void orders.fetchNextPage()}
          count={orders.items.length}
          testId="orders-load-more"
        />
      </Card>
    </>
  )
}
