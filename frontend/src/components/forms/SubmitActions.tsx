// What a public form's submission does (提交后动作): open a ticket with a title made of the answers, and
// tag the customer the submitted mobile number matches.
import { DeleteOutlined, PlusOutlined } from '@ant-design/icons'
import { useQuery } from '@tanstack/react-query'
import { Button, Card, Empty, Flex, Form, Input, Select, Typography } from 'antd'
import { useTranslation } from 'react-i18next'
import { listTagGroups, type CreateTicketAction, type FieldError, type TagCustomerAction } from '../../api'
import { formErrorText } from './FormRenderer'
import { localText, type FieldSpec } from './model'

export type SubmitAction = CreateTicketAction | TagCustomerAction
const PRIORITIES = ['urgent', 'high', 'normal', 'low'] as const

export function SubmitActions({
  actions,
  fields,
  errors,
  disabled,
  onChange,
}: {
  actions: SubmitAction[]
  fields: FieldSpec[]
  /** Errors named `on_submit.<index>.<attribute>`. */
  errors: FieldError[]
  disabled?: boolean
  onChange: (actions: SubmitAction[]) => void
}) {
  const { t, i18n } = useTranslation()
  const tags = useQuery({ queryKey: ['customers', 'tag-groups'], queryFn: () => listTagGroups() })
  const phones = fields.filter((f) => f.type === 'phone')
  const set = (index: number, patch: Partial<SubmitAction>) =>
    onChange(actions.map((a, i) => (i === index ? ({ ...a, ...patch } as SubmitAction) : a)))
  const errorsOf = (index: number, attribute: string) => {
    const found = errors.filter((e) => e.field === `on_submit.${index}.${attribute}`)
    return found.length ? { validateStatus: 'error' as const, help: found.map((e) => formErrorText(e, t)).join('；') } : {}
  }
  const add = (type: SubmitAction['type']) =>
    onChange([
      ...actions,
      type === 'create_ticket'
        ? { type, ticket_type: 'general', priority: 'normal', title: fields[0] ? `{${fields[0].key}}` : '' }
        : { type, phone_field: phones[0]?.key ?? '', tag_ids: [] },
    ])
  const general = errors.filter((e) => e.field === 'on_submit')
  return (
    <Form layout="vertical" size="small" disabled={disabled} component="div" data-testid="form-actions">
      <Typography.Paragraph type="secondary">{t('forms.actions.help')}</Typography.Paragraph>
      {general.length ? <Typography.Text type="danger">{general.map((e) => formErrorText(e, t)).join('；')}</Typography.Text> : null}
      {!actions.length ? <Empty image={Empty.PRESENTED_IMAGE_SIMPLE} description={t('forms.actions.noActions')} /> : null}
      {actions.map((action, index) => (
        <Card
          key={index}
          size="small"
          style={{ marginBottom: 8 }}
          title={t(action.type === 'create_ticket' ? 'forms.actions.createTicket' : 'forms.actions.tagCustomer')}
          extra={<Button type="text" danger icon={<DeleteOutlined />} aria-label={t('forms.actions.remove')} onClick={() => onChange(actions.filter((_, i) => i !== index))} />}
          data-testid={`form-action-${index}`}
        >
          {action.type === 'create_ticket' ? (
            <>
              <Flex gap={8}>
                <Form.Item label={t('forms.actions.ticketType')} style={{ flex: 1 }} {...errorsOf(index, 'ticket_type')}>
                  <Input value={action.ticket_type} onChange={(e) => set(index, { ticket_type: e.target.value })} data-testid={`form-action-${index}-ticket-type`} />
                </Form.Item>
                <Form.Item label={t('forms.actions.priority')} style={{ flex: 1 }}>
                  <Select
                    value={action.priority ?? 'normal'}
                    options={PRIORITIES.map((p) => ({ value: p, label: t(`tickets.priority.${p}`) }))}
                    onChange={(priority) => set(index, { priority })}
                    data-testid={`form-action-${index}-priority`}
                  />
                </Form.Item>
              </Flex>
              <Form.Item label={t('forms.actions.title')} extra={t('forms.actions.titleHelp')} {...errorsOf(index, 'title')}>
                <Input value={action.title} onChange={(e) => set(index, { title: e.target.value })} data-testid={`form-action-${index}-title`} />
              </Form.Item>
            </>
          ) : (
            <>
              <Form.Item label={t('forms.actions.phoneField')} {...errorsOf(index, 'phone_field')}>
                <Select
                  value={action.phone_field || undefined}
                  options={phones.map((f) => ({ value: f.key, label: `${localText(f.label, i18n.language, f.key)} (${f.key})` }))}
                  onChange={(phone_field) => set(index, { phone_field })}
                  data-testid={`form-action-${index}-phone-field`}
                />
              </Form.Item>
              <Form.Item label={t('forms.actions.tags')} {...errorsOf(index, 'tag_ids')}>
                <Select
                  mode="multiple"
                  loading={tags.isLoading}
                  value={action.tag_ids}
                  options={(tags.data ?? []).map((g) => ({ label: g.name, options: g.tags.map((tag) => ({ value: tag.id, label: tag.name })) }))}
                  onChange={(tag_ids) => set(index, { tag_ids })}
                  data-testid={`form-action-${index}-tags`}
                />
              </Form.Item>
            </>
          )}
        </Card>
      ))}
      <Flex gap={8}>
        <Button type="dashed" icon={<PlusOutlined />} style={{ flex: 1 }} onClick={() => add('create_ticket')} data-testid="form-action-add-ticket">
          {t('forms.actions.createTicket')}
        </Button>
        <Button type="dashed" icon={<PlusOutlined />} style={{ flex: 1 }} onClick={() => add('tag_customer')} data-testid="form-action-add-tag">
          {t('forms.actions.tagCustomer')}
        </Button>
      </Flex>
    </Form>
  )
}
