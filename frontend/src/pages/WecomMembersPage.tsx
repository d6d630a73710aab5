import { ApartmentOutlined, DisconnectOutlined, LinkOutlined, ReloadOutlined, UserOutlined } from '@ant-design/icons'
import { useMutation, useQueries, useQuery, useQueryClient } from '@tanstack/react-query'
import { App, Avatar, Button, Card, Col, Empty, Flex, Form, Input, Modal, Popconfirm, Row, Segmented, Select, Space, Table, Tag, Tooltip, Tree, Typography } from 'antd'
import type { TableColumnsType } from 'antd'
import { useEffect, useMemo, useState } from 'react'
import { useTranslation } from 'react-i18next'
import { Link } from 'react-router-dom'
import { getUser, linkStaffUser, listUsers, listWecomDepartments, listWecomStaff, type User, type WecomDepartment, type WecomStaff } from '../api'
import { useAuth } from '../auth/AuthContext'
import { PERM } from '../auth/permissions'
import { ConnectionSelect, useConnectionOptions } from '../components/connections'
import { LoadMore } from '../components/LoadMore'
import { PageHeader } from '../components/PageHeader'
import { ErrorState } from '../components/states'
import { useApiError } from '../components/useApiError'
import { useCursorList } from '../components/useCursorList'
import { formatDateTime } from '../utils/format'
import { tid } from '../utils/testid'

interface WecomDeptNode {
  key: string
  title: string
  children?: WecomDeptNode[]
}

/** `{connection_id}:{wecom_id}` keys: department ids are only unique within one corp. */
const deptKey = (connectionId: number, wecomId: number) => `${connectionId}:${wecomId}`

function buildWecomTree(depts: WecomDepartment[], groupBy: ((connectionId: number) => string) | null): WecomDeptNode[] {
  const perConnection = new Map<number, WecomDepartment[]>()
  for (const d of depts) perConnection.set(d.connection_id, [...(perConnection.get(d.connection_id) ?? []), d])
  const out: WecomDeptNode[] = []
  for (const [cid, list] of perConnection) {
    const ids = new Set(list.map((d) => d.wecom_id))
    const children = new Map<number | null, WecomDepartment[]>()
    for (const d of list) {
      const parent = d.parent_wecom_id != null && ids.has(d.parent_wecom_id) && d.parent_wecom_id !== d.wecom_id ? d.parent_wecom_id : null
      children.set(parent, [...(children.get(parent) ?? []), d])
    }
    const seen = new Set<number>()
    const walk = (parent: number | null): WecomDeptNode[] =>
      (children.get(parent) ?? [])
        .filter((d) => !seen.has(d.wecom_id))
        .map((d) => {
          seen.add(d.wecom_id)
          const kids = walk(d.wecom_id)
          return { key: deptKey(cid, d.wecom_id), title: d.name, children: kids.length ? kids : undefined }
        })
    const roots = walk(null)
    for (const d of list) if (!seen.has(d.wecom_id)) roots.push({ key: deptKey(cid, d.wecom_id), title: d.name })
    if (groupBy) out.push({ key: `c${cid}`, title: groupBy(cid), children: roots })
    else out.push(...roots)
  }
  return out
}

type ContactFilter = 'all' | 'yes' | 'no'

