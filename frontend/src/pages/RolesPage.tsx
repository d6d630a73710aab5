import { PlusOutlined } from '@ant-design/icons'
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query'
import { Alert, App, Button, Card, Checkbox, Col, Drawer, Empty, Form, Input, Popconfirm, Row, Select, Space, Table, Tag, Typography } from 'antd'
import type { TableColumnsType } from 'antd'
import { useMemo, useState } from 'react'
import { useTranslation } from 'react-i18next'
import {
  createRole,
  deleteRole,
  listPermissions,
  listRoles,
  updateRole,
  type DataScope,
  type PermissionInfo,
  type Role,
  type RoleCreate,
} from '../api'
import { PageHeader } from '../components/PageHeader'
import { ErrorState } from '../components/states'
import { useApiError } from '../components/useApiError'
import { tid } from '../utils/testid'

const SCOPES: DataScope[] = ['all', 'department', 'own']
const SCOPE_COLORS: Record<DataScope, string> = { all: 'blue', department: 'cyan', own: 'default' }

export default function RolesPage() {
  const { t } = useTranslation()
  const queryClient = useQueryClient()
  const { message } = App.useApp()
  const showError = useApiError()
  const roles = useQuery({ queryKey: ['roles'], queryFn: listRoles })
  const perms = useQuery({ queryKey: ['permissions'], queryFn: listPermissions, staleTime: 10 * 60_000 })
  const [editing, setEditing] = useState<Role | 'new' | null>(null)
  const permLabel = usePermissionLabel(perms.data)

  const remove = useMutation({
    mutationFn: (r: Role) => deleteRole(r.id),
    onSuccess: () => {
      void message.success(t('common.deleted'))
      void queryClient.invalidateQueries({ queryKey: ['roles'] })
    },
    onError: (e) => showError(e),
  })

  const columns: TableColumnsType<Role> = [
    { title: t('roles.name'), dataIndex: 'name', width: 160, render: (v: string) => <Typography.Text strong>{v}</Typography.Text> },
    { title: t('roles.key'), dataIndex: 'key', width: 200, render: (v: string) => <Typography.Text code style={{ whiteSpace: 'nowrap' }}>{v}</Typography.Text> },
    {
      title: t('roles.type'),
      dataIndex: 'is_builtin',
      width: 90,
      render: (v: boolean) => (v ? <Tag color="gold">{t('roles.builtin')}</Tag> : <Tag color="purple">{t('roles.custom')}</Tag>),
    },
    {
      title: t('roles.dataScope'),
      dataIndex: 'data_scope',
      width: 140,
      render: (v: DataScope) => <Tag color={SCOPE_COLORS[v]}>{t(`scope.${v}`)}</Tag>,
    },
    {
      title: t('roles.permissions'),
      dataIndex: 'permissions',
      render: (v: string[]) =>
        v.includes('*') ? (
          <Tag color="red">{t('roles.allPermissions')}</Tag>
        ) : v.length ? (
          <Space size={[4, 4]} wrap>
            {v.slice(0, 4).map((code) => (
              <Tag key={code}>{permLabel(code)}</Tag>
            ))}
            {v.length > 4 ? <Typography.Text type="secondary">{t('roles.permissionCount', { count: v.length })}</Typography.Text> : null}
          </Space>
        ) : (
          <span className="muted">{t('common.none')}</span>
        ),
    },
    {
      title: t('common.actions'),
      key: 'actions',
      width: 160,
      render: (_, r) =>
        r.is_builtin ? (
          <Button type="link" size="small" onClick={() => setEditing(r)} data-testid={`role-view-${r.id}`}>
            {t('common.view')}
          </Button>
        ) : (
          <Space size={0}>
            <Button type="link" size="small" onClick={() => setEditing(r)} data-testid={`role-edit-${r.id}`}>
              {t('common.edit')}
            </Button>
            <Popconfirm
              title={t('roles.deleteConfirm', { name: r.name })}
              description={t('roles.deleteHint')}
              okText={t('common.delete')}
              okButtonProps={{ danger: true, ...tid('confirm-ok') }}
              onConfirm={() => remove.mutateAsync(r).catch(() => undefined)}
            >
              <Button type="link" size="small" danger data-testid={`role-delete-${r.id}`}>
                {t('common.delete')}
              </Button>
            </Popconfirm>
          </Space>
        ),
    },
  ]

  if (roles.error) return <ErrorState error={roles.error} onRetry={() => void roles.refetch()} />

  return (
    <>
      <PageHeader
        title={t('roles.title')}
        extra={
          <Button type="primary" icon={<PlusOutlined />} onClick={() => setEditing('new')} data-testid="role-create">
            {t('roles.create')}
          </Button>
        }
      />
      <Card>
        <Table<Role>
          rowKey="id"
          columns={columns}
          dataSource={roles.data ?? []}
          loading={roles.isLoading}
          pagination={false}
          scroll={{ x: 1000 }}
          data-testid="roles-table"
          locale={{ emptyText: <Empty description={t('roles.empty')} /> }}
        />
      </Card>
      {editing ? (
        <RoleDrawer role={editing === 'new' ? null : editing} permissions={perms.data ?? []} onClose={() => setEditing(null)} />
      ) : null}
    </>
  )
}

