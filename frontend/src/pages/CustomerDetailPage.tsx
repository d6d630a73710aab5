import {
  ArrowLeftOutlined,
  BranchesOutlined,
  ClockCircleOutlined,
  CloudDownloadOutlined,
  DeleteOutlined,
  DisconnectOutlined,
  EditOutlined,
  LockOutlined,
  MergeCellsOutlined,
  MessageOutlined,
  QrcodeOutlined,
  SwapOutlined,
  TagsOutlined,
  UserAddOutlined,
  WarningOutlined,
} from '@ant-design/icons'
import { useQuery } from '@tanstack/react-query'
import { Button, Card, Col, Descriptions, Empty, Flex, Result, Row, Space, Table, Tag, Timeline, Tooltip, Typography } from 'antd'
import type { TableColumnsType } from 'antd'
import { useState, type ReactNode } from 'react'
import { useTranslation } from 'react-i18next'
import { Link, useLocation, useNavigate, useParams } from 'react-router-dom'
import { ApiError, getCustomer, type CustomerDetail, type CustomerIdentity, type CustomerMerge, type Follow, type TimelineEntry } from '../api'
import { useAuth } from '../auth/AuthContext'
import { PERM } from '../auth/permissions'
import { EditTagsModal, MergeModal, UnmergeModal } from '../components/customerActions'
import { useConnectionOptions } from '../components/connections'
import { CustomerOrdersCard } from '../components/customerOrders'
import { CopyField } from '../components/CopyField'
import { ChannelTag, CustomerAvatar, FollowStatusTag, GenderIcon, SourceChannel, TagList, useAddWay } from '../components/customers'
import { ErrorState, NotFound, PageLoading } from '../components/states'
import { formatDateTime, formatRelative } from '../utils/format'
import { tid } from '../utils/testid'
import { addedAt } from './CustomersPage'

const TIMELINE_STYLE: Record<string, { color: string; icon: ReactNode }> = {
  'wecom.added': { color: 'green', icon: <UserAddOutlined /> },
  'wecom.half_added': { color: 'green', icon: <UserAddOutlined /> },
  'wecom.deleted_by_customer': { color: 'red', icon: <DeleteOutlined /> },
  'wecom.deleted_by_staff': { color: 'red', icon: <DeleteOutlined /> },
  'wecom.gone': { color: 'gray', icon: <DisconnectOutlined /> },
  'wecom.synced': { color: 'blue', icon: <CloudDownloadOutlined /> },
  'channel.added': { color: 'purple', icon: <QrcodeOutlined /> },
  'channel.unknown': { color: 'orange', icon: <WarningOutlined /> },
  'channel.tagged': { color: 'blue', icon: <TagsOutlined /> },
  'tags.pushed': { color: 'blue', icon: <TagsOutlined /> },
  'tags.push_failed': { color: 'red', icon: <WarningOutlined /> },
  'channel.sticky_transfer': { color: 'purple', icon: <SwapOutlined /> },
  'channel.welcome_sent': { color: 'green', icon: <MessageOutlined /> },
  'channel.welcome_probably_sent': { color: 'green', icon: <MessageOutlined /> },
  'channel.welcome_expired': { color: 'orange', icon: <MessageOutlined /> },
  'channel.welcome_customer_chatting': { color: 'gray', icon: <MessageOutlined /> },
  'channel.welcome_failed': { color: 'red', icon: <MessageOutlined /> },
  'channel.welcome_skipped': { color: 'gray', icon: <MessageOutlined /> },
  'customer.merged': { color: 'blue', icon: <MergeCellsOutlined /> },
  'customer.unmerged': { color: 'orange', icon: <BranchesOutlined /> },
  'tags.changed': { color: 'blue', icon: <TagsOutlined /> },
}

