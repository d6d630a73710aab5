import { ArrowLeftOutlined, DeleteOutlined, FileExcelOutlined, FileTextOutlined, LoadingOutlined, SaveOutlined, TagsOutlined, TeamOutlined } from '@ant-design/icons'
import { keepPreviousData, useMutation, useQuery, useQueryClient } from '@tanstack/react-query'
import { Affix, Alert, App, Button, Card, Col, Empty, Flex, Form, Input, Popconfirm, Row, Space, Statistic, Table, Tag, Tooltip, Typography } from 'antd'
import type { TableColumnsType } from 'antd'
import { useMemo, useState, type ReactNode } from 'react'
import { useTranslation } from 'react-i18next'
import { Link, useNavigate, useParams } from 'react-router-dom'
import {
  ApiError,
  createSegment,
  deleteSegment,
  exportSegment,
  getSegment,
  previewSegment,
  segmentMembers,
  updateSegment,
  type Condition,
  type Customer,
  type Segment,
} from '../api'
import { useAuth } from '../auth/AuthContext'
import { PERM } from '../auth/permissions'
import { saveBlob } from '../components/channels'
import { BulkTagModal } from '../components/customerTags'
import { CustomerAvatar, SourceChannel, TagList } from '../components/customers'
import { LoadMore } from '../components/LoadMore'
import { errorsByNode, fromCondition, SegmentBuilder, toCondition, useDescribeCondition, type GroupNode } from '../components/segmentBuilder'
import { ErrorState, NotFound, PageLoading } from '../components/states'
import { errorText, useApiError } from '../components/useApiError'
import { useCursorList } from '../components/useCursorList'
import { formatDateTime } from '../utils/format'
import { dataAttrs, tid } from '../utils/testid'
import { useDebounced } from '../utils/useDebounced'
import { addedAt } from './CustomersPage'

const PREVIEW_DEBOUNCE_MS = 400
const PREVIEW_LIMIT = 20

export default function SegmentEditorPage() {
  const { id: idParam } = useParams()
  const editing = idParam !== undefined
  const id = Number(idParam)
  const segment = useQuery({ queryKey: ['segments', 'detail', id], queryFn: () => getSegment(id), enabled: editing && Number.isInteger(id) && id > 0 })
  if (editing && (!Number.isInteger(id) || id <= 0)) return <NotFound />
  if (editing && segment.isLoading) return <PageLoading />
  if (editing && (segment.error || !segment.data)) return <ErrorState error={segment.error} onRetry={() => void segment.refetch()} />
  return <SegmentEditor key={segment.data?.id ?? 'new'} segment={segment.data} />
}

