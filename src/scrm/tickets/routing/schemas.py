"""API shapes of routing: teams, agents, manual assignment, decisions."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from scrm.tickets.routing.assignment import AgentStatus, Strategy


class TeamIn(BaseModel):
    """A team: the tickets it serves (`ticket_types`, `regions`; empty lists serve all), how it
    assigns them, the skills tickets need by category, who escalations reach, overflow, members."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=100)
    strategy: Strategy = Strategy.LEAST_LOAD
    ticket_types: list[str] = Field(default_factory=list, max_length=50)
    regions: list[str] = Field(default_factory=list, max_length=100)
    is_default: bool = False
    skills_by_category: dict[str, list[str]] = Field(default_factory=dict, max_length=200)
    lead_user_id: int | None = None
    manager_user_id: int | None = None
    overflow_team_id: int | None = None
    overflow_after_minutes: int | None = Field(default=None, ge=1, le=10_080)
    member_user_ids: list[int] = Field(default_factory=list, max_length=2000)


class TeamOut(BaseModel):
    id: int
    name: str
    strategy: Strategy
    ticket_types: list[str]
    regions: list[str]
    is_default: bool
    skills_by_category: dict[str, list[str]]
    lead_user_id: int | None
    manager_user_id: int | None
    overflow_team_id: int | None
    overflow_after_minutes: int | None
    member_user_ids: list[int]
    # Tickets waiting in the team's queue now.
    waiting: int
    created_at: datetime
    updated_at: datetime


class AgentIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    status: AgentStatus = AgentStatus.OFFLINE
    capacity: int = Field(default=10, ge=0, le=500)
    skills: list[str] = Field(default_factory=list, max_length=50)
    regions: list[str] = Field(default_factory=list, max_length=100)


class AgentStatusIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    status: AgentStatus


class AgentOut(BaseModel):
    user_id: int
    name: str
    status: AgentStatus
    capacity: int
    load: int
    skills: list[str]
    regions: list[str]
    last_assigned_at: datetime | None
    team_ids: list[int]


class AssignIn(BaseModel):
    """Give the ticket to `assignee_id` (a member of its team, or of `team_id` when moving it), or with
    no assignee put it back in the (new) team's queue. Capacity is respected unless `force`."""

    model_config = ConfigDict(extra="forbid")

    assignee_id: int | None = None
    team_id: int | None = None
    force: bool = False
    note: str | None = Field(default=None, max_length=500)


class RoutingDecisionOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    kind: str
    team_id: int | None
    assignee_id: int | None
    strategy: str | None
    reason: str
    detail: dict[str, Any]
    actor: str
    created_at: datetime
