"""The WeCom HTTP transport: access tokens, pacing, back-off and retries, shared by every process.

Every rule here is about being a good citizen towards one corp's quota, which all our API and worker
processes spend together:

- Access tokens are cached in the shared state per (corp, secret kind, hash of the secret) until
  `expires_in` minus a safety margin, and fetched by one caller at a time (a shared lock), because
  gettoken itself is rate limited and WeCom hands out the same token within its validity anyway.
- Before each call the caller reserves a slot in two GCRA schedules per (corp, API): one for the
  per-minute limit and one for the per-hour limit, each 2% slower than the published figure.
- A 45009 (frequency) or 45033 (concurrency) answer records a shared "blocked until" for that API so
  the other processes wait too; the call is retried a bounded number of times.
- -1 (system busy) and 6000 (version conflict) are retried up to 3 times with jittered back-off.
- A token error (40014, 42001, or 40001 with a cached token) invalidates the token, fetches a new
  one and repeats the call once.
- Network failures are retried when the request cannot have reached WeCom (connect errors) or when
  repeating it is harmless (reads); otherwise `PlatformUnavailable` goes up to the caller's retry.
"""

from __future__ import annotations

import hashlib
import json
import logging
import random
import re
import time
from collections.abc import Callable, Mapping
from typing import Any, Literal

import httpx

from scrm.core.shared_state import SharedState, held_lock
from scrm.platforms.base import PlatformError, PlatformUnavailable
from scrm.platforms.wecom.config import WeComConfig
from scrm.platforms.wecom.errors import TOKEN_CODES, ErrCode, WeComError

log = logging.getLogger(__name__)

TokenKind = Literal["contact", "app"]
PLATFORM = "wecom"
DEFAULT_TIMEOUT = httpx.Timeout(10.0, connect=5.0)
#: Seconds cut from `expires_in` so a cached token is never used in its last minutes.
TOKEN_SAFETY_MARGIN = 300.0
#: WeCom blocks an API for the window's length after a 45009; the minute window is the common one.
FREQUENCY_BLOCK_SECONDS = 60.0
MAX_BUSY_RETRIES = 3
#: Pacing runs 2% slower than the published limits, so clock skew never tips us over.
PACING_HEADROOM = 1.02

_SECRET_QUERY = re.compile(r"(access_token|corpsecret|secret)=[^&\s\"]+")


