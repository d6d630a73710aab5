import { CalculatorOutlined, CopyOutlined, DeleteOutlined, EditOutlined, EyeOutlined, PlusOutlined, ReloadOutlined } from '@ant-design/icons'
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query'
import { Alert, App, Button, Card, Checkbox, Col, Divider, Drawer, Empty, Flex, Form, Input, InputNumber, Popconfirm, Row, Select, Space, Table, Tabs, Tag, Tooltip, Typography } from 'antd'
import type { TableColumnsType } from 'antd'
import { useMemo, useState } from 'react'
import { useTranslation } from 'react-i18next'
import { useSearchParams } from 'react-router-dom'
import {
  ApiError,
  createCalendar,
  createSlaPolicy,
  deleteCalendar,
  listCalendars,
  listSlaPolicies,
  replaceCalendar,
  replaceSlaPolicy,
  type FieldError,
  type SlaPolicy,
  type SlaPolicyIn,
  type SlaTargets,
  type TicketCalendar,
  type TicketCalendarIn,
  type TicketPriority,
  type EscalationLevel,
} from '../api'
import { useAuth } from '../auth/AuthContext'
import { PERM } from '../auth/permissions'
import { PageHeader } from '../components/PageHeader'
import { ErrorState } from '../components/states'
import {
  CALENDARS_KEY,
  clearChangedErrors,
  DateListInput,
  DEFAULT_TIMEZONE,
  formatMinutes,
  intervalsText,
  IntervalList,
  isConflict,
  MAX_TARGET_MINUTES,
  POLICIES_KEY,
  placeErrors,
  PreviewModal,
  PRIORITIES,
  PRIORITY_COLORS,
  problemText,
  STANDARD_DAY,
  summariseWeek,
  TARGET_KEYS,
  targetsLine,
  WEEKDAYS,
  type Interval,
  type NamePath,
  type T,
  type TargetKey,
  type Weekday,
} from '../components/tickets'
import { defaultEscalation, EscalationLevelsList, EscalationTimeline, escalationBody, placeEscalationError } from '../components/ticketEscalation'
import { errorText, useApiError } from '../components/useApiError'
import { formatDateTime } from '../utils/format'
import { TIME_ZONES } from '../utils/schedule'
import { dataAttrs, tid } from '../utils/testid'

// 服务时间与 SLA: the business calendars and the SLA policies of the service desk, with the deadline preview.

// ---------------------------------------------------------------------------------------------------
// The page
// ---------------------------------------------------------------------------------------------------

type TabKey = 'calendars' | 'policies'

export default function TicketSlaPage() {
  const { t } = useTranslation()
  const { can } = useAuth()
  const canManage = can(PERM.ticketsSettingsManage)
  const [params, setParams] = useSearchParams()
  const tab: TabKey = params.get('tab') === 'policies' ? 'policies' : 'calendars'
  const calendars = useQuery({ queryKey: CALENDARS_KEY, queryFn: listCalendars })
  const policies = useQuery({ queryKey: POLICIES_KEY, queryFn: listSlaPolicies })
  const queryClient = useQueryClient()

  const error = calendars.error ?? policies.error
  if (error && !calendars.data && !policies.data)
    return (
      <ErrorState
        error={error}
        onRetry={() => {
          void calendars.refetch()
          void policies.refetch()
        }}
      />
    )

  return (
    <>
      <PageHeader
        title={t('tickets.sla.title')}
        description={t('tickets.sla.subtitle')}
        extra={
          <Button
            icon={<ReloadOutlined spin={calendars.isFetching || policies.isFetching} />}
            onClick={() => void queryClient.invalidateQueries({ queryKey: ['tickets'] })}
            data-testid="sla-refresh"
          >
            {t('common.refresh')}
          </Button>
        }
      />
      {!canManage ? <Alert type="info" showIcon style={{ marginBottom: 16 }} message={t('tickets.sla.readOnly')} data-testid="sla-read-only" /> : null}
      <Card>
        <Tabs
          activeKey={tab}
          onChange={(key) => setParams(key === 'policies' ? { tab: 'policies' } : {}, { replace: true })}
          items={[
            {
              key: 'calendars',
              label: <span data-testid="sla-tab-calendars">{t('tickets.sla.tabCalendars')}</span>,
              children: <CalendarsSection calendars={calendars.data ?? []} loading={calendars.isLoading} canManage={canManage} />,
            },
            {
              key: 'policies',
              label: <span data-testid="sla-tab-policies">{t('tickets.sla.tabPolicies')}</span>,
              children: (
                <PoliciesSection
                  policies={policies.data ?? []}
                  calendars={calendars.data ?? []}
                  loading={policies.isLoading}
                  canManage={canManage}
                />
              ),
            },
          ]}
        />
      </Card>
    </>
  )
}

