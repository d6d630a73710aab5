import {
  customersAddTag,
  customersBulkTag,
  customersChangeTags,
  customersListAttributes,
  customersListFields,
  customersListMergeSuggestions,
  customersMerge,
  customersUnmerge,
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
import type { BulkTagRequest, CustomerQuery, MergeRequest, PageParams, TagGroupCreate, UnmergeRequest, WecomStaffQuery } from './types'

const t = { throwOnError: true } as const

export const listCustomers = (query: CustomerQuery = {}) => unwrap(customersListCustomers({ query, ...t }))
export const getCustomer = (id: number) => unwrap(customersGetCustomer({ path: { customer_id: id }, ...t }))
/** Add/remove tags now; WeCom corp tags reach WeCom within seconds. */
export const changeCustomerTags = (id: number, body: { add?: number[]; remove?: number[] }) =>
  unwrap(customersChangeTags({ path: { customer_id: id }, body, ...t }))
/** Tag every customer of the list filters (or a segment, a condition, ids) as a job. */
export const bulkTagCustomers = (body: BulkTagRequest) => unwrap(customersBulkTag({ body, ...t }))
export const mergeCustomer = (id: number, body: MergeRequest) => unwrap(customersMerge({ path: { customer_id: id }, body, ...t }))
export const unmergeCustomer = (id: number, body: UnmergeRequest) =>
  unwrap(customersUnmerge({ path: { customer_id: id }, body, ...t }))
export const listMergeSuggestions = (query: PageParams & { status?: 'open' | 'merged' | 'dismissed' } = {}) =>
  unwrap(customersListMergeSuggestions({ query, ...t }))
/** What segment conditions may test, with each field's operators. */
export const listCustomerFields = () => unwrap(customersListFields(t))
export const listCustomerAttributes = () => unwrap(customersListAttributes(t))

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
