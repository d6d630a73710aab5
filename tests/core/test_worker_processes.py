"""Worker processes against a real database: killed mid-batch, competing, restarted.

Each test launches `python -m scrm.worker_process` with the fixture handlers. The effects table is not
unique, so an effect committed twice is counted twice; the trace file records every handler start,
including runs whose effects were rolled back.
"""

from __future__ import annotations

import signal
import subprocess
from collections import Counter
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session, sessionmaker

from scrm.core.clock import utcnow
from scrm.core.events import publish_many
from scrm.core.outbox_models import OutboxEvent, OutboxStatus, Timer, TimerStatus, WorkerHeartbeat
from scrm.core.timers import schedule
from tests.core import fixture_handlers
from tests.core.fixture_handlers import ALARM_KIND, HANG_ON_ENV, TRACE_ENV, Pinged
from tests.core.helpers import start_worker_process, trace_lines, wait_until

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("effects_table", "registry")]


@pytest.fixture
def database_url_for_workers(engine: Engine) -> str:
    return engine.url.render_as_string(hide_password=False)


@pytest.fixture
def processes() -> Iterator[list[subprocess.Popen[bytes]]]:
    """Worker subprocesses started by the test; any still running at the end are killed."""
    started: list[subprocess.Popen[bytes]] = []
    yield started
    for process in started:
        if process.poll() is None:
            process.kill()
            process.wait()


def effects_per_event(session: Session) -> Counter[str]:
    effects = fixture_handlers.effects
    return Counter(session.scalars(select(effects.c.event_id)))


def outbox_settled(factory: sessionmaker[Session]) -> bool:
    with factory() as session:
        unfinished = select(func.count()).where(OutboxEvent.status != OutboxStatus.DONE)
        return session.scalar(unfinished) == 0


def heartbeats(factory: sessionmaker[Session]) -> int:
    with factory() as session:
        return session.scalar(select(func.count()).select_from(WorkerHeartbeat)) or 0


def test_each_event_takes_effect_exactly_once_when_a_worker_is_killed_mid_batch(
    committing_factory: sessionmaker[Session],
    database_url_for_workers: str,
    tenant_id: int,
    tmp_path: Path,
    processes: list[subprocess.Popen[bytes]],
) -> None:
    trace, log = tmp_path / "trace", tmp_path / "workers.log"
    with committing_factory.begin() as session:
        event_ids = publish_many(
            session, [Pinged(tenant_id=tenant_id, number=n, sleep_seconds=0.01) for n in range(40)]
        )

    # The first worker hangs inside the handler of event 25, mid-batch, holding uncommitted effects.
    first = start_worker_process(
        database_url_for_workers,
        log,
        "--batch-size",
        "10",
        "--lease-seconds",
        "3",
        env={TRACE_ENV: str(trace), HANG_ON_ENV: "25"},
    )
    processes.append(first)
    wait_until(
        lambda: ("start", "25", first.pid) in trace_lines(trace), what="the first worker reaching event 25"
    )
    first.send_signal(signal.SIGKILL)
    first.wait()
    started_by_first = {subject for phase, subject, _ in trace_lines(trace) if phase == "start"}

    second = start_worker_process(
        database_url_for_workers, log, "--lease-seconds", "3", env={TRACE_ENV: str(trace)}
    )
    processes.append(second)
    wait_until(lambda: outbox_settled(committing_factory), what="every event handled after the restart")

    with committing_factory() as session:
        counts = effects_per_event(session)
    assert counts == Counter(dict.fromkeys(event_ids, 1))
    # The kill landed mid-batch: event 25 (and its batch mates run before it) ran again in the second
    # worker, and the first runs' uncommitted effects left no trace in the table.
    run_by_second = {
        subject for phase, subject, pid in trace_lines(trace) if phase == "start" and pid == second.pid
    }
    assert "25" in started_by_first & run_by_second


def test_two_competing_workers_handle_every_event_once(
    committing_factory: sessionmaker[Session],
    database_url_for_workers: str,
    is_postgres: bool,
    tenant_id: int,
    tmp_path: Path,
    processes: list[subprocess.Popen[bytes]],
) -> None:
    if not is_postgres:
        pytest.skip("competing worker processes need PostgreSQL (SQLite runs one embedded worker)")
    trace, log = tmp_path / "trace", tmp_path / "workers.log"
    # A one-minute idle cap: the workers can only notice the events promptly through LISTEN/NOTIFY.
    for _ in range(2):
        processes.append(
            start_worker_process(
                database_url_for_workers,
                log,
                "--batch-size",
                "5",
                "--max-idle-seconds",
                "60",
                env={TRACE_ENV: str(trace)},
            )
        )
    wait_until(lambda: heartbeats(committing_factory) == 2, what="both workers up")
    with committing_factory.begin() as session:
        event_ids = publish_many(
            session, [Pinged(tenant_id=tenant_id, number=n, sleep_seconds=0.005) for n in range(300)]
        )
    wait_until(lambda: outbox_settled(committing_factory), what="every event handled", timeout=30)

    with committing_factory() as session:
        assert effects_per_event(session) == Counter(dict.fromkeys(event_ids, 1))
    lines = trace_lines(trace)
    starts = Counter(subject for phase, subject, _ in lines if phase == "start")
    ends = Counter(subject for phase, subject, _ in lines if phase == "end")
    # No event was ever run twice, not even concurrently with its effects rolled back.
    assert starts == ends == Counter({str(n): 1 for n in range(300)})
    assert {pid for _, _, pid in lines} == {process.pid for process in processes}


def test_a_timer_scheduled_before_a_crash_fires_once_after_restart(
    committing_factory: sessionmaker[Session],
    database_url_for_workers: str,
    tmp_path: Path,
    processes: list[subprocess.Popen[bytes]],
) -> None:
    trace, log = tmp_path / "trace", tmp_path / "workers.log"
    first = start_worker_process(database_url_for_workers, log, env={TRACE_ENV: str(trace)})
    processes.append(first)
    wait_until(lambda: heartbeats(committing_factory) == 1, what="the first worker up")
    with committing_factory.begin() as session:
        schedule(session, ALARM_KIND, utcnow() + timedelta(seconds=2), {}, "after-restart")
    first.send_signal(signal.SIGKILL)
    first.wait()
    with committing_factory() as session:
        assert session.scalars(select(Timer.status)).one() == TimerStatus.SCHEDULED

    second = start_worker_process(database_url_for_workers, log, env={TRACE_ENV: str(trace)})
    processes.append(second)

    def fired() -> bool:
        with committing_factory() as session:
            return session.scalars(select(Timer.status)).one() == TimerStatus.FIRED

    wait_until(fired, what="the timer fired by the second worker")
    with committing_factory() as session:
        timer = session.scalars(select(Timer)).one()
        assert timer.fired_at is not None and timer.fired_at >= timer.due_at
        assert (timer.claimed_by or "").split(":")[1] == str(second.pid)
        assert effects_per_event(session) == Counter({"timer:after-restart": 1})


def test_sigterm_stops_every_worker_process_gracefully(
    committing_factory: sessionmaker[Session],
    database_url_for_workers: str,
    tmp_path: Path,
    processes: list[subprocess.Popen[bytes]],
) -> None:
    parent = start_worker_process(database_url_for_workers, tmp_path / "workers.log", "--processes", "2")
    processes.append(parent)
    wait_until(lambda: heartbeats(committing_factory) == 2, what="two worker processes up")
    parent.send_signal(signal.SIGTERM)
    assert parent.wait(timeout=60) == 0
    assert heartbeats(committing_factory) == 0
