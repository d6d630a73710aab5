"""Ticket classification (分类) and priority: per-tenant keyword rules, a naive Bayes classifier trained
on the tenant's own tickets and agents' corrections, the triage queue and tickets from chat messages.

Modules: `tokens` (jieba, loaded once per process), `rules` (pure rule evaluation), `bayes` (pure
training and prediction), `models` (tables), `on_create` (what ticket creation calls), `training`
(the durable training job), `service` (rules, corrections, settings, from-message), `api`.
"""
