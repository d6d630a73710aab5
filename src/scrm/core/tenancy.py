"""The one way to read tenant data: every query is filtered by the acting tenant.

Another tenant's id is indistinguishable from a missing one (404), so ids never leak across tenants.
"""

from __future__ import annotations

from typing import Any, TypeVar

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from scrm.core.errors import NotFound

ModelT = TypeVar("ModelT")


def tenant_select(model: type[ModelT], tenant_id: int) -> Select:
    """`SELECT model WHERE tenant_id = :tenant_id`, the starting point of every tenant query."""
    return select(model).where(model.tenant_id == tenant_id)  # type: ignore[attr-defined]


def get_in_tenant(session: Session, model: type[ModelT], tenant_id: int, record_id: Any) -> ModelT | None:
    """The record with primary key `record_id` if it belongs to the tenant, else None. Served from
    the session's identity map when the record is loaded already (no query, no autoflush: a batch
    that looks up the same policy or team per row stays cheap)."""
    record = session.get(model, record_id)
    if record is None or record.tenant_id != tenant_id:  # type: ignore[attr-defined]
        return None
    return record


def require_in_tenant(session: Session, model: type[ModelT], tenant_id: int, record_id: Any) -> ModelT:
    """The record with `record_id` in this tenant; raises NotFound if absent or in another tenant."""
    record = get_in_tenant(session, model, tenant_id, record_id)
    if record is None:
        name = getattr(model, "__tablename__", model.__name__).rstrip("s")
        raise NotFound(f"{name} {record_id} not found")
    return record
