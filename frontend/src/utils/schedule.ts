// Local-time windows and welcome variants as the back end reads them (scrm.channels.calendar and
// scrm.channels.welcome), for the editor's week grid and the phone preview. Pure.
import dayjs, { type Dayjs } from 'dayjs'
import type { Welcome, WelcomeVariant, WeeklyWindow } from '../api'

export const WEEKDAYS = [1, 2, 3, 4, 5, 6, 7] as const
export const WELCOME_PLACEHOLDERS = ['customer_name', 'staff_name', 'channel_name'] as const
export const REMARK_PLACEHOLDERS = ['customer_name', 'staff_name', 'channel_name', 'store', 'region', 'date'] as const

/** "HH:MM" → minutes after midnight ("24:00" → 0, as the back end reads it); NaN when malformed. */
export function clockMinutes(text: string | null | undefined): number {
  const m = /^(\d{2}):(\d{2})$/.exec(text ?? '')
  if (!m) return NaN
  const h = Number(m[1])
  const min = Number(m[2])
  if (h === 24 && min === 0) return 0
  if (h > 23 || min > 59) return NaN
  return h * 60 + min
}

interface Range {
  start: number
  end: number
}

function range(start: string, end: string): Range {
  return { start: clockMinutes(start), end: clockMinutes(end) }
}

/** `[start, end)`; end before start runs overnight (the tail belongs to the day it started); start == end: all day. */
function sameDayPart(r: Range, moment: number): boolean {
  if (r.start === r.end) return true
  if (r.end < r.start) return moment >= r.start
  return r.start <= moment && moment < r.end
}

function nextDayPart(r: Range, moment: number): boolean {
  return r.end < r.start && moment < r.end
}

/** ISO weekday (1 Monday .. 7 Sunday) of a wall-clock time. */
export function isoWeekday(local: Dayjs): number {
  return ((local.day() + 6) % 7) + 1
}

/** Whether wall-clock time `local` is inside a weekly window (days empty: every day). */
export function windowContains(days: readonly number[], start: string, end: string, local: Dayjs): boolean {
  const all = days.length ? days : WEEKDAYS
  const r = range(start, end)
  if (Number.isNaN(r.start) || Number.isNaN(r.end)) return false
  const moment = local.hour() * 60 + local.minute()
  const today = isoWeekday(local)
  const yesterday = ((today + 5) % 7) + 1
  return (all.includes(today) && sameDayPart(r, moment)) || (all.includes(yesterday) && nextDayPart(r, moment))
}

export function variantMatches(v: Partial<WelcomeVariant>, local: Dayjs): boolean {
  const day = local.format('YYYY-MM-DD')
  if (v.from_date && day < v.from_date) return false
  if (v.to_date && day > v.to_date) return false
  const days = v.days ?? []
  if (!v.start || !v.end) return !days.length || days.includes(isoWeekday(local))
  return windowContains(days, v.start, v.end, local)
}

export interface ChosenWelcome {
  /** Index of the variant used, or -1 for the default. */
  index: number
  name: string | null
  text: string
  attachments: Record<string, unknown>[]
}

/** The first variant matching `local` wins; its text / attachments replace the default's when given. */
export function chooseWelcome(w: Partial<Welcome> | undefined, local: Dayjs): ChosenWelcome {
  const text = w?.text ?? ''
  const attachments = (w?.attachments ?? []) as Record<string, unknown>[]
  const variants = w?.variants ?? []
  for (let i = 0; i < variants.length; i++) {
    const v = variants[i]
    if (v && variantMatches(v, local)) {
      return {
        index: i,
        name: v.name ?? null,
        text: v.text == null ? text : v.text,
        attachments: v.attachments == null ? attachments : (v.attachments as Record<string, unknown>[]),
      }
    }
  }
  return { index: -1, name: null, text, attachments }
}

/** `{name}` replaced by `values[name]` (unknown names kept), `{{` / `}}` write braces. */
export function renderTemplate(template: string, values: Record<string, string>): string {
  return template.replace(/\{\{|\}\}|\{([a-z_]+)\}/g, (m, name?: string) => {
    if (m === '{{') return '{'
    if (m === '}}') return '}'
    return name && name in values ? values[name] : m
  })
}

/** Placeholders of `template` that are not in `allowed` (the server refuses them too). */
export function unknownPlaceholders(template: string | null | undefined, allowed: readonly string[]): string[] {
  const found = new Set<string>()
  const cleaned = (template ?? '').replace(/\{\{|\}\}/g, '')
  for (const m of cleaned.matchAll(/\{([^{}]*)\}/g)) if (!allowed.includes(m[1])) found.add(m[1])
  return [...found]
}

/** The wall-clock "now" in an IANA time zone, as a dayjs whose fields are that zone's local time. */
export function nowInZone(tz: string): Dayjs {
  try {
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
        .formatToParts(new Date())
        .map((p) => [p.type, p.value]),
    )
    return dayjs(`${parts.year}-${parts.month}-${parts.day}T${parts.hour}:${parts.minute}:${parts.second}`)
  } catch {
    return dayjs()
  }
}

// --- the week grid: per weekday, its ranges ⇄ weekly windows ----------------------------------------

export interface DayHours {
  day: number
  ranges: { start: string; end: string }[]
}

/** Windows → one row per weekday with its ranges (a window without days covers every day). */
export function windowsToWeek(windows: WeeklyWindow[] | null | undefined): DayHours[] {
  return WEEKDAYS.map((day) => ({
    day,
    ranges: (windows ?? [])
      .filter((w) => !(w.days ?? []).length || (w.days ?? []).includes(day))
      .map((w) => ({ start: w.start, end: w.end })),
  }))
}

/** One row per weekday → windows, one per distinct range with the days that have it. */
export function weekToWindows(week: DayHours[]): WeeklyWindow[] {
  const byRange = new Map<string, number[]>()
  for (const row of week) {
    for (const r of row.ranges) {
      if (!r.start || !r.end) continue
      const key = `${r.start}-${r.end}`
      byRange.set(key, [...(byRange.get(key) ?? []), row.day])
    }
  }
  return [...byRange.entries()].map(([key, days]) => {
    const [start, end] = key.split('-')
    return { days: days.length === 7 ? [] : [...new Set(days)].sort(), start, end }
  })
}

export const TIME_ZONES: string[] = (() => {
  const common = ['Asia/Shanghai', 'Asia/Hong_Kong', 'Asia/Taipei', 'Asia/Tokyo', 'Asia/Singapore', 'Europe/London', 'America/New_York', 'UTC']
  try {
    const all = (Intl as unknown as { supportedValuesOf?: (k: string) => string[] }).supportedValuesOf?.('timeZone') ?? []
    return [...common, ...all.filter((z) => !common.includes(z))]
  } catch {
    return common
  }
})()
