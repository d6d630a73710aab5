// Pieces of the ticket pages (工单队列, 工单详情, SLA 看板): status and priority tags, the live SLA
// countdown of a clock, the provinces a region names, staff names, and the 新建工单 dialog.
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query'
import { App, AutoComplete, Form, Input, InputNumber, Modal, Select, Tag, Tooltip } from 'antd'
import { useEffect, useState } from 'react'
import { useTranslation } from 'react-i18next'
import { createTicket, listUsers, type Ticket, type TicketCreate, type TicketPriority, type TicketStatus } from '../api'
import { useAuth } from '../auth/AuthContext'
import { PERM } from '../auth/permissions'
import { formatDateTime } from '../utils/format'
import { tid } from '../utils/testid'
import { PRIORITIES, PRIORITY_COLORS, type T } from './tickets'
import { useApiError } from './useApiError'

export const TICKETS_KEY = ['tickets', 'desk'] as const
export const STATUSES: TicketStatus[] = ['new', 'open', 'waiting_customer', 'waiting_third_party', 'resolved', 'closed']
export const STATUS_COLORS: Record<string, string> = {
  new: 'blue',
  open: 'processing',
  waiting_customer: 'gold',
  waiting_third_party: 'purple',
  resolved: 'green',
  closed: 'default',
}
/** Types offered when creating a ticket (any other text is accepted too). */
export const TICKET_TYPES = ['general', 'complaint', 'after_sales'] as const
export const OUTCOMES = ['refund', 'resend', 'compensation', 'none'] as const

export function StatusTag({ status, testId }: { status: string; testId?: string }) {
  const { t } = useTranslation()
  return (
    <Tag color={STATUS_COLORS[status] ?? 'default'} data-testid={testId} data-status={status}>
      {t(`tickets.desk.status.${status}`, { defaultValue: status })}
    </Tag>
  )
}

export function PriorityTag({ priority, testId }: { priority: string; testId?: string }) {
  const { t } = useTranslation()
  return (
    <Tag color={PRIORITY_COLORS[priority as TicketPriority] ?? 'default'} data-testid={testId} data-priority={priority}>
      {t(`tickets.priority.${priority}`, { defaultValue: priority })}
    </Tag>
  )
}

// ---------------------------------------------------------------------------------------------------
// SLA clocks
// ---------------------------------------------------------------------------------------------------

export type Clock = 'first_response' | 'next_response' | 'resolution'
/** The clocks the dashboard reports on (next response runs only between a customer's message and the reply). */
export const CLOCKS: Clock[] = ['first_response', 'resolution']
export const ALL_CLOCKS: Clock[] = ['first_response', 'next_response', 'resolution']
/** Orange this long before the due time, even before the server's warning has fired. */
const SOON_MS = 60 * 60 * 1000

/** The current time, re-rendering every `intervalMs`. */
export function useNow(intervalMs = 1000): number {
  const [now, setNow] = useState(() => Date.now())
  useEffect(() => {
    const id = window.setInterval(() => setNow(Date.now()), intervalMs)
    return () => window.clearInterval(id)
  }, [intervalMs])
  return now
}

/** "2 小时 5 分" / "3 d 4 h": the two largest units of a length of time. */
export function formatSpan(ms: number, t: T): string {
  let s = Math.max(0, Math.floor(Math.abs(ms) / 1000))
  const parts: [string, number][] = []
  for (const [unit, size] of [['d', 86400], ['h', 3600], ['m', 60], ['s', 1]] as const) {
    const n = Math.floor(s / size)
    s -= n * size
    if (n || (unit === 's' && !parts.length)) parts.push([unit, n])
  }
  return parts
    .slice(0, 2)
    .map(([unit, n]) => t(`tickets.desk.units.${unit}`, { n }))
    .join(' ')
}

export type ClockStateKind = 'none' | 'met' | 'missed' | 'stopped' | 'paused' | 'running' | 'warned' | 'breached'

export interface ClockState {
  kind: ClockStateKind
  due: string | null
  /** Until due (negative: overdue); for a paused clock, what was left when it paused. */
  remainingMs: number
}

const time = (iso?: string | null) => (iso ? new Date(iso).getTime() : NaN)

