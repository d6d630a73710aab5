import { CheckCircleFilled, CloseCircleFilled, StopOutlined } from '@ant-design/icons'
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query'
import { Alert, App, Button, Descriptions, Flex, Popconfirm, Progress, Space, Tag, Typography } from 'antd'
import { useEffect, useRef } from 'react'
import { useTranslation } from 'react-i18next'
import { cancelJob, getJob, JOB_ACTIVE, type Job } from '../api'
import { useAuth } from '../auth/AuthContext'
import { PERM } from '../auth/permissions'
import { formatDateTime } from '../utils/format'
import { tid } from '../utils/testid'
import { useApiError } from './useApiError'

const POLL_MS = 1000

const STATUS_COLOR: Record<string, string> = {
  queued: 'default',
  running: 'processing',
  succeeded: 'success',
  failed: 'error',
  cancelled: 'warning',
}

export function isJobActive(job: Pick<Job, 'status'> | undefined): boolean {
  return !!job && JOB_ACTIVE.includes(job.status)
}

export function JobStatusTag({ status, testId }: { status: string; testId?: string }) {
  const { t } = useTranslation()
  return (
    <Tag color={STATUS_COLOR[status] ?? 'default'} data-testid={testId} data-status={status}>
      {t(`jobs.status.${status}`, { defaultValue: status })}
    </Tag>
  )
}

/** The job's title in the console's language when its kind is known, else the server's. */
export function useJobTitle() {
  const { t, i18n } = useTranslation()
  return (job: Pick<Job, 'kind' | 'title'>) => (i18n.exists(`jobs.kinds.${job.kind}`) ? t(`jobs.kinds.${job.kind}`) : job.title)
}

/** Seconds between two instants, "12.3 s" / "2 min 5 s". */
function duration(from?: string | null, to?: string | null): string | null {
  if (!from) return null
  const ms = (to ? new Date(to).getTime() : Date.now()) - new Date(from).getTime()
  if (!(ms >= 0)) return null
  const s = ms / 1000
  if (s < 60) return `${s.toFixed(1)} s`
  return `${Math.floor(s / 60)} min ${Math.round(s % 60)} s`
}

/** A job, read again every second while it is queued or running. */
export function useJob(jobId: number | undefined, initial?: Job) {
  return useQuery({
    queryKey: ['job', jobId],
    queryFn: () => getJob(jobId as number),
    enabled: jobId !== undefined,
    initialData: initial && initial.id === jobId ? initial : undefined,
    // always read it once: `initial` is a list row or the 202 answer, possibly stale
    initialDataUpdatedAt: 0,
    refetchInterval: (q) => (isJobActive(q.state.data) || !q.state.data ? POLL_MS : false),
    refetchIntervalInBackground: true,
  })
}

/**
 * One job, polled every second while queued or running: a progress bar (indeterminate without a total),
 * its message, then the result or the error. `onSettled` runs once when it stops.
 */
