import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query'
import { Alert, App, Badge, Checkbox, Collapse, Descriptions, Divider, Form, Input, InputNumber, Modal, Select, Typography } from 'antd'
import { useState, type CSSProperties } from 'react'
import { useTranslation } from 'react-i18next'
import { ApiError, createConnection, listConnections, listWecomLoginProviders, updateConnection, type Connection, type ConnectionUpdate } from '../api'
import { useAuth } from '../auth/AuthContext'
import { PERM } from '../auth/permissions'
import { tid } from '../utils/testid'
import { CopyField } from './CopyField'
import { useApiError } from './useApiError'

const STATUS_BADGE: Record<string, 'success' | 'default' | 'error'> = { active: 'success', disabled: 'default', error: 'error' }

export function ConnectionStatusBadge({ status, testId }: { status: string; testId?: string }) {
  const { t } = useTranslation()
  return (
    <span data-testid={testId} data-status={status}>
      <Badge status={STATUS_BADGE[status] ?? 'default'} text={t(`connections.status.${status}`, { defaultValue: status })} />
    </span>
  )
}

/** What a filter or picker needs of a connection. */
export interface ConnectionChoice {
  id: number
  name: string
  status: string
  platform: string
}

/**
 * The workspace's connections for filters and pickers. Without the permission to list connections,
 * the public WeCom login providers (active WeCom connections with an app) stand in.
 */
export function useConnectionOptions() {
  const { can } = useAuth()
  const full = can(PERM.connectionsView)
  const q = useQuery({
    queryKey: ['connections', 'options'],
    queryFn: () => listConnections({ limit: 200 }),
    enabled: full,
    staleTime: 60_000,
  })
  const providers = useQuery({
    queryKey: ['wecom-login-providers'],
    queryFn: listWecomLoginProviders,
    enabled: !full,
    staleTime: 300_000,
  })
  const items: ConnectionChoice[] = full
    ? (q.data?.items ?? [])
    : (providers.data ?? []).map((p) => ({ id: p.connection_id, name: p.name, status: 'active', platform: 'wecom' }))
  const options = items.map((c) => ({ value: c.id, label: c.name, disabled: c.status === 'disabled' }))
  const nameOf = (id: number | null | undefined) => (id == null ? '' : (items.find((c) => c.id === id)?.name ?? `#${id}`))
  return { connections: items, options, nameOf, loading: full ? q.isLoading : providers.isLoading }
}

function isLoopback(url: string): boolean {
  try {
    const host = new URL(url).hostname
    return host === 'localhost' || host === '127.0.0.1' || host === '::1' || host === '[::1]' || host.endsWith('.local')
  } catch {
    return false
  }
}

/**
 * The callback URL, Token and EncodingAESKey to paste into the WeCom admin's 接收事件服务器 settings, with
 * copy buttons and where to paste them.
 */
export function CallbackCredentials({ connection }: { connection: Connection }) {
  const { t } = useTranslation()
  const hidden = !connection.token && !connection.encoding_aes_key
  return (
    <div data-testid="connection-callback">
      <Descriptions
        column={1}
        size="small"
        bordered
        styles={{ label: { width: 150 } }}
        items={[
          { key: 'url', label: t('connections.callbackUrl'), children: <CopyField value={connection.callback_url} testId="connection-callback-url" /> },
          { key: 'token', label: 'Token', children: <CopyField value={connection.token} testId="connection-token" /> },
          {
            key: 'aes',
            label: 'EncodingAESKey',
            children: <CopyField value={connection.encoding_aes_key} testId="connection-aes-key" />,
          },
        ]}
      />
      {hidden ? (
        <Alert type="info" showIcon style={{ marginTop: 12 }} message={t('connections.credentialsHidden')} data-testid="connection-credentials-hidden" />
      ) : null}
      {connection.callback_url && isLoopback(connection.callback_url) ? (
        <Alert
          type="warning"
          showIcon
          style={{ marginTop: 12 }}
          message={t('connections.loopbackTitle')}
          description={t('connections.loopbackHint')}
          data-testid="connection-callback-loopback"
        />
      ) : null}
      <Typography.Paragraph strong style={{ margin: '16px 0 4px' }}>
        {t('connections.stepsTitle')}
      </Typography.Paragraph>
      <ol className="setup-steps" data-testid="connection-setup-steps">
        <li>{t('connections.step1')}</li>
        <li>{t('connections.step2')}</li>
        <li>{t('connections.step3')}</li>
        <li>{t('connections.step4')}</li>
      </ol>
    </div>
  )
}

