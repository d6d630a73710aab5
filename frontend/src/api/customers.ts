import {
  customersAddTag,
  customersCreateTagGroup,
  customersDeleteTag,
  customersGetCustomer,
  customersListCustomers,
  customersListTags,
  customersRenameTag,
  staffLinkUser,
  staffListDepartments,
  staffListStaff,
} from '../client'
import { unwrap } from './client'
import type { CustomerQuery, TagGroupCreate, WecomStaffQuery } from './types'

const t = { throwOnError: true } as const

export const listCustomers = (query: CustomerQuery = {}) => unwrap(customersListCustomers({ query, ...t }))
export const getCustomer = (id: number) => unwrap(customersGetCustomer({ path: { customer_id: id }, ...t }))

export const listTagGroups = (connection_id?: number) =>
  unwrap(customersListTags({ query: connection_id ? { connection_id } : {}, ...t }))
export const createTagGroup = (body: TagGroupCreate) => unwrap(customersCreateTagGroup({ body, ...t }))
export const addTag = (groupId: number, name: string) =>
  unwrap(customersAddTag({ path: { group_id: groupId }, body: { name }, ...t }))
export const renameTag = (tagId: number, name: string) =>
  unwrap(customersRenameTag({ path: { tag_id: tagId }, body: { name }, ...t }))
export const deleteTag = async (tagId: number): Promise<void> => {
  await customersDeleteTag({ path: { tag_id: tagId }, ...t })
}

/** WeCom members (企业微信成员), not console users. */
export const listWecomStaff = (query: WecomStaffQuery = {}) => unwrap(staffListStaff({ query, ...t }))
export const listWecomDepartments = (connection_id?: number) =>
  unwrap(staffListDepartments({ query: connection_id ? { connection_id } : {}, ...t }))
export const linkStaffUser = (staffId: number, user_id: number | null) =>
  unwrap(staffLinkUser({ path: { staff_id: staffId }, body: { user_id }, ...t }))
