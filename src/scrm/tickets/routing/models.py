"""Tables of ticket routing: teams (queues), their members, agents' presence and capacity, and the
record of every routing decision."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from scrm.core.clock import utcnow
from scrm.core.db import Base, BigId, IdMixin, TenantMixin, TimestampMixin, UtcDateTime


class Team(IdMixin, TenantMixin, TimestampMixin, Base):
    """A team and its queue: which tickets it serves (types, regions; empty: all), how it assigns
    them, who escalations reach, and where its waiting tickets overflow to."""

    __tablename__ = "ticket_teams"
    __table_args__ = (UniqueConstraint("tenant_id", "name"),)

    name: Mapped[str] = mapped_column(String(100), nullable=False)
    strategy: Mapped[str] = mapped_column(String(20), nullable=False)
    ticket_types: Mapped[list[str]] = mapped_column(JSON, default=list, nullable=False)
    regions: Mapped[list[str]] = mapped_column(JSON, default=list, nullable=False)
    is_default: Mapped[bool] = mapped_column(Boolean, default=False, nullable=False)
    # Skills a ticket needs, by its category (or, without one, its type): {"质量问题": ["quality"]}.
    skills_by_category: Mapped[dict[str, list[str]]] = mapped_column(JSON, default=dict, nullable=False)
    lead_user_id: Mapped[int | None] = mapped_column(BigId)
    manager_user_id: Mapped[int | None] = mapped_column(BigId)
    overflow_team_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("ticket_teams.id"))
    overflow_after_minutes: Mapped[int | None] = mapped_column(Integer)


class TeamMember(IdMixin, TenantMixin, Base):
    __tablename__ = "ticket_team_members"
    __table_args__ = (
        UniqueConstraint("tenant_id", "team_id", "user_id"),
        Index(None, "tenant_id", "user_id"),
    )

    team_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("ticket_teams.id", ondelete="CASCADE"), nullable=False
    )
    user_id: Mapped[int] = mapped_column(BigId, nullable=False)


class Agent(IdMixin, TenantMixin, TimestampMixin, Base):
    """A user handling tickets: presence, capacity, skills, regions, and `load`, the open tickets
    assigned to them. `load` only grows by a conditional update that checks capacity, so concurrent
    assignments (several API or worker processes) never put an agent over capacity."""

    __tablename__ = "ticket_agents"
    __table_args__ = (UniqueConstraint("tenant_id", "user_id"),)

    user_id: Mapped[int] = mapped_column(BigId, nullable=False)
    status: Mapped[str] = mapped_column(String(10), default="offline", nullable=False)
    capacity: Mapped[int] = mapped_column(Integer, default=10, nullable=False)
    load: Mapped[int] = mapped_column(Integer, default=0, nullable=False)
    skills: Mapped[list[str]] = mapped_column(JSON, default=list, nullable=False)
    regions: Mapped[list[str]] = mapped_column(JSON, default=list, nullable=False)
    last_assigned_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class RoutingDecision(IdMixin, TenantMixin, Base):
    """One routing step of a ticket and its reason: team chosen, assigned, queued, overflowed,
    released, reassigned (by hand or by escalation)."""

    __tablename__ = "ticket_routing_decisions"
    __table_args__ = (Index(None, "tenant_id", "ticket_id", "id"),)

    ticket_id: Mapped[int] = mapped_column(BigId, ForeignKey("tickets.id"), nullable=False)
    kind: Mapped[str] = mapped_column(String(20), nullable=False)
    team_id: Mapped[int | None] = mapped_column(BigId)
    assignee_id: Mapped[int | None] = mapped_column(BigId)
    strategy: Mapped[str | None] = mapped_column(String(20))
    reason: Mapped[str] = mapped_column(String(60), nullable=False)
    # How many agents each reason excluded ({"at_capacity": 3, "missing_skills": 1}), and who acted.
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict, nullable=False)
    actor: Mapped[str] = mapped_column(String(100), nullable=False)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, nullable=False)
