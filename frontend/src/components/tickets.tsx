// The service desk's shared pieces: weekly hours and targets in words, wall-clock times of a calendar's
// time zone, the API's calendar / policy errors placed on form fields, the interval and date-list inputs
// of the calendar form, and the deadline preview (试算) of an SLA policy.
import { CalculatorOutlined, CloseOutlined, PlusOutlined } from '@ant-design/icons'
import { useMutation } from '@tanstack/react-query'
import { Alert, App, Button, Col, DatePicker, Descriptions, Flex, Form, Input, InputNumber, Modal, Row, Space, Tag, TimePicker, Tooltip, Typography } from 'antd'
import type { FormInstance } from 'antd'
import dayjs, { type Dayjs } from 'dayjs'
import { useMemo, useState, type ReactNode } from 'react'
import { useTranslation } from 'react-i18next'
import { ApiError, previewDeadline, type DeadlinePreview, type FieldError, type SlaPolicy, type SlaTargets, type TicketCalendar, type TicketPriority } from '../api'
import { nowInZone } from '../utils/schedule'
import { errorText, fieldErrorText } from './useApiError'

// ---------------------------------------------------------------------------------------------------
// Shapes and pure helpers
// ---------------------------------------------------------------------------------------------------

export type T = (k: string, o?: Record<string, unknown>) => string

export const WEEKDAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as const
export type Weekday = (typeof WEEKDAYS)[number]
export const PRIORITIES: TicketPriority[] = ['urgent', 'high', 'normal', 'low']
export const PRIORITY_COLORS: Record<TicketPriority, string> = { urgent: 'red', high: 'orange', normal: 'blue', low: 'default' }
export const TARGET_KEYS = ['first_response_minutes', 'next_response_minutes', 'resolution_minutes'] as const
export type TargetKey = (typeof TARGET_KEYS)[number]
export const DEFAULT_TIMEZONE = 'Asia/Shanghai'
export const MAX_TARGET_MINUTES = 525_600
const CLOCK = 'HH:mm'

/** One working interval as the API has it: ["HH:MM", "HH:MM"] (end may be "24:00"). */
export type Interval = [string, string]
export const STANDARD_DAY: Interval[] = [
  ['09:00', '12:00'],
  ['13:30', '18:00'],
]

export const CALENDARS_KEY = ['tickets', 'calendars'] as const
export const POLICIES_KEY = ['tickets', 'policies'] as const

/** "HH:MM" → minutes after midnight ("24:00" → 1440); NaN when malformed. */
function clockToMinutes(text: string): number {
  const m = /^(\d{2}):(\d{2})$/.exec(text)
  return m ? Number(m[1]) * 60 + Number(m[2]) : NaN
}

function minutesToClock(minutes: number): string {
  const m = Math.max(0, Math.min(24 * 60, minutes))
  return `${String(Math.floor(m / 60)).padStart(2, '0')}:${String(m % 60).padStart(2, '0')}`
}

/** A new interval after the day's last one (an hour long), or a plain working day when it has none. */
function nextInterval(intervals: Interval[]): Interval {
  const last = intervals[intervals.length - 1]
  const lastEnd = last ? clockToMinutes(last[1]) : NaN
  if (Number.isNaN(lastEnd)) return ['09:00', '18:00']
  const start = Math.min(lastEnd + 60, 23 * 60)
  return [minutesToClock(start), minutesToClock(start + 60)]
}

/** A length of working time: "30 分钟", "4 小时", "1 小时 30 分钟". */
export function formatMinutes(minutes: number, t: T): string {
  const h = Math.floor(minutes / 60)
  const m = minutes % 60
  if (!h) return t('tickets.duration.minutes', { m })
  if (!m) return t('tickets.duration.hours', { h })
  return t('tickets.duration.hoursMinutes', { h, m })
}

/** Weekday key of a "YYYY-MM-DD" date (or of a date-time string's date). */
function weekdayOf(date: string): Weekday {
  return WEEKDAYS[(dayjs(date.slice(0, 10)).day() + 6) % 7]
}

