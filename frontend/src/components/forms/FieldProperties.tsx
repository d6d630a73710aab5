// The properties panel of the builder: key, labels and help in both languages, required, options, limits
// and the two rules (visible_if, required_if) of the selected field, with the server's errors beside them.
import { DeleteOutlined, PlusOutlined } from '@ant-design/icons'
import { Button, Divider, Empty, Flex, Form, Input, InputNumber, Select, Space, Switch, Typography } from 'antd'
import { useTranslation } from 'react-i18next'
import type { FieldError } from '../../api'
import { formErrorText } from './FormRenderer'
import {
  ATTRIBUTES,
  CHOICE_TYPES,
  FILLED_ONLY,
  localText,
  WIDGETS,
  type ConditionOp,
  type FieldCondition,
  type FieldOption,
  type FieldSpec,
  type LocalText,
} from './model'

type Patch = Partial<FieldSpec>

/** The errors of one attribute (`options`, `visible_if.value`…) of the field, in the console's language. */
function useAttributeErrors(errors: FieldError[]) {
  const { t } = useTranslation()
  return (attribute: string) => {
    const found = errors.filter((e) => e.field === attribute || e.field.startsWith(`${attribute}.`))
    return found.length
      ? { validateStatus: 'error' as const, help: found.map((e) => formErrorText(e, t)).join('；') }
      : {}
  }
}

function RuleEditor({
  name,
  rule,
  field,
  fields,
  onChange,
  errorsOf,
}: {
  name: 'visible_if' | 'required_if'
  rule: FieldCondition | null | undefined
  field: FieldSpec
  fields: FieldSpec[]
  onChange: (rule: FieldCondition | null) => void
  errorsOf: ReturnType<typeof useAttributeErrors>
}) {
  const { t, i18n } = useTranslation()
  const others = fields.filter((f) => f.key !== field.key)
  const target = others.find((f) => f.key === rule?.field)
  const ops: ConditionOp[] = target && FILLED_ONLY.includes(target.type) ? ['filled'] : ['equals', 'in', 'filled']
  const choices = target && CHOICE_TYPES.includes(target.type)
  const valueOptions = (target?.options ?? []).map((o) => ({ value: o.value, label: localText(o.label, i18n.language, o.value) }))
  const testId = name === 'visible_if' ? 'prop-visible' : 'prop-required-if'
  const valueInput = () => {
    if (!rule || rule.op === 'filled') return null
    if (rule.op === 'in') {
      return (
        <Select
          mode={choices ? 'multiple' : 'tags'}
          style={{ minWidth: 140 }}
          options={valueOptions}
          value={Array.isArray(rule.value) ? (rule.value as string[]) : []}
          onChange={(value) => onChange({ ...rule, value })}
          data-testid={`${testId}-value`}
        />
      )
    }
    if (choices) {
      return (
        <Select style={{ minWidth: 140 }} options={valueOptions} value={rule.value as string | undefined} onChange={(value) => onChange({ ...rule, value })} data-testid={`${testId}-value`} />
      )
    }
    if (target?.type === 'consent') {
      return (
        <Select
          style={{ minWidth: 100 }}
          options={[{ value: true, label: '✓' }, { value: false, label: '✗' }]}
          value={rule.value as boolean | undefined}
          onChange={(value) => onChange({ ...rule, value })}
          data-testid={`${testId}-value`}
        />
      )
    }
    return (
      <Input
        style={{ width: 140 }}
        value={rule.value == null ? '' : String(rule.value)}
        onChange={(e) => {
          const text = e.target.value
          onChange({ ...rule, value: ['number', 'rating'].includes(target?.type ?? '') && text !== '' && !Number.isNaN(Number(text)) ? Number(text) : text })
        }}
        data-testid={`${testId}-value`}
      />
    )
  }
  return (
    <Form.Item label={t(name === 'visible_if' ? 'forms.props.visibleIf' : 'forms.props.requiredIf')} {...errorsOf(name)}>
      <Space wrap>
        <Select
          style={{ minWidth: 140 }}
          placeholder={t('forms.props.ruleNone')}
          allowClear
          value={rule?.field}
          options={others.map((f) => ({ value: f.key, label: `${localText(f.label, i18n.language, f.key)} (${f.key})` }))}
          onChange={(key?: string) => {
            if (!key) return onChange(null)
            const next = others.find((f) => f.key === key)
            const op: ConditionOp = next && (FILLED_ONLY.includes(next.type) || next.type === 'consent') ? 'filled' : 'equals'
            onChange({ field: key, op, value: op === 'equals' && next?.options?.length ? next.options[0].value : undefined })
          }}
          data-testid={`${testId}-field`}
        />
        {rule ? (
          <Select
            style={{ minWidth: 110 }}
            value={rule.op}
            options={ops.map((op) => ({ value: op, label: t(`forms.props.ops.${op}`) }))}
            onChange={(op: ConditionOp) => onChange({ ...rule, op, value: op === 'in' ? [] : op === 'filled' ? undefined : rule.value })}
            data-testid={`${testId}-op`}
          />
        ) : null}
        {valueInput()}
      </Space>
    </Form.Item>
  )
}

