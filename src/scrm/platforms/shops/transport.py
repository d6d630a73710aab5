"""The HTTP transport every shop client shares: pacing, retries with back-off, a circuit breaker.

A platform client builds each request (its own signing) and parses each answer into data or a
`PlatformError` (its own error shapes); this transport decides when to send and whether to repeat:

- **Pacing**: one GCRA schedule per connection in the shared state (Redis or the database), so all
  API and worker processes together stay under the connection's `rate_per_second`.
- **Retries**: a retryable error (network, HTTP 5xx, the platform's "busy" or "rate limited" codes)
  is retried up to `max_attempts` with jittered exponential back-off, or after `retry_after` when the
  platform says how long; never past `max_wait_seconds` in total (a handler's transaction is open).
  Non-idempotent calls are not repeated after the request may have reached the platform.
- **Circuit breaker** (per connection, shared): after `failure_threshold` consecutive retryable
  failures the breaker opens for `open_seconds`; calls then fail at once with `CircuitOpen` (retryable,
  with `retry_after`) instead of adding load to a platform that is down. After that time one probe call
  is let through (half-open): success closes the breaker, failure opens it again. Its state is readable
  (`breaker_state`) for the console's sync-health view.
"""

from __future__ import annotations

import json
import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

import httpx

from scrm.core.shared_state import SharedState
from scrm.platforms.base import PlatformError, PlatformUnavailable

log = logging.getLogger(__name__)

T = TypeVar("T")


class RequestNotSent(PlatformUnavailable):
    """The connection failed before the request left: repeating it is always safe."""


class CircuitOpen(PlatformUnavailable):
    """The connection's circuit breaker is open: the platform failed repeatedly; not called."""


@dataclass(frozen=True)
class TransportPolicy:
    rate_per_second: float = 10.0
    burst: int = 5
    max_attempts: int = 4
    base_backoff_seconds: float = 0.2
    max_wait_seconds: float = 5.0
    failure_threshold: int = 5
    open_seconds: float = 30.0


@dataclass(frozen=True)
class BreakerState:
    state: str  # closed | open | half_open
    consecutive_failures: int
    open_until: float | None  # epoch seconds
    last_error: str | None


def _breaker_key(connection_key: str) -> str:
    return f"shops:breaker:{connection_key}"


def breaker_state(
    shared_state: SharedState, connection_key: str, *, now: float | None = None
) -> BreakerState:
    """The breaker of `connection_key` as the transport sees it (for health views)."""
    raw = shared_state.get(_breaker_key(connection_key))
    current = time.time() if now is None else now
    if not raw:
        return BreakerState("closed", 0, None, None)
    try:
        data = json.loads(raw)
        failures = int(data.get("failures", 0))
        open_until = data.get("open_until")
        open_until = float(open_until) if open_until is not None else None
        last_error = data.get("last_error")
    except (ValueError, TypeError, AttributeError):
        return BreakerState("closed", 0, None, None)
    if open_until is None:
        return BreakerState("closed", failures, None, last_error)
    return BreakerState("open" if current < open_until else "half_open", failures, open_until, last_error)


def send_or_unavailable(platform: str, api: str, send: Callable[[], httpx.Response]) -> httpx.Response:
    """Run `send`; network failures become `RequestNotSent` (connect errors) or `PlatformUnavailable`;
    HTTP 5xx and 429 are `PlatformUnavailable`. Other statuses are the caller's to read."""
    try:
        response = send()
    except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as exc:
        raise RequestNotSent(f"{api}: cannot connect ({type(exc).__name__})", platform=platform) from exc
    except httpx.TransportError as exc:
        raise PlatformUnavailable(f"{api}: {type(exc).__name__}", platform=platform) from exc
    if response.status_code >= 500 or response.status_code == 429:
        raise PlatformUnavailable(f"{api}: HTTP {response.status_code}", platform=platform)
    return response


class ShopTransport:
    """Pacing, retries and the breaker around one connection's calls. Thread-safe; cheap to build."""

    def __init__(
        self,
        *,
        platform: str,
        connection_key: str,
        shared_state: SharedState,
        policy: TransportPolicy | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.time,
        rng: random.Random | None = None,
    ) -> None:
        self.platform = platform
        self.connection_key = connection_key
        self.policy = policy or TransportPolicy()
        self._state = shared_state
        self._sleep = sleep
        self._clock = clock
        self._rng = rng or random.Random()

    # --- the breaker ---------------------------------------------------------------------------

    def breaker(self) -> BreakerState:
        return breaker_state(self._state, self.connection_key, now=self._clock())

    def _check_breaker(self, api: str) -> None:
        state = self.breaker()
        if state.state == "open" and state.open_until is not None:
            raise CircuitOpen(
                f"{api}: circuit open after {state.consecutive_failures} failures ({state.last_error})",
                platform=self.platform,
                retry_after=max(0.0, state.open_until - self._clock()),
            )

    def _record(self, *, failed: bool, error: str | None = None) -> None:
        key = _breaker_key(self.connection_key)
        if not failed:
            if self._state.get(key):
                self._state.delete(key)
            return
        state = self.breaker()
        failures = state.consecutive_failures + 1
        open_until = None
        if failures >= self.policy.failure_threshold:
            open_until = self._clock() + self.policy.open_seconds
            if state.state != "open":
                log.warning(
                    "%s connection %s: circuit opens for %.0f s after %s failures (%s)",
                    self.platform,
                    self.connection_key,
                    self.policy.open_seconds,
                    failures,
                    error,
                )
        payload = {"failures": failures, "open_until": open_until, "last_error": (error or "")[:300]}
        self._state.set(key, json.dumps(payload), ttl_seconds=max(3600.0, self.policy.open_seconds * 4))

    # --- calls ---------------------------------------------------------------------------------

    def _pace(self) -> None:
        interval = 1.0 / max(self.policy.rate_per_second, 0.001)
        wait = self._state.reserve(f"shops:pace:{self.connection_key}", interval, burst=self.policy.burst)
        if wait > 0:
            self._sleep(wait)

    def call(self, api: str, attempt: Callable[[], T], *, idempotent: bool = True) -> T:
        """Run `attempt` (send + parse; raises PlatformError) under pacing, retries and the breaker.

        Raises the last PlatformError when retries are exhausted or the error is not retryable;
        `CircuitOpen` while the breaker is open. Only retryable errors count against the breaker (a
        refused argument says nothing about the platform's health).
        """
        started = self._clock()
        attempts = 0
        while True:
            self._check_breaker(api)
            self._pace()
            attempts += 1
            try:
                result = attempt()
            except PlatformError as error:
                if error.retryable:
                    self._record(failed=True, error=str(error))
                else:
                    self._record(failed=False)
                    raise
                may_repeat = idempotent or isinstance(error, RequestNotSent)
                delay = self._backoff(attempts, error)
                spent = self._clock() - started
                if (
                    not may_repeat
                    or attempts >= self.policy.max_attempts
                    or spent + delay > self.policy.max_wait_seconds
                ):
                    raise
                log.info("%s %s: retrying in %.2f s after %s", self.platform, api, delay, error)
                self._sleep(delay)
                continue
            self._record(failed=False)
            return result

    def _backoff(self, attempts: int, error: PlatformError) -> float:
        if error.retry_after is not None:
            return float(error.retry_after)
        base = self.policy.base_backoff_seconds * (2 ** (attempts - 1))
        return base * (0.5 + self._rng.random())
