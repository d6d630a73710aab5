import { lazy, Suspense, type ReactNode } from 'react'
import { createBrowserRouter, Navigate, useLocation } from 'react-router-dom'
import { useAuth } from './auth/AuthContext'
import { PERM } from './auth/permissions'
import { RequirePermission } from './components/RequirePermission'
import { NotFound, PageLoading, RouteError } from './components/states'
import MainLayout from './layouts/MainLayout'
import LoginPage from './pages/LoginPage'

const HomePage = lazy(() => import('./pages/HomePage'))
const StaffPage = lazy(() => import('./pages/StaffPage'))
const RolesPage = lazy(() => import('./pages/RolesPage'))
const ApiKeysPage = lazy(() => import('./pages/ApiKeysPage'))
const AuditLogPage = lazy(() => import('./pages/AuditLogPage'))
const SystemPage = lazy(() => import('./pages/SystemPage'))
const WecomLoginPage = lazy(() => import('./pages/WecomLoginPage'))
const ConnectionsPage = lazy(() => import('./pages/ConnectionsPage'))
const ConnectionDetailPage = lazy(() => import('./pages/ConnectionDetailPage'))
const WecomMembersPage = lazy(() => import('./pages/WecomMembersPage'))
const CustomersPage = lazy(() => import('./pages/CustomersPage'))
const CustomerDetailPage = lazy(() => import('./pages/CustomerDetailPage'))
const TagsPage = lazy(() => import('./pages/TagsPage'))
const SegmentsPage = lazy(() => import('./pages/SegmentsPage'))
const SegmentEditorPage = lazy(() => import('./pages/SegmentEditorPage'))
const ChannelsPage = lazy(() => import('./pages/ChannelsPage'))
const ChannelEditorPage = lazy(() => import('./pages/ChannelEditorPage'))
const ChannelDetailPage = lazy(() => import('./pages/ChannelDetailPage'))
const ChannelDashboardPage = lazy(() => import('./pages/ChannelDashboardPage'))
const ShopsPage = lazy(() => import('./pages/ShopsPage'))
const OrdersPage = lazy(() => import('./pages/OrdersPage'))
const OrderDetailPage = lazy(() => import('./pages/OrderDetailPage'))
const CrossPlatformReportPage = lazy(() => import('./pages/CrossPlatformReportPage'))
const CommerceSettingsPage = lazy(() => import('./pages/CommerceSettingsPage'))
const TicketSlaPage = lazy(() => import('./pages/TicketSlaPage'))
const TicketTeamsPage = lazy(() => import('./pages/TicketTeamsPage'))
const TicketTriagePage = lazy(() => import('./pages/TicketTriagePage'))
const TicketClassifierPage = lazy(() => import('./pages/TicketClassifierPage'))
const TicketClassifyRulesPage = lazy(() => import('./pages/TicketClassifyRulesPage'))
const FormsPage = lazy(() => import('./pages/FormsPage'))
const FormBuilderPage = lazy(() => import('./pages/FormBuilderPage'))
const FormSubmissionsPage = lazy(() => import('./pages/FormSubmissionsPage'))
const PublicFormPage = lazy(() => import('./pages/PublicFormPage'))
const TicketQueuePage = lazy(() => import('./pages/TicketQueuePage'))
const TicketDetailPage = lazy(() => import('./pages/TicketDetailPage'))
const TicketDashboardPage = lazy(() => import('./pages/TicketDashboardPage'))
const PublicRatingPage = lazy(() => import('./pages/PublicRatingPage'))

function RequireAuth({ children }: { children: ReactNode }) {
  const { token } = useAuth()
  const location = useLocation()
  if (!token) {
    const next = location.pathname + location.search
    return <Navigate to={next && next !== '/' ? `/login?next=${encodeURIComponent(next)}` : '/login'} replace />
  }
  return <>{children}</>
}

function page(node: ReactNode, perm?: string) {
  const inner = <Suspense fallback={<PageLoading />}>{node}</Suspense>
  return perm ? <RequirePermission perm={perm}>{inner}</RequirePermission> : inner
}

