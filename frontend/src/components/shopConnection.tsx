// "连接店铺": a shop connection's form, built from its platform's config JSON Schema
// (GET /api/v1/platforms/types), and what to do once it exists (the push URL to paste).
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query'
import { Alert, App, Collapse, Descriptions, Form, Input, InputNumber, Modal, Radio, Select, Skeleton, Tag, Typography } from 'antd'
import { useMemo, useState, type ReactNode } from 'react'
import { useTranslation } from 'react-i18next'
import { ApiError, createConnection, listPlatformTypes, updateConnection, type Connection, type ConnectionUpdate, type PlatformKind, type PlatformType } from '../api'
import { tid } from '../utils/testid'
import { SHOP_PLATFORMS, ShopPlatformTag, usePlatformName } from './commerce'
import { CopyField } from './CopyField'
import { useApiError } from './useApiError'

interface JsonSchema {
  type?: string | string[]
  anyOf?: JsonSchema[]
  enum?: unknown[]
  default?: unknown
  title?: string
  description?: string
  pattern?: string
  minLength?: number
  maxLength?: number
  minimum?: number
  maximum?: number
  exclusiveMinimum?: number
  exclusiveMaximum?: number
  properties?: Record<string, JsonSchema>
  required?: string[]
}

/** One config field of a platform, as the form renders it. */
export interface ConfigField {
  key: string
  title: string
  kind: 'string' | 'number' | 'integer' | 'enum'
  options: string[]
  required: boolean
  secret: boolean
  defaultValue: unknown
  pattern?: string
  maxLength?: number
  min?: number
  max?: number
}

/** The non-null branch of `X | None` (pydantic's `anyOf: [X, {type: null}]`). */
function concrete(s: JsonSchema): JsonSchema {
  if (s.anyOf) {
    const branch = s.anyOf.find((b) => b.type !== 'null')
    if (branch) return { ...branch, title: s.title, default: s.default, description: s.description }
  }
  return s
}

/** The form fields of a platform's config schema, in schema order. */
export function configFields(type: PlatformType): ConfigField[] {
  const schema = type.config_schema as JsonSchema
  const required = new Set(schema.required ?? [])
  const secret = new Set([...type.write_only_fields, ...type.credential_fields])
  return Object.entries(schema.properties ?? {}).map(([key, raw]) => {
    const s = concrete(raw)
    const t = Array.isArray(s.type) ? s.type.find((x) => x !== 'null') : s.type
    const kind: ConfigField['kind'] = s.enum ? 'enum' : t === 'integer' ? 'integer' : t === 'number' ? 'number' : 'string'
    return {
      key,
      title: raw.title ?? key,
      kind,
      options: (s.enum ?? []).map(String),
      required: required.has(key),
      secret: secret.has(key),
      defaultValue: raw.default ?? s.default,
      pattern: s.pattern,
      maxLength: s.maxLength,
      min: s.minimum ?? s.exclusiveMinimum,
      max: s.maximum ?? s.exclusiveMaximum,
    }
  })
}

interface FormValues {
  platform: PlatformKind
  name: string
  config: Record<string, unknown>
}

const CHANNEL_PLATFORMS: Record<string, 'channelTmc' | 'channelPmc'> = { taobao: 'channelTmc', pdd: 'channelPmc' }

const blank = (v: unknown) => v === undefined || v === null || (typeof v === 'string' && v.trim() === '')

/**
 * Create (`connection` absent; then show `ShopConnectionCreated`) or edit a shop connection. Editing
 * sends only what changed: secrets only when typed (that rotates them), `null` to clear an optional field.
 */
