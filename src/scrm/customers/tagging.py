"""Putting tags on customers from the console and from bulk jobs; what to push to WeCom.

A WeCom corp tag lives on follow relations (WeCom keeps tags per member × customer): tagging a
customer sets it on each of their active relations in the tag's corp, at once locally (the profile,
the tag index and segments see it immediately), and publishes `customers.tags_changed`; the WeCom
reaction then calls `mark_tag` per relation with the change (retries are harmless: marking a tag
twice is a no-op in WeCom). Local tags (groups without a connection) are rows of
`customer_local_tags`. Never commits.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import delete, insert, select, update
from sqlalchemy.orm import Session

from scrm.core.clock import utcnow
from scrm.core.errors import Conflict, ValidationFailed
from scrm.core.events import publish_many
from scrm.customers.events import CustomerTagsChanged
from scrm.customers.models import (
    CustomerLocalTag,
    FollowRelation,
    FollowStatus,
    Tag,
    TimelineEntry,
)
from scrm.customers.tag_index import refresh_customer_tags


@dataclass
class TagChangeOutcome:
    changed: list[int] = field(default_factory=list)  # customers whose tags changed
    unchanged: list[int] = field(default_factory=list)  # already as asked
    skipped: dict[int, str] = field(default_factory=dict)  # customer → why (no relation in the corp)


def load_tags(session: Session, tenant_id: int, add: Sequence[int], remove: Sequence[int]) -> dict[int, Tag]:
    """The live tags named; raises ValidationFailed for unknown ones, Conflict for tags still on
    their way to WeCom (no WeCom id yet)."""
    overlap = set(add) & set(remove)
    if overlap:
        raise ValidationFailed(
            "a tag cannot be added and removed at once",
            field_errors=[{"field": "remove", "message": f"also in add: {sorted(overlap)}"}],
        )
    wanted = set(add) | set(remove)
    if not wanted:
        raise ValidationFailed("nothing to change", field_errors=[{"field": "add", "message": "empty"}])
    tags = {
        tag.id: tag
        for tag in session.scalars(
            select(Tag).where(Tag.tenant_id == tenant_id, Tag.id.in_(wanted), Tag.is_deleted.is_(False))
        )
    }
    errors = [
        {"field": "add" if tag_id in add else "remove", "message": f"unknown tag {tag_id}"}
        for tag_id in sorted(wanted - set(tags))
    ]
    if errors:
        raise ValidationFailed("unknown tags", field_errors=errors)
    pending = sorted(
        tag.name for tag in tags.values() if tag.connection_id is not None and not tag.wecom_tag_id
    )
    if pending:
        raise Conflict(f"tags {pending} are still being created in WeCom; try again in a few seconds")
    return tags


def apply_tag_change(
    session: Session,
    *,
    tenant_id: int,
    customer_ids: Sequence[int],
    tags: dict[int, Tag],
    add: Sequence[int],
    remove: Sequence[int],
    actor_label: str,
) -> TagChangeOutcome:
    """Add and remove tags on many customers with a handful of statements (bulk jobs use it too)."""
    outcome = TagChangeOutcome()
    ids = list(dict.fromkeys(customer_ids))
    if not ids:
        return outcome
    connections = {tag.connection_id for tag in tags.values() if tag.connection_id is not None}
    relations: dict[int, list[FollowRelation]] = defaultdict(list)
    if connections:
        for relation in session.scalars(
            select(FollowRelation).where(
                FollowRelation.tenant_id == tenant_id,
                FollowRelation.customer_id.in_(ids),
                FollowRelation.connection_id.in_(connections),
                FollowRelation.status == FollowStatus.ACTIVE,
            )
        ):
            relations[relation.customer_id].append(relation)
    local_ids = [tag_id for tag_id, tag in tags.items() if tag.connection_id is None]
    local_now: dict[int, set[int]] = defaultdict(set)
    if local_ids:
        for customer_id, tag_id in session.execute(
            select(CustomerLocalTag.customer_id, CustomerLocalTag.tag_id).where(
                CustomerLocalTag.tenant_id == tenant_id,
                CustomerLocalTag.customer_id.in_(ids),
                CustomerLocalTag.tag_id.in_(local_ids),
            )
        ):
            local_now[customer_id].add(tag_id)
    relation_updates: dict[int, list[str]] = {}
    local_inserts: list[dict[str, Any]] = []
    local_deletes: list[tuple[int, int]] = []
    timeline: list[dict[str, Any]] = []
    events: list[CustomerTagsChanged] = []
    for customer_id in ids:
        added: list[str] = []
        removed: list[str] = []
        pushed_add: list[int] = []
        pushed_remove: list[int] = []
        for tag_id, tag in tags.items():
            adding = tag_id in add
            if tag.connection_id is None:
                has = tag_id in local_now[customer_id]
                if adding and not has:
                    local_inserts.append(
                        {
                            "tenant_id": tenant_id,
                            "customer_id": customer_id,
                            "tag_id": tag_id,
                            "created_by": actor_label,
                        }
                    )
                    added.append(tag.name)
                elif not adding and has:
                    local_deletes.append((customer_id, tag_id))
                    removed.append(tag.name)
                continue
            in_corp = [r for r in relations[customer_id] if r.connection_id == tag.connection_id]
            if not in_corp:
                if adding:
                    outcome.skipped[customer_id] = "no active follow staff in the tag's WeCom corp"
                continue
            wecom_id = str(tag.wecom_tag_id)
            touched = False
            for relation in in_corp:
                current = relation_updates.get(relation.id, list(relation.tag_ids or []))
                if adding and wecom_id not in current:
                    relation_updates[relation.id] = sorted([*current, wecom_id])
                    touched = True
                elif not adding and wecom_id in current:
                    relation_updates[relation.id] = [t for t in current if t != wecom_id]
                    touched = True
            if touched:
                (added if adding else removed).append(tag.name)
                (pushed_add if adding else pushed_remove).append(tag_id)
        if added or removed:
            outcome.changed.append(customer_id)
            timeline.append(
                {
                    "tenant_id": tenant_id,
                    "customer_id": customer_id,
                    "kind": "tags.changed",
                    "summary": "标签变更："
                    + "；".join(
                        part
                        for part in (
                            "添加 " + "、".join(added) if added else "",
                            "移除 " + "、".join(removed) if removed else "",
                        )
                        if part
                    ),
                    "detail": {"added": added, "removed": removed, "by": actor_label},
                }
            )
        elif customer_id not in outcome.skipped:
            outcome.unchanged.append(customer_id)
        if pushed_add or pushed_remove:
            events.append(
                CustomerTagsChanged(
                    tenant_id=tenant_id,
                    customer_id=customer_id,
                    added=sorted(pushed_add),
                    removed=sorted(pushed_remove),
                )
            )
    if relation_updates:
        session.execute(
            update(FollowRelation),
            [{"id": relation_id, "tag_ids": tag_ids} for relation_id, tag_ids in relation_updates.items()],
        )
    if local_inserts:
        session.execute(insert(CustomerLocalTag), local_inserts)
    for customer_id, tag_id in local_deletes:
        session.execute(
            delete(CustomerLocalTag).where(
                CustomerLocalTag.tenant_id == tenant_id,
                CustomerLocalTag.customer_id == customer_id,
                CustomerLocalTag.tag_id == tag_id,
            )
        )
    if timeline:
        session.execute(insert(TimelineEntry), timeline)
    # The ORM copies of updated relations are stale now.
    for relation_list in relations.values():
        for relation in relation_list:
            if relation.id in relation_updates:
                session.expire(relation)
    refresh_customer_tags(session, tenant_id, outcome.changed)
    if events:
        publish_many(session, events)
    return outcome


@dataclass(frozen=True)
class TagPush:
    """One `mark_tag` call: the member's view of the customer, with tags to add and to remove."""

    connection_id: int
    staff_userid: str
    external_userid: str
    add: list[str]
    remove: list[str]


