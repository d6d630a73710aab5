// Routing's shared pieces: strategy and presence labels, the staff picker (tenant users, searched on
// the server when the user may list staff, else the agents), the region and tag inputs, the skills-by-
// category editor, and the server's routing errors in the console's language.
import { CloseOutlined, PlusOutlined } from '@ant-design/icons'
import { useQuery } from '@tanstack/react-query'
import { Badge, Button, Flex, Form, Input, Select, Tag, Tooltip, Typography } from 'antd'
import { useEffect, useMemo, useState } from 'react'
import { useTranslation } from 'react-i18next'
import { listUsers, type Agent, type AgentStatus, type FieldError, type RoutingStrategy } from '../api'
import { useAuth } from '../auth/AuthContext'
import { PERM } from '../auth/permissions'
import type { T } from './tickets'
import { fieldErrorText } from './useApiError'
import { PROVINCES } from './forms/regions'

export const TEAMS_KEY = ['tickets', 'routing', 'teams'] as const
export const AGENTS_KEY = ['tickets', 'routing', 'agents'] as const

export const STRATEGIES: RoutingStrategy[] = ['least_load', 'round_robin', 'sticky']
export const STRATEGY_COLORS: Record<RoutingStrategy, string> = { least_load: 'blue', round_robin: 'geekblue', sticky: 'purple' }
export const PRESENCES: AgentStatus[] = ['online', 'away', 'offline']
export const PRESENCE_BADGE: Record<AgentStatus, 'success' | 'warning' | 'default'> = { online: 'success', away: 'warning', offline: 'default' }

/** Ticket types offered in the type inputs besides those already in use (any text is accepted). */
const COMMON_TICKET_TYPES = ['general', 'after_sales', 'refund', 'logistics', 'complaint', 'risk_review']


export function PresenceBadge({ status, testId }: { status: AgentStatus; testId?: string }) {
  const { t } = useTranslation()
  return <Badge status={PRESENCE_BADGE[status]} text={t(`ticketRouting.presence.${status}`)} data-testid={testId} data-value={status} />
}

/** A list of short texts as tags, with `fallback` in grey when empty and "+N" past `max`. */
export function TagList({ values, fallback, max = 4, testId }: { values: string[]; fallback: string; max?: number; testId?: string }) {
  if (!values.length)
    return (
      <Typography.Text type="secondary" data-testid={testId} data-value="">
        {fallback}
      </Typography.Text>
    )
  const shown = values.slice(0, max)
  return (
    <Flex wrap gap={4} data-testid={testId} data-value={values.join(',')}>
      {shown.map((v) => (
        <Tag key={v} style={{ marginInlineEnd: 0 }}>
          {v}
        </Tag>
      ))}
      {values.length > max ? (
        <Tooltip title={values.slice(max).join('、')}>
          <Tag style={{ marginInlineEnd: 0 }}>+{values.length - max}</Tag>
        </Tooltip>
      ) : null}
    </Flex>
  )
}

// ---------------------------------------------------------------------------------------------------
// Staff: names by user id, and the picker
// ---------------------------------------------------------------------------------------------------

/** Names of staff by user id: the agents' names, and the users list for those who may read it. */
export function useStaffNames(agents: Agent[] | undefined) {
  const { t } = useTranslation()
  const { can } = useAuth()
  const users = useQuery({ queryKey: ['users', 'picker', ''], queryFn: () => listUsers({ limit: 200 }), enabled: can(PERM.usersView), staleTime: 60_000 })
  return useMemo(() => {
    const names = new Map<number, string>((users.data?.items ?? []).map((u) => [u.id, u.display_name || u.email]))
    for (const a of agents ?? []) names.set(a.user_id, a.name)
    return (id: number | null | undefined) => (id == null ? '' : (names.get(id) ?? t('ticketRouting.userFallback', { id })))
  }, [users.data, agents, t])
}

function useDebounced<V>(value: V, ms: number): V {
  const [settled, setSettled] = useState(value)
  useEffect(() => {
    const timer = setTimeout(() => setSettled(value), ms)
    return () => clearTimeout(timer)
  }, [value, ms])
  return settled
}

interface StaffSelectProps {
  value?: number | number[] | null
  onChange?: (v: number | number[] | null) => void
  multiple?: boolean
  agents: Agent[]
  nameOf: (id: number) => string
  testId: string
  disabled?: boolean
  /** User ids not to offer (already agents, when adding one). */
  exclude?: Set<number>
}

