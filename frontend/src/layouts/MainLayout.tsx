import {
  ApartmentOutlined,
  ApiOutlined,
  AuditOutlined,
  BranchesOutlined,
  BarChartOutlined,
  AlertOutlined,
  ClusterOutlined,
  ContactsOutlined,
  CustomerServiceOutlined,
  DashboardOutlined,
  DownOutlined,
  ExperimentOutlined,
  FieldTimeOutlined,
  FileTextOutlined,
  FormOutlined,
  FundOutlined,
  HomeOutlined,
  InboxOutlined,
  PieChartOutlined,
  KeyOutlined,
  LogoutOutlined,
  QrcodeOutlined,
  SafetyCertificateOutlined,
  SettingOutlined,
  ShopOutlined,
  ShoppingOutlined,
  SolutionOutlined,
  TagsOutlined,
  TeamOutlined,
  UnorderedListOutlined,
  UserOutlined,
  WechatWorkOutlined,
} from '@ant-design/icons'
import { App, Avatar, Button, Dropdown, Flex, Layout, Menu, Result, Select, Spin, Typography } from 'antd'
import type { MenuProps } from 'antd'
import { useState, type ReactNode } from 'react'
import { useTranslation } from 'react-i18next'
import { Outlet, useLocation, useNavigate } from 'react-router-dom'
import { useAuth } from '../auth/AuthContext'
import { PERM } from '../auth/permissions'
import { LanguageSwitch } from '../components/LanguageSwitch'
import { errorText, useApiError } from '../components/useApiError'

const { Header, Sider, Content } = Layout

function label(text: string, testId: string) {
  return <span data-testid={testId}>{text}</span>
}

type MenuItem = NonNullable<MenuProps['items']>[number]

function group(key: string, icon: ReactNode, text: string, testId: string, children: (MenuItem | false)[]): MenuItem | null {
  const kids = children.filter(Boolean) as MenuItem[]
  return kids.length ? { key, icon, label: label(text, testId), children: kids } : null
}

/** Route keys of the menu, longest first, so /customers/12 selects /customers and /customers/tags itself. */
const MENU_ROUTES = ['/commerce/shops', '/commerce/orders', '/commerce/reports/cross-platform', '/commerce/settings', '/tickets/sla', '/tickets/teams', '/tickets/dashboard', '/tickets/triage', '/tickets/classifier', '/tickets/classification-rules', '/tickets', '/forms', '/customers/tags', '/customers/segments', '/customers', '/channels/dashboard', '/channels', '/org/users', '/org/wecom-members', '/org/roles', '/org/api-keys', '/settings/connections', '/audit', '/system']

function selectedKey(pathname: string): string {
  if (pathname === '/') return '/'
  const path = pathname.replace(/\/$/, '')
  // the longest key that matches, whatever the list's order
  const keys = MENU_ROUTES.filter((k) => path === k || path.startsWith(`${k}/`))
  return keys.sort((a, b) => b.length - a.length)[0] ?? path
}

