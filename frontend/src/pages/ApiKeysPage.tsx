import { PlusOutlined, ReloadOutlined } from '@ant-design/icons'
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query'
import { Alert, App, Button, Card, Empty, Form, Input, Modal, Popconfirm, Select, Table, Tag, Typography } from 'antd'
import type { TableColumnsType } from 'antd'
import { useState } from 'react'
import { useTranslation } from 'react-i18next'
import { createApiKey, listApiKeys, listRoles, revokeApiKey, type ApiKey, type ApiKeyCreate, type ApiKeyCreated } from '../api'
import { LoadMore } from '../components/LoadMore'
import { PageHeader } from '../components/PageHeader'
import { ErrorState } from '../components/states'
import { errorText, useApiError } from '../components/useApiError'
import { useCursorList } from '../components/useCursorList'
import { formatDateTime } from '../utils/format'
import { tid } from '../utils/testid'

export default function ApiKeysPage() {
  const { t } = useTranslation()
  const queryClient = useQueryClient()
  const { message } = App.useApp()
  const showError = useApiError()
  const keys = useCursorList(['api-keys'], (cursor) => listApiKeys({ limit: 50, cursor }))
  const [creating, setCreating] = useState(false)
  const [secret, setSecret] = useState<ApiKeyCreated | null>(null)

  const revoke = useMutation({
    mutationFn: (k: ApiKey) => revokeApiKey(k.id),
    onSuccess: (_, k) => {
      void message.success(t('apiKeys.revokedMsg', { name: k.name }))
      void queryClient.invalidateQueries({ queryKey: ['api-keys'] })
    },
    onError: (e) => showError(e),
  })

  const columns: TableColumnsType<ApiKey> = [
    { title: t('apiKeys.name'), dataIndex: 'name', render: (v: string) => <Typography.Text strong>{v}</Typography.Text> },
    { title: t('apiKeys.prefix'), dataIndex: 'prefix', render: (v: string) => <Typography.Text code>{v}…</Typography.Text> },
    { title: t('apiKeys.role'), dataIndex: 'role_name' },
    {
      title: t('common.status'),
      dataIndex: 'revoked_at',
      render: (v: string | null | undefined, k) =>
        v ? (
          <Tag data-testid={`api-key-status-${k.id}`} title={formatDateTime(v)}>
            {t('apiKeys.revoked')}
          </Tag>
        ) : (
          <Tag color="green" data-testid={`api-key-status-${k.id}`}>
            {t('apiKeys.active')}
          </Tag>
        ),
    },
    { title: t('common.createdAt'), dataIndex: 'created_at', render: (v: string) => formatDateTime(v) },
    { title: t('apiKeys.lastUsed'), dataIndex: 'last_used_at', render: (v?: string | null) => formatDateTime(v, t('common.never')) },
    {
      title: t('common.actions'),
      key: 'actions',
      render: (_, k) =>
        k.revoked_at ? null : (
          <Popconfirm
            title={t('apiKeys.revokeConfirm', { name: k.name })}
            description={t('apiKeys.revokeHint')}
            okText={t('apiKeys.revoke')}
            okButtonProps={{ danger: true, ...tid('confirm-ok') }}
            onConfirm={() => revoke.mutateAsync(k).catch(() => undefined)}
          >
            <Button type="link" size="small" danger data-testid={`api-key-revoke-${k.id}`}>
              {t('apiKeys.revoke')}
            </Button>
          </Popconfirm>
        ),
    },
  ]

  if (keys.error && !keys.items.length) return <ErrorState error={keys.error} onRetry={() => void keys.refetch()} />

  return (
    <>
      <PageHeader
        title={t('apiKeys.title')}
        extra={
          <>
            <Button icon={<ReloadOutlined />} onClick={() => void keys.refetch()}>
              {t('common.refresh')}
            </Button>
            <Button type="primary" icon={<PlusOutlined />} onClick={() => setCreating(true)} data-testid="api-key-create">
              {t('apiKeys.create')}
            </Button>
          </>
        }
      />
      <Card>
        <Table<ApiKey>
          rowKey="id"
          columns={columns}
          dataSource={keys.items}
          loading={keys.isLoading}
          pagination={false}
          scroll={{ x: 860 }}
          data-testid="api-keys-table"
          locale={{ emptyText: <Empty description={t('apiKeys.empty')} /> }}
        />
        <LoadMore
          hasMore={!!keys.hasNextPage}
          loading={keys.isFetchingNextPage}
          onLoad={() => void keys.fetchNextPage()}
          count={keys.items.length}
          testId="api-keys-load-more"
        />
      </Card>
      {creating ? (
        <CreateKeyModal
          onClose={() => setCreating(false)}
          onCreated={(k) => {
            setCreating(false)
            setSecret(k)
          }}
        />
      ) : null}
      {secret ? <SecretModal created={secret} onClose={() => setSecret(null)} /> : null}
    </>
  )
}

