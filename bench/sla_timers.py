"""SLA timers: N open tickets whose resolution clocks run out within a few minutes; how late the
escalation (the breach mark, its timeline entry and `ticket.sla_breached`) happens after the due time.

    .venv/bin/python -m bench.sla_timers [--tickets 100000] [--window 180] [--poll-interval 60]
                                         [--no-postgres] [--postgres-url URL]

Each ticket's breach is a durable timer (`tickets.sla`), armed as the service arms it, fired by the
real handler (`tickets.sla.clocks.fire`) through the real registry: on SQLite by the embedded worker
thread, on PostgreSQL by 2 worker processes. Lateness is the breach's timeline entry time minus the
ticket's due time, read back from the database.

Baseline, in the same run: what the helpdesk anchors do (Zammad's escalation job every 5 minutes,
Chatwoot's SLA cron): a poller that every `--poll-interval` seconds marks the tickets that fell due
since its last round. Its lateness is measured the same way on its own copy of the schedule.

Tickets and timers are bulk-inserted (the service's rate is not what is measured) into a fresh
database, with the window opening after the insert. Figures only; goal (issue 6): p99 under 5 s.
"""

from __future__ import annotations

import argparse
import random
import threading
import time
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from datetime import datetime, timedelta

from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session, sessionmaker

from bench.support import (
    DEFAULT_POSTGRES_URL,
    StartWorkers,
    analyze_queue_tables,
    peak_rss_mb,
    percentile,
    postgres_database,
    prepare_database,
    sqlite_database,
    wait_for,
    worker_processes,
)
from scrm.core.actors import Actor
from scrm.core.clock import as_utc, utcnow
from scrm.core.db import mark_read_only
from scrm.core.outbox_models import Timer, TimerStatus
from scrm.core.worker import Worker, WorkerConfig
from scrm.registry import build_registry
from scrm.tickets.models import Ticket, TicketTimelineEntry
from scrm.tickets.schemas import CalendarIn, SlaPolicyIn, Targets
from scrm.tickets.sla import service
from scrm.tickets.sla.clocks import TIMER_KIND

BATCH = 5_000
BREACH = "sla.resolution.breach"


def _policy(factory: sessionmaker[Session], tenant_id: int) -> int:
    actor = Actor.system(tenant_id)
    with factory.begin() as session:
        calendar = service.save_calendar(
            session,
            actor=actor,
            data=CalendarIn(
                name="7x24",
                weekly={
                    day: [["00:00", "24:00"]] for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
                },
            ),
        )
        policy = service.save_policy(
            session,
            actor=actor,
            data=SlaPolicyIn(
                name="bench", calendar_id=calendar.id, targets={"normal": Targets(resolution_minutes=60)}
            ),
        )
        return policy.id


def _insert_tickets(
    factory: sessionmaker[Session],
    tenant_id: int,
    policy_id: int,
    due_times: list[datetime],
    *,
    first_id: int,
    timers: bool,
) -> None:
    now = utcnow()
    for start in range(0, len(due_times), BATCH):
        chunk = due_times[start : start + BATCH]
        ids = range(first_id + start, first_id + start + len(chunk))
        with factory.begin() as session:
            session.execute(
                insert(Ticket),
                [
                    {
                        "id": ticket_id,
                        "tenant_id": tenant_id,
                        "title": f"bench {ticket_id}",
                        "description": "",
                        "source": "api",
                        "ticket_type": "general",
                        "priority": "normal",
                        "status": "open",
                        "custom": {},
                        "sla_marks": {},
                        "sla_policy_id": policy_id,
                        "due_resolution_at": due,
                        "created_at": now,
                        "updated_at": now,
                    }
                    for ticket_id, due in zip(ids, chunk, strict=True)
                ],
            )
            if timers:
                session.execute(
                    insert(Timer),
                    [
                        {
                            "tenant_id": tenant_id,
                            "kind": TIMER_KIND,
                            "key": f"{ticket_id}:resolution:breach",
                            "due_at": due,
                            "available_at": due,
                            "status": TimerStatus.SCHEDULED,
                            "attempts": 0,
                            "payload": {"ticket_id": ticket_id, "clock": "resolution", "stage": "breach"},
                            "created_at": now,
                        }
                        for ticket_id, due in zip(ids, chunk, strict=True)
                    ],
                )


def _lateness(factory: sessionmaker[Session], first_id: int, count: int) -> list[float]:
    with factory() as session:
        mark_read_only(session)
        rows = session.execute(
            select(TicketTimelineEntry.occurred_at, Ticket.due_resolution_at)
            .join(Ticket, Ticket.id == TicketTimelineEntry.ticket_id)
            .where(TicketTimelineEntry.kind == BREACH, Ticket.id >= first_id, Ticket.id < first_id + count)
        ).all()
    return sorted((as_utc(fired) - as_utc(due)).total_seconds() for fired, due in rows if due is not None)


def _summary(values: list[float]) -> str:
    if not values:
        return "none"
    p50, p99 = percentile(values, 0.5), percentile(values, 0.99)
    return f"p50 {p50:8.2f} s   p99 {p99:8.2f} s   max {values[-1]:8.2f} s"


@contextmanager
def _embedded_worker(url: str, factory: sessionmaker[Session]) -> Iterator[Worker]:
    worker = Worker(factory, build_registry(), WorkerConfig(), "embedded")
    worker.start_thread()
    try:
        yield worker
    finally:
        worker.stop()


