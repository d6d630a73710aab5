"""Saved segments (客户分群): conditions over customers, counted, listed and exported live.

Counts and member lists honour the actor's data scope (an agent's segment count is of their own
customers). Relative dates ("within the last 30 days") are read at each count. Never commits.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Iterator, Sequence
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from scrm.core.actors import Actor
from scrm.core.clock import utcnow
from scrm.core.conditions import Node, condition_to_json
from scrm.core.pagination import PageRequest, paginate
from scrm.core.tenancy import require_in_tenant, tenant_select
from scrm.customers.models import (
    Customer,
    CustomerIdentity,
    CustomerTag,
    FollowRelation,
    FollowStatus,
    IdentityKind,
    Segment,
    Tag,
)
from scrm.customers.permissions import CustomerPermission
from scrm.customers.phones import mask_phone, phone_vault
from scrm.customers.query import (
    customer_select,
    parse_customer_condition,
    time_context,
    visible_staff_userids,
)
from scrm.customers.schemas import (
    CustomerOut,
    PreviewOut,
    SegmentCountOut,
    SegmentIn,
    SegmentOut,
    SegmentPatch,
)
from scrm.customers.service import render_customers
from scrm.identity.audit import record_audit
from scrm.staff.service import names_by_userid


def segment_out(segment: Segment) -> SegmentOut:
    return SegmentOut(
        id=segment.id,
        name=segment.name,
        description=segment.description,
        condition=segment.condition,
        created_by=segment.created_by,
        created_at=segment.created_at,
        updated_at=segment.updated_at,
        last_count=segment.last_count,
        last_counted_at=segment.last_counted_at,
    )


def list_segments(
    session: Session, *, actor: Actor, page: PageRequest
) -> tuple[list[SegmentOut], str | None]:
    actor.require(CustomerPermission.VIEW)
    items, next_cursor = paginate(session, tenant_select(Segment, actor.tenant_id), Segment.id, page)
    return [segment_out(item) for item in items], next_cursor


def require_segment(session: Session, *, actor: Actor, segment_id: int) -> Segment:
    actor.require(CustomerPermission.VIEW)
    return require_in_tenant(session, Segment, actor.tenant_id, segment_id)


def create_segment(session: Session, *, actor: Actor, data: SegmentIn) -> Segment:
    actor.require(CustomerPermission.SEGMENTS_MANAGE)
    node = parse_customer_condition(session, actor.tenant_id, data.condition)
    segment = Segment(
        tenant_id=actor.tenant_id,
        name=data.name,
        description=data.description,
        condition=condition_to_json(node),
        created_by=actor.label,
    )
    session.add(segment)
    session.flush()
    record_audit(
        session,
        actor=actor,
        action="segment.created",
        target_type="segment",
        target_id=segment.id,
        detail={"name": data.name},
    )
    return segment


def update_segment(session: Session, *, actor: Actor, segment_id: int, data: SegmentPatch) -> Segment:
    actor.require(CustomerPermission.SEGMENTS_MANAGE)
    segment = require_in_tenant(session, Segment, actor.tenant_id, segment_id)
    if data.condition is not None:
        segment.condition = condition_to_json(
            parse_customer_condition(session, actor.tenant_id, data.condition)
        )
        segment.last_count = None
        segment.last_counted_at = None
    if data.name is not None:
        segment.name = data.name
    if "description" in data.model_fields_set:
        segment.description = data.description
    session.flush()
    record_audit(
        session,
        actor=actor,
        action="segment.updated",
        target_type="segment",
        target_id=segment.id,
        detail={"fields": sorted(data.model_fields_set)},
    )
    return segment


def delete_segment(session: Session, *, actor: Actor, segment_id: int) -> None:
    actor.require(CustomerPermission.SEGMENTS_MANAGE)
    segment = require_in_tenant(session, Segment, actor.tenant_id, segment_id)
    session.delete(segment)
    record_audit(
        session,
        actor=actor,
        action="segment.deleted",
        target_type="segment",
        target_id=segment_id,
        detail={"name": segment.name},
    )


def _members_select(session: Session, actor: Actor, node: Node, columns: Any = None) -> Any:
    return customer_select(
        session,
        tenant_id=actor.tenant_id,
        scope_userids=visible_staff_userids(session, actor),
        condition=node,
        context=time_context(),
        columns=columns,
    )


def count_condition(session: Session, *, actor: Actor, node: Node) -> int:
    stmt = _members_select(session, actor, node, columns=(Customer.id,))
    return int(session.scalar(select(func.count()).select_from(stmt.subquery())) or 0)


def count_segment(
    session: Session, *, actor: Actor, segment_id: int, remember: bool = False
) -> SegmentCountOut:
    """The live count in the actor's data scope. With `remember` (a manager's explicit refresh, never
    a GET: reads take no write lock) it is also stored as the segment's `last_count` for the list."""
    segment = require_segment(session, actor=actor, segment_id=segment_id)
    if remember:
        actor.require(CustomerPermission.SEGMENTS_MANAGE)
    node = parse_customer_condition(session, actor.tenant_id, segment.condition)
    started = time.perf_counter()
    count = count_condition(session, actor=actor, node=node)
    took = (time.perf_counter() - started) * 1000
    counted_at = utcnow()
    if remember:
        segment.last_count, segment.last_counted_at = count, counted_at
        session.flush()
    return SegmentCountOut(count=count, counted_at=counted_at, took_ms=round(took, 2))