function CreateKeyModal({ onClose, onCreated }: { onClose: () => void; onCreated: (k: ApiKeyCreated) => void }) {
  const { t } = useTranslation()
  const [form] = Form.useForm<ApiKeyCreate>()
  const queryClient = useQueryClient()
  const showError = useApiError()
  const roles = useQuery({ queryKey: ['roles'], queryFn: listRoles })
  const save = useMutation({
    mutationFn: (v: ApiKeyCreate) => createApiKey({ name: v.name.trim(), role_id: v.role_id }),
    onSuccess: (k) => {
      void queryClient.invalidateQueries({ queryKey: ['api-keys'] })
      onCreated(k)
    },
    onError: (e) => showError(e, form),
  })
  return (
    <Modal
      open
      title={t('apiKeys.create')}
      onCancel={onClose}
      onOk={() => form.submit()}
      okText={t('common.create')}
      confirmLoading={save.isPending}
      okButtonProps={tid('api-key-form-submit')}
      destroyOnHidden
      data-testid="api-key-form-modal"
    >
      <Form<ApiKeyCreate> form={form} layout="vertical" onFinish={(v) => save.mutate(v)}>
        <Form.Item name="name" label={t('apiKeys.name')} rules={[{ required: true, whitespace: true, message: t('apiKeys.nameRequired') }]}>
          <Input maxLength={100} placeholder={t('apiKeys.namePlaceholder')} data-testid="api-key-form-name" />
        </Form.Item>
        <Form.Item name="role_id" label={t('apiKeys.role')} extra={t('apiKeys.roleHelp')} rules={[{ required: true, message: t('apiKeys.roleRequired') }]}>
          <Select
            loading={roles.isLoading}
            notFoundContent={roles.error ? <Typography.Text type="danger">{errorText(roles.error, t)}</Typography.Text> : undefined}
            options={(roles.data ?? []).map((r) => ({ value: r.id, label: r.name }))}
            data-testid="api-key-form-role"
            showSearch
            optionFilterProp="label"
          />
        </Form.Item>
      </Form>
    </Modal>
  )
}

function SecretModal({ created, onClose }: { created: ApiKeyCreated; onClose: () => void }) {
  const { t } = useTranslation()
  return (
    <Modal
      open
      title={t('apiKeys.secretTitle')}
      closable={false}
      maskClosable={false}
      keyboard={false}
      data-testid="api-key-secret-modal"
      footer={
        <Button type="primary" onClick={onClose} data-testid="api-key-secret-close">
          {t('apiKeys.secretDone')}
        </Button>
      }
    >
      <Alert type="warning" showIcon message={t('apiKeys.secretWarning')} style={{ marginBottom: 16 }} />
      <Typography.Text type="secondary">
        {t('apiKeys.name')}: {created.name}
      </Typography.Text>
      <Typography.Paragraph
        copyable={{ text: created.secret, tooltips: [t('common.copy'), t('common.copied')] }}
        code
        style={{ marginTop: 8, fontSize: 14, wordBreak: 'break-all' }}
        data-testid="api-key-secret"
      >
        {created.secret}
      </Typography.Paragraph>
    </Modal>
  )
}
