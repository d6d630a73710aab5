"""Dispatching outbox rows: done, retried with backoff, dead-lettered, replayed, and fenced by leases."""

from __future__ import annotations

from datetime import timedelta
from typing import ClassVar

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from scrm.core.errors import Conflict, PermanentError
from scrm.core.events import Delivery, Event, HandlerRegistry, publish, publish_many
from scrm.core.leases import Outcome, RetryPolicy, compute_backoff, run_claimed
from scrm.core.outbox import OUTBOX_QUEUE, claim_outbox, outbox_row_handler, purge_done, replay_event
from scrm.core.outbox_models import OutboxEvent, OutboxStatus
from scrm.core.worker import Worker, WorkerConfig
from tests.core import fixture_handlers
from tests.core.fixture_handlers import Pinged
from tests.core.helpers import FakeClock


class Exploded(Event):
    event_type: ClassVar[str] = "fixture.exploded"
    permanent: bool = False


def explode(session: Session, delivery: Delivery) -> None:
    if delivery.load(Exploded).permanent:
        raise PermanentError("bad data, retrying will not help")
    raise RuntimeError("flaky network")


def effect_count(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(fixture_handlers.effects)) or 0


def rows(session: Session) -> list[OutboxEvent]:
    return list(session.scalars(select(OutboxEvent).order_by(OutboxEvent.id)))


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def worker(committing_factory: sessionmaker[Session], registry: HandlerRegistry, clock: FakeClock) -> Worker:
    registry.on(Exploded, "explode", explode)
    config = WorkerConfig(batch_size=50, lease_seconds=30, max_attempts=3)
    return Worker(committing_factory, registry, config, worker_id="test-worker", clock=clock)


pytestmark = pytest.mark.usefixtures("effects_table")


def test_published_events_are_dispatched_once(
    committing_factory: sessionmaker[Session], worker: Worker, tenant_id: int
) -> None:
    with committing_factory.begin() as session:
        publish_many(session, [Pinged(tenant_id=tenant_id, number=n) for n in range(5)])

    assert worker.run_once() == 5
    assert worker.run_once() == 0
    with committing_factory() as session:
        assert effect_count(session) == 5
        assert {row.status for row in rows(session)} == {OutboxStatus.DONE}
        assert all(row.attempts == 1 and row.processed_at is not None for row in rows(session))


def test_a_failing_row_backs_off_then_dead_letters_while_the_rest_flows(
    committing_factory: sessionmaker[Session], worker: Worker, tenant_id: int, clock: FakeClock
) -> None:
    with committing_factory.begin() as session:
        publish(session, Exploded(tenant_id=tenant_id))
        publish(session, Pinged(tenant_id=tenant_id, number=1))

    worker.run_once()
    with committing_factory() as session:
        failing, healthy = rows(session)
        assert healthy.status == OutboxStatus.DONE
        assert failing.status == OutboxStatus.PENDING and failing.attempts == 1
        assert "RuntimeError: flaky network" in (failing.last_error or "")
        # Full jitter: somewhere in [0, base] after the first failure.
        assert clock.now <= failing.available_at <= clock.now + timedelta(seconds=1)

    for attempt in (2, 3):
        with committing_factory.begin() as session:
            publish(session, Pinged(tenant_id=tenant_id, number=attempt))
        clock.advance(600)
        worker.run_once()

    with committing_factory() as session:
        failing = rows(session)[0]
        assert failing.status == OutboxStatus.DEAD and failing.attempts == 3
        assert failing.processed_at is not None
        assert effect_count(session) == 3
    clock.advance(3600)
    assert worker.run_once() == 0


def test_a_permanent_error_dead_letters_at_once(
    committing_factory: sessionmaker[Session], worker: Worker, tenant_id: int
) -> None:
    with committing_factory.begin() as session:
        publish(session, Exploded(tenant_id=tenant_id, permanent=True))
    worker.run_once()
    with committing_factory() as session:
        (row,) = rows(session)
        assert (row.status, row.attempts) == (OutboxStatus.DEAD, 1)
        assert "PermanentError: bad data" in (row.last_error or "")


def test_replay_sends_a_dead_row_back_with_fresh_attempts(
    committing_factory: sessionmaker[Session], worker: Worker, tenant_id: int, clock: FakeClock
) -> None:
    with committing_factory.begin() as session:
        publish(session, Exploded(tenant_id=tenant_id, permanent=True))
    worker.run_once()

    with committing_factory.begin() as session:
        (row,) = rows(session)
        replayed = replay_event(session, row)
        assert (replayed.status, replayed.attempts, replayed.processed_at) == (OutboxStatus.PENDING, 0, None)
    # The bug is fixed: the handler now succeeds.
    fixed_registry = fixture_handlers.build()
    fixed_registry.on(Exploded, "explode", lambda session, delivery: None)
    Worker(committing_factory, fixed_registry, worker.config, clock=clock).run_once()
    with committing_factory() as session:
        assert rows(session)[0].status == OutboxStatus.DONE


@pytest.mark.usefixtures("registry")
def test_only_dead_rows_can_be_replayed(committing_factory: sessionmaker[Session], tenant_id: int) -> None:
    with committing_factory.begin() as session:
        publish(session, Pinged(tenant_id=tenant_id, number=1))
    with committing_factory() as session, pytest.raises(Conflict):
        replay_event(session, rows(session)[0])


