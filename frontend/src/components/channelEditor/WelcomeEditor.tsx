import { ArrowDownOutlined, ArrowUpOutlined, DeleteOutlined, PlusOutlined } from '@ant-design/icons'
import { Button, Card, Col, Flex, Form, Input, Row, Select, Space, Switch, Tooltip, Typography } from 'antd'
import type { FormInstance } from 'antd'
import type { TextAreaRef } from 'antd/es/input/TextArea'
import type { InputRef } from 'antd'
import { useRef } from 'react'
import { useTranslation } from 'react-i18next'
import { unknownPlaceholders, WELCOME_PLACEHOLDERS } from '../../utils/schedule'
import { ClockInput, DateInput, WeekdaysInput } from './inputs'

export const MAX_ATTACHMENTS = 9
export const MAX_VARIANTS = 20

/** Checks a template's placeholders the way the server does. */
export function templateRule(allowed: readonly string[], message: (names: string) => string) {
  return {
    validator: (_: unknown, v: string | null | undefined) => {
      const bad = unknownPlaceholders(v, allowed)
      return bad.length ? Promise.reject(new Error(message(bad.map((b) => `{${b}}`).join('、')))) : Promise.resolve()
    },
  }
}

function insertAt(el: HTMLInputElement | HTMLTextAreaElement | null | undefined, current: string, token: string): [string, number] {
  const start = el?.selectionStart ?? current.length
  const end = el?.selectionEnd ?? current.length
  return [current.slice(0, start) + token + current.slice(end), start + token.length]
}

/** A text (or one-line) template with buttons inserting `{placeholder}` at the cursor. */
export function TemplateInput({
  value,
  onChange,
  placeholders,
  testId,
  multiline = true,
  rows = 4,
  maxLength,
  placeholder,
}: {
  value?: string | null
  onChange?: (v: string) => void
  placeholders: readonly string[]
  testId: string
  multiline?: boolean
  rows?: number
  maxLength?: number
  placeholder?: string
}) {
  const { t } = useTranslation()
  const area = useRef<TextAreaRef>(null)
  const line = useRef<InputRef>(null)
  const insert = (name: string) => {
    const el = multiline ? area.current?.resizableTextArea?.textArea : line.current?.input
    const [next, caret] = insertAt(el, value ?? '', `{${name}}`)
    onChange?.(next)
    window.requestAnimationFrame(() => {
      el?.focus()
      el?.setSelectionRange(caret, caret)
    })
  }
  return (
    <div>
      <Space size={4} wrap style={{ marginBottom: 6 }}>
        <Typography.Text type="secondary" style={{ fontSize: 12 }}>
          {t('channels.welcome.insert')}
        </Typography.Text>
        {placeholders.map((p) => (
          <Button key={p} size="small" autoInsertSpace={false} onClick={() => insert(p)} data-testid={`${testId}-insert-${p}`}>
            {t(`channels.placeholders.${p}`)}
          </Button>
        ))}
      </Space>
      {multiline ? (
        <Input.TextArea
          ref={area}
          value={value ?? ''}
          onChange={(e) => onChange?.(e.target.value)}
          rows={rows}
          maxLength={maxLength}
          showCount={!!maxLength}
          placeholder={placeholder}
          data-testid={testId}
        />
      ) : (
        <Input ref={line} value={value ?? ''} onChange={(e) => onChange?.(e.target.value)} maxLength={maxLength} placeholder={placeholder} data-testid={testId} />
      )}
    </div>
  )
}

type NamePath = (string | number)[]

/** Up to 9 attachments in WeCom's shape: `{msgtype, image|link|miniprogram: {...}}`. */
export function AttachmentsEditor({ name, absName, testId, form }: { name: NamePath; absName: NamePath; testId: string; form: FormInstance }) {
  const { t } = useTranslation()
  return (
    <Form.List name={name}>
      {(fields, { add, remove }) => (
        <div data-testid={testId} data-count={fields.length}>
          {fields.map((field, i) => (
            <AttachmentRow key={field.key} listName={absName} fieldName={field.name} testId={`${testId}-${i}`} form={form} onRemove={() => remove(field.name)} />
          ))}
          <Tooltip title={fields.length >= MAX_ATTACHMENTS ? t('channels.welcome.maxAttachments') : undefined}>
            <Button
              type="dashed"
              icon={<PlusOutlined />}
              disabled={fields.length >= MAX_ATTACHMENTS}
              onClick={() => add({ msgtype: 'link', link: { title: '', url: '' } })}
              data-testid={`${testId}-add`}
            >
              {t('channels.welcome.addAttachment', { count: fields.length, max: MAX_ATTACHMENTS })}
            </Button>
          </Tooltip>
        </div>
      )}
    </Form.List>
  )
}

