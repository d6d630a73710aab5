// The sections of 工单详情: the transition buttons (note and outcome; a 409 explains what is allowed
// now), the reply box (回复客户 / 内部备注 / 客户消息), the conversation, the timeline and the custom fields.
import { useMutation, useQueryClient } from '@tanstack/react-query'
import { Alert, App, Button, Descriptions, Empty, Flex, Form, Input, Modal, Segmented, Select, Space, Tag, Timeline, Typography } from 'antd'
import { useState } from 'react'
import { useTranslation } from 'react-i18next'
import { addTicketComment, ApiError, transitionTicket, type TicketAction, type TicketComment, type TicketDetail, type TicketOutcome, type TicketTimelineEntry } from '../api'
import { formatDateTime } from '../utils/format'
import { tid } from '../utils/testid'
import { CUSTOMER_STYLE, EscalationDetail, isEscalation } from './ticketDetailExtras'
import { OUTCOMES, TICKETS_KEY } from './ticketParts'
import type { T } from './tickets'
import { useApiError } from './useApiError'

const WITH_OUTCOME: TicketAction[] = ['resolve', 'close']
const PRIMARY: TicketAction[] = ['open', 'resume', 'resolve', 'reopen']

function actionLabel(action: string, t: T): string {
  return t(`tickets.desk.action.${action}`, { defaultValue: action })
}

/** The allowed actions a 409 names (`errors[0].allowed`), or null when it names none. */
function allowedOf(err: ApiError): string[] | null {
  const errors = err.body.errors
  const first = Array.isArray(errors) ? (errors[0] as Record<string, unknown> | undefined) : undefined
  return first && Array.isArray(first.allowed) ? first.allowed.map(String) : null
}

/** One button per action the ticket accepts now; each asks for a note (and an outcome to resolve or close). */
export function ActionBar({ ticket }: { ticket: TicketDetail }) {
  const { t } = useTranslation()
  const { message } = App.useApp()
  const showError = useApiError()
  const queryClient = useQueryClient()
  const [action, setAction] = useState<TicketAction | null>(null)
  const [conflict, setConflict] = useState<string | null>(null)
  const [form] = Form.useForm<{ note?: string; outcome?: TicketOutcome }>()
  const move = useMutation({
    mutationFn: (v: { action: TicketAction; note?: string; outcome?: TicketOutcome }) =>
      transitionTicket(ticket.id, v.action, { note: v.note?.trim() || null, outcome: v.outcome ?? null }),
    onSuccess: (moved, v) => {
      setConflict(null)
      setAction(null)
      void message.success(t('tickets.desk.detail.moved', { action: actionLabel(v.action, t), status: t(`tickets.desk.status.${moved.status}`) }))
      void queryClient.invalidateQueries({ queryKey: TICKETS_KEY })
    },
    onError: (err, v) => {
      setAction(null)
      if (err instanceof ApiError && err.status === 409) {
        const allowed = allowedOf(err)
        const text = allowed?.length
          ? t('tickets.desk.detail.conflict', { action: actionLabel(v.action, t), allowed: allowed.map((a) => actionLabel(a, t)).join(t('tickets.summary.daySep')) })
          : t('tickets.desk.detail.conflictNone', { action: actionLabel(v.action, t) })
        setConflict(text)
        void message.error({ content: text, key: 'api-error', className: 'api-error-message' })
        // the page was out of date: show what the ticket accepts now
        void queryClient.invalidateQueries({ queryKey: TICKETS_KEY })
      } else showError(err, form)
    },
  })
  const actions = (ticket.actions ?? []) as TicketAction[]
  return (
    <>
      {conflict ? <Alert type="warning" showIcon closable onClose={() => setConflict(null)} message={conflict} style={{ marginBottom: 12 }} data-testid="ticket-action-conflict" /> : null}
      {actions.length ? (
        <Flex wrap gap={8} data-testid="ticket-actions" data-actions={actions.join(',')}>
          {actions.map((a) => (
            <Button
              key={a}
              type={PRIMARY.includes(a) ? 'primary' : 'default'}
              onClick={() => {
                form.resetFields()
                setAction(a)
              }}
              data-testid={`ticket-action-${a}`}
            >
              {actionLabel(a, t)}
            </Button>
          ))}
        </Flex>
      ) : (
        <Typography.Text type="secondary" data-testid="ticket-no-actions">
          {t('tickets.desk.detail.noActions')}
        </Typography.Text>
      )}
      <Modal
        open={!!action}
        title={action ? t('tickets.desk.detail.confirmAction', { action: actionLabel(action, t) }) : ''}
        onCancel={() => setAction(null)}
        onOk={() => form.submit()}
        okButtonProps={{ loading: move.isPending, ...tid('ticket-action-confirm') }}
        destroyOnHidden
        data-testid="ticket-action-modal"
      >
        <Form form={form} layout="vertical" onFinish={(v) => action && move.mutate({ action, ...v })}>
          {action && WITH_OUTCOME.includes(action) ? (
            <Form.Item name="outcome" label={t('tickets.desk.detail.outcomeLabel')} extra={t('tickets.desk.detail.outcomeHelp')}>
              <Select
                allowClear
                options={OUTCOMES.map((o) => ({ value: o, label: t(`tickets.desk.outcome.${o}`) }))}
                data-testid="ticket-action-outcome"
                optionRender={(opt) => <span data-testid={`ticket-action-outcome-option-${opt.value}`}>{opt.label}</span>}
              />
            </Form.Item>
          ) : null}
          <Form.Item name="note" label={t('tickets.desk.detail.note')}>
            <Input.TextArea rows={2} maxLength={2000} placeholder={t('tickets.desk.detail.notePlaceholder')} data-testid="ticket-action-note" />
          </Form.Item>
        </Form>
      </Modal>
    </>
  )
}

