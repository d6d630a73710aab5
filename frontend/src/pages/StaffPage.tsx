import { ApartmentOutlined, PlusOutlined, ReloadOutlined } from '@ant-design/icons'
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query'
import { App, Button, Card, Col, Empty, Form, Input, Modal, Popconfirm, Row, Select, Space, Table, Tag, Tree, TreeSelect, Typography } from 'antd'
import type { TableColumnsType } from 'antd'
import { useMemo, useState } from 'react'
import { useTranslation } from 'react-i18next'
import {
  createDepartment,
  createUser,
  listDepartments,
  listRoles,
  listUsers,
  updateUser,
  type Department,
  type DepartmentCreate,
  type Role,
  type User,
  type UserCreate,
  type UserUpdate,
} from '../api'
import { useAuth } from '../auth/AuthContext'
import { PERM } from '../auth/permissions'
import { LoadMore } from '../components/LoadMore'
import { PageHeader } from '../components/PageHeader'
import { ErrorState } from '../components/states'
import { useApiError } from '../components/useApiError'
import { useCursorList } from '../components/useCursorList'
import { buildDeptTree, type DeptNode } from '../utils/departments'
import { formatDateTime } from '../utils/format'
import { tid } from '../utils/testid'

export default function StaffPage() {
  const { t } = useTranslation()
  const { can, me } = useAuth()
  const manage = can(PERM.usersManage)
  const queryClient = useQueryClient()
  const { message } = App.useApp()
  const showError = useApiError()

  const [search, setSearch] = useState('')
  const users = useCursorList(['users', search], (cursor) => listUsers({ limit: 50, cursor, q: search || undefined }))
  const departments = useQuery({ queryKey: ['departments'], queryFn: listDepartments })
  // roles are readable only with roles permission on some back ends; the form then falls back to names in the table
  const roles = useQuery({ queryKey: ['roles'], queryFn: listRoles, enabled: manage })
  const deptTree = useMemo(() => buildDeptTree(departments.data ?? []), [departments.data])

  const [editing, setEditing] = useState<User | 'new' | null>(null)
  const [deptOpen, setDeptOpen] = useState(false)

  const toggle = useMutation({
    mutationFn: (u: User) => updateUser(u.id, { is_active: !u.is_active }),
    onSuccess: (u, orig) => {
      void message.success(t(orig.is_active ? 'users.deactivated' : 'users.activated', { name: orig.display_name }))
      void queryClient.invalidateQueries({ queryKey: ['users'] })
      return u
    },
    onError: (e) => showError(e),
  })

  const columns: TableColumnsType<User> = [
    {
      title: t('users.displayName'),
      dataIndex: 'display_name',
      width: 180,
      render: (v: string, u) => (
        <Space>
          <span>{v}</span>
          {me?.user?.id === u.id ? <Tag color="blue">{t('users.you')}</Tag> : null}
        </Space>
      ),
    },
    { title: t('users.email'), dataIndex: 'email', width: 220 },
    { title: t('users.role'), dataIndex: 'role_name' },
    {
      title: t('users.department'),
      dataIndex: 'department_name',
      render: (v?: string | null) => v || <span className="muted">{t('users.noDepartment')}</span>,
    },
    {
      title: t('common.status'),
      dataIndex: 'is_active',
      render: (v: boolean, u) => (
        <Tag color={v ? 'green' : 'default'} data-testid={`user-status-${u.id}`}>
          {v ? t('users.active') : t('users.inactive')}
        </Tag>
      ),
    },
    { title: t('users.lastLogin'), dataIndex: 'last_login_at', width: 170, render: (v?: string | null) => formatDateTime(v, t('common.never')) },
    { title: t('common.createdAt'), dataIndex: 'created_at', width: 170, render: (v: string) => formatDateTime(v) },
  ]
  if (manage) {
    columns.push({
      title: t('common.actions'),
      key: 'actions',
      fixed: 'right',
      width: 130,
      render: (_, u) => (
        <Space size={0}>
          <Button type="link" size="small" onClick={() => setEditing(u)} data-testid={`user-edit-${u.id}`}>
            {t('common.edit')}
          </Button>
          {u.is_active ? (
            <Popconfirm
              title={t('users.deactivateConfirm', { name: u.display_name })}
              description={t('users.deactivateHint')}
              okButtonProps={{ danger: true, ...tid('confirm-ok') }}
              okText={t('users.deactivate')}
              onConfirm={() => toggle.mutateAsync(u).catch(() => undefined)}
              disabled={me?.user?.id === u.id}
            >
              <Button type="link" size="small" danger disabled={me?.user?.id === u.id} data-testid={`user-toggle-${u.id}`}>
                {t('users.deactivate')}
              </Button>
            </Popconfirm>
          ) : (
            <Button type="link" size="small" onClick={() => toggle.mutate(u)} data-testid={`user-toggle-${u.id}`}>
              {t('users.activate')}
            </Button>
          )}
        </Space>
      ),
    })
  }

  if (users.error && !users.items.length) return <ErrorState error={users.error} onRetry={() => void users.refetch()} />

  return (
    <>
      <PageHeader
        title={t('users.title')}
        extra={
          <>
            <Button icon={<ReloadOutlined />} onClick={() => void users.refetch()} data-testid="users-refresh">
              {t('common.refresh')}
            </Button>
            {manage ? (
              <Button type="primary" icon={<PlusOutlined />} onClick={() => setEditing('new')} data-testid="user-create">
                {t('users.create')}
              </Button>
            ) : null}
          </>
        }
      />
      <Row gutter={16}>
        <Col xs={24} lg={6}>
          <Card
            title={
              <Space>
                <ApartmentOutlined />
                {t('departments.title')}
              </Space>
            }
            size="small"
            style={{ marginBottom: 16 }}
            extra={
              manage ? (
                <Button size="small" type="link" icon={<PlusOutlined />} onClick={() => setDeptOpen(true)} data-testid="department-add">
                  {t('departments.create')}
                </Button>
              ) : null
            }
            data-testid="department-panel"
          >
            {departments.isLoading ? null : deptTree.length ? (
              <>
                <Tree treeData={deptTree} defaultExpandAll selectable={false} blockNode data-testid="department-tree" />
                <Typography.Text type="secondary" style={{ fontSize: 12 }}>
                  {t('departments.count', { count: departments.data?.length ?? 0 })}
                </Typography.Text>
              </>
            ) : (
              <Empty image={Empty.PRESENTED_IMAGE_SIMPLE} description={t('departments.empty')} data-testid="department-empty" />
            )}
          </Card>
        </Col>
        <Col xs={24} lg={18}>
          <Card>
            <Input.Search
              allowClear
              placeholder={t('users.searchPlaceholder')}
              onSearch={(v) => setSearch(v.trim())}
              style={{ maxWidth: 320, marginBottom: 16 }}
              data-testid="users-search"
            />
            <Table<User>
              rowKey="id"
              columns={columns}
              dataSource={users.items}
              loading={users.isLoading}
              pagination={false}
              scroll={{ x: 1200 }}
              data-testid="users-table"
              locale={{ emptyText: <Empty description={search ? t('users.noMatch') : t('users.empty')} /> }}
            />
            <LoadMore
              hasMore={!!users.hasNextPage}
              loading={users.isFetchingNextPage}
              onLoad={() => void users.fetchNextPage()}
              count={users.items.length}
              testId="users-load-more"
            />
          </Card>
        </Col>
      </Row>
      {editing ? (
        <UserFormModal
          user={editing === 'new' ? null : editing}
          roles={roles.data ?? []}
          deptTree={deptTree}
          onClose={() => setEditing(null)}
        />
      ) : null}
      {deptOpen ? <DepartmentModal deptTree={deptTree} departments={departments.data ?? []} onClose={() => setDeptOpen(false)} /> : null}
    </>
  )
}

