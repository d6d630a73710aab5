"""HTTP endpoints of routing: teams, agents and presence, assignment by hand, the decisions record.

Registered before the tickets router, so that `/api/v1/tickets/teams` is not read as a ticket id."""

from __future__ import annotations

from fastapi import APIRouter, status

from scrm.identity.deps import CurrentActor, DbSession
from scrm.tickets.routing import settings
from scrm.tickets.routing.schemas import (
    AgentIn,
    AgentOut,
    AgentStatusIn,
    AssignIn,
    RoutingDecisionOut,
    TeamIn,
    TeamOut,
)
from scrm.tickets.schemas import TicketOut
from scrm.tickets.service import render

router = APIRouter(prefix="/api/v1/tickets", tags=["tickets"])


@router.get("/teams", response_model=list[TeamOut])
def list_teams(actor: CurrentActor, session: DbSession) -> list[TeamOut]:
    return settings.list_teams(session, actor=actor)


@router.post("/teams", response_model=TeamOut, status_code=status.HTTP_201_CREATED)
def create_team(data: TeamIn, actor: CurrentActor, session: DbSession) -> TeamOut:
    return settings.save_team(session, actor=actor, data=data)


@router.get("/teams/{team_id}", response_model=TeamOut)
def get_team(team_id: int, actor: CurrentActor, session: DbSession) -> TeamOut:
    return settings.get_team(session, actor=actor, team_id=team_id)


@router.put("/teams/{team_id}", response_model=TeamOut)
def replace_team(team_id: int, data: TeamIn, actor: CurrentActor, session: DbSession) -> TeamOut:
    return settings.save_team(session, actor=actor, data=data, team_id=team_id)


@router.delete("/teams/{team_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_team(team_id: int, actor: CurrentActor, session: DbSession) -> None:
    settings.delete_team(session, actor=actor, team_id=team_id)


@router.get("/agents", response_model=list[AgentOut])
def list_agents(actor: CurrentActor, session: DbSession) -> list[AgentOut]:
    return settings.list_agents(session, actor=actor)


@router.put("/agents/{user_id}", response_model=AgentOut)
def save_agent(user_id: int, data: AgentIn, actor: CurrentActor, session: DbSession) -> AgentOut:
    return settings.save_agent(session, actor=actor, user_id=user_id, data=data)


@router.post("/presence", response_model=AgentOut)
def set_presence(data: AgentStatusIn, actor: CurrentActor, session: DbSession) -> AgentOut:
    """The signed-in agent goes online, away or offline."""
    return settings.set_own_status(session, actor=actor, data=data)


@router.post("/{ticket_id}/assign", response_model=TicketOut)
def assign(ticket_id: int, data: AssignIn, actor: CurrentActor, session: DbSession) -> TicketOut:
    return render(settings.assign(session, actor=actor, ticket_id=ticket_id, data=data))


@router.get("/{ticket_id}/routing", response_model=list[RoutingDecisionOut])
def routing_decisions(ticket_id: int, actor: CurrentActor, session: DbSession) -> list[RoutingDecisionOut]:
    return settings.decisions(session, actor=actor, ticket_id=ticket_id)
