// The segment builder: the condition language (nested all / any / not groups of field + operator +
// value rows) edited as a tree. The operators and the value widget follow each field's type from the
// API's field registry (`GET /api/v1/customer-fields`).
import { BranchesOutlined, DeleteOutlined, PlusOutlined, WarningOutlined } from '@ant-design/icons'
import { useQuery } from '@tanstack/react-query'
import { AutoComplete, Button, DatePicker, Flex, InputNumber, Select, Space, Switch, Tag, Tooltip, Typography } from 'antd'
import dayjs from 'dayjs'
import { useMemo } from 'react'
import { useTranslation } from 'react-i18next'
import { listChannels, listCustomerFields, listWecomStaff, type Condition, type CustomerField } from '../api'
import { useAuth } from '../auth/AuthContext'
import { PERM } from '../auth/permissions'
import { useConnectionNames } from './channels'
import { TagMultiSelect, useTagTree } from './customerTags'

// --- the tree ---------------------------------------------------------------------------------------

export interface RuleNode {
  id: string
  kind: 'rule'
  field: string
  op: string
  value: unknown
}

export interface GroupNode {
  id: string
  kind: 'group'
  op: 'all' | 'any'
  negate: boolean
  items: BuilderNode[]
}

export type BuilderNode = RuleNode | GroupNode

let seq = 0
const newId = () => `n${++seq}`

export function emptyGroup(op: 'all' | 'any' = 'all'): GroupNode {
  return { id: newId(), kind: 'group', op, negate: false, items: [] }
}

export function newRule(field = '', op = '', value: unknown = undefined): RuleNode {
  return { id: newId(), kind: 'rule', field, op, value }
}

/** The API's JSON → the builder's tree (the root is always a group). */
export function fromCondition(json: unknown): GroupNode {
  const node = parse(json)
  return node.kind === 'group' ? node : { ...emptyGroup(), items: [node] }
}

function parse(json: unknown): BuilderNode {
  const o = (json && typeof json === 'object' ? json : {}) as Record<string, unknown>
  if (Array.isArray(o.all) || Array.isArray(o.any)) {
    const op = Array.isArray(o.all) ? 'all' : 'any'
    return { id: newId(), kind: 'group', op, negate: false, items: (o[op] as unknown[]).map(parse) }
  }
  if ('not' in o) {
    const inner = parse(o.not)
    if (inner.kind === 'group' && !inner.negate) return { ...inner, negate: true }
    return { id: newId(), kind: 'group', op: 'all', negate: true, items: [inner] }
  }
  return newRule(String(o.field ?? ''), String(o.op ?? ''), o.value)
}

const NO_VALUE = new Set(['is_set', 'not_set'])

/** Whether a row has everything its operator needs. */
export function ruleComplete(r: RuleNode): boolean {
  if (!r.field || !r.op) return false
  if (NO_VALUE.has(r.op)) return true
  const v = r.value
  if (v === undefined || v === null || v === '') return false
  if (Array.isArray(v)) {
    if (!v.length) return false
    if (r.op === 'between') return v.length === 2 && v.every((x) => x !== null && x !== undefined && x !== '')
  }
  return true
}

export interface Compiled {
  condition: Condition
  /** Server paths ("all[1].any[0]") of each row, to put errors next to it. */
  paths: Record<string, string>
  incomplete: string[]
}

/** The tree → the API's JSON. Rows still being filled in are left out (`incomplete` names them). */
export function toCondition(root: GroupNode): Compiled {
  const paths: Record<string, string> = {}
  const incomplete: string[] = []
  const join = (path: string, key: string) => (path ? `${path}.${key}` : key)
  const walk = (node: BuilderNode, path: string): Condition | null => {
    if (node.kind === 'rule') {
      if (!ruleComplete(node)) {
        incomplete.push(node.id)
        return null
      }
      paths[node.id] = path
      return NO_VALUE.has(node.op) ? { field: node.field, op: node.op } : { field: node.field, op: node.op, value: node.value }
    }
    const base = node.negate ? join(path, 'not') : path
    const items: Condition[] = []
    for (const child of node.items) {
      const compiled = walk(child, `${join(base, node.op)}[${items.length}]`)
      if (compiled) items.push(compiled)
    }
    paths[node.id] = base
    // a group still empty is being built: left out, like an unfinished row (the root stays)
    if (!items.length && node !== root) return null
    const group = (node.op === 'all' ? { all: items } : { any: items }) as Condition
    return node.negate ? { not: group } : group
  }
  return { condition: walk(root, '') ?? { all: [] }, paths, incomplete }
}