export default function WecomMembersPage() {
  const { t } = useTranslation()
  const { can } = useAuth()
  const manage = can(PERM.usersManage)
  const { connections, nameOf } = useConnectionOptions()
  const [connectionId, setConnectionId] = useState<number | undefined>()
  const [search, setSearch] = useState('')
  const [contact, setContact] = useState<ContactFilter>('all')
  const [dept, setDept] = useState<{ connectionId: number; wecomId: number } | null>(null)
  const [linking, setLinking] = useState<WecomStaff | null>(null)

  const departments = useQuery({
    queryKey: ['wecom-departments', connectionId ?? null],
    queryFn: () => listWecomDepartments(connectionId),
  })
  const multiCorp = new Set((departments.data ?? []).map((d) => d.connection_id)).size > 1
  const tree = useMemo(() => buildWecomTree(departments.data ?? [], multiCorp ? (cid) => nameOf(cid) : null), [departments.data, multiCorp, nameOf])
  const deptNames = useMemo(() => {
    const m = new Map<string, string>()
    for (const d of departments.data ?? []) m.set(deptKey(d.connection_id, d.wecom_id), d.name)
    return m
  }, [departments.data])

  const filterConnection = dept?.connectionId ?? connectionId
  const members = useCursorList(['wecom-staff', filterConnection ?? null, search, contact, dept?.wecomId ?? null], (cursor) =>
    listWecomStaff({
      limit: 50,
      cursor,
      connection_id: filterConnection,
      q: search || undefined,
      has_customer_contact: contact === 'all' ? undefined : contact === 'yes',
      department: dept?.wecomId,
    }),
  )
  // The department filter thins each page after paging (API), so a page can come back short: keep reading.
  const { hasNextPage, isFetchingNextPage, fetchNextPage } = members
  useEffect(() => {
    if (dept && hasNextPage && !isFetchingNextPage && members.items.length < 20) void fetchNextPage()
  }, [dept, hasNextPage, isFetchingNextPage, fetchNextPage, members.items.length])

  // names of linked console users
  const users = useQuery({ queryKey: ['users', 'picker', ''], queryFn: () => listUsers({ limit: 200 }), enabled: can(PERM.usersView) })
  const known = new Map<number, User>((users.data?.items ?? []).map((u) => [u.id, u]))
  const missing = [...new Set(members.items.map((m) => m.user_id).filter((x): x is number => x != null && !known.has(x)))]
  const extra = useQueries({ queries: missing.map((uid) => ({ queryKey: ['user', uid], queryFn: () => getUser(uid), staleTime: 60_000 })) })
  for (const q of extra) if (q.data) known.set(q.data.id, q.data)

  const columns: TableColumnsType<WecomStaff> = [
    {
      title: t('wecomMembers.member'),
      key: 'member',
      width: 220,
      render: (_, m) => (
        <Space>
          <Avatar src={m.avatar_url || undefined} icon={<UserOutlined />} style={{ backgroundColor: '#d9d9d9', flex: 'none' }} />
          <span>
            <div>{m.name}</div>
            <Typography.Text type="secondary" style={{ fontSize: 12 }}>
              {m.userid}
              {m.position ? ` · ${m.position}` : ''}
            </Typography.Text>
          </span>
        </Space>
      ),
    },
    {
      title: t('wecomMembers.departments'),
      dataIndex: 'department_ids',
      render: (ids: number[], m) =>
        ids.length ? (
          <Space size={[0, 4]} wrap>
            {ids.map((d) => (
              <Tag key={d}>{deptNames.get(deptKey(m.connection_id, d)) ?? `#${d}`}</Tag>
            ))}
          </Space>
        ) : (
          <span className="muted">—</span>
        ),
    },
    ...(connections.length > 1
      ? [{ title: t('wecomMembers.connection'), dataIndex: 'connection_id', width: 150, render: (v: number) => nameOf(v) }]
      : []),
    {
      title: t('wecomMembers.customerContact'),
      dataIndex: 'has_customer_contact',
      width: 100,
      render: (v: boolean, m) => (
        <Tag color={v ? 'blue' : 'default'} data-testid={`member-contact-${m.id}`} data-value={String(v)}>
          {v ? t('wecomMembers.contactOn') : t('wecomMembers.contactOff')}
        </Tag>
      ),
    },
    {
      title: t('common.status'),
      dataIndex: 'status',
      width: 90,
      render: (v: string, m) => (
        <Tooltip title={t('wecomMembers.syncedAtValue', { time: formatDateTime(m.synced_at) })}>
          <Tag color={v === 'active' ? 'green' : v === 'left' ? 'default' : 'orange'} data-testid={`member-status-${m.id}`} data-status={v}>
            {t(`wecomMembers.status.${v}`, { defaultValue: v })}
          </Tag>
        </Tooltip>
      ),
    },
    {
      title: t('wecomMembers.linkedUser'),
      dataIndex: 'user_id',
      width: 200,
      render: (v: number | null, m) =>
        v != null ? (
          <span data-testid={`member-linked-${m.id}`} data-user-id={v}>
            <LinkOutlined style={{ color: '#1677ff', marginRight: 6 }} />
            {known.get(v)?.display_name ?? `#${v}`}
            {known.get(v) ? (
              <Typography.Text type="secondary" style={{ fontSize: 12, display: 'block' }}>
                {known.get(v)?.email}
              </Typography.Text>
            ) : null}
          </span>
        ) : (
          <span className="muted" data-testid={`member-linked-${m.id}`} data-user-id="">
            {t('wecomMembers.notLinked')}
          </span>
        ),
    },
  ]
  if (manage) {
    columns.push({
      title: t('common.actions'),
      key: 'actions',
      fixed: 'right',
      width: 130,
      render: (_, m) => (
        <Button type="link" size="small" icon={<LinkOutlined />} onClick={() => setLinking(m)} data-testid={`member-link-${m.id}`}>
          {m.user_id != null ? t('wecomMembers.changeLink') : t('wecomMembers.link')}
        </Button>
      ),
    })
  }

  if (members.error && !members.items.length) return <ErrorState error={members.error} onRetry={() => void members.refetch()} />

  const filtered = !!(search || contact !== 'all' || dept || connectionId)

  return (
    <>
      <PageHeader
        title={t('wecomMembers.title')}
        description={t('wecomMembers.subtitle')}
        extra={
          <Button icon={<ReloadOutlined />} onClick={() => void members.refetch()} data-testid="wecom-members-refresh">
            {t('common.refresh')}
          </Button>
        }
      />
      <Row gutter={16}>
        <Col xs={24} lg={6}>
          <Card
            size="small"
            style={{ marginBottom: 16 }}
            title={
              <Space>
                <ApartmentOutlined />
                {t('wecomMembers.departmentsTitle')}
              </Space>
            }
            extra={
              dept ? (
                <Button type="link" size="small" onClick={() => setDept(null)} data-testid="wecom-department-clear">
                  {t('wecomMembers.allDepartments')}
                </Button>
              ) : null
            }
            data-testid="wecom-department-panel"
          >
            {departments.isLoading ? null : tree.length ? (
              <Tree
                treeData={tree}
                defaultExpandAll
                blockNode
                selectedKeys={dept ? [deptKey(dept.connectionId, dept.wecomId)] : []}
                onSelect={(keys) => {
                  const k = String(keys[0] ?? '')
                  const m = /^(\d+):(\d+)$/.exec(k)
                  setDept(m ? { connectionId: Number(m[1]), wecomId: Number(m[2]) } : null)
                }}
                titleRender={(n) => <span data-testid={`wecom-department-${n.key}`}>{n.title}</span>}
                data-testid="wecom-department-tree"
              />
            ) : (
              <Empty image={Empty.PRESENTED_IMAGE_SIMPLE} description={t('wecomMembers.noDepartments')} />
            )}
          </Card>
        </Col>
        <Col xs={24} lg={18}>
          <Card>
            <Flex wrap gap={12} style={{ marginBottom: 16 }} align="center">
              {connections.length > 1 ? (
                <ConnectionSelect
                  value={connectionId}
                  onChange={(v) => {
                    setConnectionId(v)
                    setDept(null)
                  }}
                  allowClear
                  placeholder={t('wecomMembers.allConnections')}
                  style={{ width: 220 }}
                  testId="wecom-members-connection"
                />
              ) : null}
              <Input.Search
                allowClear
                placeholder={t('wecomMembers.searchPlaceholder')}
                onSearch={(v) => setSearch(v.trim())}
                style={{ width: 280 }}
                data-testid="wecom-members-search"
              />
              <Space>
                <Typography.Text type="secondary">{t('wecomMembers.customerContact')}</Typography.Text>
                <Segmented<ContactFilter>
                  value={contact}
                  onChange={setContact}
                  data-testid="wecom-members-contact"
                  options={[
                    { value: 'all', label: <span data-testid="wecom-members-contact-all">{t('wecomMembers.all')}</span> },
                    { value: 'yes', label: <span data-testid="wecom-members-contact-yes">{t('wecomMembers.contactOn')}</span> },
                    { value: 'no', label: <span data-testid="wecom-members-contact-no">{t('wecomMembers.contactOff')}</span> },
                  ]}
                />
              </Space>
            </Flex>
            <Table<WecomStaff>
              rowKey="id"
              columns={columns}
              dataSource={members.items}
              loading={members.isLoading}
              pagination={false}
              scroll={{ x: 900 }}
              data-testid="wecom-members-table"
              onRow={(m) => ({ ...tid(`member-row-${m.id}`) })}
              locale={{
                emptyText: (
                  <Empty description={filtered ? t('wecomMembers.noMatch') : t('wecomMembers.empty')} data-testid="wecom-members-empty">
                    {!filtered && can(PERM.connectionsView) ? (
                      <Link to="/settings/connections">
                        <Button type="primary">{t('layout.connections')}</Button>
                      </Link>
                    ) : null}
                  </Empty>
                ),
              }}
            />
            <LoadMore
              hasMore={!!members.hasNextPage}
              loading={members.isFetchingNextPage}
              onLoad={() => void members.fetchNextPage()}
              count={members.items.length}
              testId="wecom-members-load-more"
            />
          </Card>
        </Col>
      </Row>
      {linking ? <LinkUserModal member={linking} current={linking.user_id != null ? known.get(linking.user_id) : undefined} onClose={() => setLinking(null)} /> : null}
    </>
  )
}

