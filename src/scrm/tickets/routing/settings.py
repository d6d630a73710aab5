"""Teams and agents as administrators and agents set them, and assignment by hand. Keyword-only,
typed, never commits; another tenant's ids are unknown ids."""

from __future__ import annotations

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from scrm.core.actors import Actor
from scrm.core.clock import utcnow
from scrm.core.errors import Conflict, NotFound, ValidationFailed
from scrm.core.tenancy import get_in_tenant, require_in_tenant, tenant_select
from scrm.identity.service import member_names
from scrm.tickets.lifecycle import DONE, TicketStatus
from scrm.tickets.models import Ticket
from scrm.tickets.named_rows import save_named_row
from scrm.tickets.permissions import TicketPermission
from scrm.tickets.routing import queue
from scrm.tickets.routing.assignment import AgentStatus
from scrm.tickets.routing.models import Agent, RoutingDecision, Team, TeamMember
from scrm.tickets.routing.schemas import (
    AgentIn,
    AgentOut,
    AgentStatusIn,
    AssignIn,
    RoutingDecisionOut,
    TeamIn,
    TeamOut,
)


def _members(session: Session, tenant_id: int, team_ids: list[int]) -> dict[int, list[int]]:
    members: dict[int, list[int]] = {team_id: [] for team_id in team_ids}
    rows = session.execute(
        select(TeamMember.team_id, TeamMember.user_id)
        .where(TeamMember.tenant_id == tenant_id, TeamMember.team_id.in_(team_ids))
        .order_by(TeamMember.user_id)
    )
    for team_id, user_id in rows:
        members[team_id].append(user_id)
    return members


def _team_out(session: Session, teams: list[Team]) -> list[TeamOut]:
    if not teams:
        return []
    tenant_id = teams[0].tenant_id
    ids = [team.id for team in teams]
    members = _members(session, tenant_id, ids)
    waiting = dict(
        session.execute(
            select(Ticket.team_id, func.count())
            .where(
                Ticket.tenant_id == tenant_id,
                Ticket.team_id.in_(ids),
                Ticket.queued_at.is_not(None),
                Ticket.assignee_id.is_(None),
            )
            .group_by(Ticket.team_id)
        ).all()
    )
    return [
        TeamOut(
            id=team.id,
            name=team.name,
            strategy=team.strategy,
            ticket_types=team.ticket_types,
            regions=team.regions,
            is_default=team.is_default,
            skills_by_category=team.skills_by_category,
            lead_user_id=team.lead_user_id,
            manager_user_id=team.manager_user_id,
            overflow_team_id=team.overflow_team_id,
            overflow_after_minutes=team.overflow_after_minutes,
            member_user_ids=members[team.id],
            waiting=waiting.get(team.id, 0),
            created_at=team.created_at,
            updated_at=team.updated_at,
        )
        for team in teams
    ]


def list_teams(session: Session, *, actor: Actor) -> list[TeamOut]:
    actor.require(TicketPermission.VIEW)
    return _team_out(session, list(session.scalars(tenant_select(Team, actor.tenant_id).order_by(Team.id))))


def get_team(session: Session, *, actor: Actor, team_id: int) -> TeamOut:
    actor.require(TicketPermission.VIEW)
    return _team_out(session, [require_in_tenant(session, Team, actor.tenant_id, team_id)])[0]


def _check_team_refs(session: Session, actor: Actor, data: TeamIn, team_id: int | None) -> None:
    errors = []
    people = {data.lead_user_id, data.manager_user_id, *data.member_user_ids} - {None}
    known = member_names(session, tenant_id=actor.tenant_id, user_ids=people)  # type: ignore[arg-type]
    for field, value in (("lead_user_id", data.lead_user_id), ("manager_user_id", data.manager_user_id)):
        if value is not None and value not in known:
            errors.append({"field": field, "message": f"no active user {value} in this tenant"})
    for index, user_id in enumerate(data.member_user_ids):
        if user_id not in known:
            errors.append(
                {"field": f"member_user_ids.{index}", "message": f"no active user {user_id} in this tenant"}
            )
    if data.overflow_team_id is not None:
        if data.overflow_team_id == team_id:
            errors.append({"field": "overflow_team_id", "message": "a team cannot overflow into itself"})
        elif get_in_tenant(session, Team, actor.tenant_id, data.overflow_team_id) is None:
            errors.append({"field": "overflow_team_id", "message": "no such team"})
        if data.overflow_after_minutes is None:
            errors.append({"field": "overflow_after_minutes", "message": "required with an overflow team"})
    if errors:
        raise ValidationFailed("the team is not valid", field_errors=errors)