// ---------------------------------------------------------------------------------------------------
// Calendars
// ---------------------------------------------------------------------------------------------------

function CalendarsSection({ calendars, loading, canManage }: { calendars: TicketCalendar[]; loading: boolean; canManage: boolean }) {
  const { t } = useTranslation()
  const { message, modal } = App.useApp()
  const showError = useApiError()
  const queryClient = useQueryClient()
  const [editing, setEditing] = useState<TicketCalendar | 'new' | null>(null)

  const remove = useMutation({
    mutationFn: (c: TicketCalendar) => deleteCalendar(c.id),
    onSuccess: (_, c) => {
      void message.success(t('tickets.calendars.deleted', { name: c.name }))
      void queryClient.invalidateQueries({ queryKey: CALENDARS_KEY })
    },
    onError: (e, c) => {
      if (e instanceof ApiError && e.status === 409) {
        // "the calendar is used by SLA policies: A, B"
        const names = /SLA policies:\s*(.+)$/.exec(e.detail)?.[1]
        modal.warning({
          title: t('tickets.calendars.inUseTitle', { name: c.name }),
          content: <span data-testid="calendar-in-use">{names ? t('tickets.calendars.inUse', { policies: names }) : errorText(e, t)}</span>,
          okButtonProps: tid('calendar-in-use-ok'),
        })
        return
      }
      showError(e)
    },
  })

  const columns: TableColumnsType<TicketCalendar> = [
    {
      title: t('tickets.calendars.name'),
      dataIndex: 'name',
      width: 200,
      render: (v: string, c) => (
        <Typography.Text strong data-testid={`calendar-name-${c.id}`}>
          {v}
        </Typography.Text>
      ),
    },
    {
      title: t('tickets.calendars.timezone'),
      dataIndex: 'timezone',
      width: 150,
      render: (v: string, c) => <span data-testid={`calendar-timezone-${c.id}`}>{v}</span>,
    },
    {
      title: t('tickets.calendars.weekly'),
      key: 'weekly',
      render: (_, c) => (
        <span data-testid={`calendar-weekly-${c.id}`}>
          {summariseWeek(c.weekly, t)}
          {c.makeup_intervals ? (
            <Typography.Text type="secondary" style={{ display: 'block', fontSize: 12 }}>
              {t('tickets.calendars.makeupIntervals')} {intervalsText(c.makeup_intervals, t)}
            </Typography.Text>
          ) : null}
        </span>
      ),
    },
    {
      title: t('tickets.calendars.holidayCount'),
      key: 'holidays',
      width: 110,
      align: 'right',
      render: (_, c) => (
        <Tooltip title={c.holidays.length ? c.holidays.join(', ') : undefined}>
          <span data-testid={`calendar-holidays-${c.id}`} data-count={c.holidays.length}>
            {c.holidays.length}
          </span>
        </Tooltip>
      ),
    },
    {
      title: t('tickets.calendars.extraCount'),
      key: 'extra',
      width: 110,
      align: 'right',
      render: (_, c) => (
        <Tooltip title={c.extra_workdays.length ? c.extra_workdays.join(', ') : undefined}>
          <span data-testid={`calendar-extra-${c.id}`} data-count={c.extra_workdays.length}>
            {c.extra_workdays.length}
          </span>
        </Tooltip>
      ),
    },
    { title: t('tickets.calendars.updated'), dataIndex: 'updated_at', width: 170, render: (v: string) => formatDateTime(v) },
    {
      title: t('common.actions'),
      key: 'actions',
      width: canManage ? 150 : 90,
      render: (_, c) =>
        canManage ? (
          <Space size={0}>
            <Button type="link" size="small" icon={<EditOutlined />} onClick={() => setEditing(c)} data-testid={`calendar-edit-${c.id}`}>
              {t('common.edit')}
            </Button>
            <Popconfirm
              title={t('tickets.calendars.deleteConfirm', { name: c.name })}
              description={t('tickets.calendars.deleteHint')}
              okText={t('common.delete')}
              okButtonProps={{ danger: true, ...tid('confirm-ok') }}
              onConfirm={() => remove.mutateAsync(c).catch(() => undefined)}
            >
              <Button type="link" size="small" danger icon={<DeleteOutlined />} data-testid={`calendar-delete-${c.id}`}>
                {t('common.delete')}
              </Button>
            </Popconfirm>
          </Space>
        ) : (
          <Button type="link" size="small" icon={<EyeOutlined />} onClick={() => setEditing(c)} data-testid={`calendar-view-${c.id}`}>
            {t('common.view')}
          </Button>
        ),
    },
  ]

  return (
    <>
      {canManage ? (
        <Flex justify="end" style={{ marginBottom: 12 }}>
          <Button type="primary" icon={<PlusOutlined />} onClick={() => setEditing('new')} data-testid="calendar-create">
            {t('tickets.calendars.create')}
          </Button>
        </Flex>
      ) : null}
      <Table<TicketCalendar>
        rowKey="id"
        columns={columns}
        dataSource={calendars}
        loading={loading}
        pagination={false}
        scroll={{ x: 1000 }}
        data-testid="calendars-table"
        onRow={(c) => dataAttrs({ testid: `calendar-row-${c.id}`, name: c.name }) as object}
        locale={{ emptyText: <Empty description={t('tickets.calendars.empty')} data-testid="calendars-empty" /> }}
      />
      {editing ? <CalendarDrawer calendar={editing === 'new' ? null : editing} readOnly={!canManage} onClose={() => setEditing(null)} /> : null}
    </>
  )
}

