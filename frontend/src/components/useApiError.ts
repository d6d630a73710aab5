import { App } from 'antd'
import type { FormInstance } from 'antd'
import { useCallback } from 'react'
import { useTranslation } from 'react-i18next'
import { ApiError, type FieldError } from '../api'

/**
 * Human text of an error: a line in the console's language for the status (the server's details are
 * in English), then the problem's `detail` (else its title); a generic line otherwise.
 */
export function errorText(err: unknown, t: (k: string, o?: Record<string, unknown>) => string): string {
  if (err instanceof ApiError) {
    if (err.status === 0) return t('errors.network')
    const lead = t(`errors.byStatus.${err.status}`, { defaultValue: '' })
    const detail = err.detail || err.title
    if (lead && detail) return t('errors.withDetail', { lead, detail })
    return lead || detail || `${t('errors.generic')} (HTTP ${err.status})`
  }
  if (err instanceof Error && err.message) return err.message
  return t('errors.generic')
}

/** A field error in the console's language when its code is known; the server's words otherwise. */
export function fieldErrorText(e: FieldError, t: (k: string, o?: Record<string, unknown>) => string): string {
  if (!e.code) return e.message
  return t(`validation.${e.code}`, { ...(e.context ?? {}), defaultValue: e.message })
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return !!v && typeof v === 'object' && !Array.isArray(v)
}

/** True when `path` names a registered field (a key whose value is not a nested group) of the form values. */
function hasLeaf(values: Record<string, unknown>, path: string[]): boolean {
  let node: unknown = values
  for (const key of path) {
    if (!isPlainObject(node) || !(key in node)) return false
    node = node[key]
  }
  return !isPlainObject(node)
}

/** "staff.0.daily_cap" → ['staff', 0, 'daily_cap'] (list indices as numbers, as antd's name paths have them). */
export function fieldPath(field: string): (string | number)[] {
  return field.split('.').map((k) => (/^\d+$/.test(k) ? Number(k) : k))
}

/**
 * Returns `show(err, form?)`: puts the API's field `errors` next to the matching form fields and shows
 * the problem's `detail` as a message.
 */
export function useApiError() {
  const { message } = App.useApp()
  const { t } = useTranslation()
  return useCallback(
    (err: unknown, form?: FormInstance) => {
      let text = errorText(err, t)
      if (form && err instanceof ApiError && err.errors.length) {
        // "config.corp_id" → the nested form field ['config', 'corp_id'], when the form has it
        const values = (form.getFieldsValue() ?? {}) as Record<string, unknown>
        const onField = (field: string) => hasLeaf(values, field.split('.'))
        const onFields = err.errors.filter((e) => onField(e.field))
        if (onFields.length) {
          form.setFields(onFields.map((e) => ({ name: fieldPath(e.field), errors: [fieldErrorText(e, t)] })))
        }
        const rest = err.errors.filter((e) => !onField(e.field))
        if (rest.length) text = [err.detail, rest.map((e) => `${e.field}: ${fieldErrorText(e, t)}`).join('; ')].filter(Boolean).join(' — ')
      }
      void message.error({ content: text, key: 'api-error', className: 'api-error-message' })
    },
    [message, t],
  )
}
