"""Group commit for platform callbacks: many requests' inbox rows, one transaction.

A callback may be acknowledged only once its inbox row has committed, so the commit is on every
callback's critical path. One transaction per request makes concurrent requests fight for the write
lock (SQLite has one writer, and its busy handler waits by sleeping, which turns contention into
hundreds of milliseconds of tail latency) and pays a commit each. Here requests hand their row to one
writer thread per process, which stores everything waiting in a single transaction and then answers
them all: under load, batches grow and the commit cost is shared; when idle, a lone callback commits
at once.

A batch is stored by `store_inbound_batch`: multi-row INSERT ... ON CONFLICT DO NOTHING statements
for the inbox rows and for their outbox rows, with exactly the semantics of
`scrm.core.inbox.store_inbound` applied row by row (the test suite checks the two agree). A batch that
fails is retried one row per transaction through `store_inbound` itself, so one bad row cannot fail
its neighbours; a row that still fails raises in its own request (the platform retries it later).

Requests on an event loop cost the loop one list append each: the writer answers a whole batch with
one `call_soon_threadsafe` per loop, rather than one cross-thread wake-up per request.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import weakref
from collections.abc import Callable, Sequence
from concurrent.futures import Future, InvalidStateError
from dataclasses import dataclass
from typing import Any

from prometheus_client import Histogram
from sqlalchemy import Connection, Table
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import Session, sessionmaker

from scrm.core import metrics
from scrm.core.clock import utcnow
from scrm.core.db import durable_session_factory
from scrm.core.events import outbox_rows, outbox_rows_inserted
from scrm.core.inbox import InboxReceived, store_inbound
from scrm.core.outbox_models import InboundMessage, InboundState, OutboxEvent

log = logging.getLogger(__name__)

BATCH_SIZE = Histogram(
    "scrm_inbox_writer_batch_size",
    "Inbox rows stored per group-commit transaction (grows with load; 1 when idle).",
    buckets=(1, 2, 4, 8, 16, 32, 64, 128, 256, 512),
    registry=metrics.REGISTRY,
)


@dataclass(frozen=True, slots=True)
class InboundItem:
    tenant_id: int
    platform: str
    connection_id: str
    dedupe_key: str
    raw_payload: str
    headers: dict[str, str]


# --- storing a batch --------------------------------------------------------------------------------

_UNSET = object()


class _DriverInsert:
    """A multi-row INSERT of `columns` into `table`, executed on the DBAPI cursor itself.

    SQLAlchemy's own INSERT spends more Python per row than the database spends storing it, and its
    statement execution more per statement than a small batch's rows. This sends the same values,
    converted by each column's own type exactly as SQLAlchemy would convert them (its bind processors:
    JSON encoding, the datetime storage format), so the stored rows are identical. Nothing here needs
    SQLAlchemy's execution events (the project registers none on statements) or its exception
    wrapping (the writer treats any error alike). Rows go in statements of at most
    `ROWS_PER_STATEMENT`, which keeps every statement under SQLite's historical limit of 999
    parameters.
    """

    ROWS_PER_STATEMENT = 100

    def __init__(self, table: Table, columns: Sequence[str], suffix: str = "") -> None:
        self.table = table
        self.columns = tuple(columns)
        self.suffix = suffix
        self._prepared: weakref.WeakKeyDictionary[Dialect, _Prepared] = weakref.WeakKeyDictionary()

    def _prepare(self, dialect: Dialect) -> _Prepared:
        prepared = self._prepared.get(dialect)
        if prepared is None:
            if dialect.paramstyle == "qmark":
                placeholder = "?"
            elif dialect.paramstyle in ("format", "pyformat"):
                placeholder = "%s"
            else:
                raise NotImplementedError(f"paramstyle {dialect.paramstyle!r}")
            preparer = dialect.identifier_preparer
            names = ", ".join(preparer.quote(name) for name in self.columns)
            prepared = _Prepared(
                head=f"INSERT INTO {preparer.format_table(self.table)} ({names}) VALUES ",
                row="(" + ", ".join([placeholder] * len(self.columns)) + ")",
                processors=[
                    self.table.c[name].type.dialect_impl(dialect).bind_processor(dialect)
                    for name in self.columns
                ],
            )
            self._prepared[dialect] = prepared
        return prepared

    def execute(self, connection: Connection, rows: Sequence[Sequence[Any]]) -> list[Sequence[Any]]:
        """Insert `rows` (values in `columns` order) in `connection`'s transaction; returns the rows
        the suffix's RETURNING returns, as the driver gives them."""
        prepared = self._prepare(connection.dialect)
        processors = prepared.processors
        returned: list[Sequence[Any]] = []
        cursor = connection.connection.cursor()
        try:
            for start in range(0, len(rows), self.ROWS_PER_STATEMENT):
                chunk = rows[start : start + self.ROWS_PER_STATEMENT]
                parameters: list[Any] = []
                # Rows of a batch share some values (its timestamps, a payload per event): convert
                # each distinct object once. Processors are pure, and nothing mutates the values.
                last_in: list[Any] = [_UNSET] * len(processors)
                last_out: list[Any] = [None] * len(processors)
                for row in chunk:
                    for index, value in enumerate(row):
                        process = processors[index]
                        if process is None:
                            parameters.append(value)
                        elif value is last_in[index]:
                            parameters.append(last_out[index])
                        else:
                            last_in[index] = value
                            last_out[index] = converted = process(value)
                            parameters.append(converted)
                statement = prepared.head + ", ".join([prepared.row] * len(chunk)) + self.suffix
                cursor.execute(statement, parameters)
                if cursor.description is not None:
                    returned.extend(cursor.fetchall())
        finally:
            cursor.close()
        return returned


