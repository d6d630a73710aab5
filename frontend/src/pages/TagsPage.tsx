import { CloseOutlined, EditOutlined, PlusOutlined, ReloadOutlined, SyncOutlined, TagsOutlined } from '@ant-design/icons'
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query'
import { Alert, App, Badge, Button, Card, Col, Empty, Flex, Form, Input, Modal, Popconfirm, Row, Select, Space, Tag, Tooltip, Typography } from 'antd'
import type { InputRef } from 'antd'
import { useEffect, useRef, useState } from 'react'
import { useTranslation } from 'react-i18next'
import { addTag, createTagGroup, deleteTag, listTagGroups, renameTag, type CorpTag, type TagGroup, type TagGroupCreate } from '../api'
import { useAuth } from '../auth/AuthContext'
import { PERM } from '../auth/permissions'
import { ConnectionSelect, useConnectionOptions, type ConnectionChoice } from '../components/connections'
import { PageHeader } from '../components/PageHeader'
import { ErrorState } from '../components/states'
import { useApiError } from '../components/useApiError'
import { tid } from '../utils/testid'

const SYNC_POLL_MS = 2000

/** The one active WeCom connection, when there is exactly one: the obvious default. */
function soleActive(connections: ConnectionChoice[]): number | undefined {
  const active = connections.filter((c) => c.status !== 'disabled' && c.platform === 'wecom')
  return active.length === 1 ? active[0].id : undefined
}

const groupSyncing = (g: TagGroup) => !g.wecom_group_id
const tagSyncing = (tag: CorpTag) => !tag.wecom_tag_id
const anySyncing = (groups: TagGroup[] | undefined) => !!groups?.some((g) => groupSyncing(g) || g.tags.some(tagSyncing))

function SyncingBadge({ testId }: { testId: string }) {
  const { t } = useTranslation()
  return (
    <Tooltip title={t('tags.syncingHint')}>
      <Tag icon={<SyncOutlined spin />} color="processing" data-testid={testId} style={{ marginInlineEnd: 0 }}>
        {t('tags.syncing')}
      </Tag>
    </Tooltip>
  )
}

export default function TagsPage() {
  const { t } = useTranslation()
  const { can } = useAuth()
  const manage = can(PERM.tagsManage)
  const { connections, nameOf } = useConnectionOptions()
  const [connectionId, setConnectionId] = useState<number | undefined>()
  const [creating, setCreating] = useState(false)
  const groups = useQuery({
    queryKey: ['tags', connectionId ?? null],
    queryFn: () => listTagGroups(connectionId),
    refetchInterval: (q) => (anySyncing(q.state.data) ? SYNC_POLL_MS : false),
  })

  if (groups.error && !groups.data) return <ErrorState error={groups.error} onRetry={() => void groups.refetch()} />
  const list = groups.data ?? []
  const syncing = anySyncing(list)
  const tagCount = list.reduce((n, g) => n + g.tags.length, 0)

  return (
    <>
      <PageHeader
        title={t('tags.title')}
        description={t('tags.subtitle')}
        extra={
          <>
            {connections.length > 1 ? (
              <ConnectionSelect
                value={connectionId}
                onChange={setConnectionId}
                allowClear
                placeholder={t('tags.allConnections')}
                style={{ width: 220 }}
                testId="tags-connection"
              />
            ) : null}
            <Button icon={<ReloadOutlined />} onClick={() => void groups.refetch()} loading={groups.isFetching && !syncing} data-testid="tags-refresh">
              {t('common.refresh')}
            </Button>
            {manage ? (
              <Button type="primary" icon={<PlusOutlined />} onClick={() => setCreating(true)} data-testid="tag-group-create">
                {t('tags.createGroup')}
              </Button>
            ) : null}
          </>
        }
      />
      {syncing ? (
        <Alert
          type="info"
          showIcon
          icon={<SyncOutlined spin />}
          style={{ marginBottom: 16 }}
          message={t('tags.syncingBanner')}
          data-testid="tags-syncing-banner"
        />
      ) : null}
      <div data-testid="tags-board" data-syncing={String(syncing)} className="tag-board">
        {groups.isLoading ? (
          <Card loading />
        ) : list.length ? (
          <>
            <Typography.Paragraph type="secondary" data-testid="tags-count">
              {t('tags.count', { groups: list.length, tags: tagCount })}
            </Typography.Paragraph>
            <Row gutter={[16, 16]}>
              {list.map((g) => (
                <Col key={g.id} xs={24} md={12} xl={8}>
                  <GroupCard group={g} manage={manage} connectionName={connections.length > 1 ? nameOf(g.connection_id) : null} />
                </Col>
              ))}
            </Row>
          </>
        ) : (
          <Card>
            <Empty image={<TagsOutlined style={{ fontSize: 48, color: '#bfbfbf' }} />} styles={{ image: { height: 56 } }} description={t('tags.empty')} data-testid="tags-empty">
              {manage ? (
                <Button type="primary" icon={<PlusOutlined />} onClick={() => setCreating(true)}>
                  {t('tags.createGroup')}
                </Button>
              ) : null}
            </Empty>
          </Card>
        )}
      </div>
      {creating ? <CreateGroupModal defaultConnection={connectionId ?? soleActive(connections)} groups={list} onClose={() => setCreating(false)} /> : null}
    </>
  )
}

