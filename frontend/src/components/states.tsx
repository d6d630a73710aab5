import { Button, Result, Spin } from 'antd'
import { useTranslation } from 'react-i18next'
import { isRouteErrorResponse, Link, useRouteError } from 'react-router-dom'
import { ApiError } from '../api'
import { errorText } from './useApiError'

export function PageLoading() {
  return (
    <div style={{ padding: 64, textAlign: 'center' }} data-testid="page-loading">
      <Spin size="large" />
    </div>
  )
}

export function Forbidden() {
  const { t } = useTranslation()
  return (
    <div data-testid="page-forbidden">
      <Result
        status="403"
        title={t('errors.forbiddenTitle')}
        subTitle={t('errors.forbidden')}
        extra={
          <Link to="/">
            <Button type="primary">{t('errors.backHome')}</Button>
          </Link>
        }
      />
    </div>
  )
}

export function NotFound() {
  const { t } = useTranslation()
  return (
    <div data-testid="page-not-found">
      <Result
        status="404"
        title={t('errors.notFoundTitle')}
        subTitle={t('errors.notFound')}
        extra={
          <Link to="/">
            <Button type="primary">{t('errors.backHome')}</Button>
          </Link>
        }
      />
    </div>
  )
}

/** A whole-page load failure with the API's explanation and a retry button. */
export function ErrorState({ error, onRetry }: { error: unknown; onRetry?: () => void }) {
  const { t } = useTranslation()
  if (error instanceof ApiError && error.status === 403) return <Forbidden />
  return (
    <div data-testid="page-error">
      <Result
        status="warning"
        title={t('errors.loadFailed')}
        subTitle={errorText(error, t)}
        extra={onRetry ? <Button onClick={onRetry}>{t('common.retry')}</Button> : undefined}
      />
    </div>
  )
}

/** Shown instead of the router's developer page when a page crashes. */
export function RouteError() {
  const { t } = useTranslation()
  const err = useRouteError()
  const detail = isRouteErrorResponse(err) ? `${err.status} ${err.statusText}` : err instanceof Error ? err.message : String(err)
  return (
    <div data-testid="page-crash">
      <Result
        status="error"
        title={t('errors.generic')}
        subTitle={detail}
        extra={[
          <Button key="reload" type="primary" onClick={() => window.location.reload()}>
            {t('common.retry')}
          </Button>,
          <Button key="home" onClick={() => window.location.assign('/')}>
            {t('errors.backHome')}
          </Button>,
        ]}
      />
    </div>
  )
}
