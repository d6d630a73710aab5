"""Waking idle workers when new work commits, so nobody polls.

Two paths: workers in this process wait on `LOCAL_WAKE`, which fires after a session that wrote work
commits; workers in other processes LISTEN on the PostgreSQL channel `WORK_CHANNEL`, notified inside
the writing transaction (PostgreSQL delivers a NOTIFY only if, and when, the transaction commits).
"""

from __future__ import annotations

import threading

from sqlalchemy import event, text
from sqlalchemy.orm import Session

WORK_CHANNEL = "scrm_work"
_PENDING_KEY = "scrm.wake_pending"


class WakeSignal:
    """A broadcast wake-up for any number of waiting threads, with no lost wake-ups.

    Unlike a `threading.Event`, nobody has to clear it: each waiter remembers the generation it last
    saw and returns as soon as the generation moves on, even if the wake happened before it waited.
    """

    def __init__(self) -> None:
        self._condition = threading.Condition()
        self._generation = 0

    @property
    def generation(self) -> int:
        with self._condition:
            return self._generation

    def wake(self) -> None:
        with self._condition:
            self._generation += 1
            self._condition.notify_all()

    def wait(self, seen_generation: int, timeout: float) -> int:
        """Block until the generation differs from `seen_generation` or `timeout` passes."""
        with self._condition:
            self._condition.wait_for(lambda: self._generation != seen_generation, timeout=max(timeout, 0))
            return self._generation


LOCAL_WAKE = WakeSignal()


def request_wake_on_commit(session: Session) -> None:
    """Arrange for workers to wake when this session's transaction commits (not if it rolls back).

    Call it after writing work (outbox rows, timers, replays). On PostgreSQL it issues one
    `pg_notify` per transaction. A notify issued inside a savepoint that is later rolled back is
    lost; remote workers then notice the work at their next idle deadline (at most
    `WorkerConfig.max_idle_seconds` later).
    """
    session.connection()  # autobegins the transaction if nothing has been executed yet
    transaction = session.get_transaction()
    if session.info.get(_PENDING_KEY) is transaction:
        return
    session.info[_PENDING_KEY] = transaction
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_notify(:channel, '')"), {"channel": WORK_CHANNEL})


@event.listens_for(Session, "after_commit")
def _wake_after_commit(session: Session) -> None:
    if session.info.pop(_PENDING_KEY, None) is not None:
        LOCAL_WAKE.wake()


@event.listens_for(Session, "after_rollback")
def _forget_after_rollback(session: Session) -> None:
    session.info.pop(_PENDING_KEY, None)
