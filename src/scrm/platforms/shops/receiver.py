"""Push receivers of the shop platforms that push over HTTP: ``POST /hooks/{youzan|douyin}/{connection_id}``.

Same path as WeCom callbacks: verify (the platform's `PushProtocol`) → store each message in the inbox
(group commit, `InboxWriter`) → answer exactly what the platform takes as success, only once every
message of the request has committed. Test / verification messages are acknowledged and not stored.

Every rejection stores nothing and is a 4xx problem document (never containing the word the platform
reads as success), one log line and `scrm_shop_pushes{platform,outcome}`. The outcome labels of
signature and shape checks are the platform protocol's own (`PushRejected.outcome`); typically:

===============================  ======  ===================
input                            status  outcome
===============================  ======  ===================
unknown id / not this platform   404     unknown_connection
disabled connection              403     disabled
signature does not match         401     bad_signature
app / client id not this app     401     wrong_app
body not the platform's JSON     400     bad_json
message for another shop         400     unknown_shop
body over the size limit         413     (the app's body-limit middleware)
database unavailable             503     lookup_failed / store_failed
===============================  ======  ===================

A replayed message (same dedupe key) is acknowledged as success and stored once: platforms re-push
what they think was lost, so a repeat is normal, and acknowledging it stops the re-pushes.
"""

from __future__ import annotations

import json
import logging
import re
import threading
from dataclasses import dataclass
from typing import Any

from fastapi import FastAPI
from fastapi.concurrency import run_in_threadpool
from prometheus_client import Counter
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from scrm.core.db import mark_read_only
from scrm.core.metrics import REGISTRY
from scrm.core.secrets import SecretDecryptionError
from scrm.platforms.asgi import PROBLEM_JSON, client_host, read_body, send_body
from scrm.platforms.connection_cache import ConnectionCache
from scrm.platforms.inbox_writer import InboundItem, InboxWriter
from scrm.platforms.models import ConnectionStatus, PlatformConnection
from scrm.platforms.service import full_config, secret_box
from scrm.platforms.shops.adapter import PushMessage, PushProtocol, PushRejected
from scrm.platforms.shops.registry import shop_platform
from scrm.platforms.shops.service import shop_identity

log = logging.getLogger(__name__)

PUSHES = Counter(
    "scrm_shop_pushes",
    "Shop platform push requests by platform and outcome (stored, duplicate, test, or why rejected).",
    ["platform", "outcome"],
    registry=REGISTRY,
)
PUSH_PLATFORMS = ("youzan", "douyin")
_CONNECTION_ID = re.compile(r"^[1-9][0-9]{0,17}$")


@dataclass(frozen=True)
class PushTarget:
    connection_id: int
    tenant_id: int
    platform: str
    status: str
    shop_external_id: str
    config: dict[str, Any] | None  # None: secrets undecryptable


class PushReceiver:
    def __init__(
        self, *, session_factory: sessionmaker[Session], secret_key: str, writer: InboxWriter
    ) -> None:
        self.session_factory = session_factory
        self.box = secret_box(secret_key)
        self.cache: ConnectionCache[PushTarget] = ConnectionCache(ttl_seconds=30.0, miss_ttl_seconds=5.0)
        self.writer = writer

    def _load(self, connection_id: int) -> PushTarget | None:
        with self.session_factory() as session:
            mark_read_only(session)  # on SQLite: no write lock for a lookup
            connection = session.get(PlatformConnection, connection_id)
            if connection is None or connection.platform not in PUSH_PLATFORMS:
                return None
            config: dict[str, Any] | None
            try:
                config = full_config(session, connection, box=self.box)
            except SecretDecryptionError as error:
                log.error("shop connection %s: secrets unusable: %r", connection_id, error)
                config = None
            return PushTarget(
                connection_id=connection.id,
                tenant_id=connection.tenant_id,
                platform=connection.platform,
                status=connection.status,
                shop_external_id=shop_identity(connection).external_id,
                config=config,
            )

    async def target(self, platform: str, raw_connection_id: str) -> PushTarget:
        if not _CONNECTION_ID.fullmatch(raw_connection_id):
            raise PushRejected(404, "unknown_connection", "no such connection")
        connection_id = int(raw_connection_id)
        hit, target = self.cache.get(connection_id)
        if not hit:
            try:
                target = await run_in_threadpool(self._load, connection_id)
            except SQLAlchemyError as error:
                log.warning("shop connection %s: lookup failed: %r", connection_id, error)
                raise PushRejected(503, "lookup_failed", "the connection could not be looked up") from None
            self.cache.put(connection_id, target)
        if target is None or target.platform != platform:
            raise PushRejected(404, "unknown_connection", "no such connection")
        if target.status == ConnectionStatus.DISABLED:
            raise PushRejected(403, "disabled", "this connection is disabled")
        if target.config is None:
            raise PushRejected(503, "misconfigured", "this connection's secrets are unusable")
        return target


