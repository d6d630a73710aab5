import { CheckOutlined, DeleteOutlined, PlusOutlined, ReloadOutlined, SaveOutlined } from '@ant-design/icons'
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query'
import { Alert, App, Button, Card, Col, Divider, Empty, Flex, Form, Input, InputNumber, Row, Segmented, Select, Skeleton, Table, Tag, Tooltip, Typography } from 'antd'
import type { FormInstance, TableColumnsType } from 'antd'
import { useEffect, useMemo, useState } from 'react'
import { useTranslation } from 'react-i18next'
import { Link } from 'react-router-dom'
import {
  acknowledgeAlert,
  ApiError,
  getCommerceSettings,
  listOrderAlerts,
  listUsers,
  putCommerceSettings,
  type CommerceSettings,
  type CommerceSettingsIn,
  type FieldError,
  type OrderAlert,
} from '../api'
import { useAuth } from '../auth/AuthContext'
import { PERM } from '../auth/permissions'
import { LoadMore } from '../components/LoadMore'
import { PageHeader } from '../components/PageHeader'
import { ErrorState } from '../components/states'
import { errorText, fieldErrorText, fieldPath, useApiError } from '../components/useApiError'
import { useCursorList } from '../components/useCursorList'
import { fenToYuan, formatDateTime, formatFen, yuanToFen } from '../utils/format'
import { tid } from '../utils/testid'

/** The form: the API's field names (so 422 paths land on their fields), amounts in yuan. */
interface SettingsForm {
  big_order_threshold_fen: number | null
  alert_user_ids: number[]
  gift_rules: { name: string; min_total_spent_fen: number | null; min_order_fen: number | null }[]
  product_alerts: { sku_id: string; monthly_units: number | null; user_ids: number[] }[]
}

function toForm(s: CommerceSettings): SettingsForm {
  return {
    big_order_threshold_fen: fenToYuan(s.big_order_threshold_fen),
    alert_user_ids: s.alert_user_ids ?? [],
    gift_rules: (s.gift_rules ?? []).map((g) => ({
      name: g.name,
      min_total_spent_fen: fenToYuan(g.min_total_spent_fen ?? 0),
      min_order_fen: fenToYuan(g.min_order_fen ?? 0),
    })),
    product_alerts: (s.product_alerts ?? []).map((p) => ({ sku_id: p.sku_id, monthly_units: p.monthly_units, user_ids: p.user_ids ?? [] })),
  }
}

function toBody(v: SettingsForm): CommerceSettingsIn {
  return {
    big_order_threshold_fen: yuanToFen(v.big_order_threshold_fen),
    alert_user_ids: v.alert_user_ids ?? [],
    gift_rules: (v.gift_rules ?? []).map((g) => ({
      name: (g.name ?? '').trim(),
      min_total_spent_fen: yuanToFen(g.min_total_spent_fen) ?? 0,
      min_order_fen: yuanToFen(g.min_order_fen) ?? 0,
    })),
    product_alerts: (v.product_alerts ?? []).map((p) => ({
      sku_id: (p.sku_id ?? '').trim(),
      monthly_units: p.monthly_units as number,
      user_ids: p.user_ids ?? [],
    })),
  }
}

/** Limits of a `*_fen` field's error in yuan ("不能小于 ¥0.01"), as the form shows yuan. */
function inYuan(e: FieldError): FieldError {
  if (!/_fen$/.test(e.field) || !e.context) return e
  const context = Object.fromEntries(Object.entries(e.context).map(([k, v]) => [k, typeof v === 'number' ? formatFen(v) : v]))
  return { ...e, context }
}

/** Paths of the leaves in a changed-values object ({gift_rules: [, {name}]} → [['gift_rules', 1, 'name']]). */
function leafPaths(value: unknown, prefix: (string | number)[] = []): (string | number)[][] {
  if (Array.isArray(value)) return value.flatMap((v, i) => (v === undefined ? [] : leafPaths(v, [...prefix, i])))
  if (value && typeof value === 'object') return Object.entries(value).flatMap(([k, v]) => leafPaths(v, [...prefix, k]))
  return [prefix]
}