/**
 * Tenant staff by name or email: searched on the server for those who may list users (active users
 * only), otherwise among the agents. Chosen ids always show their names.
 */
export function StaffSelect({ value, onChange, multiple, agents, nameOf, testId, disabled, exclude }: StaffSelectProps) {
  const { t } = useTranslation()
  const { can } = useAuth()
  const canList = can(PERM.usersView)
  const [search, setSearch] = useState('')
  const q = useDebounced(search.trim(), 250)
  const found = useQuery({ queryKey: ['users', 'picker', q], queryFn: () => listUsers({ limit: 50, q: q || undefined }), enabled: canList && !disabled, staleTime: 30_000 })
  const chosen = value == null ? [] : Array.isArray(value) ? value : [value]
  const options = useMemo(() => {
    const seen = new Set<number>()
    const list: { value: number; label: string }[] = []
    const push = (id: number, label: string) => {
      if (seen.has(id) || (exclude?.has(id) && !chosen.includes(id))) return
      seen.add(id)
      list.push({ value: id, label })
    }
    if (canList) {
      for (const u of found.data?.items ?? []) if (u.is_active) push(u.id, `${u.display_name} (${u.email})`)
    } else {
      for (const a of agents) if (!q || a.name.toLowerCase().includes(q.toLowerCase())) push(a.user_id, a.name)
    }
    for (const id of chosen) push(id, nameOf(id))
    return list
  }, [canList, found.data, agents, q, chosen, nameOf, exclude])
  return (
    <Select<number | number[]>
      mode={multiple ? 'multiple' : undefined}
      value={multiple ? chosen : (chosen[0] ?? null)}
      onChange={(v) => onChange?.(v ?? null)}
      options={options}
      showSearch
      filterOption={false}
      onSearch={setSearch}
      onOpenChange={(open) => {
        if (!open) setSearch('')
      }}
      allowClear
      loading={found.isFetching}
      disabled={disabled}
      placeholder={t('ticketRouting.agents.userPlaceholder')}
      optionRender={(opt) => <span data-testid={`${testId}-option-${opt.value}`}>{opt.label}</span>}
      data-testid={testId}
      data-value={chosen.join(',')}
      style={{ width: '100%' }}
    />
  )
}

// ---------------------------------------------------------------------------------------------------
// Tag inputs: ticket types, regions, skills
// ---------------------------------------------------------------------------------------------------

interface TagsProps {
  value?: string[]
  onChange?: (v: string[]) => void
  testId: string
  disabled?: boolean
  placeholder?: string
}

/** Free texts as tags (Enter or comma adds one), offering `suggestions`. */
export function TagsInput({ value, onChange, suggestions, testId, disabled, placeholder }: TagsProps & { suggestions: string[] }) {
  const options = useMemo(() => [...new Set(suggestions)].sort().map((s) => ({ value: s, label: s })), [suggestions])
  return (
    <Select<string[]>
      mode="tags"
      value={value ?? []}
      onChange={(v) => onChange?.(v.map((s) => s.trim()).filter(Boolean))}
      tokenSeparators={[',', '，']}
      options={options}
      disabled={disabled}
      placeholder={placeholder}
      optionRender={(opt) => <span data-testid={`${testId}-option-${opt.value}`}>{opt.label}</span>}
      data-testid={testId}
      data-value={(value ?? []).join(',')}
      style={{ width: '100%' }}
    />
  )
}

export function TicketTypesInput(props: TagsProps & { inUse: string[] }) {
  const { inUse, ...rest } = props
  return <TagsInput {...rest} suggestions={[...COMMON_TICKET_TYPES, ...inUse]} />
}

/** Provinces by their Chinese names (the value tickets carry); English labels add the name in English. */
export function RegionsInput({ value, onChange, testId, disabled, placeholder }: TagsProps) {
  const { i18n } = useTranslation()
  const en = i18n.language === 'en'
  const options = useMemo(() => PROVINCES.map(([zh, name]) => ({ value: zh, label: en ? `${name} (${zh})` : zh })), [en])
  return (
    <Select<string[]>
      mode="tags"
      value={value ?? []}
      onChange={(v) => onChange?.(v.map((s) => s.trim()).filter(Boolean))}
      tokenSeparators={[',', '，']}
      options={options}
      optionFilterProp="label"
      disabled={disabled}
      placeholder={placeholder}
      optionRender={(opt) => <span data-testid={`${testId}-option-${opt.value}`}>{opt.label}</span>}
      data-testid={testId}
      data-value={(value ?? []).join(',')}
      style={{ width: '100%' }}
    />
  )
}

