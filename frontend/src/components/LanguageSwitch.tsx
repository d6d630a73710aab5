import { GlobalOutlined } from '@ant-design/icons'
import { Button } from 'antd'
import { useTranslation } from 'react-i18next'
import { setLang } from '../i18n'

/** One button: shows the other language and switches to it. The choice is remembered. */
export function LanguageSwitch() {
  const { t, i18n } = useTranslation()
  const current = i18n.language === 'en' ? 'en' : 'zh-CN'
  return (
    <Button
      type="text"
      icon={<GlobalOutlined />}
      data-testid="lang-switch"
      data-lang={current}
      aria-label={t('lang.label')}
      onClick={() => setLang(current === 'en' ? 'zh-CN' : 'en')}
    >
      {t('lang.switchTo')}
    </Button>
  )
}
