// 工单详情 › 可能重复 and 合并: the open tickets of the same customer or order within 14 days (with why
// each is suggested), merging this ticket into another or another into this one, the server's 409
// reasons in words (a merged target names the ticket to merge into instead), and the banner a merged
// ticket shows.
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query'
import { Alert, App, Button, Empty, Flex, Form, Input, InputNumber, List, Modal, Space, Tag, Typography } from 'antd'
import { useState } from 'react'
import { useTranslation } from 'react-i18next'
import { Link } from 'react-router-dom'
import { ApiError, type TicketDetail } from '../api'
import { listDuplicates, mergeTicket } from '../api/ticketExtras'
import { tid } from '../utils/testid'
import { StatusTag, TICKETS_KEY } from './ticketParts'
import type { T } from './tickets'
import { errorText } from './useApiError'

const DONE = ['resolved', 'closed']

interface Refusal {
  text: string
  /** The ticket to merge into instead (the target was merged itself). */
  survivorId?: number
}

/** Why the server refused a merge, in the console's language. */
export function mergeRefusal(err: unknown, t: T, source: number, into: number): Refusal {
  if (!(err instanceof ApiError)) return { text: errorText(err, t) }
  if (err.status === 404) return { text: t('ticketExtras.merge.refused.notFound', { id: into }) }
  if (err.status !== 409) return { text: errorText(err, t) }
  const raw = Array.isArray(err.body.errors) ? (err.body.errors as Record<string, unknown>[]) : []
  const onTarget = raw.find((e) => e.field === 'into_ticket_id')
  if (onTarget?.message === 'merged' && typeof onTarget.survivor_id === 'number') {
    return { text: t('ticketExtras.merge.refused.targetMerged', { id: into, survivor: onTarget.survivor_id }), survivorId: onTarget.survivor_id }
  }
  if (onTarget?.message === 'closed') return { text: t('ticketExtras.merge.refused.targetClosed', { id: into }) }
  if (onTarget?.message === "another customer's ticket") return { text: t('ticketExtras.merge.refused.otherCustomer') }
  const detail = err.detail
  if (/merged into itself/.test(detail)) return { text: t('ticketExtras.merge.refused.itself') }
  const already = /already merged into ticket (\d+)/.exec(detail)
  if (already) return { text: t('ticketExtras.merge.refused.alreadyMerged', { id: source, into: already[1] }) }
  if (/is closed; a closed ticket cannot be merged/.test(detail)) return { text: t('ticketExtras.merge.refused.sourceClosed', { id: source }) }
  if (/is resolved and has its outcome/.test(detail)) return { text: t('ticketExtras.merge.refused.sourceResolved', { id: source }) }
  return { text: errorText(err, t) }
}

/** A merged ticket says where it went. */
export function MergedBanner({ ticket }: { ticket: TicketDetail }) {
  const { t } = useTranslation()
  if (ticket.merged_into_id == null) return null
  return (
    <Alert
      type="info"
      showIcon
      data-testid="ticket-merged-banner"
      message={
        <span>
          {t('ticketExtras.merge.banner')}{' '}
          <Link to={`/tickets/${ticket.merged_into_id}`} data-testid="ticket-merged-banner-link">
            #{ticket.merged_into_id}
          </Link>
        </span>
      }
    />
  )
}

interface MergeTarget {
  source: number
  into?: number
  /** Both ends chosen from a suggestion: only the note is asked for. */
  fixed: boolean
}

export function DuplicatesCard({ ticket, canEdit }: { ticket: TicketDetail; canEdit: boolean }) {
  const { t } = useTranslation()
  const [merging, setMerging] = useState<MergeTarget | null>(null)
  const duplicates = useQuery({ queryKey: [...TICKETS_KEY, 'duplicates', ticket.id], queryFn: () => listDuplicates(ticket.id) })
  const mergeable = canEdit && ticket.merged_into_id == null && !DONE.includes(ticket.status)
  const rows = duplicates.data ?? []
  return (
    <Flex vertical gap={8} data-testid="ticket-duplicates" data-count={rows.length}>
      {mergeable ? (
        <Flex justify="flex-end">
          <Button onClick={() => setMerging({ source: ticket.id, fixed: false })} data-testid="merge-open">
            {t('ticketExtras.merge.open')}
          </Button>
        </Flex>
      ) : null}
      {rows.length ? (
        <List
          size="small"
          dataSource={rows}
          renderItem={(d) => (
            <List.Item
              data-testid={`duplicate-${d.ticket.id}`}
              actions={
                canEdit
                  ? [
                      ...(mergeable
                        ? [
                            <Button key="into" size="small" onClick={() => setMerging({ source: ticket.id, into: d.ticket.id, fixed: true })} data-testid={`duplicate-merge-into-${d.ticket.id}`}>
                              {t('ticketExtras.merge.thisInto', { id: d.ticket.id })}
                            </Button>,
                          ]
                        : []),
                      ...(ticket.merged_into_id == null && ticket.status !== 'closed'
                        ? [
                            <Button key="absorb" size="small" onClick={() => setMerging({ source: d.ticket.id, into: ticket.id, fixed: true })} data-testid={`duplicate-absorb-${d.ticket.id}`}>
                              {t('ticketExtras.merge.intoThis')}
                            </Button>,
                          ]
                        : []),
                    ]
                  : []
              }
            >
              <Flex vertical gap={4}>
                <Space size={6} wrap>
                  <Link to={`/tickets/${d.ticket.id}`}>
                    #{d.ticket.id} {d.ticket.title}
                  </Link>
                  <StatusTag status={d.ticket.status} />
                </Space>
                <Space size={4} wrap>
                  {d.reasons.map((r) => (
                    <Tag key={r} color={r === 'same_order' ? 'volcano' : r === 'same_customer' ? 'blue' : 'default'} data-testid={`duplicate-reason-${r}`}>
                      {t(`ticketExtras.merge.reason.${r}`, { defaultValue: r })}
                    </Tag>
                  ))}
                  <Typography.Text type="secondary">{t('ticketExtras.merge.hoursApart', { hours: d.hours_apart })}</Typography.Text>
                </Space>
              </Flex>
            </List.Item>
          )}
        />
      ) : (
        <Empty image={Empty.PRESENTED_IMAGE_SIMPLE} description={duplicates.isLoading ? t('common.loading') : t('ticketExtras.merge.none')} data-testid="duplicates-empty" />
      )}
      {merging ? <MergeDialog ticket={ticket} target={merging} onClose={() => setMerging(null)} /> : null}
    </Flex>
  )
}