export function intervalsText(intervals: Interval[] | string[][], t: T): string {
  return intervals.map((iv) => `${iv[0]}–${iv[1]}`).join(t('tickets.summary.intervalSep'))
}

/**
 * The week in a line: days with the same intervals together, runs of three days or more as a range
 * ("周一至周五 09:00–12:00, 13:30–18:00；周六 10:00–16:00"); days off are left out.
 */
export function summariseWeek(weekly: Record<string, string[][]>, t: T): string {
  const groups = new Map<string, number[]>()
  WEEKDAYS.forEach((day, index) => {
    const intervals = weekly[day] ?? []
    if (!intervals.length) return
    const key = intervalsText(intervals, t)
    groups.set(key, [...(groups.get(key) ?? []), index])
  })
  if (!groups.size) return t('tickets.summary.noHours')
  const dayName = (i: number) => t(`tickets.weekday.${WEEKDAYS[i]}`)
  return [...groups.entries()]
    .map(([hours, days]) => {
      const runs: number[][] = []
      for (const d of days) {
        const run = runs[runs.length - 1]
        if (run && run[run.length - 1] === d - 1) run.push(d)
        else runs.push([d])
      }
      const names = runs.flatMap((run) =>
        run.length >= 3 ? [t('tickets.summary.dayRun', { from: dayName(run[0]), to: dayName(run[run.length - 1]) })] : run.map(dayName),
      )
      return `${names.join(t('tickets.summary.daySep'))} ${hours}`
    })
    .join(t('tickets.summary.groupSep'))
}

/** "首响 30 分钟 · 解决 4 小时" for one priority's targets (null when it has none). */
export function targetsLine(targets: SlaTargets | undefined, t: T): string | null {
  const parts = TARGET_KEYS.flatMap((k) => {
    const v = targets?.[k]
    return v ? [`${t(`tickets.policies.short.${k}`)} ${formatMinutes(v, t)}`] : []
  })
  return parts.length ? parts.join(' · ') : null
}

/** Minutes between UTC and the wall clock of `tz` at the instant `utcMs`. */
function zoneOffsetMinutes(tz: string, utcMs: number): number {
  const parts = Object.fromEntries(
    new Intl.DateTimeFormat('en-US', {
      timeZone: tz,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
    })
      .formatToParts(new Date(utcMs))
      .map((p) => [p.type, p.value]),
  )
  const wall = Date.UTC(Number(parts.year), Number(parts.month) - 1, Number(parts.day), Number(parts.hour), Number(parts.minute), Number(parts.second))
  return Math.round((wall - utcMs) / 60_000)
}

/** A wall-clock time of zone `tz` (the fields of `wall`) as ISO 8601 with that zone's offset then. */
function wallTimeIso(wall: Dayjs, tz: string): string {
  try {
    const asUtc = Date.UTC(wall.year(), wall.month(), wall.date(), wall.hour(), wall.minute())
    let offset = zoneOffsetMinutes(tz, asUtc)
    // near a DST change the offset at the guessed instant may not be the one at the real instant
    offset = zoneOffsetMinutes(tz, asUtc - offset * 60_000)
    const abs = Math.abs(offset)
    const hhmm = `${String(Math.floor(abs / 60)).padStart(2, '0')}:${String(abs % 60).padStart(2, '0')}`
    return `${wall.format('YYYY-MM-DDTHH:mm')}:00${offset < 0 ? '-' : '+'}${hhmm}`
  } catch {
    return wall.format() // a zone this browser does not know: the browser's own offset
  }
}

const BROWSER_ZONE = (() => {
  try {
    return Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC'
  } catch {
    return 'UTC'
  }
})()

/** "2026-12-07 周一 09:30" from an ISO time, read as the wall clock it is written in. */
function wallText(iso: string, t: T): string {
  return `${iso.slice(0, 10)} ${t(`tickets.weekday.${weekdayOf(iso)}`)} ${iso.slice(11, 16)}`
}

