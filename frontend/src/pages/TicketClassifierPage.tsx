import { ExperimentOutlined, ReloadOutlined } from '@ant-design/icons'
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query'
import { Alert, App, Button, Card, Col, Empty, Flex, Form, InputNumber, Progress, Row, Select, Space, Statistic, Table, Tag, Tooltip, Typography } from 'antd'
import type { TableColumnsType } from 'antd'
import { useEffect, useState } from 'react'
import { useTranslation } from 'react-i18next'
import {
  getClassifierSettings,
  getClassifierTraining,
  listClassifierModels,
  listClassifierTrainings,
  saveClassifierSettings,
  startClassifierTraining,
  type ClassifierModel,
  type ClassifierSettings,
  type ClassifierTraining,
  type ClassifierTrainingSource,
} from '../api/ticketClassify'
import { useAuth } from '../auth/AuthContext'
import { PERM } from '../auth/permissions'
import { JobStatusTag } from '../components/JobProgress'
import { PageHeader } from '../components/PageHeader'
import { ErrorState } from '../components/states'
import { MODELS_KEY, percent, SETTINGS_KEY, TRAININGS_KEY } from '../components/ticketClassify'
import { useApiError } from '../components/useApiError'
import { formatDateTime } from '../utils/format'

// 智能分类: train the classifier now (progress polled while the worker runs it), the model versions
// with their held-out accuracy beside the majority baseline, and the triage / urgency thresholds.

const POLL_MS = 1000
const ACTIVE = ['queued', 'running']

export default function TicketClassifierPage() {
  const { t } = useTranslation()
  const { can } = useAuth()
  const canManage = can(PERM.ticketsSettingsManage)
  const queryClient = useQueryClient()
  const models = useQuery({ queryKey: MODELS_KEY, queryFn: listClassifierModels })
  const trainings = useQuery({ queryKey: TRAININGS_KEY, queryFn: listClassifierTrainings })

  if (models.error && !models.data) return <ErrorState error={models.error} onRetry={() => void models.refetch()} />
  const latest = trainings.data?.[0]
  return (
    <>
      <PageHeader
        title={t('ticketClassify.classifier.title')}
        description={t('ticketClassify.classifier.subtitle')}
        extra={
          <Button icon={<ReloadOutlined spin={models.isFetching || trainings.isFetching} />} onClick={() => void queryClient.invalidateQueries({ queryKey: ['tickets', 'classify'] })}>
            {t('common.refresh')}
          </Button>
        }
      />
      {!canManage ? <Alert type="info" showIcon style={{ marginBottom: 16 }} message={t('ticketClassify.classifier.readOnly')} /> : null}
      <Row gutter={16}>
        <Col xs={24} lg={14}>
          <TrainCard latest={latest} canManage={canManage} />
        </Col>
        <Col xs={24} lg={10}>
          <SettingsCard canManage={canManage} />
        </Col>
      </Row>
      <Card title={t('ticketClassify.classifier.versions')} style={{ marginTop: 16 }}>
        <ModelsTable models={models.data ?? []} loading={models.isLoading} />
      </Card>
    </>
  )
}