/** The form: the API's shape (so the server's field paths name form fields), plus the make-up switch. */
interface CalendarForm {
  name: string
  timezone: string
  weekly: Record<Weekday, Interval[]>
  holidays: string[]
  extra_workdays: string[]
  makeup_custom: boolean
  makeup_intervals: Interval[]
}

function toCalendarForm(c: TicketCalendar | null): CalendarForm {
  if (!c)
    return {
      name: '',
      timezone: DEFAULT_TIMEZONE,
      weekly: Object.fromEntries(WEEKDAYS.map((d, i) => [d, i < 5 ? [['09:00', '18:00']] : []])) as Record<Weekday, Interval[]>,
      holidays: [],
      extra_workdays: [],
      makeup_custom: false,
      makeup_intervals: [],
    }
  const intervals = (list: string[][] | null | undefined) => (list ?? []).map((iv) => [iv[0] ?? '', iv[1] ?? ''] as Interval)
  return {
    name: c.name,
    timezone: c.timezone,
    weekly: Object.fromEntries(WEEKDAYS.map((d) => [d, intervals(c.weekly[d])])) as Record<Weekday, Interval[]>,
    holidays: [...c.holidays],
    extra_workdays: [...c.extra_workdays],
    makeup_custom: c.makeup_intervals != null,
    makeup_intervals: intervals(c.makeup_intervals),
  }
}

function toCalendarBody(v: CalendarForm): TicketCalendarIn {
  return {
    name: (v.name ?? '').trim(),
    timezone: v.timezone || DEFAULT_TIMEZONE,
    weekly: Object.fromEntries(WEEKDAYS.map((d) => [d, (v.weekly?.[d] ?? []).map((iv) => [iv[0], iv[1]])])),
    holidays: v.holidays ?? [],
    extra_workdays: v.extra_workdays ?? [],
    makeup_intervals: v.makeup_custom ? (v.makeup_intervals ?? []).map((iv) => [iv[0], iv[1]]) : null,
  }
}

/**
 * Where a calendar error goes: `weekly.mon` on Monday's row, `weekly.mon[1]` (or pydantic's
 * `weekly.mon.1.0`) on its second interval, `holidays[2]` on the holidays with the date it names.
 */
function placeCalendarError(e: FieldError, body: TicketCalendarIn, t: T): { name: NamePath; text: string } | null {
  const text = problemText(e, t)
  const field = e.field.replace(/\[(\d+)\]/g, '.$1')
  const path = field.split('.')
  const [head, second, third] = path
  if ((head === 'name' || head === 'timezone') && path.length === 1) return { name: [head], text }
  if (head === 'weekly' && second && (WEEKDAYS as readonly string[]).includes(second)) {
    return third !== undefined && /^\d+$/.test(third) ? { name: ['weekly', second, Number(third)], text } : { name: ['weekly', second], text }
  }
  if (head === 'makeup_intervals') {
    return second !== undefined && /^\d+$/.test(second) ? { name: ['makeup_intervals', Number(second)], text } : { name: ['makeup_intervals'], text }
  }
  if (head === 'holidays' || head === 'extra_workdays') {
    const value = second !== undefined && /^\d+$/.test(second) ? body[head]?.[Number(second)] : undefined
    return { name: [head], text: value !== undefined ? t('tickets.calendars.dateError', { value, message: text }) : text }
  }
  return null
}