export function ShopConnectionModal({
  connection,
  onClose,
  onDone,
}: {
  connection?: Connection | null
  onClose: () => void
  onDone: (c: Connection) => void
}) {
  const editing = !!connection
  const current = (connection?.config ?? {}) as Record<string, unknown>
  const { t, i18n } = useTranslation()
  const [form] = Form.useForm<FormValues>()
  const queryClient = useQueryClient()
  const { message } = App.useApp()
  const showError = useApiError()
  const platformName = usePlatformName()
  const types = useQuery({ queryKey: ['platform-types'], queryFn: listPlatformTypes, staleTime: 300_000 })
  const shopTypes = useMemo(() => (types.data ?? []).filter((x) => (SHOP_PLATFORMS as readonly string[]).includes(x.platform)), [types.data])
  const platform = Form.useWatch('platform', form) as PlatformKind | undefined
  const type = shopTypes.find((x) => x.platform === platform)
  const fields = useMemo(() => (type ? configFields(type) : []), [type])
  const [advancedOpen, setAdvancedOpen] = useState<string[]>(() =>
    Object.entries(current).some(([k, v]) => !k.startsWith('has_') && v != null && ['api_base_url', 'rate_limit_per_second'].includes(k)) ? ['advanced'] : [],
  )

  const label = (f: ConfigField) => (i18n.exists(`commerce.configFields.${f.key}`) ? t(`commerce.configFields.${f.key}`) : f.title)
  const help = (f: ConfigField) => (i18n.exists(`commerce.configHelp.${f.key}`) ? t(`commerce.configHelp.${f.key}`) : undefined)

  const save = useMutation({
    mutationFn: (v: FormValues) => {
      if (connection) {
        const body: ConnectionUpdate = {}
        if (v.name.trim() !== connection.name) body.name = v.name.trim()
        const patch: Record<string, unknown> = {}
        for (const f of fields) {
          const raw = v.config?.[f.key]
          const next = typeof raw === 'string' ? raw.trim() : raw
          if (f.secret) {
            if (!blank(next)) patch[f.key] = next
          } else if (blank(next)) {
            if (!f.required && current[f.key] != null) patch[f.key] = null
          } else if (next !== current[f.key]) {
            patch[f.key] = next
          }
        }
        if (Object.keys(patch).length) body.config = patch
        return updateConnection(connection.id, body)
      }
      const config: Record<string, unknown> = {}
      for (const f of fields) {
        const val = v.config?.[f.key]
        const x = typeof val === 'string' ? val.trim() : val
        if (x !== undefined && x !== null && x !== '') config[f.key] = x
      }
      return createConnection({ platform: v.platform, name: v.name.trim(), config })
    },
    onSuccess: (c) => {
      void message.success(editing ? t('common.saved') : t('commerce.connect.created'))
      queryClient.setQueryData(['connection', c.id], c)
      void queryClient.invalidateQueries({ queryKey: ['connections'] })
      void queryClient.invalidateQueries({ queryKey: ['commerce', 'shops'] })
      onDone(c)
    },
    onError: (e) => {
      showError(e, form)
      const advanced = fields.filter((f) => !f.required).map((f) => `config.${f.key}`)
      if (e instanceof ApiError && e.errors.some((x) => advanced.includes(x.field))) setAdvancedOpen(['advanced'])
    },
  })

  const item = (f: ConfigField) => (
    <Form.Item
      key={`${platform}-${f.key}`}
      name={['config', f.key]}
      label={label(f)}
      extra={help(f)}
      initialValue={
        editing
          ? f.secret
            ? undefined
            : ((current[f.key] as string | number | null | undefined) ?? undefined)
          : f.kind === 'enum' || (f.defaultValue !== null && f.defaultValue !== undefined)
            ? (f.defaultValue ?? undefined)
            : undefined
      }
      rules={[
        ...(f.required && !(editing && f.secret) ? [{ required: true, whitespace: true, message: t('commerce.connect.required', { field: label(f) }) }] : []),
        ...(f.pattern && f.kind === 'string' ? [{ pattern: new RegExp(f.pattern), message: t('commerce.connect.invalid') }] : []),
      ]}
    >
      {f.kind === 'enum' ? (
        <Select options={f.options.map((o) => ({ value: o, label: o }))} data-testid={`shop-form-${f.key}`} />
      ) : f.kind === 'number' || f.kind === 'integer' ? (
        <InputNumber min={f.min} max={f.max} precision={f.kind === 'integer' ? 0 : undefined} style={{ width: '100%' }} data-testid={`shop-form-${f.key}`} />
      ) : f.secret ? (
        <Input.Password
          autoComplete="new-password"
          maxLength={f.maxLength}
          placeholder={editing && current[`has_${f.key}`] ? t('connections.secretKeep') : undefined}
          data-testid={`shop-form-${f.key}`}
        />
      ) : (
        <Input autoComplete="off" maxLength={f.maxLength} data-testid={`shop-form-${f.key}`} />
      )}
    </Form.Item>
  )
  const required = fields.filter((f) => f.required)
  const optional = fields.filter((f) => !f.required)

  return (
    <Modal
      open
      width={640}
      title={editing ? t('connections.editTitle') : t('commerce.connect.title')}
      onCancel={onClose}
      onOk={() => form.submit()}
      okText={editing ? t('common.save') : t('commerce.connect.submit')}
      confirmLoading={save.isPending}
      okButtonProps={{ ...tid('shop-form-submit'), disabled: !type }}
      destroyOnHidden
      maskClosable={false}
      data-testid="shop-form-modal"
    >
      {editing ? null : (
        <Typography.Paragraph type="secondary" style={{ marginTop: 0 }}>
          {t('commerce.connect.hint')}
        </Typography.Paragraph>
      )}
      {types.isLoading ? (
        <Skeleton active />
      ) : types.error ? (
        <Alert type="error" showIcon message={t('errors.loadFailed')} />
      ) : (
        <Form<FormValues>
          form={form}
          layout="vertical"
          onFinish={(v) => save.mutate(v)}
          initialValues={connection ? { platform: connection.platform, name: connection.name, config: {} } : { config: {} }}
        >
          <Form.Item name="platform" label={t('commerce.connect.platform')} rules={[{ required: true, message: t('commerce.connect.platformRequired') }]}>
            <Radio.Group
              optionType="button"
              disabled={editing}
              data-testid="shop-form-platform"
              options={shopTypes.map((x) => ({ value: x.platform, label: <span data-testid={`shop-form-platform-${x.platform}`}>{platformName(x.platform)}</span> }))}
            />
          </Form.Item>
          <Form.Item name="name" label={t('commerce.connect.name')} rules={[{ required: true, whitespace: true, message: t('commerce.connect.nameRequired') }]}>
            <Input maxLength={100} placeholder={t('commerce.connect.namePlaceholder')} data-testid="shop-form-name" />
          </Form.Item>
          {type ? (
            <>
              {required.map(item)}
              {optional.length ? (
                <Collapse
                  ghost
                  activeKey={advancedOpen}
                  onChange={(k) => setAdvancedOpen(Array.isArray(k) ? k : [k])}
                  items={[
                    {
                      key: 'advanced',
                      label: <span data-testid="shop-form-advanced">{t('commerce.connect.advanced')}</span>,
                      forceRender: true,
                      children: optional.map(item),
                    },
                  ]}
                />
              ) : null}
            </>
          ) : null}
        </Form>
      )}
    </Modal>
  )
}

