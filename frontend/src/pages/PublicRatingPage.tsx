import { useMutation, useQuery } from '@tanstack/react-query'
import { Alert, Button, Card, Flex, Input, Rate, Result, Spin, Typography } from 'antd'
import { useState } from 'react'
import { useTranslation } from 'react-i18next'
import { useParams } from 'react-router-dom'
import { ApiError } from '../api'
import { getPublicRating, submitPublicRating, type PublicRating } from '../api/ticketExtras'
import { LanguageSwitch } from '../components/LanguageSwitch'
import { scoreLabels } from '../components/ticketRating'
import { errorText } from '../components/useApiError'

// The customer's rating page (no login, phones first): the link's token is the credential. It shows
// the ticket's title and status, takes a score of 1 to 5 and a comment once, and says so when the
// link is invalid (404), expired (410) or the ticket was rated already.

type Gone = 'invalid' | 'expired'

function goneOf(err: unknown): Gone | null {
  if (err instanceof ApiError && err.status === 404) return 'invalid'
  if (err instanceof ApiError && err.status === 410) return 'expired'
  return null
}

export default function PublicRatingPage() {
  const { t } = useTranslation()
  const token = useParams().token ?? ''
  const [score, setScore] = useState(0)
  const [comment, setComment] = useState('')
  const [done, setDone] = useState<PublicRating | null>(null)
  const [alreadyRated, setAlreadyRated] = useState(false)
  const rating = useQuery({ queryKey: ['public-rating', token], queryFn: () => getPublicRating(token), retry: false })
  const submit = useMutation({
    mutationFn: () => submitPublicRating(token, { score, comment: comment.trim() || null }),
    onSuccess: (answer) => setDone(answer),
    onError: (err) => {
      if (err instanceof ApiError && err.status === 409) {
        setAlreadyRated(true)
        void rating.refetch()
      }
    },
  })
  const labels = scoreLabels(t)
  const gone = goneOf(rating.error) ?? goneOf(submit.error)

  let body
  if (rating.isLoading) {
    body = (
      <Flex justify="center" style={{ padding: 48 }}>
        <Spin />
      </Flex>
    )
  } else if (gone) {
    body = (
      <div data-testid="rating-page-state" data-state={gone}>
        <Result
          status={gone === 'invalid' ? '404' : 'warning'}
          title={t(`ticketExtras.public.${gone}`)}
          subTitle={t(`ticketExtras.public.${gone}Help`)}
        />
      </div>
    )
  } else if (rating.error || !rating.data) {
    body = <Result status="error" title={errorText(rating.error, t)} extra={<Button onClick={() => void rating.refetch()}>{t('common.retry')}</Button>} />
  } else if (done) {
    body = (
      <div data-testid="rating-page-state" data-state="thanks">
        <Result
          status="success"
          title={t('ticketExtras.public.thanks')}
          subTitle={<Rate disabled value={done.score ?? 0} />}
        />
      </div>
    )
  } else if (rating.data.rated || alreadyRated) {
    body = (
      <div data-testid="rating-page-state" data-state="rated">
        <Result
          status="info"
          title={t('ticketExtras.public.rated')}
          subTitle={rating.data.score ? <Rate disabled value={rating.data.score} /> : undefined}
        />
      </div>
    )
  } else {
    body = (
      <Flex vertical gap={16} data-testid="rating-page-state" data-state="open">
        <div>
          <Typography.Text type="secondary">{t('ticketExtras.public.about')}</Typography.Text>
          <Typography.Title level={4} style={{ margin: '4px 0 0' }} data-testid="rating-page-title">
            {rating.data.title}
          </Typography.Title>
          <Typography.Text type="secondary">
            {t(`tickets.desk.status.${rating.data.status}`, { defaultValue: rating.data.status })}
          </Typography.Text>
        </div>
        <Flex vertical align="center" gap={8}>
          <Typography.Text strong>{t('ticketExtras.public.question')}</Typography.Text>
          <Rate value={score} onChange={setScore} style={{ fontSize: 36 }} data-testid="rating-page-score" />
          <Typography.Text type="secondary" data-testid="rating-page-score-label">
            {score ? labels[score - 1] : t('ticketExtras.public.tapStars')}
          </Typography.Text>
        </Flex>
        <Input.TextArea
          rows={4}
          maxLength={2000}
          value={comment}
          onChange={(e) => setComment(e.target.value)}
          placeholder={t('ticketExtras.public.commentPlaceholder')}
          data-testid="rating-page-comment"
        />
        {submit.error && !gone ? <Alert type="error" showIcon message={errorText(submit.error, t)} data-testid="rating-page-error" /> : null}
        <Button type="primary" size="large" block disabled={!score} loading={submit.isPending} onClick={() => submit.mutate()} data-testid="rating-page-submit">
          {t('ticketExtras.public.submit')}
        </Button>
        <Typography.Text type="secondary" style={{ fontSize: 12, textAlign: 'center' }}>
          {t('ticketExtras.public.once')}
        </Typography.Text>
      </Flex>
    )
  }
  return (
    <div style={{ minHeight: '100vh', background: '#f5f7fa', padding: '24px 12px 48px' }} data-testid="rating-page">
      <Card style={{ maxWidth: 480, margin: '0 auto' }} title={t('ticketExtras.public.heading')} extra={<LanguageSwitch />}>
        {body}
      </Card>
    </div>
  )
}
