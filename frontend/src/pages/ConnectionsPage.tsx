import { ApiOutlined, PlusOutlined, ReloadOutlined, WechatWorkOutlined } from '@ant-design/icons'
import { Button, Card, Empty, Modal, Space, Table, Tag, Tooltip, Typography } from 'antd'
import type { TableColumnsType } from 'antd'
import { useState } from 'react'
import { useTranslation } from 'react-i18next'
import { Link, useNavigate } from 'react-router-dom'
import { listConnections, type Connection } from '../api'
import { useAuth } from '../auth/AuthContext'
import { PERM } from '../auth/permissions'
import { CallbackCredentials, ConnectionStatusBadge, WecomConnectionModal } from '../components/connections'
import { LoadMore } from '../components/LoadMore'
import { PageHeader } from '../components/PageHeader'
import { ErrorState } from '../components/states'
import { useCursorList } from '../components/useCursorList'
import { formatDateTime, formatRelative } from '../utils/format'
import { tid } from '../utils/testid'

/** The config field naming the shop on its platform (as the API's SHOP_ID_FIELDS). */
const SHOP_ID_FIELDS: Record<string, string> = { youzan: 'kdt_id', taobao: 'seller_id', douyin: 'shop_id', jd: 'vender_id', pdd: 'mall_id' }

export function PlatformTag({ platform }: { platform: string }) {
  const { t } = useTranslation()
  return (
    <Tag icon={platform === 'wecom' ? <WechatWorkOutlined /> : <ApiOutlined />} color={platform === 'wecom' ? 'green' : 'default'}>
      {t(`connections.platforms.${platform}`, { defaultValue: platform })}
    </Tag>
  )
}

export default function ConnectionsPage() {
  const { t } = useTranslation()
  const { can } = useAuth()
  const manage = can(PERM.connectionsManage)
  const navigate = useNavigate()
  const list = useCursorList(['connections', 'list'], (cursor) => listConnections({ limit: 50, cursor }))
  const [creating, setCreating] = useState(false)
  const [created, setCreated] = useState<Connection | null>(null)

  const columns: TableColumnsType<Connection> = [
    {
      title: t('connections.name'),
      dataIndex: 'name',
      width: 260,
      render: (v: string, c) => (
        <Link to={`/settings/connections/${c.id}`} data-testid={`connection-link-${c.id}`}>
          {v}
        </Link>
      ),
    },
    { title: t('connections.platform'), dataIndex: 'platform', width: 120, render: (v: string) => <PlatformTag platform={v} /> },
    {
      title: t('connections.accountId'),
      key: 'corp',
      render: (_, c) => {
        const cfg = c.config as Record<string, unknown>
        const value = cfg.corp_id ?? cfg[SHOP_ID_FIELDS[c.platform] ?? ''] ?? '—'
        return <Typography.Text code>{String(value)}</Typography.Text>
      },
    },
    {
      title: t('common.status'),
      dataIndex: 'status',
      width: 110,
      render: (v: string, c) => <ConnectionStatusBadge status={v} testId={`connection-status-${c.id}`} />,
    },
    {
      title: t('connections.lastError'),
      dataIndex: 'last_error',
      ellipsis: { showTitle: false },
      render: (v: string | null, c) =>
        v ? (
          <Tooltip title={<span style={{ whiteSpace: 'pre-wrap' }}>{`${formatDateTime(c.last_error_at)}\n${v}`}</span>}>
            <Typography.Text type="danger" data-testid={`connection-last-error-${c.id}`}>
              {formatRelative(c.last_error_at, '')} · {v}
            </Typography.Text>
          </Tooltip>
        ) : (
          <span className="muted">—</span>
        ),
    },
    { title: t('connections.updatedAt'), dataIndex: 'updated_at', width: 170, render: (v: string) => formatDateTime(v) },
    {
      title: t('common.actions'),
      key: 'actions',
      width: 100,
      render: (_, c) => (
        <Button type="link" size="small" onClick={() => navigate(`/settings/connections/${c.id}`)} data-testid={`connection-open-${c.id}`}>
          {t('connections.details')}
        </Button>
      ),
    },
  ]

  if (list.error && !list.items.length) return <ErrorState error={list.error} onRetry={() => void list.refetch()} />

  return (
    <>
      <PageHeader
        title={t('connections.title')}
        description={t('connections.subtitle')}
        extra={
          <>
            <Button icon={<ReloadOutlined />} onClick={() => void list.refetch()} data-testid="connections-refresh">
              {t('common.refresh')}
            </Button>
            {manage ? (
              <Button type="primary" icon={<PlusOutlined />} onClick={() => setCreating(true)} data-testid="connection-create">
                {t('connections.create')}
              </Button>
            ) : null}
          </>
        }
      />
      <Card>
        <Table<Connection>
          rowKey="id"
          columns={columns}
          dataSource={list.items}
          loading={list.isLoading}
          pagination={false}
          scroll={{ x: 960 }}
          data-testid="connections-table"
          onRow={(c) => ({ ...tid(`connection-row-${c.id}`) })}
          locale={{
            emptyText: (
              <Empty description={t('connections.empty')} data-testid="connections-empty">
                {manage ? (
                  <Button type="primary" icon={<PlusOutlined />} onClick={() => setCreating(true)}>
                    {t('connections.create')}
                  </Button>
                ) : null}
              </Empty>
            ),
          }}
        />
        <LoadMore
          hasMore={!!list.hasNextPage}
          loading={list.isFetchingNextPage}
          onLoad={() => void list.fetchNextPage()}
          count={list.items.length}
          testId="connections-load-more"
        />
      </Card>
      {creating ? (
        <WecomConnectionModal
          connection={null}
          onClose={() => setCreating(false)}
          onDone={(c) => {
            setCreating(false)
            setCreated(c)
          }}
        />
      ) : null}
      {created ? (
        <Modal
          open
          width={720}
          title={t('connections.createdTitle', { name: created.name })}
          onCancel={() => setCreated(null)}
          footer={
            <Space>
              <Button onClick={() => setCreated(null)} data-testid="connection-created-close">
                {t('common.close')}
              </Button>
              <Button type="primary" onClick={() => navigate(`/settings/connections/${created.id}`)} data-testid="connection-created-open">
                {t('connections.openDetails')}
              </Button>
            </Space>
          }
          data-testid="connection-created-modal"
        >
          <Typography.Paragraph>{t('connections.createdHint')}</Typography.Paragraph>
          <CallbackCredentials connection={created} />
        </Modal>
      ) : null}
    </>
  )
}
