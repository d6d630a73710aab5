import { EditOutlined, LinkOutlined, PlusOutlined, StopOutlined, UnorderedListOutlined } from '@ant-design/icons'
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query'
import { App, Button, Card, Popconfirm, Space, Table, Tag, Typography } from 'antd'
import type { TableColumnsType } from 'antd'
import { useTranslation } from 'react-i18next'
import { Link } from 'react-router-dom'
import { archiveForm, listForms, type FormSummary } from '../api'
import { useAuth } from '../auth/AuthContext'
import { PERM } from '../auth/permissions'
import { PageHeader } from '../components/PageHeader'
import { ErrorState } from '../components/states'
import { useApiError } from '../components/useApiError'
import { formatDateTime } from '../utils/format'

// 表单: the tenant's forms (public forms and ticket types' fields), with their current version.

export default function FormsPage() {
  const { t } = useTranslation()
  const { message } = App.useApp()
  const showError = useApiError()
  const { can } = useAuth()
  const canManage = can(PERM.formsManage)
  const queryClient = useQueryClient()
  const forms = useQuery({ queryKey: ['forms', 'list'], queryFn: () => listForms() })
  const archive = useMutation({
    mutationFn: archiveForm,
    onSuccess: () => {
      void message.success(t('forms.list.archived'))
      void queryClient.invalidateQueries({ queryKey: ['forms'] })
    },
    onError: (err) => showError(err),
  })
  if (forms.error && !forms.data) return <ErrorState error={forms.error} onRetry={() => void forms.refetch()} />

  const columns: TableColumnsType<FormSummary> = [
    {
      title: t('forms.list.name'),
      dataIndex: 'name',
      render: (name: string, form) => (
        <Link to={`/forms/${form.id}`} data-testid={`form-row-link-${form.id}`}>
          {name}
        </Link>
      ),
    },
    {
      title: t('forms.list.kind'),
      dataIndex: 'kind',
      render: (kind: FormSummary['kind'], form) => (
        <Space>
          <Tag color={kind === 'public' ? 'green' : 'purple'}>{t(`forms.kind.${kind}`)}</Tag>
          {form.ticket_type ? <Typography.Text code>{form.ticket_type}</Typography.Text> : null}
        </Space>
      ),
    },
    { title: t('forms.list.version'), dataIndex: 'current_version', width: 90, render: (v: number) => `v${v}` },
    {
      title: t('forms.list.status'),
      dataIndex: 'is_active',
      width: 100,
      render: (active: boolean) => <Tag color={active ? 'blue' : 'default'}>{t(active ? 'forms.list.active' : 'forms.list.inactive')}</Tag>,
    },
    { title: t('forms.list.updated'), dataIndex: 'updated_at', render: (v: string) => formatDateTime(v) },
    {
      title: '',
      key: 'actions',
      render: (_, form) => (
        <Space wrap>
          <Link to={`/forms/${form.id}`}>
            <Button size="small" icon={<EditOutlined />}>
              {t('forms.list.edit')}
            </Button>
          </Link>
          <Link to={`/forms/${form.id}/submissions`}>
            <Button size="small" icon={<UnorderedListOutlined />} data-testid={`form-submissions-${form.id}`}>
              {t('forms.list.submissions')}
            </Button>
          </Link>
          {form.public_key && form.is_active ? (
            <Button
              size="small"
              icon={<LinkOutlined />}
              onClick={() => {
                void navigator.clipboard?.writeText(`${window.location.origin}/f/${form.public_key}`)
                void message.success(t('forms.list.copied'))
              }}
            >
              {t('forms.list.publicLink')}
            </Button>
          ) : null}
          {canManage && form.is_active ? (
            <Popconfirm title={t('forms.list.archiveConfirm')} onConfirm={() => archive.mutate(form.id)}>
              <Button size="small" danger icon={<StopOutlined />}>
                {t('forms.list.archive')}
              </Button>
            </Popconfirm>
          ) : null}
        </Space>
      ),
    },
  ]
  return (
    <div data-testid="forms-page">
      <PageHeader
        title={t('forms.list.title')}
        description={t('forms.list.subtitle')}
        extra={
          canManage ? (
            <Link to="/forms/new">
              <Button type="primary" icon={<PlusOutlined />} data-testid="form-create">
                {t('forms.list.create')}
              </Button>
            </Link>
          ) : null
        }
      />
      <Card>
        <Table rowKey="id" loading={forms.isLoading} columns={columns} dataSource={forms.data ?? []} pagination={false} locale={{ emptyText: t('forms.list.empty') }} data-testid="forms-table" />
      </Card>
    </div>
  )
}