function CalendarDrawer({ calendar, readOnly, onClose }: { calendar: TicketCalendar | null; readOnly: boolean; onClose: () => void }) {
  const { t } = useTranslation()
  const { message } = App.useApp()
  const queryClient = useQueryClient()
  const [form] = Form.useForm<CalendarForm>()
  const makeupCustom = Form.useWatch('makeup_custom', form)
  const initial = useMemo(() => toCalendarForm(calendar), [calendar])
  const timezones = useMemo(
    () => (TIME_ZONES.includes(initial.timezone) ? TIME_ZONES : [initial.timezone, ...TIME_ZONES]).map((z) => ({ value: z, label: z })),
    [initial.timezone],
  )

  const save = useMutation({
    mutationFn: (body: TicketCalendarIn) => (calendar ? replaceCalendar(calendar.id, body) : createCalendar(body)),
    onSuccess: () => {
      void message.success(calendar ? t('tickets.calendars.saved') : t('tickets.calendars.created'))
      void queryClient.invalidateQueries({ queryKey: CALENDARS_KEY })
      onClose()
    },
    onError: (err, body) => {
      const showRest = (content: string) => void message.error({ content, key: 'api-error', className: 'api-error-message' })
      if (isConflict(err)) {
        form.setFields([{ name: ['name'], errors: [t('tickets.calendars.nameTaken')] }])
        showRest(errorText(err, t))
      } else if (err instanceof ApiError && err.errors.length) {
        placeErrors(form, err, err.errors, (e) => placeCalendarError(e, body, t), showRest, t)
      } else {
        showRest(errorText(err, t))
      }
    },
  })

  const copyMonday = () => {
    const monday = (form.getFieldValue(['weekly', 'mon']) ?? []) as Interval[]
    const weekly = { ...(form.getFieldValue('weekly') as Record<Weekday, Interval[]>) }
    for (const d of ['tue', 'wed', 'thu', 'fri'] as const) weekly[d] = monday.map((iv) => [...iv] as Interval)
    form.setFieldValue('weekly', weekly)
    clearChangedErrors(form, { weekly: { tue: [], wed: [], thu: [], fri: [] } })
  }

  const title = readOnly
    ? t('tickets.calendars.viewTitle', { name: calendar?.name ?? '' })
    : calendar
      ? t('tickets.calendars.editTitle', { name: calendar.name })
      : t('tickets.calendars.createTitle')

  return (
    <Drawer
      open
      width={780}
      title={title}
      onClose={onClose}
      destroyOnHidden
      data-testid="calendar-drawer"
      extra={
        readOnly ? null : (
          <Space>
            <Button onClick={onClose} data-testid="calendar-form-cancel">
              {t('common.cancel')}
            </Button>
            <Button type="primary" loading={save.isPending} onClick={() => form.submit()} data-testid="calendar-form-submit">
              {t('common.save')}
            </Button>
          </Space>
        )
      }
    >
      <Form<CalendarForm>
        form={form}
        layout="vertical"
        disabled={readOnly}
        initialValues={initial}
        onFinish={(v) => save.mutate(toCalendarBody(v))}
        onValuesChange={(changed: Partial<CalendarForm>) => {
          clearChangedErrors(form, changed)
          // own hours for make-up days start from Monday's
          if (changed.makeup_custom && !((form.getFieldValue('makeup_intervals') ?? []) as Interval[]).length)
            form.setFieldValue('makeup_intervals', ((form.getFieldValue(['weekly', 'mon']) ?? []) as Interval[]).map((iv) => [...iv]))
        }}
      >
        <Row gutter={16}>
          <Col xs={24} md={14}>
            <Form.Item name="name" label={t('tickets.calendars.name')} rules={[{ required: true, whitespace: true, message: t('tickets.calendars.nameRequired') }]}>
              <Input maxLength={100} placeholder={t('tickets.calendars.namePlaceholder')} data-testid="calendar-form-name" />
            </Form.Item>
          </Col>
          <Col xs={24} md={10}>
            <Form.Item name="timezone" label={t('tickets.calendars.timezone')} extra={t('tickets.calendars.timezoneHelp')}>
              <Select
                showSearch
                options={timezones}
                optionFilterProp="label"
                data-testid="calendar-form-timezone"
                optionRender={(opt) => <span data-testid={`calendar-form-timezone-option-${opt.value}`}>{opt.label}</span>}
              />
            </Form.Item>
          </Col>
        </Row>

        <Flex justify="space-between" align="center" wrap gap={8} style={{ marginBottom: 8 }}>
          <Typography.Text strong>{t('tickets.calendars.weekly')}</Typography.Text>
          {readOnly ? null : (
            <Space size={4} wrap>
              <Button
                size="small"
                onClick={() => {
                  form.setFieldValue(['weekly', 'mon'], STANDARD_DAY.map((iv) => [...iv]))
                  clearChangedErrors(form, { weekly: { mon: [] } })
                }}
                data-testid="calendar-form-standard-monday"
              >
                {t('tickets.calendars.standardHours')}
              </Button>
              <Button size="small" icon={<CopyOutlined />} onClick={copyMonday} data-testid="calendar-form-copy-monday">
                {t('tickets.calendars.copyMonday')}
              </Button>
            </Space>
          )}
        </Flex>
        <Typography.Paragraph type="secondary" style={{ fontSize: 12, marginBottom: 8 }}>
          {t('tickets.calendars.weeklyHelp')}
        </Typography.Paragraph>
        <div className="sla-week" data-testid="calendar-form-weekly" style={{ marginBottom: 16 }}>
          {WEEKDAYS.map((day) => (
            <IntervalList key={day} name={['weekly', day]} label={t(`tickets.weekday.${day}`)} testId={`calendar-form-${day}`} readOnly={readOnly} />
          ))}
        </div>

        <Row gutter={16}>
          <Col xs={24} md={12}>
            <Form.Item name="holidays" label={t('tickets.calendars.holidays')} extra={t('tickets.calendars.holidaysHelp')}>
              <DateListInput testId="calendar-form-holidays" readOnly={readOnly} />
            </Form.Item>
          </Col>
          <Col xs={24} md={12}>
            <Form.Item name="extra_workdays" label={t('tickets.calendars.extraWorkdays')} extra={t('tickets.calendars.extraWorkdaysHelp')}>
              <DateListInput testId="calendar-form-extra-workdays" readOnly={readOnly} />
            </Form.Item>
          </Col>
        </Row>

        <Form.Item name="makeup_custom" valuePropName="checked" extra={t('tickets.calendars.makeupHelp')} style={{ marginBottom: 8 }}>
          <Checkbox data-testid="calendar-form-makeup-custom">{t('tickets.calendars.makeupCustom')}</Checkbox>
        </Form.Item>
        {makeupCustom ? (
          <IntervalList name={['makeup_intervals']} label={t('tickets.calendars.makeupIntervals')} testId="calendar-form-makeup" readOnly={readOnly} />
        ) : null}
        {calendar ? (
          <>
            <Divider />
            <Typography.Text type="secondary" style={{ fontSize: 12 }}>
              {t('tickets.calendars.updated')} {formatDateTime(calendar.updated_at)}
            </Typography.Text>
          </>
        ) : null}
      </Form>
    </Drawer>
  )
}

