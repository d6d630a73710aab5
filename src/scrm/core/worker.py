"""The worker: runs due outbox rows and timers, then sleeps until the next one is due.

One loop serves both queues. It never polls on a fixed beat: when idle it computes the earliest time
anything becomes claimable (a pending row, a scheduled timer, an expiring lease) and sleeps until then,
capped at `max_idle_seconds`. Commits that write work wake it early: in this process through
`scrm.core.wakeup.LOCAL_WAKE`, from other processes through PostgreSQL LISTEN/NOTIFY on a dedicated
connection. Embedded mode runs it in a thread of the API process (the SQLite default); process mode
runs it in `scrm.worker_process`, any number of them on any number of machines.
"""

from __future__ import annotations

import logging
import os
import secrets
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

import psycopg
from sqlalchemy import Engine, delete, text
from sqlalchemy.orm import Session, sessionmaker

from scrm.core.clock import utcnow
from scrm.core.events import HandlerRegistry
from scrm.core.leases import RetryPolicy, dialect_insert, next_due_at
from scrm.core.outbox import OUTBOX_QUEUE, purge_done, run_outbox_batch
from scrm.core.outbox_models import WorkerHeartbeat, WorkerMode
from scrm.core.timers import TIMER_QUEUE, run_timer_batch
from scrm.core.wakeup import LOCAL_WAKE, WORK_CHANNEL, WakeSignal

log = logging.getLogger(__name__)

# Between two looks at the stop flag while sleeping; bounds stop latency when only the event is set.
_STOP_CHECK_SECONDS = 1.0
# Sleep after claiming nothing although work looked due (rows locked by a competing claim in flight).
_CONTENDED_PAUSE_SECONDS = 0.05
# On SQLite, after a round that held the write lock this long, leave it free this long for others.
_LONG_ROUND_SECONDS = 0.5
_WRITE_LOCK_YIELD_SECONDS = 0.15


@dataclass(frozen=True)
class WorkerConfig:
    """Tuning of one worker. `lease_seconds` must exceed the slowest handler call."""

    batch_size: int = 100
    lease_seconds: float = 30.0
    # A batch starts no row after this long: it bounds how long one batch holds its transaction (on
    # SQLite, the write lock callbacks wait for), so a batch of slow handlers cannot stall intake.
    batch_budget_seconds: float = 0.1
    max_attempts: int = 8
    heartbeat_seconds: float = 5.0
    max_idle_seconds: float = 5.0
    backoff_base_seconds: float = 1.0
    backoff_cap_seconds: float = 600.0
    done_retention_seconds: float = 7 * 24 * 3600.0
    housekeeping_seconds: float = 3600.0

    @property
    def retry_policy(self) -> RetryPolicy:
        return RetryPolicy(self.max_attempts, self.backoff_base_seconds, self.backoff_cap_seconds)


def new_worker_id() -> str:
    """hostname:pid:random, unique across machines and restarts."""
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(4)}"


