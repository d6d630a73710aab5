import { ArrowLeftOutlined, DeleteOutlined, MinusCircleOutlined, PlusOutlined, SaveOutlined } from '@ant-design/icons'
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query'
import { Affix, Alert, App, Button, Card, Col, Empty, Flex, Form, Input, Radio, Row, Select, Space, Switch, Typography } from 'antd'
import type { FormInstance } from 'antd'
import { useEffect, useMemo, useState } from 'react'
import { useTranslation } from 'react-i18next'
import { Link, useNavigate, useParams } from 'react-router-dom'
import {
  ApiError,
  createChannel,
  getChannel,
  updateChannel,
  type Channel,
  type ChannelCreate,
  type ChannelUpdate,
  type FieldError,
  type Routing,
  type WeeklyWindow,
} from '../api'
import { useConnectionNames, useContactStaff, useChannelGroups, useTagOptions } from '../components/channels'
import { ClockInput, DateInput } from '../components/channelEditor/inputs'
import { PhonePreview } from '../components/channelEditor/PhonePreview'
import { StaffEditor, type StaffRow } from '../components/channelEditor/StaffEditor'
import { WeekEditor } from '../components/channelEditor/WeekEditor'
import { AttachmentsEditor, TemplateInput, templateRule, VariantsEditor } from '../components/channelEditor/WelcomeEditor'
import { ErrorState, NotFound, PageLoading } from '../components/states'
import { fieldErrorText, fieldPath, useApiError } from '../components/useApiError'
import { REMARK_PLACEHOLDERS, TIME_ZONES, WELCOME_PLACEHOLDERS } from '../utils/schedule'
import { tid } from '../utils/testid'

type Attachment = Record<string, unknown>

interface VariantRow {
  name: string
  days: number[]
  start: string | null
  end: string | null
  from_date: string | null
  to_date: string | null
  text: string
  custom_attachments: boolean
  attachments: Attachment[]
}

interface SpecialRow {
  date: string | null
  closed: boolean
  hours: { start: string | null; end: string | null }[]
  userids: string[]
}

interface EditorValues {
  connection_id?: number
  name: string
  description: string
  state: string
  group_id: number | null
  store: string
  region: string
  staff: StaffRow[]
  routing: {
    strategy: string
    timezone: string
    use_schedule: boolean
    schedule: WeeklyWindow[]
    special_dates: SpecialRow[]
    match_location: boolean
    sticky: boolean
  }
  tags: number[]
  welcome: { enabled: boolean; text: string; attachments: Attachment[]; variants: VariantRow[] }
  skip_verify: boolean
  use_skip_windows: boolean
  skip_verify_windows: WeeklyWindow[]
  remark_template: string
  description_template: string
}

const STRATEGIES = ['round_robin', 'weighted', 'random'] as const
const MAX_TEXT_BYTES = 3800

/** Server errors shown on an input (path patterns of the inputs this form always renders). */
const LEAVES: [RegExp, (m: RegExpMatchArray) => string][] = [
  [/^(name|description|state|group_id|store|region|connection_id|remark_template|description_template|skip_verify)$/, (m) => m[1]],
  [/^tags(\.\d+)?$/, () => 'tags'],
  [/^staff\.(\d+)\.(daily_cap|backup)$/, (m) => m[0]],
  [/^routing\.(strategy|timezone|match_location|sticky)$/, (m) => m[0]],
  [/^routing\.special_dates\.(\d+)\.(date|userids)(\.\d+)?$/, (m) => `routing.special_dates.${m[1]}.${m[2]}`],
  [/^welcome\.(text|enabled)$/, (m) => m[0]],
  [/^welcome\.variants\.(\d+)\.(name|text|from_date|to_date)$/, (m) => m[0]],
  [/^welcome\.variants\.(\d+)\.days(\.\d+)?$/, (m) => `welcome.variants.${m[1]}.days`],
]

function leafOf(field: string): string | null {
  for (const [re, to] of LEAVES) {
    const m = field.match(re)
    if (m) return to(m)
  }
  return null
}

