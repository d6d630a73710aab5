// Corp-tag pickers for customers (all connections' groups, or one connection's) and the bulk tagging
// dialog of the customer list: add / remove tags on the filtered list or the selected rows, as a job.
import { TagsOutlined } from '@ant-design/icons'
import { useMutation, useQuery } from '@tanstack/react-query'
import { Alert, Button, Form, Modal, Radio, Space, TreeSelect, Typography } from 'antd'
import type { CSSProperties } from 'react'
import { useMemo, useState } from 'react'
import { useTranslation } from 'react-i18next'
import { bulkTagCustomers, listTagGroups, previewSegment, type Condition, type CustomerFilter, type Job } from '../api'
import { JobProgress } from './JobProgress'
import { useApiError } from './useApiError'

/** Tag groups as a tree (groups not selectable), tags as leaves with their id as value. */
export function useTagTree() {
  const q = useQuery({ queryKey: ['tags', null], queryFn: () => listTagGroups(), staleTime: 30_000 })
  const tree = useMemo(
    () =>
      (q.data ?? [])
        .filter((g) => g.tags.length)
        .map((g) => ({
          title: g.name,
          value: `g${g.id}`,
          selectable: false,
          checkable: false,
          disableCheckbox: true,
          children: g.tags.map((tag) => ({ title: tag.name, value: tag.id, pending: !tag.wecom_tag_id && g.connection_id != null })),
        })),
    [q.data],
  )
  const nameOf = (id: number) => {
    for (const g of q.data ?? []) {
      const tag = g.tags.find((x) => x.id === id)
      if (tag) return tag.name
    }
    return `#${id}`
  }
  return { ...q, tree, nameOf }
}

export function TagMultiSelect({
  value,
  onChange,
  placeholder,
  testId,
  style,
}: {
  value?: number[]
  onChange?: (v: number[]) => void
  placeholder?: string
  testId: string
  style?: CSSProperties
}) {
  const { t } = useTranslation()
  const tags = useTagTree()
  return (
    <TreeSelect
      multiple
      allowClear
      showSearch
      treeNodeFilterProp="title"
      treeDefaultExpandAll
      value={value ?? []}
      onChange={(v: (number | string)[]) => onChange?.(v.filter((x): x is number => typeof x === 'number'))}
      treeData={tags.tree}
      loading={tags.isLoading}
      placeholder={placeholder ?? t('customers.pickTags')}
      maxTagCount="responsive"
      style={style}
      data-testid={testId}
      treeTitleRender={(node) => <span data-testid={`${testId}-option-${node.value}`}>{String(node.title)}</span>}
    />
  )
}

/** The list filters as the condition the server builds from them (for a count; `q` has no clause). */
export function filterToCondition(f: CustomerFilter): Condition | null {
  const all: Condition[] = []
  if (f.tags_all?.length) all.push({ field: 'tags', op: 'contains_all', value: f.tags_all })
  if (f.tags_any?.length) all.push({ field: 'tags', op: 'contains_any', value: f.tags_any })
  if (f.tags_none?.length) all.push({ field: 'tags', op: 'contains_none', value: f.tags_none })
  if (f.channel_id != null) all.push({ field: 'channel', op: 'eq', value: f.channel_id })
  if (f.staff) all.push({ field: 'staff', op: 'contains_any', value: [f.staff] })
  if (f.connection_id != null) all.push({ field: 'connection', op: 'contains_any', value: [f.connection_id] })
  if (f.store) all.push({ field: 'store', op: 'eq', value: f.store })
  if (f.region) all.push({ field: 'region', op: 'eq', value: f.region })
  if (f.added_from) all.push({ field: 'added_at', op: 'gte', value: f.added_from })
  if (f.added_to) all.push({ field: 'added_at', op: 'lte', value: f.added_to })
  return { all }
}

interface BulkValues {
  target: 'filter' | 'selected'
  add: number[]
  remove: number[]
}

