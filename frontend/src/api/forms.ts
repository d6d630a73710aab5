import {
  formsArchiveForm,
  formsCreateForm,
  formsGetForm,
  formsGetVersion,
  formsListForms,
  formsListSubmissions,
  formsListVersions,
  formsUpdateForm,
  formsValidateDefinition,
  publicFormsGetPublicForm,
  publicFormsSubmit,
} from '../client'
import type { FormDefinitionIn, FormIn, FormKind } from '../client'
import { unwrap } from './client'

// Custom forms (自定义表单): definitions built in the console, their versions and submissions, and the
// public (no login) form a visitor fills in.
export type {
  CreateTicketAction,
  FormDetailOut as FormDetail,
  FormIn,
  FormKind,
  FormOut as FormSummary,
  FormVersionOut as FormVersion,
  FormVersionSummary,
  PublicFormOut as PublicForm,
  SubmissionOut as FormSubmission,
  TagCustomerAction,
  ValidationOut as FormValidation,
} from '../client'

const t = { throwOnError: true } as const

export const listForms = (kind?: FormKind) => unwrap(formsListForms({ query: kind ? { kind } : {}, ...t }))
export const getForm = (id: number) => unwrap(formsGetForm({ path: { form_id: id }, ...t }))
/** 422 with one field error per problem (`fields.<index>.<attribute>`, `on_submit.<index>.<attribute>`). */
export const createForm = (body: FormIn) => unwrap(formsCreateForm({ body, ...t }))
/** Changed fields become a new version; unchanged ones keep the current version. */
export const updateForm = (id: number, body: FormIn) => unwrap(formsUpdateForm({ path: { form_id: id }, body, ...t }))
export const archiveForm = (id: number) => unwrap(formsArchiveForm({ path: { form_id: id }, ...t }))
export const listFormVersions = (id: number) => unwrap(formsListVersions({ path: { form_id: id }, ...t }))
export const getFormVersion = (id: number, version: number) =>
  unwrap(formsGetVersion({ path: { form_id: id, version }, ...t }))
export const listFormSubmissions = (id: number, cursor: string | null, limit = 50) =>
  unwrap(formsListSubmissions({ path: { form_id: id }, query: { limit, ...(cursor ? { cursor } : {}) }, ...t }))
/** The dry run: a draft's field errors (200), nothing written. */
export const validateFormDraft = (body: FormDefinitionIn) => unwrap(formsValidateDefinition({ body, ...t }))

export const getPublicForm = (publicKey: string) => unwrap(publicFormsGetPublicForm({ path: { public_key: publicKey }, ...t }))
/** 422 naming each field by its key; 404 for an unknown or switched-off form; 429 when sent too often. */
export const submitPublicForm = (publicKey: string, data: Record<string, unknown>) =>
  unwrap(publicFormsSubmit({ path: { public_key: publicKey }, body: { data }, ...t }))