function AttachmentRow({
  listName,
  fieldName,
  testId,
  form,
  onRemove,
}: {
  listName: NamePath
  fieldName: number
  testId: string
  form: FormInstance
  onRemove: () => void
}) {
  const { t } = useTranslation()
  const kind = Form.useWatch([...listName, fieldName, 'msgtype'], form) as string | undefined
  const req = (label: string) => [{ required: true, whitespace: true, message: t('channels.welcome.required', { field: label }) }]
  const byteMax = (label: string, max: number) => ({
    validator: (_: unknown, v?: string) =>
      new TextEncoder().encode(v ?? '').length > max ? Promise.reject(new Error(t('channels.welcome.tooLong', { field: label, max }))) : Promise.resolve(),
  })
  return (
    <Card size="small" style={{ marginBottom: 8 }} data-testid={testId} data-kind={kind}>
      <Flex gap={8} align="flex-start">
        <Form.Item name={[fieldName, 'msgtype']} style={{ marginBottom: 0, width: 120 }}>
          <Select
            options={['link', 'image', 'miniprogram'].map((k) => ({ value: k, label: t(`channels.welcome.kind.${k}`) }))}
            data-testid={`${testId}-kind`}
            optionRender={(opt) => <span data-testid={`${testId}-kind-${opt.value}`}>{opt.label}</span>}
          />
        </Form.Item>
        <div style={{ flex: 1, minWidth: 0 }}>
          {kind === 'image' ? (
            <Form.Item
              name={[fieldName, 'image', 'pic_url']}
              rules={req(t('channels.welcome.picUrl'))}
              style={{ marginBottom: 0 }}
              extra={t('channels.welcome.picUrlHint')}
            >
              <Input placeholder={t('channels.welcome.picUrl')} data-testid={`${testId}-pic-url`} />
            </Form.Item>
          ) : kind === 'miniprogram' ? (
            <Row gutter={8}>
              <Col span={12}>
                <Form.Item name={[fieldName, 'miniprogram', 'title']} rules={[...req(t('channels.welcome.title')), byteMax(t('channels.welcome.title'), 64)]} style={{ marginBottom: 8 }}>
                  <Input placeholder={t('channels.welcome.title')} data-testid={`${testId}-title`} />
                </Form.Item>
              </Col>
              <Col span={12}>
                <Form.Item name={[fieldName, 'miniprogram', 'appid']} rules={req('AppID')} style={{ marginBottom: 8 }}>
                  <Input placeholder="AppID" data-testid={`${testId}-appid`} />
                </Form.Item>
              </Col>
              <Col span={12}>
                <Form.Item name={[fieldName, 'miniprogram', 'page']} rules={req(t('channels.welcome.page'))} style={{ marginBottom: 0 }}>
                  <Input placeholder={t('channels.welcome.page')} data-testid={`${testId}-page`} />
                </Form.Item>
              </Col>
              <Col span={12}>
                <Form.Item name={[fieldName, 'miniprogram', 'pic_media_id']} rules={req(t('channels.welcome.picMediaId'))} style={{ marginBottom: 0 }}>
                  <Input placeholder={t('channels.welcome.picMediaId')} data-testid={`${testId}-media`} />
                </Form.Item>
              </Col>
            </Row>
          ) : (
            <Row gutter={8}>
              <Col span={12}>
                <Form.Item name={[fieldName, 'link', 'title']} rules={[...req(t('channels.welcome.title')), byteMax(t('channels.welcome.title'), 128)]} style={{ marginBottom: 8 }}>
                  <Input placeholder={t('channels.welcome.title')} data-testid={`${testId}-title`} />
                </Form.Item>
              </Col>
              <Col span={12}>
                <Form.Item name={[fieldName, 'link', 'url']} rules={[...req(t('channels.welcome.url')), { type: 'url', message: t('channels.welcome.urlInvalid') }]} style={{ marginBottom: 8 }}>
                  <Input placeholder="https://" data-testid={`${testId}-url`} />
                </Form.Item>
              </Col>
              <Col span={12}>
                <Form.Item name={[fieldName, 'link', 'desc']} rules={[byteMax(t('channels.welcome.desc'), 512)]} style={{ marginBottom: 0 }}>
                  <Input placeholder={t('channels.welcome.desc')} data-testid={`${testId}-desc`} />
                </Form.Item>
              </Col>
              <Col span={12}>
                <Form.Item name={[fieldName, 'link', 'picurl']} style={{ marginBottom: 0 }}>
                  <Input placeholder={t('channels.welcome.cover')} data-testid={`${testId}-cover`} />
                </Form.Item>
              </Col>
            </Row>
          )}
        </div>
        <Button type="text" danger icon={<DeleteOutlined />} onClick={onRemove} aria-label={t('common.delete')} data-testid={`${testId}-remove`} />
      </Flex>
    </Card>
  )
}

