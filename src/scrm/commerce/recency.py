"""The daily re-scoring of RFM recency (it ages without any event), one timer chain per tenant."""

from __future__ import annotations

import logging
from datetime import timedelta

from sqlalchemy.orm import Session

from scrm.core.clock import utcnow
from scrm.core.events import TimerDelivery, TimerHandler
from scrm.core.timers import schedule
from scrm.customers.order_stats import refresh_recency

log = logging.getLogger(__name__)

RECENCY_KIND = "commerce.refresh_recency"


def schedule_recency_refresh(session: Session, *, tenant_id: int) -> None:
    """Arm the next 03:00 (Shanghai) recency refresh for the tenant (idempotent per day)."""
    due = (utcnow() + timedelta(days=1)).replace(hour=19, minute=0, second=0, microsecond=0)
    schedule(session, RECENCY_KIND, due, {}, f"{tenant_id}:{due:%Y%m%d}", tenant_id=tenant_id)


def on_recency_timer(session: Session, timer: TimerDelivery) -> None:
    assert timer.tenant_id is not None
    changed = refresh_recency(session, tenant_id=timer.tenant_id, now=utcnow())
    log.info("tenant %s: recency re-scored for %s customers", timer.tenant_id, changed)
    schedule_recency_refresh(session, tenant_id=timer.tenant_id)


TIMER_HANDLERS = [TimerHandler(RECENCY_KIND, on_recency_timer)]
