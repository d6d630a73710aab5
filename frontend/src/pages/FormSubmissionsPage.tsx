import { useQuery } from '@tanstack/react-query'
import { Card, Space, Table, Tag, Tooltip } from 'antd'
import type { TableColumnsType } from 'antd'
import { useMemo } from 'react'
import { useTranslation } from 'react-i18next'
import { Link, useParams } from 'react-router-dom'
import { getForm, listFormSubmissions, type FormSubmission } from '../api'
import { localText, type FieldSpec } from '../components/forms/model'
import { LoadMore } from '../components/LoadMore'
import { PageHeader } from '../components/PageHeader'
import { ErrorState, PageLoading } from '../components/states'
import { useCursorList } from '../components/useCursorList'
import { formatDateTime } from '../utils/format'

// 提交记录: a form's submissions, newest first, with the version each was filled in and what its actions did.

const OUTCOME_COLORS: Record<string, string> = { created: 'blue', tagged: 'green', no_customer: 'orange', failed: 'red' }

/** An answer as text: option labels, region parts joined, yes/no for consent boxes. */
function answerText(field: FieldSpec | undefined, value: unknown, lang: string): string {
  if (value === undefined || value === null) return ''
  const label = (v: unknown) => localText(field?.options?.find((o) => o.value === v)?.label, lang, String(v))
  if (Array.isArray(value)) return value.map(label).join('、')
  if (typeof value === 'object') return Object.values(value as Record<string, string>).join(' ')
  if (typeof value === 'boolean') return value ? '✓' : '✗'
  return field?.options ? label(value) : String(value)
}

export default function FormSubmissionsPage() {
  const { t, i18n } = useTranslation()
  const formId = Number(useParams().id)
  const form = useQuery({ queryKey: ['forms', formId], queryFn: () => getForm(formId) })
  const list = useCursorList<FormSubmission>(['forms', formId, 'submissions'], (cursor) => listFormSubmissions(formId, cursor))
  const fields = useMemo(() => (form.data?.definition.fields ?? []) as unknown as FieldSpec[], [form.data])
  if (form.isLoading) return <PageLoading />
  if (form.error) return <ErrorState error={form.error} onRetry={() => void form.refetch()} />

  // The current version's fields first, then keys only older versions had.
  const keys = [...fields.map((f) => f.key)]
  for (const item of list.items) for (const key of Object.keys(item.data)) if (!keys.includes(key)) keys.push(key)
  const byKey = new Map(fields.map((f) => [f.key, f]))
  const columns: TableColumnsType<FormSubmission> = [
    { title: t('forms.submissions.time'), dataIndex: 'created_at', width: 170, render: (v: string) => formatDateTime(v) },
    { title: t('forms.submissions.version'), dataIndex: 'version', width: 70, render: (v: number) => `v${v}` },
    ...keys.map((key) => ({
      title: localText(byKey.get(key)?.label, i18n.language, key),
      key,
      render: (_: unknown, row: FormSubmission) => answerText(byKey.get(key), row.data[key], i18n.language),
    })),
    {
      title: t('forms.submissions.ticket'),
      dataIndex: 'ticket_id',
      render: (id: number | null) => (id ? <Link to={`/tickets/${id}`} data-testid={`submission-ticket-${id}`}>#{id}</Link> : null),
    },
    {
      title: t('forms.submissions.customer'),
      dataIndex: 'customer_id',
      render: (id: number | null) => (id ? <Link to={`/customers/${id}`}>#{id}</Link> : null),
    },
    {
      title: t('forms.submissions.outcome'),
      dataIndex: 'outcome',
      render: (outcome: FormSubmission['outcome']) => (
        <Space size={4} wrap>
          {outcome.map((o, i) => (
            <Tooltip key={i} title={typeof o.detail === 'string' ? o.detail : undefined}>
              <Tag color={OUTCOME_COLORS[String(o.status)] ?? 'default'}>{t(`forms.submissions.status.${String(o.status)}`, { defaultValue: String(o.status) })}</Tag>
            </Tooltip>
          ))}
        </Space>
      ),
    },
  ]
  return (
    <div data-testid="form-submissions-page">
      <PageHeader title={t('forms.submissions.title', { name: form.data?.name ?? '' })} description={t('forms.submissions.subtitle')} />
      <Card>
        {list.error && !list.items.length ? (
          <ErrorState error={list.error} onRetry={() => void list.refetch()} />
        ) : (
          <Table
            rowKey="id"
            size="small"
            loading={list.isLoading}
            columns={columns}
            dataSource={list.items}
            pagination={false}
            scroll={{ x: true }}
            locale={{ emptyText: t('forms.submissions.empty') }}
            data-testid="form-submissions-table"
          />
        )}
        <LoadMore hasMore={!!list.hasNextPage} loading={list.isFetchingNextPage} onLoad={() => void list.fetchNextPage()} count={list.items.length} testId="form-submissions-more" />
      </Card>
    </div>
  )
}