export default function CustomerDetailPage() {
  const { id: idParam } = useParams()
  const id = Number(idParam)
  const { t } = useTranslation()
  const location = useLocation()
  const navigate = useNavigate()
  const { can } = useAuth()
  const customer = useQuery({ queryKey: ['customers', 'detail', id], queryFn: () => getCustomer(id), enabled: Number.isInteger(id) && id > 0 })

  if (!Number.isInteger(id) || id <= 0) return <NotFound />
  if (customer.isLoading) return <PageLoading />
  const err = customer.error
  if (err instanceof ApiError && err.status === 404 && typeof err.body.merged_into_id === 'number') {
    const into = err.body.merged_into_id
    return (
      <div data-testid="customer-merged-away" data-into={into}>
        <Result
          status="info"
          icon={<MergeCellsOutlined />}
          title={t('customers.mergedAway.title', { id })}
          subTitle={t('customers.mergedAway.hint', { into })}
          extra={
            <Button type="primary" onClick={() => navigate(`/customers/${into}`, { replace: true })} data-testid="customer-merged-into">
              {t('customers.mergedAway.open', { into })}
            </Button>
          }
        />
      </div>
    )
  }
  if (err || !customer.data) return <ErrorState error={err} onRetry={() => void customer.refetch()} />
  const c = customer.data

  return (
    <>
      <Link
        to="/customers"
        data-testid="customer-back"
        onClick={(e) => {
          // back to the list as it was (filters, loaded pages) when we came from it
          if ((location.state as { fromList?: boolean } | null)?.fromList) {
            e.preventDefault()
            navigate(-1)
          }
        }}
      >
        <ArrowLeftOutlined /> {t('customers.title')}
      </Link>
      <div style={{ height: 12 }} />
      <CustomerHeader c={c} />
      <Row gutter={[16, 16]} style={{ marginTop: 16 }}>
        <Col xs={24}>
          <FollowsCard follows={c.follow_staff} />
        </Col>
        {can(PERM.ordersView) ? (
          <Col xs={24}>
            <CustomerOrdersCard customer={c} />
          </Col>
        ) : null}
        <Col xs={24} xl={12}>
          <IdentitiesCard identities={c.identities} />
          {c.merges?.length ? <MergesCard c={c} /> : null}
        </Col>
        <Col xs={24} xl={12}>
          <TimelineCard entries={c.timeline} />
        </Col>
      </Row>
    </>
  )
}