function GroupCard({ group, manage, connectionName }: { group: TagGroup; manage: boolean; connectionName: string | null }) {
  const { t } = useTranslation()
  const syncing = groupSyncing(group) || group.tags.some(tagSyncing)
  return (
    <Card
      size="small"
      data-testid={`tag-group-${group.id}`}
      data-name={group.name}
      data-syncing={String(syncing)}
      title={
        <Space wrap>
          <span data-testid={`tag-group-name-${group.id}`}>{group.name}</span>
          {groupSyncing(group) ? <SyncingBadge testId={`tag-group-syncing-${group.id}`} /> : null}
          {connectionName ? <Tag>{connectionName}</Tag> : null}
        </Space>
      }
      extra={<Badge count={group.tags.length} showZero color="#d9d9d9" style={{ color: 'rgba(0,0,0,0.65)' }} />}
    >
      <Flex wrap gap={0}>
        {group.tags.map((tag) => (
          <TagChip key={tag.id} tag={tag} manage={manage} siblings={group.tags} />
        ))}
        {manage ? <AddTag group={group} /> : null}
        {!group.tags.length && !manage ? <span className="muted">{t('tags.noTags')}</span> : null}
      </Flex>
    </Card>
  )
}

function useInvalidateTags() {
  const queryClient = useQueryClient()
  return () => {
    void queryClient.invalidateQueries({ queryKey: ['tags'] })
  }
}