export const router = createBrowserRouter([
  { path: '/login', element: <LoginPage />, errorElement: <RouteError /> },
  { path: '/login/wecom', element: page(<WecomLoginPage />), errorElement: <RouteError /> },
  // a customer's satisfaction rating link: no login (the token is the credential)
  { path: '/ticket-rating/:token', element: page(<PublicRatingPage />), errorElement: <RouteError /> },
  // a public form: no login
  { path: '/f/:publicKey', element: page(<PublicFormPage />), errorElement: <RouteError /> },
  {
    path: '/',
    errorElement: <RouteError />,
    element: (
      <RequireAuth>
        <MainLayout />
      </RequireAuth>
    ),
    children: [
      { index: true, element: page(<HomePage />) },
      { path: 'org', element: <Navigate to="/org/users" replace /> },
      { path: 'org/users', element: page(<StaffPage />, PERM.usersView) },
      { path: 'org/wecom-members', element: page(<WecomMembersPage />, PERM.usersView) },
      { path: 'org/roles', element: page(<RolesPage />, PERM.rolesManage) },
      { path: 'org/api-keys', element: page(<ApiKeysPage />, PERM.apiKeysManage) },
      { path: 'customers', element: page(<CustomersPage />, PERM.customersView) },
      { path: 'customers/tags', element: page(<TagsPage />, PERM.customersView) },
      { path: 'customers/segments', element: page(<SegmentsPage />, PERM.customersView) },
      { path: 'customers/segments/new', element: page(<SegmentEditorPage />, PERM.segmentsManage) },
      { path: 'customers/segments/:id', element: page(<SegmentEditorPage />, PERM.customersView) },
      { path: 'customers/:id', element: page(<CustomerDetailPage />, PERM.customersView) },
      { path: 'channels', element: page(<ChannelsPage />, PERM.channelsView) },
      { path: 'channels/new', element: page(<ChannelEditorPage />, PERM.channelsManage) },
      { path: 'channels/dashboard', element: page(<ChannelDashboardPage />, PERM.channelsAnalytics) },
      { path: 'channels/:id', element: page(<ChannelDetailPage />, PERM.channelsView) },
      { path: 'channels/:id/edit', element: page(<ChannelEditorPage />, PERM.channelsManage) },
      { path: 'commerce', element: <Navigate to="/commerce/orders" replace /> },
      { path: 'commerce/shops', element: page(<ShopsPage />, PERM.ordersView) },
      { path: 'commerce/orders', element: page(<OrdersPage />, PERM.ordersView) },
      { path: 'commerce/orders/:id', element: page(<OrderDetailPage />, PERM.ordersView) },
      { path: 'commerce/reports/cross-platform', element: page(<CrossPlatformReportPage />, PERM.ordersView) },
      { path: 'commerce/settings', element: page(<CommerceSettingsPage />, PERM.ordersView) },
      { path: 'tickets', element: page(<TicketQueuePage />, PERM.ticketsView) },
      { path: 'tickets/dashboard', element: page(<TicketDashboardPage />, PERM.ticketsView) },
      { path: 'tickets/sla', element: page(<TicketSlaPage />, PERM.ticketsView) },
      { path: 'tickets/teams', element: page(<TicketTeamsPage />, PERM.ticketsView) },
      { path: 'tickets/triage', element: page(<TicketTriagePage />, PERM.ticketsView) },
      { path: 'tickets/classifier', element: page(<TicketClassifierPage />, PERM.ticketsView) },
      { path: 'tickets/classification-rules', element: page(<TicketClassifyRulesPage />, PERM.ticketsView) },
      { path: 'tickets/:id', element: page(<TicketDetailPage />, PERM.ticketsView) },
      { path: 'forms', element: page(<FormsPage />, PERM.formsView) },
      { path: 'forms/new', element: page(<FormBuilderPage />, PERM.formsManage) },
      { path: 'forms/:id', element: page(<FormBuilderPage />, PERM.formsView) },
      { path: 'forms/:id/submissions', element: page(<FormSubmissionsPage />, PERM.formsView) },
      { path: 'settings', element: <Navigate to="/settings/connections" replace /> },
      { path: 'settings/connections', element: page(<ConnectionsPage />, PERM.connectionsView) },
      { path: 'settings/connections/:id', element: page(<ConnectionDetailPage />, PERM.connectionsView) },
      { path: 'audit', element: page(<AuditLogPage />, PERM.auditView) },
      { path: 'system', element: page(<SystemPage />, PERM.systemView) },
      { path: '*', element: <NotFound /> },
    ],
  },
])