/** Variants tried in order at the add's local time; the first matching one replaces the default. */
export function VariantsEditor({ form, errorsAt }: { form: FormInstance; errorsAt: (prefix: string) => string[] }) {
  const { t } = useTranslation()
  return (
    <Form.List name={['welcome', 'variants']}>
      {(fields, { add, remove, move }) => (
        <div data-testid="welcome-variants" data-count={fields.length}>
          {fields.map((field, i) => (
            <VariantCard
              key={field.key}
              form={form}
              fieldName={field.name}
              index={i}
              count={fields.length}
              errors={errorsAt(`welcome.variants.${i}`)}
              onRemove={() => remove(field.name)}
              onMove={(to) => move(i, to)}
            />
          ))}
          <Tooltip title={fields.length >= MAX_VARIANTS ? t('channels.welcome.maxVariants') : undefined}>
            <Button
              type="dashed"
              block
              icon={<PlusOutlined />}
              disabled={fields.length >= MAX_VARIANTS}
              onClick={() => add({ name: '', days: [], start: null, end: null, from_date: null, to_date: null, text: '', custom_attachments: false, attachments: [] })}
              data-testid="welcome-variant-add"
            >
              {t('channels.welcome.addVariant')}
            </Button>
          </Tooltip>
        </div>
      )}
    </Form.List>
  )
}