function usePermissionLabel(perms: PermissionInfo[] | undefined) {
  const { i18n } = useTranslation()
  return useMemo(() => {
    const map = new Map((perms ?? []).map((p) => [p.code, i18n.language === 'en' ? p.label_en : p.label_zh]))
    return (code: string) => map.get(code) ?? code
  }, [perms, i18n.language])
}

interface RoleFormValues {
  name: string
  data_scope: DataScope
  permissions: string[]
}

function RoleDrawer({ role, permissions, onClose }: { role: Role | null; permissions: PermissionInfo[]; onClose: () => void }) {
  const { t, i18n } = useTranslation()
  const [form] = Form.useForm<RoleFormValues>()
  const queryClient = useQueryClient()
  const { message } = App.useApp()
  const showError = useApiError()
  const readOnly = !!role?.is_builtin
  const en = i18n.language === 'en'

  const groups = useMemo(() => {
    const m = new Map<string, PermissionInfo[]>()
    for (const p of permissions) {
      const g = p.code.split('.')[0] || 'other'
      m.set(g, [...(m.get(g) ?? []), p])
    }
    return [...m.entries()]
  }, [permissions])

  const save = useMutation({
    mutationFn: (v: RoleFormValues) => {
      const body: RoleCreate = { name: v.name.trim(), data_scope: v.data_scope, permissions: v.permissions ?? [] }
      return role ? updateRole(role.id, body) : createRole(body)
    },
    onSuccess: () => {
      void message.success(role ? t('common.saved') : t('common.created'))
      void queryClient.invalidateQueries({ queryKey: ['roles'] })
      void queryClient.invalidateQueries({ queryKey: ['me'] })
      onClose()
    },
    onError: (e) => showError(e, form),
  })

  const groupTitle = (g: string) => {
    const key = `permGroups.${g}`
    const label = t(key)
    return label === key ? g : label
  }

  return (
    <Drawer
      open
      width={640}
      title={readOnly ? t('roles.viewTitle') : role ? t('roles.editTitle') : t('roles.create')}
      onClose={onClose}
      destroyOnHidden
      data-testid="role-drawer"
      extra={
        readOnly ? null : (
          <Space>
            <Button onClick={onClose}>{t('common.cancel')}</Button>
            <Button type="primary" loading={save.isPending} onClick={() => form.submit()} data-testid="role-form-submit">
              {t('common.save')}
            </Button>
          </Space>
        )
      }
    >
      {readOnly ? <Alert type="info" showIcon message={t('roles.builtinHint')} style={{ marginBottom: 16 }} /> : null}
      <Form<RoleFormValues>
        form={form}
        layout="vertical"
        disabled={readOnly}
        onFinish={(v) => save.mutate(v)}
        initialValues={
          role
            ? { name: role.name, data_scope: role.data_scope, permissions: role.permissions }
            : { data_scope: 'own', permissions: [] }
        }
      >
        <Row gutter={16}>
          <Col span={12}>
            <Form.Item name="name" label={t('roles.name')} rules={[{ required: true, whitespace: true, message: t('roles.nameRequired') }]}>
              <Input maxLength={100} data-testid="role-form-name" />
            </Form.Item>
          </Col>
          <Col span={12}>
            <Form.Item name="data_scope" label={t('roles.dataScope')} extra={t('roles.dataScopeHelp')}>
              <Select
                data-testid="role-form-scope"
                options={SCOPES.map((s) => ({ value: s, label: <span data-testid={`scope-option-${s}`}>{t(`scope.${s}`)}</span> }))}
              />
            </Form.Item>
          </Col>
        </Row>
        {role?.permissions.includes('*') ? (
          <Alert type="warning" showIcon message={t('roles.allPermissions')} style={{ marginBottom: 16 }} />
        ) : null}
        <Form.Item name="permissions" label={t('roles.permissions')}>
          <PermissionChecklist groups={groups} groupTitle={groupTitle} en={en} disabled={readOnly} emptyText={t('roles.noPermissions')} selectAllText={t('roles.selectAll')} />
        </Form.Item>
      </Form>
    </Drawer>
  )
}

