"""Selecting customers: the tenant, live profiles only, the actor's data scope, a condition, a search.

Lists, segments, exports and bulk jobs all start from `customer_select`, so they agree on who is
visible. Never commits.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from sqlalchemy import ColumnElement, Select, exists, or_, select
from sqlalchemy.orm import Session

from scrm.core.actors import Actor, DataScope
from scrm.core.clock import utcnow
from scrm.core.conditions import ConditionError, Node, TimeContext, compile_condition, parse_condition
from scrm.core.errors import ValidationFailed
from scrm.customers.fields import customer_fields
from scrm.customers.models import Customer, CustomerIdentity, FollowRelation, FollowStatus, IdentityKind
from scrm.customers.phones import looks_like_phone, normalize_phone, phone_vault
from scrm.identity.service import user_ids_in_departments
from scrm.staff.service import userids_of_users


def visible_staff_userids(session: Session, actor: Actor) -> set[str] | None:
    """The staff whose customers the actor sees; None means every customer."""
    if actor.data_scope == DataScope.ALL:
        return None
    if actor.data_scope == DataScope.OWN:
        user_ids = {actor.user_id} if actor.user_id is not None else set()
    else:
        user_ids = user_ids_in_departments(
            session, tenant_id=actor.tenant_id, department_ids=actor.department_ids
        )
        if actor.user_id is not None:
            user_ids.add(actor.user_id)
    return userids_of_users(session, tenant_id=actor.tenant_id, user_ids=user_ids)


def scope_clause(tenant_id: int, userids: Collection[str] | None) -> ColumnElement[bool] | None:
    """Customers followed (now or before) by one of `userids`; None when unrestricted."""
    if userids is None:
        return None
    return exists().where(
        FollowRelation.customer_id == Customer.id,
        FollowRelation.tenant_id == tenant_id,
        FollowRelation.staff_userid.in_(list(userids)),
    )


def search_clause(tenant_id: int, q: str) -> ColumnElement[bool]:
    """Name or remark containing `q`, an identifier equal to it, or (phones) the same number."""
    text = q.strip()
    pattern = f"%{text}%"
    options: list[ColumnElement[bool]] = [
        Customer.name.ilike(pattern),
        exists().where(
            FollowRelation.customer_id == Customer.id,
            FollowRelation.tenant_id == tenant_id,
            FollowRelation.remark.ilike(pattern),
        ),
        exists().where(
            CustomerIdentity.customer_id == Customer.id,
            CustomerIdentity.tenant_id == tenant_id,
            CustomerIdentity.kind != IdentityKind.PHONE,
            CustomerIdentity.value == text,
        ),
    ]
    if looks_like_phone(text):
        options.append(
            exists().where(
                CustomerIdentity.customer_id == Customer.id,
                CustomerIdentity.tenant_id == tenant_id,
                CustomerIdentity.kind == IdentityKind.PHONE,
                CustomerIdentity.value == phone_vault().hash(tenant_id, normalize_phone(text)),
            )
        )
    return or_(*options)


def time_context(now_iso: str | None = None) -> TimeContext:
    from datetime import datetime

    return TimeContext(now=datetime.fromisoformat(now_iso) if now_iso else utcnow())


def parse_customer_condition(
    session: Session, tenant_id: int, data: Any, *, prefix: str = "condition"
) -> Node:
    """The checked condition; raises ValidationFailed with `prefix.path` field errors."""
    try:
        return parse_condition(data, customer_fields(session, tenant_id))
    except ConditionError as error:
        raise ValidationFailed(
            "the condition is not valid", field_errors=error.field_errors(prefix)
        ) from error


def customer_select(
    session: Session,
    *,
    tenant_id: int,
    scope_userids: Collection[str] | None,
    condition: Node | None = None,
    q: str | None = None,
    context: TimeContext | None = None,
    columns: Any = None,
) -> Select[Any]:
    """SELECT live customers of the tenant, in scope, matching `condition` and the search `q`."""
    stmt = select(*(columns or (Customer,))).where(
        Customer.tenant_id == tenant_id, Customer.merged_into_id.is_(None)
    )
    scoped = scope_clause(tenant_id, scope_userids)
    if scoped is not None:
        stmt = stmt.where(scoped)
    if condition is not None:
        registry = customer_fields(session, tenant_id)
        stmt = stmt.where(compile_condition(condition, registry, context or time_context()))
    if q and q.strip():
        stmt = stmt.where(search_clause(tenant_id, q))
    return stmt


def follow_staff_userids(session: Session, *, tenant_id: int, customer_id: int) -> list[str]:
    """The staff (WeCom userids) actively following a customer, the most recent follower first."""
    rows = session.scalars(
        select(FollowRelation.staff_userid)
        .where(
            FollowRelation.tenant_id == tenant_id,
            FollowRelation.customer_id == customer_id,
            FollowRelation.status == FollowStatus.ACTIVE,
        )
        .order_by(FollowRelation.followed_at.desc(), FollowRelation.id.desc())
    )
    return list(dict.fromkeys(rows))