interface UserFormValues {
  email: string
  display_name: string
  password: string
  role_id: number
  department_id?: number | null
}

function UserFormModal({ user, roles, deptTree, onClose }: { user: User | null; roles: Role[]; deptTree: DeptNode[]; onClose: () => void }) {
  const { t } = useTranslation()
  const { me } = useAuth()
  const isSelf = !!user && me?.user?.id === user.id
  const [form] = Form.useForm<UserFormValues>()
  const queryClient = useQueryClient()
  const { message } = App.useApp()
  const showError = useApiError()
  const save = useMutation({
    mutationFn: (v: UserFormValues) => {
      const department_id = v.department_id ?? null
      if (user) {
        // send only what changed: the API refuses any role_id for your own account, even an unchanged one
        const patch: UserUpdate = {}
        if (v.display_name !== user.display_name) patch.display_name = v.display_name
        if (v.role_id !== user.role_id) patch.role_id = v.role_id
        if (department_id !== (user.department_id ?? null)) patch.department_id = department_id
        return updateUser(user.id, patch)
      }
      const body: UserCreate = { email: v.email.trim(), display_name: v.display_name, password: v.password, role_id: v.role_id, department_id }
      return createUser(body)
    },
    onSuccess: () => {
      void message.success(user ? t('common.saved') : t('common.created'))
      void queryClient.invalidateQueries({ queryKey: ['users'] })
      onClose()
    },
    onError: (e) => showError(e, form),
  })
  const roleOptions = roles.length
    ? roles.map((r) => ({ value: r.id, label: r.name }))
    : user
      ? [{ value: user.role_id, label: user.role_name }]
      : []

  return (
    <Modal
      open
      title={user ? t('users.editTitle') : t('users.create')}
      onCancel={onClose}
      onOk={() => form.submit()}
      okText={t('common.save')}
      confirmLoading={save.isPending}
      okButtonProps={tid('user-form-submit')}
      destroyOnHidden
      maskClosable={false}
      data-testid="user-form-modal"
    >
      <Form<UserFormValues>
        form={form}
        layout="vertical"
        onFinish={(v) => save.mutate(v)}
        initialValues={
          user
            ? { email: user.email, display_name: user.display_name, role_id: user.role_id, department_id: user.department_id ?? undefined }
            : undefined
        }
      >
        <Form.Item
          name="email"
          label={t('users.email')}
          rules={[
            { required: true, message: t('users.emailRequired') },
            { type: 'email', message: t('login.emailInvalid') },
          ]}
        >
          <Input disabled={!!user} autoComplete="off" data-testid="user-form-email" />
        </Form.Item>
        <Form.Item name="display_name" label={t('users.displayName')} rules={[{ required: true, whitespace: true, message: t('users.nameRequired') }]}>
          <Input maxLength={100} data-testid="user-form-name" />
        </Form.Item>
        {user ? null : (
          <Form.Item
            name="password"
            label={t('users.password')}
            extra={t('users.passwordHelp')}
            rules={[
              { required: true, message: t('users.passwordRequired') },
              { min: 8, message: t('users.passwordMin') },
            ]}
          >
            <Input.Password autoComplete="new-password" data-testid="user-form-password" />
          </Form.Item>
        )}
        <Form.Item
          name="role_id"
          label={t('users.role')}
          rules={[{ required: true, message: t('users.roleRequired') }]}
          extra={isSelf ? t('users.ownRoleHint') : undefined}
        >
          <Select options={roleOptions} disabled={isSelf} data-testid="user-form-role" showSearch optionFilterProp="label" />
        </Form.Item>
        <Form.Item name="department_id" label={t('users.department')}>
          <TreeSelect
            treeData={deptTree}
            allowClear
            treeDefaultExpandAll
            placeholder={t('users.noDepartment')}
            data-testid="user-form-department"
          />
        </Form.Item>
      </Form>
    </Modal>
  )
}