def tag_push_plan(
    session: Session, *, tenant_id: int, customer_id: int, added: Sequence[int], removed: Sequence[int]
) -> list[TagPush]:
    """The `mark_tag` calls that carry a console change to WeCom: one per active relation of the
    customer in each tag's corp."""
    tags = list(
        session.scalars(
            select(Tag).where(
                Tag.tenant_id == tenant_id, Tag.id.in_([*added, *removed]), Tag.connection_id.is_not(None)
            )
        )
    )
    by_connection: dict[int, list[Tag]] = defaultdict(list)
    for tag in tags:
        if tag.wecom_tag_id and tag.connection_id is not None:
            by_connection[tag.connection_id].append(tag)
    plan: list[TagPush] = []
    for connection_id, connection_tags in sorted(by_connection.items()):
        add = [str(tag.wecom_tag_id) for tag in connection_tags if tag.id in added]
        remove = [str(tag.wecom_tag_id) for tag in connection_tags if tag.id in removed]
        for relation in session.scalars(
            select(FollowRelation)
            .where(
                FollowRelation.tenant_id == tenant_id,
                FollowRelation.customer_id == customer_id,
                FollowRelation.connection_id == connection_id,
                FollowRelation.status == FollowStatus.ACTIVE,
            )
            .order_by(FollowRelation.id)
        ):
            plan.append(TagPush(connection_id, relation.staff_userid, relation.external_userid, add, remove))
    return plan


def record_tag_push(
    session: Session,
    *,
    tenant_id: int,
    customer_id: int,
    pushed: Sequence[str],
    skipped: Sequence[str],
    failed: dict[str, str] | None = None,
) -> None:
    """Note on the customer's timeline how a console tag change fared in WeCom: `pushed` lists the
    members whose view of the customer was marked, `skipped` those whose relation or tag is gone,
    `failed` those WeCom refused (member -> error). Called once per push, in the pushing handler's
    transaction (so once per change). Kind `tags.pushed`, or `tags.push_failed` if any failed."""
    failed = failed or {}
    if not pushed and not skipped and not failed:
        return
    parts = []
    if pushed:
        parts.append(f"标签已同步到企业微信（{'、'.join(pushed)}）")
    if failed:
        parts.append(f"标签同步到企业微信失败（{'、'.join(failed)}）")
    if skipped:
        parts.append(f"已跳过 {'、'.join(skipped)}（关系或标签已不存在）")
    session.add(
        TimelineEntry(
            tenant_id=tenant_id,
            customer_id=customer_id,
            occurred_at=utcnow(),
            kind="tags.push_failed" if failed else "tags.pushed",
            summary="；".join(parts)[:300],
            detail={"pushed": list(pushed), "skipped": list(skipped), "failed": dict(failed)},
        )
    )