// ---------------------------------------------------------------------------------------------------
// SLA policies
// ---------------------------------------------------------------------------------------------------

function PoliciesSection({ policies, calendars, loading, canManage }: { policies: SlaPolicy[]; calendars: TicketCalendar[]; loading: boolean; canManage: boolean }) {
  const { t } = useTranslation()
  const [editing, setEditing] = useState<SlaPolicy | 'new' | null>(null)
  const [previewing, setPreviewing] = useState<SlaPolicy | null>(null)
  const calendarById = useMemo(() => new Map(calendars.map((c) => [c.id, c])), [calendars])

  const columns: TableColumnsType<SlaPolicy> = [
    {
      title: t('tickets.policies.name'),
      dataIndex: 'name',
      width: 200,
      render: (v: string, p) => (
        <Typography.Text strong data-testid={`policy-name-${p.id}`}>
          {v}
        </Typography.Text>
      ),
    },
    {
      title: t('tickets.policies.calendar'),
      key: 'calendar',
      width: 180,
      render: (_, p) => {
        const c = calendarById.get(p.calendar_id)
        return (
          <span data-testid={`policy-calendar-${p.id}`} data-calendar-id={p.calendar_id}>
            {c ? c.name : `#${p.calendar_id}`}
            {c ? (
              <Typography.Text type="secondary" style={{ display: 'block', fontSize: 12 }}>
                {c.timezone}
              </Typography.Text>
            ) : null}
          </span>
        )
      },
    },
    {
      title: t('tickets.policies.ticketType'),
      dataIndex: 'ticket_type',
      width: 130,
      render: (v: string | null, p) => (
        <span data-testid={`policy-type-${p.id}`} data-value={v ?? ''}>
          {v ? <Tag>{v}</Tag> : <Typography.Text type="secondary">{t('tickets.policies.anyType')}</Typography.Text>}
        </span>
      ),
    },
    {
      title: t('tickets.policies.targets'),
      key: 'targets',
      render: (_, p) => {
        const lines = PRIORITIES.flatMap((pr) => {
          const line = targetsLine(p.targets[pr], t)
          return line ? [{ pr, line }] : []
        })
        return (
          <div data-testid={`policy-targets-${p.id}`}>
            {lines.length ? (
              lines.map(({ pr, line }) => (
                <div key={pr} data-testid={`policy-targets-${p.id}-${pr}`}>
                  <Tag color={PRIORITY_COLORS[pr]} style={{ minWidth: 44, textAlign: 'center' }}>
                    {t(`tickets.priority.${pr}`)}
                  </Tag>
                  {line}
                </div>
              ))
            ) : (
              <Typography.Text type="secondary">{t('tickets.policies.noTargets')}</Typography.Text>
            )}
          </div>
        )
      },
    },
    {
      title: t('tickets.policies.warningPercent'),
      dataIndex: 'warning_percent',
      width: 100,
      align: 'right',
      render: (v: number, p) => (
        <Tooltip title={t('tickets.policies.warningAt', { percent: v })}>
          <span data-testid={`policy-warning-${p.id}`}>{v}%</span>
        </Tooltip>
      ),
    },
    {
      title: t('ticketRouting.escalation.column'),
      key: 'escalation',
      width: 220,
      render: (_, p) => <EscalationTimeline levels={p.escalation ?? []} testId={`policy-escalation-${p.id}`} />,
    },
  ]
  if (canManage)
    columns.push({
      title: t('common.actions'),
      key: 'actions',
      width: 170,
      render: (_, p) => (
        <Space size={0}>
          <Button type="link" size="small" icon={<EditOutlined />} onClick={() => setEditing(p)} data-testid={`policy-edit-${p.id}`}>
            {t('common.edit')}
          </Button>
          <Button type="link" size="small" icon={<CalculatorOutlined />} onClick={() => setPreviewing(p)} data-testid={`policy-preview-${p.id}`}>
            {t('tickets.policies.preview')}
          </Button>
        </Space>
      ),
    })

  return (
    <>
      {canManage ? (
        <Flex justify="end" style={{ marginBottom: 12 }}>
          <Button type="primary" icon={<PlusOutlined />} onClick={() => setEditing('new')} data-testid="policy-create">
            {t('tickets.policies.create')}
          </Button>
        </Flex>
      ) : null}
      <Table<SlaPolicy>
        rowKey="id"
        columns={columns}
        dataSource={policies}
        loading={loading}
        pagination={false}
        scroll={{ x: 1250 }}
        data-testid="policies-table"
        onRow={(p) => dataAttrs({ testid: `policy-row-${p.id}`, name: p.name }) as object}
        locale={{ emptyText: <Empty description={t('tickets.policies.empty')} data-testid="policies-empty" /> }}
      />
      {editing ? <PolicyDrawer policy={editing === 'new' ? null : editing} calendars={calendars} onClose={() => setEditing(null)} /> : null}
      {previewing ? <PreviewModal policy={previewing} calendar={calendarById.get(previewing.calendar_id)} onClose={() => setPreviewing(null)} /> : null}
    </>
  )
}

