"""A ticket's SLA clocks: first response, next response and resolution, each with a warning, a
breach and the escalation levels after it.

Due times are computed on the policy's business calendar when the ticket is created, stored on the
ticket and armed as durable timers (`tickets.sla`, key `<ticket>:<clock>:<stage>`), so they fire
within a worker's wake-up of the due instant, not on a polling round. Waiting on the customer or a
third party pauses the clocks: their timers are cancelled, and on resuming the business time that was
left is counted again from then. Each warning, breach and escalation level fires once
(`Ticket.sla_marks`), whatever restarts or retries happen.

The next-response clock runs while a customer's later message (after the first response) waits for
an answer: it starts at the customer's message and stops at the next reply; each such round is a new
run of the clock, with its own marks. Escalation levels after a breach are armed one at a time, as
timers `<ticket>:<clock>:escalation<N>` (`escalation.py` says what they do). Never commits.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from scrm.core.clock import as_utc, utcnow
from scrm.core.events import Event, TimerDelivery, TimerHandler, publish_many
from scrm.core.tenancy import get_in_tenant
from scrm.core.timers import cancel_many, reschedule, schedule
from scrm.tickets.events import TicketSlaBreached, TicketSlaWarned
from scrm.tickets.lifecycle import DONE, TicketStatus
from scrm.tickets.models import CalendarRow, SlaPolicy, Ticket
from scrm.tickets.routing.models import Team
from scrm.tickets.sla import escalation
from scrm.tickets.sla.calendar import BusinessCalendar, add_business_seconds, business_seconds_between
from scrm.tickets.sla.service import business_calendar
from scrm.tickets.timeline import record

TIMER_KIND = "tickets.sla"
CLOCKS = ("first_response", "next_response", "resolution")
STAGES = ("warning", "breach")
#: Escalation levels after the first (which acts at the breach) have timers of their own.
MAX_LEVELS = 5
_TIMER_STAGES = (*STAGES, *(f"escalation{level}" for level in range(2, MAX_LEVELS + 1)))
_TARGET = {
    "first_response": "first_response_minutes",
    "next_response": "next_response_minutes",
    "resolution": "resolution_minutes",
}
CLOCK_ZH = {"first_response": "首次响应", "next_response": "下次响应", "resolution": "解决"}


def policy_for(session: Session, tenant_id: int, ticket_type: str) -> SlaPolicy | None:
    """The policy for a ticket type: the one naming the type, else the oldest without one."""
    candidates = session.scalars(
        select(SlaPolicy)
        .where(
            SlaPolicy.tenant_id == tenant_id,
            or_(SlaPolicy.ticket_type == ticket_type, SlaPolicy.ticket_type.is_(None)),
        )
        .order_by(SlaPolicy.ticket_type.is_(None), SlaPolicy.id)
    ).all()
    return candidates[0] if candidates else None


def _calendar(session: Session, ticket: Ticket) -> tuple[SlaPolicy, BusinessCalendar] | None:
    if ticket.sla_policy_id is None:
        return None
    policy = session.get(SlaPolicy, ticket.sla_policy_id)
    row = (
        None if policy is None else get_in_tenant(session, CalendarRow, ticket.tenant_id, policy.calendar_id)
    )
    if policy is None or row is None:
        return None
    return policy, business_calendar(row)


def _key(ticket: Ticket, clock: str, stage: str) -> str:
    return f"{ticket.id}:{clock}:{stage}"


def _arm(
    session: Session, ticket: Ticket, clock: str, stage: str, due_at: datetime, level: int | None = None
) -> None:
    payload = {"ticket_id": ticket.id, "clock": clock, "stage": stage, "level": level}
    if reschedule(session, TIMER_KIND, _key(ticket, clock, stage), due_at) is None:
        schedule(session, TIMER_KIND, due_at, payload, _key(ticket, clock, stage), tenant_id=ticket.tenant_id)


def _disarm(session: Session, ticket: Ticket, clocks: tuple[str, ...] = CLOCKS) -> None:
    keys = [_key(ticket, clock, stage) for clock in clocks for stage in _TIMER_STAGES]
    cancel_many(session, TIMER_KIND, keys)


def _set(ticket: Ticket, clock: str, due: datetime | None, warn: datetime | None) -> None:
    setattr(ticket, f"due_{clock}_at", due)
    setattr(ticket, f"warn_{clock}_at", warn)


def _running(ticket: Ticket, clock: str) -> bool:
    if TicketStatus(ticket.status) in DONE or ticket.paused_at is not None:
        return False
    return not (clock == "first_response" and ticket.first_responded_at is not None)


def _arm_running(session: Session, ticket: Ticket, *, now: datetime | None = None) -> None:
    """Arm the stages of the running clocks that have not fired; for a clock already breached, its
    next escalation level (counted again from `now` after a pause, since escalation stood still)."""
    for clock in CLOCKS:
        if not _running(ticket, clock):
            continue
        for stage, column in (("warning", f"warn_{clock}_at"), ("breach", f"due_{clock}_at")):
            due = getattr(ticket, column)
            if due is not None and f"{clock}.{stage}" not in ticket.sla_marks:
                _arm(session, ticket, clock, stage, as_utc(due))
        if f"{clock}.breach" in ticket.sla_marks and now is not None:
            _arm_next_level(session, ticket, clock, since=now)


def _fired_levels(ticket: Ticket, clock: str) -> int:
    marks = [mark for mark in ticket.sla_marks if mark.startswith(f"{clock}.escalation.")]
    return max((int(mark.rsplit(".", 1)[1]) for mark in marks), default=1)


def _arm_next_level(session: Session, ticket: Ticket, clock: str, *, since: datetime) -> None:
    """Arm the escalation level after the last one fired: the business minutes between the two
    levels after `since`, the due time of the level that fired (so a late worker does not push the
    next level back) or, when the clock resumes after a pause, the resumption (escalation stood
    still while paused)."""
    found = _calendar(session, ticket)
    if found is None:
        return
    policy, calendar = found
    configured = escalation.levels(policy)
    fired = _fired_levels(ticket, clock)
    if fired >= len(configured):
        return
    step = configured[fired].after_minutes - configured[fired - 1].after_minutes
    due = add_business_seconds(calendar, as_utc(since), step * 60)
    _arm(session, ticket, clock, f"escalation{fired + 1}", due, level=fired + 1)


def start(session: Session, ticket: Ticket, *, now: datetime) -> None:
    """Choose the ticket's policy and start its clocks from `now` (a ticket without a policy has none)."""
    policy = policy_for(session, ticket.tenant_id, ticket.ticket_type)
    ticket.sla_policy_id = policy.id if policy else None
    found = _calendar(session, ticket)
    if found is None:
        return
    policy, calendar = found
    targets = policy.targets.get(ticket.priority, {})
    for clock in CLOCKS:
        minutes = targets.get(_TARGET[clock])
        if not minutes or clock == "next_response":  # it starts at a customer's later message
            _set(ticket, clock, None, None)
            continue
        budget = minutes * 60
        _set(
            ticket,
            clock,
            add_business_seconds(calendar, now, budget),
            add_business_seconds(calendar, now, budget * policy.warning_percent / 100),
        )
    _arm_running(session, ticket)


