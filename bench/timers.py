"""Timer lateness: N timers due spread over a window, fired through a no-op handler.

    .venv/bin/python -m bench.timers [--timers 100000] [--window 60] [--database-url postgresql://...]

Lateness is `fired_at - due_at` read back from the database (`fired_at` is stamped when the worker
writes the row's fired mark, after its handler; the batch commits moments later). It is printed
beside two baselines measured in the same run:
- a bare loop in one thread that `time.sleep`s until each due time of the same schedule: the best
  any scheduler in this Python process could do on this machine;
- the claim cost: the mean time of one claim statement against the loaded table.
Timers are bulk-inserted (not through `schedule()`, whose own rate is printed from a smaller sample)
into a fresh database, with the window starting after the insert is expected to finish, and ANALYZEd
as autovacuum would do on a running system. Figures only.
"""

from __future__ import annotations

import argparse
import random
import time
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from datetime import datetime, timedelta

from sqlalchemy import delete, func, insert, select
from sqlalchemy.orm import Session, sessionmaker

from bench.support import (
    DEFAULT_POSTGRES_URL,
    StartWorkers,
    analyze_queue_tables,
    peak_rss_mb,
    percentile,
    postgres_database,
    prepare_database,
    rate,
    sqlite_database,
    wait_for,
    worker_processes,
)
from scrm.core.clock import utcnow
from scrm.core.events import HandlerRegistry, TimerDelivery, set_active_registry
from scrm.core.leases import claim
from scrm.core.outbox_models import Timer, TimerStatus
from scrm.core.timers import TIMER_QUEUE, schedule
from scrm.core.wakeup import request_wake_on_commit
from scrm.core.worker import Worker, WorkerConfig

KIND = "bench.alarm"
INSERT_BATCH = 5_000


def ignore(session: Session, delivery: TimerDelivery) -> None:
    return None


def build_registry() -> HandlerRegistry:
    """The benchmark's registry (also loaded by the worker processes): one no-op timer handler."""
    registry = HandlerRegistry()
    registry.on_timer(KIND, ignore)
    set_active_registry(registry)
    return registry


def lateness_summary(values: list[float]) -> str:
    ordered = sorted(values)
    milliseconds = [percentile(ordered, q) * 1000 for q in (0.5, 0.99)] + [ordered[-1] * 1000]
    return "p50 {:8.1f} ms   p99 {:8.1f} ms   max {:8.1f} ms".format(*milliseconds)


def lateness_by_slice(fired: Sequence[tuple[datetime, datetime]], start: datetime, window: float) -> str:
    """Median lateness of the timers due in each sixth of the window: shows a backlog building up."""
    slices: list[list[float]] = [[] for _ in range(6)]
    for due_at, fired_at in fired:
        index = min(5, max(0, int((due_at - start).total_seconds() / max(window, 1e-9) * 6)))
        slices[index].append((fired_at - due_at).total_seconds())
    return " ".join(f"{percentile(sorted(values), 0.5) * 1000:.0f}" for values in slices if values)


def sleep_loop_baseline(offsets: list[float]) -> list[float]:
    """Lateness of a single thread sleeping until each due time in turn (the same schedule)."""
    start = time.monotonic() + 0.5
    lateness = []
    for offset in offsets:
        due = start + offset
        remaining = due - time.monotonic()
        if remaining > 0:
            time.sleep(remaining)
        lateness.append(time.monotonic() - due)
    return lateness


def _rows(due_times: list[datetime], first: int) -> list[dict[str, object]]:
    return [
        {
            "kind": KIND,
            "key": f"{first + index}",
            "due_at": due,
            "available_at": due,
            "payload": {},
            "status": TimerStatus.SCHEDULED,
            "attempts": 0,
            "created_at": utcnow(),
        }
        for index, due in enumerate(due_times)
    ]


def _insert(factory: sessionmaker[Session], due_times: list[datetime]) -> float:
    started = time.perf_counter()
    for first in range(0, len(due_times), INSERT_BATCH):
        with factory.begin() as session:
            session.execute(insert(Timer), _rows(due_times[first : first + INSERT_BATCH], first))
            request_wake_on_commit(session)  # as schedule() does, so idle workers re-plan their sleep
    return time.perf_counter() - started


def _calibrate(factory: sessionmaker[Session]) -> tuple[float, float, float]:
    """(schedule() per second, bulk insert per second, mean seconds of one 100-row claim), measured on
    throw-away timers due far in the future, then deleted."""
    far = utcnow() + timedelta(days=365)
    sample = 2_000
    started = time.perf_counter()
    with factory.begin() as session:
        for number in range(sample):
            schedule(session, "bench.calibration", far, {}, str(number))
    scheduled_rate = sample / (time.perf_counter() - started)
    bulk = 20_000
    inserted_rate = bulk / _insert(factory, [far] * bulk)
    with factory.begin() as session:
        session.execute(delete(Timer))
    _insert(factory, [utcnow() - timedelta(seconds=1)] * bulk)
    analyze_queue_tables(factory)
    claims = 20
    started = time.perf_counter()
    for _ in range(claims):
        with factory() as session:
            claim(session, TIMER_QUEUE, worker_id="calibration", limit=100, lease_seconds=30, now=utcnow())
            session.rollback()
    claim_seconds = (time.perf_counter() - started) / claims
    with factory.begin() as session:
        session.execute(delete(Timer))
    return scheduled_rate, inserted_rate, claim_seconds


