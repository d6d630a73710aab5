"""Follow-on dispatch: the events a handler publishes run in the same batch, right after it; and a
batch starts no row after its time budget."""

from __future__ import annotations

from typing import ClassVar

import pytest
from sqlalchemy import insert, select
from sqlalchemy.orm import Session, sessionmaker

from scrm.core.events import Delivery, Event, HandlerRegistry, publish
from scrm.core.leases import RetryPolicy
from scrm.core.outbox import run_outbox_batch
from scrm.core.outbox_models import OutboxEvent, OutboxStatus
from scrm.core.worker import Worker, WorkerConfig
from tests.core import fixture_handlers
from tests.core.fixture_handlers import Pinged
from tests.core.helpers import FakeClock

pytestmark = pytest.mark.usefixtures("effects_table")


class Relayed(Event):
    """Each hop records an effect and publishes the next hop, down to 0."""

    event_type: ClassVar[str] = "fixture.relayed"
    hops: int
    fail_at_zero: bool = False


class Slow(Event):
    event_type: ClassVar[str] = "fixture.slow"
    number: int


def relay(session: Session, delivery: Delivery) -> None:
    event = delivery.load(Relayed)
    session.execute(
        insert(fixture_handlers.effects).values(event_id=delivery.event_id, handler=f"hop{event.hops}", pid=0)
    )
    if event.hops > 0:
        publish(session, event.model_copy(update={"hops": event.hops - 1}))
    elif event.fail_at_zero:
        raise RuntimeError("the last hop's platform is down")


def effects_in_order(factory: sessionmaker[Session]) -> list[str]:
    with factory() as session:
        table = fixture_handlers.effects
        return list(session.scalars(select(table.c.handler).order_by(table.c.id)))


def outbox(factory: sessionmaker[Session]) -> list[OutboxEvent]:
    with factory() as session:
        return list(session.scalars(select(OutboxEvent).order_by(OutboxEvent.id)))


def make_worker(
    factory: sessionmaker[Session], registry: HandlerRegistry, clock: FakeClock, **config: object
) -> Worker:
    registry.on(Relayed, "relay", relay)
    settings = WorkerConfig(batch_size=50, lease_seconds=30, max_attempts=3, **config)  # type: ignore[arg-type]
    return Worker(factory, registry, settings, worker_id="test-worker", clock=clock)


def test_a_chain_of_events_runs_in_one_batch_before_the_rest(
    committing_factory: sessionmaker[Session], registry: HandlerRegistry, tenant_id: int
) -> None:
    worker = make_worker(committing_factory, registry, FakeClock())
    with committing_factory.begin() as session:
        publish(session, Relayed(tenant_id=tenant_id, hops=3))
        publish(session, Pinged(tenant_id=tenant_id, number=1))

    assert worker.run_once() == 5
    # Depth first: the whole chain ran before the next row of the batch.
    assert effects_in_order(committing_factory) == ["hop3", "hop2", "hop1", "hop0", "effects"]
    rows = outbox(committing_factory)
    assert [(row.status, row.attempts, row.claimed_by) for row in rows] == [
        (OutboxStatus.DONE, 1, "test-worker")
    ] * 5
    assert worker.run_once() == 0


def test_without_follow_ons_each_link_waits_for_the_next_batch(
    committing_factory: sessionmaker[Session], registry: HandlerRegistry, tenant_id: int
) -> None:
    registry.on(Relayed, "relay", relay)
    clock = FakeClock()
    with committing_factory.begin() as session:
        publish(session, Relayed(tenant_id=tenant_id, hops=2))

    def run_once() -> int:
        return len(
            run_outbox_batch(
                committing_factory,
                registry,
                worker_id="test-worker",
                batch_size=50,
                lease_seconds=30,
                policy=RetryPolicy(3, 1.0, 600.0),
                clock=clock,
                run_follow_ons=False,
            )
        )

    assert [run_once() for _ in range(4)] == [1, 1, 1, 0]
    assert effects_in_order(committing_factory) == ["hop2", "hop1", "hop0"]


def test_a_failing_follow_on_is_retried_alone_and_the_chain_before_it_stands(
    committing_factory: sessionmaker[Session], registry: HandlerRegistry, tenant_id: int
) -> None:
    clock = FakeClock()
    worker = make_worker(committing_factory, registry, clock)
    with committing_factory.begin() as session:
        publish(session, Relayed(tenant_id=tenant_id, hops=1, fail_at_zero=True))

    assert worker.run_once() == 2
    first, last = outbox(committing_factory)
    assert (first.status, last.status) == (OutboxStatus.DONE, OutboxStatus.PENDING)
    assert last.attempts == 1 and last.last_error and "platform is down" in last.last_error
    assert last.available_at > clock()  # backing off, like any failed row
    assert effects_in_order(committing_factory) == ["hop1"]  # hop0's effect rolled back with it
    clock.advance(3600)
    for _ in range(3):
        worker.run_once()
        clock.advance(3600)
    assert outbox(committing_factory)[1].status == OutboxStatus.DEAD


def test_a_batch_starts_no_row_after_its_budget(
    committing_factory: sessionmaker[Session], registry: HandlerRegistry, tenant_id: int
) -> None:
    clock = FakeClock()

    def slow(session: Session, delivery: Delivery) -> None:
        session.execute(
            insert(fixture_handlers.effects).values(event_id=delivery.event_id, handler="slow", pid=0)
        )
        clock.advance(1.0)  # this row took a second

    registry.on(Slow, "slow", slow)
    worker = make_worker(committing_factory, registry, clock, batch_budget_seconds=1.5)
    with committing_factory.begin() as session:
        for number in range(5):
            publish(session, Slow(tenant_id=tenant_id, number=number))

    assert worker.run_once() == 5  # two ran, three were released unrun
    rows = outbox(committing_factory)
    assert [row.status for row in rows] == [OutboxStatus.DONE] * 2 + [OutboxStatus.PENDING] * 3
    assert [row.attempts for row in rows[2:]] == [0, 0, 0]  # a release does not count as an attempt
    assert worker.run_once() == 5 - 2 and worker.run_once() == 1
    assert [row.status for row in outbox(committing_factory)] == [OutboxStatus.DONE] * 5
    assert effects_in_order(committing_factory) == ["slow"] * 5
