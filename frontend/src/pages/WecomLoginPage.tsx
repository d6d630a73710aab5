import { Button, Result, Spin } from 'antd'
import { useEffect, useRef, useState } from 'react'
import { useTranslation } from 'react-i18next'
import { Link, useNavigate } from 'react-router-dom'
import { useAuth } from '../auth/AuthContext'
import { LanguageSwitch } from '../components/LanguageSwitch'
import { safeNext, WECOM_NEXT_KEY } from './LoginPage'

/** Where a WeCom login lands: `/login/wecom#access_token=…`. Keeps the token, clears the fragment, goes on. */
export default function WecomLoginPage() {
  const { t } = useTranslation()
  const { loginWithToken } = useAuth()
  const navigate = useNavigate()
  const done = useRef(false)
  const [missing, setMissing] = useState(false)

  useEffect(() => {
    if (done.current) return
    done.current = true
    const fragment = new URLSearchParams(window.location.hash.replace(/^#/, ''))
    const token = fragment.get('access_token')
    // never leave the token in the address bar or the history
    window.history.replaceState(window.history.state, '', window.location.pathname)
    if (!token) {
      setMissing(true)
      return
    }
    let next = '/'
    try {
      next = safeNext(sessionStorage.getItem(WECOM_NEXT_KEY))
      sessionStorage.removeItem(WECOM_NEXT_KEY)
    } catch {
      /* private mode */
    }
    loginWithToken(token)
    navigate(next, { replace: true })
  }, [loginWithToken, navigate])

  return (
    <div className="login-page">
      <div className="login-lang">
        <LanguageSwitch />
      </div>
      {missing ? (
        <div data-testid="wecom-login-missing">
          <Result
            status="warning"
            title={t('login.wecomFailed')}
            subTitle={t('login.wecomNoToken')}
            extra={
              <Link to="/login" replace>
                <Button type="primary">{t('login.backToLogin')}</Button>
              </Link>
            }
          />
        </div>
      ) : (
        <Spin size="large" tip={t('login.wecomSigningIn')} data-testid="wecom-login-pending">
          <div style={{ width: 200, height: 120 }} />
        </Spin>
      )}
    </div>
  )
}