type ReplyMode = 'reply' | 'internal' | 'customer'

/**
 * 回复客户 (stops the response clocks), 内部备注, or 客户消息: a message the customer sent elsewhere
 * (phone, chat), recorded by staff; it starts a round of the next-response clock.
 */
export function ReplyBox({ ticket }: { ticket: TicketDetail }) {
  const { t } = useTranslation()
  const { message } = App.useApp()
  const showError = useApiError()
  const queryClient = useQueryClient()
  const [mode, setMode] = useState<ReplyMode>('reply')
  const internal = mode === 'internal'
  const customer = mode === 'customer'
  const [body, setBody] = useState('')
  const send = useMutation({
    mutationFn: () => addTicketComment(ticket.id, { body: body.trim(), internal, from_customer: customer }),
    onSuccess: () => {
      setBody('')
      void message.success(customer ? t('ticketExtras.customer.recorded') : internal ? t('tickets.desk.detail.noted') : t('tickets.desk.detail.sent'))
      void queryClient.invalidateQueries({ queryKey: TICKETS_KEY })
    },
    onError: (err) => showError(err),
  })
  if (ticket.status === 'closed') return <Typography.Text type="secondary">{t('tickets.desk.detail.closedNoComments')}</Typography.Text>
  return (
    <Space direction="vertical" style={{ width: '100%' }} data-testid="reply-box" data-mode={mode}>
      <Segmented
        value={mode}
        onChange={(v) => setMode(v as ReplyMode)}
        options={[
          { value: 'reply', label: <span data-testid="reply-mode-reply">{t('tickets.desk.detail.reply')}</span> },
          { value: 'internal', label: <span data-testid="reply-mode-internal">{t('tickets.desk.detail.internal')}</span> },
          { value: 'customer', label: <span data-testid="reply-mode-customer">{t('ticketExtras.customer.mode')}</span> },
        ]}
      />
      <Input.TextArea
        rows={3}
        value={body}
        maxLength={20000}
        onChange={(e) => setBody(e.target.value)}
        placeholder={
          customer ? t('ticketExtras.customer.placeholder') : internal ? t('tickets.desk.detail.notePlaceholderInternal') : t('tickets.desk.detail.replyPlaceholder')
        }
        style={internal ? { background: '#fffbe6' } : customer ? { background: CUSTOMER_STYLE.background } : undefined}
        data-testid="reply-body"
      />
      <Flex justify="flex-end">
        <Button type="primary" disabled={!body.trim()} loading={send.isPending} onClick={() => send.mutate()} data-testid="reply-send">
          {customer ? t('ticketExtras.customer.send') : internal ? t('tickets.desk.detail.sendNote') : t('tickets.desk.detail.send')}
        </Button>
      </Flex>
    </Space>
  )
}

