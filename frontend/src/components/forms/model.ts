// The builder's model of a form: fields as the API's `FieldSpec` (scrm/forms/fields.py), what each type
// takes, new fields' defaults, the visibility and required rules (as the server evaluates them), and the
// answers a field holds turned into the values the API expects.

export const FIELD_TYPES = [
  'text',
  'textarea',
  'number',
  'money',
  'date',
  'choice',
  'multi_choice',
  'region',
  'phone',
  'file',
  'rating',
  'consent',
] as const
export type FieldType = (typeof FIELD_TYPES)[number]

export type Lang = 'zh-CN' | 'en'
export type LocalText = Partial<Record<Lang, string>>

export interface FieldOption {
  value: string
  label: LocalText
}

export type ConditionOp = 'equals' | 'in' | 'filled'
export interface FieldCondition {
  field: string
  op: ConditionOp
  value?: unknown
}

export interface FieldSpec {
  key: string
  type: FieldType
  label: LocalText
  help?: LocalText
  required?: boolean
  options?: FieldOption[]
  min?: number | string | null
  max?: number | string | null
  max_length?: number | null
  max_items?: number | null
  widget?: string | null
  visible_if?: FieldCondition | null
  required_if?: FieldCondition | null
}

export type Attribute = 'options' | 'min' | 'max' | 'max_length' | 'max_items' | 'widget'

/** Which optional attributes each type takes (the server refuses the others). */
export const ATTRIBUTES: Record<FieldType, Attribute[]> = {
  text: ['max_length'],
  textarea: ['max_length'],
  number: ['min', 'max'],
  money: ['min', 'max'],
  date: [],
  choice: ['options', 'widget'],
  multi_choice: ['options', 'widget', 'max_items'],
  region: [],
  phone: [],
  file: ['max_items'],
  rating: [],
  consent: [],
}
export const WIDGETS: Partial<Record<FieldType, string[]>> = {
  choice: ['radio', 'select'],
  multi_choice: ['checkbox', 'select'],
}
export const CHOICE_TYPES: FieldType[] = ['choice', 'multi_choice']
/** Fields a rule may only test for being filled in. */
export const FILLED_ONLY: FieldType[] = ['region', 'file']

export function localText(text: LocalText | undefined, lang: string, fallback = ''): string {
  const wanted = lang === 'en' ? 'en' : 'zh-CN'
  const other = wanted === 'en' ? 'zh-CN' : 'en'
  return text?.[wanted]?.trim() || text?.[other]?.trim() || fallback
}

/** A key free among `taken`: `phone`, `phone_2`, `phone_3`… */
export function freeKey(base: string, taken: Set<string>): string {
  if (!taken.has(base)) return base
  for (let n = 2; ; n += 1) if (!taken.has(`${base}_${n}`)) return `${base}_${n}`
}

/** A new field of `type` with a key free in `taken` and labels in both languages. */
export function newField(type: FieldType, taken: Set<string>, labels: LocalText): FieldSpec {
  const field: FieldSpec = { key: freeKey(type, taken), type, label: labels, required: false }
  if (CHOICE_TYPES.includes(type)) {
    field.options = [
      { value: 'option_1', label: { 'zh-CN': '选项一', en: 'Option 1' } },
      { value: 'option_2', label: { 'zh-CN': '选项二', en: 'Option 2' } },
    ]
  }
  return field
}

function filledText(text: LocalText | undefined): LocalText | undefined {
  if (!text) return undefined
  const out: LocalText = {}
  for (const lang of ['zh-CN', 'en'] as const) if (text[lang]?.trim()) out[lang] = text[lang]!.trim()
  return Object.keys(out).length ? out : undefined
}

/** The field as the API takes it: only the attributes its type takes, empty ones left out. */
export function cleanField(field: FieldSpec): FieldSpec {
  const out: FieldSpec = { key: field.key, type: field.type, label: filledText(field.label) ?? {} }
  const help = filledText(field.help)
  if (help) out.help = help
  if (field.required) out.required = true
  for (const attribute of ATTRIBUTES[field.type]) {
    const value = field[attribute]
    if (value === undefined || value === null || value === '') continue
    if (attribute === 'options') {
      out.options = (value as FieldOption[]).map((o) => ({ value: o.value, label: filledText(o.label) ?? {} }))
    } else {
      ;(out as unknown as Record<string, unknown>)[attribute] = value
    }
  }
  if (field.visible_if?.field) out.visible_if = field.visible_if
  if (field.required_if?.field) out.required_if = field.required_if
  return out
}

export function isFilled(value: unknown): boolean {
  if (value === undefined || value === null || value === '') return false
  if (Array.isArray(value)) return value.length > 0
  if (typeof value === 'object') return Object.values(value as object).some((v) => isFilled(v))
  return true
}

/** Whether a rule's condition holds for the named field's value (undefined when hidden). */
export function holds(condition: FieldCondition, value: unknown): boolean {
  if (condition.op === 'filled') return isFilled(value) && value !== false
  const wanted = condition.op === 'in' ? (Array.isArray(condition.value) ? condition.value : []) : [condition.value]
  if (Array.isArray(value)) return wanted.some((w) => value.includes(w))
  if (value === undefined || value === null || typeof value === 'object') return false
  return wanted.includes(value)
}

/** The keys of the fields shown for these answers (a field whose rule's field is hidden is hidden too). */
export function visibleKeys(fields: FieldSpec[], values: Record<string, unknown>): Set<string> {
  const byKey = new Map(fields.map((f) => [f.key, f]))
  const known = new Map<string, boolean>()
  const visible = (key: string, path: Set<string>): boolean => {
    if (known.has(key)) return known.get(key)!
    const rule = byKey.get(key)?.visible_if
    let result = true
    if (rule?.field) {
      if (path.has(rule.field) || !byKey.has(rule.field)) result = false
      else result = holds(rule, visible(rule.field, new Set([...path, key])) ? values[rule.field] : undefined)
    }
    known.set(key, result)
    return result
  }
  return new Set(fields.filter((f) => visible(f.key, new Set())).map((f) => f.key))
}

/** Whether a shown field must be answered: `required`, or its required_if rule holds. */
export function isRequired(field: FieldSpec, values: Record<string, unknown>, shown: Set<string>): boolean {
  if (field.required) return true
  const rule = field.required_if
  return !!rule?.field && holds(rule, shown.has(rule.field) ? values[rule.field] : undefined)
}

/** The answers to send: shown fields only, empty ones left out (consent boxes keep false). */
export function answersToSend(fields: FieldSpec[], values: Record<string, unknown>): Record<string, unknown> {
  const shown = visibleKeys(fields, values)
  const out: Record<string, unknown> = {}
  for (const field of fields) {
    const value = values[field.key]
    if (!shown.has(field.key) || (!isFilled(value) && value !== false)) continue
    if (field.type === 'region' && value && typeof value === 'object') {
      out[field.key] = Object.fromEntries(Object.entries(value as object).filter(([, v]) => isFilled(v)))
    } else out[field.key] = value
  }
  return out
}
