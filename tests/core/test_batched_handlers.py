"""Batched handlers (`EventHandler.batched`): the rows of one claim on their first attempt run together,
in one savepoint under one fenced "done" mark; a group that raises is rolled back and its rows run one
by one, so a bad row fails alone; retried rows run alone; follow-ons of a group run as a group too;
prepared rows run first."""

from __future__ import annotations

from datetime import timedelta
from typing import ClassVar

import pytest
from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session, sessionmaker

from scrm.core.events import (
    Delivery,
    Event,
    EventHandler,
    HandlerRegistry,
    TimerDelivery,
    TimerHandler,
    publish,
    publish_many,
)
from scrm.core.outbox_models import OutboxEvent, OutboxStatus, Timer, TimerStatus
from scrm.core.timers import schedule
from scrm.core.worker import Worker, WorkerConfig
from tests.core import fixture_handlers
from tests.core.helpers import FakeClock

pytestmark = pytest.mark.usefixtures("effects_table")


class Item(Event):
    event_type: ClassVar[str] = "fixture.item"
    number: int
    poison: bool = False


class Fanout(Event):
    event_type: ClassVar[str] = "fixture.fanout"
    count: int


def effects(factory: sessionmaker[Session]) -> list[str]:
    with factory() as session:
        table = fixture_handlers.effects
        return list(session.scalars(select(table.c.handler).order_by(table.c.id)))


def build(registry: HandlerRegistry, calls: list[list[int]]) -> None:
    def items(session: Session, deliveries: list[Delivery]) -> None:
        events = [delivery.load(Item) for delivery in deliveries]
        calls.append([event.number for event in events])
        session.execute(
            insert(fixture_handlers.effects),
            [
                {"event_id": d.event_id, "handler": f"item{e.number}", "pid": 0}
                for d, e in zip(deliveries, events, strict=True)
            ],
        )
        if any(event.poison for event in events):
            raise ValueError("a poisoned item")

    def fanout(session: Session, delivery: Delivery) -> None:
        count = delivery.load(Fanout).count
        publish_many(session, [Item(tenant_id=delivery.tenant_id or 0, number=100 + n) for n in range(count)])

    registry.add(EventHandler.batched(Item.event_type, "items", items))
    registry.add(EventHandler(Fanout.event_type, "fanout", fanout))


def worker(factory: sessionmaker[Session], registry: HandlerRegistry, clock: FakeClock) -> Worker:
    config = WorkerConfig(batch_size=50, lease_seconds=30, max_attempts=3, batch_budget_seconds=30)
    return Worker(factory, registry, config, worker_id="w", clock=clock)


def statuses(factory: sessionmaker[Session]) -> dict[str, int]:
    with factory() as session:
        rows = session.execute(
            select(OutboxEvent.status, OutboxEvent.attempts).where(OutboxEvent.handler == "items")
        )
        found: dict[str, int] = {}
        for status, _ in rows:
            found[status] = found.get(status, 0) + 1
        return found


def test_rows_of_a_batched_handler_run_in_one_call(
    committing_factory: sessionmaker[Session], registry: HandlerRegistry, tenant_id: int
) -> None:
    calls: list[list[int]] = []
    build(registry, calls)
    with committing_factory.begin() as session:
        publish_many(session, [Item(tenant_id=tenant_id, number=n) for n in range(5)])
    worker(committing_factory, registry, FakeClock()).run_once()
    assert calls == [[0, 1, 2, 3, 4]]
    assert effects(committing_factory) == [f"item{n}" for n in range(5)]
    assert statuses(committing_factory) == {OutboxStatus.DONE: 5}


def test_a_failing_group_is_rolled_back_and_its_rows_run_alone(
    committing_factory: sessionmaker[Session], registry: HandlerRegistry, tenant_id: int
) -> None:
    calls: list[list[int]] = []
    build(registry, calls)
    with committing_factory.begin() as session:
        publish_many(session, [Item(tenant_id=tenant_id, number=n, poison=n == 2) for n in range(4)])
    worker(committing_factory, registry, FakeClock()).run_once()
    assert calls == [[0, 1, 2, 3], [0], [1], [2], [3]]
    # The group's writes were rolled back; each good row's own run stands, the poisoned one retries.
    assert effects(committing_factory) == ["item0", "item1", "item3"]
    assert statuses(committing_factory) == {OutboxStatus.DONE: 3, OutboxStatus.PENDING: 1}


