import {
  ApiOutlined,
  AuditOutlined,
  ContactsOutlined,
  ShoppingOutlined,
  TagsOutlined,
  WechatWorkOutlined,
  DashboardOutlined,
  KeyOutlined,
  SafetyCertificateOutlined,
  TeamOutlined,
} from '@ant-design/icons'
import { useQuery } from '@tanstack/react-query'
import { Badge, Card, Col, Empty, Row, Space, Typography } from 'antd'
import type { ReactNode } from 'react'
import { useTranslation } from 'react-i18next'
import { Link } from 'react-router-dom'
import { probe } from '../api'
import { useAuth } from '../auth/AuthContext'
import { PERM } from '../auth/permissions'

interface Shortcut {
  to: string
  perm: string
  icon: ReactNode
  title: string
  desc: string
  testId: string
}

export default function HomePage() {
  const { t } = useTranslation()
  const { me, can } = useAuth()
  const health = useQuery({
    queryKey: ['health'],
    queryFn: async () => ({ healthz: await probe('/healthz'), readyz: await probe('/readyz') }),
    refetchInterval: 30_000,
  })
  if (!me) return null

  const shortcuts: Shortcut[] = [
    { to: '/customers', perm: PERM.customersView, icon: <ContactsOutlined />, title: t('layout.customers'), desc: t('home.customersDesc'), testId: 'home-link-customers' },
    { to: '/customers/tags', perm: PERM.customersView, icon: <TagsOutlined />, title: t('layout.tags'), desc: t('home.tagsDesc'), testId: 'home-link-tags' },
    { to: '/commerce/orders', perm: PERM.ordersView, icon: <ShoppingOutlined />, title: t('layout.orders'), desc: t('home.ordersDesc'), testId: 'home-link-orders' },
    { to: '/org/wecom-members', perm: PERM.usersView, icon: <WechatWorkOutlined />, title: t('layout.wecomMembers'), desc: t('home.wecomMembersDesc'), testId: 'home-link-wecom-members' },
    { to: '/settings/connections', perm: PERM.connectionsView, icon: <ApiOutlined />, title: t('layout.connections'), desc: t('home.connectionsDesc'), testId: 'home-link-connections' },
    { to: '/org/users', perm: PERM.usersView, icon: <TeamOutlined />, title: t('layout.users'), desc: t('home.usersDesc'), testId: 'home-link-users' },
    { to: '/org/roles', perm: PERM.rolesManage, icon: <SafetyCertificateOutlined />, title: t('layout.roles'), desc: t('home.rolesDesc'), testId: 'home-link-roles' },
    { to: '/org/api-keys', perm: PERM.apiKeysManage, icon: <KeyOutlined />, title: t('layout.apiKeys'), desc: t('home.apiKeysDesc'), testId: 'home-link-api-keys' },
    { to: '/audit', perm: PERM.auditView, icon: <AuditOutlined />, title: t('layout.audit'), desc: t('home.auditDesc'), testId: 'home-link-audit' },
    { to: '/system', perm: PERM.systemView, icon: <DashboardOutlined />, title: t('layout.system'), desc: t('home.systemDesc'), testId: 'home-link-system' },
  ].filter((s) => can(s.perm))

  const dot = (ok: boolean | undefined) =>
    ok === undefined ? <Badge status="processing" text="…" /> : <Badge status={ok ? 'success' : 'error'} text={ok ? t('home.up') : t('home.down')} />

  return (
    <Space direction="vertical" size={16} style={{ width: '100%' }}>
      <Card data-testid="home-welcome">
        <Typography.Title level={3} style={{ marginTop: 0 }}>
          {t('home.welcome', { name: me.user?.display_name ?? '' })}
        </Typography.Title>
        <Typography.Paragraph style={{ marginBottom: 4 }} data-testid="home-tenant">
          {t('home.tenantLine', { tenant: me.tenant.name })}
        </Typography.Paragraph>
        <Typography.Text type="secondary">
          {t('home.roleLine', { role: me.role?.name ?? '—', scope: t(`scope.${me.data_scope}`) })}
        </Typography.Text>
      </Card>
      <Card title={t('home.quickLinks')}>
        {shortcuts.length ? (
          <Row gutter={[16, 16]}>
            {shortcuts.map((s) => (
              <Col xs={24} sm={12} lg={8} xl={6} key={s.to}>
                <Link to={s.to} data-testid={s.testId}>
                  <Card hoverable size="small">
                    <Card.Meta
                      avatar={<span style={{ fontSize: 24, color: '#1677ff' }}>{s.icon}</span>}
                      title={s.title}
                      description={s.desc}
                    />
                  </Card>
                </Link>
              </Col>
            ))}
          </Row>
        ) : (
          <Empty description={t('home.noLinks')} />
        )}
      </Card>
      <Card title={t('home.health')} size="small" data-testid="home-health">
        <Space size={32}>
          <span>
            {t('home.healthz')}: {dot(health.data?.healthz)}
          </span>
          <span>
            {t('home.readyz')}: {dot(health.data?.readyz)}
          </span>
        </Space>
      </Card>
    </Space>
  )
}
