// Form inputs whose values are the API's strings: "HH:MM" clock times and "YYYY-MM-DD" dates.
import { DatePicker, Space, Tag, TimePicker } from 'antd'
import dayjs from 'dayjs'
import type { CSSProperties } from 'react'
import { useTranslation } from 'react-i18next'
import { WEEKDAYS } from '../../utils/schedule'

const CLOCK = 'HH:mm'

export function ClockInput({
  value,
  onChange,
  placeholder,
  testId,
  style,
  status,
}: {
  value?: string | null
  onChange?: (v: string | null) => void
  placeholder?: string
  testId?: string
  style?: CSSProperties
  status?: 'error'
}) {
  const parsed = value ? dayjs(`2000-01-01T${value === '24:00' ? '00:00' : value}`) : null
  return (
    <TimePicker
      value={parsed && parsed.isValid() ? parsed : null}
      format={CLOCK}
      minuteStep={5}
      needConfirm={false}
      showNow={false}
      allowClear={false}
      placeholder={placeholder}
      onChange={(d) => onChange?.(d ? d.format(CLOCK) : null)}
      style={{ width: 92, ...style }}
      status={status}
      data-testid={testId}
    />
  )
}

export function DateInput({
  value,
  onChange,
  placeholder,
  testId,
  style,
  allowClear = true,
}: {
  value?: string | null
  onChange?: (v: string | null) => void
  placeholder?: string
  testId?: string
  style?: CSSProperties
  allowClear?: boolean
}) {
  const parsed = value ? dayjs(value) : null
  return (
    <DatePicker
      value={parsed && parsed.isValid() ? parsed : null}
      onChange={(d) => onChange?.(d ? d.format('YYYY-MM-DD') : null)}
      placeholder={placeholder}
      allowClear={allowClear}
      style={{ width: 140, ...style }}
      data-testid={testId}
    />
  )
}

/** ISO weekdays (1 Monday .. 7 Sunday) as checkboxes; empty means every day (the API's reading). */
export function WeekdaysInput({ value, onChange, testId }: { value?: number[] | null; onChange?: (v: number[]) => void; testId?: string }) {
  const { t } = useTranslation()
  const days = value ?? []
  return (
    <Space size={4} wrap data-testid={testId} data-value={days.join(',')}>
      {WEEKDAYS.map((d) => (
        <Tag.CheckableTag
          key={d}
          checked={days.includes(d)}
          onChange={(on) => onChange?.((on ? [...days, d] : days.filter((x) => x !== d)).sort())}
          className="weekday-tag"
          data-testid={testId ? `${testId}-${d}` : undefined}
        >
          {t(`channels.weekday.${d}`)}
        </Tag.CheckableTag>
      ))}
    </Space>
  )
}
