import { CheckOutlined, EditOutlined, ReloadOutlined } from '@ant-design/icons'
import { useMutation, useQueryClient } from '@tanstack/react-query'
import { Alert, App, AutoComplete, Button, Card, Empty, Select, Space, Table, Tag, Tooltip, Typography } from 'antd'
import type { TableColumnsType } from 'antd'
import { useState } from 'react'
import { useTranslation } from 'react-i18next'
import { Link } from 'react-router-dom'
import type { TicketPriority } from '../api'
import type { TicketOut as Ticket } from '../client'
import { correctClassification, listTriageTickets } from '../api/ticketClassify'
import { useAuth } from '../auth/AuthContext'
import { LoadMore } from '../components/LoadMore'
import { PageHeader } from '../components/PageHeader'
import { ErrorState } from '../components/states'
import { ClassifiedByTag, ConfidenceTag, TRIAGE_KEY, useKnownCategories } from '../components/ticketClassify'
import { PRIORITIES, PRIORITY_COLORS } from '../components/tickets'
import { useApiError } from '../components/useApiError'
import { useCursorList } from '../components/useCursorList'
import { formatDateTime } from '../utils/format'

// 待分拣: open tickets whose category nobody decided, or the model decided below the threshold. An agent
// confirms the prediction in one click, or picks another category (and priority) and corrects it.

interface Draft {
  category?: string
  priority?: TicketPriority
}