/** "2026-12-07 周一 01:30" of an instant in this browser's zone. */
function browserText(iso: string, t: T): string {
  const d = dayjs(iso)
  return d.isValid() ? wallText(d.format('YYYY-MM-DDTHH:mm'), t) : iso
}

/** The server's own words for a calendar / policy problem, in the console's language when known. */
export function problemText(e: FieldError, t: T): string {
  if (e.code) return fieldErrorText(e, t)
  const known: Record<string, string> = {
    'the end must be after the start': 'endBeforeStart',
    'times are HH:MM between 00:00 and 24:00': 'badTime',
    'intervals overlap': 'overlap',
    'expected a date, YYYY-MM-DD': 'badDate',
    'expected ["HH:MM", "HH:MM"]': 'badInterval',
    'expected a list of ["HH:MM", "HH:MM"]': 'badIntervals',
    'set at least one target': 'noTargets',
  }
  const key =
    known[e.message] ??
    (/^unknown time zone/.test(e.message)
      ? 'unknownTimezone'
      : /^no calendar \d+ here$/.test(e.message)
        ? 'unknownCalendar'
        : /^no working time/.test(e.message)
          ? 'noWorkingTime'
          : null)
  return key ? t(`tickets.serverErrors.${key}`) : e.message
}

export type NamePath = (string | number)[]

/** Paths of what changed in a values-changed object, down to the leaves (an emptied list is a leaf). */
function changedPaths(value: unknown, prefix: NamePath = []): NamePath[] {
  if (Array.isArray(value)) {
    const inner = value.flatMap((v, i) => (v === undefined ? [] : changedPaths(v, [...prefix, i])))
    return inner.length ? inner : [prefix]
  }
  if (value && typeof value === 'object' && !dayjs.isDayjs(value)) {
    const inner = Object.entries(value).flatMap(([k, v]) => changedPaths(v, [...prefix, k]))
    return inner.length ? inner : [prefix]
  }
  return [prefix]
}

/** Clears the errors set on fields that are, or contain, something just changed. */
export function clearChangedErrors(form: FormInstance, changed: unknown) {
  const paths = changedPaths(changed)
  const isPrefix = (a: NamePath, b: NamePath) => a.length <= b.length && a.every((k, i) => String(k) === String(b[i]))
  const stale = form
    .getFieldsError()
    .filter((f) => f.errors.length && paths.some((p) => isPrefix(f.name, p) || isPrefix(p, f.name)))
  if (stale.length) form.setFields(stale.map((f) => ({ name: f.name, errors: [] })))
}

/** Puts placed errors on the form (several on one field are listed together); the rest as a message. */
export function placeErrors(
  form: FormInstance,
  err: ApiError,
  errors: FieldError[],
  place: (e: FieldError) => { name: NamePath; text: string } | null,
  showRest: (text: string) => void,
  t: T,
) {
  const byField = new Map<string, { name: NamePath; errors: string[] }>()
  const rest: FieldError[] = []
  for (const e of errors) {
    const spot = place(e)
    if (!spot) {
      rest.push(e)
      continue
    }
    const key = JSON.stringify(spot.name)
    const entry = byField.get(key) ?? { name: spot.name, errors: [] }
    entry.errors.push(spot.text)
    byField.set(key, entry)
  }
  form.setFields([...byField.values()])
  const restText = rest.map((e) => `${e.field}: ${problemText(e, t)}`).join('; ')
  showRest([errorText(err, t), restText].filter(Boolean).join(' — '))
}

export const isConflict = (err: unknown) => err instanceof ApiError && err.status === 409

// ---------------------------------------------------------------------------------------------------
// Inputs of the calendar form
// ---------------------------------------------------------------------------------------------------

