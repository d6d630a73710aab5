"""The ticket timeline: every change, written beside the change."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from scrm.core.clock import utcnow
from scrm.tickets.models import Ticket, TicketTimelineEntry


def record(session: Session, ticket: Ticket, kind: str, summary: str, actor: str, **detail: Any) -> None:
    session.add(
        TicketTimelineEntry(
            tenant_id=ticket.tenant_id,
            ticket_id=ticket.id,
            kind=kind,
            summary=summary[:300],
            detail=detail,
            actor=actor,
            occurred_at=utcnow(),
        )
    )