def pause(session: Session, ticket: Ticket, *, now: datetime) -> None:
    """The ticket waits on someone else: its clocks stand still."""
    if ticket.paused_at is None:
        ticket.paused_at = now
        _disarm(session, ticket)


def resume(session: Session, ticket: Ticket, *, now: datetime) -> None:
    """The clocks run again, with the business time that was left when they paused."""
    paused_at = ticket.paused_at
    if paused_at is None:
        return
    ticket.paused_at = None
    found = _calendar(session, ticket)
    if found is not None:
        _, calendar = found
        for clock in CLOCKS:
            due, warn = getattr(ticket, f"due_{clock}_at"), getattr(ticket, f"warn_{clock}_at")
            _set(
                ticket,
                clock,
                _shifted(calendar, due, paused_at, now),
                _shifted(calendar, warn, paused_at, now),
            )
    _arm_running(session, ticket, now=now)


def _shifted(
    calendar: BusinessCalendar, due: datetime | None, paused_at: datetime, now: datetime
) -> datetime | None:
    if due is None:
        return None
    due, paused_at = as_utc(due), as_utc(paused_at)
    if due <= paused_at:
        return due  # already past when the pause began
    return add_business_seconds(calendar, now, business_seconds_between(calendar, paused_at, due))


def responded(session: Session, ticket: Ticket, *, now: datetime) -> None:
    """A reply reached the customer: the first-response clock stops (if it was running), and so does
    the next-response clock of the round the customer was waiting on."""
    if ticket.first_responded_at is None:
        ticket.first_responded_at = now
        _disarm(session, ticket, ("first_response",))
    if ticket.due_next_response_at is not None:
        _set(ticket, "next_response", None, None)
        _disarm(session, ticket, ("next_response",))


