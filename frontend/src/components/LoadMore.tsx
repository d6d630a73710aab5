import { Button } from 'antd'
import { useTranslation } from 'react-i18next'

/** Cursor pagination footer: "load more" while the API returns a next_cursor. */
export function LoadMore({
  hasMore,
  loading,
  onLoad,
  count,
  testId,
}: {
  hasMore: boolean
  loading: boolean
  onLoad: () => void
  count: number
  testId: string
}) {
  const { t } = useTranslation()
  if (!count) return null
  return (
    <div style={{ textAlign: 'center', marginTop: 16 }}>
      {hasMore ? (
        <Button onClick={onLoad} loading={loading} data-testid={testId}>
          {t('common.loadMore')}
        </Button>
      ) : (
        <span className="muted" data-testid={`${testId}-done`}>
          {t('common.allLoaded', { count })}
        </span>
      )}
    </div>
  )
}