interface PolicyForm {
  name: string
  calendar_id: number | null
  ticket_type: string
  targets: Record<TicketPriority, Record<TargetKey, number | null>>
  warning_percent: number | null
  escalation: EscalationLevel[]
}

function toPolicyForm(p: SlaPolicy | null, calendars: TicketCalendar[]): PolicyForm {
  return {
    name: p?.name ?? '',
    calendar_id: p?.calendar_id ?? (calendars.length === 1 ? calendars[0].id : null),
    ticket_type: p?.ticket_type ?? '',
    targets: Object.fromEntries(
      PRIORITIES.map((pr) => [pr, Object.fromEntries(TARGET_KEYS.map((k) => [k, p?.targets[pr]?.[k] ?? null]))]),
    ) as PolicyForm['targets'],
    warning_percent: p?.warning_percent ?? 80,
    escalation: p?.escalation?.length ? p.escalation.map((l) => ({ ...l, notify: [...(l.notify ?? [])] })) : defaultEscalation(),
  }
}

function toPolicyBody(v: PolicyForm): SlaPolicyIn {
  const targets: SlaPolicyIn['targets'] = {}
  for (const pr of PRIORITIES) {
    const set = Object.fromEntries(TARGET_KEYS.flatMap((k) => (v.targets?.[pr]?.[k] != null ? [[k, v.targets[pr][k]]] : [])))
    if (Object.keys(set).length) targets[pr] = set as SlaTargets
  }
  return {
    name: (v.name ?? '').trim(),
    calendar_id: v.calendar_id as number,
    ticket_type: (v.ticket_type ?? '').trim() || null,
    targets,
    warning_percent: v.warning_percent ?? 80,
    escalation: escalationBody(v.escalation),
  }
}

