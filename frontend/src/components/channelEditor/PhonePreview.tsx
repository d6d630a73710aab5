import { ClockCircleOutlined, LeftOutlined, LinkOutlined, PictureOutlined, UserOutlined } from '@ant-design/icons'
import { Avatar, Button, DatePicker, Flex, Space, Tag, Tooltip, Typography } from 'antd'
import type { Dayjs } from 'dayjs'
import { useState } from 'react'
import { useTranslation } from 'react-i18next'
import type { Welcome } from '../../api'
import { chooseWelcome, nowInZone, renderTemplate } from '../../utils/schedule'

type Attachment = Record<string, unknown>

function str(v: unknown): string {
  return typeof v === 'string' ? v : ''
}

function AttachmentBubble({ a, index }: { a: Attachment; index: number }) {
  const { t } = useTranslation()
  const kind = str(a.msgtype)
  const body = (a[kind] ?? {}) as Record<string, unknown>
  if (kind === 'image') {
    const url = str(body.pic_url)
    return (
      <div className="wx-bubble wx-image" data-testid={`phone-preview-attachment-${index}`} data-kind="image">
        {url ? <img src={url} alt="" onError={(e) => (e.currentTarget.style.display = 'none')} /> : null}
        <span className="wx-image-placeholder">
          <PictureOutlined /> {url ? '' : t('channels.welcome.imageMedia')}
        </span>
      </div>
    )
  }
  if (kind === 'link') {
    return (
      <div className="wx-bubble wx-card" data-testid={`phone-preview-attachment-${index}`} data-kind="link">
        <div className="wx-card-title">{str(body.title) || t('channels.welcome.linkUntitled')}</div>
        <Flex gap={8} justify="space-between">
          <div className="wx-card-desc">{str(body.desc) || str(body.url)}</div>
          <span className="wx-card-thumb">
            {str(body.picurl) ? <img src={str(body.picurl)} alt="" onError={(e) => (e.currentTarget.style.display = 'none')} /> : null}
            <LinkOutlined />
          </span>
        </Flex>
      </div>
    )
  }
  if (kind === 'miniprogram') {
    return (
      <div className="wx-bubble wx-card wx-mini" data-testid={`phone-preview-attachment-${index}`} data-kind="miniprogram">
        <div className="wx-mini-app">
          <span className="wx-mini-dot" /> {t('channels.welcome.miniprogram')}
        </div>
        <div className="wx-card-title">{str(body.title) || t('channels.welcome.linkUntitled')}</div>
        <div className="wx-mini-cover">
          <PictureOutlined />
        </div>
        <div className="wx-mini-foot">{t('channels.welcome.miniprogramFoot')}</div>
      </div>
    )
  }
  return null
}

/**
 * The welcome as the customer's WeChat shows it: the staff member's chat with the text (placeholders
 * filled with sample values) and the attachments, for the variant that applies at the chosen time.
 */
export function PhonePreview({
  welcome,
  channelName,
  staffName,
  corpName,
  timezone,
}: {
  welcome: Partial<Welcome> | undefined
  channelName: string
  staffName: string
  corpName?: string
  timezone: string
}) {
  const { t } = useTranslation()
  const [at, setAt] = useState<Dayjs | null>(null)
  const local = at ?? nowInZone(timezone)
  const chosen = chooseWelcome(welcome, local)
  const values = {
    customer_name: t('channels.preview.sampleCustomer'),
    staff_name: staffName || t('channels.preview.sampleStaff'),
    channel_name: channelName || t('channels.preview.sampleChannel'),
  }
  const text = renderTemplate(chosen.text ?? '', values)
  const enabled = welcome?.enabled !== false
  const empty = !text.trim() && !chosen.attachments.length

  return (
    <div data-testid="phone-preview" data-variant={chosen.name ?? ''} data-variant-index={chosen.index}>
      <Space direction="vertical" size={8} style={{ width: '100%', marginBottom: 12 }}>
        <Flex gap={8} align="center" wrap>
          <Typography.Text type="secondary">
            <ClockCircleOutlined /> {t('channels.preview.at', { tz: timezone })}
          </Typography.Text>
          <DatePicker
            showTime={{ format: 'HH:mm' }}
            format="YYYY-MM-DD HH:mm"
            value={at}
            placeholder={t('channels.preview.now')}
            onChange={(v) => setAt(v)}
            needConfirm={false}
            style={{ width: 180 }}
            data-testid="phone-preview-time"
          />
          {at ? (
            <Button size="small" type="link" onClick={() => setAt(null)} data-testid="phone-preview-now">
              {t('channels.preview.backToNow')}
            </Button>
          ) : null}
        </Flex>
        <div>
          {t('channels.preview.applies')}{' '}
          {chosen.name ? (
            <Tag color="orange" data-testid="phone-preview-variant">
              {chosen.name}
            </Tag>
          ) : (
            <Tag data-testid="phone-preview-variant">{t('channels.preview.default')}</Tag>
          )}
        </div>
      </Space>
      <div className="phone">
        <div className="phone-notch" />
        <div className="phone-screen">
          <div className="wx-status">
            <span>{local.format('HH:mm')}</span>
            <span>●●● ▮</span>
          </div>
          <div className="wx-header">
            <LeftOutlined />
            <span className="wx-title">
              {values.staff_name}
              {corpName ? <span className="wx-corp">@{corpName}</span> : null}
            </span>
            <span>···</span>
          </div>
          <div className="wx-chat">
            <div className="wx-system">{t('channels.preview.added', { name: values.staff_name })}</div>
            <div className="wx-time">{local.format('HH:mm')}</div>
            {!enabled ? (
              <div className="wx-system" data-testid="phone-preview-disabled">
                {t('channels.preview.disabled')}
              </div>
            ) : empty ? (
              <div className="wx-system" data-testid="phone-preview-empty">
                {t('channels.preview.empty')}
              </div>
            ) : (
              <>
                {text.trim() ? (
                  <Flex gap={8} align="flex-start" className="wx-msg">
                    <Avatar shape="square" size={34} icon={<UserOutlined />} style={{ background: '#1677ff', flex: 'none' }} />
                    <div className="wx-bubble" data-testid="phone-preview-text">
                      {text}
                    </div>
                  </Flex>
                ) : null}
                {chosen.attachments.map((a, i) => (
                  <Flex key={i} gap={8} align="flex-start" className="wx-msg">
                    <Avatar shape="square" size={34} icon={<UserOutlined />} style={{ background: '#1677ff', flex: 'none' }} />
                    <AttachmentBubble a={a} index={i} />
                  </Flex>
                ))}
              </>
            )}
          </div>
          <div className="wx-input">
            <span className="wx-input-box" />
            <Tooltip title={t('channels.preview.sampleHint')}>
              <span className="wx-input-plus">⊕</span>
            </Tooltip>
          </div>
        </div>
      </div>
      <Typography.Paragraph type="secondary" style={{ fontSize: 12, marginTop: 8 }}>
        {t('channels.preview.sampleHint')}
      </Typography.Paragraph>
    </div>
  )
}
