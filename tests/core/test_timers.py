"""Durable timers: idempotent scheduling, cancel, reschedule, firing at (never before) due time."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from scrm.core.clock import utcnow
from scrm.core.errors import Conflict
from scrm.core.events import HandlerRegistry, TimerDelivery
from scrm.core.leases import RetryPolicy, claim, run_claimed
from scrm.core.outbox_models import Timer, TimerStatus
from scrm.core.timers import (
    TIMER_QUEUE,
    cancel,
    get_timer,
    replay_timer,
    reschedule,
    schedule,
    timer_row_handler,
)
from scrm.core.worker import Worker, WorkerConfig
from tests.core import fixture_handlers
from tests.core.fixture_handlers import ALARM_KIND
from tests.core.helpers import FakeClock, wait_until

pytestmark = pytest.mark.usefixtures("effects_table")


def alarm_effects(session: Session, key: str) -> int:
    effects = fixture_handlers.effects
    return session.scalar(select(func.count()).where(effects.c.event_id == f"timer:{key}")) or 0


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def worker(committing_factory: sessionmaker[Session], registry: HandlerRegistry, clock: FakeClock) -> Worker:
    return Worker(
        committing_factory, registry, WorkerConfig(max_attempts=2), worker_id="test-worker", clock=clock
    )


def test_schedule_is_idempotent_on_kind_and_key(db: Session, db_tenant_id: int) -> None:
    due = utcnow() + timedelta(hours=1)
    first = schedule(db, ALARM_KIND, due, {"n": 1}, "ticket:1", tenant_id=db_tenant_id)
    second = schedule(db, ALARM_KIND, due + timedelta(hours=5), {"n": 2}, "ticket:1", tenant_id=db_tenant_id)
    assert second.id == first.id
    assert (second.due_at, second.payload) == (due, {"n": 1})
    assert db.scalar(select(func.count()).select_from(Timer)) == 1
    other_kind = schedule(db, "other.kind", due, {}, "ticket:1")
    assert other_kind.id != first.id


def test_a_timer_fires_once_at_its_due_time_and_not_before(
    committing_factory: sessionmaker[Session], worker: Worker, clock: FakeClock, tenant_id: int
) -> None:
    with committing_factory.begin() as session:
        schedule(session, ALARM_KIND, clock.now + timedelta(seconds=30), {}, "t1", tenant_id=tenant_id)
    clock.advance(29)
    assert worker.run_once() == 0
    assert worker.seconds_until_next_work() == pytest.approx(1, abs=0.01)
    clock.advance(1)
    assert worker.run_once() == 1
    assert worker.run_once() == 0
    with committing_factory() as session:
        timer = get_timer(session, ALARM_KIND, "t1")
        assert timer is not None and timer.status == TimerStatus.FIRED
        assert timer.fired_at is not None and timer.fired_at >= timer.due_at
        assert alarm_effects(session, "t1") == 1


def test_cancel_stops_a_scheduled_timer(
    committing_factory: sessionmaker[Session], worker: Worker, clock: FakeClock
) -> None:
    with committing_factory.begin() as session:
        schedule(session, ALARM_KIND, clock.now, {}, "t1")
        assert cancel(session, ALARM_KIND, "t1") is True
        assert cancel(session, ALARM_KIND, "t1") is False
        assert cancel(session, ALARM_KIND, "missing") is False
    assert worker.run_once() == 0
    with committing_factory() as session:
        assert get_timer(session, ALARM_KIND, "t1").status == TimerStatus.CANCELLED  # type: ignore[union-attr]


def test_cancel_wins_over_a_firing_that_has_not_committed(
    committing_factory: sessionmaker[Session], registry: HandlerRegistry, clock: FakeClock
) -> None:
    with committing_factory.begin() as session:
        schedule(session, ALARM_KIND, clock.now, {}, "t1")
    with committing_factory.begin() as session:
        claimed = claim(session, TIMER_QUEUE, worker_id="w", limit=10, lease_seconds=30, now=clock())
    with committing_factory.begin() as session:
        cancel(session, ALARM_KIND, "t1")
    run_claimed(
        committing_factory, TIMER_QUEUE, claimed, worker_id="w", policy=RetryPolicy(),
        handle=timer_row_handler(registry), clock=clock, stop_starting_at=clock.now + timedelta(hours=1),
    )  # fmt: skip
    with committing_factory() as session:
        assert get_timer(session, ALARM_KIND, "t1").status == TimerStatus.CANCELLED  # type: ignore[union-attr]
        assert alarm_effects(session, "t1") == 0


def test_reschedule_moves_a_timer_and_rearms_a_fired_one(
    committing_factory: sessionmaker[Session], worker: Worker, clock: FakeClock
) -> None:
    with committing_factory.begin() as session:
        schedule(session, ALARM_KIND, clock.now, {}, "t1")
        moved = reschedule(session, ALARM_KIND, "t1", clock.now + timedelta(minutes=10))
        assert moved is not None and moved.due_at == clock.now + timedelta(minutes=10)
        assert reschedule(session, ALARM_KIND, "missing", clock.now) is None
    assert worker.run_once() == 0
    clock.advance(600)
    assert worker.run_once() == 1

    with committing_factory.begin() as session:
        rearmed = reschedule(session, ALARM_KIND, "t1", clock.now + timedelta(minutes=1))
        assert rearmed is not None and (rearmed.status, rearmed.fired_at) == (TimerStatus.SCHEDULED, None)
    clock.advance(60)
    assert worker.run_once() == 1
    with committing_factory() as session:
        assert alarm_effects(session, "t1") == 2


def test_a_failing_timer_retries_then_dead_letters_and_can_be_replayed(
    committing_factory: sessionmaker[Session], registry: HandlerRegistry, worker: Worker, clock: FakeClock
) -> None:
    attempts: list[int] = []

    def fail(session: Session, delivery: TimerDelivery) -> None:
        attempts.append(delivery.attempt)
        raise RuntimeError("downstream unavailable")

    registry.on_timer("fixture.failing", fail)
    with committing_factory.begin() as session:
        due = clock.now
        schedule(session, "fixture.failing", due, {"x": 1}, "f1")
    worker.run_once()
    with committing_factory() as session:
        timer = get_timer(session, "fixture.failing", "f1")
        assert timer is not None and timer.status == TimerStatus.SCHEDULED
        assert timer.due_at == due and timer.available_at >= due  # due_at stays the contract
    clock.advance(600)
    worker.run_once()
    assert attempts == [1, 2]
    with committing_factory.begin() as session:
        timer = get_timer(session, "fixture.failing", "f1")
        assert timer is not None and timer.status == TimerStatus.DEAD
        assert "downstream unavailable" in (timer.last_error or "")
        replay_timer(session, timer)
        with pytest.raises(Conflict):
            replay_timer(session, timer)
    worker.run_once()
    assert attempts == [1, 2, 1]


def test_a_running_worker_wakes_for_a_new_timer_and_fires_it_after_due(
    committing_factory: sessionmaker[Session], registry: HandlerRegistry
) -> None:
    """The worker idles with a one-minute cap, so only the wake-up on commit plus sleeping until the
    due time can make this timer fire within the test's patience."""
    worker = Worker(committing_factory, registry, WorkerConfig(max_idle_seconds=60, heartbeat_seconds=60))
    worker.start_thread()
    try:
        wait_until(
            lambda: worker.processed_total == 0 and _has_heartbeat(committing_factory), what="worker start"
        )
        with committing_factory.begin() as session:
            schedule(session, ALARM_KIND, utcnow() + timedelta(seconds=1), {}, "soon")
        wait_until(
            lambda: _status(committing_factory, "soon") == TimerStatus.FIRED, what="timer fired", timeout=30
        )
    finally:
        worker.stop()
    with committing_factory() as session:
        timer = get_timer(session, ALARM_KIND, "soon")
        assert timer is not None and timer.fired_at is not None
        assert timer.fired_at >= timer.due_at
        assert alarm_effects(session, "soon") == 1
        print(f"lateness {(timer.fired_at - timer.due_at).total_seconds():.3f} s")


def test_stop_ends_an_idle_worker_promptly(
    committing_factory: sessionmaker[Session], registry: HandlerRegistry
) -> None:
    worker = Worker(committing_factory, registry, WorkerConfig(max_idle_seconds=600))
    thread = worker.start_thread()
    wait_until(lambda: _has_heartbeat(committing_factory), what="worker start")
    worker.stop(timeout=30)
    assert not thread.is_alive()
    assert not _has_heartbeat(committing_factory)


def _status(factory: sessionmaker[Session], key: str) -> str | None:
    with factory() as session:
        timer = get_timer(session, ALARM_KIND, key)
        return timer.status if timer else None


def _has_heartbeat(factory: sessionmaker[Session]) -> bool:
    from scrm.core.outbox_models import WorkerHeartbeat

    with factory() as session:
        return bool(session.scalar(select(func.count()).select_from(WorkerHeartbeat)))
