"""Durable timers: work due at a time (SLA breach, journey delay, hold release), named by (kind, key).

Scheduling is idempotent on (kind, key), so a handler that runs twice schedules once. Firing uses the
same claim / lease / fence / backoff / dead-letter protocol as the outbox (`scrm.core.leases`): the
handler's effects and the `fired` mark commit together, exactly once. Cancel and reschedule race
safely with a firing in progress: they reset the lease, so the firing's fence fails and its effects
roll back; whichever commits first wins.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import RowMapping, Table, select, update
from sqlalchemy.orm import Session, sessionmaker

from scrm.core import metrics
from scrm.core.clock import utcnow
from scrm.core.errors import Conflict, RetryableError
from scrm.core.events import NOT_PREPARED, HandlerRegistry, TimerDelivery
from scrm.core.leases import (
    LeasedQueue,
    Outcome,
    RetryPolicy,
    RowGrouping,
    RowHandler,
    RowResult,
    RowsPreparer,
    claim_and_run,
    dialect_insert,
)
from scrm.core.outbox_models import LIVE_TIMER_PREDICATE, Timer, TimerStatus
from scrm.core.wakeup import request_wake_on_commit

TIMER_TABLE: Table = Timer.__table__  # type: ignore[assignment]

TIMER_QUEUE = LeasedQueue(
    name="timers",
    table=TIMER_TABLE,
    ready_status=TimerStatus.SCHEDULED,
    processing_status=TimerStatus.PROCESSING,
    done_status=TimerStatus.FIRED,
    dead_status=TimerStatus.DEAD,
    finished_at_column="fired_at",
    live_predicate=LIVE_TIMER_PREDICATE,
)

_LIVE = (TimerStatus.SCHEDULED, TimerStatus.PROCESSING)


class TimerHandlerNotRegistered(RetryableError):
    """No handler for this timer kind in this worker (retryable, for rolling deploys)."""


def get_timer(session: Session, kind: str, key: str) -> Timer | None:
    return session.scalars(select(Timer).where(Timer.kind == kind, Timer.key == key)).one_or_none()


def schedule(
    session: Session,
    kind: str,
    due_at: datetime,
    payload: dict[str, Any],
    key: str,
    tenant_id: int | None = None,
) -> Timer:
    """Schedule timer (kind, key) to fire at `due_at`, in the caller's transaction.

    Idempotent: if (kind, key) already exists, in any status, nothing changes and the existing timer
    is returned (use `reschedule` to move or re-arm it). Workers wake at commit to re-plan their sleep.
    """
    statement = (
        dialect_insert(session, Timer)
        .values(
            tenant_id=tenant_id,
            kind=kind,
            key=key,
            due_at=due_at,
            available_at=due_at,
            payload=payload,
            status=TimerStatus.SCHEDULED,
            attempts=0,
            created_at=utcnow(),
        )
        .on_conflict_do_nothing(index_elements=["kind", "key"])
        # RETURNING, not rowcount, tells whether a row was inserted: INSERT rowcount is -1 on psycopg.
        .returning(Timer.id)
    )
    inserted_id = session.execute(statement).scalar_one_or_none()
    timer = get_timer(session, kind, key)
    assert timer is not None
    if inserted_id is not None:
        request_wake_on_commit(session)
    return timer


def cancel(session: Session, kind: str, key: str) -> bool:
    """Cancel timer (kind, key) unless it already finished. Returns True if a live timer was cancelled.

    Cancelling a timer that is firing right now wins if this transaction commits first: the firing's
    fence then fails and its effects roll back.
    """
    return cancel_many(session, kind, [key]) == 1


def cancel_many(session: Session, kind: str, keys: list[str]) -> int:
    """`cancel` for several keys of one kind in one statement; how many live timers it cancelled."""
    result = session.execute(
        update(Timer)
        .where(Timer.kind == kind, Timer.key.in_(keys), Timer.status.in_(_LIVE))
        .values(status=TimerStatus.CANCELLED, lease_until=None, claimed_by=None),
        execution_options={"synchronize_session": "fetch"},
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


def reschedule(session: Session, kind: str, key: str, due_at: datetime) -> Timer | None:
    """Move timer (kind, key) to fire at `due_at` with a fresh attempt budget, re-arming it if it had
    already fired, been cancelled or died. Returns None if no such timer exists."""
    session.execute(
        update(Timer)
        .where(Timer.kind == kind, Timer.key == key)
        .values(
            status=TimerStatus.SCHEDULED,
            due_at=due_at,
            available_at=due_at,
            attempts=0,
            lease_until=None,
            claimed_by=None,
            fired_at=None,
        ),
        execution_options={"synchronize_session": "fetch"},
    )
    timer = get_timer(session, kind, key)
    if timer is not None:
        request_wake_on_commit(session)
    return timer


def replay_timer(session: Session, timer: Timer) -> Timer:
    """Fire a dead-lettered timer again as soon as a worker is free. Raises Conflict unless dead."""
    if timer.status != TimerStatus.DEAD:
        raise Conflict(f"timer {timer.id} is {timer.status}, only dead timers can be replayed")
    session.execute(
        update(Timer)
        .where(Timer.id == timer.id, Timer.status == TimerStatus.DEAD)
        .values(
            status=TimerStatus.SCHEDULED,
            available_at=utcnow(),
            attempts=0,
            lease_until=None,
            claimed_by=None,
            fired_at=None,
        ),
        execution_options={"synchronize_session": "fetch"},
    )
    session.refresh(timer)
    request_wake_on_commit(session)
    return timer


def _delivery(row: RowMapping, prepared: Any = NOT_PREPARED) -> TimerDelivery:
    return TimerDelivery(
        kind=row["kind"],
        key=row["key"],
        tenant_id=row["tenant_id"],
        payload=row["payload"],
        due_at=row["due_at"],
        attempt=row["attempts"],
        prepared=prepared,
    )


def timer_row_handler(registry: HandlerRegistry, prepared: Mapping[int, Any] | None = None) -> RowHandler:
    """Adapts `registry` to the row handler `scrm.core.leases.run_claimed` calls; `prepared` as in
    `scrm.core.outbox.outbox_row_handler`."""

    def handle(session: Session, row: RowMapping) -> None:
        fn = registry.timer_handler(row["kind"])
        if fn is None:
            raise TimerHandlerNotRegistered(f"no handler for timer kind {row['kind']!r} in this worker")
        fn(session, _delivery(row, (prepared or {}).get(row["id"], NOT_PREPARED)))

    return handle


def timer_row_grouping(registry: HandlerRegistry, prepared: Mapping[int, Any] | None = None) -> RowGrouping:
    """Timers of a batched kind (`TimerHandler.batched`) on their first attempt fire together."""

    def key(row: RowMapping) -> str | None:
        if row["attempts"] != 1 or registry.timer_batch(row["kind"]) is None:
            return None
        return str(row["kind"])

    def handle(session: Session, rows: list[RowMapping]) -> None:
        batch = registry.timer_batch(rows[0]["kind"])
        assert batch is not None  # `key` grouped only rows of batched kinds
        batch(session, [_delivery(row, (prepared or {}).get(row["id"], NOT_PREPARED)) for row in rows])

    return RowGrouping(key, handle)


def timer_rows_preparer(registry: HandlerRegistry, prepared: dict[int, Any]) -> RowsPreparer:
    """Runs each claimed timer's `prepare` (if its kind has one) into `prepared`, errors included."""

    def prepare(session: Session, rows: Sequence[RowMapping]) -> Collection[int]:
        for row in rows:
            fn = registry.timer_prepare(row["kind"])
            if fn is not None:
                try:
                    prepared[row["id"]] = fn(session, _delivery(row))
                except Exception as error:  # raised again by the handler, inside its savepoint
                    prepared[row["id"]] = error
        return prepared.keys()

    return prepare


def run_timer_batch(
    session_factory: sessionmaker[Session],
    registry: HandlerRegistry,
    *,
    worker_id: str,
    batch_size: int,
    lease_seconds: float,
    policy: RetryPolicy,
    clock: Callable[[], datetime] = utcnow,
) -> list[RowResult]:
    """Claim the due timers of one batch (committed on its own), fire them (committed once), count."""
    prepared: dict[int, Any] = {}
    results = claim_and_run(
        session_factory,
        TIMER_QUEUE,
        timer_row_handler(registry, prepared),
        worker_id=worker_id,
        batch_size=batch_size,
        lease_seconds=lease_seconds,
        policy=policy,
        clock=clock,
        prepare=timer_rows_preparer(registry, prepared),
        grouping=timer_row_grouping(registry, prepared),
    )
    for result in results:
        kind = result.row["kind"]
        metrics.TIMERS_FIRED.labels(kind, result.outcome).inc()
        if result.outcome == Outcome.DONE:
            lateness = (result.started_at - result.row["due_at"]).total_seconds()
            metrics.TIMER_LATENESS.labels(kind).observe(max(lateness, 0.0))
    return results
