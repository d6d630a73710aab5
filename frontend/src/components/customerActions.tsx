// Actions of the customer 360 page: tagging (pushed to WeCom by the server), merging another profile
// into this one (with the identifiers that disagree shown and an explicit "merge anyway"), unmerging.
import { ExclamationCircleFilled, MergeCellsOutlined } from '@ant-design/icons'
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query'
import { Alert, App, Checkbox, Empty, Flex, Form, Input, Modal, Select, Space, Spin, Tag, Typography } from 'antd'
import { useState } from 'react'
import { useTranslation } from 'react-i18next'
import {
  ApiError,
  changeCustomerTags,
  listCustomers,
  mergeCustomer,
  unmergeCustomer,
  type CustomerDetail,
  type CustomerMerge,
  type FieldError,
} from '../api'
import { useDebounced } from '../utils/useDebounced'
import { tid } from '../utils/testid'
import { TagMultiSelect } from './customerTags'
import { CustomerAvatar } from './customers'
import { useApiError } from './useApiError'

function useRefreshCustomer(id: number) {
  const queryClient = useQueryClient()
  return () => {
    void queryClient.invalidateQueries({ queryKey: ['customers', 'detail', id] })
    void queryClient.invalidateQueries({ queryKey: ['customers'] })
  }
}

export function EditTagsModal({ customer: c, onClose }: { customer: CustomerDetail; onClose: () => void }) {
  const { t } = useTranslation()
  const { message } = App.useApp()
  const showError = useApiError()
  const queryClient = useQueryClient()
  const refresh = useRefreshCustomer(c.id)
  const current = c.tags.map((x) => x.id)
  const [value, setValue] = useState<number[]>(current)
  const add = value.filter((x) => !current.includes(x))
  const remove = current.filter((x) => !value.includes(x))
  const save = useMutation({
    mutationFn: () => changeCustomerTags(c.id, { add, remove }),
    onSuccess: (out) => {
      queryClient.setQueryData<CustomerDetail>(['customers', 'detail', c.id], (old) => (old ? { ...old, tags: out.tags } : old))
      refresh()
      void message.success(out.changed ? t('customers.tagsSaved') : t('customers.tagsUnchanged'))
      onClose()
    },
    onError: (e) => showError(e),
  })
  return (
    <Modal
      open
      title={t('customers.editTagsTitle', { name: c.name || t('customers.unnamed') })}
      onCancel={onClose}
      onOk={() => (add.length || remove.length ? save.mutate() : onClose())}
      okText={t('common.save')}
      confirmLoading={save.isPending}
      okButtonProps={tid('customer-tags-save')}
      destroyOnHidden
      data-testid="customer-tags-modal"
    >
      <Typography.Paragraph type="secondary">{t('customers.editTagsHint')}</Typography.Paragraph>
      <TagMultiSelect value={value} onChange={setValue} testId="customer-tags-input" style={{ width: '100%' }} />
      {add.length || remove.length ? (
        <Space wrap style={{ marginTop: 12 }} data-testid="customer-tags-diff">
          {add.map((x) => (
            <Tag key={`a${x}`} color="green">
              + {c.tags.find((y) => y.id === x)?.name ?? <TagName id={x} />}
            </Tag>
          ))}
          {remove.map((x) => (
            <Tag key={`r${x}`} color="red">
              − {c.tags.find((y) => y.id === x)?.name}
            </Tag>
          ))}
        </Space>
      ) : null}
    </Modal>
  )
}

function TagName({ id }: { id: number }) {
  const queryClient = useQueryClient()
  const groups = queryClient.getQueryData<{ tags: { id: number; name: string }[] }[]>(['tags', null]) ?? []
  for (const g of groups) {
    const tag = g.tags.find((x) => x.id === id)
    if (tag) return <>{tag.name}</>
  }
  return <>#{id}</>
}

/** Customers matching a search, to pick the one to merge into this profile. */
function CustomerPicker({ exclude, value, onChange }: { exclude: number; value?: number; onChange?: (v: number | undefined) => void }) {
  const { t } = useTranslation()
  const [search, setSearch] = useState('')
  const q = useDebounced(search.trim(), 300)
  const found = useQuery({
    queryKey: ['customers', 'picker', q],
    queryFn: () => listCustomers({ q: q || undefined, limit: 20 }),
    staleTime: 10_000,
  })
  const items = (found.data?.items ?? []).filter((x) => x.id !== exclude)
  return (
    <Select
      showSearch
      allowClear
      value={value}
      onChange={(v?: number) => onChange?.(v)}
      filterOption={false}
      onSearch={setSearch}
      placeholder={t('customers.merge.pickPlaceholder')}
      notFoundContent={found.isFetching ? <Spin size="small" /> : <Empty image={Empty.PRESENTED_IMAGE_SIMPLE} />}
      options={items.map((x) => ({
        value: x.id,
        label: `${x.name || t('customers.unnamed')} #${x.id}`,
        avatar: x.avatar_url,
        staff: x.follow_staff.map((f) => f.staff_name || f.staff_userid).join('、'),
      }))}
      optionRender={(opt) => (
        <Flex gap={8} align="center" data-testid={`customer-merge-option-${opt.value}`}>
          <CustomerAvatar src={opt.data.avatar} size="small" />
          <span>{opt.data.label}</span>
          <Typography.Text type="secondary" style={{ fontSize: 12 }} ellipsis>
            {opt.data.staff}
          </Typography.Text>
        </Flex>
      )}
      style={{ width: '100%' }}
      data-testid="customer-merge-pick"
    />
  )
}