function update(node: GroupNode, id: string, fn: (n: BuilderNode) => BuilderNode | null): GroupNode {
  return {
    ...node,
    items: node.items
      .map((child) => (child.id === id ? fn(child) : child.kind === 'group' ? update(child, id, fn) : child))
      .filter((x): x is BuilderNode => x !== null),
  }
}

/** Server error paths ("condition.all[1].value") → the row or group they are about. */
export function errorsByNode(errors: { field: string; message: string }[], paths: Record<string, string>): Record<string, string[]> {
  const out: Record<string, string[]> = {}
  const entries = Object.entries(paths)
  for (const e of errors) {
    const p = e.field.replace(/^condition\.?/, '')
    let best: [string, string] | null = null
    for (const [id, path] of entries) {
      const hit = path === '' || p === path || p.startsWith(`${path}.`) || p.startsWith(`${path}[`)
      if (hit && (!best || path.length > best[1].length)) best = [id, path]
    }
    if (best) (out[best[0]] ??= []).push(e.message)
  }
  return out
}

// --- operators and fields ---------------------------------------------------------------------------

const TIME_TYPES = new Set(['date', 'datetime'])
/** gt / lt mean the same as after / before on times: offered only when a condition already uses them. */
const TIME_ORDER = ['within_last', 'within_next', 'between', 'after', 'before', 'gte', 'lte', 'is_set', 'not_set']
const ORDER = ['contains_any', 'contains_all', 'contains_none', 'eq', 'ne', 'in', 'not_in', 'gt', 'gte', 'lt', 'lte', 'between', 'is_set', 'not_set']

export function operatorsOf(field: CustomerField | undefined, current?: string): string[] {
  if (!field) return []
  const order = TIME_TYPES.has(field.type) ? TIME_ORDER : ORDER
  const ops = order.filter((op) => field.operators.includes(op))
  if (current && field.operators.includes(current) && !ops.includes(current)) ops.push(current)
  return ops
}

function defaultValue(field: CustomerField, op: string): unknown {
  if (NO_VALUE.has(op)) return undefined
  if (op === 'within_last' || op === 'within_next') return '30d'
  if (field.type === 'boolean') return true
  return undefined
}

export function useCustomerFields() {
  const q = useQuery({ queryKey: ['customer-fields'], queryFn: listCustomerFields, staleTime: 60_000 })
  const byName = useMemo(() => new Map((q.data ?? []).map((f) => [f.name, f])), [q.data])
  return { ...q, fields: q.data ?? [], byName }
}

export function useFieldLabel() {
  const { i18n } = useTranslation()
  return (f: Pick<CustomerField, 'label_zh' | 'label_en' | 'name'> | undefined, name?: string) =>
    f ? (i18n.language === 'en' ? f.label_en : f.label_zh) || f.name : (name ?? '')
}

// --- value widgets ----------------------------------------------------------------------------------

function useChannelOptions(enabled: boolean) {
  const { can } = useAuth()
  const q = useQuery({
    queryKey: ['channels', 'list', 'all-names'],
    queryFn: () => listChannels({ limit: 200 }),
    enabled: enabled && can(PERM.channelsView),
    staleTime: 60_000,
  })
  return (q.data?.items ?? []).map((c) => ({ value: c.id, label: c.name, store: c.store, region: c.region }))
}

function useStaffOptions(enabled: boolean) {
  const { can } = useAuth()
  const q = useQuery({
    queryKey: ['wecom-staff', 'contact', null],
    queryFn: () => listWecomStaff({ limit: 200, has_customer_contact: true }),
    enabled: enabled && can(PERM.usersView),
    staleTime: 60_000,
  })
  return (q.data?.items ?? []).map((s) => ({ value: s.userid, label: `${s.name} (${s.userid})` }))
}