export function CommentThread({ comments }: { comments: TicketComment[] }) {
  const { t } = useTranslation()
  if (!comments.length) return <Empty image={Empty.PRESENTED_IMAGE_SIMPLE} description={t('tickets.desk.detail.noComments')} data-testid="comments-empty" />
  return (
    <Flex vertical gap={8} data-testid="comments" data-count={comments.length}>
      {comments.map((c) => (
        <div
          key={c.id}
          data-testid={`comment-${c.id}`}
          data-internal={c.internal}
          data-from-customer={c.from_customer}
          className="ticket-comment"
          style={{
            padding: '8px 12px',
            borderRadius: 6,
            border: `1px solid ${c.internal ? '#ffe58f' : c.from_customer ? CUSTOMER_STYLE.border : '#f0f0f0'}`,
            background: c.internal ? '#fffbe6' : c.from_customer ? CUSTOMER_STYLE.background : '#fafafa',
            // the customer's side of the conversation sits apart from the staff's
            marginRight: c.from_customer ? 48 : 0,
            marginLeft: c.from_customer ? 0 : 48,
          }}
        >
          <Flex justify="space-between" gap={8}>
            <Space size={6}>
              <Typography.Text strong>{c.author}</Typography.Text>
              {c.internal ? (
                <Tag color="gold">{t('tickets.desk.detail.internal')}</Tag>
              ) : c.from_customer ? (
                <Tag color="cyan">{t('ticketExtras.customer.tag')}</Tag>
              ) : (
                <Tag color="blue">{t('tickets.desk.detail.reply')}</Tag>
              )}
            </Space>
            <Typography.Text type="secondary">{formatDateTime(c.created_at)}</Typography.Text>
          </Flex>
          <Typography.Paragraph style={{ margin: '4px 0 0', whiteSpace: 'pre-wrap' }}>{c.body}</Typography.Paragraph>
        </div>
      ))}
    </Flex>
  )
}

/** "状态变更 · 解决", "回复客户", "SLA": a timeline entry's kind in words. */
function kindLabel(kind: string, t: T): string {
  const [head, rest] = [kind.split('.')[0], kind.split('.').slice(1).join('.')]
  if (head === 'status') return `${t('tickets.desk.timelineKind.status')} · ${actionLabel(rest, t)}`
  if (head === 'comment') return t(`tickets.desk.timelineKind.${rest}`, { defaultValue: kind })
  if (head === 'sla') {
    const [clock] = rest.split('.')
    const label = `SLA · ${t(`tickets.desk.clock.${clock}`, { defaultValue: clock })}`
    return isEscalation(kind) ? `${label} · ${t('ticketExtras.escalation.kind')}` : label
  }
  return t(`tickets.desk.timelineKind.${head}`, { defaultValue: kind })
}

function kindColor(kind: string): string {
  if (kind.endsWith('.breach') || kind.endsWith('.escalation')) return 'red'
  if (kind.endsWith('.warning')) return 'orange'
  if (kind.startsWith('status.')) return 'blue'
  if (kind === 'comment.internal') return 'gold'
  if (kind.startsWith('comment.')) return 'green'
  return 'gray'
}

