// ECharts for channel analytics; loaded lazily (only the pages that draw charts pull echarts in).
import { BarChart, LineChart } from 'echarts/charts'
import { DataZoomInsideComponent, GridComponent, LegendComponent, TooltipComponent } from 'echarts/components'
import * as echarts from 'echarts/core'
import { CanvasRenderer } from 'echarts/renderers'
import ReactEChartsCore from 'echarts-for-react/esm/core'
import type { SeriesPoint } from '../api'

echarts.use([LineChart, BarChart, GridComponent, LegendComponent, TooltipComponent, DataZoomInsideComponent, CanvasRenderer])

export interface SeriesLabels {
  adds: string
  deletions: string
  net: string
}

const COLORS = { adds: '#1677ff', deletions: '#ff4d4f', net: '#52c41a' }

/** Adds and deletions as bars, net growth as a line, over days or hours ("2026-11-23 14"). */
export function TrendChart({ points, labels, height = 280, testId }: { points: SeriesPoint[]; labels: SeriesLabels; height?: number; testId?: string }) {
  const many = points.length > 48
  const option = {
    animationDuration: 300,
    tooltip: { trigger: 'axis' },
    legend: { top: 0 },
    grid: { left: 40, right: 16, top: 32, bottom: 28 },
    xAxis: {
      type: 'category',
      data: points.map((p) => (p.key.length > 10 ? `${p.key.slice(5, 10)} ${p.key.slice(11)}:00` : p.key.slice(5))),
    },
    yAxis: { type: 'value', minInterval: 1 },
    dataZoom: many ? [{ type: 'inside' }] : [],
    series: [
      { name: labels.adds, type: 'bar', data: points.map((p) => p.adds), color: COLORS.adds, barMaxWidth: 18 },
      { name: labels.deletions, type: 'bar', data: points.map((p) => -p.deletions), color: COLORS.deletions, barMaxWidth: 18 },
      { name: labels.net, type: 'line', data: points.map((p) => p.net), color: COLORS.net, smooth: true, showSymbol: !many },
    ],
  }
  return (
    <div data-testid={testId} data-points={points.length} data-adds={points.reduce((n, p) => n + p.adds, 0)}>
      <ReactEChartsCore echarts={echarts} option={option} notMerge style={{ height }} />
    </div>
  )
}

/** Adds per hour of the day (0–23), summed over the range: when do people scan. */
export function HourOfDayChart({ points, labels, height = 240, testId }: { points: SeriesPoint[]; labels: SeriesLabels; height?: number; testId?: string }) {
  const adds = Array.from({ length: 24 }, () => 0)
  const deletions = Array.from({ length: 24 }, () => 0)
  for (const p of points) {
    const h = Number(p.key.slice(11, 13))
    if (Number.isInteger(h) && h >= 0 && h < 24) {
      adds[h] += p.adds
      deletions[h] += p.deletions
    }
  }
  const option = {
    animationDuration: 300,
    tooltip: { trigger: 'axis' },
    legend: { top: 0 },
    grid: { left: 40, right: 16, top: 32, bottom: 24 },
    xAxis: { type: 'category', data: adds.map((_, h) => `${String(h).padStart(2, '0')}:00`) },
    yAxis: { type: 'value', minInterval: 1 },
    series: [
      { name: labels.adds, type: 'bar', data: adds, color: COLORS.adds, barMaxWidth: 14 },
      { name: labels.deletions, type: 'bar', data: deletions, color: COLORS.deletions, barMaxWidth: 14 },
    ],
  }
  return (
    <div data-testid={testId}>
      <ReactEChartsCore echarts={echarts} option={option} notMerge style={{ height }} />
    </div>
  )
}

export interface NamedStats {
  name: string
  adds: number
  deletions: number
  net: number
}

/** Horizontal bars per code / store / member: adds, deletions and net. */
export function RankingChart({ rows, labels, testId }: { rows: NamedStats[]; labels: SeriesLabels; testId?: string }) {
  const sorted = [...rows].sort((a, b) => a.adds - b.adds)
  const option = {
    animationDuration: 300,
    tooltip: { trigger: 'axis', axisPointer: { type: 'shadow' } },
    legend: { top: 0 },
    grid: { left: 8, right: 24, top: 32, bottom: 8, containLabel: true },
    xAxis: { type: 'value', minInterval: 1 },
    yAxis: { type: 'category', data: sorted.map((r) => r.name), axisLabel: { width: 110, overflow: 'truncate' } },
    series: [
      { name: labels.adds, type: 'bar', data: sorted.map((r) => r.adds), color: COLORS.adds, barMaxWidth: 14 },
      { name: labels.deletions, type: 'bar', data: sorted.map((r) => r.deletions), color: COLORS.deletions, barMaxWidth: 14 },
      { name: labels.net, type: 'bar', data: sorted.map((r) => r.net), color: COLORS.net, barMaxWidth: 14 },
    ],
  }
  return (
    <div data-testid={testId}>
      <ReactEChartsCore echarts={echarts} option={option} notMerge style={{ height: Math.max(160, 40 + sorted.length * 44) }} />
    </div>
  )
}
