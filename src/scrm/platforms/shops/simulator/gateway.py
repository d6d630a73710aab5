"""What stands in front of every simulated shop API: injected faults and the request log.

A front-end calls `Gateway.admit(platform, api, request_record)` first. The fault it gets back (if any)
is rendered by the front-end in its platform's own error shape (`code`), or as the HTTP status /
timeout / dropped connection the fault asks for.
"""

from __future__ import annotations

import fnmatch
import itertools
import random
import threading
import time
from collections import deque
from dataclasses import asdict, dataclass
from typing import Any

import pydantic

SECRET_KEYS = frozenset(
    {"access_token", "session", "client_secret", "app_secret", "sign", "secret", "refresh_token"}
)


class FaultSpec(pydantic.BaseModel):
    """`POST /_sim/faults`. `platform` and `api` are names or globs ("*"). A matching request fires
    with probability `rate` until `count` firings (None: forever). A firing waits `latency_ms`, then:
    `http_status` answers that status (503: the platform is down); `code` answers the platform's own
    error with that code (e.g. Taobao "7" rate limit, PDD "70031", Youzan "20001", Douyin "50002");
    `timeout` holds the answer for `timeout_seconds` (callers give up first); `drop` breaks the
    connection after doing the work. With none of them set, only the latency applies."""

    platform: str = "*"
    api: str = "*"
    rate: float = pydantic.Field(default=1.0, ge=0, le=1)
    count: int | None = pydantic.Field(default=None, ge=1)
    latency_ms: int = pydantic.Field(default=0, ge=0, le=120_000)
    http_status: int | None = pydantic.Field(default=None, ge=400, le=599)
    code: str | None = None
    timeout: bool = False
    timeout_seconds: float = pydantic.Field(default=30.0, ge=0, le=600)
    drop: bool = False


@dataclass
class Fault:
    id: int
    platform: str
    api: str
    rate: float
    count: int | None
    latency_ms: int
    http_status: int | None
    code: str | None
    timeout: bool
    timeout_seconds: float
    drop: bool
    fired: int = 0


class Gateway:
    def __init__(self, *, seed: int = 7, log_size: int = 5000) -> None:
        self._faults: list[Fault] = []
        self._ids = itertools.count(1)
        self._rng = random.Random(seed)
        self._lock = threading.Lock()
        self._log: deque[dict[str, Any]] = deque(maxlen=log_size)
        self.total_requests = 0

    # faults
    def add_fault(self, spec: FaultSpec) -> Fault:
        fault = Fault(id=next(self._ids), **spec.model_dump())
        with self._lock:
            self._faults.append(fault)
        return fault

    def clear_faults(self) -> None:
        with self._lock:
            self._faults.clear()

    def faults(self) -> list[dict[str, Any]]:
        with self._lock:
            return [asdict(fault) for fault in self._faults]

    def _pick(self, platform: str, api: str) -> Fault | None:
        with self._lock:
            for fault in self._faults:
                if not fnmatch.fnmatchcase(platform, fault.platform) or not fnmatch.fnmatchcase(
                    api, fault.api
                ):
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

    # requests
    def admit(self, platform: str, api: str, params: dict[str, Any]) -> tuple[dict[str, Any], Fault | None]:
        """Log the request (secrets removed); the fault to apply, after its latency has passed."""
        entry = {
            "at": time.time(),
            "platform": platform,
            "api": api,
            "params": {key: ("***" if key in SECRET_KEYS else value) for key, value in params.items()},
            "outcome": None,
        }
        with self._lock:
            self._log.append(entry)
            self.total_requests += 1
        fault = self._pick(platform, api)
        if fault is not None and fault.latency_ms:
            time.sleep(fault.latency_ms / 1000)
        return entry, fault

    def requests(
        self, platform: str | None = None, api: str | None = None, limit: int | None = None
    ) -> list[dict[str, Any]]:
        with self._lock:
            entries = [
                entry
                for entry in self._log
                if (platform is None or entry["platform"] == platform)
                and (api is None or entry["api"] == api)
            ]
        return entries[-limit:] if limit else entries

    def clear_requests(self) -> None:
        with self._lock:
            self._log.clear()