/** One row of the skills editor; the API's `skills_by_category` is a map of these. */
export interface CategorySkills {
  category: string
  skills: string[]
}

export const skillsToRows = (map: Record<string, string[]>): CategorySkills[] =>
  Object.entries(map).map(([category, skills]) => ({ category, skills: [...skills] }))

export const rowsToSkills = (rows: CategorySkills[] | undefined): Record<string, string[]> =>
  Object.fromEntries((rows ?? []).filter((r) => r?.category?.trim()).map((r) => [r.category.trim(), r.skills ?? []]))

/** Category → skills, one row each (a Form.List at `name`). */
export function SkillsByCategoryList({ name, readOnly, skillSuggestions }: { name: string; readOnly: boolean; skillSuggestions: string[] }) {
  const { t } = useTranslation()
  return (
    <Form.List name={name}>
      {(fields, { add, remove }, { errors }) => (
        <div data-testid="team-form-skills" data-count={fields.length}>
          {fields.length === 0 ? (
            <Typography.Paragraph type="secondary" style={{ marginBottom: 8 }}>
              {t('ticketRouting.teams.skillsNone')}
            </Typography.Paragraph>
          ) : null}
          {fields.map((field) => (
            <Flex key={field.key} gap={8} align="flex-start" data-testid={`team-form-skills-${field.name}`}>
              <Form.Item
                name={[field.name, 'category']}
                style={{ width: 180, flex: 'none', marginBottom: 8 }}
                rules={[
                  { required: true, whitespace: true, message: t('ticketRouting.teams.skillsCategoryRequired') },
                  ({ getFieldValue }) => ({
                    validator: (_, v: string) => {
                      const rows = (getFieldValue(name) ?? []) as CategorySkills[]
                      const same = rows.filter((r) => r?.category?.trim() && r.category.trim() === v?.trim()).length
                      return same > 1 ? Promise.reject(new Error(t('ticketRouting.teams.skillsCategoryDuplicate'))) : Promise.resolve()
                    },
                  }),
                ]}
              >
                <Input maxLength={64} disabled={readOnly} placeholder={t('ticketRouting.teams.skillsCategoryPlaceholder')} data-testid={`team-form-skills-${field.name}-category`} />
              </Form.Item>
              <Form.Item name={[field.name, 'skills']} style={{ flex: 1, marginBottom: 8 }}>
                <TagsInput suggestions={skillSuggestions} disabled={readOnly} placeholder={t('ticketRouting.teams.skillsListPlaceholder')} testId={`team-form-skills-${field.name}-skills`} />
              </Form.Item>
              {readOnly ? null : (
                <Tooltip title={t('ticketRouting.teams.skillsRemove')}>
                  <Button icon={<CloseOutlined />} onClick={() => remove(field.name)} aria-label={t('ticketRouting.teams.skillsRemove')} data-testid={`team-form-skills-${field.name}-remove`} />
                </Tooltip>
              )}
            </Flex>
          ))}
          <Form.ErrorList errors={errors} />
          {readOnly ? null : (
            <Button type="dashed" icon={<PlusOutlined />} onClick={() => add({ category: '', skills: [] })} disabled={fields.length >= 200} data-testid="team-form-skills-add">
              {t('ticketRouting.teams.skillsAdd')}
            </Button>
          )}
        </div>
      )}
    </Form.List>
  )
}

// ---------------------------------------------------------------------------------------------------
// The server's words
// ---------------------------------------------------------------------------------------------------

/** A routing or escalation field error in the console's language when known; the server's words otherwise. */
export function routingErrorText(e: FieldError, t: T, nameOf?: (id: number) => string): string {
  if (e.code) return fieldErrorText(e, t)
  const known: Record<string, string> = {
    'required with an overflow team': 'overflowRequired',
    'a team cannot overflow into itself': 'overflowSelf',
    'no such team': 'noSuchTeam',
    'the first level acts at the breach: 0': 'firstAtBreach',
    'later levels come later': 'laterComesLater',
  }
  if (known[e.message]) return t(`ticketRouting.serverErrors.${known[e.message]}`)
  const user = /^no active user (\d+) in this tenant$/.exec(e.message)
  if (user) return t('ticketRouting.serverErrors.noUser', { user: nameOf ? nameOf(Number(user[1])) : `#${user[1]}` })
  return e.message
}
