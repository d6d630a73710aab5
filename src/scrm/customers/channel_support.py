"""What the channels domain writes to and reads from customer profiles when a channel code adds someone:
the customer of an add, its source channel, local tags and remarks on the follow relation, timeline
entries, and the previous guide for sticky routing. Never commits.

Kept apart from `wecom_ingest` so the channels domain depends on a small, stable surface.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Table, case, func, select, update
from sqlalchemy.orm import Session

from scrm.customers.models import (
    Customer,
    CustomerIdentity,
    CustomerMerge,
    FollowRelation,
    IdentityKind,
    MergeStatus,
    Tag,
    TagGroup,
    TimelineEntry,
)
from scrm.customers.tag_index import refresh_customer_tags
from scrm.customers.wecom_ingest import WeComScope, resolve_wecom_customers

#: The source label of customers added through a state that matches no live code.
UNKNOWN_CHANNEL = "unknown channel"


@dataclass(frozen=True)
class TagInfo:
    id: int
    name: str
    wecom_tag_id: str | None
    group_name: str


@dataclass(frozen=True)
class AddedCustomer:
    id: int
    name: str
    is_returning: bool


def resolve_added_customer(
    session: Session, scope: WeComScope, *, external_userid: str, known_before: datetime
) -> AddedCustomer:
    """The customer behind `external_userid` (created if the customers handler has not yet), and
    whether they are returning: known before `known_before` (when the add's callback arrived), e.g.
    from an earlier scan, a sync, or another channel. Merged profiles resolve to the surviving one."""
    found = session.execute(
        select(Customer.id, Customer.name, Customer.created_at, Customer.merged_into_id)
        .join(CustomerIdentity, CustomerIdentity.customer_id == Customer.id)
        .where(
            CustomerIdentity.tenant_id == scope.tenant_id,
            CustomerIdentity.kind == IdentityKind.WECOM_EXTERNAL_USERID,
            CustomerIdentity.namespace == scope.corp_id,
            CustomerIdentity.value == external_userid,
        )
    ).first()
    if found is not None and found.merged_into_id is None:
        return AddedCustomer(id=found.id, name=found.name or "", is_returning=found.created_at < known_before)
    ids, _ = resolve_wecom_customers(session, scope, [(external_userid, None)])
    customer = session.get_one(Customer, ids[external_userid])
    seen: set[int] = set()
    while customer.merged_into_id is not None and customer.id not in seen:
        seen.add(customer.id)
        customer = session.get_one(Customer, customer.merged_into_id)
    return AddedCustomer(
        id=customer.id, name=customer.name or "", is_returning=customer.created_at < known_before
    )


def customer_name(session: Session, *, tenant_id: int, customer_id: int) -> str:
    name = session.scalar(
        select(Customer.name).where(Customer.tenant_id == tenant_id, Customer.id == customer_id)
    )
    return name or ""


def record_source_channel(
    session: Session,
    *,
    tenant_id: int,
    customer_id: int,
    code_id: int | None,
    label: str,
    store: str | None = None,
    region: str | None = None,
) -> None:
    """Set the customer's source channel (`source_channel_id`, `source_label`) unless one is recorded:
    first touch wins, except that a recorded unknown channel gives way to the first real one. The
    code's store and region fill the customer's when those are empty. One conditional UPDATE, so
    concurrent adds of the same person cannot overwrite each other's first touch."""
    table = Customer.__table__
    assert isinstance(table, Table)
    columns = table.c
    unset = columns.source_channel_id.is_(None)
    values: dict[str, Any]
    if code_id is None:
        values = {"source_label": func.coalesce(columns.source_label, label[:100])}
    else:
        values = {
            "source_channel_id": case((unset, code_id), else_=columns.source_channel_id),
            "source_label": case((unset, label[:100]), else_=columns.source_label),
            "store": func.coalesce(columns.store, store),
            "region": func.coalesce(columns.region, region),
        }
    statement = update(table).where(columns.tenant_id == tenant_id, columns.id == customer_id)
    if code_id is None:
        statement = statement.where(unset)
    session.execute(statement.values(**values))


def add_timeline(
    session: Session,
    *,
    tenant_id: int,
    customer_id: int,
    kind: str,
    summary: str,
    detail: dict[str, Any],
    occurred_at: datetime,
) -> None:
    session.add(
        TimelineEntry(
            tenant_id=tenant_id,
            customer_id=customer_id,
            occurred_at=occurred_at,
            kind=kind,
            summary=summary[:300],
            detail=detail,
        )
    )


def _relation(
    session: Session, scope: WeComScope, external_userid: str, staff_userid: str
) -> FollowRelation | None:
    """The follow relation by its natural key (member, external contact), locked for the change."""
    return session.scalars(
        select(FollowRelation)
        .where(
            FollowRelation.tenant_id == scope.tenant_id,
            FollowRelation.connection_id == scope.connection_id,
            FollowRelation.external_userid == external_userid,
            FollowRelation.staff_userid == staff_userid,
        )
        .with_for_update()
    ).one_or_none()


def update_follow(
    session: Session,
    scope: WeComScope,
    *,
    external_userid: str,
    staff_userid: str,
    add_wecom_tag_ids: Iterable[str] = (),
    remark: str | None = None,
    description: str | None = None,
) -> bool:
    """Mirror on the follow relation what we just did in WeCom through the API (which sends no
    callback for it): add corp tags (by WeCom id) and set the remark and description given (None: left
    alone). Refreshes the customer's tag index when the tags changed. Returns False when there is no
    such relation yet."""
    relation = _relation(session, scope, external_userid, staff_userid)
    if relation is None:
        return False
    merged = sorted(set(relation.tag_ids or []) | {str(tag) for tag in add_wecom_tag_ids})
    tags_changed = merged != sorted(relation.tag_ids or [])
    if tags_changed:
        relation.tag_ids = merged
    if remark is not None:
        relation.remark = remark
    if description is not None:
        relation.description = description
    if tags_changed:
        session.flush()
        refresh_customer_tags(session, scope.tenant_id, [relation.customer_id])
    return True


def previous_guide(
    session: Session, scope: WeComScope, *, customer_id: int, exclude_staff: str
) -> str | None:
    """The member the customer followed most recently before, other than `exclude_staff`."""
    return session.scalar(
        select(FollowRelation.staff_userid)
        .where(
            FollowRelation.tenant_id == scope.tenant_id,
            FollowRelation.connection_id == scope.connection_id,
            FollowRelation.customer_id == customer_id,
            FollowRelation.staff_userid != exclude_staff,
        )
        .order_by(FollowRelation.followed_at.desc(), FollowRelation.id.desc())
        .limit(1)
    )


def follow_add_way(
    session: Session, scope: WeComScope, *, external_userid: str, staff_userid: str
) -> int | None:
    """The relation's `add_way` as WeCom reported it (None: unknown, or no relation yet)."""
    return session.scalar(
        select(FollowRelation.add_way).where(
            FollowRelation.tenant_id == scope.tenant_id,
            FollowRelation.connection_id == scope.connection_id,
            FollowRelation.external_userid == external_userid,
            FollowRelation.staff_userid == staff_userid,
        )
    )


def is_following(session: Session, scope: WeComScope, *, customer_id: int, staff_userid: str) -> bool:
    status = session.scalar(
        select(FollowRelation.status).where(
            FollowRelation.tenant_id == scope.tenant_id,
            FollowRelation.connection_id == scope.connection_id,
            FollowRelation.customer_id == customer_id,
            FollowRelation.staff_userid == staff_userid,
        )
    )
    return status == "active"


def _tag_infos(session: Session, tenant_id: int, where: Sequence[Any]) -> list[TagInfo]:
    rows = session.execute(
        select(Tag, TagGroup.name)
        .join(TagGroup, TagGroup.id == Tag.group_id)
        .where(Tag.tenant_id == tenant_id, Tag.is_deleted.is_(False), *where)
        .order_by(Tag.id)
    ).all()
    return [TagInfo(tag.id, tag.name, tag.wecom_tag_id, group_name) for tag, group_name in rows]


def tags_by_ids(session: Session, *, tenant_id: int, tag_ids: Sequence[int]) -> list[TagInfo]:
    """The live tags among `tag_ids`, in the order given."""
    if not tag_ids:
        return []
    found = {info.id: info for info in _tag_infos(session, tenant_id, [Tag.id.in_(list(tag_ids))])}
    return [found[tag_id] for tag_id in tag_ids if tag_id in found]


def find_tags(
    session: Session, *, tenant_id: int, connection_id: int, refs: Sequence[int | str]
) -> tuple[list[TagInfo], list[int | str]]:
    """Tags of the connection's corp named by id (int) or by name (str; unique names only).
    Returns (found tags in order, refs that match none or several)."""
    available = _tag_infos(session, tenant_id, [Tag.connection_id == connection_id])
    by_id = {info.id: info for info in available}
    by_name: dict[str, list[TagInfo]] = {}
    for info in available:
        by_name.setdefault(info.name, []).append(info)
    found: list[TagInfo] = []
    missing: list[int | str] = []
    for ref in refs:
        if isinstance(ref, int):
            match = by_id.get(ref)
        else:
            candidates = by_name.get(ref, [])
            match = candidates[0] if len(candidates) == 1 else None
        if match is None:
            missing.append(ref)
        elif match not in found:
            found.append(match)
    return found, missing


def merge_is_active(session: Session, *, tenant_id: int, merge_id: int) -> bool:
    """Whether the merge `merge_id` still stands (a late `customer.merged` after its undo must not
    move anything)."""
    merge = session.get(CustomerMerge, merge_id)
    return merge is not None and merge.tenant_id == tenant_id and merge.status == MergeStatus.ACTIVE


def relations_of(session: Session, *, tenant_id: int, customer_id: int) -> set[tuple[int, str]]:
    """(connection_id, external_userid) of every follow relation of the customer, any status."""
    rows = session.execute(
        select(FollowRelation.connection_id, FollowRelation.external_userid).where(
            FollowRelation.tenant_id == tenant_id, FollowRelation.customer_id == customer_id
        )
    )
    return {(connection_id, external_userid) for connection_id, external_userid in rows}