function SegmentEditor({ segment }: { segment?: Segment }) {
  const { t } = useTranslation()
  const { can } = useAuth()
  const manage = can(PERM.segmentsManage)
  const navigate = useNavigate()
  const queryClient = useQueryClient()
  const { message } = App.useApp()
  const showError = useApiError()
  const describe = useDescribeCondition()
  const [form] = Form.useForm<{ name: string; description: string }>()
  const [tree, setTree] = useState<GroupNode>(() => fromCondition(segment?.condition ?? { all: [] }))
  const [saveErrors, setSaveErrors] = useState<{ field: string; message: string }[]>([])
  const compiled = useMemo(() => toCondition(tree), [tree])
  const conditionText = JSON.stringify(compiled.condition)
  const settled = useDebounced(conditionText, PREVIEW_DEBOUNCE_MS)
  const dirty = !segment || conditionText !== JSON.stringify(fromConditionJson(segment.condition))

  const preview = useQuery({
    queryKey: ['segments', 'preview', settled],
    queryFn: ({ signal }) => previewSegment(JSON.parse(settled) as Condition, PREVIEW_LIMIT, signal),
    placeholderData: keepPreviousData,
    retry: false,
    staleTime: 5_000,
  })
  const pending = preview.isFetching || settled !== conditionText
  const previewErrors = preview.error instanceof ApiError ? preview.error.errors : []
  const nodeErrors = errorsByNode([...previewErrors, ...saveErrors], compiled.paths)

  const save = useMutation({
    mutationFn: async (v: { name: string; description: string }) => {
      const body = { name: v.name.trim(), description: v.description?.trim() || null, condition: compiled.condition as Record<string, unknown> }
      return segment ? updateSegment(segment.id, body) : createSegment(body)
    },
    onSuccess: (saved) => {
      setSaveErrors([])
      queryClient.setQueryData(['segments', 'detail', saved.id], saved)
      void queryClient.invalidateQueries({ queryKey: ['segments', 'list'] })
      void queryClient.invalidateQueries({ queryKey: ['segment-members', saved.id] })
      void message.success(segment ? t('segments.saved') : t('segments.created', { name: saved.name }))
      if (!segment) navigate(`/customers/segments/${saved.id}`, { replace: true })
    },
    onError: (e) => {
      if (e instanceof ApiError) setSaveErrors(e.errors.filter((x) => x.field.startsWith('condition')))
      showError(e, form)
    },
  })
  const remove = useMutation({
    mutationFn: () => deleteSegment(segment!.id),
    onSuccess: () => {
      void queryClient.invalidateQueries({ queryKey: ['segments', 'list'] })
      void message.success(t('segments.deleted'))
      navigate('/customers/segments')
    },
    onError: (e) => showError(e),
  })
  const onSave = (v: { name: string; description: string }) => {
    if (compiled.incomplete.length) {
      void message.warning(t('segments.incompleteOnSave'))
      return
    }
    save.mutate(v)
  }

  return (
    <>
      <Link to="/customers/segments" data-testid="segment-back">
        <ArrowLeftOutlined /> {t('segments.title')}
      </Link>
      <Flex justify="space-between" align="center" style={{ margin: '8px 0 16px' }} wrap gap={12}>
        <Typography.Title level={3} style={{ margin: 0 }} data-testid="page-title">
          {segment ? segment.name : t('segments.newTitle')}
        </Typography.Title>
        <Space>
          {segment && manage ? (
            <Popconfirm
              title={t('segments.deleteConfirm', { name: segment.name })}
              okText={t('common.delete')}
              okButtonProps={{ danger: true, ...tid('confirm-ok') }}
              onConfirm={() => remove.mutateAsync().catch(() => undefined)}
            >
              <Button danger icon={<DeleteOutlined />} loading={remove.isPending} data-testid="segment-delete">
                {t('common.delete')}
              </Button>
            </Popconfirm>
          ) : null}
          {manage ? (
            <Button type="primary" icon={<SaveOutlined />} loading={save.isPending} onClick={() => form.submit()} data-testid="segment-save">
              {segment ? t('common.save') : t('segments.create')}
            </Button>
          ) : null}
        </Space>
      </Flex>
      <Row gutter={[16, 16]} align="top">
        <Col xs={24} xl={16}>
          <Card style={{ marginBottom: 16 }}>
            <Form
              form={form}
              layout="vertical"
              disabled={!manage}
              initialValues={{ name: segment?.name ?? '', description: segment?.description ?? '' }}
              onFinish={onSave}
              onKeyDown={(e) => {
                if (e.key === 'Enter' && e.target instanceof HTMLInputElement) e.preventDefault()
              }}
            >
              <Row gutter={16}>
                <Col xs={24} md={10}>
                  <Form.Item name="name" label={t('segments.name')} rules={[{ required: true, whitespace: true, message: t('segments.nameRequired') }]} style={{ marginBottom: 0 }}>
                    <Input maxLength={100} placeholder={t('segments.namePlaceholder')} data-testid="segment-name" />
                  </Form.Item>
                </Col>
                <Col xs={24} md={14}>
                  <Form.Item name="description" label={t('segments.description')} style={{ marginBottom: 0 }}>
                    <Input maxLength={500} placeholder={t('segments.descriptionPlaceholder')} data-testid="segment-description" />
                  </Form.Item>
                </Col>
              </Row>
            </Form>
          </Card>
          <Card title={t('segments.builder.title')} data-testid="segment-builder-card">
            <SegmentBuilder value={tree} onChange={setTree} errors={nodeErrors} readOnly={!manage} />
            <Typography.Paragraph type="secondary" style={{ marginTop: 12, marginBottom: 0 }} data-testid="segment-summary">
              {t('segments.inWords')}: {describe(compiled.condition)}
            </Typography.Paragraph>
          </Card>
        </Col>
        <Col xs={24} xl={8}>
          <Affix offsetTop={16}>
            <div>
              <CountCard
                count={preview.data?.count}
                tookMs={preview.data?.took_ms}
                pending={pending}
                error={preview.error}
                incomplete={compiled.incomplete.length}
                saved={segment}
                dirty={dirty}
              />
              {segment ? <ExportCard segment={segment} dirty={dirty} count={preview.data?.count} /> : null}
            </div>
          </Affix>
        </Col>
        <Col xs={24}>
          {segment && !dirty ? (
            <SavedMembers segment={segment} />
          ) : (
            <MembersTable
              title={t('segments.previewMembers', { count: Math.min(preview.data?.count ?? 0, PREVIEW_LIMIT) })}
              items={preview.data?.items ?? []}
              loading={preview.isLoading}
              testId="segment-preview-members"
              footer={
                preview.data && preview.data.count > PREVIEW_LIMIT ? (
                  <Typography.Text type="secondary">{t('segments.previewMore', { count: preview.data.count })}</Typography.Text>
                ) : null
              }
            />
          )}
        </Col>
      </Row>
    </>
  )
}

