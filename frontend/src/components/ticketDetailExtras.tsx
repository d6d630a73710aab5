// Small pieces of 工单详情 shared by its parts: how an SLA escalation reads on the timeline (its level,
// who was told, what it did) and the look of a customer's message in the conversation.
import { Space, Tag, Typography } from 'antd'
import { useTranslation } from 'react-i18next'
import type { TicketTimelineEntry } from '../api'
import { usePeople } from './ticketAssign'

/** True for the timeline entries an escalation level writes (`sla.<clock>.escalation`). */
export const isEscalation = (kind: string) => /^sla\.[a-z_]+\.escalation$/.test(kind)

/** The colours of a message from the customer (the conversation and the reply box in that mode). */
export const CUSTOMER_STYLE = { border: '#91caff', background: '#e6f4ff' } as const

/** Level, the people notified (by name) and the actions of an escalation entry. */
export function EscalationDetail({ entry }: { entry: TicketTimelineEntry }) {
  const { t } = useTranslation()
  const people = usePeople()
  const detail = (entry.detail ?? {}) as Record<string, unknown>
  const level = typeof detail.level === 'number' ? detail.level : null
  const notify = Array.isArray(detail.notify_user_ids) ? detail.notify_user_ids.filter((x): x is number => typeof x === 'number') : []
  const actions = Array.isArray(detail.actions) ? detail.actions.map(String) : []
  return (
    <Space size={4} wrap style={{ marginTop: 2 }} data-testid="escalation-detail" data-level={level ?? ''} data-notify={notify.join(',')} data-actions={actions.join(',')}>
      {level != null ? (
        <Tag color="red" data-testid="escalation-level">
          {t('ticketExtras.escalation.level', { level })}
        </Tag>
      ) : null}
      <Typography.Text type="secondary">{t('ticketExtras.escalation.notified')}:</Typography.Text>
      {notify.length ? (
        notify.map((id) => (
          <Tag key={id} data-testid={`escalation-notified-${id}`}>
            {people.name(id)}
          </Tag>
        ))
      ) : (
        <Typography.Text type="secondary">{t('ticketExtras.escalation.nobody')}</Typography.Text>
      )}
      {actions.map((a) => (
        <Tag key={a} color="orange" data-testid={`escalation-action-${a}`}>
          {t(`ticketExtras.escalation.action.${a}`, { defaultValue: a })}
        </Tag>
      ))}
    </Space>
  )
}