function TagChip({ tag, manage, siblings }: { tag: CorpTag; manage: boolean; siblings: CorpTag[] }) {
  const { t } = useTranslation()
  const { message } = App.useApp()
  const showError = useApiError()
  const invalidate = useInvalidateTags()
  const [editing, setEditing] = useState(false)
  const [value, setValue] = useState(tag.name)
  const [error, setError] = useState<string | null>(null)
  const input = useRef<InputRef>(null)
  useEffect(() => {
    if (editing) input.current?.focus({ cursor: 'all' })
  }, [editing])

  const rename = useMutation({
    mutationFn: (name: string) => renameTag(tag.id, name),
    onSuccess: () => {
      setEditing(false)
      void message.success(t('tags.renamed'))
      invalidate()
    },
    onError: (e) => showError(e),
  })
  const remove = useMutation({
    mutationFn: () => deleteTag(tag.id),
    onSuccess: () => {
      void message.success(t('tags.deleted', { name: tag.name }))
      invalidate()
    },
    onError: (e) => showError(e),
  })

  const submit = () => {
    const name = value.trim()
    if (!name) return setError(t('tags.nameRequired'))
    if (name.length > 30) return setError(t('tags.nameTooLong'))
    if (name === tag.name) return setEditing(false)
    if (siblings.some((s) => s.id !== tag.id && s.name === name)) return setError(t('tags.duplicate'))
    rename.mutate(name)
  }

  if (editing) {
    return (
      <Tooltip open={!!error} title={error} color="red">
        <Input
          ref={input}
          size="small"
          value={value}
          maxLength={30}
          status={error ? 'error' : undefined}
          disabled={rename.isPending}
          onChange={(e) => {
            setValue(e.target.value)
            setError(null)
          }}
          onPressEnter={submit}
          onBlur={() => (rename.isPending ? undefined : submit())}
          onKeyDown={(e) => {
            if (e.key === 'Escape') {
              setValue(tag.name)
              setError(null)
              setEditing(false)
            }
          }}
          style={{ width: 120, marginInlineEnd: 8, marginBottom: 8 }}
          data-testid={`tag-rename-input-${tag.id}`}
        />
      </Tooltip>
    )
  }
  return (
    <Tag
      className="tag-chip"
      color={tagSyncing(tag) ? 'processing' : 'blue'}
      icon={tagSyncing(tag) ? <SyncOutlined spin data-testid={`tag-syncing-${tag.id}`} aria-label={t('tags.syncing')} /> : undefined}
      data-testid={`tag-${tag.id}`}
      data-name={tag.name}
      data-syncing={String(tagSyncing(tag))}
    >
      <Tooltip title={tagSyncing(tag) ? t('tags.syncingHint') : undefined}>
        <span>{tag.name}</span>
      </Tooltip>
      {manage ? (
        <>
          <EditOutlined
            style={{ marginInlineStart: 6, cursor: 'pointer' }}
            onClick={() => {
              setValue(tag.name)
              setEditing(true)
            }}
            aria-label={t('tags.rename')}
            data-testid={`tag-rename-${tag.id}`}
          />
          <Popconfirm
            title={t('tags.deleteConfirm', { name: tag.name })}
            description={<div style={{ maxWidth: 280 }}>{t('tags.deleteHint')}</div>}
            okText={t('common.delete')}
            okButtonProps={{ danger: true, ...tid('confirm-ok') }}
            onConfirm={() => remove.mutateAsync().catch(() => undefined)}
          >
            <CloseOutlined style={{ marginInlineStart: 6, cursor: 'pointer', fontSize: 10 }} aria-label={t('common.delete')} data-testid={`tag-delete-${tag.id}`} />
          </Popconfirm>
        </>
      ) : null}
    </Tag>
  )
}

function AddTag({ group }: { group: TagGroup }) {
  const { t } = useTranslation()
  const showError = useApiError()
  const invalidate = useInvalidateTags()
  const [open, setOpen] = useState(false)
  const [value, setValue] = useState('')
  const [error, setError] = useState<string | null>(null)
  const input = useRef<InputRef>(null)
  useEffect(() => {
    if (open) input.current?.focus()
  }, [open])
  const add = useMutation({
    mutationFn: (name: string) => addTag(group.id, name),
    onSuccess: () => {
      setValue('')
      setOpen(false)
      invalidate()
    },
    onError: (e) => showError(e),
  })
  const submit = () => {
    const name = value.trim()
    if (!name) return setOpen(false)
    if (name.length > 30) return setError(t('tags.nameTooLong'))
    if (group.tags.some((x) => x.name === name)) return setError(t('tags.duplicate'))
    add.mutate(name)
  }
  if (!open) {
    return (
      <Tag className="tag-chip" style={{ borderStyle: 'dashed', cursor: 'pointer', background: '#fff' }} onClick={() => setOpen(true)} data-testid={`tag-add-${group.id}`}>
        <PlusOutlined /> {t('tags.addTag')}
      </Tag>
    )
  }
  return (
    <Tooltip open={!!error} title={error} color="red">
      <Input
        ref={input}
        size="small"
        value={value}
        maxLength={30}
        placeholder={t('tags.tagName')}
        status={error ? 'error' : undefined}
        disabled={add.isPending}
        onChange={(e) => {
          setValue(e.target.value)
          setError(null)
        }}
        onPressEnter={submit}
        onBlur={() => (add.isPending ? undefined : submit())}
        onKeyDown={(e) => {
          if (e.key === 'Escape') {
            setValue('')
            setError(null)
            setOpen(false)
          }
        }}
        style={{ width: 120, marginBottom: 8 }}
        data-testid={`tag-add-input-${group.id}`}
      />
    </Tooltip>
  )
}

