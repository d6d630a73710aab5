import { DeleteOutlined, EditOutlined, ExperimentOutlined, PlusOutlined } from '@ant-design/icons'
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query'
import { Alert, App, AutoComplete, Button, Card, Checkbox, Descriptions, Drawer, Empty, Flex, Form, Input, InputNumber, Popconfirm, Radio, Select, Space, Switch, Table, Tag, Typography } from 'antd'
import type { TableColumnsType } from 'antd'
import { useState } from 'react'
import { useTranslation } from 'react-i18next'
import { ApiError, type TicketPriority } from '../api'
import {
  createClassificationRule,
  deleteClassificationRule,
  listClassificationRules,
  replaceClassificationRule,
  testClassification,
  type ClassificationRule,
  type ClassificationRuleIn,
  type RuleTestResult,
} from '../api/ticketClassify'
import { useAuth } from '../auth/AuthContext'
import { PERM } from '../auth/permissions'
import { PageHeader } from '../components/PageHeader'
import { ErrorState } from '../components/states'
import { ConfidenceTag, PhraseTags, RULES_KEY, useKnownCategories } from '../components/ticketClassify'
import { PRIORITIES, PRIORITY_COLORS } from '../components/tickets'
import { useApiError } from '../components/useApiError'
import { tid } from '../utils/testid'

// 分类规则: the workspace's keyword and phrase rules (CRUD) and a tester for a message.

const EMPTY_RULE: ClassificationRuleIn = {
  name: '',
  phrases: [],
  match_mode: 'any',
  category: null,
  priority: null,
  urgent: false,
  creates_ticket_from_chat: false,
  enabled: true,
  position: 0,
}

export default function TicketClassifyRulesPage() {
  const { t } = useTranslation()
  const { can } = useAuth()
  const canManage = can(PERM.ticketsSettingsManage)
  const rules = useQuery({ queryKey: RULES_KEY, queryFn: listClassificationRules })
  const [editing, setEditing] = useState<ClassificationRule | 'new' | null>(null)

  if (rules.error && !rules.data) return <ErrorState error={rules.error} onRetry={() => void rules.refetch()} />
  return (
    <>
      <PageHeader
        title={t('ticketClassify.rules.title')}
        description={t('ticketClassify.rules.subtitle')}
        extra={
          canManage ? (
            <Button type="primary" icon={<PlusOutlined />} onClick={() => setEditing('new')} data-testid="rule-add">
              {t('ticketClassify.rules.add')}
            </Button>
          ) : null
        }
      />
      {!canManage ? <Alert type="info" showIcon style={{ marginBottom: 16 }} message={t('ticketClassify.rules.readOnly')} /> : null}
      <Card style={{ marginBottom: 16 }}>
        <RulesTable rules={rules.data ?? []} loading={rules.isLoading} canManage={canManage} onEdit={setEditing} />
      </Card>
      <RuleTester />
      {editing ? <RuleDrawer rule={editing === 'new' ? null : editing} onClose={() => setEditing(null)} /> : null}
    </>
  )
}

function PriorityEffect({ rule }: { rule: Pick<ClassificationRule, 'urgent' | 'priority'> }) {
  const { t } = useTranslation()
  const priority = rule.urgent ? 'urgent' : rule.priority
  if (!priority) return <span className="muted">—</span>
  return <Tag color={PRIORITY_COLORS[priority as TicketPriority]}>≥ {t(`tickets.priority.${priority}`)}</Tag>
}