/** Clears the server's errors of the fields just edited (fields without rules keep errors otherwise). */
function clearErrors(form: FormInstance, paths?: (string | number)[][]) {
  const withErrors = form.getFieldsError().filter((f) => f.errors.length)
  const key = (p: (string | number)[]) => p.join('.')
  const wanted = paths ? new Set(paths.map(key)) : null
  const clear = withErrors.filter((f) => !wanted || wanted.has(key(f.name)))
  if (clear.length) form.setFields(clear.map((f) => ({ name: f.name, errors: [] })))
}

/** Puts the API's field errors on the form's fields; the rest (and the detail) as a message. */
function useSettingsErrors() {
  const { t } = useTranslation()
  const { message } = App.useApp()
  return (err: unknown, form: FormInstance) => {
    if (!(err instanceof ApiError) || !err.errors.length) {
      void message.error({ content: errorText(err, t), key: 'api-error', className: 'api-error-message' })
      return
    }
    // the scalar fields, and the fields of list items ("gift_rules.0.min_order_fen"); list-level errors go to the message
    const onForm = err.errors.filter((e) => {
      const path = e.field.split('.')
      return (
        (path.length === 1 && ['big_order_threshold_fen', 'alert_user_ids'].includes(path[0])) ||
        (path.length === 3 && ['gift_rules', 'product_alerts'].includes(path[0]) && /^\d+$/.test(path[1]))
      )
    })
    const rest = err.errors.filter((e) => !onForm.includes(e))
    form.setFields(onForm.map((e) => ({ name: fieldPath(e.field), errors: [fieldErrorText(inYuan(e), t)] })))
    const text = [errorText(err, t), rest.map((e) => `${e.field}: ${fieldErrorText(inYuan(e), t)}`).join('; ')].filter(Boolean).join(' — ')
    void message.error({ content: text, key: 'api-error', className: 'api-error-message' })
  }
}

