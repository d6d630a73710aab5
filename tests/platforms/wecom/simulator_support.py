"""Helpers for the WeCom client and simulator tests: the simulator on a loopback port, a callback
receiver that can be told to fail or stall, clients whose sleeps are recorded instead of spent."""

from __future__ import annotations

import os
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import httpx
import pytest
from defusedxml import ElementTree

from scrm.core.shared_state import RedisSharedState
from scrm.platforms.wecom.client import WeComClient
from scrm.platforms.wecom.config import WeComConfig
from scrm.platforms.wecom.crypto import WeComCrypto, generate_encoding_aes_key
from scrm.platforms.wecom.simulator import RunningSimulator, SimulatorConfig, StaffSeed, start_simulator

CORP_ID = "wwsimcorp00000001"
CONTACT_SECRET = "contact-secret-" + "c" * 24
APP_SECRET = "app-secret-" + "a" * 28
AGENT_ID = 1000002
TOKEN = "simtoken"
AES_KEY = generate_encoding_aes_key()
STAFF = "zhangsan,lisi,wangwu"
REDIS_URL = os.environ.get("SCRM_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


def sim_config(**overrides: Any) -> SimulatorConfig:
    values: dict[str, Any] = {
        "corp_id": CORP_ID,
        "contact_secret": CONTACT_SECRET,
        "app_secret": APP_SECRET,
        "agent_id": AGENT_ID,
        "token": TOKEN,
        "encoding_aes_key": AES_KEY,
        "staff": SimulatorConfig.staff_from_list(STAFF),
        "callback_retry_interval_seconds": 0.01,
        "seed": 42,
    }
    values.update(overrides)
    return SimulatorConfig(**values)


def many_staff(count: int) -> list[StaffSeed]:
    return [StaffSeed(userid=f"user{index:03d}") for index in range(count)]


@dataclass
class Received:
    method: str
    query: dict[str, str]
    body: bytes


@dataclass
class Receiver:
    """A callback endpoint on loopback. `fail_next` answers 500 that many times; `delay_next`
    stalls that many requests by `delay_seconds`; the URL check is answered like a real receiver."""

    url: str
    received: list[Received] = field(default_factory=list)
    fail_next: int = 0
    delay_next: int = 0
    delay_seconds: float = 0.0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def posts(self) -> list[Received]:
        with self.lock:
            return [item for item in self.received if item.method == "POST"]

    def events(self) -> list[dict[str, str]]:
        """Every POSTed event decrypted (signature checked) and flattened to {tag: text}."""
        crypto = WeComCrypto(TOKEN, AES_KEY, CORP_ID)
        events = []
        for item in self.posts():
            envelope = ElementTree.fromstring(item.body)
            encrypted = envelope.findtext("Encrypt")
            plaintext = crypto.decrypt_message(
                item.query["msg_signature"], item.query["timestamp"], item.query["nonce"], encrypted
            )
            events.append({child.tag: (child.text or "") for child in ElementTree.fromstring(plaintext)})
        return events

    def wait_for(self, count: int, timeout: float = 10.0) -> list[dict[str, str]]:
        deadline = time.monotonic() + timeout
        while len(self.posts()) < count and time.monotonic() < deadline:
            time.sleep(0.01)
        return self.events()


def _handler(receiver: Receiver) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

        def _answer(self, status: int, body: bytes = b"") -> None:
            self.send_response(status)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self) -> None:  # URL verification
            query = dict(parse_qsl(urlsplit(self.path).query))
            receiver.received.append(Received("GET", query, b""))
            crypto = WeComCrypto(TOKEN, AES_KEY, CORP_ID)
            plain = crypto.verify_url(
                query["msg_signature"], query["timestamp"], query["nonce"], query["echostr"]
            )
            self._answer(200, plain.encode())

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            query = dict(parse_qsl(urlsplit(self.path).query))
            with receiver.lock:
                receiver.received.append(Received("POST", query, body))
                fail = receiver.fail_next > 0
                receiver.fail_next -= 1 if fail else 0
                delay = receiver.delay_next > 0
                receiver.delay_next -= 1 if delay else 0
            if delay:
                time.sleep(receiver.delay_seconds)
            self._answer(500 if fail else 200)

    return Handler


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), BaseHTTPRequestHandler)
    found = Receiver(url=f"http://127.0.0.1:{server.server_address[1]}/hooks/wecom")
    server.RequestHandlerClass = _handler(found)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield found
    server.shutdown()
    server.server_close()


@pytest.fixture
def sim(receiver: Receiver) -> Iterator[RunningSimulator]:
    with start_simulator(sim_config(callback_url=receiver.url)) as running:
        yield running


@pytest.fixture
def control(sim: RunningSimulator) -> Iterator[httpx.Client]:
    """An HTTP client for the simulator's control API (and raw /cgi-bin/ calls)."""
    with httpx.Client(base_url=sim.base_url, timeout=10) as http:
        yield http


class RecordedSleep:
    """Stands in for time.sleep: remembers each wait instead of spending it."""

    def __init__(self) -> None:
        self.waits: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)


def wecom_config(base_url: str, **overrides: Any) -> WeComConfig:
    values: dict[str, Any] = {
        "corp_id": CORP_ID,
        "contact_secret": CONTACT_SECRET,
        "app_secret": APP_SECRET,
        "agent_id": AGENT_ID,
        "token": TOKEN,
        "encoding_aes_key": AES_KEY,
        "api_base_url": base_url,
        "oauth_base_url": base_url,
        "sso_base_url": base_url,
    }
    values.update(overrides)
    return WeComConfig(**values)


def make_client(
    sim: RunningSimulator, state: Any, sleep: RecordedSleep | None = None, **kwargs: Any
) -> WeComClient:
    config_overrides = {key: kwargs.pop(key) for key in list(kwargs) if key in WeComConfig.model_fields}
    return WeComClient(
        wecom_config(sim.base_url, **config_overrides),
        shared_state=state,
        sleep=sleep if sleep is not None else RecordedSleep(),
        **kwargs,
    )


def redis_state() -> RedisSharedState:
    state = RedisSharedState(REDIS_URL, prefix=f"test-{uuid.uuid4().hex[:8]}:")
    try:
        state.get("ping")
    except Exception as exc:  # unreachable Redis: fail in CI, skip on a laptop without it
        if os.environ.get("CI") == "true":
            raise
        pytest.skip(f"Redis not reachable at {REDIS_URL}: {exc}")
    return state


def api_requests(control: httpx.Client, api: str) -> list[dict[str, Any]]:
    return list(control.get("/_sim/requests", params={"api": api}).json())