def save_team(session: Session, *, actor: Actor, data: TeamIn, team_id: int | None = None) -> TeamOut:
    """Create a team or replace one (members included: new members get agent settings, offline with
    capacity 10, if they had none). Its queue is filled at once, since members may have changed."""
    actor.require(TicketPermission.SETTINGS_MANAGE)
    _check_team_refs(session, actor, data, team_id)
    values = data.model_dump(mode="json", exclude={"member_user_ids"})
    values["ticket_types"] = sorted(set(data.ticket_types))
    values["regions"] = sorted(set(data.regions))
    team = save_named_row(session, actor=actor, model=Team, row_id=team_id, values=values, audit="team")
    session.execute(
        delete(TeamMember).where(TeamMember.tenant_id == actor.tenant_id, TeamMember.team_id == team.id)
    )
    for user_id in sorted(set(data.member_user_ids)):
        session.add(TeamMember(tenant_id=actor.tenant_id, team_id=team.id, user_id=user_id))
        _ensure_agent(session, actor.tenant_id, user_id)
    session.flush()
    queue.fill(session, team, now=utcnow())
    return _team_out(session, [team])[0]


def delete_team(session: Session, *, actor: Actor, team_id: int) -> None:
    """Delete a team with no open tickets and that no other team overflows into (409 otherwise)."""
    actor.require(TicketPermission.SETTINGS_MANAGE)
    team = require_in_tenant(session, Team, actor.tenant_id, team_id)
    open_tickets = session.scalar(
        select(func.count()).where(
            Ticket.tenant_id == actor.tenant_id, Ticket.team_id == team.id, Ticket.status.notin_(DONE)
        )
    )
    if open_tickets:
        raise Conflict(f"the team has {open_tickets} open tickets; move them first")
    feeders = session.scalars(
        select(Team.name).where(Team.tenant_id == actor.tenant_id, Team.overflow_team_id == team.id)
    ).all()
    if feeders:
        raise Conflict(f"teams overflow into this team: {', '.join(feeders)}")
    session.delete(team)
    session.flush()


def _ensure_agent(session: Session, tenant_id: int, user_id: int) -> Agent:
    agent = session.scalars(
        select(Agent).where(Agent.tenant_id == tenant_id, Agent.user_id == user_id)
    ).one_or_none()
    if agent is None:
        agent = Agent(
            tenant_id=tenant_id,
            user_id=user_id,
            status=AgentStatus.OFFLINE.value,
            capacity=10,
            load=0,
            skills=[],
            regions=[],
        )
        session.add(agent)
        session.flush()
    return agent


def list_agents(session: Session, *, actor: Actor) -> list[AgentOut]:
    actor.require(TicketPermission.VIEW)
    agents = list(session.scalars(tenant_select(Agent, actor.tenant_id).order_by(Agent.user_id)))
    return _agent_out(session, actor.tenant_id, agents)


def _agent_out(session: Session, tenant_id: int, agents: list[Agent]) -> list[AgentOut]:
    names = member_names(session, tenant_id=tenant_id, user_ids=[agent.user_id for agent in agents])
    teams: dict[int, list[int]] = {}
    for team_id, user_id in session.execute(
        select(TeamMember.team_id, TeamMember.user_id).where(TeamMember.tenant_id == tenant_id)
    ):
        teams.setdefault(user_id, []).append(team_id)
    return [
        AgentOut(
            user_id=agent.user_id,
            name=names.get(agent.user_id, f"#{agent.user_id}"),
            status=agent.status,
            capacity=agent.capacity,
            load=agent.load,
            skills=agent.skills,
            regions=agent.regions,
            last_assigned_at=agent.last_assigned_at,
            team_ids=sorted(teams.get(agent.user_id, [])),
        )
        for agent in agents
    ]


def save_agent(session: Session, *, actor: Actor, user_id: int, data: AgentIn) -> AgentOut:
    """An agent's presence, capacity, skills and regions (404 for a user not in the tenant). More room
    or coming online fills their teams' queues at once."""
    actor.require(TicketPermission.SETTINGS_MANAGE)
    return _set_agent(session, actor, user_id, data.model_dump(mode="json"))