/** A day's intervals (a Form.List of ["HH:MM", "HH:MM"]), with the list's own errors under the row. */
export function IntervalList({ name, label, testId, readOnly }: { name: NamePath; label: string; testId: string; readOnly: boolean }) {
  const { t } = useTranslation()
  return (
    <Form.List name={name}>
      {(fields, { add, remove }, { errors }) => (
        <div className="sla-day-row" data-testid={testId} data-count={fields.length} style={{ padding: '6px 0', borderBottom: '1px solid #f5f5f5' }}>
          <Flex align="flex-start" gap={12}>
            <Typography.Text style={{ width: 64, flex: 'none', paddingTop: 5 }}>{label}</Typography.Text>
            <Flex wrap gap={8} align="flex-start" style={{ flex: 1 }}>
              {fields.length === 0 ? (
                <Typography.Text type="secondary" style={{ paddingTop: 5, minWidth: 40 }} data-testid={`${testId}-off`}>
                  {t('tickets.calendars.dayOff')}
                </Typography.Text>
              ) : null}
              {fields.map((field) => (
                <Form.Item key={field.key} name={[field.name]} style={{ marginBottom: 0 }}>
                  <IntervalInput testId={`${testId}-${field.name}`} onRemove={readOnly ? undefined : () => remove(field.name)} />
                </Form.Item>
              ))}
              {readOnly ? null : (
                <Form.Item noStyle shouldUpdate>
                  {(form) => (
                    <Button
                      type="dashed"
                      icon={<PlusOutlined />}
                      onClick={() => add(nextInterval((form.getFieldValue(name) ?? []) as Interval[]))}
                      disabled={fields.length >= 12}
                      data-testid={`${testId}-add`}
                    >
                      {t('tickets.calendars.addInterval')}
                    </Button>
                  )}
                </Form.Item>
              )}
            </Flex>
          </Flex>
          {errors.length ? (
            <div style={{ paddingLeft: 76 }} data-testid={`${testId}-errors`}>
              <Form.ErrorList errors={errors} />
            </div>
          ) : null}
        </div>
      )}
    </Form.List>
  )
}

function ClockPicker({ value, onChange, end, testId, placeholder }: { value: string; onChange: (v: string) => void; end?: boolean; testId: string; placeholder: string }) {
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
      // an end of 00:00 is midnight at the end of the day
      onChange={(d) => {
        if (!d) return
        const text = d.format(CLOCK)
        onChange(end && text === '00:00' ? '24:00' : text)
      }}
      style={{ width: 92 }}
      data-testid={testId}
      data-value={value}
    />
  )
}

function IntervalInput({ value, onChange, onRemove, testId }: { value?: Interval; onChange?: (v: Interval) => void; onRemove?: () => void; testId: string }) {
  const { t } = useTranslation()
  const [start, end] = value ?? ['', '']
  return (
    <Space.Compact data-testid={testId} data-value={`${start}-${end}`}>
      <ClockPicker value={start} onChange={(v) => onChange?.([v, end])} testId={`${testId}-start`} placeholder={t('tickets.calendars.start')} />
      <ClockPicker value={end} end onChange={(v) => onChange?.([start, v])} testId={`${testId}-end`} placeholder={t('tickets.calendars.end')} />
      {onRemove ? (
        <Tooltip title={t('tickets.calendars.removeInterval')}>
          <Button icon={<CloseOutlined />} onClick={onRemove} aria-label={t('tickets.calendars.removeInterval')} data-testid={`${testId}-remove`} />
        </Tooltip>
      ) : null}
    </Space.Compact>
  )
}

