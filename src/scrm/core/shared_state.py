"""State shared by every process: cached values (access tokens), rate-limit pacing and short locks.

Redis holds it when `SCRM_REDIS_URL` is set; otherwise PostgreSQL does, so many processes without
Redis still share it; the embedded SQLite mode (one process) keeps it in memory. Every backend gives
the same contract:

- `get`/`set`/`delete`: a value with a time to live.
- `reserve(key, interval, burst)`: GCRA pacing. Reserves the caller's slot and returns how many
  seconds to wait before using it, so all processes together never exceed one request per
  `interval` on average (plus `burst` back-to-back requests). Reserving before sleeping keeps
  concurrent callers fair and the combined rate exact.
- `try_lock(key, ttl)` / `unlock`: a best-effort mutual exclusion (single-flight token refresh).
"""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Protocol

from sqlalchemy import Float, String, Text, delete, select
from sqlalchemy.orm import Mapped, Session, mapped_column, sessionmaker

from scrm.core.clock import utcnow
from scrm.core.db import Base, UtcDateTime, session_scope
from scrm.core.leases import dialect_insert


class SharedValue(Base):
    __tablename__ = "shared_values"

    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    value: Mapped[str] = mapped_column(Text, nullable=False)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime, nullable=False)


class RatePacing(Base):
    """GCRA state: the theoretical arrival time (epoch seconds) of the next request for `key`."""

    __tablename__ = "rate_pacing"

    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    theoretical_arrival: Mapped[float] = mapped_column(Float, nullable=False)


class SharedState(Protocol):
    def get(self, key: str) -> str | None: ...
    def set(self, key: str, value: str, ttl_seconds: float) -> None: ...
    def delete(self, key: str) -> None: ...
    def reserve(self, key: str, interval_seconds: float, burst: int = 1) -> float: ...
    def try_lock(self, key: str, ttl_seconds: float) -> str | None: ...
    def unlock(self, key: str, token: str) -> None: ...


def gcra_reserve(
    theoretical_arrival: float | None, now: float, interval: float, burst: int
) -> tuple[float, float]:
    """Pure GCRA reservation: (start time of the caller's slot, new theoretical arrival time)."""
    tat = max(theoretical_arrival or now, now)
    tolerance = interval * max(burst - 1, 0)
    start = max(now, tat - tolerance)
    return start, tat + interval


class DatabaseSharedState:
    """The shared state in the application database (each call is its own short transaction)."""

    def __init__(self, session_factory: sessionmaker[Session]) -> None:
        self._factory = session_factory

    def get(self, key: str) -> str | None:
        with self._factory() as session:
            row = session.get(SharedValue, key)
            if row is None or row.expires_at <= utcnow():
                return None
            return row.value

    def set(self, key: str, value: str, ttl_seconds: float) -> None:
        expires_at = utcnow() + timedelta(seconds=ttl_seconds)
        with session_scope(self._factory) as session:
            statement = dialect_insert(session, SharedValue).values(
                key=key, value=value, expires_at=expires_at
            )
            session.execute(
                statement.on_conflict_do_update(
                    index_elements=["key"], set_={"value": value, "expires_at": expires_at}
                )
            )

    def delete(self, key: str) -> None:
        with session_scope(self._factory) as session:
            session.execute(delete(SharedValue).where(SharedValue.key == key))

    def reserve(self, key: str, interval_seconds: float, burst: int = 1) -> float:
        with session_scope(self._factory) as session:
            # Make sure the row exists, then lock it: two first-time callers must not both compute
            # from "no state" (SQLite's BEGIN IMMEDIATE serialises anyway; PostgreSQL needs the lock).
            session.execute(
                dialect_insert(session, RatePacing)
                .values(key=key, theoretical_arrival=0.0)
                .on_conflict_do_nothing(index_elements=["key"])
            )
            row = session.scalars(select(RatePacing).where(RatePacing.key == key).with_for_update()).one()
            now = time.time()
            start, row.theoretical_arrival = gcra_reserve(
                row.theoretical_arrival, now, interval_seconds, burst
            )
            return start - now

    def try_lock(self, key: str, ttl_seconds: float) -> str | None:
        token = secrets.token_hex(8)
        lock_key = f"lock:{key}"
        now = utcnow()
        with session_scope(self._factory) as session:
            session.execute(
                delete(SharedValue).where(SharedValue.key == lock_key, SharedValue.expires_at <= now)
            )
            statement = dialect_insert(session, SharedValue).values(
                key=lock_key, value=token, expires_at=now + timedelta(seconds=ttl_seconds)
            )
            inserted = session.execute(
                statement.on_conflict_do_nothing(index_elements=["key"]).returning(SharedValue.key)
            ).first()
            return token if inserted is not None else None

    def unlock(self, key: str, token: str) -> None:
        with session_scope(self._factory) as session:
            session.execute(
                delete(SharedValue).where(SharedValue.key == f"lock:{key}", SharedValue.value == token)
            )


