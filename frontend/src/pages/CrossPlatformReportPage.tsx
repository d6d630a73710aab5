import { ReloadOutlined } from '@ant-design/icons'
import { useQuery } from '@tanstack/react-query'
import { Button, Card, Col, Empty, Row, Skeleton, Statistic, Table } from 'antd'
import type { TableColumnsType } from 'antd'
import { lazy, Suspense } from 'react'
import { useTranslation } from 'react-i18next'
import { Link } from 'react-router-dom'
import { crossPlatformReport, type CrossPlatformCustomerOut, type PlatformComboOut } from '../api'
import { PlatformTags, SHOP_PLATFORMS, usePlatformName } from '../components/commerce'
import { PageHeader } from '../components/PageHeader'
import { ErrorState } from '../components/states'
import { formatDateTime, formatFen } from '../utils/format'
import { tid } from '../utils/testid'

const PlatformBarChart = lazy(() => import('../components/CommerceCharts').then((m) => ({ default: m.PlatformBarChart })))

export default function CrossPlatformReportPage() {
  const { t, i18n } = useTranslation()
  const platformName = usePlatformName()
  const report = useQuery({ queryKey: ['commerce', 'report', 'cross-platform'], queryFn: crossPlatformReport, refetchInterval: 60_000 })

  if (report.error && !report.data) return <ErrorState error={report.error} onRetry={() => void report.refetch()} />
  const r = report.data
  const share = r ? (r.multi_platform_share * 100).toLocaleString(i18n.language === 'en' ? 'en-US' : 'zh-CN', { maximumFractionDigits: 1 }) : '0'
  const bars = r
    ? [...SHOP_PLATFORMS.filter((p) => p in r.by_platform), ...Object.keys(r.by_platform).filter((p) => !(SHOP_PLATFORMS as readonly string[]).includes(p))].map((p) => ({
        platform: p,
        name: platformName(p),
        value: r.by_platform[p] ?? 0,
      }))
    : []

  const comboColumns: TableColumnsType<PlatformComboOut> = [
    { title: t('commerce.report.combo'), key: 'combo', render: (_, c) => <PlatformTags platforms={c.platforms} /> },
    { title: t('commerce.report.customers'), dataIndex: 'customers', width: 100, align: 'right' },
  ]
  const customerColumns: TableColumnsType<CrossPlatformCustomerOut> = [
    {
      title: t('commerce.report.customer'),
      key: 'customer',
      render: (_, c) => (
        <Link to={`/customers/${c.customer_id}`} data-testid={`report-customer-link-${c.customer_id}`}>
          {c.name || `#${c.customer_id}`}
        </Link>
      ),
    },
    { title: t('commerce.report.platforms'), key: 'platforms', render: (_, c) => <PlatformTags platforms={c.platforms} testId={`report-customer-platforms-${c.customer_id}`} /> },
    { title: t('commerce.report.orderCount'), dataIndex: 'order_count', width: 90, align: 'right' },
    { title: t('commerce.report.totalSpent'), dataIndex: 'total_spent_fen', width: 120, align: 'right', render: (v: number) => formatFen(v) },
    { title: t('commerce.report.lastOrder'), dataIndex: 'last_order_at', width: 170, render: (v: string | null) => formatDateTime(v) },
  ]

  return (
    <>
      <PageHeader
        title={t('commerce.report.title')}
        description={t('commerce.report.subtitle')}
        extra={
          <Button icon={<ReloadOutlined spin={report.isFetching} />} onClick={() => void report.refetch()} data-testid="report-refresh">
            {t('common.refresh')}
          </Button>
        }
      />
      <Row gutter={[16, 16]}>
        <Col xs={24} md={8}>
          <Card>
            <Statistic
              loading={report.isLoading}
              title={t('commerce.report.buyers')}
              value={r?.buyers ?? 0}
              valueRender={(n) => <span data-testid="report-buyers" data-value={r?.buyers ?? ''}>{n}</span>}
            />
          </Card>
        </Col>
        <Col xs={24} md={8}>
          <Card>
            <Statistic
              loading={report.isLoading}
              title={t('commerce.report.multiBuyers')}
              value={r?.multi_platform_buyers ?? 0}
              valueRender={(n) => <span data-testid="report-multi-buyers" data-value={r?.multi_platform_buyers ?? ''}>{n}</span>}
            />
          </Card>
        </Col>
        <Col xs={24} md={8}>
          <Card>
            <Statistic
              loading={report.isLoading}
              title={t('commerce.report.share')}
              value={share}
              suffix="%"
              valueRender={(n) => <span data-testid="report-share" data-value={r?.multi_platform_share ?? ''}>{n}</span>}
            />
          </Card>
        </Col>
        <Col xs={24} lg={12}>
          <Card title={t('commerce.report.byPlatform')} size="small">
            {report.isLoading ? (
              <Skeleton active />
            ) : bars.length ? (
              <Suspense fallback={<Skeleton active />}>
                <PlatformBarChart rows={bars} seriesName={t('commerce.report.buyersSeries')} testId="report-platform-chart" />
              </Suspense>
            ) : (
              <Empty image={Empty.PRESENTED_IMAGE_SIMPLE} description={t('commerce.report.noData')} />
            )}
          </Card>
        </Col>
        <Col xs={24} lg={12}>
          <Card title={t('commerce.report.combinations')} size="small">
            <Table<PlatformComboOut>
              rowKey={(c) => c.platforms.join('+')}
              size="small"
              columns={comboColumns}
              dataSource={r?.combinations ?? []}
              loading={report.isLoading}
              pagination={false}
              data-testid="report-combinations"
              onRow={(c) => ({ ...tid(`report-combo-${c.platforms.join('-')}`) })}
              locale={{ emptyText: <Empty image={Empty.PRESENTED_IMAGE_SIMPLE} description={t('commerce.report.empty')} /> }}
            />
          </Card>
        </Col>
        <Col xs={24}>
          <Card title={t('commerce.report.topCustomers')} size="small">
            <Table<CrossPlatformCustomerOut>
              rowKey="customer_id"
              size="small"
              columns={customerColumns}
              dataSource={r?.top_customers ?? []}
              loading={report.isLoading}
              pagination={false}
              scroll={{ x: 720 }}
              data-testid="report-top-customers"
              onRow={(c) => ({ ...tid(`report-customer-${c.customer_id}`) })}
              locale={{ emptyText: <Empty image={Empty.PRESENTED_IMAGE_SIMPLE} description={t('commerce.report.empty')} /> }}
            />
          </Card>
        </Col>
      </Row>
    </>
  )
}