const textBytes = (v?: string | null) => new TextEncoder().encode(v ?? '').length

function fromChannel(c: Channel): EditorValues {
  const r = c.routing
  const w = c.welcome
  return {
    connection_id: c.connection_id,
    name: c.name,
    description: c.description ?? '',
    state: c.state,
    group_id: c.group_id ?? null,
    store: c.store ?? '',
    region: c.region ?? '',
    staff: c.staff.map((s) => ({
      userid: s.userid,
      weight: s.weight ?? 1,
      daily_cap: s.daily_cap ?? null,
      backup: !!s.backup,
      store: s.store ?? null,
      region: s.region ?? null,
      schedule: s.schedule ?? null,
    })),
    routing: {
      strategy: r.strategy ?? 'round_robin',
      timezone: r.timezone ?? 'Asia/Shanghai',
      use_schedule: r.schedule != null,
      schedule: r.schedule ?? [],
      special_dates: (r.special_dates ?? []).map((d) => ({
        date: d.date,
        closed: !(d.hours ?? []).length,
        hours: (d.hours ?? []).map((h) => ({ start: h.start, end: h.end })),
        userids: d.userids ?? [],
      })),
      match_location: !!r.match_location,
      sticky: !!r.sticky,
    },
    tags: c.tags.map((x) => x.id),
    welcome: {
      enabled: w?.enabled !== false,
      text: w?.text ?? '',
      attachments: (w?.attachments ?? []) as Attachment[],
      variants: (w?.variants ?? []).map((v) => ({
        name: v.name,
        days: v.days ?? [],
        start: v.start ?? null,
        end: v.end ?? null,
        from_date: v.from_date ?? null,
        to_date: v.to_date ?? null,
        text: v.text ?? '',
        custom_attachments: v.attachments != null,
        attachments: (v.attachments ?? []) as Attachment[],
      })),
    },
    skip_verify: c.skip_verify,
    use_skip_windows: (c.skip_verify_windows ?? []).length > 0,
    skip_verify_windows: c.skip_verify_windows ?? [],
    remark_template: c.remark_template ?? '',
    description_template: c.description_template ?? '',
  }
}

const EMPTY: EditorValues = {
  name: '',
  description: '',
  state: '',
  group_id: null,
  store: '',
  region: '',
  staff: [],
  routing: { strategy: 'round_robin', timezone: 'Asia/Shanghai', use_schedule: false, schedule: [], special_dates: [], match_location: false, sticky: false },
  tags: [],
  welcome: { enabled: true, text: '', attachments: [], variants: [] },
  skip_verify: true,
  use_skip_windows: false,
  skip_verify_windows: [],
  remark_template: '',
  description_template: '',
}

/** Only the shape WeCom takes for each attachment kind (the form keeps the other kinds' fields around). */
function cleanAttachment(a: Attachment): Attachment {
  const kind = String(a.msgtype ?? 'link')
  const body = Object.fromEntries(Object.entries((a[kind] ?? {}) as Record<string, unknown>).filter(([, v]) => v !== undefined && v !== null && v !== ''))
  return { msgtype: kind, [kind]: body }
}

const blank = (v?: string | null) => (v && v.trim() ? v.trim() : null)

