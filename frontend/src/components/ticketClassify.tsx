// Ticket classification's shared pieces: query keys, the confidence and "classified by" tags, and the
// categories the workspace knows (the active model's labels and the rules' categories).
import { useQuery } from '@tanstack/react-query'
import { Tag, Tooltip } from 'antd'
import { useMemo } from 'react'
import { useTranslation } from 'react-i18next'
import { listClassificationRules, listClassifierModels } from '../api/ticketClassify'

export const RULES_KEY = ['tickets', 'classify', 'rules'] as const
export const MODELS_KEY = ['tickets', 'classify', 'models'] as const
export const TRAININGS_KEY = ['tickets', 'classify', 'trainings'] as const
export const SETTINGS_KEY = ['tickets', 'classify', 'settings'] as const
export const TRIAGE_KEY = ['tickets', 'classify', 'triage'] as const

/** "72%" of a 0..1 value; "—" when absent. */
export function percent(value: number | null | undefined): string {
  return value == null ? '—' : `${Math.round(value * 1000) / 10}%`
}

const CONFIDENCE_COLOR = (value: number) => (value >= 0.8 ? 'green' : value >= 0.6 ? 'gold' : 'volcano')

export function ConfidenceTag({ value, testId }: { value: number | null | undefined; testId?: string }) {
  if (value == null) return <span className="muted" data-testid={testId}>—</span>
  return (
    <Tag color={CONFIDENCE_COLOR(value)} data-testid={testId} data-value={value}>
      {percent(value)}
    </Tag>
  )
}

export function ClassifiedByTag({ by, testId }: { by: string; testId?: string }) {
  const { t } = useTranslation()
  const color = by === 'rule' ? 'purple' : by === 'model' ? 'blue' : by === 'agent' ? 'green' : 'default'
  return (
    <Tag color={color} data-testid={testId} data-by={by}>
      {t(`ticketClassify.classifiedBy.${by}`, { defaultValue: by })}
    </Tag>
  )
}

export function PhraseTags({ phrases }: { phrases: string[] }) {
  const shown = phrases.slice(0, 6)
  return (
    <>
      {shown.map((p) => (
        <Tag key={p}>{p}</Tag>
      ))}
      {phrases.length > shown.length ? (
        <Tooltip title={phrases.slice(shown.length).join('、')}>
          <Tag>+{phrases.length - shown.length}</Tag>
        </Tooltip>
      ) : null}
    </>
  )
}

/** Categories to choose from: the active model's labels, then the rules' categories, without repeats. */
export function useKnownCategories(): string[] {
  const models = useQuery({ queryKey: MODELS_KEY, queryFn: listClassifierModels })
  const rules = useQuery({ queryKey: RULES_KEY, queryFn: listClassificationRules })
  return useMemo(() => {
    const active = models.data?.find((m) => m.active)
    const found = [...(active?.labels ?? []), ...(rules.data ?? []).map((r) => r.category).filter((c): c is string => !!c)]
    return [...new Set(found)]
  }, [models.data, rules.data])
}
