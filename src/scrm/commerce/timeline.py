"""The order timeline: what happened to an order, written beside the change that happened."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from scrm.commerce.models import Order, OrderTimelineEntry


def record(session: Session, order: Order, kind: str, summary: str, source: str, **detail: Any) -> None:
    """Add an entry to `order`'s timeline (`source`: push, pull, backfill, rules), dated by the
    platform's last update of the order."""
    session.add(
        OrderTimelineEntry(
            tenant_id=order.tenant_id,
            order_id=order.id,
            kind=kind,
            summary=summary[:300],
            detail=detail,
            source=source,
            occurred_at=order.platform_updated_at,
        )
    )