function TrainCard({ latest, canManage }: { latest: ClassifierTraining | undefined; canManage: boolean }) {
  const { t } = useTranslation()
  const { message } = App.useApp()
  const showError = useApiError()
  const queryClient = useQueryClient()
  const [source, setSource] = useState<ClassifierTrainingSource>('tickets')
  const [watched, setWatched] = useState<number | undefined>(undefined)
  const trainingId = watched ?? latest?.id
  const training = useQuery({
    queryKey: [...TRAININGS_KEY, trainingId],
    queryFn: () => getClassifierTraining(trainingId as number),
    enabled: trainingId !== undefined,
    refetchInterval: (query) => (query.state.data && ACTIVE.includes(query.state.data.status) ? POLL_MS : false),
  })
  const current = training.data ?? latest
  const status = current?.status
  useEffect(() => {
    // A training that just finished brings a new model version: show it.
    if (status && !ACTIVE.includes(status)) void queryClient.invalidateQueries({ queryKey: MODELS_KEY })
  }, [status, queryClient])
  const start = useMutation({
    mutationFn: () => startClassifierTraining(source),
    onSuccess: (started) => {
      void message.success(t('ticketClassify.classifier.started'))
      setWatched(started.id)
      queryClient.setQueryData([...TRAININGS_KEY, started.id], started)
      void queryClient.invalidateQueries({ queryKey: TRAININGS_KEY, exact: true })
    },
    onError: (err) => showError(err),
  })
  const running = !!current && ACTIVE.includes(current.status)
  return (
    <Card
      title={
        <Space>
          <ExperimentOutlined />
          {t('ticketClassify.classifier.current')}
        </Space>
      }
      style={{ height: '100%' }}
    >
      {canManage ? (
        <Flex gap={8} wrap style={{ marginBottom: 16 }}>
          <Select
            value={source}
            onChange={setSource}
            style={{ minWidth: 300 }}
            options={[
              { value: 'tickets', label: t('ticketClassify.classifier.sourceTickets') },
              { value: 'seed', label: t('ticketClassify.classifier.sourceSeed') },
            ]}
            aria-label={t('ticketClassify.classifier.source')}
            data-testid="training-source"
          />
          <Button type="primary" loading={start.isPending} disabled={running} onClick={() => start.mutate()} data-testid="training-start">
            {t('ticketClassify.classifier.train')}
          </Button>
        </Flex>
      ) : null}
      {current ? (
        <div data-testid="training-current" data-status={current.status} data-training-id={current.id}>
          <Flex gap={8} align="center" style={{ marginBottom: 8 }}>
            <JobStatusTag status={current.status} testId="training-status" />
            <Typography.Text type="secondary">
              #{current.id} · {current.source === 'seed' ? t('ticketClassify.classifier.sourceSeed') : t('ticketClassify.classifier.sourceTickets')} · {formatDateTime(current.created_at)}
            </Typography.Text>
          </Flex>
          <Progress
            percent={current.percent ?? 0}
            status={current.status === 'failed' ? 'exception' : current.status === 'succeeded' ? 'success' : 'active'}
            data-testid="training-progress"
          />
          {current.message && current.status !== 'failed' ? <Typography.Text type="secondary">{current.message}</Typography.Text> : null}
          {current.status === 'failed' ? (
            <Alert type="error" showIcon message={t('ticketClassify.classifier.failed', { reason: current.message ?? current.error ?? '' })} data-testid="training-failed" />
          ) : null}
          {current.status === 'succeeded' && current.model ? (
            <Alert
              type="success"
              showIcon
              style={{ marginTop: 8 }}
              message={t('ticketClassify.classifier.trainedVersion', { version: current.model.version, accuracy: percent(current.model.accuracy) })}
              data-testid="training-succeeded"
            />
          ) : null}
        </div>
      ) : (
        <Empty description={t('ticketClassify.classifier.noTraining')} />
      )}
    </Card>
  )
}

function SettingsCard({ canManage }: { canManage: boolean }) {
  const { t } = useTranslation()
  const { message } = App.useApp()
  const showError = useApiError()
  const queryClient = useQueryClient()
  const settings = useQuery({ queryKey: SETTINGS_KEY, queryFn: getClassifierSettings })
  const [form] = Form.useForm<ClassifierSettings>()
  useEffect(() => {
    if (settings.data) form.setFieldsValue(settings.data)
  }, [settings.data, form])
  const save = useMutation({
    mutationFn: saveClassifierSettings,
    onSuccess: (saved) => {
      void message.success(t('ticketClassify.classifier.settingsSaved'))
      queryClient.setQueryData(SETTINGS_KEY, saved)
    },
    onError: (err) => showError(err, form),
  })
  return (
    <Card title={t('ticketClassify.classifier.settings')} style={{ height: '100%' }}>
      <Form form={form} layout="vertical" disabled={!canManage} onFinish={(values) => save.mutate(values)} data-testid="classifier-settings">
        <Form.Item name="triage_threshold" label={t('ticketClassify.classifier.triageThreshold')} extra={t('ticketClassify.classifier.triageHelp')} rules={[{ required: true }]}>
          <InputNumber min={0} max={1} step={0.05} data-testid="triage-threshold" />
        </Form.Item>
        <Form.Item name="urgency_threshold" label={t('ticketClassify.classifier.urgencyThreshold')} extra={t('ticketClassify.classifier.urgencyHelp')} rules={[{ required: true }]}>
          <InputNumber min={0.5} max={1} step={0.05} />
        </Form.Item>
        {canManage ? (
          <Button htmlType="submit" loading={save.isPending} data-testid="settings-save">
            {t('ticketClassify.classifier.saveSettings')}
          </Button>
        ) : null}
      </Form>
    </Card>
  )
}

