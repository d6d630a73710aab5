"""Tables of the tickets domain (so far: business calendars and SLA policies)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import JSON, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from scrm.core.db import Base, BigId, IdMixin, TenantMixin, TimestampMixin


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
