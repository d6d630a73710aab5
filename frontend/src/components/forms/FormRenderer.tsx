// A form definition rendered for filling in: the builder's live preview, a version's read-only view and
// the public page. Fields follow their visibility rules as the answers change; the server's field errors
// (by field key) are shown on the fields.
import { Button, Checkbox, DatePicker, Form, Input, InputNumber, Radio, Rate, Select, Space } from 'antd'
import type { FormInstance } from 'antd'
import dayjs from 'dayjs'
import { useEffect, useMemo, type ReactNode } from 'react'
import { useTranslation } from 'react-i18next'
import type { FieldError } from '../../api'
import { isRequired, localText, visibleKeys, type FieldSpec } from './model'
import { PROVINCES } from './regions'

type T = (k: string, o?: Record<string, unknown>) => string

/** A field error of the forms domain in the console's language (the server's words when unknown). */
export function formErrorText(error: FieldError, t: T): string {
  if (!error.code) return error.message
  return t(`forms.errors.${error.code}`, { ...(error.context ?? {}), defaultValue: error.message })
}

function RegionInput({
  value,
  onChange,
  lang,
  disabled,
  testId,
}: {
  value?: { province?: string; city?: string; district?: string }
  onChange?: (value: { province?: string; city?: string; district?: string }) => void
  lang: string
  disabled?: boolean
  testId: string
}) {
  const { t } = useTranslation()
  const set = (part: 'province' | 'city' | 'district', text: string | undefined) => onChange?.({ ...(value ?? {}), [part]: text })
  return (
    <Space.Compact block>
      <Select
        showSearch
        allowClear
        disabled={disabled}
        style={{ width: '40%' }}
        placeholder={t('forms.public.regionProvince')}
        value={value?.province || undefined}
        onChange={(v) => set('province', v)}
        options={PROVINCES.map(([zh, en]) => ({ value: zh, label: lang === 'en' ? `${en} ${zh}` : zh }))}
        data-testid={`${testId}-province`}
      />
      <Input
        disabled={disabled}
        style={{ width: '30%' }}
        placeholder={t('forms.public.regionCity')}
        value={value?.city}
        onChange={(e) => set('city', e.target.value)}
        data-testid={`${testId}-city`}
      />
      <Input
        disabled={disabled}
        style={{ width: '30%' }}
        placeholder={t('forms.public.regionDistrict')}
        value={value?.district}
        onChange={(e) => set('district', e.target.value)}
        data-testid={`${testId}-district`}
      />
    </Space.Compact>
  )
}

/** The input of one field type (value and onChange come from the surrounding Form.Item). */
function fieldInput(field: FieldSpec, lang: string, t: T, testId: string, disabled?: boolean): ReactNode {
  const options = (field.options ?? []).map((o) => ({ value: o.value, label: localText(o.label, lang, o.value) }))
  const common = { disabled, 'data-testid': testId }
  switch (field.type) {
    case 'text':
      return <Input {...common} maxLength={field.max_length ?? 200} />
    case 'textarea':
      return <Input.TextArea {...common} rows={3} maxLength={field.max_length ?? 2000} />
    case 'number':
      return (
        <InputNumber
          {...common}
          style={{ width: '100%' }}
          min={field.min == null ? undefined : Number(field.min)}
          max={field.max == null ? undefined : Number(field.max)}
        />
      )
    case 'money':
      return <Input {...common} prefix="¥" inputMode="decimal" placeholder="0.00" />
    case 'date':
      return <DatePicker {...common} style={{ width: '100%' }} />
    case 'choice':
      return field.widget === 'select' ? (
        <Select {...common} allowClear options={options} />
      ) : (
        <Radio.Group {...common} options={options} />
      )
    case 'multi_choice':
      return field.widget === 'select' ? (
        <Select {...common} mode="multiple" allowClear options={options} />
      ) : (
        <Checkbox.Group {...common} options={options} />
      )
    case 'region':
      return <RegionInput lang={lang} disabled={disabled} testId={testId} />
    case 'phone':
      return <Input {...common} type="tel" inputMode="numeric" maxLength={20} placeholder="13800138000" />
    case 'file':
      return (
        <Select
          {...common}
          mode="tags"
          placeholder={t('forms.public.fileHint')}
          tokenSeparators={[',', ' ']}
          open={false}
          suffixIcon={null}
        />
      )
    case 'rating':
      return <Rate {...common} />
    case 'consent':
      return <Checkbox {...common}>{t('forms.public.consentYes')}</Checkbox>
  }
}

