"""The queue at work: routing a new ticket, filling a team's queue whenever capacity may have freed
up, releasing an agent's capacity, overflow and reassignment. Never commits.

Concurrency (several API and worker processes on PostgreSQL): a fill first locks its team's row, so
one transaction at a time assigns a team's queue; an agent's load grows only by a conditional update
(`load < capacity AND status = 'online'`), so fills of different teams sharing an agent cannot put
them over capacity either; updates to agents are made in user id order, so two fills never wait on
each other's agents in a cycle.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import case, func, insert, select, tuple_, update
from sqlalchemy.orm import Session

from scrm.core.clock import as_utc, utcnow
from scrm.core.errors import ValidationFailed
from scrm.core.events import Event, TimerDelivery, TimerHandler, publish_many
from scrm.core.tenancy import get_in_tenant
from scrm.core.timers import schedule
from scrm.tickets.events import TicketAssigned
from scrm.tickets.lifecycle import DONE, TicketStatus
from scrm.tickets.models import Ticket, TicketTimelineEntry
from scrm.tickets.routing.assignment import (
    PRIORITY_RANK,
    AgentStatus,
    AgentView,
    Choice,
    Strategy,
    TeamView,
    TicketView,
    choose_team,
    fill_queue,
)
from scrm.tickets.routing.models import Agent, RoutingDecision, Team, TeamMember
from scrm.tickets.routing.sticky import sticky_user_ids

OVERFLOW_KIND = "tickets.overflow"
#: How many waiting tickets one round of a fill considers.
QUEUE_PAGE = 500
#: How often a new ticket chooses again after a concurrent arrival took its agent's last place.
ARRIVAL_RETRIES = 3
REASON_ZH = {
    "round_robin": "轮流分配",
    "least_load": "最少负载",
    "sticky": "专属客服（上次处理人/导购）",
    "sticky_unavailable_least_load": "专属客服不可用，按最少负载",
    "no_eligible_agent": "暂无符合条件的客服，排队等待",
    "no_free_capacity": "客服已满负荷，排队等待",
}


def team_view(team: Team) -> TeamView:
    return TeamView(
        id=team.id,
        strategy=Strategy(team.strategy),
        ticket_types=frozenset(team.ticket_types),
        regions=frozenset(team.regions),
        is_default=team.is_default,
    )


SUMMARY_ZH = {
    "team": "进入团队队列",
    "assigned": "分配给客服",
    "queued": "排队等待分配",
    "overflowed": "超时转入溢出团队",
    "released": "释放处理人",
    "reassigned": "重新分配",
    "unrouted": "没有团队受理此类工单",
}


def _decision_rows(
    ticket: Ticket,
    kind: str,
    reason: str,
    *,
    actor: str,
    strategy: str | None,
    detail: dict[str, Any] | None,
    at: datetime,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The decision's row and its timeline entry's row."""
    common = {"tenant_id": ticket.tenant_id, "ticket_id": ticket.id, "actor": actor}
    decision = {
        **common,
        "kind": kind,
        "team_id": ticket.team_id,
        "assignee_id": ticket.assignee_id,
        "strategy": strategy,
        "reason": reason,
        "detail": detail or {},
        "created_at": at,
    }
    entry = {
        **common,
        "kind": f"routing.{kind}",
        "summary": f"{SUMMARY_ZH[kind]}（{REASON_ZH.get(reason, reason)}）",
        "detail": {"team_id": ticket.team_id, "assignee_id": ticket.assignee_id, "reason": reason},
        "occurred_at": at,
    }
    return decision, entry


def _write_decisions(session: Session, rows: list[tuple[dict[str, Any], dict[str, Any]]]) -> None:
    if rows:
        session.execute(insert(RoutingDecision), [decision for decision, _ in rows])
        session.execute(insert(TicketTimelineEntry), [entry for _, entry in rows])