_RECEIVER_LOCK = threading.Lock()


def get_push_receiver(app: FastAPI) -> PushReceiver:
    receiver: PushReceiver | None = getattr(app.state, "shop_push_receiver", None)
    if receiver is None:
        from scrm.platforms.wecom.callbacks import get_receiver

        with _RECEIVER_LOCK:
            receiver = getattr(app.state, "shop_push_receiver", None)
            if receiver is None:
                receiver = PushReceiver(
                    session_factory=app.state.session_factory,
                    secret_key=app.state.settings.resolved_secret_key,
                    # One group-commit writer per process, shared with the WeCom receiver.
                    writer=get_receiver(app).writer,
                )
                app.state.shop_push_receiver = receiver
    return receiver


def _reject(platform: str, connection_id: str, client: str, error: PushRejected) -> bytes:
    PUSHES.labels(platform, error.outcome).inc()
    log.warning(
        "%s push rejected: connection=%s status=%s outcome=%s detail=%s client=%s",
        platform,
        connection_id[:40],
        error.status,
        error.outcome,
        error.detail,
        client,
    )
    return json.dumps(
        {
            "type": f"/problems/shop-push-{error.outcome.replace('_', '-')}",
            "title": "Push rejected",
            "status": error.status,
            "detail": error.detail,
        }
    ).encode()


def _headers(scope: Scope) -> dict[str, str]:
    """Request headers by lower-case name (the last of repeated names wins)."""
    return {key.decode("latin-1").lower(): value.decode("latin-1") for key, value in scope["headers"]}


class PushEndpoint:
    """ASGI app of one push platform's receiver (see the module docstring)."""

    def __init__(self, platform: str) -> None:
        self.platform = platform

    @property
    def protocol(self) -> PushProtocol:
        push = shop_platform(self.platform).push
        assert push is not None, f"{self.platform} does not push"
        return push

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        connection_id: str = scope["path_params"]["connection_id"]
        client = client_host(scope)
        body = await read_body(receive)
        if body is None:
            return
        receiver = get_push_receiver(scope["app"])
        protocol = self.protocol
        try:
            target = await receiver.target(self.platform, connection_id)
            assert target.config is not None
            messages = protocol.verify(_headers(scope), body, target.config)
        except PushRejected as error:
            await send_body(
                send, error.status, _reject(self.platform, connection_id, client, error), PROBLEM_JSON
            )
            return
        stored = [message for message in messages if not message.is_test]
        if len(stored) < len(messages):
            PUSHES.labels(self.platform, "test").inc(len(messages) - len(stored))
        try:
            outcomes = [await receiver.writer.store(self._item(target, message)) for message in stored]
        except Exception:
            log.exception("%s push for connection %s not stored; answering 503", self.platform, connection_id)
            failure = PushRejected(503, "store_failed", "the push could not be stored")
            await send_body(send, 503, _reject(self.platform, connection_id, client, failure), PROBLEM_JSON)
            return
        for is_new in outcomes:
            PUSHES.labels(self.platform, "stored" if is_new else "duplicate").inc()
        await send_body(send, 200, protocol.success_body, "application/json")

    def _item(self, target: PushTarget, message: PushMessage) -> InboundItem:
        return InboundItem(
            tenant_id=target.tenant_id,
            platform=self.platform,
            connection_id=str(target.connection_id),
            dedupe_key=message.dedupe_key,
            raw_payload=message.raw,
            headers={},
        )


PUSH_ROUTES = [
    Route(
        f"/hooks/{platform}/{{connection_id}}",
        PushEndpoint(platform),
        methods=["POST"],
        include_in_schema=False,
    )
    for platform in PUSH_PLATFORMS
]
