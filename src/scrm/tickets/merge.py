"""Merging duplicate tickets (工单合并). Keyword-only, typed, never commits.

`find_duplicates` suggests the open tickets (not yet resolved or closed) of the same customer or about
the same order created within 14 days of the ticket, the same order first, and says why each is
suggested. `merge_ticket` closes a duplicate (the source) into the ticket that carries on (the target):
the source is closed with outcome `merged` and `merged_into_id` set, its SLA clocks stop, and it
completes through the same move as any closed ticket (`service.close_as_merged`): `ticket.status_changed`
(action `merge`) and `ticket.completed` with outcome `merged`, which settlement treats as no outcome
(the target completes later with the real one). The target gets an internal comment naming the source;
both timelines record the merge. Comments and attachments stay on the source (nothing is copied).

Refused with 409 and the reason: a ticket into itself; a source already merged, closed or resolved (a
resolved ticket has its outcome: reopen it first); a target closed or merged (that would make a chain:
the answer names the ticket to merge into instead); tickets of two different customers. Another
tenant's ticket, either side, is a 404. Tickets merged earlier into the source are pointed at the
target, so `merged_into_id` always names a ticket that was not merged itself (no chains, no cycles).
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import or_, update
from sqlalchemy.orm import Session

from scrm.core.actors import Actor
from scrm.core.clock import as_utc
from scrm.core.errors import Conflict, NotFound
from scrm.core.tenancy import require_in_tenant, tenant_select
from scrm.tickets import service
from scrm.tickets.lifecycle import DONE, TicketStatus
from scrm.tickets.models import Ticket, TicketComment
from scrm.tickets.permissions import TicketPermission
from scrm.tickets.schemas import DuplicateOut, TicketMergeIn, TicketMergeOut
from scrm.tickets.timeline import record

DUPLICATE_WINDOW = timedelta(days=14)
MAX_SUGGESTIONS = 20
_DONE_VALUES = [status.value for status in DONE]


def find_duplicates(session: Session, *, actor: Actor, ticket_id: int) -> list[DuplicateOut]:
    """Likely duplicates of the ticket, most likely first (same order, then same type, then nearest in
    time), at most 20. A ticket without a customer or an order has none."""
    actor.require(TicketPermission.VIEW)
    ticket = require_in_tenant(session, Ticket, actor.tenant_id, ticket_id)
    matches = []
    if ticket.customer_id is not None:
        matches.append(Ticket.customer_id == ticket.customer_id)
    if ticket.order_id is not None:
        matches.append(Ticket.order_id == ticket.order_id)
    if not matches:
        return []
    created = as_utc(ticket.created_at)
    candidates = session.scalars(
        tenant_select(Ticket, actor.tenant_id)
        .where(
            Ticket.id != ticket.id,
            or_(*matches),
            Ticket.status.notin_(_DONE_VALUES),
            Ticket.created_at >= created - DUPLICATE_WINDOW,
            Ticket.created_at <= created + DUPLICATE_WINDOW,
        )
        .order_by(Ticket.id.desc())
        .limit(500)
    ).all()
    found: list[tuple[tuple[bool, bool, float], DuplicateOut]] = []
    for other in candidates:
        if _different_customers(ticket, other):
            continue  # the same order but another person's ticket: never merged (see merge_ticket)
        same_customer = ticket.customer_id is not None and other.customer_id == ticket.customer_id
        same_order = ticket.order_id is not None and other.order_id == ticket.order_id
        same_type = other.ticket_type == ticket.ticket_type
        hours = abs((as_utc(other.created_at) - created).total_seconds()) / 3600
        reasons = [
            reason
            for reason, holds in (
                ("same_customer", same_customer),
                ("same_order", same_order),
                ("same_type", same_type),
                ("created_within_14_days", True),
            )
            if holds
        ]
        out = DuplicateOut(ticket=service.render(other), reasons=reasons, hours_apart=round(hours, 1))
        found.append(((not same_order, not same_type, hours), out))
    found.sort(key=lambda item: item[0])
    return [out for _, out in found[:MAX_SUGGESTIONS]]


def _different_customers(one: Ticket, other: Ticket) -> bool:
    return (
        one.customer_id is not None and other.customer_id is not None and one.customer_id != other.customer_id
    )


def merge_ticket(session: Session, *, actor: Actor, ticket_id: int, data: TicketMergeIn) -> TicketMergeOut:
    """Close ticket `ticket_id` as a duplicate of `data.into_ticket_id` (see the module docstring)."""
    actor.require(TicketPermission.EDIT)
    if data.into_ticket_id == ticket_id:
        raise Conflict("a ticket cannot be merged into itself")
    # Both rows locked in id order: two merges of one pair in opposite directions cannot both pass
    # their checks (that would be a cycle). SQLite serialises writers anyway.
    rows = session.scalars(
        tenant_select(Ticket, actor.tenant_id)
        .where(Ticket.id.in_([ticket_id, data.into_ticket_id]))
        .order_by(Ticket.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).all()
    by_id = {row.id: row for row in rows}
    source, target = by_id.get(ticket_id), by_id.get(data.into_ticket_id)
    if source is None:
        raise NotFound(f"ticket {ticket_id} not found")
    if target is None:
        raise NotFound(f"ticket {data.into_ticket_id} not found")
    _check_mergeable(session, source, target)
    note = data.note.strip() if data.note else ""
    # Earlier duplicates of the source now point at the target (one hop, never a chain).
    redirected = list(
        session.scalars(
            update(Ticket)
            .where(Ticket.tenant_id == actor.tenant_id, Ticket.merged_into_id == source.id)
            .values(merged_into_id=target.id)
            .returning(Ticket.id)
            .execution_options(synchronize_session=False)
        )
    )
    service.close_as_merged(
        session,
        source,
        into=target,
        actor=actor.label,
        note=f"合并到工单 #{target.id}" + (f"（{note}）" if note else ""),
    )
    comment = TicketComment(
        tenant_id=target.tenant_id,
        ticket_id=target.id,
        author=actor.label,
        body=f"合并了重复工单 #{source.id}「{source.title}」" + (f"：{note}" if note else ""),
        internal=True,
    )
    session.add(comment)
    session.flush()
    record(
        session,
        target,
        "merge.absorbed",
        f"合并了重复工单 #{source.id}",
        actor.label,
        source_ticket_id=source.id,
        comment_id=comment.id,
        note=note or None,
        redirected_ticket_ids=sorted(redirected),
    )
    session.flush()
    return TicketMergeOut(source=service.render(source), target=service.render(target))


def _check_mergeable(session: Session, source: Ticket, target: Ticket) -> None:
    if source.merged_into_id is not None:
        raise Conflict(f"ticket {source.id} is already merged into ticket {source.merged_into_id}")
    if source.status == TicketStatus.CLOSED:
        raise Conflict(f"ticket {source.id} is closed; a closed ticket cannot be merged")
    if source.status == TicketStatus.RESOLVED:
        raise Conflict(
            f"ticket {source.id} is resolved and has its outcome; reopen it first to merge it as a duplicate"
        )
    if target.merged_into_id is not None:
        survivor = _survivor(session, target)
        raise Conflict(
            f"ticket {target.id} was merged into ticket {target.merged_into_id}; merging into it would make "
            f"a chain: merge into ticket {survivor.id} instead",
            field_errors=[{"field": "into_ticket_id", "message": "merged", "survivor_id": survivor.id}],
        )
    if target.status == TicketStatus.CLOSED:
        raise Conflict(
            f"ticket {target.id} is closed; merge into an open ticket",
            field_errors=[{"field": "into_ticket_id", "message": "closed"}],
        )
    if _different_customers(source, target):
        raise Conflict(
            f"tickets {source.id} and {target.id} belong to different customers",
            field_errors=[{"field": "into_ticket_id", "message": "another customer's ticket"}],
        )


def _survivor(session: Session, ticket: Ticket) -> Ticket:
    """Where a merged ticket's duplicates live: the end of its `merged_into_id` links (one hop, as
    merges never chain; bounded all the same)."""
    seen = {ticket.id}
    while ticket.merged_into_id is not None:
        following = session.get(Ticket, ticket.merged_into_id)
        if following is None or following.id in seen or following.tenant_id != ticket.tenant_id:
            break
        seen.add(following.id)
        ticket = following
    return ticket