def decide(
    session: Session,
    ticket: Ticket,
    kind: str,
    reason: str,
    *,
    actor: str = "system",
    strategy: str | None = None,
    detail: dict[str, Any] | None = None,
) -> None:
    """Record a routing step (and put it on the ticket's timeline)."""
    rows = _decision_rows(ticket, kind, reason, actor=actor, strategy=strategy, detail=detail, at=utcnow())
    _write_decisions(session, [rows])


def route_new(session: Session, ticket: Ticket, *, now: datetime) -> None:
    """A new ticket: choose its team (unless it names one), work out the skills it needs, put it in
    the team's queue and fill the queue: it is assigned at once if an eligible agent has room and no
    ticket ahead of it takes that room. A ticket naming another tenant's or an unknown team is a
    field error."""
    teams = session.scalars(select(Team).where(Team.tenant_id == ticket.tenant_id)).all()
    if ticket.team_id is not None and all(team.id != ticket.team_id for team in teams):
        raise ValidationFailed("no such team", field_errors=[{"field": "team_id", "message": "no such team"}])
    if not teams:
        return  # the tenant does not route: tickets are taken from the unassigned view by hand
    if ticket.team_id is None:
        chosen = choose_team(map(team_view, teams), ticket_type=ticket.ticket_type, region=ticket.region)
        if chosen is None:
            decide(session, ticket, "unrouted", "no_team")
            return
        ticket.team_id = chosen.id
        reason = "team_match"
    else:
        reason = "given"
    team = next(team for team in teams if team.id == ticket.team_id)
    needed = team.skills_by_category.get(ticket.category or ticket.ticket_type, [])
    ticket.required_skills = sorted({*ticket.required_skills, *needed})
    ticket.queued_at = now
    decide(session, ticket, "team", reason, detail={"required_skills": ticket.required_skills})
    session.flush()
    fill(session, team, now=now, arrival=ticket)
    if ticket.assignee_id is None:
        _arm_overflow(session, ticket, team, since=now)


def _arm_overflow(session: Session, ticket: Ticket, team: Team, *, since: datetime) -> None:
    """Move the ticket on to the team's overflow team if it still waits `overflow_after_minutes`
    after `since` (when it joined this team's queue)."""
    if team.overflow_team_id is None or not team.overflow_after_minutes:
        return
    due = as_utc(since) + timedelta(minutes=team.overflow_after_minutes)
    schedule(
        session,
        OVERFLOW_KIND,
        due,
        {"ticket_id": ticket.id, "team_id": team.id},
        f"{ticket.id}:{team.id}",
        tenant_id=ticket.tenant_id,
    )


def _agents(session: Session, team: Team) -> list[AgentView]:
    """The team's agents as they stand in the database now (plain rows: the fill must not read
    counters cached in the session)."""
    rows = session.execute(
        select(
            Agent.user_id,
            Agent.status,
            Agent.capacity,
            Agent.load,
            Agent.skills,
            Agent.regions,
            Agent.last_assigned_at,
        )
        .join(TeamMember, (TeamMember.user_id == Agent.user_id) & (TeamMember.tenant_id == Agent.tenant_id))
        .where(TeamMember.team_id == team.id, Agent.tenant_id == team.tenant_id)
    )
    return [
        AgentView(
            user_id=user_id,
            status=status,
            capacity=capacity,
            load=load,
            skills=frozenset(skills),
            regions=frozenset(regions),
            last_assigned_at=as_utc(last) if last else None,
        )
        for user_id, status, capacity, load, skills, regions, last in rows
    ]


def _queue_page(session: Session, team: Team, after: tuple[int, datetime, int] | None) -> list[Ticket]:
    rank = case(PRIORITY_RANK, value=Ticket.priority, else_=9)
    query = select(Ticket).where(
        Ticket.tenant_id == team.tenant_id,
        Ticket.team_id == team.id,
        Ticket.queued_at.is_not(None),
        Ticket.assignee_id.is_(None),
    )
    if after is not None:
        query = query.where(tuple_(rank, Ticket.queued_at, Ticket.id) > after)
    return list(session.scalars(query.order_by(rank, Ticket.queued_at, Ticket.id).limit(QUEUE_PAGE)))


