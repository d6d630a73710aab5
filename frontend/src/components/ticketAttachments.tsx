// 工单详情 › 附件: the ticket's files (name, size, type, who uploaded them, when), upload with the
// server's refusals in words (413 too big, 415 a type not allowed, 422 the name disagrees with the
// content), and download or preview. The download needs the bearer token, so the file is fetched as a
// blob and handed to the browser from memory.
import { DownloadOutlined, EyeOutlined, UploadOutlined } from '@ant-design/icons'
import { useMutation, useQueryClient } from '@tanstack/react-query'
import { Alert, App, Button, Empty, Flex, Modal, Space, Table, Typography, Upload } from 'antd'
import { useEffect, useState } from 'react'
import { useTranslation } from 'react-i18next'
import { ApiError, type TicketDetail } from '../api'
import { downloadAttachment, uploadAttachment, type TicketAttachment } from '../api/ticketExtras'
import { formatDateTime } from '../utils/format'
import { tid } from '../utils/testid'
import { TICKETS_KEY } from './ticketParts'
import type { T } from './tickets'
import { errorText } from './useApiError'

const PREVIEWABLE = ['image/png', 'image/jpeg', 'image/gif', 'image/webp']

/** "12 B", "3.4 KB", "1.2 MB". */
export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KB`
  return `${(n / 1024 / 1024).toFixed(1)} MB`
}

/** An upload's refusal in the console's language. */
export function uploadErrorText(err: unknown, t: T): string {
  if (!(err instanceof ApiError)) return errorText(err, t)
  if (err.status === 413) {
    const limit = /over the (\d+)-byte limit/.exec(err.detail)
    return limit ? t('ticketExtras.attachments.tooLarge', { limit: formatBytes(Number(limit[1])) }) : t('ticketExtras.attachments.tooLargeAny')
  }
  if (err.status === 415) return t('ticketExtras.attachments.unsupported')
  if (err.status === 422) {
    const raw = Array.isArray(err.body.errors) ? (err.body.errors as Record<string, unknown>[]) : []
    const mismatch = raw.find((e) => typeof e.detected === 'string')
    if (mismatch) return t('ticketExtras.attachments.mismatch', { declared: String(mismatch.declared ?? '—'), detected: String(mismatch.detected) })
    if (raw.some((e) => e.message === 'empty')) return t('ticketExtras.attachments.empty')
  }
  if (err.status === 409) return t('ticketExtras.attachments.closed')
  return errorText(err, t)
}

/** Hands a blob to the browser as a download named `filename`. */
function saveBlob(blob: Blob, filename: string): void {
  const url = URL.createObjectURL(blob)
  const link = document.createElement('a')
  link.href = url
  link.download = filename
  link.style.display = 'none'
  document.body.appendChild(link)
  link.click()
  link.remove()
  window.setTimeout(() => URL.revokeObjectURL(url), 60_000)
}

export function AttachmentsCard({ ticket, canEdit }: { ticket: TicketDetail; canEdit: boolean }) {
  const { t } = useTranslation()
  const { message } = App.useApp()
  const queryClient = useQueryClient()
  const [failure, setFailure] = useState<string | null>(null)
  const [preview, setPreview] = useState<{ name: string; url: string } | null>(null)
  const files = (ticket.attachments ?? []) as TicketAttachment[]
  useEffect(() => () => (preview ? URL.revokeObjectURL(preview.url) : undefined), [preview])

  const upload = useMutation({
    mutationFn: (file: File) => uploadAttachment(ticket.id, file),
    onMutate: () => setFailure(null),
    onSuccess: (added) => {
      void message.success(t('ticketExtras.attachments.uploaded', { name: added.filename }))
      void queryClient.invalidateQueries({ queryKey: TICKETS_KEY })
    },
    onError: (err) => {
      const text = uploadErrorText(err, t)
      setFailure(text)
      void message.error({ content: text, key: 'api-error', className: 'api-error-message' })
    },
  })
  const fetchFile = useMutation({
    mutationFn: async (v: { file: TicketAttachment; view: boolean }) => ({ ...v, blob: await downloadAttachment(ticket.id, v.file.id) }),
    onSuccess: ({ file, view, blob }) => {
      if (view) setPreview({ name: file.filename, url: URL.createObjectURL(blob) })
      else saveBlob(blob, file.filename)
    },
    onError: (err) => void message.error({ content: errorText(err, t), key: 'api-error', className: 'api-error-message' }),
  })

  return (
    <Flex vertical gap={8} data-testid="ticket-attachments" data-count={files.length}>
      {canEdit && ticket.status !== 'closed' ? (
        <Flex justify="space-between" align="center" wrap gap={8}>
          <Typography.Text type="secondary">{t('ticketExtras.attachments.help')}</Typography.Text>
          <Upload
            showUploadList={false}
            multiple={false}
            customRequest={({ file, onSuccess, onError }) => {
              upload.mutate(file as File, {
                onSuccess: (added) => onSuccess?.(added),
                onError: (err) => onError?.(err as Error),
              })
            }}
          >
            <Button icon={<UploadOutlined />} loading={upload.isPending} data-testid="attachment-upload">
              {t('ticketExtras.attachments.upload')}
            </Button>
          </Upload>
        </Flex>
      ) : null}
      {failure ? <Alert type="error" showIcon closable onClose={() => setFailure(null)} message={failure} data-testid="attachment-error" /> : null}
      {files.length ? (
        <Table<TicketAttachment>
          size="small"
          rowKey="id"
          pagination={false}
          dataSource={files}
          scroll={{ x: 'max-content' }}
          onRow={(file) => tid(`attachment-${file.id}`)}
          columns={[
            {
              key: 'name',
              title: t('ticketExtras.attachments.name'),
              render: (_, file) => (
                <Typography.Link onClick={() => fetchFile.mutate({ file, view: false })} data-testid={`attachment-name-${file.id}`}>
                  {file.filename}
                </Typography.Link>
              ),
            },
            { key: 'size', title: t('ticketExtras.attachments.size'), render: (_, file) => formatBytes(file.size) },
            { key: 'type', title: t('ticketExtras.attachments.type'), dataIndex: 'content_type' },
            { key: 'by', title: t('ticketExtras.attachments.by'), dataIndex: 'uploaded_by' },
            { key: 'at', title: t('ticketExtras.attachments.at'), render: (_, file) => formatDateTime(file.created_at) },
            {
              key: 'actions',
              title: '',
              render: (_, file) => (
                <Space size={4}>
                  {PREVIEWABLE.includes(file.content_type) ? (
                    <Button
                      size="small"
                      type="text"
                      icon={<EyeOutlined />}
                      aria-label={t('ticketExtras.attachments.preview')}
                      onClick={() => fetchFile.mutate({ file, view: true })}
                      data-testid={`attachment-preview-${file.id}`}
                    />
                  ) : null}
                  <Button
                    size="small"
                    type="text"
                    icon={<DownloadOutlined />}
                    aria-label={t('ticketExtras.attachments.download')}
                    onClick={() => fetchFile.mutate({ file, view: false })}
                    data-testid={`attachment-download-${file.id}`}
                  />
                </Space>
              ),
            },
          ]}
        />
      ) : (
        <Empty image={Empty.PRESENTED_IMAGE_SIMPLE} description={t('ticketExtras.attachments.none')} data-testid="attachments-empty" />
      )}
      <Modal open={!!preview} title={preview?.name} footer={null} onCancel={() => setPreview(null)} width={720} destroyOnHidden data-testid="attachment-preview-modal">
        {preview ? <img src={preview.url} alt={preview.name} style={{ maxWidth: '100%' }} data-testid="attachment-preview-image" /> : null}
      </Modal>
    </Flex>
  )
}