class MemorySharedState:
    """The shared state of a single process (the embedded SQLite mode).

    SQLite admits one writer at a time, and the embedded worker calls platforms while its transaction
    holds that lock; keeping tokens and pacing in the database would then wait on itself. With one
    process there is nobody to share with, so memory is both correct and enough.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._values: dict[str, tuple[str, float]] = {}
        self._pacing: dict[str, float] = {}

    def get(self, key: str) -> str | None:
        with self._lock:
            entry = self._values.get(key)
            if entry is None or entry[1] <= time.monotonic():
                return None
            return entry[0]

    def set(self, key: str, value: str, ttl_seconds: float) -> None:
        with self._lock:
            self._values[key] = (value, time.monotonic() + ttl_seconds)

    def delete(self, key: str) -> None:
        with self._lock:
            self._values.pop(key, None)

    def reserve(self, key: str, interval_seconds: float, burst: int = 1) -> float:
        with self._lock:
            now = time.time()
            start, self._pacing[key] = gcra_reserve(self._pacing.get(key), now, interval_seconds, burst)
            return start - now

    def try_lock(self, key: str, ttl_seconds: float) -> str | None:
        lock_key = f"lock:{key}"
        with self._lock:
            entry = self._values.get(lock_key)
            if entry is not None and entry[1] > time.monotonic():
                return None
            token = secrets.token_hex(8)
            self._values[lock_key] = (token, time.monotonic() + ttl_seconds)
            return token

    def unlock(self, key: str, token: str) -> None:
        lock_key = f"lock:{key}"
        with self._lock:
            entry = self._values.get(lock_key)
            if entry is not None and entry[0] == token:
                del self._values[lock_key]


_GCRA_LUA = """
local now = tonumber(ARGV[1])
local interval = tonumber(ARGV[2])
local tolerance = tonumber(ARGV[3])
local tat = tonumber(redis.call('GET', KEYS[1]) or ARGV[1])
if tat < now then tat = now end
local start = tat - tolerance
if start < now then start = now end
local new_tat = tat + interval
redis.call('SET', KEYS[1], tostring(new_tat), 'PX', math.ceil((new_tat - now) * 1000) + 1000)
return tostring(start - now)
"""

_UNLOCK_LUA = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""


class RedisSharedState:
    """The shared state in Redis (keys prefixed so several installations can share one server)."""

    def __init__(self, url: str, *, prefix: str = "scrm:") -> None:
        import redis

        self._redis = redis.Redis.from_url(url, decode_responses=True)
        self._prefix = prefix
        self._gcra = self._redis.register_script(_GCRA_LUA)
        self._unlock = self._redis.register_script(_UNLOCK_LUA)

    def get(self, key: str) -> str | None:
        value = self._redis.get(self._prefix + key)
        return None if value is None else str(value)

    def set(self, key: str, value: str, ttl_seconds: float) -> None:
        self._redis.set(self._prefix + key, value, px=max(int(ttl_seconds * 1000), 1))

    def delete(self, key: str) -> None:
        self._redis.delete(self._prefix + key)

    def reserve(self, key: str, interval_seconds: float, burst: int = 1) -> float:
        # Redis' clock is the shared one: every process reserves against the same time source.
        seconds, micros = self._redis.time()
        now = seconds + micros / 1_000_000
        tolerance = interval_seconds * max(burst - 1, 0)
        wait = self._gcra(keys=[f"{self._prefix}rate:{key}"], args=[now, interval_seconds, tolerance])
        return float(wait)

    def try_lock(self, key: str, ttl_seconds: float) -> str | None:
        token = secrets.token_hex(8)
        acquired = self._redis.set(f"{self._prefix}lock:{key}", token, nx=True, px=int(ttl_seconds * 1000))
        return token if acquired else None

    def unlock(self, key: str, token: str) -> None:
        self._unlock(keys=[f"{self._prefix}lock:{key}"], args=[token])


def make_shared_state(redis_url: str | None, session_factory: sessionmaker[Session]) -> SharedState:
    """Redis when configured; memory on SQLite (one process); else the PostgreSQL database."""
    if redis_url:
        return RedisSharedState(redis_url)
    bind = session_factory.kw.get("bind")
    if bind is not None and bind.dialect.name == "sqlite":
        return MemorySharedState()
    return DatabaseSharedState(session_factory)


@contextmanager
def held_lock(state: SharedState, key: str, *, ttl_seconds: float, wait_seconds: float) -> Iterator[bool]:
    """Hold `key` for the block if it can be had within `wait_seconds`; yields whether it was."""
    deadline = time.monotonic() + wait_seconds
    token = state.try_lock(key, ttl_seconds)
    while token is None and time.monotonic() < deadline:
        time.sleep(0.05)
        token = state.try_lock(key, ttl_seconds)
    try:
        yield token is not None
    finally:
        if token is not None:
            state.unlock(key, token)
