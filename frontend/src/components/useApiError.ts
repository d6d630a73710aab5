import { App } from 'antd'
import type { FormInstance } from 'antd'
import { useCallback } from 'react'
import { useTranslation } from 'react-i18next'
import { ApiError } from '../api'

/** Human text of an error: the problem's `detail`, else its title, else a generic line. */
export function errorText(err: unknown, t: (k: string) => string): string {
  if (err instanceof ApiError) {
    if (err.status === 0) return t('errors.network')
    return err.detail || err.title || `${t('errors.generic')} (HTTP ${err.status})`
  }
  if (err instanceof Error && err.message) return err.message
  return t('errors.generic')
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
        const known = new Set(Object.keys(form.getFieldsValue() ?? {}))
        const onFields = err.errors.filter((e) => known.has(e.field))
        if (onFields.length) {
          form.setFields(onFields.map((e) => ({ name: e.field, errors: [e.message] })))
        }
        const rest = err.errors.filter((e) => !known.has(e.field))
        if (rest.length) text = [err.detail, rest.map((e) => `${e.field}: ${e.message}`).join('; ')].filter(Boolean).join(' — ')
      }
      void message.error({ content: text, key: 'api-error', className: 'api-error-message' })
    },
    [message, t],
  )
}
