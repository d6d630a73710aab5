// ECharts for the commerce reports; loaded lazily (only the pages that draw charts pull echarts in).
import { BarChart } from 'echarts/charts'
import { GridComponent, TooltipComponent } from 'echarts/components'
import * as echarts from 'echarts/core'
import { CanvasRenderer } from 'echarts/renderers'
import ReactEChartsCore from 'echarts-for-react/esm/core'

echarts.use([BarChart, GridComponent, TooltipComponent, CanvasRenderer])

const PLATFORM_COLORS: Record<string, string> = {
  youzan: '#f5222d',
  taobao: '#fa8c16',
  douyin: '#2f54eb',
  jd: '#fa541c',
  pdd: '#eb2f96',
}

/** One bar per platform: how many customers bought there. */
export function PlatformBarChart({
  rows,
  seriesName,
  testId,
  height = 280,
}: {
  rows: { platform: string; name: string; value: number }[]
  seriesName: string
  testId?: string
  height?: number
}) {
  const option = {
    animationDuration: 300,
    tooltip: { trigger: 'axis', axisPointer: { type: 'shadow' } },
    grid: { left: 40, right: 16, top: 24, bottom: 28 },
    xAxis: { type: 'category', data: rows.map((r) => r.name) },
    yAxis: { type: 'value', minInterval: 1 },
    series: [
      {
        name: seriesName,
        type: 'bar',
        barMaxWidth: 48,
        label: { show: true, position: 'top' },
        data: rows.map((r) => ({ value: r.value, itemStyle: { color: PLATFORM_COLORS[r.platform] ?? '#1677ff' } })),
      },
    ],
  }
  return (
    <div data-testid={testId} data-bars={rows.length} data-values={rows.map((r) => `${r.platform}:${r.value}`).join(',')}>
      <ReactEChartsCore echarts={echarts} option={option} notMerge style={{ height }} />
    </div>
  )
}