export function TicketTimeline({ entries }: { entries: TicketTimelineEntry[] }) {
  const { t } = useTranslation()
  if (!entries.length) return <Empty image={Empty.PRESENTED_IMAGE_SIMPLE} description={t('tickets.desk.detail.noTimeline')} />
  return (
    <div data-testid="ticket-timeline" data-count={entries.length}>
      <Timeline
        items={[...entries].reverse().map((e, index) => ({
          key: `${e.occurred_at}-${index}`,
          color: kindColor(e.kind),
          children: (
            <div data-testid="timeline-entry" data-kind={e.kind}>
              <Typography.Text strong>{kindLabel(e.kind, t)}</Typography.Text>
              <div style={{ whiteSpace: 'pre-wrap' }}>{e.summary}</div>
              {isEscalation(e.kind) ? <EscalationDetail entry={e} /> : null}
              <Typography.Text type="secondary" style={{ fontSize: 12 }}>
                {e.actor} · {formatDateTime(e.occurred_at)}
              </Typography.Text>
            </div>
          ),
        }))}
      />
    </div>
  )
}

// ---------------------------------------------------------------------------------------------------
// Custom fields (the ticket's `custom`; labelled from its form's UI hints when the detail has one)
// ---------------------------------------------------------------------------------------------------

type LocalText = Record<string, string>
interface FieldHints {
  label?: LocalText | string
  options?: Record<string, LocalText | string>
}
interface TicketForm {
  version?: number
  ui?: { order?: string[]; fields?: Record<string, FieldHints> }
  schema?: { properties?: Record<string, { title?: string }> }
}

function local(text: LocalText | string | undefined, lang: string): string | undefined {
  if (!text) return undefined
  if (typeof text === 'string') return text
  return text[lang] ?? text['zh-CN'] ?? Object.values(text)[0]
}

function formatValue(value: unknown, hints: FieldHints | undefined, lang: string, t: T): string {
  if (value === null || value === undefined || value === '') return '—'
  if (typeof value === 'boolean') return value ? t('common.yes') : t('common.no')
  const option = (v: unknown) => local(hints?.options?.[String(v)], lang) ?? String(v)
  if (Array.isArray(value)) return value.map(option).join(t('tickets.summary.daySep'))
  if (typeof value === 'object') {
    return Object.values(value as Record<string, unknown>)
      .filter((v) => v !== null && v !== undefined && v !== '')
      .map((v) => (typeof v === 'object' ? JSON.stringify(v) : option(v)))
      .join(' ')
  }
  return option(value)
}

export function CustomFields({ ticket }: { ticket: TicketDetail }) {
  const { t, i18n } = useTranslation()
  const form = (ticket as TicketDetail & { form?: TicketForm | null }).form ?? null
  const custom = ticket.custom ?? {}
  const order = form?.ui?.order ?? []
  const keys = [...order.filter((k) => k in custom), ...Object.keys(custom).filter((k) => !order.includes(k))]
  if (!keys.length) return <Typography.Text type="secondary" data-testid="custom-fields-empty">{t('tickets.desk.detail.noCustomFields')}</Typography.Text>
  return (
    <Descriptions
      size="small"
      column={1}
      bordered
      data-testid="custom-fields"
      data-from-form={!!form}
      title={form?.version ? <Typography.Text type="secondary">{t('tickets.desk.detail.fieldsFromForm', { version: form.version })}</Typography.Text> : undefined}
      items={keys.map((key) => {
        const hints = form?.ui?.fields?.[key]
        const label = local(hints?.label, i18n.language) ?? form?.schema?.properties?.[key]?.title ?? key
        return { key, label: <span data-testid={`custom-field-label-${key}`}>{label}</span>, children: <span data-testid={`custom-field-${key}`}>{formatValue(custom[key], hints, i18n.language, t)}</span> }
      })}
    />
  )
}