@dataclass(frozen=True, slots=True)
class _Prepared:
    head: str  # INSERT INTO table (columns) VALUES
    row: str  # one row's placeholders
    processors: list[Callable[[Any], Any] | None]


_INBOX_KEY = ("tenant_id", "platform", "connection_id", "dedupe_key")
_INBOX_INSERT = _DriverInsert(
    InboundMessage.__table__,  # type: ignore[arg-type]
    (*_INBOX_KEY, "headers", "raw_payload", "received_at", "state"),
    f" ON CONFLICT ({', '.join(_INBOX_KEY)}) DO NOTHING RETURNING id, {', '.join(_INBOX_KEY)}",
)
_OUTBOX_INSERTS: dict[tuple[str, ...], _DriverInsert] = {}


def _insert_outbox_rows(connection: Connection, rows: list[dict[str, Any]]) -> None:
    columns = tuple(rows[0])
    insert = _OUTBOX_INSERTS.get(columns)
    if insert is None:
        insert = _OUTBOX_INSERTS.setdefault(columns, _DriverInsert(OutboxEvent.__table__, columns))  # type: ignore[arg-type]
    insert.execute(connection, [tuple(row[name] for name in columns) for row in rows])


def store_inbound_item(session: Session, item: InboundItem) -> tuple[InboundMessage, bool]:
    """`scrm.core.inbox.store_inbound` of one item, in the caller's transaction."""
    return store_inbound(
        session,
        tenant_id=item.tenant_id,
        platform=item.platform,
        connection_id=item.connection_id,
        dedupe_key=item.dedupe_key,
        raw_payload=item.raw_payload,
        headers=item.headers,
    )


def store_inbound_batch(session: Session, items: list[InboundItem]) -> list[bool]:
    """`store_inbound` for many items in a few INSERTs, in the caller's transaction (never commits).

    Returns, per item, True if it was stored now (and `inbox.received` published for it) or False if
    its dedupe key was already stored, earlier or by a previous item of the same batch.
    """
    if not items:
        return []
    if session.autoflush:
        session.flush()  # as `session.execute` would: objects pending in the session are written first
    connection = session.connection()
    now = utcnow()
    state = InboundState.RECEIVED.value
    returned = _INBOX_INSERT.execute(
        connection,
        [
            (
                item.tenant_id,
                item.platform,
                item.connection_id,
                item.dedupe_key,
                item.headers,
                item.raw_payload,
                now,
                state,
            )
            for item in items
        ],
    )
    # RETURNING promises no order, so rows are matched to items by key. A key given twice in a batch
    # was inserted by its first item (rows go in in order); the later ones are duplicates.
    inserted = {(row[1], row[2], row[3], row[4]): row[0] for row in returned}
    results: list[bool] = []
    events: list[InboxReceived] = []
    stored: dict[str, int] = {}
    duplicates: dict[str, int] = {}
    for item in items:
        message_id = inserted.pop((item.tenant_id, item.platform, item.connection_id, item.dedupe_key), None)
        results.append(message_id is not None)
        if message_id is None:
            duplicates[item.platform] = duplicates.get(item.platform, 0) + 1
            continue
        stored[item.platform] = stored.get(item.platform, 0) + 1
        events.append(
            InboxReceived(
                tenant_id=item.tenant_id,
                inbound_message_id=message_id,
                platform=item.platform,
                connection_id=item.connection_id,
            )
        )
    for platform, count in stored.items():
        metrics.INBOX_STORED.labels(platform).inc(count)
    for platform, count in duplicates.items():
        metrics.INBOX_DUPLICATES.labels(platform).inc(count)
    _, rows = outbox_rows(events, now=now)  # what `publish_many` would write
    if rows:
        _insert_outbox_rows(connection, rows)
        outbox_rows_inserted(session, rows)
    return results


# --- the writer thread ------------------------------------------------------------------------------

# Each waiting item with what to resolve once it is stored: an asyncio future of the loop that awaits
# it, or a concurrent future for blocking callers.
_Pending = tuple[InboundItem, "asyncio.Future[bool] | Future[bool]"]
_Outcome = bool | BaseException