def fill(session: Session, team: Team, *, now: datetime, arrival: Ticket | None = None) -> int:
    """Assign the team's waiting tickets, in queue order (priority, then waiting time), while its
    online agents have room. Returns how many were assigned.

    With `arrival` (a ticket that just joined the queue) only that ticket is considered. This is
    enough because every fill leaves no waiting ticket that an agent with room could take, and an
    arrival changes no agent; every change that frees room (a ticket finished or moved away, an agent
    online, more capacity, a new member) fills the whole queue. An arrival takes no team lock: no
    other transaction can see its ticket, and agents' capacity is guarded by the conditional update,
    so concurrent arrivals in one team do not wait on each other. The price: a place freed by another
    transaction while an arrival is still uncommitted is not offered to that arrival, which then
    waits for the team's next change (or its overflow timer) though the place may stand free."""
    if arrival is None:
        session.execute(select(Team.id).where(Team.id == team.id).with_for_update())
    agents = _agents(session, team)
    assigned = 0
    retries = ARRIVAL_RETRIES
    after: tuple[int, datetime, int] | None = None
    while any(agent.free for agent in agents if agent.status == AgentStatus.ONLINE):
        waiting = [arrival] if arrival is not None else _queue_page(session, team, after)
        if not waiting:
            break
        last = waiting[-1]
        assert last.queued_at is not None
        after = (PRIORITY_RANK.get(last.priority, 9), last.queued_at, last.id)
        views = [_ticket_view(session, team, ticket) for ticket in waiting]
        results, agents = fill_queue(Strategy(team.strategy), views, agents, now=now)
        by_id = {ticket.id: ticket for ticket in waiting}
        assigned += _apply(session, team, [(by_id[view.id], choice) for view, choice in results], now=now)
        if arrival is not None:
            lost_race = results[0][1].user_id is not None and arrival.assignee_id is None
            if not lost_race or retries == 0:
                break
            # Another arrival took the chosen agent's last place first: choose again among the
            # agents as they stand now, rather than leave the ticket waiting beside free places.
            retries -= 1
            agents = _agents(session, team)
            continue
        if len(waiting) < QUEUE_PAGE:
            break
    return assigned


def _ticket_view(session: Session, team: Team, ticket: Ticket) -> TicketView:
    sticky = sticky_user_ids(session, ticket) if team.strategy == Strategy.STICKY else ()
    return TicketView(
        id=ticket.id,
        priority=ticket.priority,
        region=ticket.region,
        required_skills=frozenset(ticket.required_skills),
        sticky_user_ids=sticky,
    )


def _apply(session: Session, team: Team, choices: list[tuple[Ticket, Choice]], *, now: datetime) -> int:
    """Make the fill's choices real: one conditional update per agent for all their new tickets (in
    user id order); where another transaction took the room first, as many as still fit, the rest
    wait for the next fill. Decisions, timeline entries and events are written together."""
    by_agent: dict[int, list[tuple[Ticket, Choice]]] = {}
    for ticket, choice in choices:
        if choice.user_id is not None:
            by_agent.setdefault(choice.user_id, []).append((ticket, choice))
    rows: list[tuple[dict[str, Any], dict[str, Any]]] = []
    events: list[Event] = []
    for user_id in sorted(by_agent):
        pairs = by_agent[user_id]
        stamp = now + timedelta(microseconds=len(rows))
        if not take_capacity(session, team.tenant_id, user_id, stamp, count=len(pairs)):
            taken = 0
            while taken < len(pairs) and take_capacity(session, team.tenant_id, user_id, stamp):
                taken += 1
            pairs = pairs[:taken]
        for ticket, choice in pairs:
            ticket.assignee_id, ticket.queued_at = user_id, None
            rows.append(
                _decision_rows(
                    ticket,
                    "assigned",
                    choice.reason,
                    actor="system",
                    strategy=team.strategy,
                    detail=choice.excluded,
                    at=now,
                )
            )
            events.append(
                TicketAssigned(
                    tenant_id=ticket.tenant_id, ticket_id=ticket.id, assignee_id=user_id, team_id=team.id
                )
            )
    session.flush()
    _write_decisions(session, rows)
    publish_many(session, events)
    return len(rows)


