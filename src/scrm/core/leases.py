"""Leased work queues: the claim / run / fence / retry / dead-letter machinery the outbox and the timers
share.

The protocol, for a table with `status`, `available_at`, `attempts`, `lease_until`, `claimed_by`,
`last_error` and a finished-at column:

1. **Claim** (own short transaction, committed): one statement flips up to `limit` due rows to
   `processing`, stamps `claimed_by` and `lease_until`, counts the attempt. A row is due when it is
   ready and `available_at <= now`, or when it is `processing` under an expired lease (its worker died
   or stalled). PostgreSQL skips rows another claimer has locked (`FOR UPDATE SKIP LOCKED`); SQLite
   ignores the clause and is serialised by `BEGIN IMMEDIATE` instead.
2. **Run** (one transaction for the batch, a SAVEPOINT per row): the handler's effects and the row's
   finishing mark commit together or not at all. A worker killed mid-batch commits nothing; after the
   lease expires another worker reclaims and reruns the rows.
3. **Fence**: every finishing mark is `UPDATE ... WHERE id = :id AND claimed_by = :me AND status =
   'processing'`. Zero rows updated means the lease was lost (the row was reclaimed by someone else),
   so that row's savepoint is rolled back. Together: each row's database effects commit exactly once.
   Effects outside the database (HTTP calls) happen at least once; handlers make them idempotent.

Times come from the workers' clocks, which are assumed synchronised (NTP); skew beyond a lease length
would let two workers run the same row concurrently (the fence still keeps the effects single).
"""

from __future__ import annotations

import logging
import random
import time
import traceback
from collections import deque
from collections.abc import Callable, Collection, Hashable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from functools import cached_property
from typing import Any

from sqlalchemy import RowMapping, Table, Update, and_, bindparam, or_, select, text, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, sessionmaker

from scrm.core.clock import as_utc
from scrm.core.db import mark_read_only
from scrm.core.metrics import HANDLER_DURATION

log = logging.getLogger(__name__)

MAX_ERROR_CHARS = 4000


@dataclass(frozen=True)
class LeasedQueue:
    """Which table and statuses make up one queue; both tables name the time column `available_at`."""

    name: str
    table: Table
    ready_status: str
    processing_status: str
    done_status: str
    dead_status: str
    finished_at_column: str
    # The predicate of the table's partial claim-order index, repeated verbatim by the claim.
    live_predicate: str

    @cached_property
    def done_statement(self) -> Update:
        """The fenced "done" mark, built once (it runs once per row, so its construction shows up)."""
        columns = self.table.c
        return (
            update(self.table)
            .where(
                columns.id == bindparam("row_id"),
                columns.claimed_by == bindparam("worker_id"),
                columns.status == self.processing_status,
            )
            .values(
                {
                    "status": self.done_status,
                    "lease_until": None,
                    self.finished_at_column: bindparam("finished_at"),
                }
            )
        )

    @cached_property
    def done_many_statement(self) -> Update:
        """The fenced "done" mark of a group of rows (`row_ids`, expanding) run together."""
        columns = self.table.c
        return (
            update(self.table)
            .where(
                columns.id.in_(bindparam("row_ids", expanding=True)),
                columns.claimed_by == bindparam("worker_id"),
                columns.status == self.processing_status,
            )
            .values(
                {
                    "status": self.done_status,
                    "lease_until": None,
                    self.finished_at_column: bindparam("finished_at"),
                }
            )
        )


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 8
    backoff_base_seconds: float = 1.0
    backoff_cap_seconds: float = 600.0


class Outcome(StrEnum):
    DONE = "done"
    RETRY = "retry"
    DEAD = "dead"
    # Someone reclaimed the row before we finished: our effects were rolled back.
    LEASE_LOST = "lease_lost"
    # Handed back unrun because the batch was running out of lease time.
    RELEASED = "released"


@dataclass(frozen=True)
class RowResult:
    row: RowMapping
    outcome: Outcome
    started_at: datetime
    error: str | None = None