def _settle(settled: list[tuple[asyncio.Future[bool], _Outcome]]) -> None:
    """On the loop: resolve its futures (skipping any cancelled meanwhile: nobody waits for those)."""
    for future, outcome in settled:
        if future.done():
            continue
        if isinstance(outcome, BaseException):
            future.set_exception(outcome)
        else:
            future.set_result(outcome)


class InboxWriter:
    """Stores `InboundItem`s through `store_inbound_batch` in one thread, batching concurrent ones.

    The writer thread starts on demand and exits after `idle_exit_seconds` without work, so an
    application that stops receiving callbacks (or a test's app) leaves no thread behind. Its commits
    are durable ones (`durable_session_factory`): a callback is acknowledged once committed, so its
    row must survive a power loss, not only the process dying; group commit shares the flush.
    """

    def __init__(
        self, session_factory: sessionmaker[Session], *, max_batch: int = 500, idle_exit_seconds: float = 5.0
    ) -> None:
        self.session_factory = durable_session_factory(session_factory)
        self.max_batch = max_batch
        self.idle_exit_seconds = idle_exit_seconds
        self._lock = threading.Lock()
        self._wake = threading.Condition(self._lock)
        self._waiting: list[_Pending] = []  # guarded by _lock
        self._running = False  # a writer thread exists; guarded by _lock
        self._idle = False  # the writer thread waits for work; guarded by _lock

    def _enqueue(self, pending: _Pending) -> None:
        with self._lock:
            self._waiting.append(pending)
            if not self._running:
                self._running = True
                threading.Thread(target=self._run, name="inbox-writer", daemon=True).start()
            elif self._idle:
                self._idle = False
                self._wake.notify()
            # Otherwise the writer is storing a batch and takes this item with the next one.

    async def store(self, item: InboundItem) -> bool:
        """Store `item`; True (stored now) or False (a duplicate) once its transaction has committed,
        or raises what storing it raised. Cancelling the wait does not withdraw the item."""
        future: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self._enqueue((item, future))
        return await future

    def submit(self, item: InboundItem) -> Future[bool]:
        """`store` for threads: the future resolves after the commit."""
        future: Future[bool] = Future()
        self._enqueue((item, future))
        return future

    def store_blocking(self, item: InboundItem, timeout: float | None = None) -> bool:
        return self.submit(item).result(timeout)

    def _run(self) -> None:
        try:
            self._loop()
        except BaseException:
            # Not expected (`_write` handles storage errors); never leave submitters without a writer.
            log.exception("inbox writer thread died; starting another for the items waiting")
            with self._lock:
                self._running = bool(self._waiting)
                if self._running:
                    threading.Thread(target=self._run, name="inbox-writer", daemon=True).start()
            raise

    def _loop(self) -> None:
        while True:
            with self._lock:
                if not self._waiting:
                    self._idle = True
                    self._wake.wait(timeout=self.idle_exit_seconds)
                    self._idle = False
                    if not self._waiting:  # idle that long: exit (the next item starts a new thread)
                        self._running = False
                        return
                batch = self._waiting[: self.max_batch]
                del self._waiting[: self.max_batch]
            self._answer(batch, self._write(batch))

    def _write(self, batch: list[_Pending]) -> list[_Outcome]:
        BATCH_SIZE.observe(len(batch))
        try:
            with self.session_factory() as session:
                results = store_inbound_batch(session, [item for item, _ in batch])
                session.commit()
        except Exception as error:
            log.warning("inbox batch of %d failed (%r); storing its rows one by one", len(batch), error)
            return [self._write_one(item) for item, _ in batch]
        return list(results)

    def _write_one(self, item: InboundItem) -> _Outcome:
        try:
            with self.session_factory() as session:
                _, is_new = store_inbound_item(session, item)
                session.commit()
        except Exception as error:
            log.error("inbox write failed: %r", error)
            return error
        return is_new

    @staticmethod
    def _answer(batch: list[_Pending], outcomes: list[_Outcome]) -> None:
        by_loop: dict[asyncio.AbstractEventLoop, list[tuple[asyncio.Future[bool], _Outcome]]] = {}
        for (_, future), outcome in zip(batch, outcomes, strict=True):
            if isinstance(future, asyncio.Future):
                by_loop.setdefault(future.get_loop(), []).append((future, outcome))
                continue
            try:
                if isinstance(outcome, BaseException):
                    future.set_exception(outcome)
                else:
                    future.set_result(outcome)
            except InvalidStateError:  # the caller cancelled its future: nobody waits for the answer
                pass
        for loop, settled in by_loop.items():
            try:
                loop.call_soon_threadsafe(_settle, settled)
            except RuntimeError:  # the loop has closed: nobody is left waiting for these answers
                log.warning("inbox writer: %d answers for a closed event loop dropped", len(settled))
