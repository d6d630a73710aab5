"""Tables of the tickets domain: business calendars, SLA policies, tickets, their comments and timeline."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column

from scrm.core.clock import utcnow
from scrm.core.db import Base, BigId, IdMixin, TenantMixin, TimestampMixin, UtcDateTime


class CalendarRow(IdMixin, TenantMixin, TimestampMixin, Base):
    """A business calendar as configured (the spec `sla.calendar.BusinessCalendar.from_spec` reads)."""

    __tablename__ = "ticket_calendars"
    __table_args__ = (UniqueConstraint("tenant_id", "name"),)

    name: Mapped[str] = mapped_column(String(100), nullable=False)
    timezone: Mapped[str] = mapped_column(String(64), nullable=False)
    # {"mon": [["09:00", "12:00"], ["13:30", "18:00"]], ...}
    weekly: Mapped[dict[str, list[list[str]]]] = mapped_column(JSON, nullable=False)
    holidays: Mapped[list[str]] = mapped_column(JSON, default=list, nullable=False)
    extra_workdays: Mapped[list[str]] = mapped_column(JSON, default=list, nullable=False)
    makeup_intervals: Mapped[list[list[str]] | None] = mapped_column(JSON)


class SlaPolicy(IdMixin, TenantMixin, TimestampMixin, Base):
    """Targets per priority, counted in business minutes on a calendar.

    `targets`: {"urgent": {"first_response_minutes": 30, "next_response_minutes": 60,
    "resolution_minutes": 240}, ...}; a missing target means none. `ticket_type`: the tickets it
    applies to (None: any type)."""

    __tablename__ = "ticket_sla_policies"
    __table_args__ = (UniqueConstraint("tenant_id", "name"),)

    name: Mapped[str] = mapped_column(String(100), nullable=False)
    calendar_id: Mapped[int] = mapped_column(BigId, ForeignKey("ticket_calendars.id"), nullable=False)
    ticket_type: Mapped[str | None] = mapped_column(String(64))
    targets: Mapped[dict[str, dict[str, Any]]] = mapped_column(JSON, nullable=False)
    # Warn when this share of a target has elapsed.
    warning_percent: Mapped[int] = mapped_column(Integer, default=80, nullable=False)
    # What happens after a breach (`schemas.EscalationLevel`s): level 1 at the breach, then later ones.
    escalation: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list, nullable=False)


class Ticket(IdMixin, TenantMixin, TimestampMixin, Base):
    """A service request (工单). Status moves only by the transitions in `lifecycle.py`; the SLA
    clocks' due times are stored here (and armed as timers) whenever they change."""

    __tablename__ = "tickets"
    __table_args__ = (
        Index(None, "tenant_id", "status", "id"),
        Index(None, "tenant_id", "assignee_id", "status"),
        Index(None, "tenant_id", "customer_id"),
        # The triage queue (待分拣): tickets whose classification an agent should check.
        Index(None, "tenant_id", "needs_triage", "id"),
        # A team's queue: its tickets waiting for an agent.
        Index(None, "tenant_id", "team_id", "queued_at"),
        # What a ticket raised by another domain's event was raised for (`refund:<id>`), once.
        UniqueConstraint("tenant_id", "source_ref"),
    )

    title: Mapped[str] = mapped_column(String(200), nullable=False)
    description: Mapped[str] = mapped_column(Text, default="", nullable=False)
    # Other domains' ids, kept as plain ids (no cross-domain foreign keys).
    customer_id: Mapped[int | None] = mapped_column(BigId)
    order_id: Mapped[int | None] = mapped_column(BigId)
    order_line_id: Mapped[int | None] = mapped_column(BigId)
    source: Mapped[str] = mapped_column(String(20), nullable=False)
    source_ref: Mapped[str | None] = mapped_column(String(100))
    ticket_type: Mapped[str] = mapped_column(String(64), default="general", nullable=False)
    category: Mapped[str | None] = mapped_column(String(64))
    # How the category was decided (classify/on_create.py): rule, model, agent or none; the model's
    # calibrated confidence; whether an agent should check it (the triage queue).
    classified_by: Mapped[str] = mapped_column(
        String(10), default="none", server_default="none", nullable=False
    )
    classification_confidence: Mapped[float | None] = mapped_column(Float)
    needs_triage: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false(), nullable=False)
    priority: Mapped[str] = mapped_column(String(10), nullable=False)
    status: Mapped[str] = mapped_column(String(24), nullable=False)
    team_id: Mapped[int | None] = mapped_column(BigId)
    assignee_id: Mapped[int | None] = mapped_column(BigId)
    region: Mapped[str | None] = mapped_column(String(50))
    # Set while the ticket waits in its team's queue for an agent (routing/service.py).
    queued_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    # Skills an agent needs to take it (from its team's skills by category, or given).
    required_skills: Mapped[list[str]] = mapped_column(JSON, default=list, nullable=False)
    custom: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict, nullable=False)
    # The form version `custom` was validated against (the forms domain's id; None: no form).
    form_version_id: Mapped[int | None] = mapped_column(BigId)
    sla_policy_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("ticket_sla_policies.id"))
    due_first_response_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    # Runs while the customer awaits an answer to a later message (after the first response).
    due_next_response_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    warn_next_response_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    due_resolution_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    # When each clock's warning falls (the policy's share of its target elapsed).
    warn_first_response_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    warn_resolution_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    first_responded_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    # Set while waiting on the customer or a third party: the clocks stand still.
    paused_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    # Each SLA warning and breach fires once: these record that it did.
    sla_marks: Mapped[dict[str, str]] = mapped_column(JSON, default=dict, nullable=False)
    resolved_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    outcome: Mapped[str | None] = mapped_column(String(20))
    # Closed as a duplicate of this ticket (`merge.py`); always an unmerged ticket, never a chain.
    merged_into_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("tickets.id"))
    # The customer's satisfaction rating (1..5), given once (`rating.py`).
    rating: Mapped[int | None] = mapped_column(Integer)
    rating_comment: Mapped[str | None] = mapped_column(Text)
    rated_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class TicketComment(IdMixin, TenantMixin, Base):
    __tablename__ = "ticket_comments"
    __table_args__ = (Index(None, "tenant_id", "ticket_id", "id"),)

    ticket_id: Mapped[int] = mapped_column(BigId, ForeignKey("tickets.id"), nullable=False)
    author: Mapped[str] = mapped_column(String(100), nullable=False)
    body: Mapped[str] = mapped_column(Text, nullable=False)
    # Internal notes are for staff; the others are replies to the customer (they stop the response clock).
    internal: Mapped[bool] = mapped_column(Boolean, default=False, nullable=False)
    # Written by the customer (staff replies are the others).
    from_customer: Mapped[bool] = mapped_column(Boolean, default=False, nullable=False)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, nullable=False)