function toBody(v: EditorValues): ChannelUpdate & { connection_id?: number; state?: string | null } {
  return {
    name: v.name.trim(),
    description: blank(v.description),
    group_id: v.group_id ?? null,
    store: blank(v.store),
    region: blank(v.region),
    staff: v.staff.map((s) => ({
      userid: s.userid,
      weight: s.weight ?? 1,
      daily_cap: s.daily_cap ?? null,
      backup: !!s.backup,
      store: blank(s.store),
      region: blank(s.region),
      schedule: s.schedule ?? null,
    })),
    routing: {
      strategy: v.routing.strategy as NonNullable<Routing['strategy']>,
      timezone: v.routing.timezone,
      schedule: v.routing.use_schedule ? (v.routing.schedule ?? []) : null,
      special_dates: (v.routing.special_dates ?? [])
        .filter((d) => d.date)
        .map((d) => ({
          date: d.date as string,
          hours: d.closed ? [] : (d.hours ?? []).filter((h) => h.start && h.end).map((h) => ({ start: h.start as string, end: h.end === '00:00' ? '24:00' : (h.end as string) })),
          userids: d.userids ?? [],
        })),
      match_location: !!v.routing.match_location,
      sticky: !!v.routing.sticky,
    },
    tags: v.tags ?? [],
    welcome: {
      enabled: v.welcome.enabled !== false,
      text: v.welcome.text ?? '',
      attachments: (v.welcome.attachments ?? []).map(cleanAttachment),
      variants: (v.welcome.variants ?? []).map((x) => ({
        name: x.name.trim(),
        days: x.days ?? [],
        start: x.start || null,
        end: x.end || null,
        from_date: x.from_date || null,
        to_date: x.to_date || null,
        text: x.text && x.text.trim() ? x.text : null,
        attachments: x.custom_attachments ? (x.attachments ?? []).map(cleanAttachment) : null,
      })),
    },
    skip_verify: !!v.skip_verify,
    skip_verify_windows: v.use_skip_windows ? (v.skip_verify_windows ?? []) : [],
    remark_template: blank(v.remark_template),
    description_template: blank(v.description_template),
  }
}

export default function ChannelEditorPage() {
  const { id: idParam } = useParams()
  const editing = idParam !== undefined
  const id = Number(idParam)
  const code = useQuery({ queryKey: ['channels', 'detail', id], queryFn: () => getChannel(id), enabled: editing && Number.isInteger(id) && id > 0 })
  if (editing && (!Number.isInteger(id) || id <= 0)) return <NotFound />
  if (editing && code.isLoading) return <PageLoading />
  if (editing && (code.error || !code.data)) return <ErrorState error={code.error} onRetry={() => void code.refetch()} />
  return <ChannelEditor key={code.data?.id ?? 'new'} channel={code.data} />
}