def run_one(label: str, url: str, offsets: list[float], start_workers: StartWorkers) -> None:
    engine, factory, _tenant_id = prepare_database(url)
    count = len(offsets)
    try:
        scheduled_rate, inserted_rate, claim_seconds = _calibrate(factory)
        with start_workers(url, factory):
            # The window opens once the bulk insert should be over, with margin, so no timer is
            # already overdue when committed.
            window_start = utcnow() + timedelta(seconds=2 + 1.5 * count / inserted_rate)
            due_times = [window_start + timedelta(seconds=offset) for offset in offsets]
            inserted_in = _insert(factory, due_times)
            analyze_queue_tables(factory)
            overdue_late = sum(1 for due in due_times if due < utcnow())
            window_end = window_start + timedelta(seconds=offsets[-1])
            patience = (window_end - utcnow()).total_seconds() + 300

            def all_fired() -> bool:
                with factory() as session:
                    fired = select(func.count()).where(Timer.status == TimerStatus.FIRED)
                    return (session.scalar(fired) or 0) >= count

            wait_for(all_fired, timeout=patience, poll=0.5)
        with factory() as session:
            fired = [
                (due_at, fired_at)
                for due_at, fired_at in session.execute(
                    select(Timer.due_at, Timer.fired_at).where(Timer.status == TimerStatus.FIRED)
                )
                if fired_at is not None
            ]
    finally:
        engine.dispose()
    lateness = [(fired_at - due_at).total_seconds() for due_at, fired_at in fired]
    early = sum(1 for value in lateness if value < 0)
    span = (max(f for _, f in fired) - min(f for _, f in fired)).total_seconds()
    per_second = count / max(offsets[-1], 1)
    print(f"\n{label}: {count:,} timers due over {offsets[-1]:.0f} s ({per_second:,.0f}/s)")
    print(f"  schedule() one by one, one transaction  {scheduled_rate:>10,.0f}/s")
    print(f"  bulk insert of timer rows               {inserted_rate:>10,.0f}/s  (all: {inserted_in:.1f} s)")
    print(f"  claim statement (100 due rows)          {claim_seconds * 1000:>10.2f} ms")
    print(
        f"  fired {len(fired):,}/{count:,}; fired before due: {early}; overdue when inserted: {overdue_late}"
    )
    print(f"  lateness fired_at - due_at   {lateness_summary(lateness)}")
    print(
        f"  p50 lateness by sixth of the window (ms): {lateness_by_slice(fired, window_start, offsets[-1])}"
    )
    print(f"  firing throughput over the run          {rate(len(fired), span)}")


@contextmanager
def _embedded_worker(url: str, factory: sessionmaker[Session]) -> Iterator[Worker]:
    worker = Worker(factory, build_registry(), WorkerConfig(), "embedded")
    worker.start_thread()
    try:
        yield worker
    finally:
        worker.stop()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="bench.timers", description=__doc__.splitlines()[0])
    parser.add_argument("--timers", type=int, default=100_000)
    parser.add_argument("--window", type=float, default=60.0, help="seconds over which the timers fall due")
    parser.add_argument(
        "--database-url", default=DEFAULT_POSTGRES_URL, help="PostgreSQL server to create a bench database on"
    )
    parser.add_argument("--processes", type=int, default=2, help="PostgreSQL worker processes")
    parser.add_argument("--skip-sqlite", action="store_true")
    parser.add_argument("--skip-postgres", action="store_true")
    parser.add_argument("--seed", type=int, default=1)
    arguments = parser.parse_args(argv)
    build_registry()
    generator = random.Random(arguments.seed)
    offsets = sorted(generator.uniform(0, arguments.window) for _ in range(arguments.timers))

    baseline = sleep_loop_baseline(offsets)
    print(f"baseline: one thread sleeping until each of the {len(offsets):,} due times in turn")
    print(f"  lateness                     {lateness_summary(baseline)}")

    if not arguments.skip_sqlite:
        with sqlite_database() as url:
            run_one("SQLite, embedded worker thread", url, offsets, _embedded_worker)
    if not arguments.skip_postgres:
        with postgres_database(arguments.database_url) as postgres_url:
            if postgres_url is not None:

                def processes(url: str, factory: sessionmaker[Session]) -> AbstractContextManager[object]:
                    return worker_processes(
                        url, factory, processes=arguments.processes, registry="bench.timers:build_registry"
                    )

                label = f"PostgreSQL, {arguments.processes} worker processes"
                run_one(label, postgres_url, offsets, processes)
    own, children = peak_rss_mb()
    print(f"\npeak RSS: this process {own:.0f} MiB, largest worker process {children:.0f} MiB")


if __name__ == "__main__":
    main()
