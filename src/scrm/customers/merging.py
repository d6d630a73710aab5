"""Merging two profiles of one person, and undoing it exactly.

`merge_customers` moves the merged profile's identities, follow relations, timeline and local tags
to the survivor, fills the survivor's empty fields from it, and records in `customer_merges` the
ids of every moved row, the duplicate local tags it dropped and the survivor's fields as they were.
`unmerge_customers` moves exactly those rows back (plus relations WeCom created after the merge for
the merged profile's external_userids), restores the dropped tags and the survivor's fields (unless
someone changed them since), and revives the profile. Both publish an event (`customer.merged`,
`customer.unmerged`) so other domains re-point their rows, write the audit log and the timeline.

A merged-away profile keeps its row with `merged_into_id`; reads answer 404 with the survivor's id
(`CustomerMergedAway`). Never commits.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from scrm.core.actors import Actor
from scrm.core.clock import utcnow
from scrm.core.errors import Conflict, NotFound, ValidationFailed
from scrm.core.events import publish
from scrm.customers.events import CustomerMerged, CustomerUnmerged
from scrm.customers.identity_resolution import IdentityKey, conflicts_between, live_customer_id
from scrm.customers.models import (
    Customer,
    CustomerIdentity,
    CustomerLocalTag,
    CustomerMerge,
    FollowRelation,
    IdentityKind,
    MergeStatus,
    MergeSuggestion,
    SuggestionStatus,
    TimelineEntry,
)
from scrm.customers.tag_index import refresh_customer_tags
from scrm.identity.audit import record_audit

# Survivor fields a merge fills when they are empty on the survivor.
FILLED_FIELDS = (
    "name",
    "avatar_url",
    "gender",
    "customer_type",
    "corp_name",
    "source_channel_id",
    "source_label",
    "store",
    "region",
)


class CustomerMergedAway(NotFound):
    """The profile was merged into another one; `extensions` carries the survivor's id."""

    type_slug = "customer-merged"

    def __init__(self, customer_id: int, survivor_id: int) -> None:
        super().__init__(f"customer {customer_id} was merged into customer {survivor_id}")
        self.extensions = {"merged_into_id": survivor_id}


def require_live_customer(session: Session, tenant_id: int, customer_id: int) -> Customer:
    """The profile; NotFound if absent or in another tenant, CustomerMergedAway if merged."""
    customer = session.scalars(
        select(Customer).where(Customer.tenant_id == tenant_id, Customer.id == customer_id)
    ).one_or_none()
    if customer is None:
        raise NotFound(f"customer {customer_id} not found")
    if customer.merged_into_id is not None:
        raise CustomerMergedAway(customer_id, live_customer_id(session, tenant_id, customer_id))
    return customer


def _identity_keys(session: Session, tenant_id: int, customer_id: int) -> list[IdentityKey]:
    return [
        IdentityKey(row.kind, row.namespace, row.value)
        for row in session.scalars(
            select(CustomerIdentity).where(
                CustomerIdentity.tenant_id == tenant_id, CustomerIdentity.customer_id == customer_id
            )
        )
    ]


def _ids(session: Session, model: Any, tenant_id: int, customer_id: int) -> list[int]:
    return list(
        session.scalars(
            select(model.id)
            .where(model.tenant_id == tenant_id, model.customer_id == customer_id)
            .order_by(model.id)
        )
    )


def _move(session: Session, model: Any, tenant_id: int, ids: list[int], to: int) -> None:
    if ids:
        session.execute(
            update(model).where(model.tenant_id == tenant_id, model.id.in_(ids)).values(customer_id=to),
            execution_options={"synchronize_session": "fetch"},
        )