/** After creating a shop connection: the push URL to paste (Youzan, Douyin) or that pulls need nothing. */
export function ShopConnectionCreated({ connection, onClose }: { connection: Connection; onClose: () => void }) {
  const { t } = useTranslation()
  const platformName = usePlatformName()
  const name = platformName(connection.platform)
  const channel = CHANNEL_PLATFORMS[connection.platform]
  return (
    <Modal
      open
      width={680}
      title={t('commerce.connect.createdTitle', { name: connection.name })}
      onCancel={onClose}
      onOk={onClose}
      cancelButtonProps={{ style: { display: 'none' } }}
      okText={t('common.close')}
      okButtonProps={tid('shop-created-close')}
      data-testid="shop-created-modal"
    >
      <Descriptions
        column={1}
        size="small"
        bordered
        styles={{ label: { width: 140 } }}
        items={[
          { key: 'platform', label: t('commerce.shops.platform'), children: <ShopPlatformTag platform={connection.platform} /> },
          ...(connection.callback_url
            ? [{ key: 'url', label: t('commerce.shops.callbackUrl'), children: <CopyField value={connection.callback_url} testId="shop-created-callback-url" /> }]
            : []),
        ]}
      />
      <Typography.Paragraph style={{ marginTop: 16 }} data-testid="shop-created-hint">
        {connection.callback_url
          ? t('commerce.connect.createdPush', { platform: name })
          : t('commerce.connect.createdPull', { platform: name, channel: channel ? t(`commerce.shops.${channel}`) : '' })}
      </Typography.Paragraph>
      {connection.callback_url ? (
        <Typography.Paragraph type="secondary">{t(`commerce.connect.pushSteps.${connection.platform}`, { defaultValue: '' })}</Typography.Paragraph>
      ) : null}
      <Alert type="info" showIcon message={t('commerce.connect.createdNext')} />
    </Modal>
  )
}

