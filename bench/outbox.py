"""Outbox throughput: publish and dispatch N events through a no-op handler, beside the raw insert floor.

    .venv/bin/python -m bench.outbox [--events 20000] [--database-url postgresql://127.0.0.1:5432/test]

For each database (SQLite with the embedded worker thread; PostgreSQL with worker processes) it prints:
- floor: the same outbox rows bulk-inserted with plain INSERTs, same batch size, no publish logic;
- publish: `publish_many` in batches of --batch events per transaction, no worker running;
- dispatch: the worker(s) draining those rows (rate from the first to the last processed_at);
- end-to-end: publishing another N while the worker(s) run, until the last one is done.
The queue tables are ANALYZEd after loading, as autovacuum would do on a running system.
Figures only; nothing is asserted. Each run uses a fresh throw-away database.
"""

from __future__ import annotations

import argparse
import time
import uuid
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import ClassVar

from sqlalchemy import delete, func, insert, select
from sqlalchemy.orm import Session, sessionmaker

from bench.support import (
    DEFAULT_POSTGRES_URL,
    StartWorkers,
    analyze_queue_tables,
    peak_rss_mb,
    postgres_database,
    prepare_database,
    rate,
    sqlite_database,
    wait_for,
    worker_processes,
)
from scrm.core.clock import utcnow
from scrm.core.events import Delivery, Event, HandlerRegistry, publish_many, set_active_registry
from scrm.core.outbox_models import OutboxEvent, OutboxStatus
from scrm.core.worker import Worker, WorkerConfig


class BenchPinged(Event):
    event_type: ClassVar[str] = "bench.pinged"
    number: int


def ignore(session: Session, delivery: Delivery) -> None:
    return None


def build_registry() -> HandlerRegistry:
    """The benchmark's registry (also loaded by the worker processes): one no-op handler."""
    registry = HandlerRegistry()
    registry.on(BenchPinged, "bench.noop", ignore)
    set_active_registry(registry)
    return registry


def _done_count(factory: sessionmaker[Session]) -> int:
    with factory() as session:
        return session.scalar(select(func.count()).where(OutboxEvent.status == OutboxStatus.DONE)) or 0


def _insert_floor(factory: sessionmaker[Session], tenant_id: int, events: int, batch: int) -> float:
    """Seconds to bulk-insert `events` outbox-shaped rows (status done, so no worker touches them)."""
    started = time.perf_counter()
    for first in range(0, events, batch):
        now = utcnow()
        rows = [
            {
                "tenant_id": tenant_id,
                "event_id": str(uuid.uuid4()),
                "event_type": BenchPinged.event_type,
                "handler": "bench.noop",
                "payload": {"tenant_id": tenant_id, "number": number},
                "status": OutboxStatus.DONE,
                "attempts": 0,
                "available_at": now,
                "created_at": now,
            }
            for number in range(first, min(first + batch, events))
        ]
        with factory.begin() as session:
            session.execute(insert(OutboxEvent), rows)
    elapsed = time.perf_counter() - started
    with factory.begin() as session:
        session.execute(delete(OutboxEvent))
    return elapsed


def _publish(factory: sessionmaker[Session], tenant_id: int, events: int, batch: int) -> float:
    started = time.perf_counter()
    for first in range(0, events, batch):
        with factory.begin() as session:
            numbers = range(first, min(first + batch, events))
            publish_many(session, [BenchPinged(tenant_id=tenant_id, number=n) for n in numbers])
    return time.perf_counter() - started


def _processed_span(factory: sessionmaker[Session]) -> float:
    with factory() as session:
        first, last = session.execute(
            select(func.min(OutboxEvent.processed_at), func.max(OutboxEvent.processed_at)).where(
                OutboxEvent.status == OutboxStatus.DONE
            )
        ).one()
    return (last - first).total_seconds()


def run_one(
    label: str,
    url: str,
    events: int,
    batch: int,
    start_workers: StartWorkers,
) -> None:
    engine, factory, tenant_id = prepare_database(url)
    try:
        floor = _insert_floor(factory, tenant_id, events, batch)
        published = _publish(factory, tenant_id, events, batch)
        analyze_queue_tables(factory)
        with start_workers(url, factory):
            wait_for(lambda: _done_count(factory) >= events, timeout=3600, poll=0.1)
            drained = _processed_span(factory)
            started = time.perf_counter()
            _publish(factory, tenant_id, events, batch)
            wait_for(lambda: _done_count(factory) >= 2 * events, timeout=3600, poll=0.02)
            end_to_end = time.perf_counter() - started
    finally:
        engine.dispose()
    print(f"\n{label}: {events:,} events, {batch} per transaction")
    print(f"  floor: raw INSERT of the same rows   {rate(events, floor)}  ({floor:.2f} s)")
    print(f"  publish (no worker running)          {rate(events, published)}  ({published:.2f} s)")
    print(f"  dispatch (drain, no-op handler)      {rate(events, drained)}  ({drained:.2f} s)")
    print(f"  end-to-end: publish while dispatching{rate(events, end_to_end)}  ({end_to_end:.2f} s)")


@contextmanager
def _embedded_worker(url: str, factory: sessionmaker[Session]) -> Iterator[Worker]:
    worker = Worker(factory, build_registry(), WorkerConfig(), "embedded")
    worker.start_thread()
    try:
        yield worker
    finally:
        worker.stop()


def _process_workers(processes: int) -> StartWorkers:
    def start(url: str, factory: sessionmaker[Session]) -> AbstractContextManager[object]:
        return worker_processes(url, factory, processes=processes, registry="bench.outbox:build_registry")

    return start


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="bench.outbox", description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=20_000)
    parser.add_argument("--batch", type=int, default=500, help="events published per transaction")
    parser.add_argument(
        "--database-url", default=DEFAULT_POSTGRES_URL, help="PostgreSQL server to create a bench database on"
    )
    parser.add_argument("--processes", type=int, default=2, help="PostgreSQL worker processes")
    parser.add_argument("--skip-sqlite", action="store_true")
    parser.add_argument("--skip-postgres", action="store_true")
    arguments = parser.parse_args(argv)
    build_registry()

    if not arguments.skip_sqlite:
        with sqlite_database() as url:
            label = "SQLite, embedded worker thread"
            run_one(label, url, arguments.events, arguments.batch, _embedded_worker)
    if not arguments.skip_postgres:
        with postgres_database(arguments.database_url) as url:
            if url is not None:
                label = f"PostgreSQL, {arguments.processes} worker processes"
                run_one(label, url, arguments.events, arguments.batch, _process_workers(arguments.processes))
    own, children = peak_rss_mb()
    print(f"\npeak RSS: this process {own:.0f} MiB, largest worker process {children:.0f} MiB")


if __name__ == "__main__":
    main()