def merge_customers(
    session: Session,
    *,
    actor: Actor,
    survivor_id: int,
    merged_id: int,
    rule: str = "manual",
    reason: str | None = None,
    explanation: list[dict[str, Any]] | None = None,
    force: bool = False,
) -> CustomerMerge:
    """Merge `merged_id` into `survivor_id`. Raises Conflict when an exclusive identifier disagrees
    (two unionids, two buyer accounts on one shop) unless `force` (an operator asserting that two
    WeChat accounts are one person); NotFound / CustomerMergedAway for profiles not live."""
    tenant_id = actor.tenant_id
    if survivor_id == merged_id:
        raise ValidationFailed(
            "a customer cannot be merged into itself",
            field_errors=[{"field": "other_id", "message": "same customer"}],
        )
    survivor = require_live_customer(session, tenant_id, survivor_id)
    merged = require_live_customer(session, tenant_id, merged_id)
    conflicts = conflicts_between(
        _identity_keys(session, tenant_id, survivor.id),
        _identity_keys(session, tenant_id, merged.id),
        their_id=merged.id,
    )
    if conflicts and not force:
        raise Conflict(
            f"customers {survivor.id} and {merged.id} hold different {conflicts[0].kind} identifiers; "
            "merge with force=true if they are one person",
            field_errors=[
                {"field": "other_id", "message": f"different {c.kind} ({c.namespace or 'WeChat'})"}
                for c in conflicts
            ],
        )
    moved: dict[str, Any] = {
        "identities": _ids(session, CustomerIdentity, tenant_id, merged.id),
        "relations": _ids(session, FollowRelation, tenant_id, merged.id),
        "timeline": _ids(session, TimelineEntry, tenant_id, merged.id),
    }
    survivor_tags = set(
        session.scalars(
            select(CustomerLocalTag.tag_id).where(
                CustomerLocalTag.tenant_id == tenant_id, CustomerLocalTag.customer_id == survivor.id
            )
        )
    )
    local_moved, local_dropped = [], []
    for local in session.scalars(
        select(CustomerLocalTag).where(
            CustomerLocalTag.tenant_id == tenant_id, CustomerLocalTag.customer_id == merged.id
        )
    ):
        if local.tag_id in survivor_tags:
            local_dropped.append(
                {
                    "tag_id": local.tag_id,
                    "created_by": local.created_by,
                    "created_at": local.created_at.isoformat(),
                }
            )
            session.delete(local)
        else:
            local_moved.append(local.id)
    moved["local_tags"] = local_moved
    # Timeline entries written after this id for the merged person's WeCom ids go back on unmerge.
    moved["timeline_watermark"] = session.scalar(
        select(func.max(TimelineEntry.id)).where(TimelineEntry.tenant_id == tenant_id)
    )
    moved["local_tags_dropped"] = local_dropped
    before: dict[str, Any] = {}
    for name in FILLED_FIELDS:
        mine, theirs = getattr(survivor, name), getattr(merged, name)
        if mine in (None, "", 0) and theirs not in (None, "", 0):
            before[name] = {"was": mine, "set": theirs}
            setattr(survivor, name, theirs)
    if merged.first_seen_at < survivor.first_seen_at:
        before["first_seen_at"] = {
            "was": survivor.first_seen_at.isoformat(),
            "set": merged.first_seen_at.isoformat(),
        }
        survivor.first_seen_at = merged.first_seen_at
    added_attributes = {
        k: v for k, v in (merged.attributes or {}).items() if k not in (survivor.attributes or {})
    }
    if added_attributes:
        survivor.attributes = {**(survivor.attributes or {}), **added_attributes}
    moved["attributes_added"] = added_attributes
    moved["survivor_before"] = before
    session.flush()
    for model, key in (
        (CustomerIdentity, "identities"),
        (FollowRelation, "relations"),
        (TimelineEntry, "timeline"),
    ):
        _move(session, model, tenant_id, moved[key], survivor.id)
    _move(session, CustomerLocalTag, tenant_id, local_moved, survivor.id)
    merged.merged_into_id = survivor.id
    record = CustomerMerge(
        tenant_id=tenant_id,
        survivor_id=survivor.id,
        merged_id=merged.id,
        rule=rule,
        reason=reason,
        explanation=explanation or [],
        moved=moved,
        actor=actor.label,
    )
    session.add(record)
    for suggestion in session.scalars(
        select(MergeSuggestion).where(
            MergeSuggestion.tenant_id == tenant_id,
            MergeSuggestion.status == SuggestionStatus.OPEN,
            MergeSuggestion.customer_id.in_([survivor.id, merged.id]),
            MergeSuggestion.other_customer_id.in_([survivor.id, merged.id]),
        )
    ):
        suggestion.status = SuggestionStatus.MERGED
        suggestion.decided_at = utcnow()
        suggestion.decided_by = actor.label
    session.flush()
    session.add(
        TimelineEntry(
            tenant_id=tenant_id,
            customer_id=survivor.id,
            kind="customer.merged",
            summary=f"合并了客户 #{merged.id}" + (f"（{reason}）" if reason else ""),
            detail={"merge_id": record.id, "merged_id": merged.id, "rule": rule, "forced": bool(conflicts)},
        )
    )
    session.flush()
    refresh_customer_tags(session, tenant_id, [survivor.id, merged.id])
    publish(
        session,
        CustomerMerged(tenant_id=tenant_id, survivor_id=survivor.id, merged_id=merged.id, merge_id=record.id),
    )
    record_audit(
        session,
        actor=actor,
        action="customer.merged",
        target_type="customer",
        target_id=survivor.id,
        detail={
            "merged_id": merged.id,
            "rule": rule,
            "reason": reason,
            "forced": bool(conflicts),
            "conflicts": [c.describe() for c in conflicts],
        },
    )
    return record