/**
 * Where a ticket's clock stands: no target; met or missed (it ended: the first reply, resolution or a
 * close); paused (waiting on someone); breached (past due, or the server recorded the breach); warned
 * (the server's warning fired, or due within the hour); running.
 */
function dueOf(ticket: Ticket, clock: Clock): string | null {
  if (clock === 'first_response') return ticket.due_first_response_at
  // the next-response clock is newer than some servers: absent means none
  if (clock === 'next_response') return (ticket as Ticket & { due_next_response_at?: string | null }).due_next_response_at ?? null
  return ticket.due_resolution_at
}

/** When the clock stopped for good (the next response's due time is cleared by the reply instead). */
function endedAt(ticket: Ticket, clock: Clock): string | null {
  const closed = ticket.resolved_at ?? ticket.closed_at
  if (clock === 'first_response') return ticket.first_responded_at ?? closed
  return closed
}

export function clockState(ticket: Ticket, clock: Clock, now: number): ClockState {
  const due = dueOf(ticket, clock)
  if (!due) return { kind: 'none', due: null, remainingMs: 0 }
  const dueMs = time(due)
  const marks = ticket.sla_marks ?? {}
  const breachMarked = !!marks[`${clock}.breach`]
  const ended = endedAt(ticket, clock)
  if (ended) {
    return { kind: breachMarked || time(ended) > dueMs ? 'missed' : 'met', due, remainingMs: dueMs - time(ended) }
  }
  if (ticket.status === 'resolved' || ticket.status === 'closed') return { kind: 'stopped', due, remainingMs: 0 }
  if (ticket.paused_at) return { kind: 'paused', due, remainingMs: dueMs - time(ticket.paused_at) }
  const remainingMs = dueMs - now
  if (breachMarked || remainingMs <= 0) return { kind: 'breached', due, remainingMs }
  if (marks[`${clock}.warning`] || remainingMs <= SOON_MS) return { kind: 'warned', due, remainingMs }
  return { kind: 'running', due, remainingMs }
}

const STATE_COLORS: Record<ClockStateKind, string> = {
  none: 'default',
  met: 'success',
  missed: 'error',
  stopped: 'default',
  paused: 'default',
  running: 'processing',
  warned: 'warning',
  breached: 'error',
}

function countdownText(state: ClockState, t: T): string {
  const span = formatSpan(state.remainingMs, t)
  switch (state.kind) {
    case 'none':
      return t('tickets.desk.countdown.noTarget')
    case 'met':
      return t('tickets.desk.countdown.met')
    case 'missed':
      return t('tickets.desk.countdown.missed')
    case 'stopped':
      return t('tickets.desk.countdown.stopped')
    case 'paused':
      return state.remainingMs > 0 ? t('tickets.desk.countdown.paused', { time: span }) : t('tickets.desk.countdown.pausedOverdue')
    case 'breached':
      return t('tickets.desk.countdown.overdue', { time: span })
    default:
      return t('tickets.desk.countdown.left', { time: span })
  }
}

/** A clock's live countdown: red when breached, orange when warned, grey while paused. */
export function SlaCountdown({ ticket, clock, now, label, testId }: { ticket: Ticket; clock: Clock; now: number; label?: boolean; testId?: string }) {
  const { t } = useTranslation()
  const state = clockState(ticket, clock, now)
  const text = countdownText(state, t)
  return (
    <Tooltip title={state.due ? `${t(`tickets.desk.clock.${clock}`)} · ${formatDateTime(state.due)}` : undefined}>
      <Tag color={STATE_COLORS[state.kind]} data-testid={testId} data-state={state.kind} data-clock={clock} style={{ marginInlineEnd: 0 }}>
        {label ? `${t(`tickets.desk.clock.${clock}`)} · ` : ''}
        {text}
      </Tag>
    </Tooltip>
  )
}

const OPEN_STATES: ClockStateKind[] = ['running', 'warned', 'breached', 'paused']

