"""Identity resolution, merges and the review queue for the console (permission checks around
`identity_resolution` and `merging`). Never commits."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select
from sqlalchemy.orm import Session

from scrm.core.actors import Actor
from scrm.core.errors import Conflict
from scrm.core.pagination import PageRequest, paginate
from scrm.core.tenancy import require_in_tenant, tenant_select
from scrm.customers import identity_resolution, merging
from scrm.customers.models import CustomerMerge, MergeSuggestion, SuggestionStatus
from scrm.customers.permissions import CustomerPermission
from scrm.customers.schemas import MergeSuggestionOut, ResolveOut, ResolveRequest
from scrm.customers.service import access_customer
from scrm.identity.audit import record_audit


def resolve_identities(session: Session, *, actor: Actor, data: ResolveRequest) -> ResolveOut:
    actor.require(CustomerPermission.EDIT if data.dry_run else CustomerPermission.MERGE)
    resolved = identity_resolution.resolve_customer(
        session,
        actor=actor,
        claims=[identity_resolution.Claim(c.kind, c.value, c.namespace) for c in data.identities],
        source=data.source,
        create=data.create,
        dry_run=data.dry_run,
        name=data.name,
    )
    return ResolveOut(
        outcome=resolved.resolution.outcome.value,
        customer_id=resolved.customer_id,
        created=resolved.created,
        merged=resolved.merged,
        attached=[key.describe() for key in resolved.attached],
        suggestions=resolved.suggestions,
        explanation=resolved.resolution.explanation(),
    )


def merge_customer(
    session: Session, *, actor: Actor, customer_id: int, other_id: int, reason: str, force: bool
) -> CustomerMerge:
    actor.require(CustomerPermission.MERGE)
    access_customer(session, actor=actor, customer_id=customer_id)
    access_customer(session, actor=actor, customer_id=other_id)
    return merging.merge_customers(
        session, actor=actor, survivor_id=customer_id, merged_id=other_id, reason=reason, force=force
    )


def unmerge_customer(
    session: Session, *, actor: Actor, customer_id: int, other_id: int, reason: str
) -> CustomerMerge:
    actor.require(CustomerPermission.MERGE)
    access_customer(session, actor=actor, customer_id=customer_id)
    return merging.unmerge_customers(
        session, actor=actor, survivor_id=customer_id, merged_id=other_id, reason=reason
    )


def _suggestion_out(suggestion: MergeSuggestion) -> MergeSuggestionOut:
    return MergeSuggestionOut(
        id=suggestion.id,
        customer_id=suggestion.customer_id,
        other_customer_id=suggestion.other_customer_id,
        status=suggestion.status,
        rule=suggestion.rule,
        explanation=suggestion.explanation,
        identities=suggestion.identities,
        created_at=suggestion.created_at,
        decided_at=suggestion.decided_at,
    )


def list_merge_suggestions(
    session: Session, *, actor: Actor, page: PageRequest, status: str | None = SuggestionStatus.OPEN
) -> tuple[list[MergeSuggestionOut], str | None]:
    actor.require(CustomerPermission.MERGE)
    stmt: Select[Any] = tenant_select(MergeSuggestion, actor.tenant_id)
    if status:
        stmt = stmt.where(MergeSuggestion.status == status)
    items, next_cursor = paginate(session, stmt, MergeSuggestion.id, page)
    return [_suggestion_out(item) for item in items], next_cursor


def dismiss_merge_suggestion(session: Session, *, actor: Actor, suggestion_id: int) -> MergeSuggestionOut:
    actor.require(CustomerPermission.MERGE)
    suggestion = require_in_tenant(session, MergeSuggestion, actor.tenant_id, suggestion_id)
    if suggestion.status != SuggestionStatus.OPEN:
        raise Conflict(f"suggestion {suggestion_id} is already {suggestion.status}")
    identity_resolution.decide_suggestion(session, suggestion, status=SuggestionStatus.DISMISSED, actor=actor)
    record_audit(
        session,
        actor=actor,
        action="customer.merge_suggestion_dismissed",
        target_type="merge_suggestion",
        target_id=suggestion.id,
    )
    return _suggestion_out(suggestion)
