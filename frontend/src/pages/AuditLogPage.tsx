import { ReloadOutlined, SearchOutlined } from '@ant-design/icons'
import { Button, Card, Descriptions, Empty, Form, Input, Space, Table, Tag, Typography } from 'antd'
import type { TableColumnsType } from 'antd'
import { useState } from 'react'
import { useTranslation } from 'react-i18next'
import { listAuditLog, type AuditEntry } from '../api'
import { JsonBlock } from '../components/JsonBlock'
import { LoadMore } from '../components/LoadMore'
import { PageHeader } from '../components/PageHeader'
import { ErrorState } from '../components/states'
import { useCursorList } from '../components/useCursorList'
import { formatDateTime } from '../utils/format'

interface Filters {
  action?: string
  actor?: string
}

export default function AuditLogPage() {
  const { t } = useTranslation()
  const [form] = Form.useForm<Filters>()
  const [filters, setFilters] = useState<Filters>({})
  const log = useCursorList(['audit-log', filters], (cursor) =>
    listAuditLog({ limit: 50, cursor, action: filters.action || undefined, actor: filters.actor || undefined }),
  )

  const columns: TableColumnsType<AuditEntry> = [
    { title: t('audit.time'), dataIndex: 'created_at', width: 190, render: (v: string) => formatDateTime(v) },
    {
      title: t('audit.actor'),
      dataIndex: 'actor',
      render: (v: string, e) => (
        <Space direction="vertical" size={0}>
          <span>{e.actor_name || v}</span>
          {e.actor_name ? (
            <Typography.Text type="secondary" style={{ fontSize: 12 }}>
              {v}
            </Typography.Text>
          ) : null}
        </Space>
      ),
    },
    { title: t('audit.action'), dataIndex: 'action', render: (v: string) => <Tag color="blue">{v}</Tag> },
    {
      title: t('audit.target'),
      key: 'target',
      render: (_, e) => (e.target_type ? `${e.target_type}${e.target_id ? ` #${e.target_id}` : ''}` : '—'),
    },
    { title: t('audit.ip'), dataIndex: 'ip', render: (v?: string | null) => v || '—' },
  ]

  const onSearch = (v: Filters) => setFilters({ action: v.action?.trim(), actor: v.actor?.trim() })

  return (
    <>
      <PageHeader
        title={t('audit.title')}
        extra={
          <Button icon={<ReloadOutlined />} onClick={() => void log.refetch()} data-testid="audit-refresh">
            {t('common.refresh')}
          </Button>
        }
      />
      <Card style={{ marginBottom: 16 }}>
        <Form<Filters> form={form} layout="inline" onFinish={onSearch} data-testid="audit-filters">
          <Form.Item name="action" label={t('audit.filterAction')}>
            <Input allowClear placeholder={t('audit.filterActionPlaceholder')} data-testid="audit-filter-action" />
          </Form.Item>
          <Form.Item name="actor" label={t('audit.filterActor')}>
            <Input allowClear placeholder={t('audit.filterActorPlaceholder')} data-testid="audit-filter-actor" />
          </Form.Item>
          <Form.Item>
            <Space>
              <Button type="primary" htmlType="submit" icon={<SearchOutlined />} data-testid="audit-filter-submit">
                {t('common.search')}
              </Button>
              <Button
                onClick={() => {
                  form.resetFields()
                  setFilters({})
                }}
                data-testid="audit-filter-reset"
              >
                {t('common.reset')}
              </Button>
            </Space>
          </Form.Item>
        </Form>
      </Card>
      <Card>
        {log.error && !log.items.length ? (
          <ErrorState error={log.error} onRetry={() => void log.refetch()} />
        ) : (
          <>
            <Table<AuditEntry>
              rowKey="id"
              columns={columns}
              dataSource={log.items}
              loading={log.isLoading}
              pagination={false}
              scroll={{ x: 800 }}
              data-testid="audit-table"
              locale={{ emptyText: <Empty description={t('audit.empty')} /> }}
              expandable={{
                expandedRowRender: (e) => (
                  <Space direction="vertical" style={{ width: '100%' }}>
                    <Descriptions size="small" column={1} bordered>
                      <Descriptions.Item label={t('audit.userAgent')}>{e.user_agent || '—'}</Descriptions.Item>
                    </Descriptions>
                    <Typography.Text strong>{t('audit.detail')}</Typography.Text>
                    <JsonBlock value={e.detail} testId={`audit-detail-${e.id}`} />
                  </Space>
                ),
              }}
            />
            <LoadMore
              hasMore={!!log.hasNextPage}
              loading={log.isFetchingNextPage}
              onLoad={() => void log.fetchNextPage()}
              count={log.items.length}
              testId="audit-load-more"
            />
          </>
        )}
      </Card>
    </>
  )
}
