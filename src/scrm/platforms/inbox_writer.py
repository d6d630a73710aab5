"""Group commit for platform callbacks: many requests' inbox rows, one transaction.

A callback may be acknowledged only once its inbox row has committed, so the commit is on every
callback's critical path. One transaction per request makes concurrent requests fight for the write
lock (SQLite has one writer, and its busy handler waits by sleeping, which turns contention into
hundreds of milliseconds of tail latency) and pays a commit each. Here requests hand their row to one
writer thread per process, which stores everything waiting in a single transaction and then answers
them all: under load, batches grow and the commit cost is shared; when idle, a lone callback commits
at once.

A batch is stored by `store_inbound_batch`: one multi-row INSERT ... ON CONFLICT DO NOTHING and one
`publish_many`, with exactly the semantics of `scrm.core.inbox.store_inbound` applied row by row (the
test suite checks the two agree). A batch that fails is retried one row per transaction through
`store_inbound` itself, so one bad row cannot fail its neighbours; a row that still fails raises in
its own request (the platform retries it later).
"""

from __future__ import annotations

import asyncio
import logging
import queue
import threading
from concurrent.futures import Future
from dataclasses import dataclass

from sqlalchemy.orm import Session, sessionmaker

from scrm.core import metrics
from scrm.core.clock import utcnow
from scrm.core.events import publish_many
from scrm.core.inbox import InboxReceived, store_inbound
from scrm.core.leases import dialect_insert
from scrm.core.outbox_models import InboundMessage, InboundState

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class InboundItem:
    tenant_id: int
    platform: str
    connection_id: str
    dedupe_key: str
    raw_payload: str
    headers: dict[str, str]


_Pending = tuple[InboundItem, "Future[bool]"]


def store_inbound_batch(session: Session, items: list[InboundItem]) -> list[bool]:
    """`store_inbound` for many items in one INSERT, in the caller's transaction (never commits).

    Returns, per item, True if it was stored now (and `inbox.received` published for it) or False if
    its dedupe key was already stored, earlier or by a previous item of the same batch.
    """
    if not items:
        return []
    now = utcnow()
    table = InboundMessage.__table__
    statement = (
        dialect_insert(session, table)
        .on_conflict_do_nothing(index_elements=["tenant_id", "platform", "connection_id", "dedupe_key"])
        .returning(table.c.id, table.c.tenant_id, table.c.platform, table.c.connection_id, table.c.dedupe_key)
    )
    # Executemany with RETURNING: SQLAlchemy batches the rows into multi-row INSERTs ("insertmanyvalues")
    # from one cached compilation, instead of compiling a new statement per batch size.
    rows = session.execute(
        statement,
        [
            {
                "tenant_id": item.tenant_id,
                "platform": item.platform,
                "connection_id": item.connection_id,
                "dedupe_key": item.dedupe_key,
                "headers": dict(item.headers),
                "raw_payload": item.raw_payload,
                "received_at": now,
                "state": InboundState.RECEIVED.value,
            }
            for item in items
        ],
    )
    inserted = {(row.tenant_id, row.platform, row.connection_id, row.dedupe_key): row.id for row in rows}
    results: list[bool] = []
    events: list[InboxReceived] = []
    for item in items:
        message_id = inserted.pop((item.tenant_id, item.platform, item.connection_id, item.dedupe_key), None)
        results.append(message_id is not None)
        if message_id is None:
            metrics.INBOX_DUPLICATES.labels(item.platform).inc()
            continue
        metrics.INBOX_STORED.labels(item.platform).inc()
        events.append(
            InboxReceived(
                tenant_id=item.tenant_id,
                inbound_message_id=message_id,
                platform=item.platform,
                connection_id=item.connection_id,
            )
        )
    publish_many(session, events)
    return results


class InboxWriter:
    """Stores `InboundItem`s through `scrm.core.inbox.store_inbound`, batching concurrent ones.

    The writer thread starts on demand and exits after `idle_exit_seconds` without work, so an
    application that stops receiving callbacks (or a test's app) leaves no thread behind.
    """

    def __init__(
        self, session_factory: sessionmaker[Session], *, max_batch: int = 500, idle_exit_seconds: float = 5.0
    ) -> None:
        self.session_factory = session_factory
        self.max_batch = max_batch
        self.idle_exit_seconds = idle_exit_seconds
        self._queue: queue.Queue[_Pending] = queue.Queue()
        self._lock = threading.Lock()
        self._running = False

    def submit(self, item: InboundItem) -> Future[bool]:
        """Queue `item`; the future resolves to True (stored) or False (a duplicate) after the commit,
        or raises what storing it raised."""
        future: Future[bool] = Future()
        with self._lock:
            self._queue.put((item, future))
            if not self._running:
                self._running = True
                threading.Thread(target=self._run, name="inbox-writer", daemon=True).start()
        return future

    async def store(self, item: InboundItem) -> bool:
        return await asyncio.wrap_future(self.submit(item))

    def store_blocking(self, item: InboundItem, timeout: float | None = None) -> bool:
        return self.submit(item).result(timeout)

    def _run(self) -> None:
        try:
            self._loop()
        except BaseException:
            # Not expected (`_write` handles storage errors); never leave submitters without a writer.
            log.exception("inbox writer thread died; the next callback starts a new one")
            with self._lock:
                self._running = False
            raise

    def _loop(self) -> None:
        while True:
            try:
                first = self._queue.get(timeout=self.idle_exit_seconds)
            except queue.Empty:
                with self._lock:  # submit() queues under this lock, so nothing slips in unseen
                    if self._queue.empty():
                        self._running = False
                        return
                continue
            batch = [first]
            while len(batch) < self.max_batch:
                try:
                    batch.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            self._write(batch)

    def _write_one(self, pending: _Pending) -> None:
        item, future = pending
        try:
            with self.session_factory() as session:
                _, is_new = store_inbound(
                    session,
                    tenant_id=item.tenant_id,
                    platform=item.platform,
                    connection_id=item.connection_id,
                    dedupe_key=item.dedupe_key,
                    raw_payload=item.raw_payload,
                    headers=item.headers,
                )
                session.commit()
        except Exception as error:
            log.error("inbox write failed: %r", error)
            future.set_exception(error)
            return
        future.set_result(is_new)

    def _write(self, batch: list[_Pending]) -> None:
        try:
            with self.session_factory() as session:
                results = store_inbound_batch(session, [item for item, _ in batch])
                session.commit()
        except Exception as error:
            log.warning("inbox batch of %d failed (%r); storing its rows one by one", len(batch), error)
            for pending in batch:
                self._write_one(pending)
            return
        for (_, future), is_new in zip(batch, results, strict=True):
            future.set_result(is_new)
