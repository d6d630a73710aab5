// Channel analytics panels shared by a code's page and the channel dashboard: the day range, the
// totals, the trend (by day, by hour, hour of day) and the per-member table. Charts load lazily.
import { useQuery } from '@tanstack/react-query'
import { Card, Col, DatePicker, Empty, Flex, Row, Segmented, Skeleton, Statistic, Table, Typography } from 'antd'
import type { TableColumnsType } from 'antd'
import type { Dayjs } from 'dayjs'
import { lazy, Suspense, useState } from 'react'
import { useTranslation } from 'react-i18next'
import { channelSeries, channelStaffStats, channelSummary, type AnalyticsQuery, type ChannelStaffStats } from '../api'
import { nowInZone } from '../utils/schedule'
import { dataAttrs } from '../utils/testid'

const TrendChart = lazy(() => import('./ChannelCharts').then((m) => ({ default: m.TrendChart })))
const HourOfDayChart = lazy(() => import('./ChannelCharts').then((m) => ({ default: m.HourOfDayChart })))

export type DayRange = [Dayjs, Dayjs]

/** Today in `tz` (the analytics count days in each code's time zone, not the browser's). */
function todayIn(tz: string): Dayjs {
  return nowInZone(tz).startOf('day')
}

export function defaultRange(days = 14, tz = 'Asia/Shanghai'): DayRange {
  const today = todayIn(tz)
  return [today.subtract(days - 1, 'day'), today]
}

export function rangeQuery(range: DayRange): Pick<AnalyticsQuery, 'from' | 'to'> {
  return { from: range[0].format('YYYY-MM-DD'), to: range[1].format('YYYY-MM-DD') }
}

export function RangeFilter({ value, onChange, testId, tz = 'Asia/Shanghai' }: { value: DayRange; onChange: (v: DayRange) => void; testId: string; tz?: string }) {
  const { t } = useTranslation()
  const today = todayIn(tz)
  return (
    <DatePicker.RangePicker
      value={value}
      allowClear={false}
      onChange={(v) => v && v[0] && v[1] && onChange([v[0], v[1]])}
      disabledDate={(d) => d.isAfter(today.add(1, 'day'))}
      presets={[
        { label: t('channels.stats.today'), value: [today, today] },
        { label: t('channels.stats.last7'), value: [today.subtract(6, 'day'), today] },
        { label: t('channels.stats.last14'), value: [today.subtract(13, 'day'), today] },
        { label: t('channels.stats.last30'), value: [today.subtract(29, 'day'), today] },
      ]}
      data-testid={testId}
    />
  )
}

export function useSeriesLabels() {
  const { t } = useTranslation()
  return { adds: t('channels.stats.adds'), deletions: t('channels.stats.deletions'), net: t('channels.stats.net') }
}

function Kpi({ title, value, testId, color }: { title: string; value: number | undefined; testId: string; color?: string }) {
  return (
    <Statistic
      title={title}
      value={value ?? '—'}
      valueStyle={color ? { color } : undefined}
      valueRender={(node) => (
        <span data-testid={testId} data-value={value ?? ''}>
          {node}
        </span>
      )}
    />
  )
}

type Bucket = 'day' | 'hour' | 'hod'

/**
 * Totals, a trend chart and the per-member table for the analytics filters `filters` over `range`.
 * `prefix` names the test ids (`{prefix}-adds`, `{prefix}-trend`, `{prefix}-staff-table`).
 */