interface MergeValues {
  other_id?: number
  reason: string
  force: boolean
}

export function MergeModal({ customer: c, onClose }: { customer: CustomerDetail; onClose: () => void }) {
  const { t } = useTranslation()
  const { message, modal } = App.useApp()
  const showError = useApiError()
  const refresh = useRefreshCustomer(c.id)
  const [form] = Form.useForm<MergeValues>()
  const [conflicts, setConflicts] = useState<FieldError[] | null>(null)
  const merge = useMutation({
    mutationFn: (v: MergeValues) => mergeCustomer(c.id, { other_id: v.other_id as number, reason: v.reason.trim(), force: v.force }),
    onSuccess: (m) => {
      void message.success(t('customers.merge.done', { other: m.merged_id }))
      refresh()
      onClose()
    },
    onError: (e) => {
      if (e instanceof ApiError && e.status === 409) {
        setConflicts(e.errors.length ? e.errors : [{ field: 'other_id', message: e.detail }])
        return
      }
      showError(e, form)
    },
  })
  const submit = (v: MergeValues) => {
    modal.confirm({
      title: t('customers.merge.confirmTitle', { other: v.other_id, name: c.name || t('customers.unnamed') }),
      icon: <ExclamationCircleFilled />,
      content: t('customers.merge.confirmHint'),
      okText: t('customers.merge.button'),
      okButtonProps: { danger: v.force, ...tid('confirm-ok') },
      onOk: () => merge.mutateAsync(v).catch(() => undefined),
    })
  }
  return (
    <Modal
      open
      width={560}
      title={
        <Space>
          <MergeCellsOutlined />
          {t('customers.merge.title', { name: c.name || t('customers.unnamed') })}
        </Space>
      }
      onCancel={onClose}
      onOk={() => form.submit()}
      okText={t('customers.merge.next')}
      confirmLoading={merge.isPending}
      okButtonProps={tid('customer-merge-submit')}
      maskClosable={false}
      destroyOnHidden
      data-testid="customer-merge-modal"
    >
      <Typography.Paragraph type="secondary">{t('customers.merge.hint', { id: c.id })}</Typography.Paragraph>
      <Form<MergeValues> form={form} layout="vertical" initialValues={{ reason: '', force: false }} onFinish={submit} onValuesChange={(ch) => 'other_id' in ch && setConflicts(null)}>
        <Form.Item name="other_id" label={t('customers.merge.other')} rules={[{ required: true, message: t('customers.merge.otherRequired') }]}>
          <CustomerPicker exclude={c.id} />
        </Form.Item>
        <Form.Item name="reason" label={t('customers.merge.reason')} rules={[{ required: true, whitespace: true, message: t('customers.merge.reasonRequired') }]}>
          <Input.TextArea rows={2} maxLength={500} placeholder={t('customers.merge.reasonPlaceholder')} data-testid="customer-merge-reason" />
        </Form.Item>
        {conflicts ? (
          <Alert
            type="warning"
            showIcon
            style={{ marginBottom: 12 }}
            message={t('customers.merge.conflict')}
            description={
              <ul style={{ margin: 0, paddingInlineStart: 18 }} data-testid="customer-merge-conflicts">
                {conflicts.map((x, i) => (
                  <li key={i}>{x.message}</li>
                ))}
              </ul>
            }
          />
        ) : null}
        {conflicts ? (
          <Form.Item name="force" valuePropName="checked" style={{ marginBottom: 0 }}>
            <Checkbox data-testid="customer-merge-force">{t('customers.merge.force')}</Checkbox>
          </Form.Item>
        ) : null}
      </Form>
    </Modal>
  )
}

export function UnmergeModal({ customer: c, merge, onClose }: { customer: CustomerDetail; merge: CustomerMerge; onClose: () => void }) {
  const { t } = useTranslation()
  const { message } = App.useApp()
  const showError = useApiError()
  const refresh = useRefreshCustomer(c.id)
  const queryClient = useQueryClient()
  const [form] = Form.useForm<{ reason: string }>()
  const undo = useMutation({
    mutationFn: (reason: string) => unmergeCustomer(c.id, { other_id: merge.merged_id, reason }),
    onSuccess: () => {
      void message.success(t('customers.merge.unmerged', { other: merge.merged_id }))
      void queryClient.invalidateQueries({ queryKey: ['customers', 'detail', merge.merged_id] })
      refresh()
      onClose()
    },
    onError: (e) => showError(e, form),
  })
  return (
    <Modal
      open
      title={t('customers.merge.unmergeTitle', { other: merge.merged_id })}
      onCancel={onClose}
      onOk={() => form.submit()}
      okText={t('customers.merge.unmerge')}
      okButtonProps={{ danger: true, ...tid('customer-unmerge-submit') }}
      confirmLoading={undo.isPending}
      destroyOnHidden
      data-testid="customer-unmerge-modal"
    >
      <Typography.Paragraph type="secondary">{t('customers.merge.unmergeHint', { other: merge.merged_id })}</Typography.Paragraph>
      <Form form={form} layout="vertical" onFinish={(v) => undo.mutate(v.reason.trim())}>
        <Form.Item name="reason" label={t('customers.merge.reason')} rules={[{ required: true, whitespace: true, message: t('customers.merge.reasonRequired') }]}>
          <Input.TextArea rows={2} maxLength={500} data-testid="customer-unmerge-reason" />
        </Form.Item>
      </Form>
    </Modal>
  )
}