/** "30d" / "-30d" / "+7d" ⇄ amount, unit, direction. */
function parseRelative(v: unknown): { n: number; unit: string; future: boolean } | null {
  const m = typeof v === 'string' ? /^([+-]?)(\d{1,6})([mhdw])$/.exec(v) : null
  return m ? { n: Number(m[2]), unit: m[3], future: m[1] === '+' } : null
}

function DurationInput({ value, onChange, calendar, testId }: { value: unknown; onChange: (v: string) => void; calendar: boolean; testId: string }) {
  const { t } = useTranslation()
  const r = parseRelative(value) ?? { n: 30, unit: 'd', future: false }
  const units = calendar ? ['d', 'w'] : ['h', 'd', 'w']
  return (
    <Space.Compact>
      <InputNumber min={1} max={999999} precision={0} value={r.n} onChange={(n) => onChange(`${n ?? 1}${r.unit}`)} style={{ width: 90 }} data-testid={`${testId}-amount`} />
      <Select value={r.unit} onChange={(u) => onChange(`${r.n}${u}`)} options={units.map((u) => ({ value: u, label: t(`segments.units.${u}`) }))} style={{ width: 80 }} data-testid={`${testId}-unit`} />
    </Space.Compact>
  )
}

/** One point in time: an absolute date, or N days/weeks ago / ahead. */
function TimePointInput({ value, onChange, calendar, testId }: { value: unknown; onChange: (v: string | null) => void; calendar: boolean; testId: string }) {
  const { t } = useTranslation()
  const rel = parseRelative(value)
  const mode = rel ? 'relative' : 'absolute'
  const units = calendar ? ['d', 'w'] : ['h', 'd', 'w']
  return (
    <Space.Compact>
      <Select
        value={mode}
        onChange={(m) => onChange(m === 'relative' ? '7d' : null)}
        options={[
          { value: 'absolute', label: t('segments.time.absolute') },
          { value: 'relative', label: t('segments.time.relative') },
        ]}
        style={{ width: 96 }}
        data-testid={`${testId}-mode`}
      />
      {rel ? (
        <>
          <InputNumber min={0} max={999999} precision={0} value={rel.n} onChange={(n) => onChange(`${rel.future ? '+' : ''}${n ?? 0}${rel.unit}`)} style={{ width: 80 }} data-testid={`${testId}-amount`} />
          <Select value={rel.unit} onChange={(u) => onChange(`${rel.future ? '+' : ''}${rel.n}${u}`)} options={units.map((u) => ({ value: u, label: t(`segments.units.${u}`) }))} style={{ width: 72 }} />
          <Select
            value={rel.future ? 'ahead' : 'ago'}
            onChange={(d) => onChange(`${d === 'ahead' ? '+' : ''}${rel.n}${rel.unit}`)}
            options={[
              { value: 'ago', label: t('segments.time.ago') },
              { value: 'ahead', label: t('segments.time.ahead') },
            ]}
            style={{ width: 76 }}
          />
        </>
      ) : (
        <DatePicker
          value={typeof value === 'string' && /^\d{4}-\d{2}-\d{2}$/.test(value) ? dayjs(value) : null}
          onChange={(d) => onChange(d ? d.format('YYYY-MM-DD') : null)}
          style={{ width: 150 }}
          data-testid={`${testId}-date`}
        />
      )}
    </Space.Compact>
  )
}