interface WecomFormValues {
  name: string
  config: {
    corp_id: string
    contact_secret?: string
    agent_id?: number | null
    app_secret?: string
    api_base_url?: string
    oauth_base_url?: string
    sso_base_url?: string
    rate_limit_per_minute?: number | null
    rate_limit_per_hour?: number | null
    token?: string
    encoding_aes_key?: string
  }
  rotate_callback_credentials?: boolean
}

const ADVANCED = ['api_base_url', 'oauth_base_url', 'sso_base_url', 'rate_limit_per_minute', 'rate_limit_per_hour', 'token', 'encoding_aes_key']
const URL_RE = /^https?:\/\/[^\s/?#]+(:\d+)?(\/[^\s?#]*)?$/

const blank = (v: unknown) => v === undefined || v === null || (typeof v === 'string' && v.trim() === '')
const clean = (v: string | undefined) => (blank(v) ? undefined : (v as string).trim())

/** Only what changed, in the PATCH's terms: a new value, `null` to clear, secrets only when typed. */
function configPatch(v: WecomFormValues['config'], c: Connection): Record<string, unknown> {
  const cur = c.config as Record<string, unknown>
  const patch: Record<string, unknown> = {}
  if (v.corp_id.trim() !== cur.corp_id) patch.corp_id = v.corp_id.trim()
  if (!blank(v.contact_secret)) patch.contact_secret = clean(v.contact_secret)
  const agent = v.agent_id ?? null
  if (agent !== (cur.agent_id ?? null)) patch.agent_id = agent
  if (!blank(v.app_secret)) patch.app_secret = clean(v.app_secret)
  if (agent === null && (cur.agent_id ?? null) !== null) patch.app_secret = null // the app goes away as a pair
  for (const k of ['api_base_url', 'oauth_base_url', 'sso_base_url'] as const) {
    const next = clean(v[k]) ?? null
    if (next !== (cur[k] ?? null)) patch[k] = next
  }
  for (const k of ['rate_limit_per_minute', 'rate_limit_per_hour'] as const) {
    const next = v[k] ?? null
    if (next !== (cur[k] ?? null)) patch[k] = next
  }
  return patch
}

/** Create (`connection` null) or edit a WeCom connection. `onDone` gets the saved connection. */
export function WecomConnectionModal({
  connection,
  onClose,
  onDone,
}: {
  connection: Connection | null
  onClose: () => void
  onDone: (c: Connection) => void
}) {
  const { t } = useTranslation()
  const [form] = Form.useForm<WecomFormValues>()
  const queryClient = useQueryClient()
  const { message } = App.useApp()
  const showError = useApiError()
  const editing = !!connection
  const cfg = (connection?.config ?? {}) as Record<string, unknown>
  const [advancedOpen, setAdvancedOpen] = useState<string[]>(() =>
    editing && ADVANCED.some((k) => cfg[k] != null) ? ['advanced'] : [],
  )
  const agentId = Form.useWatch(['config', 'agent_id'], form)
  const rotate = Form.useWatch('rotate_callback_credentials', form)

  const save = useMutation({
    mutationFn: async (v: WecomFormValues) => {
      if (connection) {
        const body: ConnectionUpdate = {}
        if (v.name.trim() !== connection.name) body.name = v.name.trim()
        const patch = configPatch(v.config, connection)
        if (Object.keys(patch).length) body.config = patch
        if (v.rotate_callback_credentials) body.rotate_callback_credentials = true
        return updateConnection(connection.id, body)
      }
      const config: Record<string, unknown> = {}
      for (const [k, val] of Object.entries(v.config)) {
        const x = typeof val === 'string' ? clean(val) : val
        if (x !== undefined && x !== null) config[k] = x
      }
      return createConnection({ platform: 'wecom', name: v.name.trim(), config })
    },
    onSuccess: (c) => {
      void message.success(editing ? t('common.saved') : t('connections.created'))
      void queryClient.invalidateQueries({ queryKey: ['connections'] })
      queryClient.setQueryData(['connection', c.id], c)
      onDone(c)
    },
    onError: (e) => {
      showError(e, form)
      if (e instanceof ApiError && e.errors.some((x) => ADVANCED.some((k) => x.field === `config.${k}`))) setAdvancedOpen(['advanced'])
    },
  })

  const secretPlaceholder = (has: unknown) => (editing && has ? t('connections.secretKeep') : undefined)
  const appRequired = agentId != null && !(editing && cfg.has_app_secret && cfg.agent_id != null)

  return (
    <Modal
      open
      width={640}
      title={editing ? t('connections.editTitle') : t('connections.createTitle')}
      onCancel={onClose}
      onOk={() => form.submit()}
      okText={editing ? t('common.save') : t('connections.createSubmit')}
      confirmLoading={save.isPending}
      okButtonProps={tid('connection-form-submit')}
      destroyOnHidden
      maskClosable={false}
      data-testid="connection-form-modal"
    >
      {editing ? null : (
        <Typography.Paragraph type="secondary" style={{ marginTop: 0 }}>
          {t('connections.createHint')}
        </Typography.Paragraph>
      )}
      <Form<WecomFormValues>
        form={form}
        layout="vertical"
        onFinish={(v) => save.mutate(v)}
        initialValues={
          connection
            ? {
                name: connection.name,
                config: {
                  corp_id: String(cfg.corp_id ?? ''),
                  agent_id: (cfg.agent_id as number | null | undefined) ?? undefined,
                  api_base_url: (cfg.api_base_url as string | undefined) ?? undefined,
                  oauth_base_url: (cfg.oauth_base_url as string | undefined) ?? undefined,
                  sso_base_url: (cfg.sso_base_url as string | undefined) ?? undefined,
                  rate_limit_per_minute: (cfg.rate_limit_per_minute as number | undefined) ?? undefined,
                  rate_limit_per_hour: (cfg.rate_limit_per_hour as number | undefined) ?? undefined,
                },
              }
            : { config: {} }
        }
      >
        <Form.Item name="name" label={t('connections.name')} rules={[{ required: true, whitespace: true, message: t('connections.nameRequired') }]}>
          <Input maxLength={100} placeholder={t('connections.namePlaceholder')} data-testid="connection-form-name" />
        </Form.Item>
        <Form.Item
          name={['config', 'corp_id']}
          label={t('connections.corpId')}
          extra={t('connections.corpIdHelp')}
          rules={[
            { required: true, whitespace: true, message: t('connections.corpIdRequired') },
            { pattern: /^[A-Za-z0-9_-]+$/, message: t('connections.corpIdInvalid') },
          ]}
        >
          <Input maxLength={64} placeholder="ww0123456789abcdef" autoComplete="off" data-testid="connection-form-corp-id" />
        </Form.Item>
        <Form.Item
          name={['config', 'contact_secret']}
          label={t('connections.contactSecret')}
          extra={t('connections.contactSecretHelp')}
          rules={editing ? [] : [{ required: true, whitespace: true, message: t('connections.contactSecretRequired') }]}
        >
          <Input.Password
            autoComplete="new-password"
            placeholder={secretPlaceholder(cfg.has_contact_secret)}
            data-testid="connection-form-contact-secret"
          />
        </Form.Item>
        <Divider orientation="left" plain style={{ margin: '8px 0 16px' }}>
          {t('connections.appSection')}
        </Divider>
        <Typography.Paragraph type="secondary" style={{ marginTop: -8 }}>
          {t('connections.appHelp')}
        </Typography.Paragraph>
        <Form.Item name={['config', 'agent_id']} label="AgentId">
          <InputNumber min={0} max={2147483647} precision={0} style={{ width: '100%' }} placeholder="1000002" data-testid="connection-form-agent-id" />
        </Form.Item>
        <Form.Item
          name={['config', 'app_secret']}
          label={t('connections.appSecret')}
          dependencies={[['config', 'agent_id']]}
          rules={[
            { required: appRequired, whitespace: true, message: t('connections.appSecretRequired') },
            ({ getFieldValue }) => ({
              validator: (_, value) =>
                !blank(value) && getFieldValue(['config', 'agent_id']) == null
                  ? Promise.reject(new Error(t('connections.agentIdRequired')))
                  : Promise.resolve(),
            }),
          ]}
        >
          <Input.Password
            autoComplete="new-password"
            placeholder={secretPlaceholder(cfg.has_app_secret)}
            disabled={agentId == null && !editing}
            data-testid="connection-form-app-secret"
          />
        </Form.Item>
        <Collapse
          ghost
          activeKey={advancedOpen}
          onChange={(k) => setAdvancedOpen(Array.isArray(k) ? k : [k])}
          items={[
            {
              key: 'advanced',
              label: <span data-testid="connection-form-advanced">{t('connections.advanced')}</span>,
              forceRender: true,
              children: (
                <>
                  {(['api_base_url', 'oauth_base_url', 'sso_base_url'] as const).map((k) => (
                    <Form.Item
                      key={k}
                      name={['config', k]}
                      label={t(`connections.${k}`)}
                      rules={[{ pattern: URL_RE, message: t('connections.urlInvalid') }]}
                    >
                      <Input
                        placeholder={
                          k === 'api_base_url'
                            ? 'https://qyapi.weixin.qq.com'
                            : k === 'oauth_base_url'
                              ? 'https://open.weixin.qq.com'
                              : 'https://login.work.weixin.qq.com'
                        }
                        data-testid={`connection-form-${k.replace(/_/g, '-')}`}
                      />
                    </Form.Item>
                  ))}
                  <Typography.Paragraph type="secondary" style={{ marginTop: -8 }}>
                    {t('connections.rateLimitHelp')}
                  </Typography.Paragraph>
                  <div style={{ display: 'flex', gap: 16 }}>
                    <Form.Item name={['config', 'rate_limit_per_minute']} label={t('connections.ratePerMinute')} style={{ flex: 1 }}>
                      <InputNumber min={1} max={1000000} precision={0} style={{ width: '100%' }} placeholder="10000" data-testid="connection-form-rate-minute" />
                    </Form.Item>
                    <Form.Item name={['config', 'rate_limit_per_hour']} label={t('connections.ratePerHour')} style={{ flex: 1 }}>
                      <InputNumber min={1} max={100000000} precision={0} style={{ width: '100%' }} placeholder="150000" data-testid="connection-form-rate-hour" />
                    </Form.Item>
                  </div>
                  {editing ? null : (
                    <>
                      <Typography.Paragraph type="secondary">{t('connections.customCredentialsHelp')}</Typography.Paragraph>
                      <Form.Item
                        name={['config', 'token']}
                        label="Token"
                        rules={[{ pattern: /^[A-Za-z0-9]{3,32}$/, message: t('connections.tokenInvalid') }]}
                      >
                        <Input placeholder={t('connections.generated')} autoComplete="off" data-testid="connection-form-token" />
                      </Form.Item>
                      <Form.Item
                        name={['config', 'encoding_aes_key']}
                        label="EncodingAESKey"
                        rules={[{ len: 43, message: t('connections.aesKeyInvalid') }]}
                      >
                        <Input placeholder={t('connections.generated')} autoComplete="off" data-testid="connection-form-aes-key" />
                      </Form.Item>
                    </>
                  )}
                </>
              ),
            },
          ]}
        />
        {editing ? (
          <>
            <Form.Item name="rotate_callback_credentials" valuePropName="checked" style={{ marginBottom: 8 }}>
              <Checkbox data-testid="connection-form-rotate">{t('connections.rotate')}</Checkbox>
            </Form.Item>
            {rotate ? <Alert type="warning" showIcon message={t('connections.rotateWarning')} /> : null}
          </>
        ) : null}
      </Form>
    </Modal>
  )
}

/** A connection picker for forms and filters. */
export function ConnectionSelect({
  value,
  onChange,
  testId,
  allowClear,
  placeholder,
  style,
}: {
  value?: number | null
  onChange?: (v: number | undefined) => void
  testId: string
  allowClear?: boolean
  placeholder?: string
  style?: CSSProperties
}) {
  const { options, loading } = useConnectionOptions()
  return (
    <Select
      value={value ?? undefined}
      onChange={(v?: number) => onChange?.(v)}
      options={options}
      loading={loading}
      allowClear={allowClear}
      placeholder={placeholder}
      style={style}
      data-testid={testId}
      optionRender={(opt) => <span data-testid={`${testId}-option-${opt.value}`}>{opt.label}</span>}
    />
  )
}