def customer_wrote(session: Session, ticket: Ticket, *, now: datetime) -> None:
    """The customer wrote again after the first response: a round of the next-response clock starts
    (unless one already runs: the oldest unanswered message counts). Before the first response the
    first-response clock is still the one running."""
    if ticket.first_responded_at is None or ticket.due_next_response_at is not None:
        return
    found = _calendar(session, ticket)
    if found is None:
        return
    policy, calendar = found
    minutes = policy.targets.get(ticket.priority, {}).get(_TARGET["next_response"])
    if not minutes:
        return
    budget = minutes * 60
    ticket.sla_marks = {
        mark: value for mark, value in ticket.sla_marks.items() if not mark.startswith("next_response.")
    }
    _set(
        ticket,
        "next_response",
        add_business_seconds(calendar, now, budget),
        add_business_seconds(calendar, now, budget * policy.warning_percent / 100),
    )
    _arm_running(session, ticket)


def stop(session: Session, ticket: Ticket) -> None:
    """Resolved: every clock stops."""
    _disarm(session, ticket)


def restart(session: Session, ticket: Ticket, *, now: datetime) -> None:
    """Reopened: the clocks not yet breached run again towards their stored due times; a breached
    one's escalation goes on from now."""
    _arm_running(session, ticket, now=now)


def fire(session: Session, timers: list[TimerDelivery]) -> None:
    """Warnings and breaches that fell due (a batch: one query for the tickets, one insert for the
    events): each is marked, once, on the timeline, and published."""
    wanted = {int(timer.payload["ticket_id"]) for timer in timers}
    tickets = {ticket.id: ticket for ticket in session.scalars(select(Ticket).where(Ticket.id.in_(wanted)))}
    # The batch's policies, calendars and teams, loaded once and held here: the session's identity map
    # keeps only weak references, so without these every ticket would load them again.
    policies = session.scalars(
        select(SlaPolicy).where(SlaPolicy.id.in_({t.sla_policy_id for t in tickets.values()} - {None}))
    ).all()
    held = [
        *policies,
        *session.scalars(select(CalendarRow).where(CalendarRow.id.in_({p.calendar_id for p in policies}))),
        *session.scalars(select(Team).where(Team.id.in_({t.team_id for t in tickets.values()} - {None}))),
    ]
    events: list[Event] = []
    for timer in timers:
        ticket = tickets.get(int(timer.payload["ticket_id"]))
        if ticket is not None and ticket.tenant_id == timer.tenant_id:
            events.extend(_fire_one(session, ticket, timer))
    publish_many(session, events)
    del held


def _fire_one(session: Session, ticket: Ticket, timer: TimerDelivery) -> list[Event]:
    clock, stage = timer.payload["clock"], timer.payload["stage"]
    if not _running(ticket, clock):
        return []
    if stage.startswith("escalation"):
        return _escalate(session, ticket, clock, int(timer.payload["level"]), fired_due=timer.due_at)
    column = f"due_{clock}_at" if stage == "breach" else f"warn_{clock}_at"
    due = getattr(ticket, column)
    mark = f"{clock}.{stage}"
    if due is None or as_utc(due) > as_utc(timer.due_at) or mark in ticket.sla_marks:
        return []  # moved later (the rescheduled timer fires then) or already fired
    ticket.sla_marks = {**ticket.sla_marks, mark: utcnow().isoformat()}
    due_text = as_utc(getattr(ticket, f"due_{clock}_at")).isoformat()
    if stage == "warning":
        record(session, ticket, f"sla.{clock}.warning", f"{CLOCK_ZH[clock]}即将超时（{due_text}）", "system")
        return [
            TicketSlaWarned(
                tenant_id=ticket.tenant_id,
                ticket_id=ticket.id,
                clock=clock,
                due_at=due_text,
                assignee_id=ticket.assignee_id,
            )
        ]
    record(session, ticket, f"sla.{clock}.breach", f"{CLOCK_ZH[clock]}已超时", "system")
    return [
        *_escalate(session, ticket, clock, 1, fired_due=timer.due_at),
        TicketSlaBreached(
            tenant_id=ticket.tenant_id,
            ticket_id=ticket.id,
            clock=clock,
            due_at=due_text,
            assignee_id=ticket.assignee_id,
            team_id=ticket.team_id,
        ),
    ]


def _escalate(
    session: Session, ticket: Ticket, clock: str, level: int, *, fired_due: datetime
) -> list[Event]:
    """Level `level` of the clock's escalation, once; then the next level is armed."""
    mark = f"{clock}.escalation.{level}"
    found = _calendar(session, ticket)
    if mark in ticket.sla_marks or found is None:
        return []
    ticket.sla_marks = {**ticket.sla_marks, mark: utcnow().isoformat()}
    event = escalation.run_level(session, ticket, found[0], clock, level, now=utcnow())
    _arm_next_level(session, ticket, clock, since=fired_due)
    return [event] if event is not None else []


TIMER_HANDLERS = [TimerHandler.batched(TIMER_KIND, fire)]