def take_capacity(
    session: Session, tenant_id: int, user_id: int, stamp: datetime, *, count: int = 1, online: bool = True
) -> bool:
    """Add `count` tickets to an agent's load if they all fit under capacity (and, with `online`,
    only while the agent is online: routing's rule; a person assigning by hand may pick anyone)."""
    conditions = [
        Agent.tenant_id == tenant_id,
        Agent.user_id == user_id,
        Agent.load + count <= Agent.capacity,
    ]
    if online:
        conditions.append(Agent.status == AgentStatus.ONLINE.value)
    result = session.execute(
        update(Agent).where(*conditions).values(load=Agent.load + count, last_assigned_at=stamp),
        execution_options={"synchronize_session": False},
    )
    return bool(result.rowcount == 1)  # type: ignore[attr-defined]


def change_load(session: Session, tenant_id: int, user_id: int, delta: int) -> None:
    """Count a ticket in or out of an agent's load without a capacity check (a reopened ticket goes
    back to its agent; a finished one frees a place)."""
    floor = Agent.load + delta
    session.execute(
        update(Agent)
        .where(Agent.tenant_id == tenant_id, Agent.user_id == user_id)
        .values(load=case((floor < 0, 0), else_=floor)),
        execution_options={"synchronize_session": False},
    )


def fill_for_agent(session: Session, tenant_id: int, user_id: int, *, now: datetime) -> int:
    """An agent's capacity may have freed up (a ticket finished, they came online, their capacity
    grew): fill the queues of their teams."""
    teams = session.scalars(
        select(Team)
        .join(TeamMember, TeamMember.team_id == Team.id)
        .where(TeamMember.tenant_id == tenant_id, TeamMember.user_id == user_id)
    ).all()
    return fill_teams(session, teams, now=now)


def on_status_change(session: Session, ticket: Ticket, previous: TicketStatus, *, now: datetime) -> None:
    """Keep the assignee's load equal to their open tickets: a finished ticket frees a place (and the
    queue moves on at once); a reopened one takes it back."""
    target = TicketStatus(ticket.status)
    if ticket.assignee_id is None:
        if target in DONE:
            ticket.queued_at = None  # finished while waiting: it leaves the queue
        return
    if target in DONE and previous not in DONE:
        change_load(session, ticket.tenant_id, ticket.assignee_id, -1)
        session.flush()
        fill_for_agent(session, ticket.tenant_id, ticket.assignee_id, now=now)
    elif previous in DONE and target not in DONE:
        change_load(session, ticket.tenant_id, ticket.assignee_id, +1)


def unassign(session: Session, ticket: Ticket, *, now: datetime, reason: str, actor: str) -> int | None:
    """Take the ticket from its agent and put it back at the front of its team's queue (its original
    waiting time keeps its place). Returns the former assignee."""
    former = ticket.assignee_id
    if former is None:
        return None
    if TicketStatus(ticket.status) not in DONE:
        change_load(session, ticket.tenant_id, former, -1)
    ticket.assignee_id = None
    ticket.queued_at = ticket.created_at if ticket.team_id is not None else None
    decide(session, ticket, "released", reason, actor=actor, detail={"former_assignee_id": former})
    session.flush()
    return former


