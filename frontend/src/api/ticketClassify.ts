import {
  ticketClassificationCorrectClassification,
  ticketClassificationCreateRule,
  ticketClassificationDeleteRule,
  ticketClassificationGetSettings,
  ticketClassificationGetTraining,
  ticketClassificationListModels,
  ticketClassificationListRules,
  ticketClassificationListTrainings,
  ticketClassificationReplaceRule,
  ticketClassificationSaveSettings,
  ticketClassificationStartTraining,
  ticketClassificationTestText,
  ticketsListTickets,
} from '../client'
import type { CorrectionIn, RuleIn, SettingsIn, TrainingSource } from '../client'
import { unwrap } from './client'

// Ticket classification (分类规则, 智能分类, 待分拣): keyword rules, the classifier's trainings and
// versions, the tenant's thresholds, and the triage queue's confirmations and corrections.
export type {
  CorrectionIn as ClassificationCorrection,
  MatchMode as RuleMatchMode,
  ModelOut as ClassifierModel,
  RuleIn as ClassificationRuleIn,
  RuleOut as ClassificationRule,
  RuleTestOut as RuleTestResult,
  SettingsOut as ClassifierSettings,
  TrainingOut as ClassifierTraining,
  TrainingSource as ClassifierTrainingSource,
} from '../client'

const t = { throwOnError: true } as const

export const listClassificationRules = () => unwrap(ticketClassificationListRules(t))
export const createClassificationRule = (body: RuleIn) => unwrap(ticketClassificationCreateRule({ body, ...t }))
export const replaceClassificationRule = (id: number, body: RuleIn) =>
  unwrap(ticketClassificationReplaceRule({ path: { rule_id: id }, body, ...t }))
export const deleteClassificationRule = async (id: number): Promise<void> => {
  await ticketClassificationDeleteRule({ path: { rule_id: id }, ...t })
}
/** What the enabled rules and the active model make of a text (changes nothing). */
export const testClassification = (text: string) => unwrap(ticketClassificationTestText({ body: { text }, ...t }))

export const getClassifierSettings = () => unwrap(ticketClassificationGetSettings(t))
export const saveClassifierSettings = (body: SettingsIn) => unwrap(ticketClassificationSaveSettings({ body, ...t }))

export const listClassifierModels = () => unwrap(ticketClassificationListModels(t))
export const listClassifierTrainings = () => unwrap(ticketClassificationListTrainings(t))
export const getClassifierTraining = (id: number) =>
  unwrap(ticketClassificationGetTraining({ path: { training_id: id }, ...t }))
/** Queues a training in the worker (an unfinished one is answered instead of a second). */
export const startClassifierTraining = (source: TrainingSource = 'tickets') =>
  unwrap(ticketClassificationStartTraining({ body: { source }, ...t }))

/** Open tickets waiting for an agent to confirm or correct their category. */
export const listTriageTickets = (cursor?: string | null) =>
  unwrap(ticketsListTickets({ query: { view: 'triage', cursor, limit: 50 }, ...t }))
export const correctClassification = (ticketId: number, body: CorrectionIn) =>
  unwrap(ticketClassificationCorrectClassification({ path: { ticket_id: ticketId }, body, ...t }))