def test_a_lost_lease_rolls_back_the_handlers_effects(
    committing_factory: sessionmaker[Session], registry: HandlerRegistry, tenant_id: int, clock: FakeClock
) -> None:
    """Worker A stalls past its lease; B reclaims and finishes; A's late effects must not commit."""
    with committing_factory.begin() as session:
        publish(session, Pinged(tenant_id=tenant_id, number=1))
    with committing_factory.begin() as session:
        claimed_by_a = claim_outbox(session, worker_id="a", limit=10, lease_seconds=5, now=clock())
    clock.advance(6)
    with committing_factory.begin() as session:
        claimed_by_b = claim_outbox(session, worker_id="b", limit=10, lease_seconds=5, now=clock())
    assert [row["id"] for row in claimed_by_b] == [row["id"] for row in claimed_by_a]
    assert claimed_by_b[0]["attempts"] == 2

    policy = RetryPolicy()
    late = clock.now + timedelta(hours=1)
    results_a = run_claimed(
        committing_factory,
        OUTBOX_QUEUE,
        claimed_by_a,
        worker_id="a",
        policy=policy,
        handle=outbox_row_handler(registry),
        clock=clock,
        stop_starting_at=late,
    )
    results_b = run_claimed(
        committing_factory,
        OUTBOX_QUEUE,
        claimed_by_b,
        worker_id="b",
        policy=policy,
        handle=outbox_row_handler(registry),
        clock=clock,
        stop_starting_at=late,
    )
    assert [result.outcome for result in results_a] == [Outcome.LEASE_LOST]
    assert [result.outcome for result in results_b] == [Outcome.DONE]
    with committing_factory() as session:
        assert effect_count(session) == 1
        assert rows(session)[0].claimed_by == "b"


def test_rows_not_started_before_the_deadline_are_released_unrun(
    committing_factory: sessionmaker[Session], registry: HandlerRegistry, tenant_id: int, clock: FakeClock
) -> None:
    with committing_factory.begin() as session:
        publish_many(session, [Pinged(tenant_id=tenant_id, number=n) for n in range(2)])
    with committing_factory.begin() as session:
        claimed = claim_outbox(session, worker_id="a", limit=10, lease_seconds=30, now=clock())
    results = run_claimed(
        committing_factory,
        OUTBOX_QUEUE,
        claimed,
        worker_id="a",
        policy=RetryPolicy(),
        handle=outbox_row_handler(registry),
        clock=clock,
        stop_starting_at=clock.now,
    )
    assert [result.outcome for result in results] == [Outcome.RELEASED, Outcome.RELEASED]
    with committing_factory() as session:
        assert all((row.status, row.attempts) == (OutboxStatus.PENDING, 0) for row in rows(session))
        assert effect_count(session) == 0


def test_a_row_whose_leases_keep_expiring_is_dead_lettered_unrun(
    committing_factory: sessionmaker[Session], worker: Worker, tenant_id: int, clock: FakeClock
) -> None:
    """A row that crashes every worker that runs it must not crash them forever."""
    with committing_factory.begin() as session:
        publish(session, Pinged(tenant_id=tenant_id, number=1))
    for _ in range(3):  # three workers claim it and die before finishing
        with committing_factory.begin() as session:
            claim_outbox(session, worker_id="doomed", limit=1, lease_seconds=30, now=clock())
        clock.advance(31)
    worker.run_once()
    with committing_factory() as session:
        (row,) = rows(session)
        assert (row.status, row.attempts) == (OutboxStatus.DEAD, 4)
        assert "abandoned" in (row.last_error or "")
        assert effect_count(session) == 0


def test_rows_for_a_handler_this_worker_does_not_know_are_retried(
    committing_factory: sessionmaker[Session], worker: Worker, registry: HandlerRegistry, tenant_id: int
) -> None:
    """During a rolling deploy an older worker may claim rows for a handler only newer workers have."""
    newer_registry = fixture_handlers.build()
    newer_registry.on(Pinged, "newer", lambda session, delivery: None)
    with committing_factory.begin() as session:
        publish(session, Pinged(tenant_id=tenant_id, number=1))
    worker.run_once()
    with committing_factory() as session:
        newer = next(row for row in rows(session) if row.handler == "newer")
        assert newer.status == OutboxStatus.PENDING
        assert "HandlerNotRegistered" in (newer.last_error or "")


@pytest.mark.parametrize("attempt", [1, 2, 5, 10, 30, 100])
def test_backoff_is_full_jitter_under_an_exponential_capped_ceiling(attempt: int) -> None:
    ceiling = min(600.0, 2.0 ** (attempt - 1))
    assert (
        compute_backoff(attempt, base_seconds=1, cap_seconds=600, rand=lambda: 1.0).total_seconds() == ceiling
    )
    assert compute_backoff(attempt, base_seconds=1, cap_seconds=600, rand=lambda: 0.0) == timedelta(0)


def test_purge_deletes_only_old_done_rows(
    committing_factory: sessionmaker[Session], worker: Worker, tenant_id: int, clock: FakeClock
) -> None:
    with committing_factory.begin() as session:
        publish(session, Pinged(tenant_id=tenant_id, number=1))
        publish(session, Exploded(tenant_id=tenant_id, permanent=True))
    worker.run_once()
    with committing_factory.begin() as session:
        assert purge_done(session, before=clock.now - timedelta(days=1)) == 0
        assert purge_done(session, before=clock.now + timedelta(seconds=1)) == 1
    with committing_factory() as session:
        assert [row.status for row in rows(session)] == [OutboxStatus.DEAD]
