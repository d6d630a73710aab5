import i18n from '../i18n'

function locale(): string {
  return i18n.language === 'en' ? 'en-US' : 'zh-CN'
}

/** "2026-11-23 18:31:05" style local time, or the given fallback when empty. */
export function formatDateTime(iso?: string | null, fallback = '—'): string {
  if (!iso) return fallback
  const d = new Date(iso)
  if (Number.isNaN(d.getTime())) return iso
  return new Intl.DateTimeFormat(locale(), {
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
    hour12: false,
  }).format(d)
}

export function formatTime(d: Date): string {
  return new Intl.DateTimeFormat(locale(), { hour: '2-digit', minute: '2-digit', second: '2-digit', hour12: false }).format(d)
}

/** "3 分钟前" / "in 2 hours" relative to now. */
export function formatRelative(iso?: string | null, fallback = '—', now = Date.now()): string {
  if (!iso) return fallback
  const t = new Date(iso).getTime()
  if (Number.isNaN(t)) return iso
  const diff = Math.round((t - now) / 1000)
  const abs = Math.abs(diff)
  const rtf = new Intl.RelativeTimeFormat(locale(), { numeric: 'auto' })
  if (abs < 60) return rtf.format(diff, 'second')
  if (abs < 3600) return rtf.format(Math.round(diff / 60), 'minute')
  if (abs < 86400) return rtf.format(Math.round(diff / 3600), 'hour')
  return rtf.format(Math.round(diff / 86400), 'day')
}

export function prettyJson(value: unknown): string {
  try {
    return JSON.stringify(value, null, 2) ?? ''
  } catch {
    return String(value)
  }
}

/** Integer fen as yuan with 2 decimals: 16900 → "¥169.00" (negative: "-¥5.00"). */
export function formatFen(fen?: number | null, fallback = '—'): string {
  if (fen === null || fen === undefined || Number.isNaN(fen)) return fallback
  const sign = fen < 0 ? '-' : ''
  const yuan = Math.abs(fen) / 100
  return `${sign}¥${yuan.toLocaleString(locale(), { minimumFractionDigits: 2, maximumFractionDigits: 2 })}`
}

/** Yuan typed in a form (may be a decimal) → integer fen; empty stays empty. */
export function yuanToFen(yuan?: number | string | null): number | null {
  if (yuan === null || yuan === undefined || yuan === '') return null
  const n = typeof yuan === 'number' ? yuan : Number(yuan)
  return Number.isFinite(n) ? Math.round(n * 100) : null
}

/** Integer fen → yuan for a form's number input; empty stays empty. */
export function fenToYuan(fen?: number | null): number | null {
  return fen === null || fen === undefined ? null : fen / 100
}

/** A length of time in words, the two largest units: "12 秒", "3 分 5 秒", "2 hr 1 min". */
export function formatDuration(seconds?: number | null, fallback = '—'): string {
  if (seconds === null || seconds === undefined || Number.isNaN(seconds)) return fallback
  const s = Math.max(0, Math.round(seconds))
  const en = i18n.language === 'en'
  const units: [number, string, string][] = [
    [86400, '天', 'd'],
    [3600, '小时', 'h'],
    [60, '分钟', 'min'],
    [1, '秒', 's'],
  ]
  if (s === 0) return en ? '0 s' : '0 秒'
  const parts: string[] = []
  let rest = s
  for (const [size, zh, enUnit] of units) {
    if (rest >= size && parts.length < 2) {
      const n = Math.floor(rest / size)
      rest -= n * size
      parts.push(`${n} ${en ? enUnit : zh}`)
    } else if (parts.length) {
      break
    }
  }
  return parts.join(' ')
}