class TicketAttachment(IdMixin, TenantMixin, Base):
    """A file attached to a ticket (or one of its comments). The bytes live on disk, content-addressed
    by `sha256` per tenant (`storage.py`); several rows may share one file."""

    __tablename__ = "ticket_attachments"
    __table_args__ = (Index(None, "tenant_id", "ticket_id", "id"),)

    ticket_id: Mapped[int] = mapped_column(BigId, ForeignKey("tickets.id"), nullable=False)
    comment_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("ticket_comments.id"))
    filename: Mapped[str] = mapped_column(String(255), nullable=False)
    # What the content was sniffed to be (never the client's word).
    content_type: Mapped[str] = mapped_column(String(100), nullable=False)
    size: Mapped[int] = mapped_column(Integer, nullable=False)
    sha256: Mapped[str] = mapped_column(String(64), nullable=False)
    uploaded_by: Mapped[str] = mapped_column(String(100), nullable=False)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, nullable=False)


class TicketTimelineEntry(IdMixin, TenantMixin, Base):
    """What happened to a ticket, written beside the change."""

    __tablename__ = "ticket_timeline"
    __table_args__ = (Index(None, "tenant_id", "ticket_id", "id"),)

    ticket_id: Mapped[int] = mapped_column(BigId, ForeignKey("tickets.id"), nullable=False)
    kind: Mapped[str] = mapped_column(String(50), nullable=False)
    summary: Mapped[str] = mapped_column(String(300), nullable=False)
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict, nullable=False)
    actor: Mapped[str] = mapped_column(String(100), nullable=False)
    occurred_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, nullable=False)
