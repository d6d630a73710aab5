import { CheckOutlined, CopyOutlined } from '@ant-design/icons'
import { App, Button, Flex, Tooltip, Typography } from 'antd'
import { useState } from 'react'
import { useTranslation } from 'react-i18next'
import { copyText } from '../utils/clipboard'

/** A value to paste elsewhere (callback URL, token, key), with a copy button (`{testId}-copy`). */
export function CopyField({ value, testId }: { value: string | null | undefined; testId: string }) {
  const { t } = useTranslation()
  const { message } = App.useApp()
  const [done, setDone] = useState(false)
  if (!value) {
    return (
      <Typography.Text type="secondary" data-testid={testId} data-value="">
        —
      </Typography.Text>
    )
  }
  const onCopy = async () => {
    if (await copyText(value)) {
      setDone(true)
      void message.success(t('common.copied'))
      window.setTimeout(() => setDone(false), 1500)
    } else {
      void message.error(t('common.copyFailed'))
    }
  }
  return (
    <Flex align="center" gap={8} style={{ minWidth: 0 }}>
      <Typography.Text code className="copy-value" data-testid={testId} data-value={value}>
        {value}
      </Typography.Text>
      <Tooltip title={done ? t('common.copied') : t('common.copy')}>
        <Button
          size="small"
          type="text"
          icon={done ? <CheckOutlined style={{ color: '#52c41a' }} /> : <CopyOutlined />}
          onClick={() => void onCopy()}
          aria-label={t('common.copy')}
          data-testid={`${testId}-copy`}
        />
      </Tooltip>
    </Flex>
  )
}