def set_own_status(session: Session, *, actor: Actor, data: AgentStatusIn) -> AgentOut:
    """An agent going online, away or offline."""
    actor.require(TicketPermission.EDIT)
    if actor.user_id is None:
        raise ValidationFailed("only a signed-in user has a presence")
    return _set_agent(session, actor, actor.user_id, {"status": data.status.value})


def _set_agent(session: Session, actor: Actor, user_id: int, values: dict[str, object]) -> AgentOut:
    if user_id not in member_names(session, tenant_id=actor.tenant_id, user_ids=[user_id]):
        raise NotFound(f"no user {user_id} in this tenant")
    agent = _ensure_agent(session, actor.tenant_id, user_id)
    for key, value in values.items():
        setattr(agent, key, value)
    session.flush()
    if agent.status == AgentStatus.ONLINE:
        queue.fill_for_agent(session, actor.tenant_id, user_id, now=utcnow())
        session.refresh(agent)
    return _agent_out(session, actor.tenant_id, [agent])[0]


def assign(session: Session, *, actor: Actor, ticket_id: int, data: AssignIn) -> Ticket:
    """Assignment by hand: move the ticket to `team_id` and/or give it to `assignee_id` (a member of
    the ticket's team; over capacity only with `force`), or put it back in the queue."""
    actor.require(TicketPermission.EDIT)
    ticket = require_in_tenant(session, Ticket, actor.tenant_id, ticket_id)
    if TicketStatus(ticket.status) in DONE:
        raise Conflict("a resolved or closed ticket is not assigned")
    now = utcnow()
    if data.team_id is not None and data.team_id != ticket.team_id:
        team = get_in_tenant(session, Team, actor.tenant_id, data.team_id)
        if team is None:
            raise ValidationFailed(
                "no such team", field_errors=[{"field": "team_id", "message": "no such team"}]
            )
        queue.unassign(session, ticket, now=now, reason="moved_by_hand", actor=actor.label)
        ticket.team_id, ticket.queued_at = team.id, now
    team = get_in_tenant(session, Team, actor.tenant_id, ticket.team_id) if ticket.team_id else None
    if data.assignee_id is None:
        former = queue.unassign(session, ticket, now=now, reason="released_by_hand", actor=actor.label)
        if team is not None:
            ticket.queued_at = ticket.queued_at or now
            queue.fill(session, team, now=now)
        if former is not None:
            queue.fill_for_agent(session, actor.tenant_id, former, now=now)
        return ticket
    if data.assignee_id == ticket.assignee_id:
        return ticket
    if team is None or data.assignee_id not in _members(session, actor.tenant_id, [team.id])[team.id]:
        raise ValidationFailed(
            "the assignee is not a member of the ticket's team",
            field_errors=[{"field": "assignee_id", "message": "not a member of the ticket's team"}],
        )
    agent = _ensure_agent(session, actor.tenant_id, data.assignee_id)
    former = queue.unassign(session, ticket, now=now, reason="reassigned_by_hand", actor=actor.label)
    if data.force:
        queue.change_load(session, actor.tenant_id, data.assignee_id, +1)
    elif not queue.take_capacity(session, actor.tenant_id, data.assignee_id, now, online=False):
        session.refresh(agent)
        raise Conflict(f"the agent is at capacity ({agent.load}/{agent.capacity}); force to assign anyway")
    queue.give(
        session,
        ticket,
        data.assignee_id,
        "assigned",
        "by_hand",
        actor=actor.label,
        detail={"note": data.note, "force": data.force},
    )
    session.flush()
    if former is not None:
        queue.fill_for_agent(session, actor.tenant_id, former, now=now)
    return ticket


def decisions(session: Session, *, actor: Actor, ticket_id: int) -> list[RoutingDecisionOut]:
    actor.require(TicketPermission.VIEW)
    ticket = require_in_tenant(session, Ticket, actor.tenant_id, ticket_id)
    rows = session.scalars(
        select(RoutingDecision)
        .where(RoutingDecision.tenant_id == actor.tenant_id, RoutingDecision.ticket_id == ticket.id)
        .order_by(RoutingDecision.id)
    )
    return [RoutingDecisionOut.model_validate(row) for row in rows]


def team_ids_of(session: Session, *, tenant_id: int, user_id: int | None) -> list[int]:
    if user_id is None:
        return []
    return list(
        session.scalars(
            select(TeamMember.team_id).where(TeamMember.tenant_id == tenant_id, TeamMember.user_id == user_id)
        )
    )