function ModelsTable({ models, loading }: { models: ClassifierModel[]; loading: boolean }) {
  const { t } = useTranslation()
  const active = models.find((m) => m.active)
  const columns: TableColumnsType<ClassifierModel> = [
    {
      title: t('ticketClassify.classifier.version'),
      render: (_, m) => (
        <Space data-testid={`model-version-${m.version}`}>
          <b>v{m.version}</b>
          {m.active ? <Tag color="green">{t('ticketClassify.classifier.active')}</Tag> : null}
        </Space>
      ),
    },
    { title: t('ticketClassify.classifier.sourceCol'), render: (_, m) => (m.source === 'seed' ? t('ticketClassify.classifier.sourceSeed') : t('ticketClassify.classifier.sourceTickets')) },
    { title: t('ticketClassify.classifier.samples'), dataIndex: 'sample_count' },
    { title: t('ticketClassify.classifier.heldOut'), dataIndex: 'held_out_count' },
    { title: t('ticketClassify.classifier.accuracy'), render: (_, m) => <b data-testid={`model-accuracy-${m.version}`}>{percent(m.accuracy)}</b> },
    { title: t('ticketClassify.classifier.macroF1'), render: (_, m) => percent(m.macro_f1) },
    { title: t('ticketClassify.classifier.baseline'), render: (_, m) => <span data-testid={`model-baseline-${m.version}`}>{percent(m.baseline_accuracy)}</span> },
    { title: t('ticketClassify.classifier.urgencyAccuracy'), render: (_, m) => percent(m.urgency_accuracy) },
    {
      title: t('ticketClassify.classifier.labels'),
      render: (_, m) => (
        <Tooltip title={m.labels.join('、')}>
          <span>{m.labels.length}</span>
        </Tooltip>
      ),
    },
    { title: t('ticketClassify.classifier.seconds'), render: (_, m) => `${m.training_seconds.toFixed(1)} s` },
    { title: t('ticketClassify.classifier.trainedAt'), render: (_, m) => formatDateTime(m.trained_at) },
  ]
  return (
    <>
      {active ? (
        <Row gutter={16} style={{ marginBottom: 16 }}>
          <Col span={6}>
            <Statistic title={t('ticketClassify.classifier.accuracy')} value={percent(active.accuracy)} />
          </Col>
          <Col span={6}>
            <Statistic title={t('ticketClassify.classifier.baseline')} value={percent(active.baseline_accuracy)} />
          </Col>
          <Col span={6}>
            <Statistic title={t('ticketClassify.classifier.macroF1')} value={percent(active.macro_f1)} />
          </Col>
          <Col span={6}>
            <Statistic title={t('ticketClassify.classifier.urgencyAccuracy')} value={percent(active.urgency_accuracy)} />
          </Col>
        </Row>
      ) : null}
      <Table
        rowKey="id"
        size="middle"
        loading={loading}
        columns={columns}
        dataSource={models}
        pagination={false}
        scroll={{ x: true }}
        locale={{ emptyText: <Empty description={t('ticketClassify.classifier.empty')} /> }}
        data-testid="models-table"
      />
    </>
  )
}