def unmerge_customers(
    session: Session, *, actor: Actor, survivor_id: int, merged_id: int, reason: str | None = None
) -> CustomerMerge:
    """Undo the active merge of `merged_id` into `survivor_id` (see the module docstring)."""
    tenant_id = actor.tenant_id
    record = session.scalars(
        select(CustomerMerge)
        .where(
            CustomerMerge.tenant_id == tenant_id,
            CustomerMerge.survivor_id == survivor_id,
            CustomerMerge.merged_id == merged_id,
            CustomerMerge.status == MergeStatus.ACTIVE,
        )
        .order_by(CustomerMerge.id.desc())
    ).first()
    if record is None:
        raise NotFound(f"customer {merged_id} is not merged into customer {survivor_id}")
    survivor = session.get_one(Customer, survivor_id)
    if survivor.merged_into_id is not None:
        raise Conflict(
            f"customer {survivor_id} was itself merged into customer {survivor.merged_into_id}; "
            "undo that merge first"
        )
    merged = session.get_one(Customer, merged_id)
    moved = record.moved
    _move(
        session,
        CustomerIdentity,
        tenant_id,
        _still_on(session, CustomerIdentity, moved["identities"], survivor_id),
        merged_id,
    )
    relations = set(_still_on(session, FollowRelation, moved["relations"], survivor_id))
    # Relations WeCom reported after the merge for the merged profile's external_userids are theirs.
    external_userids = list(
        session.scalars(
            select(CustomerIdentity.value).where(
                CustomerIdentity.tenant_id == tenant_id,
                CustomerIdentity.customer_id == merged_id,
                CustomerIdentity.kind == IdentityKind.WECOM_EXTERNAL_USERID,
            )
        )
    )
    if external_userids:
        relations.update(
            session.scalars(
                select(FollowRelation.id).where(
                    FollowRelation.tenant_id == tenant_id,
                    FollowRelation.customer_id == survivor_id,
                    FollowRelation.external_userid.in_(external_userids),
                )
            )
        )
    _move(session, FollowRelation, tenant_id, sorted(relations), merged_id)
    timeline = set(_still_on(session, TimelineEntry, moved["timeline"], survivor_id))
    watermark = moved.get("timeline_watermark")
    if external_userids and watermark is not None:
        timeline.update(
            entry.id
            for entry in session.scalars(
                select(TimelineEntry).where(
                    TimelineEntry.tenant_id == tenant_id,
                    TimelineEntry.customer_id == survivor_id,
                    TimelineEntry.id > watermark,
                    TimelineEntry.kind.startswith("wecom."),
                )
            )
            if (entry.detail or {}).get("external_userid") in external_userids
        )
    _move(session, TimelineEntry, tenant_id, sorted(timeline), merged_id)
    _move(
        session,
        CustomerLocalTag,
        tenant_id,
        _still_on(session, CustomerLocalTag, moved["local_tags"], survivor_id),
        merged_id,
    )
    for dropped in moved.get("local_tags_dropped", []):
        session.add(
            CustomerLocalTag(
                tenant_id=tenant_id,
                customer_id=merged_id,
                tag_id=dropped["tag_id"],
                created_by=dropped["created_by"],
                created_at=datetime.fromisoformat(dropped["created_at"]),
            )
        )
    for name, change in moved.get("survivor_before", {}).items():
        if name == "first_seen_at":
            if survivor.first_seen_at == datetime.fromisoformat(change["set"]):
                survivor.first_seen_at = datetime.fromisoformat(change["was"])
        elif getattr(survivor, name) == change["set"]:
            setattr(survivor, name, change["was"])
    added = moved.get("attributes_added", {})
    if added:
        survivor.attributes = {
            key: value
            for key, value in (survivor.attributes or {}).items()
            if not (key in added and added[key] == value)
        }
    merged.merged_into_id = None
    record.status = MergeStatus.UNDONE
    record.undone_at = utcnow()
    record.undone_by = actor.label
    record.undo_reason = reason
    session.flush()
    for customer_id, summary in (
        (survivor_id, f"拆分了客户 #{merged_id}"),
        (merged_id, f"从客户 #{survivor_id} 拆分恢复"),
    ):
        session.add(
            TimelineEntry(
                tenant_id=tenant_id,
                customer_id=customer_id,
                kind="customer.unmerged",
                summary=summary + (f"（{reason}）" if reason else ""),
                detail={"merge_id": record.id, "survivor_id": survivor_id, "merged_id": merged_id},
            )
        )
    session.flush()
    refresh_customer_tags(session, tenant_id, [survivor_id, merged_id])
    publish(
        session,
        CustomerUnmerged(
            tenant_id=tenant_id, survivor_id=survivor_id, restored_id=merged_id, merge_id=record.id
        ),
    )
    record_audit(
        session,
        actor=actor,
        action="customer.unmerged",
        target_type="customer",
        target_id=survivor_id,
        detail={"restored_id": merged_id, "merge_id": record.id, "reason": reason},
    )
    return record


def _still_on(session: Session, model: Any, ids: list[int], customer_id: int) -> list[int]:
    """The recorded rows that still belong to `customer_id` (others moved on since)."""
    if not ids:
        return []
    return list(session.scalars(select(model.id).where(model.id.in_(ids), model.customer_id == customer_id)))
