// The real-time scan board (seed 000: every store's scans "like a heartbeat"): the live feed polled
// every 2 s, a card per store whose counter pulses and whose ECG line spikes when a scan arrives.
import { HeartFilled, PauseCircleOutlined, PlayCircleOutlined } from '@ant-design/icons'
import { Badge, Button, Card, Col, Empty, Flex, Row, Space, Tag, Tooltip, Typography } from 'antd'
import { useEffect, useRef, useState } from 'react'
import { useTranslation } from 'react-i18next'
import { Link } from 'react-router-dom'
import { channelLive, type LiveScan, type LiveStore } from '../api'
import { formatTime } from '../utils/format'
import { errorText } from './useApiError'

const POLL_MS = 2000
const WINDOW_MS = 120_000
const MAX_FEED = 30
const NONE = '\u0000none'

const keyOf = (store: string | null | undefined) => store ?? NONE

interface StoreState {
  store: string | null
  today: number
  minute: number
  /** Scans seen arrive since the board opened (each one is a pulse). */
  pulses: number
  /** Server times (ms) of recent scans, for the ECG line. */
  beats: number[]
}

/** An ECG-like line over the last two minutes with a spike per scan. */
function Heartbeat({ beats, now, color }: { beats: number[]; now: number; color: string }) {
  const w = 260
  const h = 44
  const mid = h * 0.62
  const xs = beats.map((b) => w - ((now - b) / WINDOW_MS) * w).filter((x) => x > -12 && x < w + 12).sort((a, b) => a - b)
  let d = `M0 ${mid}`
  for (const x of xs) {
    d += ` L${x - 7} ${mid} L${x - 4} ${mid + 4} L${x - 1} ${h * 0.08} L${x + 2} ${h - 2} L${x + 5} ${mid} `
  }
  d += ` L${w} ${mid}`
  return (
    <svg width="100%" height={h} viewBox={`0 0 ${w} ${h}`} preserveAspectRatio="none" className="heartbeat" aria-hidden>
      <path d={d} fill="none" stroke={color} strokeWidth={1.6} strokeLinejoin="round" />
    </svg>
  )
}

