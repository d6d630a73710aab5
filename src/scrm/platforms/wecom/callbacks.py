"""The WeCom callback receiver: ``GET|POST /hooks/wecom/{connection_id}``.

The path is always verify -> decrypt -> parse -> store in the inbox -> answer, and nothing else: the
meaning of a callback is worked out later by a worker (`handlers.py`). WeCom waits at most 5 s and
treats anything but HTTP 200 as a failure to retry, so success is a 200 with an empty body as soon as
the inbox row has committed; a callback is acknowledged only once it is durably stored.

Every rejection is a 4xx (5xx only when we, not the sender, are at fault) with a short problem
document, one log line and `scrm_wecom_callbacks{kind,outcome}`; nothing is stored:

====================================  ======  ==========================
input                                 status  outcome label
====================================  ======  ==========================
missing or malformed query values     400     bad_request
unknown id, or not a WeCom connection 404     unknown_connection
disabled connection                   403     disabled
signature does not match              401     bad_signature
timestamp outside the allowed skew    401     stale_timestamp
unreadable envelope or plaintext XML  400     bad_xml
DTD / entities / external references  400     bad_xml (see `payloads`: never processed)
ciphertext not base64, bad padding    400     bad_ciphertext
receiveid is not the connection corp  400     bad_ciphertext
body over the app's size limit        413     (the app's body-limit middleware)
secrets undecryptable (our fault)     503     misconfigured
database unavailable (our fault)      503     store_failed (logged with the traceback)
====================================  ======  ==========================

Connection lookups are cached per process (`CallbackSettings.cache_ttl_seconds`), decrypted and
with the AES key decoded, so a callback costs no secret decryption and no extra query. Inbox rows are
written through the process's group-commit writer (`scrm.platforms.inbox_writer`): concurrent
callbacks share one transaction, and each is answered after that transaction commits.

The POST endpoint is a bare ASGI app, and `CallbackShortcut` (installed by `scrm.main`) hands it the
requests routing would hand it, before routing and the framework's per-request machinery: on the
hottest path we serve, that machinery cost more than verifying, decrypting and parsing together.
"""

from __future__ import annotations

import json
import logging
import re
import threading
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

from fastapi import APIRouter, FastAPI, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response
from prometheus_client import Counter
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy.orm import Session, sessionmaker
from starlette.routing import Match, Route
from starlette.types import ASGIApp, Receive, Scope, Send

from scrm.core.metrics import REGISTRY
from scrm.core.secrets import SecretDecryptionError
from scrm.platforms.asgi import PROBLEM_JSON, client_host, read_body, send_body
from scrm.platforms.connection_cache import ConnectionCache
from scrm.platforms.inbox_writer import InboundItem, InboxWriter
from scrm.platforms.models import ConnectionStatus, PlatformConnection, PlatformKind
from scrm.platforms.service import get_connection_secrets, secret_box
from scrm.platforms.wecom.crypto import WeComCrypto, WeComCryptoError
from scrm.platforms.wecom.payloads import PayloadError, check_callback, dedupe_key, parse_xml

log = logging.getLogger(__name__)

router = APIRouter(tags=["wecom-callbacks"])

CALLBACKS = Counter(
    "scrm_wecom_callbacks",
    "WeCom callback requests by kind (url_verification, event) and outcome (verified, stored, "
    "duplicate, or why it was rejected).",
    ["kind", "outcome"],
    registry=REGISTRY,
)

_CONNECTION_ID = re.compile(r"^[1-9][0-9]{0,17}$")  # fits a signed 64-bit id
_SIGNATURE = re.compile(r"^[0-9a-fA-F]{40}$")
_TIMESTAMP = re.compile(r"^[0-9]{1,12}$")
_MAX_QUERY_VALUE = 4096


class CallbackSettings(BaseSettings):
    """Receiver settings, from ``SCRM_WECOM_CALLBACK_*``."""

    model_config = SettingsConfigDict(env_prefix="SCRM_WECOM_CALLBACK_", extra="ignore")

    # Callbacks whose timestamp is further than this from our clock are refused as replays.
    max_clock_skew_seconds: int = 300
    cache_ttl_seconds: float = 30.0
    miss_cache_ttl_seconds: float = 5.0