class Worker:
    """Runs the outbox and timers until stopped. Safe to run many at once against one database."""

    def __init__(
        self,
        session_factory: sessionmaker[Session],
        registry: HandlerRegistry,
        config: WorkerConfig | None = None,
        mode: WorkerMode | str = WorkerMode.EMBEDDED,
        *,
        worker_id: str | None = None,
        clock: Callable[[], datetime] = utcnow,
        wake: WakeSignal = LOCAL_WAKE,
    ) -> None:
        self.session_factory = session_factory
        self.registry = registry
        self.config = config or WorkerConfig()
        self.mode = WorkerMode(mode)
        self.worker_id = worker_id or new_worker_id()
        self.processed_total = 0
        self._clock = clock
        self._wake = wake
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._started_at = clock()
        self._last_beat = float("-inf")
        self._last_housekeeping = float("-inf")
        bind = session_factory.kw.get("bind")
        self._single_writer = isinstance(bind, Engine) and bind.dialect.name == "sqlite"

    # -- one round, usable directly by tests -------------------------------------------------------

    def run_once(self) -> int:
        """Run one batch of due outbox rows and one of due timers; returns how many rows finished or
        were retried (released and lease-lost rows are not counted)."""
        config, policy = self.config, self.config.retry_policy
        results = run_outbox_batch(
            self.session_factory,
            self.registry,
            worker_id=self.worker_id,
            batch_size=config.batch_size,
            lease_seconds=config.lease_seconds,
            policy=policy,
            clock=self._clock,
            budget_seconds=config.batch_budget_seconds,
        ) + run_timer_batch(
            self.session_factory,
            self.registry,
            worker_id=self.worker_id,
            batch_size=config.batch_size,
            lease_seconds=config.lease_seconds,
            policy=policy,
            clock=self._clock,
        )
        finished = sum(1 for result in results if result.outcome in ("done", "retry", "dead"))
        self.processed_total += finished
        return len(results)

    def seconds_until_next_work(self) -> float:
        """How long the loop may sleep: until the earliest claimable row or timer, at most
        `max_idle_seconds`, zero if something is due already."""
        with self.session_factory() as session, session.begin():
            due_times = [next_due_at(session, OUTBOX_QUEUE), next_due_at(session, TIMER_QUEUE)]
        pending = [due for due in due_times if due is not None]
        if not pending:
            return self.config.max_idle_seconds
        wait = (min(pending) - self._clock()).total_seconds()
        return min(max(wait, 0.0), self.config.max_idle_seconds)

    # -- the loop ----------------------------------------------------------------------------------

    def run(self, stop: threading.Event | None = None) -> None:
        """Loop until `stop` is set or `request_stop()` is called; then remove the heartbeat row.

        Database errors are logged and retried with backoff; the loop only ends when asked to.
        """
        if stop is not None:
            self._stop = stop
        listener = self._start_listener()
        failures = 0
        log.info("worker %s started (%s)", self.worker_id, self.mode)
        try:
            while not self._stop.is_set():
                generation = self._wake.generation
                try:
                    self._beat_and_housekeep()
                    started = time.monotonic()
                    if self.run_once():
                        failures = 0
                        if self._single_writer and time.monotonic() - started > _LONG_ROUND_SECONDS:
                            # SQLite's write lock has no queue: a writer waiting for it polls (every
                            # 100 ms at worst), so taking it again at once after a long round (a slow
                            # platform call) can starve the waiter past its busy timeout.
                            self._stop.wait(_WRITE_LOCK_YIELD_SECONDS)
                        continue
                    wait = self.seconds_until_next_work() or _CONTENDED_PAUSE_SECONDS
                    failures = 0
                except Exception:
                    failures += 1
                    wait = min(2.0**failures, 60.0)
                    log.exception("worker %s: round failed; retrying in %.0f s", self.worker_id, wait)
                self._sleep(generation, wait)
        finally:
            if listener is not None:
                listener.join(timeout=5)
            self._remove_heartbeat()
            log.info("worker %s stopped", self.worker_id)

    def _sleep(self, generation: int, seconds: float) -> None:
        deadline = time.monotonic() + seconds
        while not self._stop.is_set():
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return
            if self._wake.wait(generation, min(remaining, _STOP_CHECK_SECONDS)) != generation:
                return

    def start_thread(self) -> threading.Thread:
        """Run the loop in a daemon thread (embedded mode); `stop()` ends it."""
        self._stop.clear()
        self._thread = threading.Thread(target=self.run, name=f"scrm-worker-{self.worker_id}", daemon=True)
        self._thread.start()
        return self._thread

    def request_stop(self) -> None:
        """Ask the loop to stop after the batch in progress; returns at once (signal-handler safe)."""
        self._stop.set()
        self._wake.wake()

    def stop(self, timeout: float | None = 30.0) -> None:
        """Stop the loop and wait for the thread started by `start_thread` to finish its batch."""
        self.request_stop()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    # -- heartbeat and housekeeping ---------------------------------------------------------------

    def _beat_and_housekeep(self) -> None:
        now_monotonic = time.monotonic()
        if now_monotonic - self._last_beat >= self.config.heartbeat_seconds:
            self.beat()
            self._last_beat = now_monotonic
        if now_monotonic - self._last_housekeeping >= self.config.housekeeping_seconds:
            self._last_housekeeping = now_monotonic
            self.housekeep()

    def beat(self) -> None:
        """Upsert this worker's heartbeat row."""
        now = self._clock()
        with self.session_factory() as session, session.begin():
            statement = dialect_insert(session, WorkerHeartbeat).values(
                worker_id=self.worker_id,
                hostname=socket.gethostname(),
                pid=os.getpid(),
                started_at=self._started_at,
                last_beat_at=now,
                processed_total=self.processed_total,
                mode=self.mode,
            )
            session.execute(
                statement.on_conflict_do_update(
                    index_elements=["worker_id"],
                    set_={"last_beat_at": now, "processed_total": self.processed_total},
                )
            )

    def housekeep(self) -> None:
        """Delete done outbox rows past retention and heartbeats of workers gone for a day; on SQLite,
        refresh the queue tables' planner statistics (without any, SQLite sorts every pending row on
        each claim instead of walking the partial claim-order index)."""
        now = self._clock()
        with self.session_factory() as session, session.begin():
            purged = purge_done(session, before=now - timedelta(seconds=self.config.done_retention_seconds))
            session.execute(
                delete(WorkerHeartbeat).where(WorkerHeartbeat.last_beat_at < now - timedelta(days=1))
            )
            if session.get_bind().dialect.name == "sqlite":
                session.execute(text("ANALYZE outbox"))
                session.execute(text("ANALYZE timers"))
        if purged:
            log.info("worker %s purged %s done outbox rows", self.worker_id, purged)

    def _remove_heartbeat(self) -> None:
        try:
            with self.session_factory() as session, session.begin():
                session.execute(delete(WorkerHeartbeat).where(WorkerHeartbeat.worker_id == self.worker_id))
        except Exception:
            log.warning("worker %s: could not remove its heartbeat row", self.worker_id, exc_info=True)

    # -- PostgreSQL LISTEN ------------------------------------------------------------------------

    def _start_listener(self) -> threading.Thread | None:
        engine = self.session_factory.kw.get("bind")
        if not isinstance(engine, Engine) or engine.dialect.name != "postgresql":
            return None
        dsn = engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
        thread = threading.Thread(target=self._listen, args=(dsn,), name="scrm-worker-listen", daemon=True)
        thread.start()
        return thread

    def _listen(self, dsn: str) -> None:
        """Turn NOTIFYs on WORK_CHANNEL into local wake-ups, reconnecting with backoff if dropped."""
        delay = 1.0
        while not self._stop.is_set():
            try:
                with psycopg.connect(dsn, autocommit=True) as connection:
                    connection.execute(f"LISTEN {WORK_CHANNEL}")
                    # Anything committed while we were not listening is found by the next round.
                    self._wake.wake()
                    delay = 1.0
                    while not self._stop.is_set():
                        for _ in connection.notifies(timeout=_STOP_CHECK_SECONDS):
                            self._wake.wake()
            except psycopg.Error:
                log.warning("worker %s: LISTEN connection failed; retrying in %.0f s", self.worker_id, delay)
                self._stop.wait(delay)
                delay = min(delay * 2, 30.0)


def start_embedded_worker(
    session_factory: sessionmaker[Session], registry: HandlerRegistry, config: WorkerConfig | None = None
) -> Worker:
    """Start a worker thread inside this (API) process; call `.stop()` on shutdown."""
    worker = Worker(session_factory, registry, config, WorkerMode.EMBEDDED)
    worker.start_thread()
    return worker
