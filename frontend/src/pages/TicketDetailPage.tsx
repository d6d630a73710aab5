import { ArrowLeftOutlined, ReloadOutlined } from '@ant-design/icons'
import { useQuery } from '@tanstack/react-query'
import { Button, Card, Col, Descriptions, Flex, Rate, Row, Space, Typography } from 'antd'
import { useTranslation } from 'react-i18next'
import { Link, useNavigate, useParams } from 'react-router-dom'
import { getCustomer, getOrder, getTicket } from '../api'
import { useAuth } from '../auth/AuthContext'
import { PERM } from '../auth/permissions'
import { PageHeader } from '../components/PageHeader'
import { ErrorState, NotFound, PageLoading } from '../components/states'
import { RoutingCard, useTeamName } from '../components/ticketAssign'
import { AttachmentsCard } from '../components/ticketAttachments'
import { ActionBar, CommentThread, CustomFields, ReplyBox, TicketTimeline } from '../components/ticketDetailParts'
import { DuplicatesCard, MergedBanner } from '../components/ticketMerge'
import { RatingCard } from '../components/ticketRating'
import { ALL_CLOCKS, clockState, PriorityTag, SlaCountdown, StatusTag, TICKETS_KEY, useNow, useUserNames } from '../components/ticketParts'
import { formatDateTime } from '../utils/format'

// 工单详情: header with status, priority and the SLA clocks; the actions the ticket accepts; the
// conversation with the reply box; attachments; possible duplicates and merging; properties, the
// assignment and its history, the satisfaction rating, custom fields, links; and the timeline of every
// change.

const REFRESH_MS = 30_000

