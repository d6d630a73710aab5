import { ReloadOutlined } from '@ant-design/icons'
import { useQuery, useQueryClient } from '@tanstack/react-query'
import { Button, Card, Col, Empty, Row, Select, Skeleton, Table, Typography } from 'antd'
import type { TableColumnsType } from 'antd'
import { lazy, Suspense, useState } from 'react'
import { useTranslation } from 'react-i18next'
import { Link } from 'react-router-dom'
import { channelSummary, listChannels, type AnalyticsQuery, type ChannelCodeStats, type ChannelStoreStats } from '../api'
import { useChannelGroups, useContactStaff } from '../components/channels'
import { defaultRange, RangeFilter, rangeQuery, StatsPanel, useSeriesLabels, type DayRange } from '../components/channelStats'
import { LiveBoard } from '../components/LiveBoard'
import { PageHeader } from '../components/PageHeader'
import { ErrorState } from '../components/states'
import { dataAttrs } from '../utils/testid'

const RankingChart = lazy(() => import('../components/ChannelCharts').then((m) => ({ default: m.RankingChart })))
const REFRESH_MS = 10_000
const TZ = 'Asia/Shanghai'

export default function ChannelDashboardPage() {
  const { t } = useTranslation()
  const labels = useSeriesLabels()
  const queryClient = useQueryClient()
  const [range, setRange] = useState<DayRange>(() => defaultRange(14, TZ))
  const [groupId, setGroupId] = useState<number>()
  const [codeId, setCodeId] = useState<number>()
  const [store, setStore] = useState<string>()
  const groups = useChannelGroups()
  const staff = useContactStaff(undefined)
  const codes = useQuery({ queryKey: ['channels', 'list', 'all-names'], queryFn: () => listChannels({ limit: 200 }), staleTime: 60_000 })
  const filters: AnalyticsQuery = { tz: TZ, group_id: groupId, code_id: codeId, store }
  const summary = useQuery({
    queryKey: ['channel-stats', 'summary', { ...filters, ...rangeQuery(range) }],
    queryFn: () => channelSummary({ ...filters, ...rangeQuery(range) }),
    refetchInterval: REFRESH_MS,
  })
  // stores known over the whole range, whichever store is picked
  const allStores = useQuery({
    queryKey: ['channel-stats', 'summary', { tz: TZ, ...rangeQuery(range) }],
    queryFn: () => channelSummary({ tz: TZ, ...rangeQuery(range) }),
    staleTime: 60_000,
  })

  const codeColumns: TableColumnsType<ChannelCodeStats> = [
    {
      title: t('channels.name'),
      key: 'name',
      render: (_, r) => (
        <Link to={`/channels/${r.code_id}`} data-testid={`dashboard-code-link-${r.code_id}`}>
          {r.name}
        </Link>
      ),
    },
    { title: t('channels.form.store'), key: 'store', width: 140, render: (_, r) => [r.store, r.region].filter(Boolean).join(' · ') || '—' },
    { title: labels.adds, dataIndex: 'adds', width: 80, align: 'right', sorter: (a, b) => a.adds - b.adds, defaultSortOrder: 'descend' },
    { title: t('channels.stats.returning'), dataIndex: 'returning', width: 80, align: 'right' },
    { title: t('channels.stats.deletedByStaff'), dataIndex: 'deletions_by_staff', width: 100, align: 'right' },
    { title: t('channels.stats.deletedByCustomer'), dataIndex: 'deletions_by_customer', width: 100, align: 'right' },
    { title: labels.net, dataIndex: 'net', width: 80, align: 'right', sorter: (a, b) => a.net - b.net },
  ]
  const storeColumns: TableColumnsType<ChannelStoreStats> = [
    { title: t('channels.form.store'), key: 'store', render: (_, r) => r.store ?? <Typography.Text type="secondary">{t('channels.live.noStore')}</Typography.Text> },
    { title: t('channels.form.region'), dataIndex: 'region', width: 100, render: (v?: string | null) => v || '—' },
    { title: labels.adds, dataIndex: 'adds', width: 80, align: 'right', sorter: (a, b) => a.adds - b.adds, defaultSortOrder: 'descend' },
    { title: labels.deletions, dataIndex: 'deletions', width: 80, align: 'right' },
    { title: labels.net, dataIndex: 'net', width: 80, align: 'right' },
  ]

  if (summary.error && !summary.data) return <ErrorState error={summary.error} onRetry={() => void summary.refetch()} />
  const s = summary.data
  const storeNames = [...new Set((allStores.data?.stores ?? []).map((x) => x.store).filter((x): x is string => !!x))]

  return (
    <>
      <PageHeader
        title={t('channels.dashboard.title')}
        description={t('channels.dashboard.subtitle')}
        extra={
          <Button icon={<ReloadOutlined />} onClick={() => void queryClient.invalidateQueries({ queryKey: ['channel-stats'] })} data-testid="dashboard-refresh">
            {t('common.refresh')}
          </Button>
        }
      />
      <div style={{ marginBottom: 16 }}>
        <LiveBoard tz={TZ} staffName={(u) => staff.nameOf(u)} />
      </div>
      <Card
        style={{ marginBottom: 16 }}
        title={t('channels.dashboard.trend')}
        extra={
          <Row gutter={8} wrap>
            <Col>
              <Select
                allowClear
                value={groupId}
                onChange={setGroupId}
                placeholder={t('channels.filterGroup')}
                options={(groups.data ?? []).map((g) => ({ value: g.id, label: g.name }))}
                style={{ width: 140 }}
                data-testid="dashboard-filter-group"
              />
            </Col>
            <Col>
              <Select
                allowClear
                showSearch
                optionFilterProp="label"
                value={codeId}
                onChange={setCodeId}
                placeholder={t('channels.dashboard.allCodes')}
                options={(codes.data?.items ?? []).map((c) => ({ value: c.id, label: c.name }))}
                style={{ width: 180 }}
                data-testid="dashboard-filter-code"
                optionRender={(opt) => <span data-testid={`dashboard-filter-code-option-${opt.value}`}>{opt.label}</span>}
              />
            </Col>
            <Col>
              <Select
                allowClear
                value={store}
                onChange={setStore}
                placeholder={t('channels.dashboard.allStores')}
                options={storeNames.map((x) => ({ value: x, label: x }))}
                style={{ width: 150 }}
                data-testid="dashboard-filter-store"
              />
            </Col>
            <Col>
              <RangeFilter value={range} onChange={setRange} tz={TZ} testId="dashboard-range" />
            </Col>
          </Row>
        }
        data-testid="dashboard-trend-card"
      >
        <StatsPanel filters={filters} range={range} refetchInterval={REFRESH_MS} prefix="dashboard" staffNames={(u) => staff.nameOf(u)} />
      </Card>
      <Row gutter={[16, 16]}>
        <Col xs={24} xl={14}>
          <Card title={t('channels.dashboard.byCode')} data-testid="dashboard-codes">
            {s ? (
              s.codes.length ? (
                <>
                  <Suspense fallback={<Skeleton active />}>
                    <RankingChart
                      rows={s.codes.slice(0, 12).map((c) => ({ name: c.name, adds: c.adds, deletions: c.deletions_by_staff + c.deletions_by_customer, net: c.net }))}
                      labels={labels}
                      testId="dashboard-codes-chart"
                    />
                  </Suspense>
                  <Table<ChannelCodeStats>
                    rowKey="code_id"
                    size="small"
                    columns={codeColumns}
                    dataSource={s.codes}
                    pagination={s.codes.length > 20 ? { pageSize: 20 } : false}
                    onRow={(r) => dataAttrs({ testid: `dashboard-code-${r.code_id}`, adds: r.adds })}
                    data-testid="dashboard-codes-table"
                    style={{ marginTop: 12 }}
                  />
                </>
              ) : (
                <Empty description={t('channels.stats.noData')} />
              )
            ) : (
              <Skeleton active />
            )}
          </Card>
        </Col>
        <Col xs={24} xl={10}>
          <Card title={t('channels.dashboard.byStore')} data-testid="dashboard-stores">
            {s ? (
              s.stores.length ? (
                <>
                  <Suspense fallback={<Skeleton active />}>
                    <RankingChart
                      rows={s.stores.map((x) => ({ name: x.store ?? t('channels.live.noStore'), adds: x.adds, deletions: x.deletions, net: x.net }))}
                      labels={labels}
                      testId="dashboard-stores-chart"
                    />
                  </Suspense>
                  <Table<ChannelStoreStats>
                    rowKey={(r) => r.store ?? ''}
                    size="small"
                    columns={storeColumns}
                    dataSource={s.stores}
                    pagination={false}
                    onRow={(r) => dataAttrs({ testid: 'dashboard-store', store: r.store ?? '', adds: r.adds })}
                    data-testid="dashboard-stores-table"
                    style={{ marginTop: 12 }}
                  />
                </>
              ) : (
                <Empty description={t('channels.stats.noData')} />
              )
            ) : (
              <Skeleton active />
            )}
          </Card>
        </Col>
      </Row>
    </>
  )
}