/** A list of "YYYY-MM-DD" dates: picked one by one, or pasted; shown sorted as closable tags. */
export function DateListInput({ value, onChange, testId, readOnly }: { value?: string[]; onChange?: (v: string[]) => void; testId: string; readOnly: boolean }) {
  const { t } = useTranslation()
  const { message } = App.useApp()
  const [pasted, setPasted] = useState('')
  const dates = value ?? []
  const add = (more: string[]) => onChange?.([...new Set([...dates, ...more])].sort())
  const addPasted = () => {
    const found = pasted.match(/\d{4}-\d{2}-\d{2}/g) ?? []
    if (!found.length) {
      void message.warning(t('tickets.calendars.bulkNone'))
      return
    }
    add(found)
    setPasted('')
  }
  return (
    <div data-testid={testId} data-value={dates.join(',')} data-count={dates.length}>
      {readOnly ? null : (
        <Space direction="vertical" size={8} style={{ width: '100%', marginBottom: 8 }}>
          <DatePicker
            value={null}
            onChange={(d: Dayjs | null) => {
              if (d) add([d.format('YYYY-MM-DD')])
            }}
            placeholder={t('tickets.calendars.pickDate')}
            style={{ width: '100%' }}
            data-testid={`${testId}-picker`}
          />
          <Space.Compact style={{ width: '100%' }}>
            <Input
              value={pasted}
              onChange={(e) => setPasted(e.target.value)}
              onPressEnter={(e) => {
                e.preventDefault()
                addPasted()
              }}
              placeholder={t('tickets.calendars.bulkPlaceholder')}
              data-testid={`${testId}-paste`}
            />
            <Button onClick={addPasted} disabled={!pasted.trim()} data-testid={`${testId}-paste-add`}>
              {t('tickets.calendars.bulkAdd')}
            </Button>
          </Space.Compact>
        </Space>
      )}
      {dates.length ? (
        <>
          <Flex wrap gap={4}>
            {dates.map((d) => (
              <Tag
                key={d}
                closable={!readOnly}
                onClose={(e) => {
                  e.preventDefault()
                  onChange?.(dates.filter((x) => x !== d))
                }}
                style={{ marginInlineEnd: 0 }}
                data-testid={`${testId}-tag-${d}`}
              >
                {d} {t(`tickets.weekday.${weekdayOf(d)}`)}
              </Tag>
            ))}
          </Flex>
          <Typography.Text type="secondary" style={{ fontSize: 12 }}>
            {t('tickets.calendars.dateCount', { count: dates.length })}
          </Typography.Text>
        </>
      ) : (
        <Typography.Text type="secondary">{t('tickets.calendars.noDates')}</Typography.Text>
      )}
    </div>
  )
}

// ---------------------------------------------------------------------------------------------------
// 试算: when a number of working minutes from a start falls due on the policy's calendar
// ---------------------------------------------------------------------------------------------------

interface PreviewForm {
  start: Dayjs | null
  minutes: number | null
}

