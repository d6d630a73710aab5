import { ManOutlined, QrcodeOutlined, UserOutlined, WomanOutlined } from '@ant-design/icons'
import { Avatar, Tag, Tooltip } from 'antd'
import { useTranslation } from 'react-i18next'
import { Link } from 'react-router-dom'
import type { Customer, Follow, TagBrief } from '../api'
import { useAuth } from '../auth/AuthContext'
import { PERM } from '../auth/permissions'

const FOLLOW_COLOR: Record<string, string> = {
  active: 'green',
  deleted_by_staff: 'red',
  deleted_by_customer: 'volcano',
  gone: 'default',
}

/** 跟进中 / 已删除 (员工删除) / 已删除 (客户删除) / 已失效. */
export function FollowStatusTag({ status, testId }: { status: string; testId?: string }) {
  const { t } = useTranslation()
  return (
    <Tooltip title={t(`customers.followStatusHint.${status}`, { defaultValue: '' }) || undefined}>
      <Tag color={FOLLOW_COLOR[status] ?? 'default'} data-testid={testId} data-status={status}>
        {t(`customers.followStatus.${status}`, { defaultValue: status })}
      </Tag>
    </Tooltip>
  )
}

/** WeCom's `add_way` codes (how the customer was added). */
const ADD_WAYS = new Set([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 201, 202])

export function useAddWay() {
  const { t } = useTranslation()
  return (v: number | null | undefined) => (v == null ? '' : ADD_WAYS.has(v) ? t(`customers.addWay.${v}`) : t('customers.addWayOther', { code: v }))
}

export function GenderIcon({ gender }: { gender: number }) {
  const { t } = useTranslation()
  if (gender === 1) return <ManOutlined style={{ color: '#1677ff' }} aria-label={t('customers.gender.1')} title={t('customers.gender.1')} />
  if (gender === 2) return <WomanOutlined style={{ color: '#eb2f96' }} aria-label={t('customers.gender.2')} title={t('customers.gender.2')} />
  return null
}

export function CustomerAvatar({ src, size }: { src?: string | null; size?: number | 'small' | 'large' | 'default' }) {
  return <Avatar src={src || undefined} icon={<UserOutlined />} size={size} style={{ backgroundColor: '#d9d9d9', flex: 'none' }} />
}

export function TagList({ tags, max, testId, emptyText }: { tags: TagBrief[]; max?: number; testId?: string; emptyText?: string }) {
  const { t } = useTranslation()
  if (!tags.length) return <span className="muted" data-testid={testId}>{emptyText ?? '—'}</span>
  const shown = max ? tags.slice(0, max) : tags
  const rest = tags.length - shown.length
  return (
    <span data-testid={testId}>
      {shown.map((tag) => (
        <Tooltip key={tag.id} title={tag.group_name}>
          <Tag color="blue" style={{ marginBottom: 4 }} data-testid={testId ? `${testId}-${tag.id}` : undefined}>
            {tag.name}
          </Tag>
        </Tooltip>
      ))}
      {rest > 0 ? (
        <Tooltip title={tags.slice(shown.length).map((x) => x.name).join('、')}>
          <Tag>{t('customers.moreTags', { count: rest })}</Tag>
        </Tooltip>
      ) : null}
    </span>
  )
}

/** The channel (contact-way `state`) a customer came through, if any. */
export function ChannelTag({ follow }: { follow: Pick<Follow, 'state'> }) {
  const { t } = useTranslation()
  if (!follow.state) return null
  return (
    <Tooltip title={t('customers.channelHint')}>
      <Tag color="purple">{t('customers.channel', { state: follow.state })}</Tag>
    </Tooltip>
  )
}

/** The channel code the customer first came through (`source_label`), linked to the code's page. */
export function SourceChannel({ customer, testId }: { customer: Pick<Customer, 'source_channel_id' | 'source_label'>; testId?: string }) {
  const { t } = useTranslation()
  const { can } = useAuth()
  if (!customer.source_channel_id && !customer.source_label) return <span className="muted" data-testid={testId}>—</span>
  const tag = (
    <Tag color="purple" icon={<QrcodeOutlined />} data-testid={testId} data-channel-id={customer.source_channel_id ?? ''} style={{ marginInlineEnd: 0 }}>
      {customer.source_label || t('customers.unknownChannel')}
    </Tag>
  )
  return customer.source_channel_id && can(PERM.channelsView) ? (
    <Link to={`/channels/${customer.source_channel_id}`} onClick={(e) => e.stopPropagation()}>
      {tag}
    </Link>
  ) : (
    tag
  )
}