export function StatsPanel({
  filters,
  range,
  refetchInterval,
  prefix,
  staffNames,
}: {
  filters: AnalyticsQuery
  range: DayRange
  refetchInterval?: number
  prefix: string
  staffNames?: (userid: string) => string
}) {
  const { t } = useTranslation()
  const labels = useSeriesLabels()
  const [bucket, setBucket] = useState<Bucket>('day')
  const query = { ...filters, ...rangeQuery(range) }
  const summary = useQuery({ queryKey: ['channel-stats', 'summary', query], queryFn: () => channelSummary(query), refetchInterval })
  const series = useQuery({
    queryKey: ['channel-stats', 'series', bucket === 'day' ? 'day' : 'hour', query],
    queryFn: () => channelSeries(bucket === 'day' ? 'day' : 'hour', query),
    refetchInterval,
  })
  const staff = useQuery({ queryKey: ['channel-stats', 'staff', query], queryFn: () => channelStaffStats(query), refetchInterval })
  const s = summary.data

  const columns: TableColumnsType<ChannelStaffStats> = [
    {
      title: t('channels.stats.member'),
      key: 'member',
      render: (_, r) => (
        <span>
          {r.name || staffNames?.(r.staff_userid) || r.staff_userid}{' '}
          <Typography.Text type="secondary" style={{ fontSize: 12 }}>
            {r.staff_userid}
          </Typography.Text>
        </span>
      ),
    },
    { title: labels.adds, dataIndex: 'adds', width: 90, align: 'right', sorter: (a, b) => a.adds - b.adds, defaultSortOrder: 'descend' },
    { title: t('channels.stats.returning'), dataIndex: 'returning', width: 90, align: 'right' },
    { title: labels.deletions, dataIndex: 'deletions', width: 90, align: 'right' },
    {
      title: labels.net,
      dataIndex: 'net',
      width: 90,
      align: 'right',
      render: (v: number) => <Typography.Text type={v < 0 ? 'danger' : undefined}>{v}</Typography.Text>,
    },
  ]

  return (
    <>
      <Row gutter={[16, 16]} style={{ marginBottom: 8 }}>
        <Col xs={8}>
          <Kpi title={labels.adds} value={s?.adds} testId={`${prefix}-adds`} color="#1677ff" />
        </Col>
        <Col xs={8}>
          <Kpi title={labels.deletions} value={s?.deletions} testId={`${prefix}-deletions`} color="#ff4d4f" />
        </Col>
        <Col xs={8}>
          <Kpi title={labels.net} value={s?.net} testId={`${prefix}-net`} color="#52c41a" />
        </Col>
      </Row>
      <Flex justify="flex-end" style={{ marginBottom: 8 }}>
        <Segmented<Bucket>
          value={bucket}
          onChange={setBucket}
          options={[
            { value: 'day', label: t('channels.stats.byDay') },
            { value: 'hour', label: t('channels.stats.byHour') },
            { value: 'hod', label: t('channels.stats.hourOfDay') },
          ]}
          data-testid={`${prefix}-bucket`}
        />
      </Flex>
      <Suspense fallback={<Skeleton active paragraph={{ rows: 6 }} />}>
        {series.data ? (
          series.data.points.length ? (
            bucket === 'hod' ? (
              <HourOfDayChart points={series.data.points} labels={labels} testId={`${prefix}-trend`} />
            ) : (
              <TrendChart points={series.data.points} labels={labels} testId={`${prefix}-trend`} />
            )
          ) : (
            <Empty description={t('channels.stats.noData')} data-testid={`${prefix}-trend-empty`} />
          )
        ) : (
          <Skeleton active paragraph={{ rows: 6 }} />
        )}
      </Suspense>
      <Card size="small" title={t('channels.stats.perStaff')} style={{ marginTop: 16 }}>
        <Table<ChannelStaffStats>
          rowKey="staff_userid"
          size="small"
          columns={columns}
          dataSource={staff.data ?? []}
          loading={staff.isLoading}
          pagination={false}
          onRow={(r) => dataAttrs({ testid: `${prefix}-staff-${r.staff_userid}`, adds: r.adds })}
          data-testid={`${prefix}-staff-table`}
          locale={{ emptyText: <Empty image={Empty.PRESENTED_IMAGE_SIMPLE} description={t('channels.stats.noData')} /> }}
        />
      </Card>
    </>
  )
}