function ChannelEditor({ channel }: { channel?: Channel }) {
  const { t } = useTranslation()
  const navigate = useNavigate()
  const queryClient = useQueryClient()
  const { message } = App.useApp()
  const showError = useApiError()
  const [form] = Form.useForm<EditorValues>()
  const [serverErrors, setServerErrors] = useState<FieldError[]>([])
  const connections = useConnectionNames()
  const groups = useChannelGroups()

  const connectionId = Form.useWatch('connection_id', form) ?? channel?.connection_id
  const strategy = (Form.useWatch(['routing', 'strategy'], form) as string | undefined) ?? 'round_robin'
  const useSchedule = !!Form.useWatch(['routing', 'use_schedule'], form)
  const byLocation = !!Form.useWatch(['routing', 'match_location'], form)
  const useSkipWindows = !!Form.useWatch('use_skip_windows', form)
  const timezone = (Form.useWatch(['routing', 'timezone'], form) as string | undefined) ?? 'Asia/Shanghai'
  const welcome = Form.useWatch('welcome', form) as EditorValues['welcome'] | undefined
  const name = (Form.useWatch('name', form) as string | undefined) ?? ''
  const staffRows = (Form.useWatch('staff', form) ?? []) as StaffRow[]
  const members = useContactStaff(connectionId)
  const tagOptions = useTagOptions(connectionId)

  // a new code on the only live WeCom connection needs no choice
  useEffect(() => {
    if (!channel && !form.getFieldValue('connection_id')) {
      const live = connections.items.filter((c) => c.platform === 'wecom' && c.status !== 'disabled')
      if (live.length === 1) form.setFieldValue('connection_id', live[0].id)
    }
  }, [channel, connections.items, form])

  const previewWelcome = useMemo(
    () =>
      welcome
        ? {
            enabled: welcome.enabled,
            text: welcome.text,
            attachments: (welcome.attachments ?? []).filter(Boolean).map(cleanAttachment),
            variants: (welcome.variants ?? []).filter(Boolean).map((x) => ({
              name: x.name || t('channels.welcome.variantUntitled'),
              days: x.days ?? [],
              start: x.start || null,
              end: x.end || null,
              from_date: x.from_date || null,
              to_date: x.to_date || null,
              text: x.text && x.text.trim() ? x.text : null,
              attachments: x.custom_attachments ? (x.attachments ?? []).filter(Boolean).map(cleanAttachment) : null,
            })),
          }
        : undefined,
    [welcome, t],
  )
  const firstStaff = staffRows.find((s) => s && !s.backup) ?? staffRows[0]

  const errorsAt = (prefix: string) =>
    serverErrors
      .filter((e) => !leafOf(e.field) && (e.field === prefix || e.field.startsWith(`${prefix}.`)))
      .filter((e) => prefix !== 'staff' || e.field === 'staff')
      .map((e) => e.message.replace(/^Value error, /, ''))

  const save = useMutation({
    mutationFn: async (v: EditorValues) => {
      const body = toBody(v)
      if (channel) return updateChannel(channel.id, body)
      return createChannel({ ...body, connection_id: v.connection_id as number, state: blank(v.state), staff: body.staff ?? [] } as ChannelCreate)
    },
    onSuccess: (saved) => {
      setServerErrors([])
      queryClient.setQueryData(['channels', 'detail', saved.id], saved)
      void queryClient.invalidateQueries({ queryKey: ['channels', 'list'] })
      void queryClient.invalidateQueries({ queryKey: ['channel-groups'] })
      void message.success(channel ? t('channels.form.saved') : t('channels.form.created', { name: saved.name }))
      navigate(`/channels/${saved.id}`)
    },
    onError: (e) => {
      const errors = e instanceof ApiError ? e.errors : []
      setServerErrors(errors)
      const placed = errors.map((x) => ({ leaf: leafOf(x.field), message: fieldErrorText(x, t).replace(/^Value error, /, '') })).filter((x) => x.leaf)
      if (placed.length) form.setFields(placed.map((x) => ({ name: fieldPath(x.leaf as string), errors: [x.message] })))
      showError(e)
      if (placed.length) form.scrollToField(fieldPath(placed[0].leaf as string), { block: 'center' })
    },
  })

  const onFinish = () => {
    if (save.isPending) return
    setServerErrors([])
    // every value, also of inputs not on screen (a member's own schedule lives in a closed dialog)
    save.mutate(form.getFieldsValue(true) as EditorValues)
  }

  const SECTIONS = ['staff', 'routing', 'welcome', 'skip_verify_windows']
  /** Errors of a card not shown on one of its inputs (nor in a variant's or a member's own box). */
  const sectionErrors = (section: string | null, testId: string) => {
    const list = serverErrors
      .filter((e) => !leafOf(e.field))
      .filter((e) =>
        section === null
          ? !SECTIONS.some((s) => e.field === s || e.field.startsWith(`${s}.`))
          : (e.field === section || e.field.startsWith(`${section}.`)) && !/^welcome\.variants\.\d+/.test(e.field),
      )
      .map((e) => (e.field && section === null ? `${e.field}: ` : '') + e.message.replace(/^Value error, /, ''))
    return list.length ? <Alert type="error" showIcon style={{ marginBottom: 12 }} message={list.join('；')} data-testid={testId} /> : null
  }

  const back = channel ? `/channels/${channel.id}` : '/channels'

  return (
    <>
      <Link to={back} data-testid="channel-form-back">
        <ArrowLeftOutlined /> {channel ? channel.name : t('channels.title')}
      </Link>
      <Flex justify="space-between" align="center" style={{ margin: '8px 0 16px' }} wrap gap={12}>
        <Typography.Title level={3} style={{ margin: 0 }} data-testid="page-title">
          {channel ? t('channels.form.editTitle', { name: channel.name }) : t('channels.form.createTitle')}
        </Typography.Title>
        <Space>
          <Button onClick={() => navigate(back)}>{t('common.cancel')}</Button>
          <Button type="primary" icon={<SaveOutlined />} loading={save.isPending} onClick={() => form.submit()} data-testid="channel-form-submit">
            {channel ? t('common.save') : t('channels.form.createSubmit')}
          </Button>
        </Space>
      </Flex>
      <Form<EditorValues>
        form={form}
        layout="vertical"
        initialValues={channel ? fromChannel(channel) : EMPTY}
        onFinish={onFinish}
        onFinishFailed={({ errorFields }) => errorFields[0] && form.scrollToField(errorFields[0].name, { block: 'center' })}
        scrollToFirstError={false}
        data-testid="channel-form"
        // Enter in a one-line input (a time picker, a name) must not save the whole code
        onKeyDown={(e) => {
          if (e.key === 'Enter' && e.target instanceof HTMLInputElement) e.preventDefault()
        }}
        onValuesChange={(changed: Partial<EditorValues>) => {
          if (!channel && 'connection_id' in changed) form.setFieldsValue({ staff: [], tags: [] })
        }}
      >
        <Row gutter={24} align="top">
          <Col xs={24} xl={15}>
            <Card title={t('channels.form.basics')} style={{ marginBottom: 16 }} data-testid="channel-form-basics">
              {sectionErrors(null, 'channel-form-basics-errors')}
              <Row gutter={16}>
                <Col xs={24} md={12}>
                  <Form.Item name="connection_id" label={t('channels.form.connection')} rules={[{ required: true, message: t('channels.form.connectionRequired') }]}>
                    <Select
                      options={connections.options}
                      loading={connections.isLoading}
                      disabled={!!channel}
                      placeholder={t('channels.form.connectionPlaceholder')}
                      data-testid="channel-form-connection"
                      optionRender={(opt) => <span data-testid={`channel-form-connection-option-${opt.value}`}>{opt.label}</span>}
                    />
                  </Form.Item>
                </Col>
                <Col xs={24} md={12}>
                  <Form.Item name="name" label={t('channels.form.name')} rules={[{ required: true, whitespace: true, message: t('channels.form.nameRequired') }]}>
                    <Input maxLength={100} placeholder={t('channels.form.namePlaceholder')} data-testid="channel-form-name" />
                  </Form.Item>
                </Col>
                <Col xs={24} md={12}>
                  <Form.Item name="group_id" label={t('channels.form.group')}>
                    <Select
                      allowClear
                      options={(groups.data ?? []).map((g) => ({ value: g.id, label: g.name }))}
                      placeholder={t('channels.form.groupPlaceholder')}
                      data-testid="channel-form-group"
                      optionRender={(opt) => <span data-testid={`channel-form-group-option-${opt.value}`}>{opt.label}</span>}
                    />
                  </Form.Item>
                </Col>
                <Col xs={12} md={6}>
                  <Form.Item name="store" label={t('channels.form.store')} tooltip={t('channels.form.storeHint')}>
                    <Input maxLength={100} placeholder={t('channels.form.storePlaceholder')} data-testid="channel-form-store" />
                  </Form.Item>
                </Col>
                <Col xs={12} md={6}>
                  <Form.Item name="region" label={t('channels.form.region')}>
                    <Input maxLength={100} placeholder={t('channels.form.regionPlaceholder')} data-testid="channel-form-region" />
                  </Form.Item>
                </Col>
                <Col xs={24} md={channel ? 24 : 12}>
                  <Form.Item name="description" label={t('channels.form.description')}>
                    <Input maxLength={500} placeholder={t('channels.form.descriptionPlaceholder')} data-testid="channel-form-description" />
                  </Form.Item>
                </Col>
                {!channel ? (
                  <Col xs={24} md={12}>
                    <Form.Item
                      name="state"
                      label={t('channels.form.state')}
                      tooltip={t('channels.form.stateHint')}
                      rules={[{ pattern: /^[A-Za-z0-9_.-]{1,30}$/, message: t('channels.form.stateInvalid') }]}
                    >
                      <Input maxLength={30} placeholder={t('channels.form.statePlaceholder')} data-testid="channel-form-state" />
                    </Form.Item>
                  </Col>
                ) : null}
              </Row>
            </Card>

            <Card title={t('channels.form.staffTitle')} style={{ marginBottom: 16 }} data-testid="channel-form-staff">
              <StaffEditor form={form} connectionId={connectionId} strategy={strategy} byLocation={byLocation} current={channel?.staff} errorsAt={errorsAt} />
            </Card>

            <Card title={t('channels.form.routingTitle')} style={{ marginBottom: 16 }} data-testid="channel-form-routing">
              {sectionErrors('routing', 'channel-form-routing-errors')}
              <Form.Item name={['routing', 'strategy']} label={t('channels.strategyLabel')}>
                <Radio.Group className="strategy-group" data-testid="channel-form-strategy">
                  {STRATEGIES.map((s) => (
                    <Radio.Button key={s} value={s}>
                      <div data-testid={`channel-form-strategy-${s}`} data-checked={String(strategy === s)}>
                        <div className="strategy-title">{t(`channels.strategy.${s}`)}</div>
                        <div className="strategy-hint">{t(`channels.strategyHint.${s}`)}</div>
                      </div>
                    </Radio.Button>
                  ))}
                </Radio.Group>
              </Form.Item>
              <Row gutter={16}>
                <Col xs={24} md={12}>
                  <Form.Item name={['routing', 'timezone']} label={t('channels.form.timezone')} tooltip={t('channels.form.timezoneHint')}>
                    <Select showSearch options={TIME_ZONES.map((z) => ({ value: z, label: z }))} data-testid="channel-form-timezone" />
                  </Form.Item>
                </Col>
                <Col xs={12} md={6}>
                  <Form.Item name={['routing', 'sticky']} label={t('channels.form.sticky')} tooltip={t('channels.form.stickyHint')} valuePropName="checked">
                    <Switch data-testid="channel-form-sticky" />
                  </Form.Item>
                </Col>
                <Col xs={12} md={6}>
                  <Form.Item name={['routing', 'match_location']} label={t('channels.form.matchLocation')} tooltip={t('channels.form.matchLocationHint')} valuePropName="checked">
                    <Switch data-testid="channel-form-match-location" />
                  </Form.Item>
                </Col>
              </Row>
              <Form.Item name={['routing', 'use_schedule']} valuePropName="checked" label={t('channels.form.schedule')} extra={t('channels.form.scheduleHint')} style={{ marginBottom: useSchedule ? 8 : 24 }}>
                <Switch checkedChildren={t('channels.form.byHours')} unCheckedChildren={t('channels.form.always')} data-testid="channel-form-use-schedule" />
              </Form.Item>
              {useSchedule ? (
                <Form.Item name={['routing', 'schedule']}>
                  <WeekEditor testId="channel-form-schedule" />
                </Form.Item>
              ) : null}
              <SpecialDates form={form} members={staffRows.map((s) => ({ value: s?.userid, label: members.nameOf(s?.userid ?? '') }))} />
            </Card>

            <Card title={t('channels.form.tagsTitle')} style={{ marginBottom: 16 }} data-testid="channel-form-tags-card">
              <Form.Item name="tags" label={t('channels.form.tags')} extra={t('channels.form.tagsHint')}>
                <Select
                  mode="multiple"
                  allowClear
                  options={tagOptions.options}
                  loading={tagOptions.isLoading}
                  optionFilterProp="label"
                  placeholder={connectionId ? t('channels.form.tagsPlaceholder') : t('channels.form.pickConnectionFirst')}
                  disabled={!connectionId}
                  notFoundContent={<Empty image={Empty.PRESENTED_IMAGE_SIMPLE} description={t('tags.empty')} />}
                  optionRender={(opt) => <span data-testid={`channel-form-tag-option-${opt.value}`}>{opt.label}</span>}
                  data-testid="channel-form-tags"
                />
              </Form.Item>
              <Row gutter={16}>
                <Col xs={24} md={12}>
                  <Form.Item
                    name="remark_template"
                    label={t('channels.form.remarkTemplate')}
                    extra={t('channels.form.remarkHint')}
                    rules={[templateRule(REMARK_PLACEHOLDERS, (names) => t('channels.welcome.unknownPlaceholders', { names }))]}
                  >
                    <TemplateInput multiline={false} maxLength={100} placeholders={REMARK_PLACEHOLDERS} testId="channel-form-remark" placeholder="{store}-{customer_name}" />
                  </Form.Item>
                </Col>
                <Col xs={24} md={12}>
                  <Form.Item
                    name="description_template"
                    label={t('channels.form.descriptionTemplate')}
                    extra={t('channels.form.descriptionTemplateHint')}
                    rules={[templateRule(REMARK_PLACEHOLDERS, (names) => t('channels.welcome.unknownPlaceholders', { names }))]}
                  >
                    <TemplateInput multiline={false} maxLength={300} placeholders={REMARK_PLACEHOLDERS} testId="channel-form-description-template" />
                  </Form.Item>
                </Col>
              </Row>
            </Card>

            <Card
              title={t('channels.form.welcomeTitle')}
              style={{ marginBottom: 16 }}
              data-testid="channel-form-welcome"
              extra={
                <Form.Item name={['welcome', 'enabled']} valuePropName="checked" noStyle>
                  <Switch checkedChildren={t('channels.form.welcomeOn')} unCheckedChildren={t('channels.form.welcomeOff')} data-testid="channel-form-welcome-enabled" />
                </Form.Item>
              }
            >
              {sectionErrors('welcome', 'channel-form-welcome-errors')}
              <Form.Item
                name={['welcome', 'text']}
                label={t('channels.welcome.text')}
                extra={t('channels.welcome.textHint')}
                rules={[
                  templateRule(WELCOME_PLACEHOLDERS, (names) => t('channels.welcome.unknownPlaceholders', { names })),
                  { validator: (_, v?: string) => (textBytes(v) > MAX_TEXT_BYTES ? Promise.reject(new Error(t('channels.welcome.textTooLong'))) : Promise.resolve()) },
                ]}
              >
                <TemplateInput placeholders={WELCOME_PLACEHOLDERS} testId="channel-form-welcome-text" placeholder={t('channels.welcome.textPlaceholder')} />
              </Form.Item>
              <Form.Item label={t('channels.welcome.attachments')} extra={t('channels.welcome.attachmentsHint')}>
                <AttachmentsEditor name={['welcome', 'attachments']} absName={['welcome', 'attachments']} testId="welcome-attachments" form={form} />
              </Form.Item>
              <Typography.Title level={5} style={{ marginTop: 8 }}>
                {t('channels.welcome.variants')}
              </Typography.Title>
              <Typography.Paragraph type="secondary">{t('channels.welcome.variantsHint')}</Typography.Paragraph>
              <VariantsEditor form={form} errorsAt={errorsAt} />
            </Card>

            <Card title={t('channels.form.verifyTitle')} style={{ marginBottom: 16 }} data-testid="channel-form-verify">
              {sectionErrors('skip_verify_windows', 'channel-form-verify-errors')}
              <Row gutter={16}>
                <Col xs={24} md={12}>
                  <Form.Item name="skip_verify" valuePropName="checked" label={t('channels.form.skipVerify')} extra={t('channels.form.skipVerifyHint')}>
                    <Switch data-testid="channel-form-skip-verify" />
                  </Form.Item>
                </Col>
                <Col xs={24} md={12}>
                  <Form.Item name="use_skip_windows" valuePropName="checked" label={t('channels.form.skipWindows')} extra={t('channels.form.skipWindowsHint')}>
                    <Switch data-testid="channel-form-use-skip-windows" />
                  </Form.Item>
                </Col>
              </Row>
              {useSkipWindows ? (
                <Form.Item name="skip_verify_windows">
                  <WeekEditor testId="channel-form-skip-windows" />
                </Form.Item>
              ) : null}
            </Card>
          </Col>
          <Col xs={24} xl={9}>
            <Affix offsetTop={16}>
              <Card title={t('channels.preview.title')} data-testid="channel-form-preview" styles={{ body: { maxHeight: 'calc(100vh - 110px)', overflow: 'auto' } }}>
                <PhonePreview
                  welcome={previewWelcome}
                  channelName={name}
                  staffName={firstStaff ? members.nameOf(firstStaff.userid) : ''}
                  timezone={timezone}
                />
              </Card>
            </Affix>
          </Col>
        </Row>
        <Flex justify="flex-end" gap={8} style={{ marginTop: 8 }}>
          <Button onClick={() => navigate(back)}>{t('common.cancel')}</Button>
          <Button type="primary" htmlType="submit" icon={<SaveOutlined />} loading={save.isPending} {...tid('channel-form-submit-bottom')}>
            {channel ? t('common.save') : t('channels.form.createSubmit')}
          </Button>
        </Flex>
      </Form>
    </>
  )
}

