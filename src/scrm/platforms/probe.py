"""Connection tests ("测试连接"): try a connection's credentials against its platform, live.

`prepare_probe` reads what the test needs (permission-checked, in the caller's transaction);
`run_probe` does the network call outside any transaction and never raises: a failure is an answer
(`ok=False` and the reason, secrets redacted), because the console shows it to the operator.
"""

from __future__ import annotations

import contextlib
import logging
import secrets
import threading
import time
from dataclasses import dataclass
from typing import Any

import httpx
from sqlalchemy.orm import Session

from scrm.core.actors import Actor
from scrm.core.secrets import SecretBox
from scrm.platforms.base import PlatformError
from scrm.platforms.models import PlatformKind
from scrm.platforms.permissions import PlatformPermission
from scrm.platforms.schemas import CONFIG_SPECS
from scrm.platforms.service import full_config, redact, require_connection

log = logging.getLogger(__name__)

PROBE_TIMEOUT = httpx.Timeout(8.0, connect=4.0)


@dataclass(frozen=True)
class ProbeRequest:
    connection_id: int
    platform: PlatformKind
    values: dict[str, Any]


@dataclass(frozen=True)
class ProbeResult:
    ok: bool
    detail: str
    latency_ms: float


class _ProbeState:
    """A private SharedState for one probe. A probe must reach the platform: the shared token cache
    would answer from memory and prove nothing about the credentials as they are now."""

    def __init__(self) -> None:
        self._values: dict[str, tuple[str, float]] = {}
        self._lock = threading.Lock()

    def get(self, key: str) -> str | None:
        with self._lock:
            entry = self._values.get(key)
        return entry[0] if entry and entry[1] > time.monotonic() else None

    def set(self, key: str, value: str, ttl_seconds: float) -> None:
        with self._lock:
            self._values[key] = (value, time.monotonic() + ttl_seconds)

    def delete(self, key: str) -> None:
        with self._lock:
            self._values.pop(key, None)

    def reserve(self, key: str, interval_seconds: float, burst: int = 1) -> float:
        return 0.0

    def try_lock(self, key: str, ttl_seconds: float) -> str | None:
        return secrets.token_hex(8)

    def unlock(self, key: str, token: str) -> None:
        return None


def prepare_probe(session: Session, *, actor: Actor, connection_id: int, box: SecretBox) -> ProbeRequest:
    """What `run_probe` needs; requires `platforms.connections.manage` (404 for other tenants' ids)."""
    actor.require(PlatformPermission.CONNECTIONS_MANAGE)
    connection = require_connection(session, actor.tenant_id, connection_id)
    return ProbeRequest(
        connection_id=connection.id,
        platform=PlatformKind(connection.platform),
        values=full_config(session, connection, box=box),
    )


def _probe_wecom(values: dict[str, Any], http: httpx.Client | None) -> str:
    from scrm.platforms.wecom.client import WeComClient
    from scrm.platforms.wecom.config import WeComConfig

    config = WeComConfig(**values)
    with contextlib.ExitStack() as stack:
        if http is None:
            http = stack.enter_context(httpx.Client(timeout=PROBE_TIMEOUT))
        client = WeComClient(
            config,
            shared_state=_ProbeState(),
            http=http,
            max_network_retries=0,
            max_rate_limit_retries=0,
            max_wait_seconds=5.0,
        )
        client.get_access_token("contact")
        checked = ["customer-contact secret"]
        if config.app_secret:
            client.get_access_token("app")
            checked.append(f"app {config.agent_id} secret")
    return "access token fetched with the " + " and the ".join(checked)


def _probe_shop(request: ProbeRequest, http: httpx.Client | None) -> str:
    """The platform client's own cheap check (token fetch and / or a one-row query), made without
    retries, pacing shared with nobody and no circuit breaker in the way."""
    from scrm.platforms.shops.registry import shop_platform
    from scrm.platforms.shops.transport import ShopTransport, TransportPolicy

    entry = shop_platform(request.platform)
    transport = ShopTransport(
        platform=request.platform,
        connection_key=f"probe:{request.connection_id}:{secrets.token_hex(4)}",
        shared_state=_ProbeState(),
        policy=TransportPolicy(rate_per_second=1000, max_attempts=1, failure_threshold=1_000_000),
    )
    with contextlib.ExitStack() as stack:
        if http is None:
            http = stack.enter_context(httpx.Client(timeout=PROBE_TIMEOUT))
        return entry.build_client(request.values, transport, http).check()


def run_probe(request: ProbeRequest, *, http: httpx.Client | None = None) -> ProbeResult:
    """Try the credentials; never raises. `http` is injectable for tests."""
    started = time.perf_counter()
    try:
        if request.platform == PlatformKind.WECOM:
            detail = _probe_wecom(request.values, http)
        else:
            detail = _probe_shop(request, http)
        ok = True
    except PlatformError as error:
        ok, detail = False, str(error)
    except httpx.HTTPError as error:
        ok, detail = False, f"{request.platform}: {type(error).__name__}: {error}"
    except Exception as error:  # a probe reports every failure to the operator instead of a 500
        log.exception("connection %s: probe failed unexpectedly", request.connection_id)
        ok, detail = False, f"unexpected {type(error).__name__}: {error}"
    latency_ms = (time.perf_counter() - started) * 1000
    spec = CONFIG_SPECS.get(request.platform)
    hidden = {key: value for key, value in request.values.items() if spec and key in spec.secret_fields}
    return ProbeResult(ok, redact(detail, hidden), round(latency_ms, 1))
