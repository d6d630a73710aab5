"""Handlers that prepare outside the transaction: `prepare` runs after the claim, with a read-only
session of its own, before the batch's transaction; the handler gets its result (or raises its
error, and the row is retried as usual); such rows are never run as follow-ons; timers alike."""

from __future__ import annotations

from datetime import timedelta
from typing import Any, ClassVar

import pytest
from sqlalchemy import insert, select
from sqlalchemy.orm import Session, sessionmaker

from scrm.core.events import (
    Delivery,
    Event,
    EventHandler,
    HandlerRegistry,
    TimerDelivery,
    TimerHandler,
    prepared_or,
    publish,
)
from scrm.core.outbox_models import OutboxEvent, OutboxStatus
from scrm.core.timers import schedule
from scrm.core.worker import Worker, WorkerConfig
from tests.core import fixture_handlers
from tests.core.helpers import FakeClock

pytestmark = pytest.mark.usefixtures("effects_table")


class Fetch(Event):
    event_type: ClassVar[str] = "fixture.fetch"
    number: int
    fail: bool = False


class Trigger(Event):
    event_type: ClassVar[str] = "fixture.trigger"
    number: int


def effects(factory: sessionmaker[Session]) -> list[str]:
    with factory() as session:
        table = fixture_handlers.effects
        return list(session.scalars(select(table.c.handler).order_by(table.c.id)))


def build(registry: HandlerRegistry, calls: list[str]) -> None:
    def prepare(session: Session, delivery: Delivery) -> Any:
        event = delivery.load(Fetch)
        # A read works in the preparing session; the batch's transaction has not started.
        calls.append(f"prepare{event.number}:{session.scalar(select(1))}")
        if event.fail and delivery.attempt == 1:
            raise ConnectionError("the platform is down")
        return f"fetched{event.number}"

    def apply(session: Session, delivery: Delivery) -> None:
        result = prepared_or(delivery.prepared, lambda: "inline")
        session.execute(
            insert(fixture_handlers.effects).values(event_id=delivery.event_id, handler=result, pid=0)
        )

    def trigger(session: Session, delivery: Delivery) -> None:
        publish(session, Fetch(tenant_id=delivery.tenant_id or 0, number=delivery.load(Trigger).number))

    registry.add(EventHandler(Fetch.event_type, "fetch", apply, prepare=prepare))
    registry.add(EventHandler(Trigger.event_type, "trigger", trigger))

    def timer_prepare(session: Session, timer: TimerDelivery) -> Any:
        calls.append(f"timer-prepare:{timer.key}")
        return timer.key.upper()

    def timer_fire(session: Session, timer: TimerDelivery) -> None:
        value = prepared_or(timer.prepared, lambda: "inline")
        session.execute(insert(fixture_handlers.effects).values(event_id=timer.key, handler=value, pid=0))

    registry.add(TimerHandler("fixture.prepared", timer_fire, prepare=timer_prepare))


def worker(factory: sessionmaker[Session], registry: HandlerRegistry, clock: FakeClock) -> Worker:
    config = WorkerConfig(batch_size=50, lease_seconds=30, max_attempts=3)
    return Worker(factory, registry, config, worker_id="w", clock=clock)


def test_prepare_runs_before_the_handler_and_its_result_is_applied(
    committing_factory: sessionmaker[Session], registry: HandlerRegistry, tenant_id: int
) -> None:
    calls: list[str] = []
    build(registry, calls)
    with committing_factory.begin() as session:
        publish(session, Fetch(tenant_id=tenant_id, number=1))
        publish(session, Fetch(tenant_id=tenant_id, number=2))
    worker(committing_factory, registry, FakeClock()).run_once()
    assert calls == ["prepare1:1", "prepare2:1"]
    assert effects(committing_factory) == ["fetched1", "fetched2"]


def test_an_error_in_prepare_retries_the_row(
    committing_factory: sessionmaker[Session], registry: HandlerRegistry, tenant_id: int
) -> None:
    calls: list[str] = []
    build(registry, calls)
    clock = FakeClock()
    with committing_factory.begin() as session:
        publish(session, Fetch(tenant_id=tenant_id, number=3, fail=True))
    runner = worker(committing_factory, registry, clock)
    runner.run_once()
    with committing_factory() as session:
        row = session.scalars(select(OutboxEvent).where(OutboxEvent.handler == "fetch")).one()
        assert row.status == OutboxStatus.PENDING and "the platform is down" in (row.last_error or "")
    clock.advance(600)
    runner.run_once()
    assert effects(committing_factory) == ["fetched3"]


def test_prepared_rows_are_not_followed_on_but_prepared_next_batch(
    committing_factory: sessionmaker[Session], registry: HandlerRegistry, tenant_id: int
) -> None:
    calls: list[str] = []
    build(registry, calls)
    with committing_factory.begin() as session:
        publish(session, Trigger(tenant_id=tenant_id, number=4))
    runner = worker(committing_factory, registry, FakeClock())
    runner.run_once()
    assert effects(committing_factory) == [] and calls == []
    runner.run_once()
    assert calls == ["prepare4:1"] and effects(committing_factory) == ["fetched4"]


def test_timers_prepare_too(
    committing_factory: sessionmaker[Session], registry: HandlerRegistry, tenant_id: int
) -> None:
    calls: list[str] = []
    build(registry, calls)
    clock = FakeClock()
    with committing_factory.begin() as session:
        schedule(
            session, "fixture.prepared", clock.now - timedelta(seconds=1), {}, "tick-1", tenant_id=tenant_id
        )
    worker(committing_factory, registry, clock).run_once()
    assert calls == ["timer-prepare:tick-1"] and effects(committing_factory) == ["TICK-1"]