export default function MainLayout() {
  const { t } = useTranslation()
  const { me, meLoading, meError, can, logout, switchTenant } = useAuth()
  const navigate = useNavigate()
  const location = useLocation()
  const { message } = App.useApp()
  const showError = useApiError()
  const [collapsed, setCollapsed] = useState(false)
  const [switching, setSwitching] = useState(false)

  if (meLoading || (!me && !meError)) {
    return (
      <Flex align="center" justify="center" style={{ height: '100%' }} data-testid="app-loading">
        <Spin size="large" />
      </Flex>
    )
  }
  if (!me) {
    return (
      <Result
        status="warning"
        title={t('errors.loadFailed')}
        subTitle={errorText(meError, t)}
        extra={[
          <Button key="retry" type="primary" onClick={() => window.location.reload()}>
            {t('common.retry')}
          </Button>,
          <Button key="logout" onClick={logout}>
            {t('layout.logout')}
          </Button>,
        ]}
      />
    )
  }

  const items: MenuProps['items'] = [
    { key: '/', icon: <HomeOutlined />, label: label(t('layout.home'), 'menu-home') },
    group('customers', <ContactsOutlined />, t('layout.customersGroup'), 'menu-customers-group', [
      can(PERM.customersView) && { key: '/customers', icon: <TeamOutlined />, label: label(t('layout.customers'), 'menu-customers') },
      can(PERM.customersView) && { key: '/customers/tags', icon: <TagsOutlined />, label: label(t('layout.tags'), 'menu-tags') },
      can(PERM.customersView) && { key: '/customers/segments', icon: <ClusterOutlined />, label: label(t('layout.segments'), 'menu-segments') },
    ]),
    group('channels', <QrcodeOutlined />, t('layout.channelsGroup'), 'menu-channels-group', [
      can(PERM.channelsView) && { key: '/channels', icon: <QrcodeOutlined />, label: label(t('layout.channels'), 'menu-channels') },
      can(PERM.channelsAnalytics) && {
        key: '/channels/dashboard',
        icon: <BarChartOutlined />,
        label: label(t('layout.channelDashboard'), 'menu-channel-dashboard'),
      },
    ]),
    group('commerce', <ShoppingOutlined />, t('layout.commerceGroup'), 'menu-commerce-group', [
      can(PERM.ordersView) && { key: '/commerce/shops', icon: <ShopOutlined />, label: label(t('layout.shops'), 'menu-shops') },
      can(PERM.ordersView) && { key: '/commerce/orders', icon: <FileTextOutlined />, label: label(t('layout.orders'), 'menu-orders') },
      can(PERM.ordersView) && {
        key: '/commerce/reports/cross-platform',
        icon: <PieChartOutlined />,
        label: label(t('layout.crossPlatform'), 'menu-cross-platform'),
      },
      can(PERM.ordersView) && { key: '/commerce/settings', icon: <AlertOutlined />, label: label(t('layout.orderRules'), 'menu-order-rules') },
    ]),
    group('tickets', <CustomerServiceOutlined />, t('layout.ticketsGroup'), 'menu-tickets-group', [
      can(PERM.ticketsView) && { key: '/tickets', icon: <UnorderedListOutlined />, label: label(t('tickets.desk.menuQueue'), 'menu-ticket-queue') },
      can(PERM.ticketsView) && { key: '/tickets/dashboard', icon: <FundOutlined />, label: label(t('tickets.desk.menuDashboard'), 'menu-ticket-dashboard') },
      can(PERM.ticketsView) && { key: '/tickets/sla', icon: <FieldTimeOutlined />, label: label(t('layout.ticketSla'), 'menu-ticket-sla') },
      can(PERM.ticketsView) && { key: '/tickets/teams', icon: <SolutionOutlined />, label: label(t('ticketRouting.menu'), 'menu-ticket-teams') },
      can(PERM.ticketsView) && { key: '/tickets/triage', icon: <InboxOutlined />, label: label(t('ticketClassify.menuTriage'), 'menu-ticket-triage') },
      can(PERM.ticketsView) && { key: '/tickets/classifier', icon: <ExperimentOutlined />, label: label(t('ticketClassify.menuClassifier'), 'menu-ticket-classifier') },
      can(PERM.ticketsView) && { key: '/tickets/classification-rules', icon: <BranchesOutlined />, label: label(t('ticketClassify.menuRules'), 'menu-ticket-rules') },
    ]),
    can(PERM.formsView) ? { key: '/forms', icon: <FormOutlined />, label: label(t('forms.menu'), 'menu-forms') } : null,
    group('org', <ApartmentOutlined />, t('layout.org'), 'menu-org', [
      can(PERM.usersView) && { key: '/org/users', icon: <UserOutlined />, label: label(t('layout.users'), 'menu-users') },
      can(PERM.usersView) && {
        key: '/org/wecom-members',
        icon: <WechatWorkOutlined />,
        label: label(t('layout.wecomMembers'), 'menu-wecom-members'),
      },
      can(PERM.rolesManage) && {
        key: '/org/roles',
        icon: <SafetyCertificateOutlined />,
        label: label(t('layout.roles'), 'menu-roles'),
      },
      can(PERM.apiKeysManage) && {
        key: '/org/api-keys',
        icon: <KeyOutlined />,
        label: label(t('layout.apiKeys'), 'menu-api-keys'),
      },
    ]),
    can(PERM.auditView) ? { key: '/audit', icon: <AuditOutlined />, label: label(t('layout.audit'), 'menu-audit') } : null,
    group('settings', <SettingOutlined />, t('layout.settingsGroup'), 'menu-settings-group', [
      can(PERM.connectionsView) && {
        key: '/settings/connections',
        icon: <ApiOutlined />,
        label: label(t('layout.connections'), 'menu-connections'),
      },
    ]),
    can(PERM.systemView)
      ? { key: '/system', icon: <DashboardOutlined />, label: label(t('layout.system'), 'menu-system') }
      : null,
  ].filter(Boolean)

  const selected = selectedKey(location.pathname)

  const onSwitchTenant = async (tenantId: number) => {
    if (tenantId === me.tenant.id) return
    setSwitching(true)
    try {
      await switchTenant(tenantId)
      const name = me.tenants.find((x) => x.id === tenantId)?.name ?? ''
      void message.success(t('layout.tenantSwitched', { name }))
    } catch (e) {
      showError(e)
    } finally {
      setSwitching(false)
    }
  }

  const userMenu: MenuProps['items'] = [
    {
      key: 'who',
      disabled: true,
      label: (
        <div data-testid="user-menu-info">
          <div>{me.user?.email}</div>
          <Typography.Text type="secondary">
            {t('layout.role')}: {me.role?.name ?? ''}
          </Typography.Text>
        </div>
      ),
    },
    { type: 'divider' },
    { key: 'logout', icon: <LogoutOutlined />, danger: true, label: label(t('layout.logout'), 'logout') },
  ]

  return (
    <Layout style={{ minHeight: '100vh' }}>
      <Sider
        collapsible
        collapsed={collapsed}
        onCollapse={setCollapsed}
        width={220}
        data-testid="side-menu"
        style={{ position: 'sticky', top: 0, height: '100vh' }}
      >
        {/* the menu scrolls above the collapse trigger, which never covers an item */}
        <div className="side-scroll">
          <div className="app-logo" onClick={() => navigate('/')} style={{ cursor: 'pointer' }}>
            <img src="/favicon.svg" alt="" />
            {!collapsed && <span>{t('app.name')}</span>}
          </div>
          <Menu
            theme="dark"
            mode="inline"
            items={items}
            selectedKeys={[selected]}
            defaultOpenKeys={['customers', 'channels', 'commerce', 'tickets', 'org', 'settings']}
            onClick={({ key }) => navigate(key)}
          />
        </div>
      </Sider>
      <Layout>
        <Header
          style={{
            background: '#fff',
            padding: '0 24px',
            display: 'flex',
            alignItems: 'center',
            justifyContent: 'flex-end',
            gap: 16,
            borderBottom: '1px solid #f0f0f0',
          }}
        >
          <Flex align="center" gap={8}>
            <Typography.Text type="secondary">{t('layout.tenant')}</Typography.Text>
            <Select
              data-testid="tenant-switcher"
              style={{ minWidth: 180 }}
              value={me.tenant.id}
              loading={switching}
              disabled={switching}
              onChange={(v: number) => void onSwitchTenant(v)}
              options={(me.tenants.length ? me.tenants : [{ ...me.tenant, role_name: me.role?.name ?? '' }]).map((x) => ({
                value: x.id,
                label: x.name,
                role: x.role_name,
              }))}
              optionRender={(opt) => (
                <Flex justify="space-between" gap={12} data-testid={`tenant-option-${opt.value}`}>
                  <span>{opt.label}</span>
                  <Typography.Text type="secondary">{opt.data.role}</Typography.Text>
                </Flex>
              )}
            />
          </Flex>
          <LanguageSwitch />
          <Dropdown
            menu={{
              items: userMenu,
              onClick: ({ key }) => {
                if (key === 'logout') {
                  logout()
                  void message.info(t('layout.loggedOut'))
                  navigate('/login')
                }
              },
            }}
            trigger={['click']}
          >
            <Button type="text" data-testid="user-menu">
              <Avatar size="small" icon={<UserOutlined />} style={{ backgroundColor: '#1677ff' }} />
              <span data-testid="user-name">{me.user?.display_name ?? me.role?.name ?? 'API'}</span>
              <DownOutlined />
            </Button>
          </Dropdown>
        </Header>
        <Content style={{ padding: 24 }}>
          <Outlet />
        </Content>
      </Layout>
    </Layout>
  )
}
