"""The read side of the transactional outbox: claiming rows, running their handlers, replaying dead ones.

`scrm.core.events.publish` writes rows; a worker calls `run_outbox_batch` in a loop. The claim, fence,
backoff and dead-letter protocol is `scrm.core.leases` (shared with timers).
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import RowMapping, Table, delete, select, update
from sqlalchemy.orm import Session, sessionmaker

from scrm.core import metrics
from scrm.core.clock import as_utc, utcnow
from scrm.core.errors import Conflict, RetryableError
from scrm.core.events import NOT_PREPARED, Delivery, HandlerRegistry, take_published_event_ids
from scrm.core.leases import (
    FollowOns,
    LeasedQueue,
    Outcome,
    RetryPolicy,
    RowGrouping,
    RowHandler,
    RowResult,
    RowsPreparer,
    claim,
    claim_and_run,
    lease_rows,
)
from scrm.core.outbox_models import LIVE_OUTBOX_PREDICATE, OutboxEvent, OutboxStatus
from scrm.core.wakeup import request_wake_on_commit

OUTBOX_TABLE: Table = OutboxEvent.__table__  # type: ignore[assignment]

OUTBOX_QUEUE = LeasedQueue(
    name="outbox",
    table=OUTBOX_TABLE,
    ready_status=OutboxStatus.PENDING,
    processing_status=OutboxStatus.PROCESSING,
    done_status=OutboxStatus.DONE,
    dead_status=OutboxStatus.DEAD,
    finished_at_column="processed_at",
    live_predicate=LIVE_OUTBOX_PREDICATE,
)


class HandlerNotRegistered(RetryableError):
    """The row names a handler this worker does not know. Retryable: during a rolling deploy an older
    worker may claim rows for a handler only newer workers have."""


def claim_outbox(
    session: Session, *, worker_id: str, limit: int, lease_seconds: float, now: datetime
) -> list[RowMapping]:
    """Lease up to `limit` due outbox rows to `worker_id`. The caller commits."""
    return claim(
        session, OUTBOX_QUEUE, worker_id=worker_id, limit=limit, lease_seconds=lease_seconds, now=now
    )


def _delivery(row: RowMapping, prepared: Any = NOT_PREPARED) -> Delivery:
    return Delivery(
        event_id=row["event_id"],
        event_type=row["event_type"],
        tenant_id=row["tenant_id"],
        payload=row["payload"],
        attempt=row["attempts"],
        prepared=prepared,
    )


def outbox_row_handler(registry: HandlerRegistry, prepared: Mapping[int, Any] | None = None) -> RowHandler:
    """Adapts `registry` to the row handler `scrm.core.leases.run_claimed` calls; `prepared` holds
    what the rows' `prepare` functions returned (or raised), by row id."""

    def handle(session: Session, row: RowMapping) -> None:
        fn = registry.event_handler(row["event_type"], row["handler"])
        if fn is None:
            raise HandlerNotRegistered(
                f"no handler {row['handler']!r} for {row['event_type']} in this worker"
            )
        fn(session, _delivery(row, (prepared or {}).get(row["id"], NOT_PREPARED)))

    return handle


def outbox_row_grouping(registry: HandlerRegistry, prepared: Mapping[int, Any] | None = None) -> RowGrouping:
    """Rows of a batched handler (`EventHandler.batched`) on their first attempt run together; a
    row that failed before runs on its own, so it cannot take a group down with it again."""

    def key(row: RowMapping) -> tuple[str, str] | None:
        if row["attempts"] != 1 or registry.event_batch(row["event_type"], row["handler"]) is None:
            return None
        return row["event_type"], row["handler"]

    def handle(session: Session, rows: list[RowMapping]) -> None:
        batch = registry.event_batch(rows[0]["event_type"], rows[0]["handler"])
        assert batch is not None  # `key` grouped only rows of batched handlers
        batch(session, [_delivery(row, (prepared or {}).get(row["id"], NOT_PREPARED)) for row in rows])

    return RowGrouping(key, handle)


def outbox_rows_preparer(registry: HandlerRegistry, prepared: dict[int, Any]) -> RowsPreparer:
    """Runs the `prepare` of each claimed row's handler (if it has one) into `prepared`; an error is
    kept in place of the result, for the handler to raise in its turn."""

    def prepare(session: Session, rows: Sequence[RowMapping]) -> Collection[int]:
        for row in rows:
            fn = registry.event_prepare(row["event_type"], row["handler"])
            if fn is not None:
                try:
                    prepared[row["id"]] = fn(session, _delivery(row))
                except Exception as error:  # raised again by the handler, inside its savepoint
                    prepared[row["id"]] = error
        return prepared.keys()

    return prepare


