"""What platform code running in handlers and jobs needs from its process: the secret box, the state
shared across processes (tokens, pacing) and one pooled HTTP client.

`create_app` configures it with the application's settings and session factory; a worker process
that never built an app gets one lazily from the environment (`load_settings()`), which is the same
configuration the API processes read.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import httpx
from sqlalchemy.orm import Session, sessionmaker

from scrm.core.secrets import SecretBox
from scrm.core.shared_state import SharedState, make_shared_state
from scrm.platforms.service import load_wecom_config, require_connection
from scrm.platforms.shops.service import ShopConnection, build_shop_connection
from scrm.platforms.wecom.client import WeComClient
from scrm.settings import Settings, load_settings

HTTP_TIMEOUT = httpx.Timeout(10.0, connect=5.0)
#: Seconds a built shop client is reused (its access token with it).
SHOP_CLIENT_TTL = 600.0


@dataclass
class PlatformRuntime:
    secret_box: SecretBox
    shared_state: SharedState
    http: httpx.Client
    public_base_url: str
    _shop_connections: dict[tuple[int, int, float], tuple[Any, float, ShopConnection]] = field(
        default_factory=dict
    )

    def wecom_client(
        self, session: Session, *, tenant_id: int, connection_id: int, max_wait_seconds: float = 5.0
    ) -> WeComClient:
        """A client for the tenant's WeCom connection. Inside handlers and job steps keep waits short:
        a long rate-limit block surfaces as a retryable error instead of holding the transaction."""
        config = load_wecom_config(session, tenant_id, connection_id, box=self.secret_box)
        return WeComClient(
            config, shared_state=self.shared_state, http=self.http, max_wait_seconds=max_wait_seconds
        )

    def shop_connection(
        self, session: Session, *, tenant_id: int, connection_id: int, max_wait_seconds: float = 5.0
    ) -> ShopConnection:
        """The tenant's shop connection with a client (and message channel where the platform has
        one) built over the shared pacing and circuit breaker. Raises NotFound for an unknown id or
        a connection that is not a shop. Built connections are reused while the connection's row is
        unchanged (platform clients keep their access tokens), at most `SHOP_CLIENT_TTL` seconds."""
        connection = require_connection(session, tenant_id, connection_id)
        # The row as stored (secrets sealed): any change to it builds a new client.
        fingerprint = (
            connection.platform,
            connection.name,
            connection.status,
            connection.secrets_encrypted,
            json.dumps(connection.config, sort_keys=True, default=str),
        )
        key = (tenant_id, connection_id, max_wait_seconds)
        with _lock:
            cached = self._shop_connections.get(key)
        if cached is not None and cached[0] == fingerprint and cached[1] > time.monotonic():
            return cached[2]
        built = build_shop_connection(
            session,
            connection,
            box=self.secret_box,
            shared_state=self.shared_state,
            http=self.http,
            max_wait_seconds=max_wait_seconds,
        )
        with _lock:
            self._shop_connections[key] = (fingerprint, time.monotonic() + SHOP_CLIENT_TTL, built)
        return built


_lock = threading.Lock()
_runtime: PlatformRuntime | None = None


def configure_platform_runtime(settings: Settings, session_factory: sessionmaker[Session]) -> PlatformRuntime:
    """Install the runtime for this process (the app factory calls this)."""
    global _runtime
    with _lock:
        if _runtime is not None:
            _runtime.http.close()
        _runtime = PlatformRuntime(
            secret_box=SecretBox(settings.resolved_secret_key),
            shared_state=make_shared_state(settings.redis_url, session_factory),
            http=httpx.Client(timeout=HTTP_TIMEOUT, limits=httpx.Limits(max_connections=50)),
            public_base_url=settings.public_base_url,
        )
        return _runtime


def platform_runtime() -> PlatformRuntime:
    """The installed runtime, or one built from the environment on first use."""
    if _runtime is not None:
        return _runtime
    from scrm.core.db import make_engine, make_session_factory

    settings = load_settings()
    return configure_platform_runtime(settings, make_session_factory(make_engine(settings.database_url)))


def install_platform_runtime(runtime: PlatformRuntime | None) -> None:
    """Replace this process's runtime (tests install one with in-memory shared state)."""
    global _runtime
    with _lock:
        _runtime = runtime
