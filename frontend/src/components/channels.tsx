// Pieces the channel-code pages share: status and strategy tags, the QR image (fetched with the
// session's token), pickers for WeCom members with 客户联系 and for corp tags of one connection.
import { QrcodeOutlined, WarningOutlined } from '@ant-design/icons'
import { useQuery } from '@tanstack/react-query'
import { Badge, Skeleton, Tag, Tooltip } from 'antd'
import type { CSSProperties } from 'react'
import { useTranslation } from 'react-i18next'
import { fetchChannelQr, listChannelGroups, listConnectionNames, listTagGroups, listWecomStaff, type Channel, type QrOptions } from '../api'
import { useAuth } from '../auth/AuthContext'
import { PERM } from '../auth/permissions'

const STATUS_COLOR: Record<string, string> = { active: 'success', disabled: 'default', deleted: 'error' }

export function ChannelStatusBadge({ status, testId }: { status: string; testId?: string }) {
  const { t } = useTranslation()
  return (
    <span data-testid={testId} data-status={status}>
      <Badge status={(STATUS_COLOR[status] ?? 'default') as 'success'} text={t(`channels.status.${status}`, { defaultValue: status })} />
    </span>
  )
}

const STRATEGY_COLOR: Record<string, string> = { round_robin: 'blue', weighted: 'purple', random: 'cyan' }

export function StrategyTag({ strategy, testId }: { strategy: string; testId?: string }) {
  const { t } = useTranslation()
  return (
    <Tooltip title={t(`channels.strategyHint.${strategy}`, { defaultValue: '' }) || undefined}>
      <Tag color={STRATEGY_COLOR[strategy] ?? 'default'} data-testid={testId} data-value={strategy}>
        {t(`channels.strategy.${strategy}`, { defaultValue: strategy })}
      </Tag>
    </Tooltip>
  )
}

/** The routing's extra switches (schedule, sticky, by store) as small tags. */
export function RoutingFlags({ channel }: { channel: Channel }) {
  const { t } = useTranslation()
  const r = channel.routing
  return (
    <>
      {r.schedule?.length || r.special_dates?.length ? <Tag>{t('channels.flags.schedule')}</Tag> : null}
      {r.sticky ? <Tag>{t('channels.flags.sticky')}</Tag> : null}
      {r.match_location ? <Tag>{t('channels.flags.location')}</Tag> : null}
      {channel.staff.some((s) => s.daily_cap) ? <Tag>{t('channels.flags.caps')}</Tag> : null}
    </>
  )
}

export function ProblemsFlag({ channel, testId }: { channel: Channel; testId?: string }) {
  const { t } = useTranslation()
  if (!channel.problems.total && !channel.way.error) return null
  return (
    <Tooltip title={channel.way.error || t('channels.problemsHint', { count: channel.problems.total })}>
      <Tag color="warning" icon={<WarningOutlined />} data-testid={testId} data-value={channel.problems.total}>
        {channel.problems.total || '!'}
      </Tag>
    </Tooltip>
  )
}

function blobToDataUrl(blob: Blob): Promise<string> {
  return new Promise((resolve, reject) => {
    const reader = new FileReader()
    reader.onload = () => resolve(String(reader.result))
    reader.onerror = () => reject(reader.error)
    reader.readAsDataURL(blob)
  })
}

/** The code's QR image as a data URL (PNG unless `format` says SVG), cached per options. */
export function useChannelQr(id: number | undefined, format: 'png' | 'svg', opts: QrOptions = {}, enabled = true) {
  return useQuery({
    queryKey: ['channel-qr', id, format, opts.color ?? '', opts.label ?? '', opts.scale ?? 8],
    queryFn: async () => blobToDataUrl(await fetchChannelQr(id as number, format, opts)),
    enabled: enabled && id !== undefined,
    staleTime: 10 * 60_000,
    retry: false,
  })
}

export function QrImage({
  channel,
  size,
  format = 'png',
  opts,
  testId,
  style,
}: {
  channel: Pick<Channel, 'id' | 'qr_url' | 'status'>
  size: number
  format?: 'png' | 'svg'
  opts?: QrOptions
  testId?: string
  style?: CSSProperties
}) {
  const { t } = useTranslation()
  const usable = !!channel.qr_url && channel.status !== 'deleted'
  const qr = useChannelQr(channel.id, format, opts, usable)
  if (!usable || qr.isError) {
    return (
      <Tooltip title={t('channels.noQr')}>
        <span className="qr-missing" style={{ width: size, height: size, ...style }} data-testid={testId} data-loaded="false">
          <QrcodeOutlined />
        </span>
      </Tooltip>
    )
  }
  if (!qr.data) return <Skeleton.Image active style={{ width: size, height: size }} />
  return (
    <img
      src={qr.data}
      alt={t('channels.qrAlt')}
      width={size}
      height={format === 'svg' && opts?.label ? undefined : size}
      style={{ display: 'block', imageRendering: 'pixelated', ...style }}
      data-testid={testId}
      data-loaded="true"
    />
  )
}

/** Connection names any member may read (for pickers). */
export function useConnectionNames() {
  const q = useQuery({ queryKey: ['connection-names'], queryFn: listConnectionNames, staleTime: 60_000 })
  const items = q.data ?? []
  const wecom = items.filter((c) => c.platform === 'wecom')
  return {
    ...q,
    items,
    options: wecom.map((c) => ({ value: c.id, label: c.name, disabled: c.status === 'disabled' })),
    nameOf: (id: number | null | undefined) => (id == null ? '' : (items.find((c) => c.id === id)?.name ?? `#${id}`)),
  }
}

/** WeCom members of a connection with 客户联系 (the ones a code may list). */
export function useContactStaff(connectionId: number | undefined) {
  const { can } = useAuth()
  const q = useQuery({
    queryKey: ['wecom-staff', 'contact', connectionId ?? null],
    queryFn: () => listWecomStaff({ limit: 200, has_customer_contact: true, connection_id: connectionId }),
    enabled: can(PERM.usersView),
    staleTime: 60_000,
  })
  const items = q.data?.items ?? []
  return { ...q, items, nameOf: (userid: string) => items.find((s) => s.userid === userid)?.name ?? userid }
}

/** Corp tags of a connection as grouped select options (value: tag id). */
export function useTagOptions(connectionId?: number) {
  const q = useQuery({ queryKey: ['tags', connectionId ?? null], queryFn: () => listTagGroups(connectionId), staleTime: 30_000 })
  const groups = q.data ?? []
  const options = groups
    .filter((g) => g.tags.length)
    .map((g) => ({ label: g.name, title: g.name, options: g.tags.map((tag) => ({ value: tag.id, label: tag.name, group: g.name })) }))
  const nameOf = (id: number) => {
    for (const g of groups) {
      const tag = g.tags.find((x) => x.id === id)
      if (tag) return tag.name
    }
    return `#${id}`
  }
  return { ...q, groups, options, nameOf }
}

export function useChannelGroups() {
  const { can } = useAuth()
  return useQuery({ queryKey: ['channel-groups'], queryFn: listChannelGroups, enabled: can(PERM.channelsView), staleTime: 30_000 })
}

/** Downloads a Blob under a file name (an object URL clicked through an <a download>). */
export function saveBlob(blob: Blob, filename: string) {
  const url = URL.createObjectURL(blob)
  const a = document.createElement('a')
  a.href = url
  a.download = filename
  document.body.appendChild(a)
  a.click()
  a.remove()
  window.setTimeout(() => URL.revokeObjectURL(url), 10_000)
}
