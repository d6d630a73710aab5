"""What stands in front of the simulated APIs: injected faults, WeCom's rate limits, the request log."""

from __future__ import annotations

import fnmatch
import itertools
import random
import threading
from collections import deque
from dataclasses import asdict, dataclass
from typing import Any

import pydantic

SECRET_QUERY_KEYS = frozenset({"access_token", "corpsecret"})


class FaultSpec(pydantic.BaseModel):
    """`POST /_sim/faults`. `api` is an API path after /cgi-bin/ ("externalcontact/get"), a glob
    ("externalcontact/*") or "*". Each matching request fires with probability `rate` until `count`
    firings (None: forever). A firing waits `latency_ms`; then `timeout` holds the answer for
    `fault_timeout_seconds` (the caller gives up first); `errcode` answers that error without doing
    anything; `drop` does the work and then breaks the connection instead of answering (the
    ambiguous case: the change happened, the caller cannot know)."""

    api: str = "*"
    errcode: int | None = None
    rate: float = pydantic.Field(default=1.0, ge=0, le=1)
    count: int | None = pydantic.Field(default=None, ge=1)
    latency_ms: int = pydantic.Field(default=0, ge=0)
    timeout: bool = False
    drop: bool = False


@dataclass
class Fault:
    id: int
    api: str
    errcode: int | None
    rate: float
    count: int | None
    latency_ms: int
    timeout: bool
    drop: bool
    fired: int = 0


class FaultBook:
    def __init__(self, rng: random.Random) -> None:
        self._faults: list[Fault] = []
        self._ids = itertools.count(1)
        self._rng = rng
        self._lock = threading.Lock()

    def add(self, spec: FaultSpec) -> Fault:
        fault = Fault(id=next(self._ids), **spec.model_dump())
        with self._lock:
            self._faults.append(fault)
        return fault

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()

    def list(self) -> list[dict[str, Any]]:
        with self._lock:
            return [asdict(fault) for fault in self._faults]

    def pick(self, api: str) -> Fault | None:
        """The first matching fault that fires for this request (its count is spent)."""
        with self._lock:
            for fault in self._faults:
                if not (fault.api == "*" or fnmatch.fnmatchcase(api, fault.api)):
                    continue
                if fault.rate < 1 and self._rng.random() >= fault.rate:
                    continue
                fault.fired += 1
                if fault.count is not None:
                    fault.count -= 1
                    if fault.count <= 0:
                        self._faults.remove(fault)
                return fault
        return None


class RateLimiter:
    """WeCom's per-corp, per-API limits: counted in fixed minute and hour windows; the call that
    exceeds one is answered 45009 and the API stays blocked for `block_seconds` (None: the window's
    length, 60 s or 3600 s, as platform-protocols.md §1.3 states)."""

    def __init__(self, per_minute: int, per_hour: int, block_seconds: float | None = None) -> None:
        self.limits = ((60, per_minute), (3600, per_hour))
        self.block_seconds = block_seconds
        self._windows: dict[tuple[str, int], tuple[int, int]] = {}
        self._blocked: dict[str, float] = {}
        self.limited_by_api: dict[str, int] = {}
        self._lock = threading.Lock()

    def allow(self, api: str, now: float) -> bool:
        with self._lock:
            if self._blocked.get(api, 0) > now:
                self._limited(api)
                return False
            counts = []
            for window, limit in self.limits:
                index = int(now // window)
                current, used = self._windows.get((api, window), (index, 0))
                used = used if current == index else 0
                if used >= limit:
                    self._blocked[api] = now + (
                        self.block_seconds if self.block_seconds is not None else window
                    )
                    self._limited(api)
                    return False
                counts.append((window, index, used))
            for window, index, used in counts:
                self._windows[(api, window)] = (index, used + 1)
            return True

    def _limited(self, api: str) -> None:
        self.limited_by_api[api] = self.limited_by_api.get(api, 0) + 1

    @property
    def limited(self) -> int:
        return sum(self.limited_by_api.values())

    def reset(self) -> None:
        with self._lock:
            self._windows.clear()
            self._blocked.clear()


class RequestLog:
    """Every API request: time, method, path, api, query without secrets, JSON body, errcode."""

    def __init__(self, size: int) -> None:
        self._entries: deque[dict[str, Any]] = deque(maxlen=size)
        self._lock = threading.Lock()
        self.total = 0
        self.errcodes: dict[int, int] = {}

    def answered(self, entry: dict[str, Any], errcode: int) -> None:
        """Record the errcode given to `entry` (counted per code, injected faults included)."""
        entry["errcode"] = errcode
        if errcode:
            with self._lock:
                self.errcodes[errcode] = self.errcodes.get(errcode, 0) + 1

    def add(self, entry: dict[str, Any]) -> None:
        with self._lock:
            self._entries.append(entry)
            self.total += 1

    def query(self, api: str | None = None, limit: int | None = None) -> list[dict[str, Any]]:
        with self._lock:
            entries = [entry for entry in self._entries if api is None or entry["api"] == api]
        return entries[-limit:] if limit else entries

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    @staticmethod
    def redact(query: dict[str, str]) -> dict[str, str]:
        return {key: value for key, value in query.items() if key not in SECRET_QUERY_KEYS}
