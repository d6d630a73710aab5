"""Reactions of the customers domain to WeCom's canonical events (database only, no platform calls)."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from scrm.core.events import Delivery, EventHandler
from scrm.core.jobs import Job, JobKind, StepOutcome
from scrm.customers import tagging
from scrm.customers.models import Customer
from scrm.customers.query import customer_select, parse_customer_condition, time_context
from scrm.customers.service import BULK_TAG_JOB
from scrm.customers.wecom_ingest import WeComScope, record_follow_added, record_follow_removed
from scrm.platforms.canonical import (
    ExternalContactAdded,
    ExternalContactDeletedByCustomer,
    ExternalContactDeletedByStaff,
    ExternalContactHalfAdded,
)


def _scope(
    event: ExternalContactAdded
    | ExternalContactHalfAdded
    | ExternalContactDeletedByStaff
    | ExternalContactDeletedByCustomer,
) -> WeComScope:
    return WeComScope(tenant_id=event.tenant_id, connection_id=event.connection_id, corp_id=event.corp_id)


def on_added(session: Session, delivery: Delivery) -> None:
    event = delivery.load(ExternalContactAdded)
    record_follow_added(
        session,
        _scope(event),
        userid=event.userid,
        external_userid=event.external_userid,
        state=event.state,
        occurred_at=event.occurred_at,
    )


def on_half_added(session: Session, delivery: Delivery) -> None:
    event = delivery.load(ExternalContactHalfAdded)
    record_follow_added(
        session,
        _scope(event),
        userid=event.userid,
        external_userid=event.external_userid,
        state=event.state,
        occurred_at=event.occurred_at,
        half=True,
    )


def on_deleted_by_staff(session: Session, delivery: Delivery) -> None:
    event = delivery.load(ExternalContactDeletedByStaff)
    record_follow_removed(
        session,
        _scope(event),
        userid=event.userid,
        external_userid=event.external_userid,
        by_customer=False,
        source=event.source,
        occurred_at=event.occurred_at,
    )


def on_deleted_by_customer(session: Session, delivery: Delivery) -> None:
    event = delivery.load(ExternalContactDeletedByCustomer)
    record_follow_removed(
        session,
        _scope(event),
        userid=event.userid,
        external_userid=event.external_userid,
        by_customer=True,
        source=None,
        occurred_at=event.occurred_at,
    )


BULK_TAG_BATCH = 200


def bulk_tag_step(session: Session, job: Job) -> StepOutcome:
    """One batch of a bulk tagging job: the next customers (newest first, below the cursor) that
    match the target fixed at start, tagged locally; WeCom pushes follow through the outbox, paced
    by the WeCom client."""
    params = job.params
    tenant_id = job.tenant_id
    tags = tagging.load_tags(session, tenant_id, params["add"], params["remove"])
    condition = (
        parse_customer_condition(session, tenant_id, params["condition"]) if params.get("condition") else None
    )
    stmt = customer_select(
        session,
        tenant_id=tenant_id,
        scope_userids=params.get("scope_userids"),
        condition=condition,
        q=params.get("q"),
        context=time_context(params.get("now")),
        columns=(Customer.id,),
    ).where(Customer.id <= params["max_id"])
    if params.get("customer_ids") is not None:
        stmt = stmt.where(Customer.id.in_(params["customer_ids"]))
    state = dict(job.state or {})
    total = state.get("total")
    if total is None:
        total = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
        state["total"] = total
    if state.get("cursor") is not None:
        stmt = stmt.where(Customer.id < state["cursor"])
    ids = list(session.scalars(stmt.order_by(Customer.id.desc()).limit(BULK_TAG_BATCH)))
    outcome = tagging.apply_tag_change(
        session,
        tenant_id=tenant_id,
        customer_ids=ids,
        tags=tags,
        add=params["add"],
        remove=params["remove"],
        actor_label=params.get("actor") or "system",
    )
    done_count = int(state.get("done", 0)) + len(ids)
    state.update(
        done=done_count,
        changed=int(state.get("changed", 0)) + len(outcome.changed),
        unchanged=int(state.get("unchanged", 0)) + len(outcome.unchanged),
        skipped=int(state.get("skipped", 0)) + len(outcome.skipped),
        cursor=ids[-1] if ids else state.get("cursor"),
    )
    job.state = state
    finished = len(ids) < BULK_TAG_BATCH
    counts = {key: state[key] for key in ("changed", "unchanged", "skipped")}
    return StepOutcome(
        done=finished,
        progress_done=done_count,
        progress_total=total,
        message=f"{done_count}/{total}: {counts['changed']} changed, {counts['skipped']} skipped",
        result={"total": total, **counts} if finished else None,
    )


JOB_KINDS = [JobKind(BULK_TAG_JOB, bulk_tag_step)]

HANDLERS = [
    EventHandler(ExternalContactAdded.event_type, "customers.record_follow_added", on_added),
    EventHandler(ExternalContactHalfAdded.event_type, "customers.record_follow_half_added", on_half_added),
    EventHandler(
        ExternalContactDeletedByStaff.event_type, "customers.record_deleted_by_staff", on_deleted_by_staff
    ),
    EventHandler(
        ExternalContactDeletedByCustomer.event_type,
        "customers.record_deleted_by_customer",
        on_deleted_by_customer,
    ),
]