export default function CommerceSettingsPage() {
  const { t } = useTranslation()
  const { can } = useAuth()
  const canEdit = can(PERM.shopsManage)
  const { message } = App.useApp()
  const queryClient = useQueryClient()
  const showErrors = useSettingsErrors()
  const [form] = Form.useForm<SettingsForm>()
  const settings = useQuery({ queryKey: ['commerce', 'settings'], queryFn: getCommerceSettings })
  const users = useQuery({ queryKey: ['users', 'picker', ''], queryFn: () => listUsers({ limit: 200 }), enabled: can(PERM.usersView), staleTime: 60_000 })
  const userOptions = useMemo(
    () => (users.data?.items ?? []).map((u) => ({ value: u.id, label: `${u.display_name} (${u.email})`, disabled: !u.is_active })),
    [users.data],
  )
  const userName = (id: number) => users.data?.items.find((u) => u.id === id)?.display_name ?? `#${id}`

  useEffect(() => {
    if (settings.data) form.setFieldsValue(toForm(settings.data))
  }, [settings.data, form])

  const save = useMutation({
    mutationFn: (v: SettingsForm) => putCommerceSettings(toBody(v)),
    onSuccess: (data) => {
      clearErrors(form)
      queryClient.setQueryData(['commerce', 'settings'], data)
      void message.success(t('commerce.settings.saved'))
    },
    onError: (e) => showErrors(e, form),
  })

  if (settings.error && !settings.data) return <ErrorState error={settings.error} onRetry={() => void settings.refetch()} />

  const usersPicker = (testId: string, placeholder?: string) =>
    can(PERM.usersView) ? (
      <Select
        mode="multiple"
        allowClear
        optionFilterProp="label"
        options={userOptions}
        loading={users.isLoading}
        placeholder={placeholder ?? t('commerce.settings.alertUsersPlaceholder')}
        disabled={!canEdit}
        data-testid={testId}
        optionRender={(opt) => <span data-testid={`${testId}-option-${opt.value}`}>{opt.label}</span>}
      />
    ) : (
      // without the users list: ids typed in
      <Select
        mode="tags"
        tokenSeparators={[',', ' ']}
        placeholder={t('commerce.settings.userIdsPlaceholder')}
        disabled={!canEdit}
        data-testid={testId}
      />
    )
  const ids = (v: unknown[]) => (v ?? []).map(Number).filter((n) => Number.isInteger(n) && n > 0)

  return (
    <>
      <PageHeader title={t('commerce.settings.title')} description={t('commerce.settings.subtitle')} />
      {!canEdit ? <Alert type="info" showIcon style={{ marginBottom: 16 }} message={t('commerce.settings.readOnly')} data-testid="settings-read-only" /> : null}
      <Card
        title={t('commerce.settings.rulesTitle')}
        data-testid="order-rules"
        extra={
          settings.data?.updated_at ? (
            <Typography.Text type="secondary" data-testid="settings-updated-at">
              {t('commerce.settings.updatedAt', { time: formatDateTime(settings.data.updated_at) })}
            </Typography.Text>
          ) : null
        }
      >
        {settings.isLoading ? (
          <Skeleton active />
        ) : (
          <Form<SettingsForm>
            form={form}
            layout="vertical"
            disabled={!canEdit}
            onFinish={(v) => save.mutate(v)}
            onValuesChange={(changed) => clearErrors(form, leafPaths(changed))}
            initialValues={{ big_order_threshold_fen: null, alert_user_ids: [], gift_rules: [], product_alerts: [] }}
          >
            <Typography.Title level={5}>{t('commerce.settings.bigOrder')}</Typography.Title>
            <Row gutter={16}>
              <Col xs={24} md={8}>
                <Form.Item name="big_order_threshold_fen" label={t('commerce.settings.bigOrderThreshold')} extra={t('commerce.settings.bigOrderHelp')}>
                  <InputNumber<number> min={0} precision={2} prefix="¥" style={{ width: '100%' }} placeholder="1000.00" data-testid="settings-big-order" />
                </Form.Item>
              </Col>
              <Col xs={24} md={16}>
                <Form.Item
                  name="alert_user_ids"
                  label={t('commerce.settings.alertUsers')}
                  extra={t('commerce.settings.alertUsersHelp')}
                  normalize={can(PERM.usersView) ? undefined : ids}
                >
                  {usersPicker('settings-alert-users')}
                </Form.Item>
              </Col>
            </Row>
            <Divider />
            <Typography.Title level={5}>{t('commerce.settings.giftRules')}</Typography.Title>
            <Typography.Paragraph type="secondary">{t('commerce.settings.giftRulesHelp')}</Typography.Paragraph>
            <Form.List name="gift_rules">
              {(fields, { add, remove }) => (
                <div data-testid="settings-gift-rules" data-count={fields.length}>
                  {fields.map((field) => (
                    <Row gutter={12} key={field.key} align="top" data-testid={`gift-rule-${field.name}`}>
                      <Col xs={24} md={8}>
                        <Form.Item
                          name={[field.name, 'name']}
                          label={t('commerce.settings.giftName')}
                          rules={[{ required: true, whitespace: true, message: t('commerce.settings.giftNameRequired') }]}
                        >
                          <Input maxLength={60} data-testid={`gift-rule-${field.name}-name`} />
                        </Form.Item>
                      </Col>
                      <Col xs={12} md={7}>
                        <Form.Item name={[field.name, 'min_total_spent_fen']} label={t('commerce.settings.minLifetime')}>
                          <InputNumber<number> min={0} precision={2} prefix="¥" style={{ width: '100%' }} data-testid={`gift-rule-${field.name}-lifetime`} />
                        </Form.Item>
                      </Col>
                      <Col xs={12} md={7}>
                        <Form.Item name={[field.name, 'min_order_fen']} label={t('commerce.settings.minOrder')}>
                          <InputNumber<number> min={0} precision={2} prefix="¥" style={{ width: '100%' }} data-testid={`gift-rule-${field.name}-order`} />
                        </Form.Item>
                      </Col>
                      <Col xs={24} md={2}>
                        <Form.Item label=" ">
                          <Tooltip title={t('commerce.settings.remove')}>
                            <Button icon={<DeleteOutlined />} danger onClick={() => remove(field.name)} aria-label={t('commerce.settings.remove')} data-testid={`gift-rule-${field.name}-remove`} />
                          </Tooltip>
                        </Form.Item>
                      </Col>
                    </Row>
                  ))}
                  <Button
                    type="dashed"
                    icon={<PlusOutlined />}
                    onClick={() => add({ name: '', min_total_spent_fen: 0, min_order_fen: 0 })}
                    disabled={!canEdit || fields.length >= 20}
                    data-testid="gift-rule-add"
                  >
                    {t('commerce.settings.addGift')}
                  </Button>
                </div>
              )}
            </Form.List>
            <Divider />
            <Typography.Title level={5}>{t('commerce.settings.productAlerts')}</Typography.Title>
            <Typography.Paragraph type="secondary">{t('commerce.settings.productAlertsHelp')}</Typography.Paragraph>
            <Form.List name="product_alerts">
              {(fields, { add, remove }) => (
                <div data-testid="settings-product-alerts" data-count={fields.length}>
                  {fields.map((field) => (
                    <Row gutter={12} key={field.key} align="top" data-testid={`product-alert-${field.name}`}>
                      <Col xs={24} md={7}>
                        <Form.Item name={[field.name, 'sku_id']} label={t('commerce.settings.skuId')} rules={[{ required: true, whitespace: true, message: t('commerce.settings.skuRequired') }]}>
                          <Input maxLength={64} data-testid={`product-alert-${field.name}-sku`} />
                        </Form.Item>
                      </Col>
                      <Col xs={12} md={5}>
                        <Form.Item
                          name={[field.name, 'monthly_units']}
                          label={t('commerce.settings.monthlyUnits')}
                          rules={[{ required: true, message: t('commerce.settings.monthlyUnitsRequired') }]}
                        >
                          <InputNumber<number> min={0} precision={0} suffix={t('commerce.settings.unitsSuffix')} style={{ width: '100%' }} data-testid={`product-alert-${field.name}-units`} />
                        </Form.Item>
                      </Col>
                      <Col xs={12} md={10}>
                        <Form.Item name={[field.name, 'user_ids']} label={t('commerce.settings.recipients')} normalize={can(PERM.usersView) ? undefined : ids}>
                          {usersPicker(`product-alert-${field.name}-users`, t('commerce.settings.recipientsDefault'))}
                        </Form.Item>
                      </Col>
                      <Col xs={24} md={2}>
                        <Form.Item label=" ">
                          <Tooltip title={t('commerce.settings.remove')}>
                            <Button icon={<DeleteOutlined />} danger onClick={() => remove(field.name)} aria-label={t('commerce.settings.remove')} data-testid={`product-alert-${field.name}-remove`} />
                          </Tooltip>
                        </Form.Item>
                      </Col>
                    </Row>
                  ))}
                  <Button
                    type="dashed"
                    icon={<PlusOutlined />}
                    onClick={() => add({ sku_id: '', monthly_units: null, user_ids: [] })}
                    disabled={!canEdit || fields.length >= 100}
                    data-testid="product-alert-add"
                  >
                    {t('commerce.settings.addProductAlert')}
                  </Button>
                </div>
              )}
            </Form.List>
            {canEdit ? (
              <Flex justify="end" gap={8} style={{ marginTop: 24 }}>
                <Button onClick={() => settings.data && form.setFieldsValue(toForm(settings.data))} data-testid="settings-reset">
                  {t('common.reset')}
                </Button>
                <Button type="primary" htmlType="submit" icon={<SaveOutlined />} loading={save.isPending} data-testid="settings-save">
                  {t('common.save')}
                </Button>
              </Flex>
            ) : null}
          </Form>
        )}
      </Card>
      <AlertsCard userName={userName} />
    </>
  )
}