/** The stored condition as the builder would write it back (to tell whether the builder changed it). */
function fromConditionJson(condition: unknown): Condition {
  return toCondition(fromCondition(condition)).condition
}

function CountCard({
  count,
  tookMs,
  pending,
  error,
  incomplete,
  saved,
  dirty,
}: {
  count: number | undefined
  tookMs: number | undefined
  pending: boolean
  error: unknown
  incomplete: number
  saved?: Segment
  dirty: boolean
}) {
  const { t } = useTranslation()
  return (
    <Card style={{ marginBottom: 16 }} data-testid="segment-count-card">
      <Statistic
        title={
          <Space>
            <TeamOutlined />
            {t('segments.liveCount')}
            {pending ? <LoadingOutlined data-testid="segment-count-loading" /> : null}
          </Space>
        }
        value={count ?? '—'}
        valueStyle={{ fontSize: 40, color: pending ? '#8c8c8c' : '#1677ff', transition: 'color .2s' }}
        valueRender={(node) => (
          <span data-testid="segment-count" data-value={count ?? ''} data-pending={String(pending)}>
            {node}
          </span>
        )}
        suffix={<Typography.Text type="secondary">{t('segments.people')}</Typography.Text>}
      />
      <Typography.Text type="secondary" style={{ fontSize: 12 }}>
        {tookMs !== undefined ? t('segments.took', { ms: tookMs.toFixed(1) }) : null}
        {saved?.last_counted_at && !dirty ? ` · ${t('segments.lastCounted', { time: formatDateTime(saved.last_counted_at) })}` : null}
      </Typography.Text>
      {incomplete ? (
        <Alert type="info" showIcon style={{ marginTop: 12 }} message={t('segments.incompleteRows', { count: incomplete })} data-testid="segment-incomplete" />
      ) : null}
      {error ? <Alert type="error" showIcon style={{ marginTop: 12 }} message={errorText(error, t)} data-testid="segment-count-error" /> : null}
      {saved && dirty ? <Alert type="warning" showIcon style={{ marginTop: 12 }} message={t('segments.unsaved')} data-testid="segment-dirty" /> : null}
    </Card>
  )
}