function RulesTable({
  rules,
  loading,
  canManage,
  onEdit,
}: {
  rules: ClassificationRule[]
  loading: boolean
  canManage: boolean
  onEdit: (rule: ClassificationRule) => void
}) {
  const { t } = useTranslation()
  const { message } = App.useApp()
  const showError = useApiError()
  const queryClient = useQueryClient()
  const refresh = () => void queryClient.invalidateQueries({ queryKey: ['tickets', 'classify'] })
  const remove = useMutation({
    mutationFn: (rule: ClassificationRule) => deleteClassificationRule(rule.id),
    onSuccess: (_, rule) => {
      void message.success(t('ticketClassify.rules.deleted', { name: rule.name }))
      refresh()
    },
    onError: (err) => showError(err),
  })
  const toggle = useMutation({
    mutationFn: (rule: ClassificationRule) => replaceClassificationRule(rule.id, { ...toInput(rule), enabled: !rule.enabled }),
    onSuccess: refresh,
    onError: (err) => showError(err),
  })
  const columns: TableColumnsType<ClassificationRule> = [
    { title: t('ticketClassify.rules.position'), dataIndex: 'position', width: 70 },
    { title: t('ticketClassify.rules.name'), dataIndex: 'name', render: (name: string, r) => <span data-testid={`rule-name-${r.id}`}>{name}</span> },
    {
      title: t('ticketClassify.rules.phrases'),
      render: (_, r) => (
        <Space size={[0, 4]} wrap>
          <Tag bordered={false}>{r.match_mode === 'all' ? t('ticketClassify.rules.matchAll') : t('ticketClassify.rules.matchAny')}</Tag>
          <PhraseTags phrases={r.phrases} />
        </Space>
      ),
    },
    { title: t('ticketClassify.rules.category'), dataIndex: 'category', render: (c: string | null) => (c ? <Tag color="geekblue">{c}</Tag> : '—') },
    { title: t('ticketClassify.rules.priority'), render: (_, r) => <PriorityEffect rule={r} /> },
    { title: t('ticketClassify.rules.chat'), render: (_, r) => (r.creates_ticket_from_chat ? <Tag color="cyan">{t('ticketClassify.rules.chat')}</Tag> : '—') },
    {
      title: t('ticketClassify.rules.enabled'),
      render: (_, r) => (
        <Switch size="small" checked={r.enabled} disabled={!canManage} loading={toggle.isPending && toggle.variables?.id === r.id} onChange={() => toggle.mutate(r)} {...tid(`rule-enabled-${r.id}`)} />
      ),
    },
  ]
  if (canManage)
    columns.push({
      title: t('ticketClassify.rules.actions'),
      width: 110,
      render: (_, r) => (
        <Space>
          <Button size="small" icon={<EditOutlined />} onClick={() => onEdit(r)} aria-label={t('ticketClassify.rules.edit')} data-testid={`rule-edit-${r.id}`} />
          <Popconfirm title={t('ticketClassify.rules.deleteConfirm', { name: r.name })} onConfirm={() => remove.mutate(r)} okButtonProps={{ ...tid(`rule-delete-ok-${r.id}`) }}>
            <Button size="small" danger icon={<DeleteOutlined />} aria-label="delete" data-testid={`rule-delete-${r.id}`} />
          </Popconfirm>
        </Space>
      ),
    })
  return (
    <Table
      rowKey="id"
      size="middle"
      loading={loading}
      columns={columns}
      dataSource={rules}
      pagination={false}
      locale={{ emptyText: <Empty description={t('ticketClassify.rules.empty')} /> }}
      data-testid="rules-table"
    />
  )
}

function toInput(rule: ClassificationRule): ClassificationRuleIn {
  return {
    name: rule.name,
    phrases: rule.phrases,
    match_mode: rule.match_mode === 'all' ? 'all' : 'any',
    category: rule.category,
    priority: (rule.priority as TicketPriority | null) ?? null,
    urgent: rule.urgent,
    creates_ticket_from_chat: rule.creates_ticket_from_chat,
    enabled: rule.enabled,
    position: rule.position,
  }
}

function RuleDrawer({ rule, onClose }: { rule: ClassificationRule | null; onClose: () => void }) {
  const { t } = useTranslation()
  const { message } = App.useApp()
  const showError = useApiError()
  const queryClient = useQueryClient()
  const categories = useKnownCategories()
  const [form] = Form.useForm<ClassificationRuleIn>()
  const save = useMutation({
    mutationFn: (body: ClassificationRuleIn) => (rule ? replaceClassificationRule(rule.id, body) : createClassificationRule(body)),
    onSuccess: (saved) => {
      void message.success(t(rule ? 'ticketClassify.rules.saved' : 'ticketClassify.rules.created', { name: saved.name }))
      void queryClient.invalidateQueries({ queryKey: ['tickets', 'classify'] })
      onClose()
    },
    onError: (err) => {
      if (err instanceof ApiError && err.status === 409) form.setFields([{ name: 'name', errors: [t('ticketClassify.rules.nameTaken')] }])
      else showError(err, form)
    },
  })
  return (
    <Drawer
      open
      width={520}
      title={rule ? t('ticketClassify.rules.edit') : t('ticketClassify.rules.add')}
      onClose={onClose}
      destroyOnHidden
      extra={
        <Button type="primary" loading={save.isPending} onClick={() => form.submit()} data-testid="rule-save">
          {t('common.save')}
        </Button>
      }
    >
      <Form
        form={form}
        layout="vertical"
        initialValues={rule ? toInput(rule) : EMPTY_RULE}
        onFinish={(values) => save.mutate({ ...values, category: values.category?.trim() || null, priority: values.priority ?? null })}
        data-testid="rule-form"
      >
        <Form.Item name="name" label={t('ticketClassify.rules.name')} rules={[{ required: true, max: 100 }]}>
          <Input maxLength={100} data-testid="rule-name" />
        </Form.Item>
        <Form.Item name="phrases" label={t('ticketClassify.rules.phrases')} extra={t('ticketClassify.rules.phrasesHelp')} rules={[{ required: true, type: 'array', min: 1 }]}>
          <Select mode="tags" open={false} tokenSeparators={[',', '，', '、']} data-testid="rule-phrases" />
        </Form.Item>
        <Form.Item name="match_mode" label={t('ticketClassify.rules.matchMode')}>
          <Radio.Group
            optionType="button"
            options={[
              { value: 'any', label: t('ticketClassify.rules.matchAny') },
              { value: 'all', label: t('ticketClassify.rules.matchAll') },
            ]}
          />
        </Form.Item>
        <Form.Item name="category" label={t('ticketClassify.rules.category')}>
          <AutoComplete
            allowClear
            placeholder={t('ticketClassify.rules.categoryPlaceholder')}
            options={categories.map((c) => ({ value: c }))}
            filterOption={(input, option) => String(option?.value ?? '').includes(input)}
            data-testid="rule-category"
          />
        </Form.Item>
        <Form.Item name="priority" label={t('ticketClassify.rules.priority')}>
          <Select
            allowClear
            placeholder={t('ticketClassify.rules.priorityNone')}
            options={PRIORITIES.map((p) => ({ value: p, label: t(`tickets.priority.${p}`) }))}
            data-testid="rule-priority"
          />
        </Form.Item>
        <Form.Item name="urgent" valuePropName="checked" extra={t('ticketClassify.rules.urgentHelp')}>
          <Checkbox data-testid="rule-urgent">{t('ticketClassify.rules.urgent')}</Checkbox>
        </Form.Item>
        <Form.Item name="creates_ticket_from_chat" valuePropName="checked" extra={t('ticketClassify.rules.chatHelp')}>
          <Checkbox data-testid="rule-chat">{t('ticketClassify.rules.chat')}</Checkbox>
        </Form.Item>
        <Flex gap={24}>
          <Form.Item name="position" label={t('ticketClassify.rules.position')} extra={t('ticketClassify.rules.positionHelp')}>
            <InputNumber min={0} max={10000} />
          </Form.Item>
          <Form.Item name="enabled" label={t('ticketClassify.rules.enabled')} valuePropName="checked">
            <Switch />
          </Form.Item>
        </Flex>
      </Form>
    </Drawer>
  )
}