def published_rows_claimer(
    *,
    worker_id: str,
    lease_seconds: float,
    clock: Callable[[], datetime] = utcnow,
    skip_handlers: frozenset[str] = frozenset(),
) -> FollowOns:
    """Follow-ons for `claim_and_run`: after a row finished, lease the rows of the events its handler
    published, in the same transaction, so they run next.

    Safe with any number of workers: the rows are uncommitted, so no other worker can see, claim or
    run them; they commit done (or retrying, or dead) with the batch, or vanish with it if it rolls
    back, and then the publishing row runs again and publishes them again. Rows published to be
    handled later (`available_at` in the future), and rows of `skip_handlers` (handlers that prepare
    outside the transaction), are left to a normal claim."""

    def follow_ons(session: Session, row: RowMapping) -> list[RowMapping]:
        event_ids = take_published_event_ids(session)
        if not event_ids:
            return []
        columns, now = OUTBOX_TABLE.c, clock()
        # Found by event id alone, then leased by primary key: with a status test in the same
        # statement, SQLite's planner walks the (status, available_at) index instead, reading every
        # pending row of a backlog for each follow-on. (The rows are this transaction's own, so
        # nobody else can have claimed them in between.)
        published = session.execute(
            select(columns.id, columns.status, columns.available_at, columns.handler).where(
                columns.event_id.in_(event_ids)
            )
        ).all()
        ids = [
            row.id
            for row in published
            if row.status == OutboxStatus.PENDING
            and as_utc(row.available_at) <= now
            and row.handler not in skip_handlers
        ]
        if not ids:
            return []
        leased = lease_rows(
            session,
            OUTBOX_QUEUE,
            columns.id.in_(ids),
            worker_id=worker_id,
            until=now + timedelta(seconds=lease_seconds),
        )
        return sorted(leased, key=lambda leased_row: leased_row["id"])

    return follow_ons


def run_outbox_batch(
    session_factory: sessionmaker[Session],
    registry: HandlerRegistry,
    *,
    worker_id: str,
    batch_size: int,
    lease_seconds: float,
    policy: RetryPolicy,
    clock: Callable[[], datetime] = utcnow,
    budget_seconds: float | None = None,
    run_follow_ons: bool = True,
) -> list[RowResult]:
    """Claim one batch (committed on its own), run it (committed once), and count the outcomes.

    With `run_follow_ons` the events a handler publishes are handled in the same batch, right after
    it (see `published_rows_claimer`); `budget_seconds` bounds when rows may still start."""
    prepared: dict[int, Any] = {}
    results = claim_and_run(
        session_factory,
        OUTBOX_QUEUE,
        outbox_row_handler(registry, prepared),
        worker_id=worker_id,
        batch_size=batch_size,
        lease_seconds=lease_seconds,
        policy=policy,
        clock=clock,
        budget_seconds=budget_seconds,
        follow_ons=(
            published_rows_claimer(
                worker_id=worker_id,
                lease_seconds=lease_seconds,
                clock=clock,
                skip_handlers=registry.prepared_handler_names(),
            )
            if run_follow_ons
            else None
        ),
        prepare=outbox_rows_preparer(registry, prepared),
        grouping=outbox_row_grouping(registry, prepared),
    )
    for result in results:
        event_type, handler = result.row["event_type"], result.row["handler"]
        metrics.OUTBOX_HANDLED.labels(event_type, handler, result.outcome).inc()
        if result.outcome == Outcome.DEAD:
            metrics.OUTBOX_DEAD_LETTERED.labels(event_type, handler).inc()
    return results


def replay_event(session: Session, row: OutboxEvent) -> OutboxEvent:
    """Send a dead-lettered row back to the queue with a fresh attempt budget; workers wake at commit.

    Raises Conflict unless the row is dead. The last error stays until the row next finishes.
    """
    if row.status != OutboxStatus.DEAD:
        raise Conflict(f"outbox row {row.id} is {row.status}, only dead rows can be replayed")
    session.execute(
        update(OutboxEvent)
        .where(OutboxEvent.id == row.id, OutboxEvent.status == OutboxStatus.DEAD)
        .values(
            status=OutboxStatus.PENDING,
            attempts=0,
            available_at=utcnow(),
            lease_until=None,
            claimed_by=None,
            processed_at=None,
        )
    )
    session.refresh(row)
    request_wake_on_commit(session)
    return row


def purge_done(session: Session, *, before: datetime, limit: int = 10_000) -> int:
    """Delete up to `limit` done rows finished before `before`; returns how many. Dead rows are kept."""
    doomed = (
        select(OutboxEvent.id)
        .where(OutboxEvent.status == OutboxStatus.DONE, OutboxEvent.processed_at < before)
        .limit(limit)
    )
    result = session.execute(
        delete(OutboxEvent).where(OutboxEvent.id.in_(doomed.scalar_subquery())),
        execution_options={"synchronize_session": False},
    )
    return int(result.rowcount)  # type: ignore[attr-defined]