function VariantCard({
  form,
  fieldName,
  index,
  count,
  errors,
  onRemove,
  onMove,
}: {
  form: FormInstance
  fieldName: number
  index: number
  count: number
  errors: string[]
  onRemove: () => void
  onMove: (to: number) => void
}) {
  const { t } = useTranslation()
  const testId = `welcome-variant-${index}`
  const custom = Form.useWatch(['welcome', 'variants', fieldName, 'custom_attachments'], form) as boolean | undefined
  const name = Form.useWatch(['welcome', 'variants', fieldName, 'name'], form) as string | undefined
  const bothOrNeither = {
    validator: () => {
      const v = form.getFieldValue(['welcome', 'variants', fieldName]) as { start?: string | null; end?: string | null } | undefined
      return !v || !!v.start === !!v.end ? Promise.resolve() : Promise.reject(new Error(t('channels.welcome.bothTimes')))
    },
  }
  return (
    <Card
      size="small"
      style={{ marginBottom: 12, borderColor: errors.length ? '#ff4d4f' : undefined }}
      data-testid={testId}
      title={
        <Space>
          <Typography.Text type="secondary">#{index + 1}</Typography.Text>
          <span>{name || t('channels.welcome.variantUntitled')}</span>
        </Space>
      }
      extra={
        <Space size={0}>
          <Button type="text" size="small" icon={<ArrowUpOutlined />} disabled={index === 0} onClick={() => onMove(index - 1)} aria-label={t('channels.moveUp')} />
          <Button type="text" size="small" icon={<ArrowDownOutlined />} disabled={index === count - 1} onClick={() => onMove(index + 1)} aria-label={t('channels.moveDown')} />
          <Button type="text" size="small" danger icon={<DeleteOutlined />} onClick={onRemove} aria-label={t('common.delete')} data-testid={`${testId}-remove`} />
        </Space>
      }
    >
      {errors.length ? (
        <Typography.Paragraph type="danger" data-testid={`${testId}-errors`}>
          {errors.join('；')}
        </Typography.Paragraph>
      ) : null}
      <Row gutter={12}>
        <Col xs={24} md={10}>
          <Form.Item
            name={[fieldName, 'name']}
            label={t('channels.welcome.variantName')}
            rules={[
              { required: true, whitespace: true, message: t('channels.welcome.variantNameRequired') },
              {
                validator: (_, v?: string) => {
                  const all = (form.getFieldValue(['welcome', 'variants']) ?? []) as { name?: string }[]
                  return v && all.filter((x) => x?.name?.trim() === v.trim()).length > 1
                    ? Promise.reject(new Error(t('channels.welcome.variantNameDuplicate')))
                    : Promise.resolve()
                },
              },
            ]}
          >
            <Input maxLength={60} placeholder={t('channels.welcome.variantNamePlaceholder')} data-testid={`${testId}-name`} />
          </Form.Item>
        </Col>
        <Col xs={24} md={14}>
          <Form.Item label={t('channels.welcome.variantTime')} extra={t('channels.welcome.variantTimeHint')} required={false}>
            <Space.Compact>
              <Form.Item name={[fieldName, 'start']} noStyle rules={[bothOrNeither]} dependencies={[['welcome', 'variants', fieldName, 'end']]}>
                <ClockInput placeholder={t('channels.welcome.from')} testId={`${testId}-start`} />
              </Form.Item>
              <Form.Item name={[fieldName, 'end']} noStyle rules={[bothOrNeither]} dependencies={[['welcome', 'variants', fieldName, 'start']]}>
                <ClockInput placeholder={t('channels.welcome.to')} testId={`${testId}-end`} />
              </Form.Item>
              <Button
                onClick={() => {
                  form.setFieldValue(['welcome', 'variants', fieldName, 'start'], null)
                  form.setFieldValue(['welcome', 'variants', fieldName, 'end'], null)
                }}
                autoInsertSpace={false}
                data-testid={`${testId}-allday`}
              >
                {t('channels.welcome.allDay')}
              </Button>
            </Space.Compact>
          </Form.Item>
        </Col>
        <Col xs={24} xxl={12}>
          <Form.Item name={[fieldName, 'days']} label={t('channels.welcome.variantDays')} extra={t('channels.welcome.variantDaysHint')}>
            <WeekdaysInput testId={`${testId}-days`} />
          </Form.Item>
        </Col>
        <Col xs={24} xxl={12}>
          <Form.Item label={t('channels.welcome.variantDates')} extra={t('channels.welcome.variantDatesHint')}>
            <Space>
              <Form.Item name={[fieldName, 'from_date']} noStyle>
                <DateInput placeholder={t('channels.welcome.fromDate')} testId={`${testId}-from-date`} />
              </Form.Item>
              <span>~</span>
              <Form.Item
                name={[fieldName, 'to_date']}
                noStyle
                rules={[
                  {
                    validator: (_, v?: string | null) => {
                      const from = form.getFieldValue(['welcome', 'variants', fieldName, 'from_date']) as string | null
                      return v && from && v < from ? Promise.reject(new Error(t('channels.welcome.datesOrder'))) : Promise.resolve()
                    },
                  },
                ]}
              >
                <DateInput placeholder={t('channels.welcome.toDate')} testId={`${testId}-to-date`} />
              </Form.Item>
            </Space>
          </Form.Item>
        </Col>
      </Row>
      <Form.Item
        name={[fieldName, 'text']}
        label={t('channels.welcome.variantText')}
        extra={t('channels.welcome.variantTextHint')}
        rules={[templateRule(WELCOME_PLACEHOLDERS, (names) => t('channels.welcome.unknownPlaceholders', { names }))]}
      >
        <TemplateInput placeholders={WELCOME_PLACEHOLDERS} testId={`${testId}-text`} rows={3} />
      </Form.Item>
      <Form.Item name={[fieldName, 'custom_attachments']} valuePropName="checked" label={t('channels.welcome.variantAttachments')} style={{ marginBottom: custom ? 8 : 0 }}>
        <Switch checkedChildren={t('channels.welcome.own')} unCheckedChildren={t('channels.welcome.inherit')} data-testid={`${testId}-custom-attachments`} />
      </Form.Item>
      {custom ? <AttachmentsEditor name={[fieldName, 'attachments']} absName={['welcome', 'variants', fieldName, 'attachments']} testId={`${testId}-attachments`} form={form} /> : null}
    </Card>
  )
}