export { CHANNEL_PLATFORMS }

/** A shop connection's settings: public fields as set, secrets as set / not set. */
export function ShopConnectionInfo({ connection, extra }: { connection: Connection; extra?: { key: string; label: ReactNode; children: ReactNode }[] }) {
  const { t, i18n } = useTranslation()
  const types = useQuery({ queryKey: ['platform-types'], queryFn: listPlatformTypes, staleTime: 300_000 })
  const type = (types.data ?? []).find((x) => x.platform === connection.platform)
  const cfg = connection.config as Record<string, unknown>
  if (!type) return <Skeleton active />
  const label = (f: ConfigField) => (i18n.exists(`commerce.configFields.${f.key}`) ? t(`commerce.configFields.${f.key}`) : f.title)
  return (
    <Descriptions
      column={1}
      size="small"
      styles={{ label: { width: 180 } }}
      data-testid="shop-connection-info"
      items={[
        ...configFields(type).map((f) => ({
          key: f.key,
          label: label(f),
          children: f.secret ? (
            <Tag color={cfg[`has_${f.key}`] ? 'green' : 'default'}>{cfg[`has_${f.key}`] ? t('connections.secretSet') : t('connections.secretUnset')}</Tag>
          ) : cfg[f.key] == null || cfg[f.key] === '' ? (
            <span className="muted">{f.key === 'api_base_url' ? t('commerce.connect.officialGateway') : '—'}</span>
          ) : (
            <Typography.Text code copyable>
              {String(cfg[f.key])}
            </Typography.Text>
          ),
        })),
        ...(extra ?? []),
      ]}
    />
  )
}

/** Where the platform pushes (Youzan, Douyin), with where to paste it; or that pulls need nothing. */
export function ShopCallback({ connection }: { connection: Connection }) {
  const { t } = useTranslation()
  const platformName = usePlatformName()
  const channel = CHANNEL_PLATFORMS[connection.platform]
  return (
    <div data-testid="shop-callback">
      {connection.callback_url ? (
        <>
          <CopyField value={connection.callback_url} testId="connection-callback-url" />
          <Typography.Paragraph style={{ marginTop: 12 }}>{t('commerce.connect.createdPush', { platform: platformName(connection.platform) })}</Typography.Paragraph>
          <Typography.Paragraph type="secondary">{t(`commerce.connect.pushSteps.${connection.platform}`, { defaultValue: '' })}</Typography.Paragraph>
        </>
      ) : (
        <Typography.Paragraph>
          {t('commerce.connect.createdPull', { platform: platformName(connection.platform), channel: channel ? t(`commerce.shops.${channel}`) : '' })}
        </Typography.Paragraph>
      )}
    </div>
  )
}

export function isShopPlatform(platform: string): boolean {
  return (SHOP_PLATFORMS as readonly string[]).includes(platform)
}
