import { LineChart } from 'echarts/charts'
import { GridComponent, LegendComponent, TooltipComponent } from 'echarts/components'
import * as echarts from 'echarts/core'
import { CanvasRenderer } from 'echarts/renderers'
import ReactEChartsCore from 'echarts-for-react/esm/core'

echarts.use([LineChart, GridComponent, LegendComponent, TooltipComponent, CanvasRenderer])

export interface BacklogSample {
  time: string
  pending: number
  processing: number
  dead: number
}

export default function BacklogChart({ samples, labels }: { samples: BacklogSample[]; labels: { pending: string; processing: string; dead: string } }) {
  const option = {
    animation: false,
    tooltip: { trigger: 'axis' },
    legend: { top: 0 },
    grid: { left: 40, right: 16, top: 32, bottom: 24 },
    xAxis: { type: 'category', boundaryGap: false, data: samples.map((s) => s.time) },
    yAxis: { type: 'value', minInterval: 1 },
    series: [
      { name: labels.pending, type: 'line', showSymbol: false, data: samples.map((s) => s.pending), color: '#1677ff' },
      { name: labels.processing, type: 'line', showSymbol: false, data: samples.map((s) => s.processing), color: '#faad14' },
      { name: labels.dead, type: 'line', showSymbol: false, data: samples.map((s) => s.dead), color: '#cf1322' },
    ],
  }
  return <ReactEChartsCore echarts={echarts} option={option} notMerge style={{ height: 220 }} />
}