function PermissionChecklist({
  value = [],
  onChange,
  groups,
  groupTitle,
  en,
  disabled,
  emptyText,
  selectAllText,
}: {
  value?: string[]
  onChange?: (v: string[]) => void
  groups: [string, PermissionInfo[]][]
  groupTitle: (g: string) => string
  en: boolean
  disabled?: boolean
  emptyText: string
  selectAllText: string
}) {
  if (!groups.length) return <Empty image={Empty.PRESENTED_IMAGE_SIMPLE} description={emptyText} />
  const selected = new Set(value)
  const setGroup = (codes: string[], on: boolean) => {
    const next = new Set(selected)
    codes.forEach((c) => (on ? next.add(c) : next.delete(c)))
    onChange?.([...next])
  }
  return (
    <Space direction="vertical" style={{ width: '100%' }} data-testid="role-form-permissions">
      {groups.map(([g, items]) => {
        const codes = items.map((p) => p.code)
        const n = codes.filter((c) => selected.has(c)).length
        return (
          <Card
            key={g}
            size="small"
            data-testid={`perm-group-${g}`}
            title={
              <Checkbox
                checked={n === codes.length}
                indeterminate={n > 0 && n < codes.length}
                disabled={disabled}
                onChange={(e) => setGroup(codes, e.target.checked)}
                data-testid={`perm-group-toggle-${g}`}
              >
                {groupTitle(g)}{' '}
                <Typography.Text type="secondary" style={{ fontWeight: 'normal' }}>
                  ({n}/{codes.length}) · {selectAllText}
                </Typography.Text>
              </Checkbox>
            }
          >
            <Row gutter={[8, 8]}>
              {items.map((p) => (
                <Col span={12} key={p.code}>
                  <Checkbox
                    checked={selected.has(p.code)}
                    disabled={disabled}
                    onChange={(e) => setGroup([p.code], e.target.checked)}
                    data-testid={`perm-${p.code}`}
                  >
                    {en ? p.label_en : p.label_zh}
                    <div>
                      <Typography.Text type="secondary" style={{ fontSize: 12 }}>
                        {p.code}
                      </Typography.Text>
                    </div>
                  </Checkbox>
                </Col>
              ))}
            </Row>
          </Card>
        )
      })}
    </Space>
  )
}