function LinkUserModal({ member, current, onClose }: { member: WecomStaff; current?: User; onClose: () => void }) {
  const { t } = useTranslation()
  const queryClient = useQueryClient()
  const { message } = App.useApp()
  const showError = useApiError()
  const [form] = Form.useForm<{ user_id?: number }>()
  const [q, setQ] = useState('')
  const users = useQuery({ queryKey: ['users', 'picker', q], queryFn: () => listUsers({ limit: 50, q: q || undefined }) })
  const options = (users.data?.items ?? []).map((u) => ({ value: u.id, label: `${u.display_name} · ${u.email}`, disabled: !u.is_active }))
  if (current && !options.some((o) => o.value === current.id)) options.unshift({ value: current.id, label: `${current.display_name} · ${current.email}`, disabled: false })

  const save = useMutation({
    mutationFn: (userId: number | null) => linkStaffUser(member.id, userId),
    onSuccess: (_, userId) => {
      void message.success(userId == null ? t('wecomMembers.unlinked', { name: member.name }) : t('wecomMembers.linked', { name: member.name }))
      void queryClient.invalidateQueries({ queryKey: ['wecom-staff'] })
      onClose()
    },
    onError: (e) => showError(e, form),
  })

  return (
    <Modal
      open
      title={t('wecomMembers.linkTitle', { name: member.name })}
      onCancel={onClose}
      destroyOnHidden
      data-testid="member-link-modal"
      footer={
        <Flex justify="space-between">
          {member.user_id != null ? (
            <Popconfirm
              title={t('wecomMembers.unlinkConfirm', { name: member.name })}
              description={t('wecomMembers.unlinkHint')}
              okText={t('wecomMembers.unlink')}
              okButtonProps={{ danger: true, ...tid('confirm-ok') }}
              onConfirm={() => save.mutateAsync(null).catch(() => undefined)}
            >
              <Button danger icon={<DisconnectOutlined />} data-testid={`member-unlink-${member.id}`}>
                {t('wecomMembers.unlink')}
              </Button>
            </Popconfirm>
          ) : (
            <span />
          )}
          <Space>
            <Button onClick={onClose}>{t('common.cancel')}</Button>
            <Button type="primary" loading={save.isPending} onClick={() => form.submit()} data-testid="member-link-submit">
              {t('common.save')}
            </Button>
          </Space>
        </Flex>
      }
    >
      <Typography.Paragraph type="secondary">{t('wecomMembers.linkHelp')}</Typography.Paragraph>
      <Form form={form} layout="vertical" initialValues={{ user_id: member.user_id ?? undefined }} onFinish={(v) => save.mutate(v.user_id ?? null)}>
        <Form.Item name="user_id" label={t('wecomMembers.consoleUser')} rules={[{ required: true, message: t('wecomMembers.userRequired') }]}>
          <Select
            showSearch
            filterOption={false}
            onSearch={setQ}
            loading={users.isFetching}
            options={options}
            placeholder={t('wecomMembers.userPlaceholder')}
            notFoundContent={users.isFetching ? null : <Empty image={Empty.PRESENTED_IMAGE_SIMPLE} description={t('wecomMembers.noUsers')} />}
            data-testid="member-link-user"
            optionRender={(opt) => <span data-testid={`member-link-option-${opt.value}`}>{opt.label}</span>}
          />
        </Form.Item>
      </Form>
    </Modal>
  )
}