function OptionsEditor({ options, onChange }: { options: FieldOption[]; onChange: (options: FieldOption[]) => void }) {
  const { t } = useTranslation()
  const set = (index: number, patch: Partial<FieldOption>) => onChange(options.map((o, i) => (i === index ? { ...o, ...patch } : o)))
  const setLabel = (index: number, lang: 'zh-CN' | 'en', text: string) => set(index, { label: { ...options[index].label, [lang]: text } })
  return (
    <Flex vertical gap={6}>
      {options.map((option, index) => (
        <Space.Compact key={index} block>
          <Input style={{ width: '30%' }} placeholder={t('forms.props.optionValue')} value={option.value} onChange={(e) => set(index, { value: e.target.value })} data-testid={`prop-option-value-${index}`} />
          <Input style={{ width: '35%' }} placeholder={t('forms.props.optionZh')} value={option.label['zh-CN'] ?? ''} onChange={(e) => setLabel(index, 'zh-CN', e.target.value)} data-testid={`prop-option-zh-${index}`} />
          <Input style={{ width: '35%' }} placeholder={t('forms.props.optionEn')} value={option.label.en ?? ''} onChange={(e) => setLabel(index, 'en', e.target.value)} data-testid={`prop-option-en-${index}`} />
          <Button icon={<DeleteOutlined />} onClick={() => onChange(options.filter((_, i) => i !== index))} data-testid={`prop-option-remove-${index}`} />
        </Space.Compact>
      ))}
      <Button
        type="dashed"
        icon={<PlusOutlined />}
        onClick={() => onChange([...options, { value: `option_${options.length + 1}`, label: {} }])}
        data-testid="prop-option-add"
      >
        {t('forms.props.addOption')}
      </Button>
    </Flex>
  )
}

