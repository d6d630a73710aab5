"""A small in-process TTL cache of per-connection material (decrypted callback keys).

Callback endpoints look a connection up on every request; decrypting its secrets each time would cost
a query and an AES-GCM open. Entries live `ttl_seconds` (misses `miss_ttl_seconds`, so a flood of
requests for an unknown id costs one query per id per interval). A change to a connection invalidates
its entry in every cache of this process when the change commits; other processes see it within the
TTL, which bounds how long a disabled connection or a rotated key may still be honoured there.
"""

from __future__ import annotations

import threading
import time
import weakref
from collections.abc import Callable
from typing import Generic, TypeVar

from sqlalchemy import event
from sqlalchemy.orm import Session

T = TypeVar("T")

_ALL_CACHES: weakref.WeakSet[ConnectionCache[object]] = weakref.WeakSet()
_ALL_CACHES_LOCK = threading.Lock()
_PENDING_KEY = "scrm.connection_cache.pending"


class ConnectionCache(Generic[T]):
    def __init__(
        self,
        *,
        ttl_seconds: float,
        miss_ttl_seconds: float,
        max_entries: int = 10_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.ttl_seconds = ttl_seconds
        self.miss_ttl_seconds = miss_ttl_seconds
        self.max_entries = max_entries
        self._clock = clock
        self._entries: dict[int, tuple[float, T | None]] = {}
        self._lock = threading.Lock()
        with _ALL_CACHES_LOCK:
            _ALL_CACHES.add(self)  # type: ignore[arg-type]

    def get(self, connection_id: int) -> tuple[bool, T | None]:
        """(True, value) when a live entry exists (value None: known not to exist), else (False, None)."""
        with self._lock:
            entry = self._entries.get(connection_id)
        if entry is not None and entry[0] > self._clock():
            return True, entry[1]
        return False, None

    def get_or_load(self, connection_id: int, load: Callable[[], T | None]) -> T | None:
        """The cached value for `connection_id`, or `load()`'s (None = no such connection), cached."""
        hit, value = self.get(connection_id)
        if hit:
            return value
        value = load()
        self.put(connection_id, value)
        return value

    def put(self, connection_id: int, value: T | None) -> None:
        """Cache `value` (None: no such connection, kept for the shorter miss TTL)."""
        now = self._clock()
        ttl = self.ttl_seconds if value is not None else self.miss_ttl_seconds
        with self._lock:
            if len(self._entries) >= self.max_entries:
                self._evict_expired(now)
            if len(self._entries) < self.max_entries:
                self._entries[connection_id] = (now + ttl, value)

    def _evict_expired(self, now: float) -> None:
        for key in [key for key, (expires, _) in self._entries.items() if expires <= now]:
            del self._entries[key]
        if len(self._entries) >= self.max_entries:
            self._entries.clear()

    def invalidate(self, connection_id: int) -> None:
        with self._lock:
            self._entries.pop(connection_id, None)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


def invalidate_connection(connection_id: int) -> None:
    """Drop `connection_id` from every cache in this process."""
    with _ALL_CACHES_LOCK:
        caches = list(_ALL_CACHES)
    for cache in caches:
        cache.invalidate(connection_id)


def invalidate_on_commit(session: Session, connection_id: int) -> None:
    """Invalidate `connection_id` everywhere in this process once the session's transaction commits.

    Invalidating earlier would let a concurrent request re-cache the old values before the commit. After
    a rollback the listener stays armed and fires at the next commit: one needless reload, no harm.
    """
    pending: set[int] | None = session.info.get(_PENDING_KEY)
    if pending is not None:
        pending.add(connection_id)
        return
    pending = {connection_id}
    session.info[_PENDING_KEY] = pending

    def after_commit(committed: Session) -> None:
        ids = committed.info.pop(_PENDING_KEY, set())
        for pending_id in ids:
            invalidate_connection(pending_id)

    event.listen(session, "after_commit", after_commit, once=True)
