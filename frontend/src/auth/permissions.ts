export const PERM = {
  usersView: 'identity.users.view',
  usersManage: 'identity.users.manage',
  rolesManage: 'identity.roles.manage',
  apiKeysManage: 'identity.api_keys.manage',
  auditView: 'identity.audit.view',
  systemView: 'system.view',
  systemManage: 'system.manage',
  connectionsView: 'platforms.connections.view',
  connectionsManage: 'platforms.connections.manage',
  customersView: 'customers.view',
  tagsManage: 'customers.tags.manage',
  customersEdit: 'customers.edit',
  customersPii: 'customers.pii.view',
  customersMerge: 'customers.merge',
  segmentsManage: 'customers.segments.manage',
  customersExport: 'customers.export',
  channelsView: 'channels.view',
  channelsManage: 'channels.manage',
  channelsAnalytics: 'channels.analytics.view',
  ordersView: 'commerce.orders.view',
  shopsManage: 'commerce.shops.manage',
  ticketsView: 'tickets.view',
  ticketsEdit: 'tickets.edit',
  ticketsSettingsManage: 'tickets.settings.manage',
  formsView: 'forms.view',
  formsManage: 'forms.manage',
} as const

/** `*` grants everything; `domain.*` grants every code under that prefix. */
export function hasPermission(granted: readonly string[] | undefined, code: string): boolean {
  if (!granted) return false
  if (granted.includes('*') || granted.includes(code)) return true
  return granted.some((g) => g.endsWith('.*') && code.startsWith(g.slice(0, -1)))
}
