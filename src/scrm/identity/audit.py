"""The audit log: one append-only row per consequential action, written in the action's transaction."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from scrm.core.actors import Actor
from scrm.core.pagination import PageRequest, paginate
from scrm.core.tenancy import tenant_select
from scrm.identity.models import AuditEntry


def record_audit(
    session: Session,
    *,
    actor: Actor,
    action: str,
    target_type: str | None = None,
    target_id: object | None = None,
    detail: dict[str, Any] | None = None,
) -> AuditEntry:
    entry = AuditEntry(
        tenant_id=actor.tenant_id,
        actor=actor.label,
        actor_name=actor.name,
        action=action,
        target_type=target_type,
        target_id=None if target_id is None else str(target_id),
        ip=actor.ip,
        user_agent=actor.user_agent,
        detail=detail or {},
    )
    session.add(entry)
    return entry


def list_audit(
    session: Session,
    *,
    actor: Actor,
    page: PageRequest,
    action: str | None = None,
    actor_filter: str | None = None,
) -> tuple[list[AuditEntry], str | None]:
    stmt = tenant_select(AuditEntry, actor.tenant_id)
    if action:
        stmt = stmt.where(AuditEntry.action.startswith(action))
    if actor_filter:
        stmt = stmt.where(AuditEntry.actor == actor_filter)
    return paginate(session, stmt, AuditEntry.id, page)