class _RedactSecrets(logging.Filter):
    """httpx logs every request URL at INFO; our URLs carry access_token and corpsecret."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.args and isinstance(record.args, tuple):
            record.args = tuple(
                _SECRET_QUERY.sub(r"\1=***", str(arg)) if "=" in str(arg) else arg for arg in record.args
            )
        return True


def _install_log_redaction() -> None:
    logger = logging.getLogger("httpx")
    if not any(isinstance(existing, _RedactSecrets) for existing in logger.filters):
        logger.addFilter(_RedactSecrets())


class _NotSent(PlatformUnavailable):
    """The connection failed before the request left: repeating it is always safe."""


def errcode_of(data: Mapping[str, Any]) -> int:
    try:
        return int(data.get("errcode", 0))
    except (TypeError, ValueError):
        return ErrCode.SYSTEM_BUSY


def secret_fingerprint(secret: str) -> str:
    """A short hash of a secret for cache keys: a rotated secret gets a new token, none leaks."""
    return hashlib.sha256(secret.encode()).hexdigest()[:16]


class WeComTransport:
    """Calls one corp's APIs. Built per connection; holds no mutable state other processes need.

    `sleep` and `clock` are injectable so tests can observe waits without spending them; the pacing
    and back-off arithmetic is the real one either way.
    """

    def __init__(
        self,
        config: WeComConfig,
        *,
        shared_state: SharedState,
        http: httpx.Client | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.time,
        max_rate_limit_retries: int = 2,
        max_wait_seconds: float = 120.0,
        max_network_retries: int = 2,
        rng: random.Random | None = None,
    ) -> None:
        self.config = config
        self._state = shared_state
        self._owns_http = http is None
        self._http = http if http is not None else httpx.Client(timeout=DEFAULT_TIMEOUT)
        self._sleep = sleep
        self._clock = clock
        self.max_rate_limit_retries = max_rate_limit_retries
        self.max_wait_seconds = max_wait_seconds
        self.max_network_retries = max_network_retries
        self._rng = rng or random.Random()
        self._api_root = config.api_base_url.rstrip("/") + "/cgi-bin/"
        _install_log_redaction()

    def close(self) -> None:
        """Close the HTTP client if this object created it."""
        if self._owns_http:
            self._http.close()

    def __enter__(self) -> WeComTransport:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # --- keys in the shared state -----------------------------------------------------------------

    def _key(self, *parts: str) -> str:
        return ":".join(("wecom", self.config.corp_id, *parts))

    def _secret(self, kind: TokenKind) -> str:
        if kind == "app":
            if not self.config.app_secret:
                raise PlatformError("no app secret configured for this corp", platform=PLATFORM)
            return self.config.app_secret
        return self.config.contact_secret

    def _token_key(self, kind: TokenKind) -> str:
        return self._key("token", kind, secret_fingerprint(self._secret(kind)))

    def app_or_contact(self) -> TokenKind:
        """The app's token when an app secret is configured, else the 客户联系 one."""
        return "app" if self.config.app_secret else "contact"

    # --- access tokens ----------------------------------------------------------------------------

    def get_access_token(self, kind: TokenKind = "contact") -> str:
        """The cached token for `kind`, fetched once across threads and processes when missing.

        Raises WeComError (40013 bad corp id, 40001 bad secret: not retryable) from gettoken.
        """
        return self._token(kind)[0]

    def _token(self, kind: TokenKind) -> tuple[str, bool]:
        """(token, whether it came from the cache rather than from our own gettoken just now)."""
        key = self._token_key(kind)
        cached = self._state.get(key)
        if cached:
            return cached, True
        # Single flight: whoever holds the lock fetches; the others find the token when it is released.
        # Past the wait, fetching anyway beats stalling (WeCom returns the same token regardless).
        with held_lock(self._state, key + ":refresh", ttl_seconds=30, wait_seconds=20):
            cached = self._state.get(key)
            if cached:
                return cached, True
            data = self._exchange(
                "GET",
                "gettoken",
                params={"corpid": self.config.corp_id, "corpsecret": self._secret(kind)},
                body=None,
                replay_safe=True,
            )
            errcode = errcode_of(data)
            if errcode != 0 or not data.get("access_token"):
                raise WeComError(errcode, str(data.get("errmsg", "")), api="gettoken")
            token = str(data["access_token"])
            expires_in = float(data.get("expires_in", 7200))
            self._state.set(key, token, max(expires_in - TOKEN_SAFETY_MARGIN, expires_in / 2))
            return token, False

    def invalidate_token(self, kind: TokenKind, token: str) -> None:
        """Forget `token` if it is still the cached one (another process may have replaced it)."""
        key = self._token_key(kind)
        if self._state.get(key) == token:
            self._state.delete(key)

    def _cached_value(self, name: str, kind: TokenKind, fetch: Callable[[], tuple[str, float]]) -> str:
        """A ticket-like value cached in the shared state and fetched once (single flight)."""
        key = self._key(name, kind, secret_fingerprint(self._secret(kind)))
        cached = self._state.get(key)
        if cached:
            return cached
        with held_lock(self._state, key + ":refresh", ttl_seconds=30, wait_seconds=20):
            cached = self._state.get(key)
            if cached:
                return cached
            value, expires_in = fetch()
            self._state.set(key, value, max(expires_in - TOKEN_SAFETY_MARGIN, expires_in / 2))
            return value

    # --- calls ------------------------------------------------------------------------------------

    def call(
        self,
        method: Literal["GET", "POST"],
        api: str,
        *,
        params: Mapping[str, Any] | None = None,
        body: Mapping[str, Any] | None = None,
        kind: TokenKind = "contact",
        replay_safe: bool | None = None,
    ) -> dict[str, Any]:
        """Call `api` (the path after /cgi-bin/) with a token; the answer when errcode is 0.

        Raises WeComError for any other errcode (retryable=True for -1, 6000, 45009, 45033 once the
        bounded retries are spent, with `retry_after` for the limits), PlatformUnavailable when
        WeCom cannot be reached. `replay_safe` (default: GET) allows repeating the request after a
        timeout where it may already have been processed.
        """
        safe = method == "GET" if replay_safe is None else replay_safe
        refreshed = False
        while True:
            token, from_cache = self._token(kind)
            data = self._exchange(
                method, api, params={**(params or {}), "access_token": token}, body=body, replay_safe=safe
            )
            errcode = errcode_of(data)
            if errcode == 0:
                return data
            stale = errcode in TOKEN_CODES or (errcode == ErrCode.INVALID_SECRET and from_cache)
            if stale and not refreshed:
                log.info("wecom %s: token rejected (%s); fetching a new one", api, errcode)
                self.invalidate_token(kind, token)
                refreshed = True
                continue
            raise WeComError(errcode, str(data.get("errmsg", "")), api=api)

    def _exchange(
        self,
        method: str,
        api: str,
        *,
        params: Mapping[str, Any],
        body: Mapping[str, Any] | None,
        replay_safe: bool,
    ) -> dict[str, Any]:
        """One logical request with pacing and the retries of the module docstring.

        Returns the answer for errcode 0 and for codes it does not retry; raises WeComError when
        retryable codes persist, PlatformUnavailable for network failures it may not repeat.
        """
        busy = limited = network = 0
        while True:
            self._wait_for_turn(api)
            try:
                data = self._send(method, api, params, body)
            except _NotSent:
                if network >= self.max_network_retries:
                    raise
                network += 1
                self._sleep(self._backoff(network))
                continue
            except PlatformUnavailable:
                if not replay_safe or network >= self.max_network_retries:
                    raise
                network += 1
                self._sleep(self._backoff(network))
                continue
            errcode = errcode_of(data)
            if errcode in (ErrCode.SYSTEM_BUSY, ErrCode.DATA_VERSION_CONFLICT):
                if busy < MAX_BUSY_RETRIES:
                    busy += 1
                    self._sleep(self._backoff(busy))
                    continue
                raise WeComError(errcode, str(data.get("errmsg", "")), api=api)
            if errcode in (ErrCode.FREQUENCY_LIMIT, ErrCode.CONCURRENCY_LIMIT):
                wait = self._record_block(api, errcode, limited)
                if limited < self.max_rate_limit_retries and wait <= self.max_wait_seconds:
                    limited += 1
                    continue  # _wait_for_turn sleeps until the shared block ends
                raise WeComError(errcode, str(data.get("errmsg", "")), api=api, retry_after=wait)
            return data

    def _backoff(self, attempt: int) -> float:
        """Jittered exponential back-off: 0.25-0.75 s, 0.5-1.5 s, 1-3 s, capped at 2-6 s."""
        return min(0.5 * 2 ** (attempt - 1), 4.0) * (0.5 + self._rng.random())

    def _record_block(self, api: str, errcode: int, attempt: int) -> float:
        """Share "this API is blocked until T" with every process; seconds until T."""
        now = self._clock()
        if errcode == ErrCode.FREQUENCY_LIMIT:
            duration = FREQUENCY_BLOCK_SECONDS
        else:  # concurrency: a short, jittered pause is enough for in-flight calls to finish
            duration = self._backoff(attempt + 1)
        key = self._key(api, "blocked")
        until = now + duration
        existing = self._parse_block(self._state.get(key))
        if existing is None or existing[0] < until:
            self._state.set(key, f"{until}:{errcode}", duration + 1)
        else:
            until = existing[0]
        return until - now

    @staticmethod
    def _parse_block(value: str | None) -> tuple[float, int] | None:
        if not value:
            return None
        until, _, errcode = value.partition(":")
        try:
            return float(until), int(errcode or ErrCode.FREQUENCY_LIMIT)
        except ValueError:
            return None

    def _wait_for_turn(self, api: str) -> None:
        """Sleep out a shared block, then reserve this call's slot in both pacing schedules."""
        wait = 0.0
        block = self._parse_block(self._state.get(self._key(api, "blocked")))
        if block is not None:
            wait = block[0] - self._clock()
            if wait > self.max_wait_seconds:
                raise WeComError(block[1], "blocked after an earlier limit answer", api=api, retry_after=wait)
        per_minute, per_hour = self.config.rate_limit_per_minute, self.config.rate_limit_per_hour
        # A burst of 1% of the limit lets short bursts through while the sum over any window stays
        # under it: burst + window / (interval * 1.02) < limit.
        wait = max(
            wait,
            self._state.reserve(
                self._key(api, "min"), 60.0 / per_minute * PACING_HEADROOM, burst=max(1, per_minute // 100)
            ),
            self._state.reserve(
                self._key(api, "hour"), 3600.0 / per_hour * PACING_HEADROOM, burst=max(1, per_hour // 100)
            ),
        )
        if wait > 0:
            self._sleep(wait)

    def _send(
        self, method: str, api: str, params: Mapping[str, Any], body: Mapping[str, Any] | None
    ) -> dict[str, Any]:
        content = None if body is None else json.dumps(body, ensure_ascii=False).encode()
        headers = {"Content-Type": "application/json; charset=utf-8"} if content is not None else None
        try:
            response = self._http.request(
                method, self._api_root + api, params=dict(params), content=content, headers=headers
            )
        except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as exc:
            raise _NotSent(f"{api}: cannot connect ({type(exc).__name__})", platform=PLATFORM) from exc
        except httpx.TransportError as exc:
            raise PlatformUnavailable(f"{api}: {type(exc).__name__}", platform=PLATFORM) from exc
        if response.status_code >= 500 or response.status_code == 429:
            raise PlatformUnavailable(f"{api}: HTTP {response.status_code}", platform=PLATFORM)
        if response.status_code != 200:
            raise PlatformError(
                f"{api}: HTTP {response.status_code}", platform=PLATFORM, code=response.status_code
            )
        try:
            data = response.json()
        except ValueError as exc:
            raise PlatformUnavailable(f"{api}: answer is not JSON", platform=PLATFORM) from exc
        if not isinstance(data, dict):
            raise PlatformUnavailable(f"{api}: answer is not a JSON object", platform=PLATFORM)
        log.debug("wecom %s %s -> %s", method, api, data.get("errcode", 0))
        return data