class LeaseLost(Exception):
    """Raised inside a row's savepoint to roll back its effects when the fence finds the lease gone."""


RowHandler = Callable[[Session, RowMapping], None]
# Before the batch's transaction, with a read-only session of its own: network work for the claimed
# rows whose handlers need it (see `scrm.core.events.EventPrepareFn`). Returns the ids of the rows it
# prepared.
RowsPreparer = Callable[[Session, Sequence[RowMapping]], Collection[int]]
# After a row finished, in the batch's transaction: the rows to run next (already leased to the worker).
FollowOns = Callable[[Session, RowMapping], list[RowMapping]]


@dataclass(frozen=True)
class RowGrouping:
    """Which claimed rows may run together, in one savepoint, through one call of `handle`.

    `key(row)`: rows with the same key (not None) form a group; None runs the row on its own.
    `handle(session, rows)` must have the effects of the row handler on each row in turn. If it
    raises, the group's savepoint is rolled back and each row runs on its own, so a bad row fails
    (retries, dead-letters) alone."""

    key: Callable[[RowMapping], Hashable | None]
    handle: Callable[[Session, list[RowMapping]], None]
    max_rows: int = 500


def compute_backoff(
    attempt: int, *, base_seconds: float, cap_seconds: float, rand: Callable[[], float] = random.random
) -> timedelta:
    """Delay before retrying after failed attempt number `attempt` (1-based): exponential backoff with
    full jitter, uniform in [0, min(cap, base * 2**(attempt-1))], so failing rows do not retry in step."""
    ceiling = min(cap_seconds, base_seconds * 2 ** min(attempt - 1, 62))
    return timedelta(seconds=rand() * ceiling)


def dialect_insert(session: Session, table: Any) -> postgresql.Insert | sqlite.Insert:
    """An INSERT supporting `on_conflict_do_nothing/do_update` on the session's database."""
    if session.get_bind().dialect.name == "postgresql":
        return postgresql.insert(table)
    return sqlite.insert(table)