@dataclass(frozen=True)
class CallbackTarget:
    """What a callback needs of its connection, decrypted once per cache period."""

    connection_id: int
    tenant_id: int
    platform: str
    status: str
    crypto: WeComCrypto | None  # None: the stored secrets do not decrypt or are incomplete


class CallbackRejected(Exception):
    def __init__(self, status: int, outcome: str, detail: str) -> None:
        super().__init__(detail)
        self.status = status
        self.outcome = outcome
        self.detail = detail


class CallbackReceiver:
    """Per-application receiver state: settings, the session factory and the connection cache."""

    def __init__(
        self, *, session_factory: sessionmaker[Session], secret_key: str, settings: CallbackSettings
    ) -> None:
        self.session_factory = session_factory
        self.box = secret_box(secret_key)
        self.settings = settings
        self.cache: ConnectionCache[CallbackTarget] = ConnectionCache(
            ttl_seconds=settings.cache_ttl_seconds, miss_ttl_seconds=settings.miss_cache_ttl_seconds
        )
        self.writer = InboxWriter(session_factory)

    def _load(self, connection_id: int) -> CallbackTarget | None:
        # The one lookup by id alone: the URL names the connection, and the tenant comes from its row.
        with self.session_factory() as session:
            connection = session.get(PlatformConnection, connection_id)
            if connection is None:
                return None
            crypto: WeComCrypto | None = None
            if connection.platform == PlatformKind.WECOM:
                try:
                    secrets = get_connection_secrets(session, connection, box=self.box)
                    crypto = WeComCrypto(
                        secrets["token"], secrets["encoding_aes_key"], connection.config["corp_id"]
                    )
                except (SecretDecryptionError, WeComCryptoError, KeyError) as error:
                    log.error("wecom connection %s: callback keys unusable: %r", connection_id, error)
            return CallbackTarget(
                connection_id=connection.id,
                tenant_id=connection.tenant_id,
                platform=connection.platform,
                status=connection.status,
                crypto=crypto,
            )

    @staticmethod
    def parse_connection_id(raw_connection_id: str) -> int:
        if not _CONNECTION_ID.fullmatch(raw_connection_id):
            raise CallbackRejected(404, "unknown_connection", "no such connection")
        return int(raw_connection_id)

    @staticmethod
    def usable(target: CallbackTarget | None) -> tuple[CallbackTarget, WeComCrypto]:
        if target is None or target.platform != PlatformKind.WECOM:
            raise CallbackRejected(404, "unknown_connection", "no such connection")
        if target.status == ConnectionStatus.DISABLED:
            raise CallbackRejected(403, "disabled", "this connection is disabled")
        if target.crypto is None:
            raise CallbackRejected(503, "misconfigured", "this connection's callback keys are unusable")
        return target, target.crypto

    def target(self, raw_connection_id: str) -> tuple[CallbackTarget, WeComCrypto]:
        """The connection's callback keys, from the cache or (blocking) the database."""
        connection_id = self.parse_connection_id(raw_connection_id)
        return self.usable(self.cache.get_or_load(connection_id, lambda: self._load(connection_id)))

    async def target_async(self, raw_connection_id: str) -> tuple[CallbackTarget, WeComCrypto]:
        """`target` for the event loop: a cache hit costs nothing; a miss loads in a worker thread."""
        connection_id = self.parse_connection_id(raw_connection_id)
        hit, target = self.cache.get(connection_id)
        if not hit:
            target = await run_in_threadpool(self._load, connection_id)
            self.cache.put(connection_id, target)
        return self.usable(target)

    def check_query(self, query: dict[str, str], names: tuple[str, ...]) -> list[str]:
        values = []
        for name in names:
            value = query.get(name)
            if not value or len(value) > _MAX_QUERY_VALUE:
                raise CallbackRejected(400, "bad_request", f"query parameter {name} is missing or too long")
            values.append(value)
        if not _TIMESTAMP.fullmatch(query["timestamp"]):
            raise CallbackRejected(400, "bad_request", "timestamp is not a number")
        return values

    def verify(self, crypto: WeComCrypto, signature: str, timestamp: str, nonce: str, encrypted: str) -> None:
        """Signature first (so an unsigned request learns nothing more), then the replay window."""
        if not _SIGNATURE.fullmatch(signature):
            raise CallbackRejected(401, "bad_signature", "msg_signature does not match")
        try:
            crypto.verify(signature, timestamp, nonce, encrypted)
        except WeComCryptoError:
            raise CallbackRejected(401, "bad_signature", "msg_signature does not match") from None
        skew = abs(time.time() - int(timestamp))
        if skew > self.settings.max_clock_skew_seconds:
            raise CallbackRejected(401, "stale_timestamp", "timestamp is outside the accepted window")

    @staticmethod
    def decrypt(crypto: WeComCrypto, encrypted: str) -> str:
        try:
            return crypto.decrypt(encrypted)
        except WeComCryptoError as error:
            raise CallbackRejected(400, "bad_ciphertext", f"cannot decrypt: {error.reason}") from None

    def verify_url(self, raw_connection_id: str, query: dict[str, str]) -> str:
        """GET: check the signature over echostr and return its plaintext."""
        signature, timestamp, nonce, echostr = self.check_query(
            query, ("msg_signature", "timestamp", "nonce", "echostr")
        )
        _, crypto = self.target(raw_connection_id)
        self.verify(crypto, signature, timestamp, nonce, echostr)
        return self.decrypt(crypto, echostr)

    def inbound_item(
        self,
        target: CallbackTarget,
        crypto: WeComCrypto,
        query: dict[str, str],
        body: bytes,
        user_agent: str,
    ) -> InboundItem:
        """POST, up to storing: verify, decrypt and validate; the inbox row to write. CPU only."""
        signature, timestamp, nonce = self.check_query(query, ("msg_signature", "timestamp", "nonce"))
        try:
            envelope = parse_xml(body)
        except PayloadError as error:
            raise CallbackRejected(400, "bad_xml", f"envelope: {error}") from None
        encrypted = (envelope.findtext("Encrypt") or "").strip()
        if not encrypted:
            raise CallbackRejected(400, "bad_xml", "envelope has no <Encrypt>")
        self.verify(crypto, signature, timestamp, nonce, encrypted)
        plaintext = self.decrypt(crypto, encrypted)
        try:
            root = parse_xml(plaintext)
            check_callback(root)  # refuse now what the worker could not read later
        except PayloadError as error:
            raise CallbackRejected(400, "bad_xml", f"plaintext: {error}") from None
        return InboundItem(
            tenant_id=target.tenant_id,
            platform=PlatformKind.WECOM.value,
            connection_id=str(target.connection_id),
            dedupe_key=dedupe_key(root),
            raw_payload=plaintext,
            headers={
                "msg_signature": signature,
                "timestamp": timestamp,
                "nonce": nonce,
                "user_agent": user_agent[:200],
            },
        )


