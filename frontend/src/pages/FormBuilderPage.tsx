import { HistoryOutlined, LinkOutlined, SaveOutlined, UnorderedListOutlined } from '@ant-design/icons'
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query'
import { Alert, App, Button, Card, Drawer, Flex, Form, Input, List, Modal, Select, Switch, Tabs, Tag, Typography } from 'antd'
import { useEffect, useMemo, useRef, useState } from 'react'
import { useTranslation } from 'react-i18next'
import { Link, useNavigate, useParams } from 'react-router-dom'
import {
  ApiError,
  createForm,
  getForm,
  getFormVersion,
  listFormVersions,
  updateForm,
  validateFormDraft,
  type FieldError,
  type FormDetail,
  type FormIn,
  type FormKind,
} from '../api'
import { useAuth } from '../auth/AuthContext'
import { PERM } from '../auth/permissions'
import { FormCanvas, type CanvasItem } from '../components/forms/canvas'
import { FieldProperties } from '../components/forms/FieldProperties'
import { FormRenderer, formErrorText } from '../components/forms/FormRenderer'
import { cleanField, localText, newField, type FieldSpec, type FieldType } from '../components/forms/model'
import { SubmitActions, type SubmitAction } from '../components/forms/SubmitActions'
import '../components/forms/forms.css'
import { PageHeader } from '../components/PageHeader'
import { ErrorState, PageLoading } from '../components/states'
import { errorText } from '../components/useApiError'
import { formatDateTime } from '../utils/format'

// The drag-and-drop form builder (表单设计器): palette → canvas → properties, live preview, submit actions,
// save as a new version with the server's field errors on the fields, and the version history.

interface Settings {
  name: string
  description?: string
  kind: FormKind
  ticket_type?: string
  is_active: boolean
}

const SETTINGS_FIELDS = ['name', 'description', 'kind', 'ticket_type', 'is_active']
let uidCounter = 0
const nextUid = () => `f${(uidCounter += 1)}`

/** Server errors named `fields.<index>.<attribute>` → per canvas item (by the order they were sent in). */
function errorsByItem(errors: FieldError[], sentOrder: string[]): Map<string, FieldError[]> {
  const map = new Map<string, FieldError[]>()
  for (const error of errors) {
    const match = /^fields\.(\d+)(?:\.(.*))?$/.exec(error.field)
    const uid = match ? sentOrder[Number(match[1])] : undefined
    if (!uid) continue
    map.set(uid, [...(map.get(uid) ?? []), { ...error, field: match?.[2] ?? '' }])
  }
  return map
}

function VersionsDrawer({ form, open, onClose }: { form: FormDetail; open: boolean; onClose: () => void }) {
  const { t } = useTranslation()
  const [viewing, setViewing] = useState<number | null>(null)
  const versions = useQuery({ queryKey: ['forms', form.id, 'versions'], queryFn: () => listFormVersions(form.id), enabled: open })
  const version = useQuery({
    queryKey: ['forms', form.id, 'versions', viewing],
    queryFn: () => getFormVersion(form.id, viewing!),
    enabled: viewing != null,
  })
  return (
    <Drawer title={t('forms.versions.title')} open={open} onClose={onClose} width={420} data-testid="form-versions">
      <List
        loading={versions.isLoading}
        dataSource={versions.data ?? []}
        renderItem={(v) => (
          <List.Item
            data-testid={`form-version-row-${v.version}`}
            actions={[
              <Button key="view" size="small" onClick={() => setViewing(v.version)} data-testid={`form-version-view-${v.version}`}>
                {t('forms.versions.view')}
              </Button>,
            ]}
          >
            <List.Item.Meta
              title={
                <Flex gap={8} align="center">
                  {t('forms.builder.version', { version: v.version })}
                  {v.version === form.current_version ? <Tag color="blue">{t('forms.versions.current')}</Tag> : null}
                </Flex>
              }
              description={`${formatDateTime(v.created_at)} · ${v.created_by}`}
            />
          </List.Item>
        )}
      />
      <Modal
        open={viewing != null}
        title={t('forms.versions.viewTitle', { version: viewing })}
        footer={null}
        onCancel={() => setViewing(null)}
        destroyOnHidden
      >
        {version.data ? <FormRenderer fields={version.data.fields as unknown as FieldSpec[]} disabled testIdPrefix="version-field" /> : <PageLoading />}
      </Modal>
    </Drawer>
  )
}

