import { LockOutlined, MailOutlined, WechatWorkOutlined } from '@ant-design/icons'
import { useQuery } from '@tanstack/react-query'
import { Alert, Button, Card, Divider, Form, Input, Space, Typography } from 'antd'
import { useState } from 'react'
import { useTranslation } from 'react-i18next'
import { Navigate, useNavigate, useSearchParams } from 'react-router-dom'
import { ApiError, inWecomClient, listWecomLoginProviders, wecomAuthorizeUrl } from '../api'
import { useAuth } from '../auth/AuthContext'
import { LanguageSwitch } from '../components/LanguageSwitch'
import { errorText, fieldErrorText } from '../components/useApiError'

interface LoginForm {
  email: string
  password: string
}

export const WECOM_NEXT_KEY = 'scrm.wecomNext'
const WECOM_ERRORS = ['state', 'code', 'not_linked', 'inactive', 'disabled', 'not_member']

export function safeNext(next: string | null): string {
  // only same-site paths, never "//evil.example"
  return next && next.startsWith('/') && !next.startsWith('//') ? next : '/'
}

export default function LoginPage() {
  const { t } = useTranslation()
  const { token, login, expired } = useAuth()
  const [params] = useSearchParams()
  const navigate = useNavigate()
  const [form] = Form.useForm<LoginForm>()
  const [error, setError] = useState<string | null>(null)
  const [busy, setBusy] = useState(false)
  const next = safeNext(params.get('next'))
  const wecomError = params.get('wecom_error')
  const providers = useQuery({ queryKey: ['wecom-login-providers'], queryFn: listWecomLoginProviders, staleTime: 300_000, retry: false })

  if (token && !busy) return <Navigate to={next} replace />

  const wecomLogin = (connectionId: number) => {
    try {
      sessionStorage.setItem(WECOM_NEXT_KEY, next)
    } catch {
      /* private mode: land on the home page */
    }
    window.location.assign(wecomAuthorizeUrl(connectionId, inWecomClient() ? 'oauth' : 'qr'))
  }

  const onFinish = async (v: LoginForm) => {
    setBusy(true)
    setError(null)
    try {
      await login(v.email.trim(), v.password)
      navigate(next, { replace: true })
    } catch (e) {
      if (e instanceof ApiError && e.errors.length) {
        form.setFields(
          e.errors
            .filter((x) => x.field === 'email' || x.field === 'password')
            .map((x) => ({ name: x.field as keyof LoginForm, errors: [fieldErrorText(x, t)] })),
        )
      }
      // A refused sign-in is a 401 too, but not an expired session.
      setError(e instanceof ApiError && e.status === 401 ? t('errors.withDetail', { lead: t('errors.loginFailed'), detail: e.detail || e.title }) : errorText(e, t))
    } finally {
      setBusy(false)
    }
  }

  return (
    <div className="login-page">
      <div className="login-lang">
        <LanguageSwitch />
      </div>
      <Card style={{ width: 400, boxShadow: '0 8px 24px rgba(0,0,0,0.08)' }} data-testid="login-card">
        <div style={{ textAlign: 'center', marginBottom: 24 }}>
          <img src="/favicon.svg" alt="" width={48} height={48} />
          <Typography.Title level={3} style={{ margin: '12px 0 4px' }} data-testid="login-product-name">
            {t('app.name')}
          </Typography.Title>
          <Typography.Text type="secondary">{t('login.subtitle')}</Typography.Text>
        </div>
        {expired && !error ? (
          <Alert type="info" showIcon message={t('errors.sessionExpired')} style={{ marginBottom: 16 }} data-testid="login-expired" />
        ) : null}
        {wecomError && !error ? (
          <Alert
            type="error"
            showIcon
            message={t('login.wecomFailed')}
            description={t(`login.wecomErrors.${WECOM_ERRORS.includes(wecomError) ? wecomError : 'unknown'}`, { code: wecomError })}
            style={{ marginBottom: 16 }}
            data-testid="login-wecom-error"
            data-code={wecomError}
          />
        ) : null}
        {error ? (
          <Alert type="error" showIcon message={t('login.failed')} description={error} style={{ marginBottom: 16 }} data-testid="login-error" />
        ) : null}
        <Form form={form} layout="vertical" onFinish={onFinish} requiredMark={false} size="large">
          <Form.Item
            name="email"
            label={t('login.email')}
            rules={[
              { required: true, message: t('login.emailRequired') },
              { type: 'email', message: t('login.emailInvalid') },
            ]}
          >
            <Input
              prefix={<MailOutlined />}
              placeholder={t('login.emailPlaceholder')}
              autoComplete="username"
              autoFocus
              data-testid="login-email"
            />
          </Form.Item>
          <Form.Item name="password" label={t('login.password')} rules={[{ required: true, message: t('login.passwordRequired') }]}>
            <Input.Password prefix={<LockOutlined />} autoComplete="current-password" data-testid="login-password" />
          </Form.Item>
          <Button type="primary" htmlType="submit" block loading={busy} data-testid="login-submit">
            {t('login.submit')}
          </Button>
        </Form>
        {providers.data?.length ? (
          <>
            <Divider plain style={{ margin: '20px 0 16px' }}>
              <Typography.Text type="secondary">{t('login.or')}</Typography.Text>
            </Divider>
            <Space direction="vertical" style={{ width: '100%' }} data-testid="wecom-login-providers">
              {providers.data.map((p) => (
                <Button
                  key={p.connection_id}
                  block
                  size="large"
                  icon={<WechatWorkOutlined style={{ color: '#2a7cf6' }} />}
                  onClick={() => wecomLogin(p.connection_id)}
                  data-testid={`wecom-login-${p.connection_id}`}
                  title={t('login.wecomButton', { name: p.name })}
                >
                  <span className="ellipsis">{t('login.wecomButton', { name: p.name })}</span>
                </Button>
              ))}
            </Space>
          </>
        ) : null}
      </Card>
    </div>
  )
}
