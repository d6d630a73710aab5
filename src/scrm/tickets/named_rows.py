"""Ticket settings kept as named rows (calendars, SLA policies, teams, classification rules): one
create-or-replace for all of them, with the tenant lookup, name uniqueness and the audit entry."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from scrm.core.actors import Actor
from scrm.core.errors import Conflict
from scrm.core.tenancy import require_in_tenant
from scrm.identity.audit import record_audit


def save_named_row(
    session: Session, *, actor: Actor, model: Any, row_id: int | None, values: dict[str, Any], audit: str
) -> Any:
    """Create a `model` row from `values`, or replace the tenant's row `row_id` (404 when absent); its
    name must be free in the tenant (409). Audited as `tickets.<audit>_created|changed` on
    `ticket_<audit>`."""
    row = None if row_id is None else require_in_tenant(session, model, actor.tenant_id, row_id)
    clash = session.scalar(
        select(model.id).where(model.tenant_id == actor.tenant_id, model.name == values["name"])
    )
    if clash is not None and clash != row_id:
        raise Conflict(f"the name {values['name']!r} is taken")
    if row is None:
        row = model(tenant_id=actor.tenant_id, **values)
        session.add(row)
    else:
        for key, value in values.items():
            setattr(row, key, value)
    session.flush()
    record_audit(
        session,
        actor=actor,
        action=f"tickets.{audit}_{'created' if row_id is None else 'changed'}",
        target_type=f"ticket_{audit}",
        target_id=row.id,
        detail=values,
    )
    return row