def run_timers(
    label: str, url: str, offsets: list[float], start_workers: StartWorkers, poll_interval: float
) -> None:
    engine, factory, tenant_id = prepare_database(url)
    count = len(offsets)
    try:
        policy_id = _policy(factory, tenant_id)
        with start_workers(url, factory):
            window_start = utcnow() + timedelta(seconds=5 + count / 8_000)
            due_times = [window_start + timedelta(seconds=offset) for offset in offsets]
            began = time.perf_counter()
            _insert_tickets(factory, tenant_id, policy_id, due_times, first_id=1, timers=True)
            inserted_in = time.perf_counter() - began
            analyze_queue_tables(factory)
            overdue = sum(1 for due in due_times if due < utcnow())

            def all_fired() -> bool:
                with factory() as session:
                    mark_read_only(session)
                    fired = select(func.count()).where(
                        Timer.kind == TIMER_KIND, Timer.status == TimerStatus.FIRED
                    )
                    return (session.scalar(fired) or 0) >= count

            wait_for(all_fired, timeout=(due_times[-1] - utcnow()).total_seconds() + 600, poll=0.5)
        timers = _lateness(factory, 1, count)
        # The baseline: a poller on its own copy of the schedule (no timers), after the run above.
        window_start = utcnow() + timedelta(seconds=5 + count / 8_000)
        due_times = [window_start + timedelta(seconds=offset) for offset in offsets]
        _insert_tickets(factory, tenant_id, policy_id, due_times, first_id=count + 1, timers=False)
        polled = _poll(
            factory, tenant_id, first_id=count + 1, count=count, interval=poll_interval, until=due_times[-1]
        )
    finally:
        engine.dispose()
    print(
        f"\n{label}: {count:,} tickets breaching over {offsets[-1]:.0f} s"
        f" ({count / max(offsets[-1], 1):,.0f}/s)"
    )
    print(f"  tickets + timers bulk-inserted in {inserted_in:.1f} s; overdue when inserted: {overdue}")
    print(f"  escalated {len(timers):,}/{count:,}")
    print(f"  durable timers     lateness   {_summary(timers)}")
    print(f"  poller every {poll_interval:.0f} s  lateness   {_summary(polled)}   (baseline)")


def _poll(
    factory: sessionmaker[Session],
    tenant_id: int,
    *,
    first_id: int,
    count: int,
    interval: float,
    until: datetime,
) -> list[float]:
    """Every `interval` seconds, escalate what fell due since the previous round (one query and one
    timeline row per ticket, as the cron jobs do); the lateness of each escalation."""
    lateness: list[float] = []
    since = datetime.min.replace(tzinfo=until.tzinfo)
    stop = threading.Event()
    while not stop.is_set():
        stop.wait(interval)
        now = utcnow()
        with factory.begin() as session:
            due = session.execute(
                select(Ticket.id, Ticket.due_resolution_at).where(
                    Ticket.tenant_id == tenant_id,
                    Ticket.id >= first_id,
                    Ticket.due_resolution_at > since,
                    Ticket.due_resolution_at <= now,
                )
            ).all()
            if due:
                session.execute(
                    insert(TicketTimelineEntry),
                    [
                        {
                            "tenant_id": tenant_id,
                            "ticket_id": ticket_id,
                            "kind": BREACH,
                            "summary": "poll",
                            "detail": {},
                            "actor": "poller",
                            "occurred_at": now,
                        }
                        for ticket_id, _ in due
                    ],
                )
        lateness.extend((now - as_utc(at)).total_seconds() for _, at in due)
        since = now
        if now >= until:
            break
    return sorted(lateness)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="bench.sla_timers", description=__doc__.splitlines()[0])
    parser.add_argument("--tickets", type=int, default=100_000)
    parser.add_argument("--window", type=float, default=180.0, help="seconds over which the clocks run out")
    parser.add_argument("--poll-interval", type=float, default=60.0, help="the baseline poller's period")
    parser.add_argument("--postgres-url", default=DEFAULT_POSTGRES_URL)
    parser.add_argument("--no-postgres", action="store_true")
    parser.add_argument("--no-sqlite", action="store_true")
    parser.add_argument("--seed", type=int, default=1)
    arguments = parser.parse_args(argv)
    build_registry()
    generator = random.Random(arguments.seed)
    offsets = sorted(generator.uniform(0, arguments.window) for _ in range(arguments.tickets))
    if not arguments.no_sqlite:
        with sqlite_database() as url:
            run_timers(
                "SQLite, embedded worker thread", url, offsets, _embedded_worker, arguments.poll_interval
            )
    if not arguments.no_postgres:
        with postgres_database(arguments.postgres_url) as postgres_url:
            if postgres_url is not None:

                def processes(url: str, factory: sessionmaker[Session]) -> AbstractContextManager[object]:
                    return worker_processes(
                        url, factory, processes=2, registry="scrm.registry:build_registry"
                    )

                run_timers(
                    "PostgreSQL, 2 worker processes",
                    postgres_url,
                    offsets,
                    processes,
                    arguments.poll_interval,
                )
    own, children = peak_rss_mb()
    print(f"\npeak RSS: this process {own:.0f} MiB, largest worker process {children:.0f} MiB")


if __name__ == "__main__":
    main()