def give(
    session: Session,
    ticket: Ticket,
    user_id: int,
    kind: str,
    reason: str,
    *,
    actor: str,
    strategy: str | None = None,
    detail: dict[str, Any] | None = None,
) -> None:
    """Hand the ticket to an agent whose load already counts it: recorded, and published for the
    agent's notification (a fill does the same for its batch in `_apply`)."""
    ticket.assignee_id, ticket.queued_at = user_id, None
    decide(session, ticket, kind, reason, actor=actor, strategy=strategy, detail=detail)
    event = TicketAssigned(
        tenant_id=ticket.tenant_id, ticket_id=ticket.id, assignee_id=user_id, team_id=ticket.team_id
    )
    publish_many(session, [event])


def reassign(session: Session, ticket: Ticket, *, now: datetime, reason: str, actor: str = "system") -> None:
    """Give the ticket to another eligible agent of its team (escalation): the current agent is left
    out of this choice; without anyone eligible it waits at the front of the queue."""
    former = unassign(session, ticket, now=now, reason=reason, actor=actor)
    team = get_in_tenant(session, Team, ticket.tenant_id, ticket.team_id) if ticket.team_id else None
    if team is None:
        return
    agents = [agent for agent in _agents(session, team) if agent.user_id != former]
    results, _ = fill_queue(Strategy(team.strategy), [_ticket_view(session, team, ticket)], agents, now=now)
    choice = results[0][1]
    if choice.user_id is not None and take_capacity(session, ticket.tenant_id, choice.user_id, now):
        give(
            session,
            ticket,
            choice.user_id,
            "reassigned",
            reason,
            actor=actor,
            strategy=team.strategy,
            detail=choice.excluded,
        )
    if former is not None:
        fill_for_agent(session, ticket.tenant_id, former, now=now)


def overflow(session: Session, timer: TimerDelivery) -> None:
    """A ticket waited too long in a team's queue: it moves to the team's overflow team (keeping its
    waiting time, so it is served there in turn) and that queue is filled."""
    ticket = get_in_tenant(session, Ticket, timer.tenant_id or 0, timer.payload["ticket_id"])
    if ticket is None or ticket.assignee_id is not None or ticket.team_id != timer.payload["team_id"]:
        return
    if TicketStatus(ticket.status) in DONE:
        return
    team = get_in_tenant(session, Team, ticket.tenant_id, ticket.team_id)
    target = get_in_tenant(session, Team, ticket.tenant_id, team.overflow_team_id) if team else None
    if team is None or target is None:
        return
    ticket.team_id = target.id
    decide(session, ticket, "overflowed", "waited_too_long", detail={"from_team_id": team.id})
    session.flush()
    fill(session, target, now=timer.due_at)
    if ticket.assignee_id is None:
        _arm_overflow(session, ticket, target, since=timer.due_at)


def load_audit(session: Session, tenant_id: int) -> dict[int, tuple[int, int, int]]:
    """Each agent whose load counter or capacity disagrees with the tickets: user id → (open tickets
    assigned to them, their load counter, their capacity). Empty when all is well (tests, benches)."""
    held = dict(
        session.execute(
            select(Ticket.assignee_id, func.count())
            .where(Ticket.tenant_id == tenant_id, Ticket.assignee_id.is_not(None), Ticket.status.notin_(DONE))
            .group_by(Ticket.assignee_id)
        ).all()
    )
    rows = session.execute(
        select(Agent.user_id, Agent.load, Agent.capacity).where(Agent.tenant_id == tenant_id)
    )
    return {
        user_id: (held.get(user_id, 0), load, capacity)
        for user_id, load, capacity in rows
        if held.get(user_id, 0) != load or held.get(user_id, 0) > capacity
    }


def fill_teams(session: Session, teams: Iterable[Team], *, now: datetime) -> int:
    return sum(fill(session, team, now=now) for team in sorted(teams, key=lambda team: team.id))


TIMER_HANDLERS = [TimerHandler(OVERFLOW_KIND, overflow)]