def test_rows_on_a_later_attempt_run_alone(
    committing_factory: sessionmaker[Session], registry: HandlerRegistry, tenant_id: int
) -> None:
    calls: list[list[int]] = []
    build(registry, calls)
    with committing_factory.begin() as session:
        publish_many(session, [Item(tenant_id=tenant_id, number=n) for n in range(3)])
        # Row of item 1 failed once before.
        session.execute(
            update(OutboxEvent).where(OutboxEvent.payload["number"].as_integer() == 1).values(attempts=1)
        )
    worker(committing_factory, registry, FakeClock()).run_once()
    assert sorted(calls) == [[0, 2], [1]]
    assert statuses(committing_factory) == {OutboxStatus.DONE: 3}


def test_follow_ons_of_a_handler_run_as_one_group(
    committing_factory: sessionmaker[Session], registry: HandlerRegistry, tenant_id: int
) -> None:
    calls: list[list[int]] = []
    build(registry, calls)
    with committing_factory.begin() as session:
        publish(session, Fanout(tenant_id=tenant_id, count=4))
    worker(committing_factory, registry, FakeClock()).run_once()
    assert calls == [[100, 101, 102, 103]]
    assert statuses(committing_factory) == {OutboxStatus.DONE: 4}


def test_a_lost_lease_rolls_back_the_whole_group(
    committing_factory: sessionmaker[Session], registry: HandlerRegistry, tenant_id: int
) -> None:
    """Another worker reclaimed one row while the group ran: no effect of the group commits."""
    calls: list[list[int]] = []

    def steal(session: Session, deliveries: list[Delivery]) -> None:
        calls.append([delivery.load(Item).number for delivery in deliveries])
        session.execute(
            insert(fixture_handlers.effects),
            [{"event_id": d.event_id, "handler": "x", "pid": 0} for d in deliveries],
        )
        session.execute(
            update(OutboxEvent)
            .where(OutboxEvent.event_id == deliveries[0].event_id)
            .values(claimed_by="someone else")
        )

    registry.add(EventHandler.batched(Item.event_type, "items", steal))
    with committing_factory.begin() as session:
        publish_many(session, [Item(tenant_id=tenant_id, number=n) for n in range(3)])
    worker(committing_factory, registry, FakeClock()).run_once()
    assert calls == [[0, 1, 2]]
    assert effects(committing_factory) == []


def test_timers_of_a_batched_kind_fire_in_one_call(
    committing_factory: sessionmaker[Session], registry: HandlerRegistry, tenant_id: int
) -> None:
    calls: list[list[str]] = []

    def fire(session: Session, timers: list[TimerDelivery]) -> None:
        calls.append(sorted(timer.key for timer in timers))
        if any(timer.key == "poison" for timer in timers):
            raise ValueError("a poisoned timer")

    registry.add(TimerHandler.batched("fixture.batched", fire))
    clock = FakeClock()
    with committing_factory.begin() as session:
        for key in ("a", "b", "poison"):
            schedule(
                session, "fixture.batched", clock.now - timedelta(seconds=1), {}, key, tenant_id=tenant_id
            )
    worker(committing_factory, registry, clock).run_once()
    # The group failed on the poisoned timer, then each fired alone: two fired, one retries.
    assert calls[0] == ["a", "b", "poison"] and sorted(calls[1:]) == [["a"], ["b"], ["poison"]]
    with committing_factory() as session:
        statuses = dict(
            session.execute(select(Timer.key, Timer.status).where(Timer.kind == "fixture.batched")).all()
        )
    assert statuses == {"a": TimerStatus.FIRED, "b": TimerStatus.FIRED, "poison": TimerStatus.SCHEDULED}