function CreateGroupModal({ defaultConnection, groups, onClose }: { defaultConnection?: number; groups: TagGroup[]; onClose: () => void }) {
  const { t } = useTranslation()
  const [form] = Form.useForm<TagGroupCreate>()
  const { message } = App.useApp()
  const showError = useApiError()
  const invalidate = useInvalidateTags()
  const { connections } = useConnectionOptions()
  // without the permission to list connections, offer the corps the existing groups belong to
  const fallbackIds = [...new Set(groups.map((g) => g.connection_id).filter((x): x is number => x != null))]
  const save = useMutation({
    mutationFn: (v: TagGroupCreate) =>
      createTagGroup({ connection_id: v.connection_id, name: v.name.trim(), tags: v.tags.map((x) => x.trim()).filter(Boolean) }),
    onSuccess: (g) => {
      void message.success(t('tags.groupCreated', { name: g.name }))
      invalidate()
      onClose()
    },
    onError: (e) => showError(e, form),
  })
  return (
    <Modal
      open
      title={t('tags.createGroup')}
      onCancel={onClose}
      onOk={() => form.submit()}
      okText={t('common.create')}
      confirmLoading={save.isPending}
      okButtonProps={tid('tag-group-form-submit')}
      destroyOnHidden
      maskClosable={false}
      data-testid="tag-group-form-modal"
    >
      <Typography.Paragraph type="secondary">{t('tags.createHint')}</Typography.Paragraph>
      <Form<TagGroupCreate> form={form} layout="vertical" initialValues={{ connection_id: defaultConnection ?? fallbackIds[0], tags: [] }} onFinish={(v) => save.mutate(v)}>
        <Form.Item name="connection_id" label={t('tags.connection')} rules={[{ required: true, message: t('tags.connectionRequired') }]}>
          {connections.length ? (
            <ConnectionSelect testId="tag-group-form-connection" placeholder={t('tags.connectionPlaceholder')} />
          ) : (
            <Select
              data-testid="tag-group-form-connection"
              options={fallbackIds.map((id) => ({ value: id, label: `#${id}` }))}
              placeholder={t('tags.connectionPlaceholder')}
            />
          )}
        </Form.Item>
        <Form.Item
          name="name"
          label={t('tags.groupName')}
          rules={[
            { required: true, whitespace: true, message: t('tags.groupNameRequired') },
            { max: 30, message: t('tags.nameTooLong') },
          ]}
        >
          <Input maxLength={30} placeholder={t('tags.groupNamePlaceholder')} data-testid="tag-group-form-name" />
        </Form.Item>
        <Form.Item
          name="tags"
          label={t('tags.tagsLabel')}
          extra={t('tags.tagsHelp')}
          rules={[
            { required: true, type: 'array', min: 1, message: t('tags.tagsRequired') },
            {
              validator: (_, v: string[] | undefined) =>
                (v ?? []).some((x) => x.trim().length > 30) ? Promise.reject(new Error(t('tags.nameTooLong'))) : Promise.resolve(),
            },
          ]}
        >
          <Select
            mode="tags"
            open={false}
            suffixIcon={null}
            tokenSeparators={[',', '，', '、', '\n']}
            placeholder={t('tags.tagsPlaceholder')}
            data-testid="tag-group-form-tags"
          />
        </Form.Item>
      </Form>
    </Modal>
  )
}