export default function TicketTriagePage() {
  const { t } = useTranslation()
  const { can } = useAuth()
  // tickets.edit: handle tickets (named here: PERM lists it only with the queue pages)
  const canEdit = can('tickets.edit')
  const { message } = App.useApp()
  const showError = useApiError()
  const queryClient = useQueryClient()
  const categories = useKnownCategories()
  const list = useCursorList<Ticket>(TRIAGE_KEY, (cursor) => listTriageTickets(cursor))
  const [drafts, setDrafts] = useState<Record<number, Draft>>({})
  const setDraft = (id: number, change: Draft) => setDrafts((all) => ({ ...all, [id]: { ...all[id], ...change } }))

  const decide = useMutation({
    mutationFn: ({ ticket, category, priority }: { ticket: Ticket; category: string; priority?: TicketPriority }) =>
      correctClassification(ticket.id, { category, priority: priority ?? null }),
    onSuccess: (updated, { ticket }) => {
      const confirmed = ticket.category === updated.category
      void message.success(t(confirmed ? 'ticketClassify.triage.confirmed' : 'ticketClassify.triage.corrected', { id: updated.id, category: updated.category }))
      setDrafts((all) => {
        const rest = { ...all }
        delete rest[ticket.id]
        return rest
      })
      void queryClient.invalidateQueries({ queryKey: TRIAGE_KEY })
      void queryClient.invalidateQueries({ queryKey: ['tickets', 'desk'] })
    },
    onError: (err) => showError(err),
  })
  const busy = (id: number) => decide.isPending && decide.variables?.ticket.id === id

  if (list.error && !list.items.length) return <ErrorState error={list.error} onRetry={() => void list.refetch()} />

  const columns: TableColumnsType<Ticket> = [
    {
      title: t('ticketClassify.triage.ticket'),
      render: (_, ticket) => (
        <Space direction="vertical" size={0}>
          <Link to={`/tickets/${ticket.id}`} data-testid={`triage-title-${ticket.id}`}>
            #{ticket.id} {ticket.title}
          </Link>
          {ticket.description && ticket.description !== ticket.title ? (
            <Typography.Text type="secondary" ellipsis style={{ maxWidth: 360 }}>
              {ticket.description}
            </Typography.Text>
          ) : null}
        </Space>
      ),
    },
    {
      title: t('ticketClassify.triage.predicted'),
      render: (_, ticket) =>
        ticket.category ? (
          <Tag color="geekblue" data-testid={`triage-predicted-${ticket.id}`}>
            {ticket.category}
          </Tag>
        ) : (
          <span className="muted" data-testid={`triage-predicted-${ticket.id}`}>
            {t('ticketClassify.triage.noPrediction')}
          </span>
        ),
    },
    { title: t('ticketClassify.triage.confidence'), render: (_, ticket) => <ConfidenceTag value={ticket.classification_confidence} testId={`triage-confidence-${ticket.id}`} /> },
    { title: t('ticketClassify.triage.classifiedBy'), render: (_, ticket) => <ClassifiedByTag by={ticket.classified_by ?? 'none'} /> },
    {
      title: t('ticketClassify.triage.priority'),
      render: (_, ticket) => <Tag color={PRIORITY_COLORS[ticket.priority as TicketPriority]}>{t(`tickets.priority.${ticket.priority}`, { defaultValue: ticket.priority })}</Tag>,
    },
    { title: t('ticketClassify.triage.createdAt'), render: (_, ticket) => formatDateTime(ticket.created_at) },
  ]
  if (canEdit)
    columns.push({
      title: '',
      width: 460,
      render: (_, ticket) => {
        const draft = drafts[ticket.id] ?? {}
        const category = draft.category?.trim()
        return (
          <Space wrap>
            <Tooltip title={t('ticketClassify.triage.confirmHelp')}>
              <Button
                type="primary"
                icon={<CheckOutlined />}
                disabled={!ticket.category}
                loading={busy(ticket.id) && decide.variables?.category === ticket.category}
                onClick={() => ticket.category && decide.mutate({ ticket, category: ticket.category })}
                data-testid={`triage-confirm-${ticket.id}`}
              >
                {t('ticketClassify.triage.confirm')}
              </Button>
            </Tooltip>
            <AutoComplete
              style={{ width: 150 }}
              value={draft.category}
              onChange={(value: string) => setDraft(ticket.id, { category: value })}
              options={categories.filter((c) => c !== ticket.category).map((c) => ({ value: c }))}
              placeholder={t('ticketClassify.triage.correctTo')}
              filterOption={(input, option) => String(option?.value ?? '').includes(input)}
              data-testid={`triage-category-${ticket.id}`}
            />
            <Select
              style={{ width: 120 }}
              allowClear
              value={draft.priority}
              onChange={(value?: TicketPriority) => setDraft(ticket.id, { priority: value })}
              placeholder={t('ticketClassify.triage.keepPriority')}
              options={PRIORITIES.map((p) => ({ value: p, label: t(`tickets.priority.${p}`) }))}
              data-testid={`triage-priority-${ticket.id}`}
            />
            <Button
              icon={<EditOutlined />}
              disabled={!category}
              loading={busy(ticket.id) && decide.variables?.category === category}
              onClick={() => category && decide.mutate({ ticket, category, priority: draft.priority })}
              data-testid={`triage-correct-${ticket.id}`}
            >
              {t('ticketClassify.triage.correct')}
            </Button>
          </Space>
        )
      },
    })

  return (
    <>
      <PageHeader
        title={t('ticketClassify.triage.title')}
        description={t('ticketClassify.triage.subtitle')}
        extra={
          <Button icon={<ReloadOutlined spin={list.isFetching} />} onClick={() => void list.refetch()} data-testid="triage-refresh">
            {t('common.refresh')}
          </Button>
        }
      />
      {!canEdit ? <Alert type="info" showIcon style={{ marginBottom: 16 }} message={t('ticketClassify.triage.readOnly')} /> : null}
      <Card>
        <Table
          rowKey="id"
          size="middle"
          loading={list.isLoading}
          columns={columns}
          dataSource={list.items}
          pagination={false}
          scroll={{ x: true }}
          locale={{ emptyText: <Empty description={t('ticketClassify.triage.empty')} /> }}
          data-testid="triage-table"
        />
        <LoadMore hasMore={!!list.hasNextPage} loading={list.isFetchingNextPage} onLoad={() => void list.fetchNextPage()} count={list.items.length} testId="triage-more" />
      </Card>
    </>
  )
}
