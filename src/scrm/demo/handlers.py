"""Demo traffic: a self-rescheduling heartbeat timer that publishes an event every few seconds.

It exercises the real outbox and timer machinery so the console's system page moves in the demo
before the platform simulators (later modules) bring real traffic. Only `scrm demo` schedules it.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from scrm.core.events import Delivery, Event, EventHandler, TimerDelivery, TimerHandler, publish
from scrm.core.outbox_models import Timer, TimerStatus
from scrm.core.timers import schedule
from scrm.demo.desk import work_the_desk

log = logging.getLogger(__name__)

TICK_KIND = "demo.tick"
TICK_INTERVAL = timedelta(seconds=5)


class DemoTicked(Event):
    event_type = "demo.ticked"
    sequence: int


def schedule_tick(session: Session, *, tenant_id: int, sequence: int, due_at: datetime) -> None:
    schedule(
        session, TICK_KIND, due_at, {"sequence": sequence}, f"{tenant_id}:{sequence}", tenant_id=tenant_id
    )


def tick_chain_alive(session: Session, *, tenant_id: int) -> bool:
    """Whether a tick is already scheduled, so a restarted demo continues its chain, not a second one."""
    live = session.scalar(
        select(Timer.id)
        .where(
            Timer.kind == TICK_KIND,
            Timer.tenant_id == tenant_id,
            Timer.status.in_((TimerStatus.SCHEDULED, TimerStatus.PROCESSING)),
        )
        .limit(1)
    )
    return live is not None


def on_tick(session: Session, timer: TimerDelivery) -> None:
    """Publish this tick's event and schedule the next tick; both commit with the firing, once."""
    assert timer.tenant_id is not None
    sequence = int(timer.payload["sequence"])
    publish(session, DemoTicked(tenant_id=timer.tenant_id, sequence=sequence))
    work_the_desk(session, tenant_id=timer.tenant_id, sequence=sequence)
    schedule_tick(
        session, tenant_id=timer.tenant_id, sequence=sequence + 1, due_at=timer.due_at + TICK_INTERVAL
    )


def on_ticked(session: Session, delivery: Delivery) -> None:
    log.debug("demo tick %s handled", delivery.payload.get("sequence"))


HANDLERS = [EventHandler(DemoTicked.event_type, "demo.log_tick", on_ticked)]
TIMER_HANDLERS = [TimerHandler(TICK_KIND, on_tick)]