def segment_members(
    session: Session, *, actor: Actor, segment_id: int, page: PageRequest
) -> tuple[list[CustomerOut], str | None]:
    segment = require_segment(session, actor=actor, segment_id=segment_id)
    node = parse_customer_condition(session, actor.tenant_id, segment.condition)
    customers, next_cursor = paginate(session, _members_select(session, actor, node), Customer.id, page)
    return render_customers(session, actor=actor, customers=customers), next_cursor


def preview(session: Session, *, actor: Actor, condition: dict[str, Any], limit: int) -> PreviewOut:
    """For the builder's live count: the count and the first page of an unsaved condition."""
    actor.require(CustomerPermission.VIEW)
    node = parse_customer_condition(session, actor.tenant_id, condition)
    started = time.perf_counter()
    count = count_condition(session, actor=actor, node=node)
    took = (time.perf_counter() - started) * 1000
    customers, next_cursor = paginate(
        session, _members_select(session, actor, node), Customer.id, PageRequest(limit)
    )
    return PreviewOut(
        count=count,
        took_ms=round(took, 2),
        items=render_customers(session, actor=actor, customers=customers),
        next_cursor=next_cursor,
    )


# --- export -----------------------------------------------------------------------------------------

EXPORT_HEADER = [
    "ID",
    "姓名 Name",
    "添加时间 Added at",
    "来源渠道 Channel",
    "门店 Store",
    "区域 Region",
    "标签 Tags",
    "跟进员工 Staff",
    "手机 Phone",
]
EXPORT_BATCH = 1000


def check_export(session: Session, *, actor: Actor, segment_id: int) -> Segment:
    actor.require(CustomerPermission.EXPORT)
    segment = require_segment(session, actor=actor, segment_id=segment_id)
    parse_customer_condition(session, actor.tenant_id, segment.condition)
    return segment


def _export_batch(
    session: Session, tenant_id: int, customers: Sequence[Customer], full_pii: bool
) -> list[list[Any]]:
    ids = [customer.id for customer in customers]
    tags: dict[int, list[str]] = defaultdict(list)
    for customer_id, name in session.execute(
        select(CustomerTag.customer_id, Tag.name)
        .join(Tag, Tag.id == CustomerTag.tag_id)
        .where(CustomerTag.tenant_id == tenant_id, CustomerTag.customer_id.in_(ids))
        .order_by(Tag.id)
    ):
        tags[customer_id].append(name)
    staff: dict[int, list[str]] = defaultdict(list)
    relations = session.execute(
        select(FollowRelation.customer_id, FollowRelation.staff_userid).where(
            FollowRelation.tenant_id == tenant_id,
            FollowRelation.customer_id.in_(ids),
            FollowRelation.status == FollowStatus.ACTIVE,
        )
    ).all()
    names = names_by_userid(session, tenant_id=tenant_id, userids={userid for _, userid in relations})
    for customer_id, userid in relations:
        staff[customer_id].append(names.get(userid, userid))
    phones: dict[int, str] = {}
    vault = phone_vault()
    for customer_id, sealed in session.execute(
        select(CustomerIdentity.customer_id, CustomerIdentity.value_encrypted).where(
            CustomerIdentity.tenant_id == tenant_id,
            CustomerIdentity.customer_id.in_(ids),
            CustomerIdentity.kind == IdentityKind.PHONE,
        )
    ):
        number = vault.open(tenant_id, sealed) if sealed else None
        if number and customer_id not in phones:
            phones[customer_id] = number if full_pii else mask_phone(number)
    return [
        [
            customer.id,
            customer.name,
            customer.first_seen_at.isoformat(timespec="seconds"),
            customer.source_label or "",
            customer.store or "",
            customer.region or "",
            "、".join(tags.get(customer.id, [])),
            "、".join(sorted(staff.get(customer.id, []))),
            phones.get(customer.id, ""),
        ]
        for customer in customers
    ]


def iter_export_rows(session: Session, *, actor: Actor, segment_id: int) -> Iterator[list[Any]]:
    """The header, then one row per member (newest first), read in batches so memory stays flat."""
    segment = require_segment(session, actor=actor, segment_id=segment_id)
    node = parse_customer_condition(session, actor.tenant_id, segment.condition)
    stmt = _members_select(session, actor, node)
    full_pii = actor.can(CustomerPermission.PII_VIEW)
    yield EXPORT_HEADER
    cursor: int | None = None
    while True:
        batch_stmt = stmt if cursor is None else stmt.where(Customer.id < cursor)
        customers = list(session.scalars(batch_stmt.order_by(Customer.id.desc()).limit(EXPORT_BATCH)))
        if not customers:
            return
        yield from _export_batch(session, actor.tenant_id, customers, full_pii)
        cursor = customers[-1].id
        session.expunge_all()