/** Whether a required field's answer is missing (a consent box must be ticked, a region needs a province). */
function missing(field: FieldSpec, value: unknown): boolean {
  if (field.type === 'consent') return value !== true
  if (field.type === 'region') return !(value as { province?: string } | undefined)?.province
  return value === undefined || value === null || value === '' || (Array.isArray(value) && !value.length)
}

/** Form.Item props that keep the answer in the shape the API takes (dates as YYYY-MM-DD, files as ids). */
function valueProps(field: FieldSpec) {
  if (field.type === 'date') {
    return {
      getValueProps: (v: unknown) => ({ value: typeof v === 'string' && v ? dayjs(v) : undefined }),
      normalize: (d: dayjs.Dayjs | null) => (d ? d.format('YYYY-MM-DD') : undefined),
    }
  }
  if (field.type === 'file') {
    return { normalize: (ids: unknown[]) => (ids ?? []).map((id) => (/^\d+$/.test(String(id)) ? Number(id) : id)) }
  }
  if (field.type === 'consent') return { valuePropName: 'checked' }
  return {}
}

export function FormRenderer({
  fields,
  form,
  onSubmit,
  errors,
  submitting,
  disabled,
  testIdPrefix = 'form-field',
  submitText,
}: {
  fields: FieldSpec[]
  form?: FormInstance
  onSubmit?: (values: Record<string, unknown>) => void
  /** The server's field errors: `field` is a field key. */
  errors?: FieldError[]
  submitting?: boolean
  disabled?: boolean
  testIdPrefix?: string
  submitText?: string
}) {
  const { t, i18n } = useTranslation()
  const [own] = Form.useForm()
  const instance = form ?? own
  const values = (Form.useWatch([], instance) ?? {}) as Record<string, unknown>
  const shown = useMemo(() => visibleKeys(fields, values), [fields, values])

  useEffect(() => {
    if (!errors?.length) return
    const keys = new Set(fields.map((f) => f.key))
    instance.setFields(errors.filter((e) => keys.has(e.field)).map((e) => ({ name: e.field, errors: [formErrorText(e, t)] })))
  }, [errors, fields, instance, t])

  return (
    <Form form={instance} layout="vertical" onFinish={onSubmit} disabled={disabled} data-testid={`${testIdPrefix}s`} scrollToFirstError>
      {fields.map((field) =>
        shown.has(field.key) ? (
          <div key={field.key} data-testid={`${testIdPrefix}-${field.key}`}>
            <Form.Item
              name={field.key}
              label={localText(field.label, i18n.language, field.key)}
              extra={localText(field.help, i18n.language) || undefined}
              required={isRequired(field, values, shown)}
              rules={[{ validator: (_, value) => (missing(field, value) && isRequired(field, instance.getFieldsValue(true), shown) ? Promise.reject(new Error(t('forms.public.required'))) : Promise.resolve()) }]}
              {...valueProps(field)}
            >
              {fieldInput(field, i18n.language, t, `${testIdPrefix}-input-${field.key}`, disabled)}
            </Form.Item>
          </div>
        ) : null,
      )}
      {onSubmit ? (
        <Form.Item>
          <Button type="primary" htmlType="submit" loading={submitting} block data-testid={`${testIdPrefix}-submit`}>
            {submitText ?? t('forms.public.submit')}
          </Button>
        </Form.Item>
      ) : null}
    </Form>
  )
}
