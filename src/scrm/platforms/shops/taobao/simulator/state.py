"""Per-simulator Taobao state: settings the [S]/[U] details hang on, the per-app rate limit, TMC
message ids, visibility of handed-out messages and the sellers' permits."""

from __future__ import annotations

import itertools
import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass
class TaobaoSimSettings:
    """[S] timestamp tolerance ±10 min; [S] TMC redelivery of unconfirmed messages (the real delay is
    not published; 10 s here); a simple fixed-window rate limit per app key."""

    timestamp_tolerance_seconds: float = 600.0
    visibility_timeout_seconds: float = 10.0
    calls_per_second_per_app: int = 400


@dataclass
class TaobaoSimState:
    settings: TaobaoSimSettings = field(default_factory=TaobaoSimSettings)
    clock: Callable[[], float] = time.time
    lock: threading.RLock = field(default_factory=threading.RLock)
    #: TMC message id → epoch seconds until which it is handed out (not visible to consume).
    invisible_until: dict[int, float] = field(default_factory=dict)
    #: seller (shop id) → the topics permitted ("*" when permitted without a topic list).
    permits: dict[str, str] = field(default_factory=dict)
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(3_000_000_000_001))
    _windows: dict[str, tuple[int, int]] = field(default_factory=dict)

    def next_message_id(self) -> int:
        with self.lock:
            return next(self._ids)

    def admit_call(self, app_key: str) -> float | None:
        """None when the app may call now; else the seconds its ban still lasts (code 7)."""
        now = self.clock()
        second = math.floor(now)
        with self.lock:
            window, count = self._windows.get(app_key, (second, 0))
            if window != second:
                window, count = second, 0
            count += 1
            self._windows[app_key] = (window, count)
            if count > self.settings.calls_per_second_per_app:
                return max(1.0, math.ceil(window + 1 - now))
        return None