/** The clock a queue shows: of those still running (or paused), the one due first; else resolution's. */
export function queueClock(ticket: Ticket, now = Date.now()): Clock {
  const open = ALL_CLOCKS.map((clock) => ({ clock, state: clockState(ticket, clock, now) })).filter((c) => OPEN_STATES.includes(c.state.kind))
  open.sort((a, b) => time(a.state.due) - time(b.state.due))
  if (open.length) return open[0].clock
  return ticket.due_resolution_at || !ticket.due_first_response_at ? 'resolution' : 'first_response'
}

// ---------------------------------------------------------------------------------------------------
// Regions and people
// ---------------------------------------------------------------------------------------------------

/** China's provincial-level divisions: the name tickets carry, the English name, the map's name. */
export const PROVINCES: [string, string, string][] = [
  ['北京市', 'Beijing', '北京'],
  ['天津市', 'Tianjin', '天津'],
  ['河北省', 'Hebei', '河北'],
  ['山西省', 'Shanxi', '山西'],
  ['内蒙古自治区', 'Inner Mongolia', '内蒙古'],
  ['辽宁省', 'Liaoning', '辽宁'],
  ['吉林省', 'Jilin', '吉林'],
  ['黑龙江省', 'Heilongjiang', '黑龙江'],
  ['上海市', 'Shanghai', '上海'],
  ['江苏省', 'Jiangsu', '江苏'],
  ['浙江省', 'Zhejiang', '浙江'],
  ['安徽省', 'Anhui', '安徽'],
  ['福建省', 'Fujian', '福建'],
  ['江西省', 'Jiangxi', '江西'],
  ['山东省', 'Shandong', '山东'],
  ['河南省', 'Henan', '河南'],
  ['湖北省', 'Hubei', '湖北'],
  ['湖南省', 'Hunan', '湖南'],
  ['广东省', 'Guangdong', '广东'],
  ['广西壮族自治区', 'Guangxi', '广西'],
  ['海南省', 'Hainan', '海南'],
  ['重庆市', 'Chongqing', '重庆'],
  ['四川省', 'Sichuan', '四川'],
  ['贵州省', 'Guizhou', '贵州'],
  ['云南省', 'Yunnan', '云南'],
  ['西藏自治区', 'Tibet', '西藏'],
  ['陕西省', 'Shaanxi', '陕西'],
  ['甘肃省', 'Gansu', '甘肃'],
  ['青海省', 'Qinghai', '青海'],
  ['宁夏回族自治区', 'Ningxia', '宁夏'],
  ['新疆维吾尔自治区', 'Xinjiang', '新疆'],
  ['台湾省', 'Taiwan', '台湾'],
  ['香港特别行政区', 'Hong Kong', '香港'],
  ['澳门特别行政区', 'Macao', '澳门'],
]

/** The map's name of the province a region names ("广东省", "广东", "广东省深圳市", "Guangdong"), or null. */
export function provinceOf(region: string): string | null {
  const text = region.trim()
  if (!text) return null
  const lower = text.toLowerCase()
  const found = PROVINCES.find(([full, en, short]) => text.startsWith(full) || text.startsWith(short) || lower === en.toLowerCase())
  return found ? found[2] : null
}

/** Staff names by user id (from the users list, for those who may see it); `#id` otherwise. */
export function useUserNames() {
  const { can } = useAuth()
  const allowed = can(PERM.usersView)
  const users = useQuery({ queryKey: ['identity', 'users', 'names'], queryFn: () => listUsers({ limit: 200 }), enabled: allowed, staleTime: 60_000 })
  const names = new Map((users.data?.items ?? []).map((u) => [u.id, u.display_name || u.email]))
  return (id: number | null | undefined) => (id == null ? null : (names.get(id) ?? `#${id}`))
}

// ---------------------------------------------------------------------------------------------------
// 新建工单
// ---------------------------------------------------------------------------------------------------

interface NewTicketValues {
  title: string
  description?: string
  ticket_type?: string
  priority: TicketPriority
  customer_id?: number | null
  order_id?: number | null
  region?: string
}