function RuleTester() {
  const { t } = useTranslation()
  const showError = useApiError()
  const [text, setText] = useState('')
  const run = useMutation({ mutationFn: testClassification, onError: (err) => showError(err) })
  const result: RuleTestResult | undefined = run.data
  return (
    <Card
      title={
        <Space>
          <ExperimentOutlined />
          {t('ticketClassify.rules.tester.title')}
        </Space>
      }
    >
      <Typography.Paragraph type="secondary">{t('ticketClassify.rules.tester.help')}</Typography.Paragraph>
      <Flex gap={8} align="start">
        <Input.TextArea
          value={text}
          onChange={(e) => setText(e.target.value)}
          autoSize={{ minRows: 2, maxRows: 5 }}
          maxLength={5000}
          placeholder={t('ticketClassify.rules.tester.placeholder')}
          data-testid="rule-test-text"
        />
        <Button type="primary" disabled={!text.trim()} loading={run.isPending} onClick={() => run.mutate(text)} data-testid="rule-test-run">
          {t('ticketClassify.rules.tester.run')}
        </Button>
      </Flex>
      {result ? (
        <Descriptions column={1} size="small" style={{ marginTop: 16 }} data-testid="rule-test-result">
          <Descriptions.Item label={t('ticketClassify.rules.tester.matched')}>
            {result.matched_rules.length ? (
              <Space direction="vertical" size={2}>
                {result.matched_rules.map((m) => (
                  <span key={m.rule_id} data-testid="rule-test-hit">
                    {m.reason}
                  </span>
                ))}
              </Space>
            ) : (
              <span className="muted">{t('ticketClassify.rules.tester.noMatch')}</span>
            )}
          </Descriptions.Item>
          <Descriptions.Item label={t('ticketClassify.rules.tester.category')}>
            <span data-testid="rule-test-category">{result.category ?? '—'}</span>
          </Descriptions.Item>
          <Descriptions.Item label={t('ticketClassify.rules.tester.priority')}>
            {result.priority ? <Tag color={PRIORITY_COLORS[result.priority as TicketPriority]} data-testid="rule-test-priority">{t(`tickets.priority.${result.priority}`)}</Tag> : '—'}
            {result.creates_ticket_from_chat ? <Tag color="cyan">{t('ticketClassify.rules.tester.chat')}</Tag> : null}
          </Descriptions.Item>
          <Descriptions.Item label={t('ticketClassify.rules.tester.model')}>
            {result.model_category ? (
              <Space>
                <span data-testid="rule-test-model">{result.model_category}</span>
                <ConfidenceTag value={result.model_confidence} />
              </Space>
            ) : (
              <span className="muted">{t('ticketClassify.rules.tester.noModel')}</span>
            )}
          </Descriptions.Item>
        </Descriptions>
      ) : null}
    </Card>
  )
}