function ExportCard({ segment, dirty, count }: { segment: Segment; dirty: boolean; count?: number }) {
  const { t } = useTranslation()
  const { can } = useAuth()
  const showError = useApiError()
  const queryClient = useQueryClient()
  const [busy, setBusy] = useState<'csv' | 'xlsx' | null>(null)
  const [tagging, setTagging] = useState(false)
  const canExport = can(PERM.customersExport)
  const canTag = can(PERM.customersEdit)
  if (!canExport && !canTag) return null
  const run = async (format: 'csv' | 'xlsx') => {
    setBusy(format)
    try {
      saveBlob(await exportSegment(segment.id, format), `${segment.name}.${format}`)
    } catch (e) {
      showError(e)
    } finally {
      setBusy(null)
    }
  }
  return (
    <Card size="small" title={t('segments.export.title')} data-testid="segment-export-card">
      <Space wrap>
        {canExport ? (
          <>
            <Button icon={<FileTextOutlined />} loading={busy === 'csv'} disabled={!!busy} onClick={() => void run('csv')} data-testid="segment-export-csv">
              CSV
            </Button>
            <Button icon={<FileExcelOutlined />} loading={busy === 'xlsx'} disabled={!!busy} onClick={() => void run('xlsx')} data-testid="segment-export-xlsx">
              Excel
            </Button>
          </>
        ) : null}
        {canTag ? (
          <Button icon={<TagsOutlined />} disabled={dirty} onClick={() => setTagging(true)} data-testid="segment-bulk-tag">
            {t('segments.bulkTag')}
          </Button>
        ) : null}
      </Space>
      {tagging ? (
        <BulkTagModal
          segment={{ id: segment.id, name: segment.name, count: dirty ? null : count }}
          onClose={() => setTagging(false)}
          onDone={() => void queryClient.invalidateQueries({ queryKey: ['segment-members', segment.id] })}
        />
      ) : null}
      <Typography.Paragraph type="secondary" style={{ fontSize: 12, margin: '8px 0 0' }}>
        {busy ? t('segments.export.running') : dirty ? t('segments.export.savedOnly') : t('segments.export.hint')}
      </Typography.Paragraph>
    </Card>
  )
}

function SavedMembers({ segment }: { segment: Segment }) {
  const { t } = useTranslation()
  const members = useCursorList(['segment-members', segment.id], (cursor) => segmentMembers(segment.id, { limit: 50, cursor }))
  return (
    <MembersTable
      title={t('segments.members')}
      items={members.items}
      loading={members.isLoading}
      testId="segment-members"
      footer={
        <LoadMore
          hasMore={!!members.hasNextPage}
          loading={members.isFetchingNextPage}
          onLoad={() => void members.fetchNextPage()}
          count={members.items.length}
          testId="segment-members-load-more"
        />
      }
    />
  )
}

function MembersTable({ title, items, loading, testId, footer }: { title: string; items: Customer[]; loading: boolean; testId: string; footer?: ReactNode }) {
  const { t } = useTranslation()
  const columns: TableColumnsType<Customer> = [
    {
      title: t('customers.customer'),
      key: 'customer',
      render: (_, c) => (
        <Space>
          <CustomerAvatar src={c.avatar_url} size="small" />
          <Link to={`/customers/${c.id}`}>{c.name || t('customers.unnamed')}</Link>
        </Space>
      ),
    },
    {
      title: t('customers.followStaff'),
      key: 'staff',
      render: (_, c) =>
        c.follow_staff.length ? (
          c.follow_staff.slice(0, 3).map((f) => (
            <Tag key={`${f.connection_id}-${f.staff_userid}`} bordered={false}>
              {f.staff_name || f.staff_userid}
            </Tag>
          ))
        ) : (
          <span className="muted">—</span>
        ),
    },
    { title: t('customers.sourceChannel'), key: 'source', width: 170, render: (_, c) => <SourceChannel customer={c} /> },
    { title: t('customers.tags'), key: 'tags', render: (_, c) => <TagList tags={c.tags} max={4} /> },
    {
      title: t('customers.addedAt'),
      key: 'added',
      width: 170,
      render: (_, c) => <Tooltip title={formatDateTime(c.created_at)}>{formatDateTime(addedAt(c))}</Tooltip>,
    },
  ]
  return (
    <Card title={title} data-testid={`${testId}-card`}>
      <Table<Customer>
        rowKey="id"
        size="small"
        columns={columns}
        dataSource={items}
        loading={loading}
        pagination={false}
        scroll={{ x: 800 }}
        onRow={(c) => dataAttrs({ testid: `${testId}-row-${c.id}` })}
        data-testid={testId}
        data-count={items.length}
        locale={{ emptyText: <Empty image={Empty.PRESENTED_IMAGE_SIMPLE} description={t('segments.noMembers')} /> }}
      />
      {footer ? <div style={{ marginTop: 8, textAlign: 'center' }}>{footer}</div> : null}
    </Card>
  )
}