/** The 新建工单 dialog: the server's field errors land on their fields. */
export function NewTicketModal({ open, onClose, onCreated }: { open: boolean; onClose: () => void; onCreated?: (ticket: Ticket) => void }) {
  const { t, i18n } = useTranslation()
  const { message } = App.useApp()
  const showError = useApiError()
  const queryClient = useQueryClient()
  const [form] = Form.useForm<NewTicketValues>()
  const create = useMutation({
    mutationFn: (values: NewTicketValues) => {
      const body: TicketCreate = {
        title: values.title.trim(),
        description: values.description?.trim() ?? '',
        ticket_type: values.ticket_type?.trim() || 'general',
        priority: values.priority,
        customer_id: values.customer_id ?? null,
        order_id: values.order_id ?? null,
        region: values.region?.trim() || null,
      }
      return createTicket(body)
    },
    onSuccess: (ticket) => {
      void message.success(t('tickets.desk.create.created', { id: ticket.id }))
      void queryClient.invalidateQueries({ queryKey: TICKETS_KEY })
      form.resetFields()
      onCreated?.(ticket)
      onClose()
    },
    onError: (err) => showError(err, form),
  })
  const en = i18n.language === 'en'
  return (
    <Modal
      open={open}
      title={t('tickets.desk.create.title')}
      onCancel={onClose}
      onOk={() => form.submit()}
      okText={t('tickets.desk.create.submit')}
      okButtonProps={{ loading: create.isPending, ...tid('new-ticket-submit') }}
      cancelButtonProps={tid('new-ticket-cancel')}
      destroyOnHidden
      width={600}
      data-testid="new-ticket-modal"
    >
      <Form<NewTicketValues>
        form={form}
        layout="vertical"
        initialValues={{ priority: 'normal', ticket_type: 'general', title: '', description: '', region: '', customer_id: null, order_id: null }}
        onFinish={(values) => create.mutate(values)}
        onValuesChange={(changed) => form.setFields(Object.keys(changed).map((name) => ({ name: name as keyof NewTicketValues, errors: [] })))}
      >
        <Form.Item name="title" label={t('tickets.desk.create.fieldTitle')} rules={[{ required: true, whitespace: true, message: t('tickets.desk.create.titleRequired') }]}>
          <Input maxLength={200} placeholder={t('tickets.desk.create.titlePlaceholder')} data-testid="new-ticket-title" />
        </Form.Item>
        <Form.Item name="description" label={t('tickets.desk.create.description')}>
          <Input.TextArea rows={3} data-testid="new-ticket-description" />
        </Form.Item>
        <Form.Item name="ticket_type" label={t('tickets.desk.create.ticketType')} extra={t('tickets.desk.create.ticketTypeHelp')}>
          <AutoComplete
            options={[
              { value: 'general', label: t('tickets.desk.create.typeGeneral') },
              { value: 'complaint', label: t('tickets.desk.create.typeComplaint') },
              { value: 'after_sales', label: t('tickets.desk.create.typeAfterSales') },
            ]}
            data-testid="new-ticket-type"
          />
        </Form.Item>
        <Form.Item name="priority" label={t('tickets.desk.create.priority')}>
          <Select
            options={PRIORITIES.map((p) => ({ value: p, label: t(`tickets.priority.${p}`) }))}
            data-testid="new-ticket-priority"
            optionRender={(opt) => <span data-testid={`new-ticket-priority-option-${opt.value}`}>{opt.label}</span>}
          />
        </Form.Item>
        <Form.Item name="customer_id" label={t('tickets.desk.create.customerId')}>
          <InputNumber<number> min={1} precision={0} style={{ width: '100%' }} placeholder={t('common.optional')} data-testid="new-ticket-customer" />
        </Form.Item>
        <Form.Item name="order_id" label={t('tickets.desk.create.orderId')}>
          <InputNumber<number> min={1} precision={0} style={{ width: '100%' }} placeholder={t('common.optional')} data-testid="new-ticket-order" />
        </Form.Item>
        <Form.Item name="region" label={t('tickets.desk.create.region')}>
          <AutoComplete
            allowClear
            placeholder={t('tickets.desk.create.regionPlaceholder')}
            options={PROVINCES.map(([full, english]) => ({ value: full, label: en ? `${english} · ${full}` : full }))}
            filterOption={(input, option) => !!option && `${option.value} ${String(option.label)}`.toLowerCase().includes(input.trim().toLowerCase())}
            data-testid="new-ticket-region"
          />
        </Form.Item>
      </Form>
    </Modal>
  )
}