function CustomerHeader({ c }: { c: CustomerDetail }) {
  const { t } = useTranslation()
  const { can } = useAuth()
  const [editing, setEditing] = useState(false)
  const [merging, setMerging] = useState(false)
  const active = c.follow_staff.filter((f) => f.status === 'active').length
  return (
    <Card
      data-testid="customer-header"
      extra={
        <Space>
          {can(PERM.customersEdit) ? (
            <Button icon={<EditOutlined />} onClick={() => setEditing(true)} data-testid="customer-edit-tags">
              {t('customers.editTags')}
            </Button>
          ) : null}
          {can(PERM.customersMerge) ? (
            <Button icon={<MergeCellsOutlined />} onClick={() => setMerging(true)} data-testid="customer-merge">
              {t('customers.merge.button')}
            </Button>
          ) : null}
        </Space>
      }
      title={<span className="muted" style={{ fontWeight: 400, fontSize: 13 }}>#{c.id}</span>}
    >
      {editing ? <EditTagsModal customer={c} onClose={() => setEditing(false)} /> : null}
      {merging ? <MergeModal customer={c} onClose={() => setMerging(false)} /> : null}
      <Flex gap={20} align="center" wrap>
        <CustomerAvatar src={c.avatar_url} size={72} />
        <div style={{ flex: 1, minWidth: 240 }}>
          <Space align="center">
            <Typography.Title level={3} style={{ margin: 0 }} data-testid="customer-name">
              {c.name || t('customers.unnamed')}
            </Typography.Title>
            <GenderIcon gender={c.gender} />
            {c.corp_name ? <Tag>@{c.corp_name}</Tag> : null}
          </Space>
          <div style={{ marginTop: 8 }}>
            <TagList tags={c.tags} testId="customer-tags" emptyText={t('customers.noTags')} />
          </div>
        </div>
        <Descriptions
          size="small"
          column={1}
          style={{ width: 320 }}
          items={[
            { key: 'gender', label: t('customers.genderLabel'), children: t(`customers.gender.${c.gender}`, { defaultValue: t('customers.gender.0') }) },
            { key: 'added', label: t('customers.addedAt'), children: formatDateTime(addedAt(c)) },
            { key: 'source', label: t('customers.sourceChannel'), children: <SourceChannel customer={c} testId="customer-source" /> },
            ...(c.store || c.region
              ? [{ key: 'store', label: t('customers.storeRegion'), children: <span data-testid="customer-store">{[c.store, c.region].filter(Boolean).join(' · ')}</span> }]
              : []),
            {
              key: 'follows',
              label: t('customers.followCount'),
              children: (
                <span data-testid="customer-follow-count" data-value={active}>
                  {t('customers.followCountValue', { active, total: c.follow_staff.length })}
                </span>
              ),
            },
          ]}
        />
      </Flex>
    </Card>
  )
}

function FollowsCard({ follows }: { follows: Follow[] }) {
  const { t } = useTranslation()
  const addWay = useAddWay()
  const { connections, nameOf } = useConnectionOptions()
  const columns: TableColumnsType<Follow> = [
    {
      title: t('customers.staff'),
      key: 'staff',
      width: 150,
      render: (_, f) => (
        <span>
          <div>{f.staff_name || f.staff_userid}</div>
          <Typography.Text type="secondary" style={{ fontSize: 12 }}>
            {f.staff_userid}
          </Typography.Text>
        </span>
      ),
    },
    {
      title: t('customers.remark'),
      key: 'remark',
      render: (_, f) =>
        f.remark || f.description ? (
          <span>
            {f.remark ? <div>{f.remark}</div> : null}
            {f.description ? (
              <Typography.Text type="secondary" style={{ fontSize: 12 }}>
                {f.description}
              </Typography.Text>
            ) : null}
          </span>
        ) : (
          <span className="muted">—</span>
        ),
    },
    {
      title: t('customers.source'),
      key: 'source',
      width: 170,
      render: (_, f) => (
        <Space size={4} wrap>
          <ChannelTag follow={f} />
          {f.add_way != null ? <Typography.Text type="secondary">{addWay(f.add_way)}</Typography.Text> : null}
        </Space>
      ),
    },
    { title: t('common.status'), dataIndex: 'status', width: 130, render: (v: string, f) => <FollowStatusTag status={v} testId={`follow-status-${f.staff_userid}`} /> },
    { title: t('customers.tags'), key: 'tags', render: (_, f) => <TagList tags={f.tags} /> },
    {
      title: t('customers.followedAt'),
      key: 'at',
      width: 170,
      render: (_, f) => (
        <span>
          <div>{formatDateTime(f.followed_at)}</div>
          {f.deleted_at ? (
            <Typography.Text type="danger" style={{ fontSize: 12 }}>
              {t('customers.deletedAt', { time: formatDateTime(f.deleted_at) })}
            </Typography.Text>
          ) : null}
        </span>
      ),
    },
  ]
  if (connections.length > 1) columns.splice(1, 0, { title: t('customers.connection'), dataIndex: 'connection_id', width: 140, render: (v: number) => nameOf(v) })
  return (
    <Card title={t('customers.followStaff')} size="small">
      <Table<Follow>
        rowKey={(f) => `${f.connection_id}-${f.staff_userid}`}
        size="small"
        columns={columns}
        dataSource={follows}
        pagination={false}
        scroll={{ x: 800 }}
        data-testid="customer-follows"
        onRow={(f) => ({ ...tid(`customer-follow-row-${f.staff_userid}`) })}
        locale={{ emptyText: <Empty image={Empty.PRESENTED_IMAGE_SIMPLE} description={t('customers.noFollows')} /> }}
      />
    </Card>
  )
}

function IdentitiesCard({ identities }: { identities: CustomerIdentity[] }) {
  const { t } = useTranslation()
  return (
    <Card title={t('customers.identities')} size="small" data-testid="customer-identities">
      {identities.length ? (
        <Descriptions
          column={1}
          size="small"
          bordered
          styles={{ label: { width: 190 } }}
          items={identities.map((i, n) => {
            // customer-identity-{kind}, then -2, -3… for more of the same kind (one external_userid per corp)
            const nth = identities.slice(0, n).filter((x) => x.kind === i.kind).length
            const testId = `customer-identity-${i.kind}${nth ? `-${nth + 1}` : ''}`
            return {
              key: `${i.kind}-${i.namespace}-${n}`,
              label: (
                <span>
                  <div>{t(`customers.identityKind.${i.kind}`, { defaultValue: i.kind })}</div>
                  {i.namespace ? (
                    <Typography.Text type="secondary" style={{ fontSize: 12 }}>
                      {i.kind === 'wecom_external_userid' ? t('customers.inCorp', { corp: i.namespace }) : i.namespace}
                    </Typography.Text>
                  ) : null}
                </span>
              ),
              children:
                i.kind === 'phone' && i.value.includes('*') ? (
                  <Tooltip title={t('customers.phoneMasked')}>
                    <span data-testid={testId} data-masked="true">
                      {i.value} <LockOutlined className="muted" />
                    </span>
                  </Tooltip>
                ) : (
                  <CopyField value={i.value} testId={testId} />
                ),
            }
          })}
        />
      ) : (
        <Empty image={Empty.PRESENTED_IMAGE_SIMPLE} description={t('customers.noIdentities')} />
      )}
    </Card>
  )
}

/** A localised line for known event kinds; the server's (Chinese) summary otherwise. */
function useTimelineText() {
  const { t, i18n } = useTranslation()
  return (e: TimelineEntry): string => {
    const d = (e.detail ?? {}) as Record<string, unknown>
    const str = (v: unknown) => (typeof v === 'string' || typeof v === 'number' ? String(v) : '')
    const failed = d.failed && typeof d.failed === 'object' ? Object.keys(d.failed).join(', ') : ''
    const userid = str(d.userid) || str(d.staff_userid) || (e.kind === 'tags.push_failed' ? failed : Array.isArray(d.pushed) ? d.pushed.join(', ') : '')
    const key = `customers.timelineKinds.${e.kind}`
    if (i18n.language !== 'en' || !i18n.exists(key)) return e.summary
    let text = t(key, {
      userid,
      state: str(d.state),
      variant: str(d.variant) || t('channels.preview.default'),
      merged: str(d.merged_id),
      survivor: str(d.survivor_id),
      error: str(d.error),
      added: Array.isArray(d.added) && d.added.length ? `+${d.added.join(', +')} ` : '',
      removed: Array.isArray(d.removed) && d.removed.length ? `−${d.removed.join(', −')}` : '',
    })
    if (e.kind.startsWith('wecom.') && typeof d.state === 'string' && d.state) text += ` ${t('customers.timelineVia', { state: d.state })}`
    if (typeof d.source === 'string' && d.source) text += ` (${d.source})`
    return text
  }
}

function TimelineCard({ entries }: { entries: TimelineEntry[] }) {
  const { t } = useTranslation()
  const text = useTimelineText()
  return (
    <Card
      title={
        <Space>
          <ClockCircleOutlined />
          {t('customers.timeline')}
        </Space>
      }
      size="small"
      data-testid="customer-timeline"
      data-count={entries.length}
    >
      {entries.length ? (
        <Timeline
          style={{ marginTop: 8 }}
          items={entries.map((e, i) => {
            const style = TIMELINE_STYLE[e.kind] ?? { color: 'blue', icon: undefined }
            return {
              key: `${e.occurred_at}-${i}`,
              color: style.color,
              dot: style.icon,
              children: (
                <div data-testid="customer-timeline-item" data-kind={e.kind}>
                  <div>{text(e)}</div>
                  {typeof e.detail.text === 'string' && e.detail.text ? (
                    <Typography.Paragraph type="secondary" ellipsis={{ rows: 2, expandable: true }} style={{ margin: '2px 0', whiteSpace: 'pre-wrap' }} data-testid="customer-timeline-text">
                      {e.detail.text}
                    </Typography.Paragraph>
                  ) : null}
                  <Tooltip title={formatDateTime(e.occurred_at)}>
                    <Typography.Text type="secondary" className="customer-timeline-detail">
                      {formatDateTime(e.occurred_at)} · {formatRelative(e.occurred_at)}
                    </Typography.Text>
                  </Tooltip>
                </div>
              ),
            }
          })}
        />
      ) : (
        <Empty image={Empty.PRESENTED_IMAGE_SIMPLE} description={t('customers.noTimeline')} data-testid="customer-timeline-empty" />
      )}
    </Card>
  )
}

function MergesCard({ c }: { c: CustomerDetail }) {
  const { t } = useTranslation()
  const { can } = useAuth()
  const [undoing, setUndoing] = useState<CustomerMerge | null>(null)
  const columns: TableColumnsType<CustomerMerge> = [
    {
      title: t('customers.merge.what'),
      key: 'what',
      render: (_, m) =>
        m.survivor_id === c.id ? (
          <span>
            {t('customers.merge.mergedIn')}{' '}
            <Link to={`/customers/${m.merged_id}`} data-testid={`customer-merge-other-${m.id}`}>
              #{m.merged_id}
            </Link>
          </span>
        ) : (
          <span>
            {t('customers.merge.mergedInto')}{' '}
            <Link to={`/customers/${m.survivor_id}`}>#{m.survivor_id}</Link>
          </span>
        ),
    },
    {
      title: t('customers.merge.reasonCol'),
      key: 'reason',
      render: (_, m) => (
        <span>
          <Tag>{t(`customers.merge.rule.${m.rule}`, { defaultValue: m.rule })}</Tag>
          {m.reason}
          <Typography.Text type="secondary" style={{ display: 'block', fontSize: 12 }}>
            {m.actor} · {formatDateTime(m.created_at)}
          </Typography.Text>
        </span>
      ),
    },
    {
      title: t('common.status'),
      key: 'status',
      width: 170,
      render: (_, m) =>
        m.undone_at ? (
          <Tooltip title={m.undo_reason}>
            <Tag color="orange" data-testid={`customer-merge-status-${m.id}`} data-status={m.status}>
              {t('customers.merge.undone', { time: formatDateTime(m.undone_at) })}
            </Tag>
          </Tooltip>
        ) : (
          <Tag color="blue" data-testid={`customer-merge-status-${m.id}`} data-status={m.status}>
            {t('customers.merge.active')}
          </Tag>
        ),
    },
  ]
  if (can(PERM.customersMerge))
    columns.push({
      title: t('common.actions'),
      key: 'actions',
      width: 90,
      render: (_, m) =>
        !m.undone_at && m.survivor_id === c.id ? (
          <Button size="small" icon={<BranchesOutlined />} onClick={() => setUndoing(m)} data-testid={`customer-unmerge-${m.id}`}>
            {t('customers.merge.unmerge')}
          </Button>
        ) : null,
    })
  return (
    <Card
      title={
        <Space>
          <MergeCellsOutlined />
          {t('customers.merge.history')}
        </Space>
      }
      size="small"
      style={{ marginTop: 16 }}
      data-testid="customer-merges"
    >
      <Table<CustomerMerge>
        rowKey="id"
        size="small"
        columns={columns}
        dataSource={c.merges ?? []}
        pagination={false}
        onRow={(m) => ({ ...({ 'data-testid': `customer-merge-row-${m.id}` } as object) })}
        expandable={{
          rowExpandable: (m) => m.explanation.length > 0,
          expandedRowRender: (m) => (
            <ul style={{ margin: 0, paddingInlineStart: 18 }}>
              {m.explanation.map((x, i) => (
                <li key={i}>
                  {Object.entries(x)
                    .filter(([, v]) => v !== null && v !== '' && !(Array.isArray(v) && !v.length))
                    .map(([k, v]) => `${k}: ${typeof v === 'object' ? JSON.stringify(v) : String(v)}`)
                    .join(' · ')}
                </li>
              ))}
            </ul>
          ),
        }}
      />
      {undoing ? <UnmergeModal customer={c} merge={undoing} onClose={() => setUndoing(null)} /> : null}
    </Card>
  )
}
