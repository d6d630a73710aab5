import {
  commerceAcknowledge,
  commerceBackfill,
  commerceCrossPlatform,
  commerceCustomerOrders,
  commerceGetOrder,
  commerceGetSettings,
  commerceListAlerts,
  commerceListOrders,
  commerceListShops,
  commercePutSettings,
  commerceRecentPurchases,
  commerceSyncNow,
} from '../client'
import { unwrap } from './client'
import type { AlertQuery, CommerceSettingsIn, OrderQuery, PageParams } from './types'

const t = { throwOnError: true } as const

/** Orders from every shop, newest first (amounts in fen). */
export const listOrders = (query: OrderQuery = {}) => unwrap(commerceListOrders({ query, ...t }))
export const getOrder = (id: number) => unwrap(commerceGetOrder({ path: { order_id: id }, ...t }))
export const listCustomerOrders = (customerId: number, query: PageParams = {}) =>
  unwrap(commerceCustomerOrders({ path: { customer_id: customerId }, query, ...t }))
/** The customer's last paid orders (default 3) with items, refunds and logistics. */
export const listRecentPurchases = (customerId: number, limit = 3) =>
  unwrap(commerceRecentPurchases({ path: { customer_id: customerId }, query: { limit }, ...t }))

/** Every shop connection with its sync health. */
export const listShops = () => unwrap(commerceListShops(t))
/** Pull the shop's recent changes now (202). */
export const syncShopNow = (connectionId: number) => unwrap(commerceSyncNow({ path: { connection_id: connectionId }, ...t }))
/** Pull the shop's order history in [start, end) as a job. */
export const backfillShop = (connectionId: number, start: string, end?: string | null) =>
  unwrap(commerceBackfill({ path: { connection_id: connectionId }, body: { start, end }, ...t }))

export const crossPlatformReport = () => unwrap(commerceCrossPlatform(t))

export const getCommerceSettings = () => unwrap(commerceGetSettings(t))
export const putCommerceSettings = (body: CommerceSettingsIn) => unwrap(commercePutSettings({ body, ...t }))

export const listOrderAlerts = (query: AlertQuery = {}) => unwrap(commerceListAlerts({ query, ...t }))
export const acknowledgeAlert = (id: number) => unwrap(commerceAcknowledge({ path: { alert_id: id }, ...t }))