export default function TicketDetailPage() {
  const { t } = useTranslation()
  const { can } = useAuth()
  const navigate = useNavigate()
  const id = Number(useParams().id)
  const valid = Number.isInteger(id) && id > 0
  const now = useNow(1000)
  const nameOf = useUserNames()
  const teamName = useTeamName()
  const ticket = useQuery({ queryKey: [...TICKETS_KEY, 'detail', id], queryFn: () => getTicket(id), enabled: valid, refetchInterval: REFRESH_MS })
  const customerId = ticket.data?.customer_id ?? null
  const orderId = ticket.data?.order_id ?? null
  const customer = useQuery({
    queryKey: ['customers', 'detail', customerId],
    queryFn: () => getCustomer(customerId as number),
    enabled: customerId != null && can(PERM.customersView),
    retry: false,
    staleTime: 60_000,
  })
  const order = useQuery({
    queryKey: ['commerce', 'order', orderId],
    queryFn: () => getOrder(orderId as number),
    enabled: orderId != null && can(PERM.ordersView),
    retry: false,
    staleTime: 60_000,
  })

  if (!valid) return <NotFound />
  if (ticket.isLoading) return <PageLoading />
  if (ticket.error && !ticket.data) return <ErrorState error={ticket.error} onRetry={() => void ticket.refetch()} />
  const tk = ticket.data
  if (!tk) return <NotFound />
  const extra = tk as typeof tk & { assignee_name?: string | null; team_name?: string | null }
  const canEdit = can(PERM.ticketsEdit)

  return (
    <>
      <PageHeader
        title={
          <Space wrap data-testid="ticket-header" data-status={tk.status}>
            <span data-testid="ticket-detail-title">
              #{tk.id} {tk.title}
            </span>
            <StatusTag status={tk.status} testId="ticket-status" />
            <PriorityTag priority={tk.priority} testId="ticket-priority" />
          </Space>
        }
        extra={
          <>
            <Button icon={<ArrowLeftOutlined />} onClick={() => navigate('/tickets')} data-testid="ticket-back">
              {t('tickets.desk.detail.back')}
            </Button>
            <Button icon={<ReloadOutlined spin={ticket.isFetching} />} onClick={() => void ticket.refetch()} data-testid="ticket-refresh">
              {t('common.refresh')}
            </Button>
          </>
        }
      />
      <Row gutter={[16, 16]}>
        <Col xs={24} lg={16}>
          <Flex vertical gap={16}>
            <MergedBanner ticket={tk} />
            <Card size="small" title={t('tickets.desk.detail.sla')}>
              <Flex wrap gap={12} data-testid="ticket-sla">
                {ALL_CLOCKS.filter((clock) => clock !== 'next_response' || clockState(tk, clock, now).kind !== 'none').map((clock) => (
                  <SlaCountdown key={clock} ticket={tk} clock={clock} now={now} label testId={`ticket-sla-${clock}`} />
                ))}
              </Flex>
            </Card>
            {canEdit ? (
              <Card size="small" title={t('tickets.desk.detail.actions')}>
                <ActionBar ticket={tk} />
              </Card>
            ) : null}
            <Card size="small" title={t('tickets.desk.detail.description')}>
              {tk.description ? (
                <Typography.Paragraph style={{ whiteSpace: 'pre-wrap', margin: 0 }} data-testid="ticket-description">
                  {tk.description}
                </Typography.Paragraph>
              ) : (
                <Typography.Text type="secondary">{t('tickets.desk.detail.noDescription')}</Typography.Text>
              )}
            </Card>
            <Card size="small" title={t('tickets.desk.detail.conversation')}>
              <Flex vertical gap={16}>
                <CommentThread comments={tk.comments} />
                {canEdit ? <ReplyBox ticket={tk} /> : null}
              </Flex>
            </Card>
            <Card size="small" title={t('ticketExtras.cards.attachments')}>
              <AttachmentsCard ticket={tk} canEdit={canEdit} />
            </Card>
            <Card size="small" title={t('ticketExtras.cards.duplicates')}>
              <DuplicatesCard ticket={tk} canEdit={canEdit} />
            </Card>
          </Flex>
        </Col>
        <Col xs={24} lg={8}>
          <Flex vertical gap={16}>
            <Card size="small">
              <Descriptions
                size="small"
                column={1}
                data-testid="ticket-properties"
                items={[
                  { key: 'source', label: t('tickets.desk.detail.source'), children: t(`tickets.desk.source.${tk.source}`, { defaultValue: tk.source }) },
                  { key: 'type', label: t('tickets.desk.detail.ticketType'), children: <span data-testid="ticket-type">{tk.ticket_type}</span> },
                  { key: 'category', label: t('tickets.desk.detail.category'), children: tk.category ?? '—' },
                  { key: 'region', label: t('tickets.desk.detail.region'), children: <span data-testid="ticket-region">{tk.region ?? '—'}</span> },
                  { key: 'team', label: t('tickets.desk.detail.team'), children: extra.team_name ?? teamName(tk.team_id) ?? '—' },
                  {
                    key: 'assignee',
                    label: t('tickets.desk.detail.assignee'),
                    children: extra.assignee_name ?? nameOf(tk.assignee_id) ?? <Typography.Text type="secondary">{t('tickets.desk.queue.unassigned')}</Typography.Text>,
                  },
                  {
                    key: 'customer',
                    label: t('tickets.desk.detail.customer'),
                    children:
                      customerId == null ? (
                        '—'
                      ) : can(PERM.customersView) ? (
                        <Link to={`/customers/${customerId}`} data-testid="ticket-customer-link">
                          {customer.data?.name || `#${customerId}`}
                        </Link>
                      ) : (
                        `#${customerId}`
                      ),
                  },
                  {
                    key: 'order',
                    label: t('tickets.desk.detail.order'),
                    children:
                      orderId == null ? (
                        '—'
                      ) : can(PERM.ordersView) ? (
                        <Link to={`/commerce/orders/${orderId}`} data-testid="ticket-order-link">
                          {order.data ? `${order.data.external_id} · ${order.data.shop_name}` : `#${orderId}`}
                        </Link>
                      ) : (
                        `#${orderId}`
                      ),
                  },
                  { key: 'outcome', label: t('tickets.desk.detail.outcome'), children: tk.outcome ? t(`tickets.desk.outcome.${tk.outcome}`, { defaultValue: tk.outcome }) : '—' },
                  ...(tk.merged_into_id
                    ? [
                        {
                          key: 'merged',
                          label: t('tickets.desk.detail.mergedInto'),
                          children: (
                            <Link to={`/tickets/${tk.merged_into_id}`} data-testid="ticket-merged-into">
                              #{tk.merged_into_id}
                            </Link>
                          ),
                        },
                      ]
                    : []),
                  ...(tk.rating ? [{ key: 'rating', label: t('tickets.desk.detail.rating'), children: <Rate disabled value={tk.rating} style={{ fontSize: 14 }} /> }] : []),
                  { key: 'created', label: t('tickets.desk.detail.created'), children: formatDateTime(tk.created_at) },
                  { key: 'updated', label: t('tickets.desk.detail.updated'), children: formatDateTime(tk.updated_at) },
                ]}
              />
            </Card>
            <Card size="small" title={t('ticketExtras.cards.routing')}>
              <RoutingCard ticket={tk} canEdit={canEdit} />
            </Card>
            <Card size="small" title={t('ticketExtras.cards.rating')}>
              <RatingCard ticket={tk} canEdit={canEdit} />
            </Card>
            <Card size="small" title={t('tickets.desk.detail.customFields')}>
              <CustomFields ticket={tk} />
            </Card>
            <Card size="small" title={t('tickets.desk.detail.timeline')}>
              <TicketTimeline entries={tk.timeline} />
            </Card>
          </Flex>
        </Col>
      </Row>
    </>
  )
}
