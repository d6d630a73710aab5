// Escalation levels of an SLA policy (超时升级): the editor inside the policy form, the timeline shown
// in the policies table, and where the server's `escalation.N.field` errors go.
import { CloseOutlined, PlusOutlined } from '@ant-design/icons'
import { Button, Checkbox, Flex, Form, InputNumber, Tag, Timeline, Tooltip, Typography } from 'antd'
import { useTranslation } from 'react-i18next'
import type { EscalationLevel, EscalationRole, FieldError } from '../api'
import { routingErrorText } from './ticketRouting'
import { formatMinutes, MAX_TARGET_MINUTES, type NamePath, type T } from './tickets'

export const ESCALATION_ROLES: EscalationRole[] = ['assignee', 'team_lead', 'manager']
export const MAX_ESCALATION_LEVELS = 5
const LEVEL_FIELDS = ['after_minutes', 'notify', 'raise_priority', 'reassign']

/** The server's default: the assignee is told at the breach. */
export const defaultEscalation = (): EscalationLevel[] => [{ after_minutes: 0, notify: ['assignee'], raise_priority: false, reassign: false }]

/** Levels as the API takes them (roles in a fixed order, each once). */
export function escalationBody(levels: EscalationLevel[] | undefined): EscalationLevel[] {
  return (levels ?? []).map((l) => ({
    after_minutes: l.after_minutes ?? 0,
    notify: ESCALATION_ROLES.filter((r) => (l.notify ?? []).includes(r)),
    raise_priority: !!l.raise_priority,
    reassign: !!l.reassign,
  }))
}

/** `escalation.2.after_minutes` on that level's input; `escalation.1` or `escalation` under the list. */
export function placeEscalationError(e: FieldError, t: T): { name: NamePath; text: string } | null {
  const path = e.field.replace(/\[(\d+)\]/g, '.$1').split('.')
  if (path[0] !== 'escalation') return null
  const text = routingErrorText(e, t)
  const index = path[1] !== undefined && /^\d+$/.test(path[1]) ? Number(path[1]) : null
  if (index !== null && path[2] && LEVEL_FIELDS.includes(path[2])) return { name: ['escalation', index, path[2]], text }
  if (index !== null) return { name: ['escalation', index, 'after_minutes'], text }
  return { name: ['escalation'], text }
}

/** When a level acts: "超时时" or "超时 30 分钟后". */
export function levelWhen(level: EscalationLevel, t: T): string {
  return level.after_minutes ? t('ticketRouting.escalation.afterText', { duration: formatMinutes(level.after_minutes, t) }) : t('ticketRouting.escalation.atBreach')
}

/** What a level does: "通知 处理人、组长 · 提升优先级". */
export function levelActions(level: EscalationLevel, t: T): string {
  const parts: string[] = []
  const roles = level.notify ?? []
  if (roles.length) parts.push(`${t('ticketRouting.escalation.notify')} ${roles.map((r) => t(`ticketRouting.escalation.roles.${r}`)).join('、')}`)
  if (level.raise_priority) parts.push(t('ticketRouting.escalation.raisePriority'))
  if (level.reassign) parts.push(t('ticketRouting.escalation.reassign'))
  return parts.length ? parts.join(' · ') : t('ticketRouting.escalation.nothing')
}

/** The policy's levels as a small timeline, for the policies table. */
export function EscalationTimeline({ levels, testId }: { levels: EscalationLevel[]; testId: string }) {
  const { t } = useTranslation()
  return (
    <div data-testid={testId} data-count={levels.length}>
      <Timeline
        style={{ marginBottom: -20, paddingTop: 4 }}
        items={levels.map((level, i) => ({
          color: i === 0 ? 'orange' : level.reassign || level.raise_priority ? 'red' : 'gray',
          children: (
            <div data-testid={`${testId}-${i}`} data-after={level.after_minutes} style={{ fontSize: 12, lineHeight: '18px' }}>
              <Typography.Text strong style={{ fontSize: 12 }}>
                {levelWhen(level, t)}
              </Typography.Text>{' '}
              <Typography.Text style={{ fontSize: 12 }}>{levelActions(level, t)}</Typography.Text>
            </div>
          ),
        }))}
      />
    </div>
  )
}