function SpecialDates({ form, members }: { form: FormInstance; members: { value: string | undefined; label: string }[] }) {
  const { t } = useTranslation()
  const rows = (Form.useWatch(['routing', 'special_dates'], form) ?? []) as SpecialRow[]
  return (
    <Form.Item label={t('channels.form.specialDates')} extra={t('channels.form.specialDatesHint')} style={{ marginBottom: 0 }}>
      <Form.List name={['routing', 'special_dates']}>
        {(fields, { add, remove }) => (
          <div data-testid="channel-form-special-dates" data-count={fields.length}>
            {fields.map((field, i) => {
              const closed = rows[i]?.closed
              return (
                <Card size="small" key={field.key} style={{ marginBottom: 8 }} data-testid={`channel-form-special-${i}`}>
                  <Flex gap={12} wrap align="flex-start">
                    <Form.Item name={[field.name, 'date']} rules={[{ required: true, message: t('channels.form.dateRequired') }]} style={{ marginBottom: 0 }}>
                      <DateInput allowClear={false} testId={`channel-form-special-${i}-date`} />
                    </Form.Item>
                    <Form.Item name={[field.name, 'closed']} valuePropName="checked" style={{ marginBottom: 0 }}>
                      <Switch checkedChildren={t('channels.form.closed')} unCheckedChildren={t('channels.form.open')} data-testid={`channel-form-special-${i}-closed`} />
                    </Form.Item>
                    {!closed ? (
                      <Form.List name={[field.name, 'hours']}>
                        {(hours, ops) => (
                          <Flex gap={8} wrap>
                            {hours.map((h) => (
                              <Space.Compact key={h.key}>
                                <Form.Item name={[h.name, 'start']} noStyle>
                                  <ClockInput />
                                </Form.Item>
                                <Form.Item name={[h.name, 'end']} noStyle>
                                  <ClockInput />
                                </Form.Item>
                                <Button icon={<MinusCircleOutlined />} onClick={() => ops.remove(h.name)} aria-label={t('common.delete')} />
                              </Space.Compact>
                            ))}
                            <Button type="dashed" icon={<PlusOutlined />} onClick={() => ops.add({ start: '10:00', end: '16:00' })}>
                              {t('channels.week.addRange')}
                            </Button>
                          </Flex>
                        )}
                      </Form.List>
                    ) : null}
                    <Form.Item name={[field.name, 'userids']} style={{ marginBottom: 0, minWidth: 200, flex: 1 }}>
                      <Select mode="multiple" allowClear options={members.filter((m) => m.value)} placeholder={t('channels.form.everyone')} />
                    </Form.Item>
                    <Button type="text" danger icon={<DeleteOutlined />} onClick={() => remove(field.name)} aria-label={t('common.delete')} />
                  </Flex>
                </Card>
              )
            })}
            <Button type="dashed" icon={<PlusOutlined />} onClick={() => add({ date: null, closed: true, hours: [], userids: [] })} data-testid="channel-form-special-add">
              {t('channels.form.addSpecialDate')}
            </Button>
          </div>
        )}
      </Form.List>
    </Form.Item>
  )
}