/** The server's (Chinese) title; in English, a line from the alert's detail when its kind is known. */
function useAlertText() {
  const { t, i18n } = useTranslation()
  return (a: OrderAlert): string => {
    if (i18n.language !== 'en') return a.title
    const d = (a.detail ?? {}) as Record<string, unknown>
    if (a.kind === 'big_order' && typeof d.payment_fen === 'number')
      return t('commerce.alerts.bigOrderLine', { amount: formatFen(d.payment_fen), threshold: formatFen(Number(d.threshold_fen)) })
    if (a.kind === 'product_sales' && typeof d.sku_id === 'string')
      return t('commerce.alerts.productLine', { sku: d.sku_id, units: d.units, threshold: d.threshold })
    return a.title
  }
}

function AlertsCard({ userName }: { userName: (id: number) => string }) {
  const { t } = useTranslation()
  const alertText = useAlertText()
  const showError = useApiError()
  const queryClient = useQueryClient()
  const [status, setStatus] = useState<'open' | 'all'>('open')
  const alerts = useCursorList(['commerce', 'alerts', status], (cursor) => listOrderAlerts({ limit: 50, cursor, status: status === 'open' ? 'open' : undefined }), {
    refetchInterval: 15_000,
  })
  const ack = useMutation({
    mutationFn: (a: OrderAlert) => acknowledgeAlert(a.id),
    onSuccess: () => void queryClient.invalidateQueries({ queryKey: ['commerce', 'alerts'] }),
    onError: (e) => showError(e),
  })
  const columns: TableColumnsType<OrderAlert> = [
    {
      title: t('commerce.alerts.content'),
      key: 'title',
      render: (_, a) => (
        <span>
          <Tag color={a.kind === 'big_order' ? 'gold' : 'purple'}>{t(`commerce.alerts.kind.${a.kind}`, { defaultValue: a.kind })}</Tag>
          <span data-testid={`alert-title-${a.id}`}>{alertText(a)}</span>
        </span>
      ),
    },
    {
      title: t('commerce.alerts.order'),
      dataIndex: 'order_id',
      width: 90,
      render: (v: number | null) => (v ? <Link to={`/commerce/orders/${v}`} data-testid={`alert-order-${v}`}>#{v}</Link> : '—'),
    },
    {
      title: t('commerce.alerts.notify'),
      dataIndex: 'notify_user_ids',
      width: 200,
      render: (v: number[]) => (v.length ? v.map((id) => <Tag key={id}>{userName(id)}</Tag>) : <span className="muted">—</span>),
    },
    { title: t('commerce.alerts.createdAt'), dataIndex: 'created_at', width: 170, render: (v: string) => formatDateTime(v) },
    {
      title: t('common.status'),
      key: 'status',
      width: 200,
      render: (_, a) =>
        a.status === 'open' ? (
          <Button
            size="small"
            type="primary"
            ghost
            icon={<CheckOutlined />}
            loading={ack.isPending && ack.variables?.id === a.id}
            onClick={() => ack.mutate(a)}
            data-testid={`alert-ack-${a.id}`}
          >
            {t('commerce.alerts.ack')}
          </Button>
        ) : (
          <Tooltip title={a.acknowledged_by ? t('commerce.alerts.ackedBy', { who: a.acknowledged_by }) : undefined}>
            <Tag color="default" data-testid={`alert-status-${a.id}`} data-status={a.status}>
              {t('commerce.alerts.acked')}
            </Tag>
          </Tooltip>
        ),
    },
  ]
  if (alerts.error && !alerts.items.length) return <ErrorState error={alerts.error} onRetry={() => void alerts.refetch()} />
  return (
    <Card
      title={t('commerce.alerts.title')}
      style={{ marginTop: 16 }}
      data-testid="order-alerts"
      extra={
        <Flex gap={8}>
          <Segmented
            value={status}
            onChange={(v) => setStatus(v as 'open' | 'all')}
            options={[
              { value: 'open', label: <span data-testid="alerts-filter-open">{t('commerce.alerts.filterOpen')}</span> },
              { value: 'all', label: <span data-testid="alerts-filter-all">{t('commerce.alerts.filterAll')}</span> },
            ]}
          />
          <Button icon={<ReloadOutlined />} onClick={() => void alerts.refetch()} aria-label={t('common.refresh')} data-testid="alerts-refresh" />
        </Flex>
      }
    >
      <Table<OrderAlert>
        rowKey="id"
        size="small"
        columns={columns}
        dataSource={alerts.items}
        loading={alerts.isLoading}
        pagination={false}
        scroll={{ x: 800 }}
        data-testid="alerts-table"
        onRow={(a) => ({ ...tid(`alert-row-${a.id}`), 'data-kind': a.kind, 'data-status': a.status } as object)}
        locale={{ emptyText: <Empty image={Empty.PRESENTED_IMAGE_SIMPLE} description={t('commerce.alerts.empty')} data-testid="alerts-empty" /> }}
      />
      <LoadMore
        hasMore={!!alerts.hasNextPage}
        loading={alerts.isFetchingNextPage}
        onLoad={() => void alerts.fetchNextPage()}
        count={alerts.items.length}
        testId="alerts-load-more"
      />
    </Card>
  )
}