function ValueInput({ field, rule, onChange, testId }: { field: CustomerField; rule: RuleNode; onChange: (v: unknown) => void; testId: string }) {
  const { t } = useTranslation()
  const { op, value } = rule
  const multi = ['in', 'not_in', 'contains_any', 'contains_all', 'contains_none'].includes(op)
  const connections = useConnectionNames()
  const channels = useChannelOptions(field.name === 'channel' || field.name === 'store' || field.name === 'region')
  const staff = useStaffOptions(field.name === 'staff')
  if (NO_VALUE.has(op)) return null
  const calendar = field.type === 'date'

  if (TIME_TYPES.has(field.type)) {
    if (op === 'within_last' || op === 'within_next') return <DurationInput value={value} onChange={onChange} calendar={calendar} testId={testId} />
    if (op === 'between') {
      const pair = Array.isArray(value) ? value : [null, null]
      return (
        <Space wrap>
          <TimePointInput value={pair[0]} onChange={(v) => onChange([v, pair[1] ?? null])} calendar={calendar} testId={`${testId}-from`} />
          <span>~</span>
          <TimePointInput value={pair[1]} onChange={(v) => onChange([pair[0] ?? null, v])} calendar={calendar} testId={`${testId}-to`} />
        </Space>
      )
    }
    return <TimePointInput value={value} onChange={onChange} calendar={calendar} testId={testId} />
  }
  if (field.name === 'tags') {
    return <TagMultiSelect value={Array.isArray(value) ? (value as number[]) : []} onChange={onChange} testId={testId} style={{ minWidth: 260 }} />
  }
  if (field.type === 'number') {
    if (op === 'between') {
      const pair = Array.isArray(value) ? value : [null, null]
      return (
        <Space>
          <InputNumber value={pair[0] as number | null} onChange={(v) => onChange([v, pair[1] ?? null])} data-testid={`${testId}-low`} />
          <span>~</span>
          <InputNumber value={pair[1] as number | null} onChange={(v) => onChange([pair[0] ?? null, v])} data-testid={`${testId}-high`} />
        </Space>
      )
    }
    if (multi)
      return (
        <Select
          mode="tags"
          value={((value as number[]) ?? []).map(String)}
          onChange={(v: string[]) => onChange(v.map(Number).filter((n) => !Number.isNaN(n)))}
          style={{ minWidth: 200 }}
          data-testid={testId}
        />
      )
    return <InputNumber value={value as number | null} onChange={(v) => onChange(v)} data-testid={testId} />
  }
  if (field.type === 'boolean') {
    return (
      <Select
        value={value as boolean}
        onChange={onChange}
        options={[
          { value: true, label: t('common.yes') },
          { value: false, label: t('common.no') },
        ]}
        style={{ width: 100 }}
        data-testid={testId}
      />
    )
  }
  // ids and strings with known choices
  let options: { value: string | number; label: string }[] | null = null
  if (field.name === 'channel') options = channels
  else if (field.name === 'connection') options = connections.options.map((o) => ({ value: o.value, label: o.label }))
  else if (field.name === 'staff') options = staff
  else if (field.name === 'gender') options = [0, 1, 2].map((g) => ({ value: g, label: t(`customers.gender.${g}`) }))
  else if (field.name === 'store' || field.name === 'region') {
    const key = field.name as 'store' | 'region'
    options = [...new Set(channels.map((c) => c[key]).filter((x): x is string => !!x))].map((x) => ({ value: x, label: x }))
  }
  const numeric = field.type === 'id' || field.type === 'id_set'
  if (multi) {
    return (
      <Select
        mode={options && numeric ? 'multiple' : 'tags'}
        value={Array.isArray(value) ? (value as (string | number)[]) : []}
        onChange={(v: (string | number)[]) => onChange(numeric ? v.map(Number).filter((n) => Number.isInteger(n)) : v.map(String))}
        options={options ?? []}
        optionFilterProp="label"
        style={{ minWidth: 240 }}
        data-testid={testId}
        optionRender={(opt) => <span data-testid={`${testId}-option-${opt.value}`}>{opt.label}</span>}
      />
    )
  }
  if (options && numeric) {
    return (
      <Select
        showSearch
        optionFilterProp="label"
        value={value as number | undefined}
        onChange={onChange}
        options={options}
        style={{ minWidth: 200 }}
        data-testid={testId}
        optionRender={(opt) => <span data-testid={`${testId}-option-${opt.value}`}>{opt.label}</span>}
      />
    )
  }
  if (numeric) return <InputNumber value={value as number | null} precision={0} onChange={(v) => onChange(v)} data-testid={testId} />
  return (
    <AutoComplete
      value={(value as string) ?? ''}
      onChange={(v: string) => onChange(v)}
      options={(options ?? []).map((o) => ({ value: String(o.value) }))}
      filterOption={(input, opt) => !!opt?.value.includes(input)}
      style={{ minWidth: 200 }}
      data-testid={testId}
    />
  )
}