export function FieldProperties({
  field,
  fields,
  errors,
  disabled,
  onChange,
}: {
  field: FieldSpec | null
  fields: FieldSpec[]
  errors: FieldError[]
  disabled?: boolean
  onChange: (patch: Patch) => void
}) {
  const { t } = useTranslation()
  const errorsOf = useAttributeErrors(errors)
  if (!field) return <Empty image={Empty.PRESENTED_IMAGE_SIMPLE} description={t('forms.builder.noSelection')} />
  const takes = new Set(ATTRIBUTES[field.type])
  const text = (which: 'label' | 'help', lang: 'zh-CN' | 'en', value: string) => onChange({ [which]: { ...(field[which] ?? {}), [lang]: value } as LocalText })
  const money = field.type === 'money'
  const bound = (name: 'min' | 'max') =>
    money ? (
      <Input value={field[name] == null ? '' : String(field[name])} placeholder="0.00" onChange={(e) => onChange({ [name]: e.target.value || null })} data-testid={`prop-${name}`} />
    ) : (
      <InputNumber style={{ width: '100%' }} value={field[name] == null ? null : Number(field[name])} onChange={(v) => onChange({ [name]: v })} data-testid={`prop-${name}`} />
    )
  return (
    <Form layout="vertical" size="small" disabled={disabled} data-testid="field-properties" component="div">
      <Typography.Text type="secondary">{t(`forms.type.${field.type}`)}</Typography.Text>
      <Form.Item label={t('forms.props.key')} tooltip={t('forms.props.keyHelp')} {...errorsOf('key')}>
        <Input value={field.key} onChange={(e) => onChange({ key: e.target.value.trim() })} data-testid="prop-key" />
      </Form.Item>
      <Flex gap={8}>
        <Form.Item label={t('forms.props.labelZh')} style={{ flex: 1 }} {...errorsOf('label')}>
          <Input value={field.label['zh-CN'] ?? ''} onChange={(e) => text('label', 'zh-CN', e.target.value)} data-testid="prop-label-zh" />
        </Form.Item>
        <Form.Item label={t('forms.props.labelEn')} style={{ flex: 1 }}>
          <Input value={field.label.en ?? ''} onChange={(e) => text('label', 'en', e.target.value)} data-testid="prop-label-en" />
        </Form.Item>
      </Flex>
      <Flex gap={8}>
        <Form.Item label={t('forms.props.helpZh')} style={{ flex: 1 }} {...errorsOf('help')}>
          <Input value={field.help?.['zh-CN'] ?? ''} onChange={(e) => text('help', 'zh-CN', e.target.value)} data-testid="prop-help-zh" />
        </Form.Item>
        <Form.Item label={t('forms.props.helpEn')} style={{ flex: 1 }}>
          <Input value={field.help?.en ?? ''} onChange={(e) => text('help', 'en', e.target.value)} data-testid="prop-help-en" />
        </Form.Item>
      </Flex>
      <Form.Item label={t('forms.props.required')}>
        <Switch checked={!!field.required} onChange={(required) => onChange({ required })} data-testid="prop-required" />
      </Form.Item>
      {takes.has('options') ? (
        <Form.Item label={t('forms.props.options')} {...errorsOf('options')}>
          <OptionsEditor options={field.options ?? []} onChange={(options) => onChange({ options })} />
        </Form.Item>
      ) : null}
      {takes.has('widget') ? (
        <Form.Item label={t('forms.props.widget')} {...errorsOf('widget')}>
          <Select
            allowClear
            value={field.widget ?? undefined}
            onChange={(widget) => onChange({ widget: widget ?? null })}
            options={(WIDGETS[field.type] ?? []).map((w) => ({ value: w, label: t(`forms.props.widgets.${w}`) }))}
            data-testid="prop-widget"
          />
        </Form.Item>
      ) : null}
      {takes.has('min') ? (
        <Flex gap={8}>
          <Form.Item label={t('forms.props.min')} style={{ flex: 1 }} {...errorsOf('min')}>
            {bound('min')}
          </Form.Item>
          <Form.Item label={t('forms.props.max')} style={{ flex: 1 }} {...errorsOf('max')}>
            {bound('max')}
          </Form.Item>
        </Flex>
      ) : null}
      {takes.has('max_length') ? (
        <Form.Item label={t('forms.props.maxLength')} {...errorsOf('max_length')}>
          <InputNumber style={{ width: '100%' }} min={1} value={field.max_length ?? null} onChange={(v) => onChange({ max_length: v })} data-testid="prop-max-length" />
        </Form.Item>
      ) : null}
      {takes.has('max_items') ? (
        <Form.Item label={t('forms.props.maxItems')} {...errorsOf('max_items')}>
          <InputNumber style={{ width: '100%' }} min={1} value={field.max_items ?? null} onChange={(v) => onChange({ max_items: v })} data-testid="prop-max-items" />
        </Form.Item>
      ) : null}
      <Divider style={{ margin: '8px 0' }} />
      <RuleEditor name="visible_if" rule={field.visible_if} field={field} fields={fields} onChange={(visible_if) => onChange({ visible_if })} errorsOf={errorsOf} />
      <RuleEditor name="required_if" rule={field.required_if} field={field} fields={fields} onChange={(required_if) => onChange({ required_if })} errorsOf={errorsOf} />
      {errorsOf('type').help ? <Typography.Text type="danger">{errorsOf('type').help}</Typography.Text> : null}
    </Form>
  )
}