export default function FormBuilderPage() {
  const { t, i18n } = useTranslation()
  const { message } = App.useApp()
  const params = useParams()
  const formId = params.id ? Number(params.id) : null
  const navigate = useNavigate()
  const queryClient = useQueryClient()
  const { can } = useAuth()
  const canManage = can(PERM.formsManage)
  const [settings] = Form.useForm<Settings>()
  const kind = (Form.useWatch('kind', settings) ?? 'public') as FormKind
  const [items, setItems] = useState<CanvasItem[]>([])
  const [actions, setActions] = useState<SubmitAction[]>([])
  const [selected, setSelected] = useState<string | null>(null)
  const [errors, setErrors] = useState<{ list: FieldError[]; order: string[] }>({ list: [], order: [] })
  const [checked, setChecked] = useState<boolean | null>(null)
  const [loadedId, setLoadedId] = useState<number | null>(null)
  const [versionsOpen, setVersionsOpen] = useState(false)
  const [tab, setTab] = useState('properties')
  const form = useQuery({ queryKey: ['forms', formId], queryFn: () => getForm(formId!), enabled: formId != null })

  useEffect(() => {
    if (!form.data || loadedId === form.data.id) return
    const data = form.data
    setItems(data.definition.fields.map((field) => ({ uid: nextUid(), field: field as unknown as FieldSpec })))
    setActions(data.on_submit as unknown as SubmitAction[])
    settings.setFieldsValue({
      name: data.name,
      description: data.description,
      kind: data.kind,
      ticket_type: data.ticket_type ?? undefined,
      is_active: data.is_active,
    })
    setLoadedId(data.id)
  }, [form.data, loadedId, settings])

  const fields = useMemo(() => items.map((i) => i.field), [items])
  const sentFields = () => items.map((i) => cleanField(i.field))
  const byItem = useMemo(() => errorsByItem(errors.list, errors.order), [errors])
  const otherErrors = errors.list.filter((e) => !e.field.startsWith('fields.') && !e.field.startsWith('on_submit') && !SETTINGS_FIELDS.includes(e.field))

  // The dry run: the server checks the draft a moment after each change.
  const checkSeq = useRef(0)
  useEffect(() => {
    if (!canManage || !items.length) return
    const seq = (checkSeq.current += 1)
    const order = items.map((i) => i.uid)
    const timer = window.setTimeout(() => {
      validateFormDraft({ fields: items.map((i) => cleanField(i.field)) as unknown as Record<string, unknown>[], on_submit: kind === 'public' ? actions : [], kind })
        .then((result) => {
          if (seq !== checkSeq.current) return
          setErrors({ list: result.errors as unknown as FieldError[], order })
          setChecked(result.valid)
        })
        .catch(() => undefined)
    }, 500)
    return () => window.clearTimeout(timer)
  }, [items, actions, kind, canManage])

  const save = useMutation({
    mutationFn: async () => {
      const values = await settings.validateFields()
      const body: FormIn = {
        name: values.name,
        description: values.description ?? '',
        kind: values.kind,
        ticket_type: values.kind === 'ticket' ? values.ticket_type || null : null,
        is_active: values.is_active,
        fields: sentFields() as unknown as Record<string, unknown>[],
        on_submit: values.kind === 'public' ? actions : [],
      }
      return formId == null ? createForm(body) : updateForm(formId, body)
    },
    onMutate: () => ({ order: items.map((i) => i.uid), before: form.data?.current_version }),
    onSuccess: (saved, _v, context) => {
      setErrors({ list: [], order: context?.order ?? [] })
      queryClient.setQueryData(['forms', saved.id], saved)
      void queryClient.invalidateQueries({ queryKey: ['forms'] })
      const same = context?.before === saved.current_version
      void message.success(t(same ? 'forms.builder.savedSame' : 'forms.builder.saved', { version: saved.current_version }))
      if (formId == null) {
        setLoadedId(saved.id)
        navigate(`/forms/${saved.id}`, { replace: true })
      }
    },
    onError: (err, _v, context) => {
      if (!(err instanceof ApiError)) return // the settings form shows its own errors
      setErrors({ list: err.errors, order: context?.order ?? [] })
      const onSettings = err.errors.filter((e) => SETTINGS_FIELDS.includes(e.field))
      settings.setFields(onSettings.map((e) => ({ name: e.field as keyof Settings, errors: [formErrorText(e, t)] })))
      void message.error({ content: err.status === 422 || err.status === 409 ? t('forms.builder.saveFailed') : errorText(err, t), key: 'api-error', className: 'api-error-message' })
    },
  })

  if (formId != null && form.isLoading) return <PageLoading />
  if (formId != null && form.error) return <ErrorState error={form.error} onRetry={() => void form.refetch()} />

  const taken = () => new Set(items.map((i) => i.field.key))
  const insert = (type: FieldType, index: number) => {
    const field = newField(type, taken(), { 'zh-CN': t(`forms.type.${type}`, { lng: 'zh-CN' }), en: t(`forms.type.${type}`, { lng: 'en' }) })
    const item = { uid: nextUid(), field }
    setItems((old) => [...old.slice(0, index), item, ...old.slice(index)])
    setSelected(item.uid)
    setTab('properties')
  }
  const remove = (uid: string) => {
    const key = items.find((i) => i.uid === uid)?.field.key
    setItems((old) =>
      old
        .filter((i) => i.uid !== uid)
        // rules that named the removed field go with it
        .map((i) => ({
          ...i,
          field: {
            ...i.field,
            visible_if: i.field.visible_if?.field === key ? null : i.field.visible_if,
            required_if: i.field.required_if?.field === key ? null : i.field.required_if,
          },
        })),
    )
    if (selected === uid) setSelected(null)
  }
  const change = (uid: string, patch: Partial<FieldSpec>) => {
    const before = items.find((i) => i.uid === uid)?.field.key
    const renamed = patch.key !== undefined && patch.key !== before ? patch.key : null
    setItems((old) =>
      old.map((i) => {
        if (i.uid === uid) return { ...i, field: { ...i.field, ...patch } }
        if (!renamed) return i
        // a renamed field's rules and actions follow it
        const to: string = renamed
        const follow = (rule: FieldSpec['visible_if']) => (rule && rule.field === before ? { ...rule, field: to } : rule)
        return { ...i, field: { ...i.field, visible_if: follow(i.field.visible_if), required_if: follow(i.field.required_if) } }
      }),
    )
    if (renamed) setActions((old) => old.map((a) => (a.type === 'tag_customer' && a.phone_field === before ? { ...a, phone_field: renamed } : a)))
  }
  const current = items.find((i) => i.uid === selected) ?? null
  const data = form.data
  const version = data?.current_version
  const problems = errors.list.length

  return (
    <div data-testid="form-builder-page">
      <PageHeader
        title={
          <Flex align="center" gap={8}>
            {data ? t('forms.builder.editTitle', { name: data.name }) : t('forms.builder.newTitle')}
            {version ? (
              <Tag color="blue" data-testid="form-version" data-version={version}>
                {t('forms.builder.version', { version })}
              </Tag>
            ) : null}
          </Flex>
        }
        extra={
          <>
            {data?.public_key ? (
              <Link to={`/f/${data.public_key}`} target="_blank" data-testid="form-public-link">
                <Button icon={<LinkOutlined />}>{t('forms.list.publicLink')}</Button>
              </Link>
            ) : null}
            {data ? (
              <>
                <Link to={`/forms/${data.id}/submissions`}>
                  <Button icon={<UnorderedListOutlined />} data-testid="form-submissions-link">
                    {t('forms.list.submissions')}
                  </Button>
                </Link>
                <Button icon={<HistoryOutlined />} onClick={() => setVersionsOpen(true)} data-testid="form-versions-open">
                  {t('forms.builder.versions')}
                </Button>
              </>
            ) : null}
            {canManage ? (
              <Button type="primary" icon={<SaveOutlined />} loading={save.isPending} onClick={() => save.mutate()} data-testid="form-save">
                {t('forms.builder.save')}
              </Button>
            ) : null}
          </>
        }
      />
      <Card size="small" title={t('forms.builder.settings')} style={{ marginBottom: 12 }}>
        <Form form={settings} layout="inline" disabled={!canManage} initialValues={{ kind: 'public', is_active: true }} data-testid="form-settings" className="form-settings">
          <Form.Item name="name" label={t('forms.builder.name')} rules={[{ required: true, whitespace: true, message: t('forms.builder.nameRequired') }]}>
            <Input placeholder={t('forms.builder.namePlaceholder')} style={{ width: 240 }} maxLength={100} data-testid="form-name" />
          </Form.Item>
          <Form.Item name="kind" label={t('forms.builder.kind')} tooltip={formId == null ? t('forms.builder.kindHelp') : t('forms.builder.kindFixed')}>
            <Select
              style={{ width: 160 }}
              disabled={formId != null}
              options={(['public', 'ticket'] as const).map((k) => ({ value: k, label: t(`forms.kind.${k}`) }))}
              data-testid="form-kind"
            />
          </Form.Item>
          {kind === 'ticket' ? (
            <Form.Item name="ticket_type" label={t('forms.builder.ticketType')} rules={[{ required: true }]}>
              <Input placeholder={t('forms.builder.ticketTypePlaceholder')} style={{ width: 160 }} data-testid="form-ticket-type" />
            </Form.Item>
          ) : null}
          <Form.Item name="is_active" label={t('forms.builder.active')} valuePropName="checked">
            <Switch data-testid="form-active" />
          </Form.Item>
          <Form.Item name="description" label={t('forms.builder.description')} style={{ flex: 1, minWidth: 240 }}>
            <Input placeholder={t('forms.builder.descriptionPlaceholder')} maxLength={1000} data-testid="form-description" />
          </Form.Item>
        </Form>
      </Card>
      {otherErrors.length ? (
        <Alert type="error" showIcon style={{ marginBottom: 12 }} message={otherErrors.map((e) => formErrorText(e, t)).join('；')} data-testid="form-errors" />
      ) : null}
      <div style={{ minHeight: 22 }}>
        {items.length && checked !== null ? (
          <Typography.Text type={problems ? 'danger' : 'success'} data-testid="form-draft-status" data-valid={!problems}>
            {problems ? t('forms.builder.draftInvalid', { count: problems }) : t('forms.builder.draftValid')}
          </Typography.Text>
        ) : null}
      </div>
      <FormCanvas
        items={items}
        selected={selected}
        errors={byItem}
        disabled={!canManage}
        onSelect={(uid) => {
          setSelected(uid)
          setTab('properties')
        }}
        onInsert={insert}
        onMove={setItems}
        onRemove={remove}
        aside={
          <Card size="small">
            <Tabs
              activeKey={tab}
              onChange={setTab}
              items={[
                {
                  key: 'properties',
                  label: <span data-testid="tab-properties">{t('forms.builder.properties')}</span>,
                  children: (
                    <FieldProperties
                      field={current?.field ?? null}
                      fields={fields}
                      errors={current ? (byItem.get(current.uid) ?? []) : []}
                      disabled={!canManage}
                      onChange={(patch) => current && change(current.uid, patch)}
                    />
                  ),
                },
                {
                  key: 'preview',
                  label: <span data-testid="tab-preview">{t('forms.builder.preview')}</span>,
                  children: (
                    <div data-testid="form-preview">
                      <Typography.Title level={5}>{settings.getFieldValue('name') || localText({}, i18n.language)}</Typography.Title>
                      <FormRenderer fields={items.map((i) => cleanField(i.field))} testIdPrefix="preview-field" />
                    </div>
                  ),
                },
                ...(kind === 'public'
                  ? [
                      {
                        key: 'actions',
                        label: <span data-testid="tab-actions">{t('forms.builder.actions')}</span>,
                        children: (
                          <SubmitActions
                            actions={actions}
                            fields={fields}
                            errors={errors.list.filter((e) => e.field.startsWith('on_submit'))}
                            disabled={!canManage}
                            onChange={setActions}
                          />
                        ),
                      },
                    ]
                  : []),
              ]}
            />
          </Card>
        }
      />
      {data ? <VersionsDrawer form={data} open={versionsOpen} onClose={() => setVersionsOpen(false)} /> : null}
    </div>
  )
}