_RECEIVER_LOCK = threading.Lock()


def get_receiver(app: FastAPI) -> CallbackReceiver:
    """The app's receiver, created on first use (tests may set `app.state.wecom_receiver` first)."""
    receiver: CallbackReceiver | None = getattr(app.state, "wecom_receiver", None)
    if receiver is None:
        with _RECEIVER_LOCK:
            receiver = getattr(app.state, "wecom_receiver", None)
            if receiver is None:
                receiver = CallbackReceiver(
                    session_factory=app.state.session_factory,
                    secret_key=app.state.settings.resolved_secret_key,
                    settings=CallbackSettings(),
                )
                app.state.wecom_receiver = receiver
    return receiver


def _reject(kind: str, connection_id: str, client: str, error: CallbackRejected) -> tuple[int, bytes]:
    """Count and log a rejection; its status and problem document."""
    CALLBACKS.labels(kind, error.outcome).inc()
    log.warning(
        "wecom %s rejected: connection=%s status=%s outcome=%s detail=%s client=%s",
        kind,
        connection_id[:40],
        error.status,
        error.outcome,
        error.detail,
        client,
    )
    body: dict[str, Any] = {
        "type": f"/problems/wecom-callback-{error.outcome.replace('_', '-')}",
        "title": "Callback rejected",
        "status": error.status,
        "detail": error.detail,
    }
    return error.status, json.dumps(body).encode()