export function PreviewModal({ policy, calendar, onClose }: { policy: SlaPolicy; calendar: TicketCalendar | undefined; onClose: () => void }) {
  const { t } = useTranslation()
  const [form] = Form.useForm<PreviewForm>()
  const tz = calendar?.timezone ?? DEFAULT_TIMEZONE
  const [asked, setAsked] = useState<{ start: string; minutes: number } | null>(null)
  const initial = useMemo<PreviewForm>(() => {
    const first = PRIORITIES.map((pr) => policy.targets[pr]?.first_response_minutes).find((v) => !!v)
    return { start: nowInZone(tz).second(0).millisecond(0), minutes: first ?? 60 }
  }, [policy, tz])

  const run = useMutation({
    mutationFn: (v: { start: string; minutes: number }) => previewDeadline(policy.id, v.start, v.minutes),
    onMutate: (v) => setAsked(v),
    onError: (err) => {
      if (err instanceof ApiError && err.errors.length) {
        placeErrors(
          form,
          err,
          err.errors,
          (e) => (e.field === 'minutes' || e.field === 'start' ? { name: [e.field], text: problemText(e, t) } : null),
          () => undefined,
          t,
        )
      }
    },
  })

  const choices = PRIORITIES.flatMap((pr) =>
    TARGET_KEYS.flatMap((k) => {
      const v = policy.targets[pr]?.[k]
      return v ? [{ key: `${pr}-${k}`, minutes: v, label: `${t(`tickets.priority.${pr}`)} · ${t(`tickets.policies.short.${k}`)} ${formatMinutes(v, t)}` }] : []
    }),
  )

  return (
    <Modal
      open
      width={640}
      title={t('tickets.preview.title', { name: policy.name })}
      onCancel={onClose}
      footer={
        <Button onClick={onClose} data-testid="preview-close">
          {t('common.close')}
        </Button>
      }
      destroyOnHidden
      data-testid="preview-modal"
    >
      <Typography.Paragraph type="secondary">{t('tickets.preview.hint')}</Typography.Paragraph>
      <Form<PreviewForm>
        form={form}
        layout="vertical"
        initialValues={initial}
        onFinish={(v) => {
          if (v.start && v.minutes != null) run.mutate({ start: wallTimeIso(v.start, tz), minutes: v.minutes })
        }}
        onValuesChange={(changed) => clearChangedErrors(form, changed)}
      >
        <Row gutter={12} align="top">
          <Col xs={24} md={11}>
            <Form.Item
              name="start"
              label={t('tickets.preview.start')}
              extra={t('tickets.preview.startHelp', { tz })}
              rules={[{ required: true, message: t('tickets.preview.startRequired') }]}
            >
              <DatePicker showTime={{ format: CLOCK }} format="YYYY-MM-DD HH:mm" needConfirm={false} style={{ width: '100%' }} data-testid="preview-start" />
            </Form.Item>
          </Col>
          <Col xs={14} md={8}>
            <Form.Item name="minutes" label={t('tickets.preview.minutes')} rules={[{ required: true, message: t('tickets.preview.minutesRequired') }]}>
              <InputNumber<number> min={0} max={MAX_TARGET_MINUTES} precision={0} suffix={t('tickets.policies.minutesSuffix')} style={{ width: '100%' }} data-testid="preview-minutes" />
            </Form.Item>
          </Col>
          <Col xs={10} md={5}>
            <Form.Item label=" ">
              <Button type="primary" htmlType="submit" icon={<CalculatorOutlined />} loading={run.isPending} block data-testid="preview-run">
                {t('tickets.preview.run')}
              </Button>
            </Form.Item>
          </Col>
        </Row>
        {choices.length ? (
          <Flex wrap gap={4} align="center" style={{ marginTop: -8, marginBottom: 12 }}>
            <Typography.Text type="secondary" style={{ fontSize: 12 }}>
              {t('tickets.preview.fromTargets')}
            </Typography.Text>
            {choices.map((c) => (
              <Tag.CheckableTag
                key={c.key}
                checked={false}
                onChange={() => {
                  form.setFieldValue('minutes', c.minutes)
                  form.submit()
                }}
                data-testid={`preview-choice-${c.key}`}
              >
                {c.label}
              </Tag.CheckableTag>
            ))}
          </Flex>
        ) : null}
      </Form>
      {run.error && !(run.error instanceof ApiError && run.error.errors.length) ? (
        <Alert type="error" showIcon message={errorText(run.error, t)} data-testid="preview-error" />
      ) : null}
      {run.data && asked && !run.isPending ? <PreviewResult result={run.data} asked={asked} /> : null}
    </Modal>
  )
}

function PreviewResult({ result, asked }: { result: DeadlinePreview; asked: { start: string; minutes: number } }): ReactNode {
  const { t } = useTranslation()
  return (
    <Descriptions
      bordered
      size="small"
      column={1}
      data-testid="preview-result"
      items={[
        {
          key: 'local',
          label: t('tickets.preview.dueLocal', { tz: result.timezone }),
          children: (
            <Typography.Text strong style={{ fontSize: 16 }} data-testid="preview-due-local" data-value={result.due_at_local}>
              {wallText(result.due_at_local, t)}
            </Typography.Text>
          ),
        },
        {
          key: 'browser',
          label: t('tickets.preview.dueBrowser', { tz: BROWSER_ZONE }),
          children: (
            <span data-testid="preview-due-browser" data-value={result.due_at}>
              {browserText(result.due_at, t)}
            </span>
          ),
        },
        {
          key: 'asked',
          label: t('tickets.preview.minutes'),
          children: (
            <Typography.Text type="secondary" data-testid="preview-asked">
              {t('tickets.preview.summary', { start: wallText(asked.start, t), duration: formatMinutes(asked.minutes, t) })}
            </Typography.Text>
          ),
        },
      ]}
    />
  )
}