// --- the builder ------------------------------------------------------------------------------------

interface BuilderProps {
  value: GroupNode
  onChange: (v: GroupNode) => void
  /** Server errors by row / group id. */
  errors?: Record<string, string[]>
  readOnly?: boolean
}

export function SegmentBuilder({ value, onChange, errors = {}, readOnly }: BuilderProps) {
  const fields = useCustomerFields()
  return (
    <div className="seg-builder" data-testid="segment-builder">
      <GroupEditor
        group={value}
        root
        depth={0}
        path="root"
        fields={fields.fields}
        byName={fields.byName}
        errors={errors}
        readOnly={readOnly}
        onChange={(g) => onChange(g)}
        onRemove={() => undefined}
      />
    </div>
  )
}

function GroupEditor({
  group,
  root,
  depth,
  path,
  fields,
  byName,
  errors,
  readOnly,
  onChange,
  onRemove,
}: {
  group: GroupNode
  root?: boolean
  depth: number
  path: string
  fields: CustomerField[]
  byName: Map<string, CustomerField>
  errors: Record<string, string[]>
  readOnly?: boolean
  onChange: (g: GroupNode) => void
  onRemove: () => void
}) {
  const { t } = useTranslation()
  const setItem = (id: string, next: BuilderNode | null) => onChange(update(group, id, () => next))
  const firstField = fields.find((f) => f.available)
  const addRule = () => {
    const field = firstField
    const op = field ? operatorsOf(field)[0] : ''
    onChange({ ...group, items: [...group.items, newRule(field?.name ?? '', op, field ? defaultValue(field, op) : undefined)] })
  }
  const addGroup = () => onChange({ ...group, items: [...group.items, { ...emptyGroup(group.op === 'all' ? 'any' : 'all'), items: [] }] })
  const groupErrors = errors[group.id] ?? []
  return (
    <div className={`seg-group seg-depth-${depth % 4}${group.negate ? ' seg-negate' : ''}`} data-testid={`segment-group-${path}`} data-op={group.op} data-negate={String(group.negate)}>
      <Flex align="center" gap={8} wrap className="seg-group-head">
        {group.negate ? (
          <Tag color="red" style={{ marginInlineEnd: 0 }}>
            {t('segments.builder.not')}
          </Tag>
        ) : null}
        <Typography.Text>{t('segments.builder.match')}</Typography.Text>
        <Select
          size="small"
          value={group.op}
          disabled={readOnly}
          onChange={(op: 'all' | 'any') => onChange({ ...group, op })}
          options={[
            { value: 'all', label: t('segments.builder.all') },
            { value: 'any', label: t('segments.builder.any') },
          ]}
          style={{ width: 110 }}
          data-testid={`segment-group-${path}-op`}
          optionRender={(opt) => <span data-testid={`segment-group-${path}-op-${opt.value}`}>{opt.label}</span>}
        />
        <Typography.Text>{t('segments.builder.conditions')}</Typography.Text>
        {!readOnly ? (
          <Tooltip title={t('segments.builder.negateHint')}>
            <Space size={4}>
              <Switch size="small" checked={group.negate} onChange={(negate) => onChange({ ...group, negate })} data-testid={`segment-group-${path}-negate`} />
              <Typography.Text type="secondary" style={{ fontSize: 12 }}>
                {t('segments.builder.negate')}
              </Typography.Text>
            </Space>
          </Tooltip>
        ) : null}
        {!root && !readOnly ? (
          <Button size="small" type="text" danger icon={<DeleteOutlined />} onClick={onRemove} aria-label={t('common.delete')} data-testid={`segment-group-${path}-remove`} style={{ marginInlineStart: 'auto' }} />
        ) : null}
      </Flex>
      {groupErrors.length ? (
        <Typography.Text type="danger" style={{ display: 'block', margin: '4px 0' }} data-testid={`segment-group-${path}-errors`}>
          <WarningOutlined /> {groupErrors.join('；')}
        </Typography.Text>
      ) : null}
      <div className="seg-items">
        {group.items.length === 0 ? (
          <Typography.Text type="secondary" className="seg-empty">
            {root ? t('segments.builder.emptyRoot') : t('segments.builder.emptyGroup')}
          </Typography.Text>
        ) : null}
        {group.items.map((item, i) =>
          item.kind === 'group' ? (
            <GroupEditor
              key={item.id}
              group={item}
              depth={depth + 1}
              path={`${path}-${i}`}
              fields={fields}
              byName={byName}
              errors={errors}
              readOnly={readOnly}
              onChange={(g) => setItem(item.id, g)}
              onRemove={() => setItem(item.id, null)}
            />
          ) : (
            <RuleRow
              key={item.id}
              rule={item}
              path={`${path}-${i}`}
              joiner={i > 0 ? (group.op === 'all' ? t('segments.builder.and') : t('segments.builder.or')) : null}
              fields={fields}
              byName={byName}
              errors={errors[item.id] ?? []}
              readOnly={readOnly}
              onChange={(r) => setItem(item.id, r)}
              onRemove={() => setItem(item.id, null)}
            />
          ),
        )}
      </div>
      {!readOnly ? (
        <Space size={8} style={{ marginTop: 8 }}>
          <Button size="small" type="dashed" icon={<PlusOutlined />} onClick={addRule} data-testid={`segment-group-${path}-add-rule`}>
            {t('segments.builder.addRule')}
          </Button>
          {depth < 6 ? (
            <Button size="small" type="dashed" icon={<BranchesOutlined />} onClick={addGroup} data-testid={`segment-group-${path}-add-group`}>
              {t('segments.builder.addGroup')}
            </Button>
          ) : null}
        </Space>
      ) : null}
    </div>
  )
}