def verify_url(request: Request) -> Response:
    """WeCom's URL verification: answer echostr's plaintext as the raw body (no quotes, no newline)."""
    connection_id: str = request.path_params["connection_id"]
    try:
        plaintext = get_receiver(request.app).verify_url(connection_id, dict(request.query_params))
    except CallbackRejected as error:
        client = request.client.host if request.client else "-"
        status, body = _reject("url_verification", connection_id, client, error)
        return Response(body, status_code=status, media_type=PROBLEM_JSON)
    CALLBACKS.labels("url_verification", "verified").inc()
    return Response(plaintext.encode(), media_type="text/plain")


_STORED = CALLBACKS.labels("event", "stored")
_DUPLICATE = CALLBACKS.labels("event", "duplicate")
_EMPTY_200 = {"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"0")]}
_EMPTY_BODY = {"type": "http.response.body", "body": b""}


def _header(scope: Scope, name: bytes) -> str:
    """The first value of header `name` (lower case, as ASGI servers give them), or ""."""
    for key, value in scope["headers"]:
        if key == name:
            return str(value.decode("latin-1"))
    return ""


class CallbackEndpoint:
    """ASGI app of a WeCom event or message: 200 with an empty body once stored (or already stored).

    Runs on the event loop: verification and decryption are short CPU work, the connection comes from
    the cache, and the inbox write is awaited from the group-commit writer, so no thread is held
    while the row waits for its commit. Answers exactly what a Starlette endpoint would: the query
    string is read as Starlette reads it (the last of repeated names wins), headers likewise.
    (A class, not a function: Starlette routes to a function as `endpoint(request) -> response`.)"""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        connection_id: str = scope["path_params"]["connection_id"]
        body = await read_body(receive)
        if body is None:
            return  # nobody left to answer; nothing was stored
        receiver = get_receiver(scope["app"])
        query = dict(parse_qsl(scope["query_string"].decode("latin-1"), keep_blank_values=True))
        try:
            receiver.check_query(query, ("msg_signature", "timestamp", "nonce"))
            target, crypto = await receiver.target_async(connection_id)
            item = receiver.inbound_item(target, crypto, query, body, _header(scope, b"user-agent"))
        except CallbackRejected as error:
            await send_body(send, *_reject("event", connection_id, client_host(scope), error), PROBLEM_JSON)
            return
        try:
            is_new = await receiver.writer.store(item)
        except Exception:
            log.exception(
                "wecom callback for connection %s not stored; answering 503 so WeCom retries",
                target.connection_id,
            )
            failure = CallbackRejected(503, "store_failed", "the callback could not be stored")
            await send_body(send, *_reject("event", connection_id, client_host(scope), failure), PROBLEM_JSON)
            return
        (_STORED if is_new else _DUPLICATE).inc()
        await send(_EMPTY_200)
        await send(_EMPTY_BODY)


receive_callback = CallbackEndpoint()


# Plain Starlette routes: the protocol is WeCom's, not part of our OpenAPI, and skipping FastAPI's
# parameter and dependency machinery takes a measurable share off the hottest path we serve.
# (Starlette runs the synchronous GET handler in its thread pool; the POST endpoint is ASGI.)
CALLBACK_PATH = "/hooks/wecom/{connection_id}"
CALLBACK_ROUTE = Route(CALLBACK_PATH, receive_callback, methods=["POST"], include_in_schema=False)
router.add_route(CALLBACK_PATH, verify_url, methods=["GET"], include_in_schema=False)
router.routes.append(CALLBACK_ROUTE)


class CallbackShortcut:
    """ASGI middleware: the requests that routing would give the POST callback endpoint go to it
    directly.

    Which requests those are is decided by the route itself (`Route.matches`), and no route before it
    matches these paths, so the shortcut takes exactly what routing would. Install it inside the
    body-size limit, so the limit still applies. Everything else, and any error the endpoint raises,
    passes through as usual.
    """

    _PREFIX = CALLBACK_PATH.split("{", 1)[0]

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and self._PREFIX in scope["path"]:
            match, child_scope = CALLBACK_ROUTE.matches(scope)
            if match is Match.FULL:
                scope.update(child_scope)
                await receive_callback(scope, receive, send)
                return
        await self.app(scope, receive, send)