function MergeDialog({ ticket, target, onClose }: { ticket: TicketDetail; target: MergeTarget; onClose: () => void }) {
  const { t } = useTranslation()
  const { message } = App.useApp()
  const queryClient = useQueryClient()
  const [form] = Form.useForm<{ into_ticket_id?: number; note?: string }>()
  const [refusal, setRefusal] = useState<Refusal | null>(null)
  const merge = useMutation({
    mutationFn: (v: { into_ticket_id: number; note?: string }) => mergeTicket(target.source, { into_ticket_id: v.into_ticket_id, note: v.note?.trim() || null }),
    onMutate: () => setRefusal(null),
    onSuccess: (done) => {
      void message.success(t('ticketExtras.merge.done', { source: done.source.id, target: done.target.id }))
      void queryClient.invalidateQueries({ queryKey: TICKETS_KEY })
      onClose()
    },
    onError: (err, v) => {
      const found = mergeRefusal(err, t, target.source, v.into_ticket_id)
      setRefusal(found)
      if (err instanceof ApiError && err.status === 422 && err.errors.length) {
        form.setFields(err.errors.filter((e) => e.field === 'into_ticket_id' || e.field === 'note').map((e) => ({ name: e.field as 'note', errors: [e.message] })))
      }
    },
  })
  const title =
    target.source === ticket.id
      ? t('ticketExtras.merge.titleThis', { id: ticket.id })
      : t('ticketExtras.merge.titleOther', { source: target.source, id: ticket.id })
  return (
    <Modal
      open
      title={title}
      onCancel={onClose}
      onOk={() => form.submit()}
      okText={t('ticketExtras.merge.submit')}
      okButtonProps={{ danger: true, loading: merge.isPending, ...tid('merge-submit') }}
      destroyOnHidden
      data-testid="merge-modal"
    >
      <Typography.Paragraph type="secondary">{t('ticketExtras.merge.help', { source: target.source })}</Typography.Paragraph>
      {refusal ? (
        <Alert
          type="warning"
          showIcon
          style={{ marginBottom: 12 }}
          message={refusal.text}
          data-testid="merge-refused"
          action={
            refusal.survivorId != null && !target.fixed ? (
              <Button
                size="small"
                onClick={() => {
                  form.setFieldValue('into_ticket_id', refusal.survivorId)
                  setRefusal(null)
                }}
                data-testid="merge-use-survivor"
              >
                {t('ticketExtras.merge.useSurvivor', { id: refusal.survivorId })}
              </Button>
            ) : undefined
          }
        />
      ) : null}
      <Form
        form={form}
        layout="vertical"
        initialValues={{ into_ticket_id: target.into }}
        onFinish={(v) => v.into_ticket_id != null && merge.mutate({ into_ticket_id: v.into_ticket_id, note: v.note })}
      >
        <Form.Item
          name="into_ticket_id"
          label={t('ticketExtras.merge.into')}
          rules={[{ required: true, message: t('ticketExtras.merge.intoRequired') }]}
          hidden={target.fixed}
        >
          <InputNumber min={1} precision={0} style={{ width: '100%' }} prefix="#" data-testid="merge-into" />
        </Form.Item>
        {target.fixed ? (
          <Typography.Paragraph data-testid="merge-summary">
            {t('ticketExtras.merge.summary', { source: target.source, into: target.into })}
          </Typography.Paragraph>
        ) : null}
        <Form.Item name="note" label={t('ticketExtras.merge.note')}>
          <Input.TextArea rows={2} maxLength={2000} data-testid="merge-note" />
        </Form.Item>
      </Form>
    </Modal>
  )
}
