"""Tickets: create, list, read, transitions, comments. Keyword-only, typed, never commits.

Transitions are explicit (see `lifecycle.py`): an action a ticket's status does not accept is a 409
that names the actions it does accept. A resolved ticket can be reopened until it closes, by hand or
by the auto-close timer `REOPEN_WINDOW` after it was resolved; closing publishes `ticket.completed`
with the outcome, for settlement.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from scrm.commerce.service import order_reference
from scrm.core.actors import Actor
from scrm.core.clock import utcnow
from scrm.core.errors import Conflict, ValidationFailed
from scrm.core.events import TimerDelivery, TimerHandler, publish
from scrm.core.pagination import PageRequest, paginate
from scrm.core.tenancy import get_in_tenant, require_in_tenant, tenant_select
from scrm.core.timers import cancel, reschedule, schedule
from scrm.customers.service import customer_names
from scrm.forms import service as forms_service
from scrm.tickets.attachments import attachments_of
from scrm.tickets.classify.on_create import classify_new_ticket
from scrm.tickets.events import TicketCompleted, TicketCreated, TicketStatusChanged
from scrm.tickets.lifecycle import DONE, PAUSED, Action, TicketStatus, allowed_actions, target_of
from scrm.tickets.models import Ticket, TicketComment, TicketTimelineEntry
from scrm.tickets.permissions import TicketPermission
from scrm.tickets.routing import queue
from scrm.tickets.routing.settings import team_ids_of
from scrm.tickets.schemas import (
    CommentIn,
    CommentOut,
    Priority,
    TicketDetailOut,
    TicketIn,
    TicketOut,
    TimelineEntryOut,
    TransitionIn,
)
from scrm.tickets.sla import clocks
from scrm.tickets.timeline import record

#: A resolved ticket may be reopened this long; then it closes by itself.
REOPEN_WINDOW = timedelta(days=7)
AUTO_CLOSE_KIND = "tickets.auto_close"
STATUS_ZH = {
    TicketStatus.NEW: "新建",
    TicketStatus.OPEN: "处理中",
    TicketStatus.WAITING_CUSTOMER: "等待客户",
    TicketStatus.WAITING_THIRD_PARTY: "等待第三方",
    TicketStatus.RESOLVED: "已解决",
    TicketStatus.CLOSED: "已关闭",
}


def render(ticket: Ticket) -> TicketOut:
    out = TicketOut.model_validate(ticket)
    out.actions = [action.value for action in allowed_actions(TicketStatus(ticket.status))]
    return out


def create_ticket(
    session: Session, *, actor: Actor, data: TicketIn, source_ref: str | None = None
) -> TicketOut:
    """Open a ticket and start its SLA clocks (the policy for its type, on that policy's calendar).
    With `source_ref` (what another domain's event raised it for), a second call returns the first
    ticket instead of opening another."""
    actor.require(TicketPermission.EDIT)
    if (
        source_ref is not None
        and (existing := find_by_source(session, actor.tenant_id, source_ref)) is not None
    ):
        return render(existing)
    if source_ref is None:
        data = _checked_references(session, actor.tenant_id, data)
    # The custom fields follow the form of the ticket's type, if it has one (422 otherwise).
    fields = forms_service.check_ticket_fields(
        session,
        tenant_id=actor.tenant_id,
        ticket_type=data.ticket_type,
        custom=data.custom,
        source_ref=source_ref,
    )
    now = utcnow()
    ticket = Ticket(
        tenant_id=actor.tenant_id,
        status=TicketStatus.NEW.value,
        sla_marks={},
        source_ref=source_ref,
        form_version_id=fields.form_version_id,
        **data.model_dump(mode="json") | {"custom": fields.custom},
    )
    session.add(ticket)
    session.flush()
    # Before the clocks: a priority raised by the rules or the model is the one they run on.
    classify_new_ticket(session, ticket, actor_label=actor.label)
    clocks.start(session, ticket, now=now)
    record(
        session, ticket, "created", f"创建工单（{data.source.value}）", actor.label, priority=ticket.priority
    )
    queue.route_new(session, ticket, now=now)
    publish(
        session,
        TicketCreated(
            tenant_id=ticket.tenant_id,
            ticket_id=ticket.id,
            customer_id=ticket.customer_id,
            order_id=ticket.order_id,
            source=ticket.source,
            priority=ticket.priority,
        ),
    )
    session.flush()
    return render(ticket)


def _checked_references(session: Session, tenant_id: int, data: TicketIn) -> TicketIn:
    """The caller's customer, order and order line must be the tenant's (422 naming the field
    otherwise; another tenant's ids are unknown ids); an order's buyer becomes the customer when none
    is given. Tickets raised by other domains' events carry ids those domains vouch for."""
    errors = []
    known = customer_names(session, tenant_id=tenant_id, ids=[data.customer_id] if data.customer_id else [])
    if data.customer_id is not None and not known:
        errors.append({"field": "customer_id", "message": f"no customer {data.customer_id} here"})
    if data.order_line_id is not None and data.order_id is None:
        errors.append({"field": "order_id", "message": "an order line needs its order"})
    reference = None
    if data.order_id is not None:
        reference = order_reference(
            session, tenant_id=tenant_id, order_id=data.order_id, order_line_id=data.order_line_id
        )
        if reference is None:
            field = "order_line_id" if data.order_line_id is not None else "order_id"
            errors.append({"field": field, "message": "no such order (or order line) here"})
    if errors:
        raise ValidationFailed("the ticket refers to unknown records", field_errors=errors)
    if reference is not None and data.customer_id is None and reference.customer_id is not None:
        return data.model_copy(update={"customer_id": reference.customer_id})
    return data


def find_by_source(session: Session, tenant_id: int, source_ref: str) -> Ticket | None:
    return session.scalars(
        tenant_select(Ticket, tenant_id).where(Ticket.source_ref == source_ref)
    ).one_or_none()


def list_tickets(
    session: Session,
    *,
    actor: Actor,
    page: PageRequest,
    status: TicketStatus | None = None,
    view: str | None = None,
    priority: Priority | None = None,
) -> tuple[list[TicketOut], str | None]:
    """Tickets, newest first. `view`: `mine` (assigned to the actor), `team` (open tickets of the
    actor's teams), `unassigned`, `breaching` (open tickets whose resolution is due within the hour,
    or overdue), or `triage` (open tickets whose classification an agent should check)."""
    actor.require(TicketPermission.VIEW)
    query = tenant_select(Ticket, actor.tenant_id)
    if status is not None:
        query = query.where(Ticket.status == status.value)
    if priority is not None:
        query = query.where(Ticket.priority == priority.value)
    if view == "mine":
        query = query.where(Ticket.assignee_id == actor.user_id)
    elif view == "team":
        teams = team_ids_of(session, tenant_id=actor.tenant_id, user_id=actor.user_id)
        query = query.where(Ticket.team_id.in_(teams), Ticket.status.notin_(["resolved", "closed"]))
    elif view == "unassigned":
        query = query.where(Ticket.assignee_id.is_(None), Ticket.status.notin_(["resolved", "closed"]))
    elif view == "breaching":
        query = query.where(
            Ticket.status.notin_(["resolved", "closed"]),
            Ticket.due_resolution_at.is_not(None),
            Ticket.due_resolution_at <= utcnow() + timedelta(hours=1),
        )
    elif view == "triage":
        query = query.where(Ticket.needs_triage.is_(True), Ticket.status.notin_(["resolved", "closed"]))
    elif view is not None:
        raise ValidationFailed(
            "unknown view",
            field_errors=[{"field": "view", "message": "mine, team, unassigned, breaching or triage"}],
        )
    tickets, next_cursor = paginate(session, query, Ticket.id, page)
    return [render(ticket) for ticket in tickets], next_cursor


def get_ticket(session: Session, *, actor: Actor, ticket_id: int) -> TicketDetailOut:
    actor.require(TicketPermission.VIEW)
    ticket = require_in_tenant(session, Ticket, actor.tenant_id, ticket_id)
    comments = session.scalars(
        select(TicketComment)
        .where(TicketComment.tenant_id == actor.tenant_id, TicketComment.ticket_id == ticket.id)
        .order_by(TicketComment.id)
    )
    timeline = session.scalars(
        select(TicketTimelineEntry)
        .where(TicketTimelineEntry.tenant_id == actor.tenant_id, TicketTimelineEntry.ticket_id == ticket.id)
        .order_by(TicketTimelineEntry.id)
    )
    return TicketDetailOut(
        **render(ticket).model_dump(),
        comments=[CommentOut.model_validate(comment) for comment in comments],
        timeline=[TimelineEntryOut.model_validate(entry) for entry in timeline],
        form=forms_service.ticket_form(
            session, tenant_id=actor.tenant_id, form_version_id=ticket.form_version_id
        ),
        attachments=attachments_of(session, ticket),
    )


def transition(
    session: Session, *, actor: Actor, ticket_id: int, action: Action, data: TransitionIn
) -> TicketOut:
    """Apply `action` (409 naming the allowed actions when the status does not accept it)."""
    actor.require(TicketPermission.EDIT)
    ticket = require_in_tenant(session, Ticket, actor.tenant_id, ticket_id)
    _apply(
        session,
        ticket,
        action,
        actor=actor.label,
        outcome=data.outcome.value if data.outcome else None,
        note=data.note,
    )
    session.flush()
    return render(ticket)


def apply_system_action(
    session: Session, ticket: Ticket, action: Action, *, outcome: str | None = None, note: str | None = None
) -> bool:
    """Apply `action` for the system (an event's reaction) if the ticket's status accepts it; whether
    it did."""
    if target_of(TicketStatus(ticket.status), action) is None:
        return False
    _apply(session, ticket, action, actor="system", outcome=outcome, note=note)
    return True


def _apply(
    session: Session,
    ticket: Ticket,
    action: Action,
    *,
    actor: str,
    outcome: str | None = None,
    note: str | None = None,
) -> None:
    previous = TicketStatus(ticket.status)
    target = target_of(previous, action)
    if target is None:
        allowed = [item.value for item in allowed_actions(previous)]
        raise Conflict(
            f"a {previous.value} ticket cannot {action.value}; allowed: {', '.join(allowed) or 'none'}",
            field_errors=[
                {"field": "action", "message": f"allowed: {', '.join(allowed) or 'none'}", "allowed": allowed}
            ],
        )
    _move(session, ticket, action.value, target, actor=actor, outcome=outcome, note=note)


def close_as_merged(session: Session, ticket: Ticket, *, into: Ticket, actor: str, note: str) -> None:
    """Close a ticket not yet resolved or closed as a duplicate of `into` (the merge's own move, not
    one of lifecycle's actions: it needs a target): its clocks stop and it completes like any closed
    ticket (`ticket.status_changed` with action `merge`, `ticket.completed` with outcome `merged`).
    Raises Conflict for a resolved or closed ticket. The caller checks the merge is allowed."""
    previous = TicketStatus(ticket.status)
    if previous in DONE:
        raise Conflict(f"a {previous.value} ticket cannot be merged")
    ticket.merged_into_id = into.id
    _move(
        session,
        ticket,
        "merge",
        TicketStatus.CLOSED,
        actor=actor,
        outcome="merged",
        note=note,
        detail={"into_ticket_id": into.id},
    )


def _move(
    session: Session,
    ticket: Ticket,
    action: str,
    target: TicketStatus,
    *,
    actor: str,
    outcome: str | None,
    note: str | None,
    detail: dict[str, Any] | None = None,
) -> None:
    previous = TicketStatus(ticket.status)
    now = utcnow()
    ticket.status = target.value
    if target in PAUSED:
        clocks.pause(session, ticket, now=now)
    elif previous in PAUSED:
        clocks.resume(session, ticket, now=now)
    if target == TicketStatus.RESOLVED:
        ticket.resolved_at, ticket.outcome = now, outcome or ticket.outcome
        clocks.stop(session, ticket)
        _arm_auto_close(session, ticket, now + REOPEN_WINDOW)
    elif action == Action.REOPEN.value:
        ticket.resolved_at = None
        cancel(session, AUTO_CLOSE_KIND, str(ticket.id))
        clocks.restart(session, ticket, now=now)
    elif target == TicketStatus.CLOSED:
        ticket.closed_at, ticket.outcome = now, outcome or ticket.outcome
        cancel(session, AUTO_CLOSE_KIND, str(ticket.id))
        if previous not in DONE:
            clocks.stop(session, ticket)  # closed straight from an open status (a merge)
    queue.on_status_change(session, ticket, previous, now=now)
    summary = f"{STATUS_ZH[previous]} → {STATUS_ZH[target]}" + (f"：{note}" if note else "")
    record(
        session,
        ticket,
        f"status.{action}",
        summary,
        actor,
        previous=previous.value,
        status=target.value,
        outcome=ticket.outcome,
        **(detail or {}),
    )
    publish(
        session,
        TicketStatusChanged(
            tenant_id=ticket.tenant_id,
            ticket_id=ticket.id,
            action=action,
            previous_status=previous.value,
            status=target.value,
        ),
    )
    if target == TicketStatus.CLOSED:
        publish(
            session,
            TicketCompleted(
                tenant_id=ticket.tenant_id,
                ticket_id=ticket.id,
                customer_id=ticket.customer_id,
                order_id=ticket.order_id,
                outcome=ticket.outcome,
            ),
        )


def _arm_auto_close(session: Session, ticket: Ticket, due_at: Any) -> None:
    if reschedule(session, AUTO_CLOSE_KIND, str(ticket.id), due_at) is None:
        schedule(
            session,
            AUTO_CLOSE_KIND,
            due_at,
            {"ticket_id": ticket.id},
            str(ticket.id),
            tenant_id=ticket.tenant_id,
        )


def auto_close(session: Session, timer: TimerDelivery) -> None:
    """The reopen window passed: a ticket still resolved closes (and completes)."""
    ticket = get_in_tenant(session, Ticket, timer.tenant_id or 0, timer.payload["ticket_id"])
    if ticket is not None and ticket.status == TicketStatus.RESOLVED:
        _apply(session, ticket, Action.CLOSE, actor="system", note="超过重新打开期限，自动关闭")


def add_comment(session: Session, *, actor: Actor, ticket_id: int, data: CommentIn) -> CommentOut:
    """A comment. A reply to the customer (not internal) stops the response clocks; a message from
    the customer starts a round of the next-response clock and resumes a ticket waiting on them."""
    actor.require(TicketPermission.EDIT)
    ticket = require_in_tenant(session, Ticket, actor.tenant_id, ticket_id)
    if TicketStatus(ticket.status) == TicketStatus.CLOSED:
        raise Conflict("a closed ticket takes no comments")
    if data.from_customer and data.internal:
        raise ValidationFailed(
            "a customer's message is not an internal note",
            field_errors=[{"field": "internal", "message": "false for a customer's message"}],
        )
    comment = TicketComment(
        tenant_id=ticket.tenant_id,
        ticket_id=ticket.id,
        author=actor.label,
        body=data.body,
        internal=data.internal,
        from_customer=data.from_customer,
    )
    session.add(comment)
    now = utcnow()
    if data.from_customer:
        if TicketStatus(ticket.status) == TicketStatus.WAITING_CUSTOMER:
            apply_system_action(session, ticket, Action.RESUME, note="客户已回复")
        clocks.customer_wrote(session, ticket, now=now)
    elif not data.internal:
        clocks.responded(session, ticket, now=now)
    kind = "customer" if data.from_customer else "internal" if data.internal else "reply"
    record(session, ticket, f"comment.{kind}", data.body[:100], actor.label)
    session.flush()
    return CommentOut.model_validate(comment)


TIMER_HANDLERS = [*clocks.TIMER_HANDLERS, TimerHandler(AUTO_CLOSE_KIND, auto_close)]