/** The levels of the policy form (a Form.List at `escalation`); the first acts at the breach. */
export function EscalationLevelsList({ readOnly = false }: { readOnly?: boolean }) {
  const { t } = useTranslation()
  return (
    <Form.List name="escalation">
      {(fields, { add, remove }, { errors }) => (
        <div data-testid="policy-form-escalation" data-count={fields.length}>
          {fields.map((field, index) => (
            <div key={field.key} style={{ padding: '8px 0', borderBottom: '1px solid #f5f5f5' }} data-testid={`policy-form-escalation-${index}`}>
              <Flex gap={12} align="flex-start">
                <Tag color={index === 0 ? 'orange' : 'red'} style={{ marginTop: 5, width: 56, textAlign: 'center', flex: 'none' }}>
                  {t('ticketRouting.escalation.level', { n: index + 1 })}
                </Tag>
                <Form.Item name={[field.name, 'after_minutes']} style={{ marginBottom: 0, width: 240 }}>
                  <InputNumber<number>
                    min={0}
                    max={MAX_TARGET_MINUTES}
                    precision={0}
                    // the first level acts at the breach
                    disabled={readOnly || index === 0}
                    prefix={t('ticketRouting.escalation.after')}
                    suffix={t('ticketRouting.escalation.minutesSuffix')}
                    style={{ width: '100%' }}
                    data-testid={`policy-form-escalation-${index}-after`}
                  />
                </Form.Item>
                <div style={{ flex: 1 }} />
                {readOnly || index === 0 ? null : (
                  <Tooltip title={t('ticketRouting.escalation.remove')}>
                    <Button
                      icon={<CloseOutlined />}
                      onClick={() => remove(field.name)}
                      aria-label={t('ticketRouting.escalation.remove')}
                      data-testid={`policy-form-escalation-${index}-remove`}
                    />
                  </Tooltip>
                )}
              </Flex>
              <Flex wrap align="center" gap={16} style={{ paddingLeft: 68, marginTop: 6 }}>
                <Flex align="center" gap={8}>
                  <Typography.Text type="secondary">{t('ticketRouting.escalation.notify')}</Typography.Text>
                  <Form.Item name={[field.name, 'notify']} style={{ marginBottom: 0 }}>
                    <Checkbox.Group disabled={readOnly}>
                      {ESCALATION_ROLES.map((role) => (
                        <Checkbox key={role} value={role}>
                          <span data-testid={`policy-form-escalation-${index}-notify-${role}`}>{t(`ticketRouting.escalation.roles.${role}`)}</span>
                        </Checkbox>
                      ))}
                    </Checkbox.Group>
                  </Form.Item>
                </Flex>
                <Form.Item name={[field.name, 'raise_priority']} valuePropName="checked" style={{ marginBottom: 0 }}>
                  <Checkbox disabled={readOnly}>
                    <span data-testid={`policy-form-escalation-${index}-raise`}>{t('ticketRouting.escalation.raisePriority')}</span>
                  </Checkbox>
                </Form.Item>
                <Form.Item name={[field.name, 'reassign']} valuePropName="checked" style={{ marginBottom: 0 }}>
                  <Checkbox disabled={readOnly}>
                    <span data-testid={`policy-form-escalation-${index}-reassign`}>{t('ticketRouting.escalation.reassign')}</span>
                  </Checkbox>
                </Form.Item>
              </Flex>
            </div>
          ))}
          <Form.ErrorList errors={errors} />
          {readOnly ? null : (
            <Form.Item noStyle shouldUpdate>
              {(form) => {
                const levels = (form.getFieldValue('escalation') ?? []) as EscalationLevel[]
                const last = levels[levels.length - 1]?.after_minutes ?? 0
                return (
                  <Tooltip title={fields.length >= MAX_ESCALATION_LEVELS ? t('ticketRouting.escalation.max', { max: MAX_ESCALATION_LEVELS }) : undefined}>
                    <Button
                      type="dashed"
                      icon={<PlusOutlined />}
                      style={{ marginTop: 8 }}
                      disabled={fields.length >= MAX_ESCALATION_LEVELS}
                      onClick={() => add({ after_minutes: last + 30, notify: [], raise_priority: false, reassign: false })}
                      data-testid="policy-form-escalation-add"
                    >
                      {t('ticketRouting.escalation.add')}
                    </Button>
                  </Tooltip>
                )
              }}
            </Form.Item>
          )}
        </div>
      )}
    </Form.List>
  )
}
