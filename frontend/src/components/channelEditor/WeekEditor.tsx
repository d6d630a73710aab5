import { CloseOutlined, CopyOutlined, PlusOutlined } from '@ant-design/icons'
import { Button, Checkbox, Flex, Space, Tooltip, Typography } from 'antd'
import { useEffect, useRef, useState } from 'react'
import { useTranslation } from 'react-i18next'
import type { WeeklyWindow } from '../../api'
import { clockMinutes, weekToWindows, windowsToWeek, type DayHours } from '../../utils/schedule'
import { ClockInput } from './inputs'

const DEFAULT_RANGE = { start: '09:00', end: '18:00' }

function same(a: WeeklyWindow[], b: WeeklyWindow[] | null | undefined) {
  return JSON.stringify(a) === JSON.stringify(weekToWindows(windowsToWeek(b ?? [])))
}

/**
 * Working hours per weekday (a row per day, each with its time ranges), edited as the API's weekly
 * windows. An end before the start runs overnight into the next day; equal start and end is all day.
 */
export function WeekEditor({ value, onChange, testId }: { value?: WeeklyWindow[] | null; onChange?: (v: WeeklyWindow[]) => void; testId: string }) {
  const { t } = useTranslation()
  const [week, setWeek] = useState<DayHours[]>(() => windowsToWeek(value ?? []))
  const last = useRef<WeeklyWindow[]>(weekToWindows(week))
  // follow outside changes (form reset, loading a code), not our own echoes
  useEffect(() => {
    if (!same(last.current, value)) {
      const next = windowsToWeek(value ?? [])
      setWeek(next)
      last.current = weekToWindows(next)
    }
  }, [value])

  const update = (next: DayHours[]) => {
    setWeek(next)
    const windows = weekToWindows(next)
    last.current = windows
    onChange?.(windows)
  }
  const setDay = (day: number, ranges: DayHours['ranges']) => update(week.map((row) => (row.day === day ? { ...row, ranges } : row)))
  const copyToWeekdays = (from: DayHours) =>
    update(week.map((row) => (row.day <= 5 && row.day !== from.day ? { ...row, ranges: from.ranges.map((r) => ({ ...r })) } : row)))

  return (
    <div data-testid={testId} className="week-editor">
      <Space wrap style={{ marginBottom: 8 }}>
        <Button
          size="small"
          onClick={() => update(week.map((row) => ({ ...row, ranges: row.day <= 5 ? [{ ...DEFAULT_RANGE }] : [] })))}
          data-testid={`${testId}-preset-weekdays`}
        >
          {t('channels.week.presetWeekdays')}
        </Button>
        <Button
          size="small"
          onClick={() => update(week.map((row) => ({ ...row, ranges: [{ start: '10:00', end: '22:00' }] })))}
          data-testid={`${testId}-preset-everyday`}
        >
          {t('channels.week.presetEveryday')}
        </Button>
        <Button size="small" autoInsertSpace={false} onClick={() => update(week.map((row) => ({ ...row, ranges: [] })))} data-testid={`${testId}-clear`}>
          {t('channels.week.clear')}
        </Button>
      </Space>
      {week.map((row) => {
        const on = row.ranges.length > 0
        return (
          <Flex key={row.day} align="flex-start" gap={12} className="week-row" data-testid={`${testId}-day-${row.day}`} data-on={String(on)}>
            <Checkbox
              checked={on}
              onChange={(e) => setDay(row.day, e.target.checked ? [{ ...DEFAULT_RANGE }] : [])}
              style={{ width: 72, paddingTop: 5 }}
              data-testid={`${testId}-day-${row.day}-toggle`}
            >
              {t(`channels.weekday.${row.day}`)}
            </Checkbox>
            {on ? (
              <Flex wrap gap={8} style={{ flex: 1 }}>
                {row.ranges.map((r, i) => {
                  const overnight = clockMinutes(r.end) < clockMinutes(r.start)
                  return (
                    <Space.Compact key={i}>
                      <ClockInput
                        value={r.start}
                        onChange={(v) => setDay(row.day, row.ranges.map((x, j) => (j === i ? { ...x, start: v ?? x.start } : x)))}
                        testId={`${testId}-day-${row.day}-${i}-start`}
                      />
                      <ClockInput
                        value={r.end}
                        onChange={(v) => setDay(row.day, row.ranges.map((x, j) => (j === i ? { ...x, end: v ?? x.end } : x)))}
                        testId={`${testId}-day-${row.day}-${i}-end`}
                      />
                      {overnight ? (
                        <Tooltip title={t('channels.week.overnightHint')}>
                          <Button disabled style={{ cursor: 'help' }}>
                            {t('channels.week.nextDay')}
                          </Button>
                        </Tooltip>
                      ) : null}
                      <Button icon={<CloseOutlined />} onClick={() => setDay(row.day, row.ranges.filter((_, j) => j !== i))} aria-label={t('common.delete')} />
                    </Space.Compact>
                  )
                })}
                <Button
                  type="dashed"
                  icon={<PlusOutlined />}
                  onClick={() => setDay(row.day, [...row.ranges, { start: '18:00', end: '21:00' }])}
                  data-testid={`${testId}-day-${row.day}-add`}
                >
                  {t('channels.week.addRange')}
                </Button>
                {row.day <= 5 ? (
                  <Tooltip title={t('channels.week.copyToWeekdays')}>
                    <Button type="text" icon={<CopyOutlined />} onClick={() => copyToWeekdays(row)} aria-label={t('channels.week.copyToWeekdays')} />
                  </Tooltip>
                ) : null}
              </Flex>
            ) : (
              <Typography.Text type="secondary" style={{ paddingTop: 5 }}>
                {t('channels.week.off')}
              </Typography.Text>
            )}
          </Flex>
        )
      })}
    </div>
  )
}