function placePolicyError(e: FieldError, t: T): { name: NamePath; text: string } | null {
  const escalation = placeEscalationError(e, t)
  if (escalation) return escalation
  const text = problemText(e, t)
  const path = e.field.split('.')
  if (path.length === 1 && ['name', 'calendar_id', 'ticket_type', 'warning_percent'].includes(path[0])) return { name: path, text }
  if (path[0] === 'targets' && path.length === 3 && (PRIORITIES as string[]).includes(path[1]) && (TARGET_KEYS as readonly string[]).includes(path[2]))
    return { name: path, text }
  return null
}

function PolicyDrawer({ policy, calendars, onClose }: { policy: SlaPolicy | null; calendars: TicketCalendar[]; onClose: () => void }) {
  const { t } = useTranslation()
  const { message } = App.useApp()
  const queryClient = useQueryClient()
  const [form] = Form.useForm<PolicyForm>()
  const [targetsError, setTargetsError] = useState<string | null>(null)
  const targets = Form.useWatch('targets', form)
  const initial = useMemo(() => toPolicyForm(policy, calendars), [policy, calendars])

  const save = useMutation({
    mutationFn: (body: SlaPolicyIn) => (policy ? replaceSlaPolicy(policy.id, body) : createSlaPolicy(body)),
    onSuccess: () => {
      void message.success(policy ? t('tickets.policies.saved') : t('tickets.policies.created'))
      void queryClient.invalidateQueries({ queryKey: POLICIES_KEY })
      onClose()
    },
    onError: (err) => {
      const showRest = (content: string) => void message.error({ content, key: 'api-error', className: 'api-error-message' })
      if (isConflict(err)) {
        form.setFields([{ name: ['name'], errors: [t('tickets.policies.nameTaken')] }])
        showRest(errorText(err, t))
      } else if (err instanceof ApiError && err.errors.length) {
        // "targets" as a whole (no target set) goes under the grid
        const whole = err.errors.find((e) => e.field === 'targets')
        if (whole) setTargetsError(problemText(whole, t))
        placeErrors(form, err, err.errors.filter((e) => e !== whole), (e) => placePolicyError(e, t), showRest, t)
      } else {
        showRest(errorText(err, t))
      }
    },
  })

  const submit = (v: PolicyForm) => {
    const body = toPolicyBody(v)
    if (!Object.keys(body.targets).length) {
      setTargetsError(t('tickets.policies.targetsRequired'))
      return
    }
    save.mutate(body)
  }

  return (
    <Drawer
      open
      width={760}
      title={policy ? t('tickets.policies.editTitle', { name: policy.name }) : t('tickets.policies.createTitle')}
      onClose={onClose}
      destroyOnHidden
      data-testid="policy-drawer"
      extra={
        <Space>
          <Button onClick={onClose} data-testid="policy-form-cancel">
            {t('common.cancel')}
          </Button>
          <Button type="primary" loading={save.isPending} onClick={() => form.submit()} data-testid="policy-form-submit">
            {t('common.save')}
          </Button>
        </Space>
      }
    >
      <Form<PolicyForm>
        form={form}
        layout="vertical"
        initialValues={initial}
        onFinish={submit}
        onValuesChange={(changed: Partial<PolicyForm>) => {
          clearChangedErrors(form, changed)
          if (changed.targets) setTargetsError(null)
        }}
      >
        <Row gutter={16}>
          <Col xs={24} md={12}>
            <Form.Item name="name" label={t('tickets.policies.name')} rules={[{ required: true, whitespace: true, message: t('tickets.policies.nameRequired') }]}>
              <Input maxLength={100} placeholder={t('tickets.policies.namePlaceholder')} data-testid="policy-form-name" />
            </Form.Item>
          </Col>
          <Col xs={24} md={12}>
            <Form.Item
              name="calendar_id"
              label={t('tickets.policies.calendar')}
              extra={calendars.length ? t('tickets.policies.calendarHelp') : t('tickets.policies.noCalendars')}
              rules={[{ required: true, message: t('tickets.policies.calendarRequired') }]}
            >
              <Select
                options={calendars.map((c) => ({ value: c.id, label: `${c.name} (${c.timezone})` }))}
                showSearch
                optionFilterProp="label"
                data-testid="policy-form-calendar"
                optionRender={(opt) => <span data-testid={`policy-form-calendar-option-${opt.value}`}>{opt.label}</span>}
              />
            </Form.Item>
          </Col>
          <Col xs={24} md={12}>
            <Form.Item name="ticket_type" label={t('tickets.policies.ticketType')} extra={t('tickets.policies.ticketTypeHelp')}>
              <Input maxLength={64} allowClear placeholder={t('tickets.policies.ticketTypePlaceholder')} data-testid="policy-form-type" />
            </Form.Item>
          </Col>
          <Col xs={24} md={12}>
            <Form.Item name="warning_percent" label={t('tickets.policies.warningPercent')} extra={t('tickets.policies.warningPercentHelp')}>
              <InputNumber<number> min={1} max={99} precision={0} suffix="%" style={{ width: '100%' }} data-testid="policy-form-warning" />
            </Form.Item>
          </Col>
        </Row>

        <Typography.Text strong>{t('tickets.policies.targets')}</Typography.Text>
        <Typography.Paragraph type="secondary" style={{ fontSize: 12, marginBottom: 8 }}>
          {t('tickets.policies.targetsHelp')}
        </Typography.Paragraph>
        <div data-testid="policy-form-targets">
          <Row gutter={8} style={{ marginBottom: 4 }}>
            <Col span={3}>
              <Typography.Text type="secondary">{t('tickets.policies.priority')}</Typography.Text>
            </Col>
            {TARGET_KEYS.map((k) => (
              <Col span={7} key={k}>
                <Typography.Text type="secondary">{t(`tickets.policies.${k}`)}</Typography.Text>
              </Col>
            ))}
          </Row>
          {PRIORITIES.map((pr) => (
            <Row gutter={8} key={pr} align="top" data-testid={`policy-form-targets-${pr}`}>
              <Col span={3} style={{ paddingTop: 5 }}>
                <Tag color={PRIORITY_COLORS[pr]}>{t(`tickets.priority.${pr}`)}</Tag>
              </Col>
              {TARGET_KEYS.map((k) => {
                const v = targets?.[pr]?.[k]
                return (
                  <Col span={7} key={k}>
                    <Form.Item name={['targets', pr, k]} style={{ marginBottom: 8 }} extra={v ? <span data-testid={`policy-form-${pr}-${k}-hint`}>= {formatMinutes(v, t)}</span> : undefined}>
                      <InputNumber<number>
                        min={1}
                        max={MAX_TARGET_MINUTES}
                        precision={0}
                        placeholder={t('tickets.policies.noTarget')}
                        suffix={t('tickets.policies.minutesSuffix')}
                        style={{ width: '100%' }}
                        data-testid={`policy-form-${pr}-${k}`}
                      />
                    </Form.Item>
                  </Col>
                )
              })}
            </Row>
          ))}
          {targetsError ? (
            <Typography.Text type="danger" data-testid="policy-form-targets-error">
              {targetsError}
            </Typography.Text>
          ) : null}
        </div>

        <Divider style={{ margin: '16px 0 12px' }} />
        <Typography.Text strong>{t('ticketRouting.escalation.title')}</Typography.Text>
        <Typography.Paragraph type="secondary" style={{ fontSize: 12, marginBottom: 4 }}>
          {t('ticketRouting.escalation.help')}
        </Typography.Paragraph>
        <EscalationLevelsList />
      </Form>
    </Drawer>
  )
}
