import { LockOutlined, MailOutlined } from '@ant-design/icons'
import { Alert, Button, Card, Form, Input, Typography } from 'antd'
import { useState } from 'react'
import { useTranslation } from 'react-i18next'
import { Navigate, useNavigate, useSearchParams } from 'react-router-dom'
import { ApiError } from '../api'
import { useAuth } from '../auth/AuthContext'
import { LanguageSwitch } from '../components/LanguageSwitch'
import { errorText } from '../components/useApiError'

interface LoginForm {
  email: string
  password: string
}

function safeNext(next: string | null): string {
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

  if (token && !busy) return <Navigate to={next} replace />

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
            .map((x) => ({ name: x.field as keyof LoginForm, errors: [x.message] })),
        )
      }
      setError(errorText(e, t))
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
      </Card>
    </div>
  )
}