export function JobProgress({ jobId, initial, onSettled }: { jobId: number; initial?: Job; onSettled?: (job: Job) => void }) {
  const { t } = useTranslation()
  const { can } = useAuth()
  const { message } = App.useApp()
  const showError = useApiError()
  const queryClient = useQueryClient()
  const job = useJob(jobId, initial)
  const jobTitle = useJobTitle()
  const settledRef = useRef<number | null>(null)
  const j = job.data
  useEffect(() => {
    if (j && !isJobActive(j) && settledRef.current !== j.id) {
      settledRef.current = j.id
      onSettled?.(j)
    }
  }, [j, onSettled])

  const cancel = useMutation({
    mutationFn: () => cancelJob(jobId),
    onSuccess: (data) => {
      queryClient.setQueryData(['job', jobId], data)
      void message.info(t('jobs.cancelRequested'))
    },
    onError: (e) => showError(e),
  })

  if (!j) {
    return job.error ? <Alert type="error" showIcon message={t('errors.loadFailed')} data-testid="job-error" /> : null
  }
  const active = isJobActive(j)
  const percent = j.percent ?? null
  const indeterminate = active && percent === null
  const progressStatus = j.status === 'failed' ? 'exception' : j.status === 'succeeded' ? 'success' : active ? 'active' : 'normal'
  const took = duration(j.started_at, j.finished_at)

  return (
    <div data-testid="job-panel" data-job-id={j.id} data-status={j.status}>
      <Flex justify="space-between" align="center" wrap gap={8} style={{ marginBottom: 8 }}>
        <Space wrap>
          <Typography.Text strong data-testid="job-title">
            {jobTitle(j)}
          </Typography.Text>
          <JobStatusTag status={j.status} testId="job-status" />
          {took ? <Typography.Text type="secondary">{t('jobs.took', { duration: took })}</Typography.Text> : null}
        </Space>
        {active && can(PERM.systemManage) ? (
          <Popconfirm
            title={t('jobs.cancelConfirm')}
            description={t('jobs.cancelHint')}
            okText={t('jobs.cancel')}
            okButtonProps={{ danger: true, ...tid('confirm-ok') }}
            onConfirm={() => cancel.mutateAsync().catch(() => undefined)}
          >
            <Button size="small" icon={<StopOutlined />} loading={cancel.isPending} data-testid="job-cancel">
              {t('jobs.cancel')}
            </Button>
          </Popconfirm>
        ) : null}
      </Flex>
      <div data-testid="job-progress" data-percent={percent ?? ''} data-status={j.status} data-indeterminate={indeterminate ? 'true' : 'false'}>
        <Progress
          percent={indeterminate ? 100 : (percent ?? (j.status === 'succeeded' ? 100 : 0))}
          status={progressStatus}
          showInfo={!indeterminate}
          strokeColor={indeterminate ? { from: '#91caff', to: '#1677ff' } : undefined}
        />
      </div>
      <Typography.Text type="secondary" data-testid="job-message">
        {indeterminate && !j.message
          ? j.status === 'queued'
            ? t('jobs.queued')
            : t('jobs.working')
          : j.message}
        {j.progress_total ? (
          <span style={{ marginLeft: 8 }} data-testid="job-counts">
            ({j.progress_done}/{j.progress_total})
          </span>
        ) : j.progress_done ? (
          <span style={{ marginLeft: 8 }}>({j.progress_done})</span>
        ) : null}
      </Typography.Text>
      {j.status === 'succeeded' && j.result && Object.keys(j.result).length ? (
        <Descriptions
          size="small"
          column={{ xs: 1, sm: 2, md: 4 }}
          style={{ marginTop: 12 }}
          data-testid="job-result"
          title={
            <Space>
              <CheckCircleFilled style={{ color: '#52c41a' }} />
              {t('jobs.result')}
            </Space>
          }
          items={Object.entries(j.result).map(([k, v]) => ({
            key: k,
            label: t(`jobs.resultKeys.${k}`, { defaultValue: k }),
            children: typeof v === 'object' ? JSON.stringify(v) : String(v),
          }))}
        />
      ) : null}
      {j.status === 'failed' ? (
        <Alert
          type="error"
          showIcon
          icon={<CloseCircleFilled />}
          style={{ marginTop: 12 }}
          message={t('jobs.failed')}
          description={<span style={{ whiteSpace: 'pre-wrap' }}>{j.error || t('errors.generic')}</span>}
          data-testid="job-error"
        />
      ) : null}
      {j.status === 'cancelled' ? (
        <Alert type="warning" showIcon style={{ marginTop: 12 }} message={t('jobs.cancelledHint')} data-testid="job-cancelled" />
      ) : null}
      <Typography.Paragraph type="secondary" style={{ fontSize: 12, margin: '8px 0 0' }}>
        {t('jobs.startedBy', { who: j.created_by || '—', time: formatDateTime(j.created_at) })}
      </Typography.Paragraph>
    </div>
  )
}