function RuleRow({
  rule,
  path,
  joiner,
  fields,
  byName,
  errors,
  readOnly,
  onChange,
  onRemove,
}: {
  rule: RuleNode
  path: string
  joiner: string | null
  fields: CustomerField[]
  byName: Map<string, CustomerField>
  errors: string[]
  readOnly?: boolean
  onChange: (r: RuleNode) => void
  onRemove: () => void
}) {
  const { t } = useTranslation()
  const label = useFieldLabel()
  const field = byName.get(rule.field)
  const ops = operatorsOf(field, rule.op)
  const testId = `segment-rule-${path}`
  const groups = [...new Set(fields.map((f) => f.group))]
  const complete = ruleComplete(rule)
  return (
    <div className={`seg-rule${errors.length ? ' seg-rule-error' : ''}`} data-testid={testId} data-field={rule.field} data-op={rule.op} data-complete={String(complete)}>
      {joiner ? <span className="seg-joiner">{joiner}</span> : null}
      <Flex gap={8} wrap align="center">
        <Select
          showSearch
          optionFilterProp="label"
          value={rule.field || undefined}
          disabled={readOnly}
          placeholder={t('segments.builder.field')}
          onChange={(name: string) => {
            const f = byName.get(name)
            const op = f ? operatorsOf(f)[0] : ''
            onChange({ ...rule, field: name, op, value: f ? defaultValue(f, op) : undefined })
          }}
          options={groups.map((g) => ({
            label: t(`segments.fieldGroup.${g}`, { defaultValue: g }),
            title: g,
            options: fields
              .filter((f) => f.group === g)
              .map((f) => ({ value: f.name, label: label(f), disabled: !f.available, reason: f.unavailable_reason })),
          }))}
          optionRender={(opt) => (
            <Tooltip title={(opt.data as { reason?: string | null }).reason} placement="right">
              <span data-testid={`${testId}-field-option-${String(opt.value).replace('.', '-')}`}>{opt.label}</span>
            </Tooltip>
          )}
          style={{ width: 160 }}
          data-testid={`${testId}-field`}
        />
        <Select
          value={rule.op || undefined}
          disabled={readOnly || !field}
          placeholder={t('segments.builder.op')}
          onChange={(op: string) => {
            // keep the value when its shape still fits, else start over
            const keep = field && ((['in', 'not_in', 'contains_any', 'contains_all', 'contains_none'].includes(op) && Array.isArray(rule.value)) || (op === rule.op))
            onChange({ ...rule, op, value: keep ? rule.value : field ? defaultValue(field, op) : undefined })
          }}
          options={ops.map((op) => ({ value: op, label: t(`segments.ops.${field && TIME_TYPES.has(field.type) ? 'time.' : ''}${op}`, { defaultValue: t(`segments.ops.${op}`) }) }))}
          style={{ width: 140 }}
          data-testid={`${testId}-op`}
          optionRender={(opt) => <span data-testid={`${testId}-op-${opt.value}`}>{opt.label}</span>}
        />
        {field ? (
          <div className="seg-value" style={readOnly ? { pointerEvents: 'none' } : undefined}>
            <ValueInput field={field} rule={rule} onChange={(value) => onChange({ ...rule, value })} testId={`${testId}-value`} />
          </div>
        ) : null}
        {!complete && rule.field ? (
          <Tooltip title={t('segments.builder.incompleteHint')}>
            <Tag color="default" data-testid={`${testId}-incomplete`}>
              {t('segments.builder.incomplete')}
            </Tag>
          </Tooltip>
        ) : null}
        {!readOnly ? (
          <Button type="text" danger size="small" icon={<DeleteOutlined />} onClick={onRemove} aria-label={t('common.delete')} data-testid={`${testId}-remove`} style={{ marginInlineStart: 'auto' }} />
        ) : null}
      </Flex>
      {errors.length ? (
        <Typography.Text type="danger" style={{ display: 'block', marginTop: 4, fontSize: 12 }} data-testid={`${testId}-errors`}>
          {errors.join('；')}
        </Typography.Text>
      ) : null}
    </div>
  )
}