def claim(
    session: Session, queue: LeasedQueue, *, worker_id: str, limit: int, lease_seconds: float, now: datetime
) -> list[RowMapping]:
    """Lease up to `limit` due rows to `worker_id`, oldest `available_at` first (then id). The caller
    commits."""
    columns = queue.table.c
    # Due: ready and available, or leased under an expired lease. A leased row was available when
    # first claimed, so `available_at <= now` holds for both and is stated once, at the top: it bounds
    # the walk along the claim-order index at `now`, where a filter inside the OR would make a claim
    # that finds fewer than `limit` due rows read every future row (every scheduled timer).
    due = and_(
        columns.available_at <= now,
        or_(
            columns.status == queue.ready_status,
            and_(columns.status == queue.processing_status, columns.lease_until < now),
        ),
    )
    candidates = (
        select(columns.id)
        .where(due, text(queue.live_predicate))
        .order_by(columns.available_at, columns.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    rows = lease_rows(
        session,
        queue,
        columns.id.in_(candidates.scalar_subquery()),
        worker_id=worker_id,
        until=now + timedelta(seconds=lease_seconds),
    )
    rows.sort(key=lambda row: (row["available_at"], row["id"]))
    return rows


def lease_rows(
    session: Session, queue: LeasedQueue, where: Any, *, worker_id: str, until: datetime
) -> list[RowMapping]:
    """Lease the rows of `queue` matching `where` to `worker_id` until `until`, counting an attempt;
    the leased rows (in no particular order). The caller has made sure they are due and free."""
    columns = queue.table.c
    statement = (
        update(queue.table)
        .where(where)
        .values(
            status=queue.processing_status,
            claimed_by=worker_id,
            lease_until=until,
            attempts=columns.attempts + 1,
        )
        .returning(*columns)
    )
    return list(session.execute(statement).mappings())


def next_due_at(session: Session, queue: LeasedQueue) -> datetime | None:
    """The earliest time a row of `queue` becomes claimable: ready rows' `available_at`, or the
    expiry of a lease held now. None when the queue holds no unfinished work."""
    columns = queue.table.c
    # ORDER BY ... LIMIT 1 rather than min(): an index walk that stops at the first live entry, where
    # the planner may turn min() into an aggregate over every entry, dead versions included.
    ready = (
        select(columns.available_at)
        .where(columns.status == queue.ready_status)
        .order_by(columns.available_at)
        .limit(1)
    )
    # The claimed_by test (always true for a leased row) reads the heap, which keeps PostgreSQL on a
    # plain index scan: an index-only scan cannot mark the entries of finished rows dead, so it would
    # fetch every one of them again on each call until VACUUM.
    leased = (
        select(columns.lease_until)
        .where(
            columns.status == queue.processing_status,
            columns.lease_until.is_not(None),
            columns.claimed_by.is_not(None),
        )
        .order_by(columns.lease_until)
        .limit(1)
    )
    earliest = session.execute(select(ready.scalar_subquery(), leased.scalar_subquery())).one()
    present = [as_utc(value) for value in earliest if value is not None]
    return min(present) if present else None


def _finish(session: Session, queue: LeasedQueue, row: RowMapping, worker_id: str, **values: Any) -> bool:
    """The fenced finishing mark: applies `values` only if `worker_id` still holds the row's lease."""
    columns = queue.table.c
    result = session.execute(
        update(queue.table)
        .where(
            columns.id == row["id"],
            columns.claimed_by == worker_id,
            columns.status == queue.processing_status,
        )
        .values(lease_until=None, **values)
    )
    return bool(result.rowcount == 1)  # type: ignore[attr-defined]


def describe_error(error: BaseException) -> str:
    """The exception and the innermost frames of its traceback, bounded for storage."""
    text = "".join(traceback.format_exception(error))
    return text if len(text) <= MAX_ERROR_CHARS else "…" + text[-MAX_ERROR_CHARS:]


def run_claimed(
    session_factory: sessionmaker[Session],
    queue: LeasedQueue,
    rows: Sequence[RowMapping],
    *,
    worker_id: str,
    policy: RetryPolicy,
    handle: RowHandler,
    clock: Callable[[], datetime],
    stop_starting_at: datetime,
    follow_ons: FollowOns | None = None,
    grouping: RowGrouping | None = None,
) -> list[RowResult]:
    """Run claimed `rows` in one transaction, one savepoint each (or per group, see `RowGrouping`),
    and commit once.

    Rows not started by `stop_starting_at` are released unrun (their lease would expire before the batch
    commits, inviting a competing worker to duplicate the work; and on SQLite the batch holds the
    single write lock). Returns each row's outcome, valid only once this function returns (i.e. after
    the commit). Handlers must neither commit nor roll back. Errors outside handlers (the database
    going away) propagate: nothing commits, leases expire.

    With `follow_ons`, each row that finished is followed at once by the rows `follow_ons` claims in
    this transaction (the work its handler just created), before the rest of the batch: a chain of
    events runs in one go instead of waiting a batch per link.
    """
    results: list[RowResult] = []
    todo = deque(rows)
    with session_factory() as session, session.begin():
        while todo:
            if clock() >= stop_starting_at:
                results.extend(_release(session, queue, list(todo), worker_id, clock()))
                break
            group = _take_group(todo, grouping)
            if len(group) == 1:
                outcomes = [
                    _run_one(session, queue, group[0], worker_id, policy, handle, clock, stop_starting_at)
                ]
            else:
                assert grouping is not None
                outcomes = _run_group(
                    session, queue, group, worker_id, policy, handle, grouping, clock, stop_starting_at
                )
            results.extend(outcomes)
            if follow_ons is not None and any(result.outcome == Outcome.DONE for result in outcomes):
                todo.extendleft(reversed(follow_ons(session, group[-1])))
    return results


def _take_group(todo: deque[RowMapping], grouping: RowGrouping | None) -> list[RowMapping]:
    """The next row, with the waiting rows of its group (in their order) when it has one."""
    row = todo.popleft()
    key = grouping.key(row) if grouping is not None else None
    if key is None:
        return [row]
    assert grouping is not None
    group, rest = [row], deque[RowMapping]()
    while todo:
        other = todo.popleft()
        if len(group) < grouping.max_rows and grouping.key(other) == key:
            group.append(other)
        else:
            rest.append(other)
    todo.extend(rest)
    return group


def _run_group(
    session: Session,
    queue: LeasedQueue,
    group: list[RowMapping],
    worker_id: str,
    policy: RetryPolicy,
    handle: RowHandler,
    grouping: RowGrouping,
    clock: Callable[[], datetime],
    stop_starting_at: datetime,
) -> list[RowResult]:
    """Run `group` through `grouping.handle` in one savepoint under one fenced "done" mark; if that
    raises, roll it back and run each row on its own."""
    started_at = clock()
    timer_start = time.perf_counter()
    try:
        with session.begin_nested():
            grouping.handle(session, group)
            session.flush()
            fence = {"row_ids": [row["id"] for row in group], "worker_id": worker_id, "finished_at": clock()}
            if session.connection().execute(queue.done_many_statement, fence).rowcount != len(group):
                raise LeaseLost
    except LeaseLost:
        # Some row was reclaimed by another worker: none of the group's effects stand. The rows still
        # ours are rerun when their lease expires.
        log.warning("%s rows %s: a lease was lost before finishing; effects rolled back", queue.name,
                    [row["id"] for row in group])  # fmt: skip
        return [RowResult(row, Outcome.LEASE_LOST, started_at) for row in group]
    except Exception as error:
        log.info("%s group of %s rows failed (%r); running them one by one", queue.name, len(group), error)
        return [
            _run_one(session, queue, row, worker_id, policy, handle, clock, stop_starting_at) for row in group
        ]
    elapsed = (time.perf_counter() - timer_start) / len(group)
    for _ in group:
        HANDLER_DURATION.labels(queue.name).observe(elapsed)
    return [RowResult(row, Outcome.DONE, started_at) for row in group]


def _release(
    session: Session, queue: LeasedQueue, rows: list[RowMapping], worker_id: str, now: datetime
) -> list[RowResult]:
    """Hand back rows not started, in one statement (a slow batch may leave most of a claim unrun:
    releasing them one by one cost more than running them). Rows whose lease we no longer hold are
    left alone and reported lost."""
    columns = queue.table.c
    released = set(
        session.execute(
            update(queue.table)
            .where(
                columns.id.in_([row["id"] for row in rows]),
                columns.claimed_by == worker_id,
                columns.status == queue.processing_status,
            )
            .values(status=queue.ready_status, attempts=columns.attempts - 1, lease_until=None)
            .returning(columns.id)
        ).scalars()
    )
    return [
        RowResult(row, Outcome.RELEASED if row["id"] in released else Outcome.LEASE_LOST, now) for row in rows
    ]


def _run_one(
    session: Session,
    queue: LeasedQueue,
    row: RowMapping,
    worker_id: str,
    policy: RetryPolicy,
    handle: RowHandler,
    clock: Callable[[], datetime],
    stop_starting_at: datetime,
) -> RowResult:
    started_at = clock()
    if started_at >= stop_starting_at:
        columns = queue.table.c
        released = _finish(
            session, queue, row, worker_id, status=queue.ready_status, attempts=columns.attempts - 1
        )
        return RowResult(row, Outcome.RELEASED if released else Outcome.LEASE_LOST, started_at)
    if row["attempts"] > policy.max_attempts:
        # Every earlier claim expired unfinished (the worker died, perhaps because of this very row).
        error = f"abandoned: {row['attempts'] - 1} leases expired without the row finishing"
        return _settle(session, queue, row, worker_id, started_at, Outcome.DEAD, error, clock, policy)

    timer_start = time.perf_counter()
    try:
        with session.begin_nested():
            handle(session, row)
            session.flush()  # the handler's pending ORM changes fail here, inside the savepoint
            fence = {"row_id": row["id"], "worker_id": worker_id, "finished_at": clock()}
            if session.connection().execute(queue.done_statement, fence).rowcount != 1:
                raise LeaseLost
    except LeaseLost:
        log.warning("%s row %s: lease lost before finishing; effects rolled back", queue.name, row["id"])
        return RowResult(row, Outcome.LEASE_LOST, started_at)
    except Exception as error:
        permanent = getattr(error, "retryable", True) is False
        outcome = Outcome.DEAD if permanent or row["attempts"] >= policy.max_attempts else Outcome.RETRY
        return _settle(
            session, queue, row, worker_id, started_at, outcome, describe_error(error), clock, policy
        )
    finally:
        HANDLER_DURATION.labels(queue.name).observe(time.perf_counter() - timer_start)
    return RowResult(row, Outcome.DONE, started_at)


def _settle(
    session: Session,
    queue: LeasedQueue,
    row: RowMapping,
    worker_id: str,
    started_at: datetime,
    outcome: Outcome,
    error: str,
    clock: Callable[[], datetime],
    policy: RetryPolicy,
) -> RowResult:
    """Mark a failed row for retry (with backoff) or as dead, under the fence."""
    now = clock()
    if outcome == Outcome.RETRY:
        delay = compute_backoff(
            row["attempts"], base_seconds=policy.backoff_base_seconds, cap_seconds=policy.backoff_cap_seconds
        )
        values: dict[str, Any] = {"status": queue.ready_status, "available_at": now + delay}
        log.warning(
            "%s row %s attempt %s failed; retry in %s: %s",
            queue.name,
            row["id"],
            row["attempts"],
            delay,
            error.splitlines()[-1] if error else "",
        )
    else:
        values = {"status": queue.dead_status, queue.finished_at_column: now}
        log.error("%s row %s dead after attempt %s: %s", queue.name, row["id"], row["attempts"], error)
    if not _finish(session, queue, row, worker_id, last_error=error, **values):
        return RowResult(row, Outcome.LEASE_LOST, started_at)
    return RowResult(row, outcome, started_at, error)


def claim_and_run(
    session_factory: sessionmaker[Session],
    queue: LeasedQueue,
    handle: RowHandler,
    *,
    worker_id: str,
    batch_size: int,
    lease_seconds: float,
    policy: RetryPolicy,
    clock: Callable[[], datetime],
    budget_seconds: float | None = None,
    follow_ons: FollowOns | None = None,
    prepare: RowsPreparer | None = None,
    grouping: RowGrouping | None = None,
) -> list[RowResult]:
    """Claim one batch of `queue` (committed on its own), `prepare` it outside any write
    transaction, run it (committed once); the outcomes.

    No row starts after `budget_seconds` from the end of preparing (the rest are released for the next
    batch): a batch holds its transaction, and on SQLite the one write lock that callbacks wait for,
    about that long at most beyond its slowest row. Nor after half the lease has gone, leaving the
    other half for the rest to finish. `follow_ons` and `grouping` as in `run_claimed`."""
    claimed_at = clock()
    with session_factory() as session, session.begin():
        rows = claim(
            session, queue, worker_id=worker_id, limit=batch_size, lease_seconds=lease_seconds, now=claimed_at
        )
    if not rows:
        return []
    if prepare is not None:
        with session_factory() as session:
            mark_read_only(session)
            prepared = prepare(session, rows)
        # Prepared rows run first: released unrun, their network work would be done again next claim.
        rows.sort(key=lambda row: row["id"] not in prepared)
    stop_at = claimed_at + timedelta(seconds=lease_seconds / 2)
    if budget_seconds is not None:
        stop_at = min(stop_at, clock() + timedelta(seconds=budget_seconds))
    return run_claimed(
        session_factory,
        queue,
        rows,
        worker_id=worker_id,
        policy=policy,
        handle=handle,
        clock=clock,
        stop_starting_at=stop_at,
        follow_ons=follow_ons,
        grouping=grouping,
    )
