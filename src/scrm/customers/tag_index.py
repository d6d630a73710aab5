"""The tag index (`customer_tags`): which customer carries which tag, as rows a segment can intersect.

A customer's tags are the tags on their *active* follow relations (WeCom's truth, ids mapped to our
`Tag` rows) plus their local tags (`customer_local_tags`), minus deleted tags; merged-away profiles
carry none. The index is derived data: `refresh_customer_tags` recomputes it for some customers and
writes only the difference, and every write path that changes one of its inputs calls it (sync
pages, callbacks, console tagging, merges, tag creation and deletion). `index_differences` recomputes
everything for a tenant and says what disagrees, for tests and for an operator's repair.

Never commits.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import Table, bindparam, delete, insert, select, update
from sqlalchemy.orm import Session

from scrm.customers.models import (
    Customer,
    CustomerLocalTag,
    CustomerTag,
    FollowRelation,
    FollowStatus,
    Tag,
)

_CHUNK = 500
# Executemany DELETE / UPDATE with per-row parameters are Core statements (not ORM bulk ones).
_INDEX: Table = CustomerTag.__table__  # type: ignore[assignment]


def _chunks(values: list[int]) -> Iterable[list[int]]:
    for start in range(0, len(values), _CHUNK):
        yield values[start : start + _CHUNK]


def desired_tags(session: Session, tenant_id: int, customer_ids: Collection[int]) -> dict[int, set[int]]:
    """customer id → the ids of the tags the customer carries now (computed from the inputs)."""
    ids = list(set(customer_ids))
    result: dict[int, set[int]] = {customer_id: set() for customer_id in ids}
    if not ids:
        return result
    wanted: dict[int, list[tuple[int, list[str]]]] = defaultdict(list)  # customer → (connection, tags)
    wecom_ids: set[str] = set()
    for chunk in _chunks(ids):
        for customer_id, connection_id, tag_ids in session.execute(
            select(FollowRelation.customer_id, FollowRelation.connection_id, FollowRelation.tag_ids).where(
                FollowRelation.tenant_id == tenant_id,
                FollowRelation.customer_id.in_(chunk),
                FollowRelation.status == FollowStatus.ACTIVE,
            )
        ):
            if tag_ids:
                wanted[customer_id].append((connection_id, list(tag_ids)))
                wecom_ids.update(tag_ids)
    mapping: dict[tuple[int | None, str], int] = {}
    wecom_list = sorted(wecom_ids)
    for start in range(0, len(wecom_list), _CHUNK):
        for our_id, tag_connection, wecom_tag_id in session.execute(
            select(Tag.id, Tag.connection_id, Tag.wecom_tag_id).where(
                Tag.tenant_id == tenant_id,
                Tag.wecom_tag_id.in_(wecom_list[start : start + _CHUNK]),
                Tag.is_deleted.is_(False),
            )
        ):
            mapping[(tag_connection, str(wecom_tag_id))] = our_id
    for customer_id, relations in wanted.items():
        for connection_id, tag_ids in relations:
            for wecom_tag_id in tag_ids:
                found = mapping.get((connection_id, wecom_tag_id))
                if found is not None:
                    result[customer_id].add(found)
    for chunk in _chunks(ids):
        for customer_id, tag_id in session.execute(
            select(CustomerLocalTag.customer_id, CustomerLocalTag.tag_id)
            .join(Tag, Tag.id == CustomerLocalTag.tag_id)
            .where(
                CustomerLocalTag.tenant_id == tenant_id,
                CustomerLocalTag.customer_id.in_(chunk),
                Tag.is_deleted.is_(False),
            )
        ):
            result[customer_id].add(tag_id)
    return result


def _live_customers(session: Session, tenant_id: int, ids: list[int]) -> dict[int, datetime]:
    """id → first_seen_at of the given customers that exist and are not merged away."""
    live: dict[int, datetime] = {}
    for chunk in _chunks(ids):
        for customer_id, first_seen_at in session.execute(
            select(Customer.id, Customer.first_seen_at).where(
                Customer.tenant_id == tenant_id, Customer.id.in_(chunk), Customer.merged_into_id.is_(None)
            )
        ):
            live[customer_id] = first_seen_at
    return live


def refresh_customer_tags(session: Session, tenant_id: int, customer_ids: Iterable[int]) -> int:
    """Bring the index rows of these customers in line with their relations and local tags.

    Returns how many rows were inserted, deleted or updated. Call it after any change to a
    customer's follow relations (tags, status, owner), local tags, `first_seen_at` or merge state.
    """
    ids = sorted(set(customer_ids))
    if not ids:
        return 0
    session.flush()
    live = _live_customers(session, tenant_id, ids)
    desired = desired_tags(session, tenant_id, list(live))
    existing: dict[tuple[int, int], datetime] = {}
    for chunk in _chunks(ids):
        for customer_id, tag_id, added_at in session.execute(
            select(CustomerTag.customer_id, CustomerTag.tag_id, CustomerTag.customer_added_at).where(
                CustomerTag.tenant_id == tenant_id, CustomerTag.customer_id.in_(chunk)
            )
        ):
            existing[(customer_id, tag_id)] = added_at
    wanted = {
        (customer_id, tag_id): live[customer_id]
        for customer_id, tag_ids in desired.items()
        for tag_id in tag_ids
    }
    to_delete = [key for key in existing if key not in wanted]
    to_insert = [key for key in wanted if key not in existing]
    to_update = [key for key, added_at in wanted.items() if key in existing and existing[key] != added_at]
    if to_delete:
        session.execute(
            delete(_INDEX).where(
                _INDEX.c.tenant_id == tenant_id,
                _INDEX.c.customer_id == bindparam("c"),
                _INDEX.c.tag_id == bindparam("t"),
            ),
            [{"c": customer_id, "t": tag_id} for customer_id, tag_id in to_delete],
        )
    if to_insert:
        session.execute(
            insert(CustomerTag),
            [
                {"tenant_id": tenant_id, "customer_id": c, "tag_id": t, "customer_added_at": wanted[(c, t)]}
                for c, t in to_insert
            ],
        )
    if to_update:
        session.execute(
            update(_INDEX)
            .where(
                _INDEX.c.tenant_id == tenant_id,
                _INDEX.c.customer_id == bindparam("c"),
                _INDEX.c.tag_id == bindparam("t"),
            )
            .values(customer_added_at=bindparam("a")),
            [{"c": c, "t": t, "a": wanted[(c, t)]} for c, t in to_update],
        )
    return len(to_delete) + len(to_insert) + len(to_update)


def drop_tags_from_index(session: Session, tenant_id: int, tag_ids: Collection[int]) -> None:
    """Deleted tags leave the index at once (their relations may name them until the next sync)."""
    if tag_ids:
        session.execute(
            delete(CustomerTag).where(
                CustomerTag.tenant_id == tenant_id, CustomerTag.tag_id.in_(list(tag_ids))
            )
        )


def backfill_tags(session: Session, tenant_id: int, tags: Iterable[Tag]) -> int:
    """Tags that appeared (created, given their WeCom id, or undeleted) may already be on relations:
    index the customers whose active relations name them. A rare path; it scans the connection's
    relations for the WeCom ids. Returns how many customers were refreshed."""
    by_connection: dict[int, set[str]] = defaultdict(set)
    local: list[int] = []
    for tag in tags:
        if tag.is_deleted:
            continue
        if tag.connection_id is not None and tag.wecom_tag_id:
            by_connection[tag.connection_id].add(str(tag.wecom_tag_id))
        elif tag.connection_id is None:
            local.append(tag.id)
    customer_ids: set[int] = set()
    for connection_id, wecom_ids in by_connection.items():
        rows = session.execute(
            select(FollowRelation.customer_id, FollowRelation.tag_ids).where(
                FollowRelation.tenant_id == tenant_id,
                FollowRelation.connection_id == connection_id,
                FollowRelation.status == FollowStatus.ACTIVE,
            )
        )
        customer_ids.update(customer_id for customer_id, tag_ids in rows if wecom_ids.intersection(tag_ids))
    if local:
        customer_ids.update(
            session.scalars(
                select(CustomerLocalTag.customer_id).where(
                    CustomerLocalTag.tenant_id == tenant_id, CustomerLocalTag.tag_id.in_(local)
                )
            )
        )
    refresh_customer_tags(session, tenant_id, customer_ids)
    return len(customer_ids)


def index_differences(session: Session, tenant_id: int) -> dict[str, Any]:
    """Recompute the whole tenant's index and compare: `{"missing": [...], "extra": [...],
    "wrong_date": [...]}` as (customer id, tag id) pairs; all empty when the index is consistent."""
    customer_ids = list(session.scalars(select(Customer.id).where(Customer.tenant_id == tenant_id)))
    live = _live_customers(session, tenant_id, customer_ids)
    desired = desired_tags(session, tenant_id, list(live))
    wanted = {(c, t): live[c] for c, tags in desired.items() for t in tags}
    existing = {
        (c, t): added_at
        for c, t, added_at in session.execute(
            select(CustomerTag.customer_id, CustomerTag.tag_id, CustomerTag.customer_added_at).where(
                CustomerTag.tenant_id == tenant_id
            )
        )
    }
    return {
        "missing": sorted(key for key in wanted if key not in existing),
        "extra": sorted(key for key in existing if key not in wanted),
        "wrong_date": sorted(key for key in wanted if key in existing and existing[key] != wanted[key]),
    }