export function LiveBoard({ tz = 'Asia/Shanghai', staffName }: { tz?: string; staffName?: (userid: string) => string }) {
  const { t } = useTranslation()
  const [running, setRunning] = useState(true)
  const [error, setError] = useState<unknown>(null)
  const [stores, setStores] = useState<Record<string, StoreState>>({})
  const [feed, setFeed] = useState<(LiveScan & { fresh: boolean })[]>([])
  const [seen, setSeen] = useState(0)
  const [now, setNow] = useState(() => Date.now())
  const cursor = useRef<number | null>(null)
  const skew = useRef(0) // server time - local time
  const first = useRef(true)

  useEffect(() => {
    if (!running) return
    let stopped = false
    let timer = 0
    const poll = async () => {
      try {
        const live = await channelLive(cursor.current, tz)
        if (stopped) return
        setError(null)
        skew.current = new Date(live.server_time).getTime() - Date.now()
        const fresh = !first.current
        first.current = false
        cursor.current = live.cursor
        const arrived = live.items
        setStores((prev) => {
          const next: Record<string, StoreState> = {}
          const all = new Map<string, LiveStore>(live.stores.map((s) => [keyOf(s.store), s]))
          for (const k of Object.keys(prev)) if (!all.has(k)) all.set(k, { store: prev[k].store, adds_today: prev[k].today, adds_last_minute: 0 })
          for (const scan of arrived) if (!all.has(keyOf(scan.store))) all.set(keyOf(scan.store), { store: scan.store ?? null, adds_today: 0, adds_last_minute: 0 })
          for (const [k, s] of all) {
            const mine = arrived.filter((scan) => keyOf(scan.store) === k)
            const old = prev[k]
            const beats = [...(old?.beats ?? []), ...mine.map((scan) => new Date(scan.occurred_at).getTime())].filter(
              (b) => Date.now() + skew.current - b < WINDOW_MS + 5000,
            )
            next[k] = {
              store: s.store ?? null,
              today: s.adds_today,
              minute: s.adds_last_minute,
              pulses: (old?.pulses ?? 0) + (fresh ? mine.length : 0),
              beats,
            }
          }
          return next
        })
        if (arrived.length) {
          if (fresh) setSeen((n) => n + arrived.length)
          setFeed((prev) => [...arrived.slice().reverse().map((s) => ({ ...s, fresh })), ...prev.map((s) => ({ ...s, fresh: false }))].slice(0, MAX_FEED))
        }
      } catch (e) {
        if (!stopped) setError(e)
      } finally {
        if (!stopped) timer = window.setTimeout(() => void poll(), POLL_MS)
      }
    }
    void poll()
    return () => {
      stopped = true
      window.clearTimeout(timer)
    }
  }, [running, tz])

  // scroll the heartbeat lines
  useEffect(() => {
    if (!running) return
    const tick = window.setInterval(() => setNow(Date.now()), 250)
    return () => window.clearInterval(tick)
  }, [running])

  const serverNow = now + skew.current
  const list = Object.entries(stores).sort(([, a], [, b]) => b.today - a.today || (a.store ?? '').localeCompare(b.store ?? ''))
  const totalToday = list.reduce((n, [, s]) => n + s.today, 0)
  const totalMinute = list.reduce((n, [, s]) => n + s.minute, 0)

  return (
    <Card
      title={
        <Space>
          <HeartFilled style={{ color: '#ff4d4f' }} className={running ? 'heart-beating' : undefined} />
          {t('channels.live.title')}
          <Badge status={error ? 'error' : running ? 'processing' : 'default'} text={error ? t('channels.live.offline') : running ? t('channels.live.on') : t('channels.live.paused')} />
        </Space>
      }
      extra={
        <Space>
          <Typography.Text type="secondary">
            {t('channels.live.totals', { today: totalToday, minute: totalMinute })}
          </Typography.Text>
          <Button
            size="small"
            icon={running ? <PauseCircleOutlined /> : <PlayCircleOutlined />}
            onClick={() => setRunning((r) => !r)}
            data-testid="live-toggle"
          >
            {running ? t('channels.live.pause') : t('channels.live.resume')}
          </Button>
        </Space>
      }
      data-testid="live-board"
      data-cursor={cursor.current ?? ''}
      data-seen={seen}
      data-today={totalToday}
    >
      {error ? (
        <Typography.Paragraph type="danger" data-testid="live-error">
          {errorText(error, t)}
        </Typography.Paragraph>
      ) : null}
      <Row gutter={[16, 16]}>
        <Col xs={24} xl={16}>
          {list.length ? (
            <Row gutter={[12, 12]}>
              {list.map(([k, s]) => (
                <Col key={k} xs={24} sm={12} xxl={8}>
                  <div
                    className={`live-store${s.pulses ? ' live-store-hot' : ''}`}
                    data-testid="live-store"
                    data-store={s.store ?? ''}
                    data-today={s.today}
                    data-minute={s.minute}
                    data-pulses={s.pulses}
                  >
                    <Flex justify="space-between" align="baseline">
                      <Typography.Text strong ellipsis style={{ maxWidth: '60%' }}>
                        {s.store ?? t('channels.live.noStore')}
                      </Typography.Text>
                      <Tooltip title={t('channels.live.minuteHint')}>
                        <Typography.Text type="secondary" style={{ fontSize: 12 }}>
                          {t('channels.live.lastMinute', { count: s.minute })}
                        </Typography.Text>
                      </Tooltip>
                    </Flex>
                    <Flex align="center" gap={12}>
                      <span key={s.pulses} className={s.pulses ? 'live-count live-pulse' : 'live-count'} data-testid="live-store-today">
                        {s.today}
                      </span>
                      <Typography.Text type="secondary" style={{ fontSize: 12 }}>
                        {t('channels.live.today')}
                      </Typography.Text>
                    </Flex>
                    <Heartbeat beats={s.beats} now={serverNow} color={s.minute ? '#ff4d4f' : '#91caff'} />
                  </div>
                </Col>
              ))}
            </Row>
          ) : (
            <Empty description={t('channels.live.empty')} data-testid="live-empty" />
          )}
        </Col>
        <Col xs={24} xl={8}>
          <Typography.Text strong>{t('channels.live.feed')}</Typography.Text>
          <div className="live-feed" data-testid="live-feed" data-count={feed.length}>
            {feed.length ? (
              feed.map((s) => (
                <div key={s.id} className={s.fresh ? 'live-scan live-scan-fresh' : 'live-scan'} data-testid="live-scan" data-id={s.id} data-code-id={s.code_id}>
                  <Typography.Text type="secondary" style={{ fontSize: 12, width: 64, flex: 'none' }}>
                    {formatTime(new Date(s.occurred_at))}
                  </Typography.Text>
                  <span className="ellipsis" style={{ flex: 1 }}>
                    <Link to={`/channels/${s.code_id}`}>{s.code_name}</Link>
                    {s.store ? <Typography.Text type="secondary"> · {s.store}</Typography.Text> : null}
                  </span>
                  <span style={{ flex: 'none' }}>
                    {staffName?.(s.staff_userid) ?? s.staff_userid}
                    {s.is_returning ? (
                      <Tag color="purple" style={{ marginInlineStart: 4, marginInlineEnd: 0 }}>
                        {t('channels.detail.returning')}
                      </Tag>
                    ) : null}
                  </span>
                </div>
              ))
            ) : (
              <Empty image={Empty.PRESENTED_IMAGE_SIMPLE} description={t('channels.live.noScans')} />
            )}
          </div>
        </Col>
      </Row>
    </Card>
  )
}