export function BulkTagModal({
  filter = {},
  filtered = false,
  selected = [],
  segment,
  onClose,
  onDone,
}: {
  filter?: CustomerFilter
  filtered?: boolean
  selected?: number[]
  /** Tag a saved segment's members instead of the list. */
  segment?: { id: number; name: string; count?: number | null }
  onClose: () => void
  onDone: () => void
}) {
  const { t } = useTranslation()
  const showError = useApiError()
  const [form] = Form.useForm<BulkValues>()
  const [job, setJob] = useState<Job | null>(null)
  const target = (Form.useWatch('target', form) ?? (selected.length ? 'selected' : 'filter')) as BulkValues['target']
  const condition = filterToCondition(filter)
  const count = useQuery({
    queryKey: ['customers', 'bulk-count', condition],
    queryFn: () => previewSegment(condition as Condition, 1),
    enabled: !filter.q && !segment,
    staleTime: 10_000,
  })
  const start = useMutation({
    mutationFn: (v: BulkValues) =>
      bulkTagCustomers({
        add: v.add ?? [],
        remove: v.remove ?? [],
        ...(segment ? { segment_id: segment.id } : v.target === 'selected' ? { customer_ids: selected } : { filter }),
      }),
    onSuccess: (j) => setJob(j),
    onError: (e) => showError(e, form),
  })
  const scopeText = segment
    ? t('customers.bulk.segmentCount', { name: segment.name, count: segment.count ?? '…' })
    : target === 'selected'
      ? t('customers.bulk.selectedCount', { count: selected.length })
      : filter.q
        ? t('customers.bulk.filteredSearch')
        : count.data
          ? t('customers.bulk.filteredCount', { count: count.data.count })
          : t('customers.bulk.filteredCounting')

  return (
    <Modal
      open
      width={620}
      title={
        <Space>
          <TagsOutlined />
          {t('customers.bulk.title')}
        </Space>
      }
      onCancel={onClose}
      maskClosable={false}
      destroyOnHidden
      footer={
        job
          ? [
              <Button key="close" type="primary" onClick={onClose} data-testid="bulk-tag-close">
                {t('common.close')}
              </Button>,
            ]
          : [
              <Button key="cancel" onClick={onClose}>
                {t('common.cancel')}
              </Button>,
              <Button key="ok" type="primary" loading={start.isPending} onClick={() => form.submit()} data-testid="bulk-tag-submit">
                {t('customers.bulk.start')}
              </Button>,
            ]
      }
      data-testid="bulk-tag-modal"
    >
      {job ? (
        <JobProgress jobId={job.id} initial={job} onSettled={() => onDone()} />
      ) : (
        <Form<BulkValues>
          form={form}
          layout="vertical"
          initialValues={{ target: selected.length ? 'selected' : 'filter', add: [], remove: [] }}
          onFinish={(v) => start.mutate(v)}
        >
          <Form.Item name="target" label={t('customers.bulk.target')} hidden={!!segment}>
            <Radio.Group data-testid="bulk-tag-target">
              <Radio value="filter" data-testid="bulk-tag-target-filter">
                {filtered ? t('customers.bulk.targetFiltered') : t('customers.bulk.targetAll')}
              </Radio>
              <Radio value="selected" disabled={!selected.length} data-testid="bulk-tag-target-selected">
                {t('customers.bulk.targetSelected', { count: selected.length })}
              </Radio>
            </Radio.Group>
          </Form.Item>
          <Alert type={target === 'filter' && !filtered ? 'warning' : 'info'} showIcon message={scopeText} style={{ marginBottom: 16 }} data-testid="bulk-tag-scope" data-count={segment ? (segment.count ?? '') : target === 'selected' ? selected.length : (count.data?.count ?? '')} />
          <Form.Item
            name="add"
            label={t('customers.bulk.add')}
            rules={[
              {
                validator: (_, v: number[] | undefined) =>
                  (v?.length ?? 0) + ((form.getFieldValue('remove') as number[] | undefined)?.length ?? 0)
                    ? Promise.resolve()
                    : Promise.reject(new Error(t('customers.bulk.nothing'))),
              },
            ]}
          >
            <TagMultiSelect testId="bulk-tag-add" />
          </Form.Item>
          <Form.Item name="remove" label={t('customers.bulk.remove')}>
            <TagMultiSelect testId="bulk-tag-remove" />
          </Form.Item>
          <Typography.Paragraph type="secondary" style={{ marginBottom: 0 }}>
            {t('customers.bulk.hint')}
          </Typography.Paragraph>
        </Form>
      )}
    </Modal>
  )
}
