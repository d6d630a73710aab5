import { ClusterOutlined, DeleteOutlined, PlusOutlined, ReloadOutlined } from '@ant-design/icons'
import { useMutation, useQueries, useQueryClient } from '@tanstack/react-query'
import { App, Button, Card, Empty, Popconfirm, Space, Table, Tooltip, Typography } from 'antd'
import type { TableColumnsType } from 'antd'
import { useTranslation } from 'react-i18next'
import { Link, useNavigate } from 'react-router-dom'
import { deleteSegment, listSegments, previewSegment, type Condition, type Segment } from '../api'
import { useAuth } from '../auth/AuthContext'
import { PERM } from '../auth/permissions'
import { LoadMore } from '../components/LoadMore'
import { PageHeader } from '../components/PageHeader'
import { useDescribeCondition } from '../components/segmentBuilder'
import { ErrorState } from '../components/states'
import { useApiError } from '../components/useApiError'
import { useCursorList } from '../components/useCursorList'
import { formatDateTime, formatRelative } from '../utils/format'
import { dataAttrs, tid } from '../utils/testid'

const COUNT_REFRESH_MS = 30_000

export default function SegmentsPage() {
  const { t } = useTranslation()
  const { can } = useAuth()
  const manage = can(PERM.segmentsManage)
  const navigate = useNavigate()
  const queryClient = useQueryClient()
  const { message } = App.useApp()
  const showError = useApiError()
  const describe = useDescribeCondition()
  const segments = useCursorList(['segments', 'list'], (cursor) => listSegments({ limit: 50, cursor }))
  // Live counts, one query per segment on the page, through the builder's preview (a POST): the GET
  // /segments/{id}/count also stores last_count, a write that fails on SQLite inside a read-only request.
  const counts = useQueries({
    queries: segments.items.map((s) => ({
      queryKey: ['segments', 'count', s.id, s.updated_at],
      queryFn: () => previewSegment(s.condition as Condition, 1),
      refetchInterval: COUNT_REFRESH_MS,
      staleTime: 10_000,
    })),
  })
  const remove = useMutation({
    mutationFn: (s: Segment) => deleteSegment(s.id),
    onSuccess: () => {
      void message.success(t('segments.deleted'))
      void queryClient.invalidateQueries({ queryKey: ['segments', 'list'] })
    },
    onError: (e) => showError(e),
  })

  const columns: TableColumnsType<Segment> = [
    {
      title: t('segments.name'),
      key: 'name',
      width: 220,
      render: (_, s) => (
        <div>
          <Link to={`/customers/segments/${s.id}`} onClick={(e) => e.stopPropagation()} data-testid={`segment-link-${s.id}`}>
            <Typography.Text strong>{s.name}</Typography.Text>
          </Link>
          {s.description ? (
            <Typography.Text type="secondary" style={{ display: 'block', fontSize: 12 }} ellipsis={{ tooltip: s.description }}>
              {s.description}
            </Typography.Text>
          ) : null}
        </div>
      ),
    },
    {
      title: t('segments.condition'),
      key: 'condition',
      render: (_, s) => (
        <Typography.Paragraph style={{ margin: 0 }} ellipsis={{ rows: 2, tooltip: describe(s.condition) }}>
          {describe(s.condition)}
        </Typography.Paragraph>
      ),
    },
    {
      title: t('segments.liveCount'),
      key: 'count',
      width: 130,
      align: 'right',
      render: (_, s, i) => {
        const q = counts[i]
        const value = q?.data?.count ?? s.last_count
        return (
          <Tooltip title={q?.data ? t('segments.took', { ms: q.data.took_ms.toFixed(1) }) : s.last_counted_at ? t('segments.lastCounted', { time: formatDateTime(s.last_counted_at) }) : undefined}>
            <Typography.Text strong style={{ fontSize: 16, color: q?.isFetching ? '#8c8c8c' : undefined }} data-testid={`segment-count-${s.id}`} data-value={value ?? ''}>
              {value ?? '—'}
            </Typography.Text>
          </Tooltip>
        )
      },
    },
    {
      title: t('segments.updated'),
      key: 'updated',
      width: 180,
      render: (_, s) => (
        <span>
          <Tooltip title={formatDateTime(s.updated_at)}>{formatRelative(s.updated_at)}</Tooltip>
          {s.created_by ? (
            <Typography.Text type="secondary" style={{ display: 'block', fontSize: 12 }}>
              {s.created_by}
            </Typography.Text>
          ) : null}
        </span>
      ),
    },
  ]
  if (manage)
    columns.push({
      title: t('common.actions'),
      key: 'actions',
      width: 90,
      render: (_, s) => (
        <span onClick={(e) => e.stopPropagation()}>
          <Popconfirm
            title={t('segments.deleteConfirm', { name: s.name })}
            okText={t('common.delete')}
            okButtonProps={{ danger: true, ...tid('confirm-ok') }}
            onConfirm={() => remove.mutateAsync(s).catch(() => undefined)}
          >
            <Button size="small" type="text" danger icon={<DeleteOutlined />} data-testid={`segment-delete-${s.id}`} aria-label={t('common.delete')} />
          </Popconfirm>
        </span>
      ),
    })

  if (segments.error && !segments.items.length) return <ErrorState error={segments.error} onRetry={() => void segments.refetch()} />

  return (
    <>
      <PageHeader
        title={t('segments.title')}
        description={t('segments.subtitle')}
        extra={
          <>
            <Button
              icon={<ReloadOutlined />}
              onClick={() => {
                void segments.refetch()
                void queryClient.invalidateQueries({ queryKey: ['segments', 'count'] })
              }}
              data-testid="segments-refresh"
            >
              {t('common.refresh')}
            </Button>
            {manage ? (
              <Button type="primary" icon={<PlusOutlined />} onClick={() => navigate('/customers/segments/new')} data-testid="segment-create">
                {t('segments.create')}
              </Button>
            ) : null}
          </>
        }
      />
      <Card>
        <Table<Segment>
          rowKey="id"
          columns={columns}
          dataSource={segments.items}
          loading={segments.isLoading}
          pagination={false}
          scroll={{ x: 900 }}
          rowClassName={() => 'clickable-row'}
          onRow={(s) => ({ ...dataAttrs({ testid: `segment-row-${s.id}`, name: s.name }), onClick: () => navigate(`/customers/segments/${s.id}`) })}
          data-testid="segments-table"
          locale={{
            emptyText: (
              <Empty image={<ClusterOutlined style={{ fontSize: 48, color: '#bfbfbf' }} />} styles={{ image: { height: 56 } }} description={t('segments.empty')} data-testid="segments-empty">
                {manage ? (
                  <Space>
                    <Button type="primary" icon={<PlusOutlined />} onClick={() => navigate('/customers/segments/new')}>
                      {t('segments.create')}
                    </Button>
                  </Space>
                ) : null}
              </Empty>
            ),
          }}
        />
        <LoadMore hasMore={!!segments.hasNextPage} loading={segments.isFetchingNextPage} onLoad={() => void segments.fetchNextPage()} count={segments.items.length} testId="segments-load-more" />
      </Card>
    </>
  )
}