function DepartmentModal({ deptTree, departments, onClose }: { deptTree: DeptNode[]; departments: Department[]; onClose: () => void }) {
  const { t } = useTranslation()
  const [form] = Form.useForm<DepartmentCreate>()
  const queryClient = useQueryClient()
  const { message } = App.useApp()
  const showError = useApiError()
  const save = useMutation({
    mutationFn: (v: DepartmentCreate) => createDepartment({ name: v.name.trim(), parent_id: v.parent_id ?? null }),
    onSuccess: () => {
      void message.success(t('common.created'))
      void queryClient.invalidateQueries({ queryKey: ['departments'] })
      onClose()
    },
    onError: (e) => showError(e, form),
  })
  return (
    <Modal
      open
      title={t('departments.create')}
      onCancel={onClose}
      onOk={() => form.submit()}
      okText={t('common.save')}
      confirmLoading={save.isPending}
      okButtonProps={tid('department-form-submit')}
      destroyOnHidden
      data-testid="department-form-modal"
    >
      <Form<DepartmentCreate> form={form} layout="vertical" onFinish={(v) => save.mutate(v)}>
        <Form.Item name="name" label={t('departments.name')} rules={[{ required: true, whitespace: true, message: t('departments.nameRequired') }]}>
          <Input maxLength={100} data-testid="department-form-name" />
        </Form.Item>
        <Form.Item name="parent_id" label={t('departments.parent')}>
          <TreeSelect
            treeData={deptTree}
            allowClear
            treeDefaultExpandAll
            placeholder={t('departments.parentNone')}
            disabled={!departments.length}
            data-testid="department-form-parent"
          />
        </Form.Item>
      </Form>
    </Modal>
  )
}