// --- describing a condition in words (the segment list) ----------------------------------------------

export function useDescribeCondition() {
  const { t } = useTranslation()
  const fields = useCustomerFields()
  const label = useFieldLabel()
  const tags = useTagTree()
  const channels = useChannelOptions(true)
  const value = (field: string, v: unknown): string => {
    if (Array.isArray(v)) return v.map((x) => value(field, x)).join(field === 'added_at' ? ' ~ ' : '、')
    if (field === 'tags' && typeof v === 'number') return tags.nameOf(v)
    if (field === 'channel' && typeof v === 'number') return channels.find((c) => c.value === v)?.label ?? `#${v}`
    const rel = parseRelative(v)
    if (rel) return t(rel.future ? 'segments.time.inN' : 'segments.time.nAgo', { n: rel.n, unit: t(`segments.units.${rel.unit}`) })
    return String(v)
  }
  const describe = (json: unknown, depth = 0): string => {
    const o = (json && typeof json === 'object' ? json : {}) as Record<string, unknown>
    if (Array.isArray(o.all) || Array.isArray(o.any)) {
      const op = Array.isArray(o.all) ? 'all' : 'any'
      const items = (o[op] as unknown[]).map((x) => describe(x, depth + 1))
      if (!items.length) return op === 'all' ? t('segments.everyone') : t('segments.nobody')
      const text = items.join(op === 'all' ? ` ${t('segments.builder.and')} ` : ` ${t('segments.builder.or')} `)
      return depth && items.length > 1 ? `(${text})` : text
    }
    if ('not' in o) return `${t('segments.builder.not')}(${describe(o.not, depth + 1)})`
    const f = fields.byName.get(String(o.field))
    const op = String(o.op)
    const timeOp = f && TIME_TYPES.has(f.type) ? `segments.ops.time.${op}` : `segments.ops.${op}`
    const opText = t(timeOp, { defaultValue: t(`segments.ops.${op}`) })
    if (op === 'within_last' || op === 'within_next') {
      const rel = parseRelative(o.value)
      return `${label(f, String(o.field))} ${opText} ${rel ? `${rel.n} ${t(`segments.units.${rel.unit}`)}` : String(o.value)}`
    }
    return `${label(f, String(o.field))} ${opText}${NO_VALUE.has(op) ? '' : ` ${value(String(o.field), o.value)}`}`
  }
  return describe
}
