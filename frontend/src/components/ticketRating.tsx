// 工单详情 › 满意度: the rating once given; for a resolved or closed ticket, 记录评价 (staff record the
// customer's score, 1 to 5, and comment) and 生成评价链接 (a signed link, valid 14 days, the customer
// opens without logging in).
import { useMutation, useQueryClient } from '@tanstack/react-query'
import { App, Button, Flex, Form, Input, Modal, Rate, Typography } from 'antd'
import { useState } from 'react'
import { useTranslation } from 'react-i18next'
import { Link } from 'react-router-dom'
import { ApiError, type TicketDetail } from '../api'
import { createRatingLink, rateTicket, type RatingLink } from '../api/ticketExtras'
import { formatDateTime } from '../utils/format'
import { tid } from '../utils/testid'
import { TICKETS_KEY } from './ticketParts'
import type { T } from './tickets'
import { errorText } from './useApiError'

const DONE = ['resolved', 'closed']

/** The words under each star. */
export function scoreLabels(t: T): string[] {
  return [1, 2, 3, 4, 5].map((n) => t(`ticketExtras.rating.score${n}`))
}

/** Why the server refused a rating (409), in the console's language. */
export function ratingRefusal(err: unknown, t: T): string {
  if (err instanceof ApiError && err.status === 409) {
    if (/already been rated/.test(err.detail)) return t('ticketExtras.rating.refused.rated')
    if (/only a resolved or closed ticket/.test(err.detail)) return t('ticketExtras.rating.refused.notDone')
    const merged = /merged into ticket (\d+)/.exec(err.detail)
    if (merged) return t('ticketExtras.rating.refused.merged', { id: merged[1] })
  }
  return errorText(err, t)
}

export function RatingCard({ ticket, canEdit }: { ticket: TicketDetail; canEdit: boolean }) {
  const { t } = useTranslation()
  const { message } = App.useApp()
  const queryClient = useQueryClient()
  const [rating, setRating] = useState(false)
  const [link, setLink] = useState<RatingLink | null>(null)
  const makeLink = useMutation({
    mutationFn: () => createRatingLink(ticket.id),
    onSuccess: (made) => {
      setLink(made)
      void queryClient.invalidateQueries({ queryKey: TICKETS_KEY })
    },
    onError: (err) => {
      void message.error({ content: ratingRefusal(err, t), key: 'api-error', className: 'api-error-message' })
      void queryClient.invalidateQueries({ queryKey: TICKETS_KEY })
    },
  })

  let body
  if (ticket.rating != null) {
    body = (
      <Flex vertical gap={4} data-testid="ticket-rating" data-score={ticket.rating}>
        <Rate disabled value={ticket.rating} />
        <Typography.Text>{scoreLabels(t)[ticket.rating - 1]}</Typography.Text>
        {ticket.rating_comment ? (
          <Typography.Paragraph style={{ margin: 0, whiteSpace: 'pre-wrap' }} data-testid="ticket-rating-comment">
            {ticket.rating_comment}
          </Typography.Paragraph>
        ) : null}
        <Typography.Text type="secondary" style={{ fontSize: 12 }}>
          {t('ticketExtras.rating.ratedAt', { at: formatDateTime(ticket.rated_at) })}
        </Typography.Text>
      </Flex>
    )
  } else if (ticket.merged_into_id != null) {
    body = (
      <Typography.Text type="secondary" data-testid="ticket-rating-merged">
        {t('ticketExtras.rating.mergedHint')} <Link to={`/tickets/${ticket.merged_into_id}`}>#{ticket.merged_into_id}</Link>
      </Typography.Text>
    )
  } else if (!DONE.includes(ticket.status)) {
    body = (
      <Typography.Text type="secondary" data-testid="ticket-rating-pending">
        {t('ticketExtras.rating.notYet')}
      </Typography.Text>
    )
  } else {
    body = (
      <Flex vertical gap={8} data-testid="ticket-rating-none">
        <Typography.Text type="secondary">{t('ticketExtras.rating.none')}</Typography.Text>
        {canEdit ? (
          <Flex wrap gap={8}>
            <Button type="primary" onClick={() => setRating(true)} data-testid="rating-record">
              {t('ticketExtras.rating.record')}
            </Button>
            <Button loading={makeLink.isPending} onClick={() => makeLink.mutate()} data-testid="rating-link-create">
              {t('ticketExtras.rating.makeLink')}
            </Button>
          </Flex>
        ) : null}
      </Flex>
    )
  }
  return (
    <>
      {body}
      {rating ? <RateDialog ticket={ticket} onClose={() => setRating(false)} /> : null}
      <Modal open={!!link} title={t('ticketExtras.rating.linkTitle')} footer={null} onCancel={() => setLink(null)} data-testid="rating-link-modal">
        {link ? (
          <Flex vertical gap={8}>
            <Typography.Paragraph type="secondary" style={{ margin: 0 }}>
              {t('ticketExtras.rating.linkHelp', { at: formatDateTime(link.expires_at) })}
            </Typography.Paragraph>
            <Typography.Paragraph
              copyable={{ text: link.url, tooltips: [t('common.copy'), t('common.copied')] }}
              style={{ wordBreak: 'break-all', margin: 0 }}
              data-testid="rating-link-url"
            >
              {link.url}
            </Typography.Paragraph>
          </Flex>
        ) : null}
      </Modal>
    </>
  )
}

function RateDialog({ ticket, onClose }: { ticket: TicketDetail; onClose: () => void }) {
  const { t } = useTranslation()
  const { message } = App.useApp()
  const queryClient = useQueryClient()
  const [form] = Form.useForm<{ score?: number; comment?: string }>()
  const rate = useMutation({
    mutationFn: (v: { score: number; comment?: string }) => rateTicket(ticket.id, { score: v.score, comment: v.comment?.trim() || null }),
    onSuccess: () => {
      void message.success(t('ticketExtras.rating.saved'))
      void queryClient.invalidateQueries({ queryKey: TICKETS_KEY })
      onClose()
    },
    onError: (err) => {
      void message.error({ content: ratingRefusal(err, t), key: 'api-error', className: 'api-error-message' })
      if (err instanceof ApiError && err.status === 409) {
        void queryClient.invalidateQueries({ queryKey: TICKETS_KEY })
        onClose()
      }
    },
  })
  return (
    <Modal
      open
      title={t('ticketExtras.rating.record')}
      onCancel={onClose}
      onOk={() => form.submit()}
      okButtonProps={{ loading: rate.isPending, ...tid('rating-submit') }}
      destroyOnHidden
      data-testid="rating-modal"
    >
      <Form form={form} layout="vertical" onFinish={(v) => v.score && rate.mutate({ score: v.score, comment: v.comment })}>
        <Form.Item name="score" label={t('ticketExtras.rating.score')} rules={[{ required: true, message: t('ticketExtras.rating.scoreRequired') }]}>
          <Rate tooltips={scoreLabels(t)} {...tid('rating-score')} />
        </Form.Item>
        <Form.Item name="comment" label={t('ticketExtras.rating.comment')}>
          <Input.TextArea rows={3} maxLength={2000} data-testid="rating-comment" />
        </Form.Item>
      </Form>
    </Modal>
  )
}
