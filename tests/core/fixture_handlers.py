"""Handlers and tables for the worker tests, also loaded by worker subprocesses:

    python -m scrm.worker_process --database-url URL --registry tests.core.fixture_handlers:build

The effects table is deliberately NOT unique: a duplicated effect must show up as a second row, not be
hidden by a constraint. The trace file (SCRM_FIXTURE_TRACE) records every handler start and end outside
the database, so runs whose effects were rolled back are still visible to the tests.
"""

from __future__ import annotations

import os
import time
from typing import ClassVar

from sqlalchemy import Column, Integer, MetaData, String, Table, insert
from sqlalchemy.orm import Session

from scrm.core.events import Delivery, Event, HandlerRegistry, TimerDelivery, set_active_registry

TRACE_ENV = "SCRM_FIXTURE_TRACE"
# The number of a Pinged event whose handler hangs (in the process that has this variable set).
HANG_ON_ENV = "SCRM_FIXTURE_HANG_ON"
ALARM_KIND = "fixture.alarm"

fixture_metadata = MetaData()
effects = Table(
    "fixture_effects",
    fixture_metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("event_id", String(100), nullable=False),
    Column("handler", String(50), nullable=False),
    Column("pid", Integer, nullable=False),
)


class Pinged(Event):
    event_type: ClassVar[str] = "fixture.pinged"
    number: int
    sleep_seconds: float = 0.0


def trace(phase: str, subject: str) -> None:
    path = os.environ.get(TRACE_ENV)
    if not path:
        return
    # One small O_APPEND write per line is atomic, so several processes can share the file.
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    try:
        os.write(descriptor, f"{phase} {subject} {os.getpid()}\n".encode())
    finally:
        os.close(descriptor)


def record_ping(session: Session, delivery: Delivery) -> None:
    ping = delivery.load(Pinged)
    trace("start", str(ping.number))
    if os.environ.get(HANG_ON_ENV) == str(ping.number):
        time.sleep(3600)
    time.sleep(ping.sleep_seconds)
    session.execute(insert(effects).values(event_id=delivery.event_id, handler="effects", pid=os.getpid()))
    trace("end", str(ping.number))


def record_alarm(session: Session, delivery: TimerDelivery) -> None:
    trace("start", f"timer:{delivery.key}")
    session.execute(
        insert(effects).values(event_id=f"timer:{delivery.key}", handler="alarm", pid=os.getpid())
    )
    trace("end", f"timer:{delivery.key}")


def build() -> HandlerRegistry:
    registry = HandlerRegistry()
    registry.on(Pinged, "effects", record_ping)
    registry.on_timer(ALARM_KIND, record_alarm)
    set_active_registry(registry)
    return registry
