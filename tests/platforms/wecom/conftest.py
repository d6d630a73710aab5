"""Fixtures of the WeCom callback tests: a WeCom connection made through the API, a sender that
encrypts and signs like WeCom, recorded payloads, and a way to run the worker once."""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from scrm.core.events import Delivery, HandlerRegistry
from scrm.core.leases import RetryPolicy
from scrm.core.outbox import run_outbox_batch
from scrm.core.outbox_models import InboundMessage, OutboxEvent
from scrm.platforms.canonical import WECOM_EVENT_TYPES
from scrm.platforms.wecom.crypto import WeComCrypto, generate_encoding_aes_key
from tests.conftest import Persona

FIXTURES = Path(__file__).parent / "fixtures"
CORP_ID = "wwcorp0000000001"
RECORDER = "tests.record_canonical"


def load_fixture(name: str) -> str:
    return (FIXTURES / f"{name}.xml").read_text(encoding="utf-8")


def fixture_names() -> list[str]:
    return sorted(path.stem for path in FIXTURES.glob("*.xml"))


@dataclass
class WeComSender:
    """Encrypts, signs and posts callbacks the way WeCom does."""

    client: TestClient
    connection_id: int
    token: str
    encoding_aes_key: str
    corp_id: str = CORP_ID

    @property
    def url(self) -> str:
        return f"/hooks/wecom/{self.connection_id}"

    @property
    def crypto(self) -> WeComCrypto:
        return WeComCrypto(self.token, self.encoding_aes_key, self.corp_id)

    def envelope(
        self, plaintext: str, *, timestamp: int | None = None, nonce: str | None = None
    ) -> tuple[dict[str, str], bytes]:
        """(query params, body) of one delivery; each call encrypts afresh, like a WeCom retry."""
        encrypted = self.crypto.encrypt(plaintext)
        timestamp_text = str(timestamp if timestamp is not None else int(time.time()))
        nonce = nonce or str(secrets.randbelow(10**10))
        params = {
            "msg_signature": self.crypto.sign(timestamp_text, nonce, encrypted),
            "timestamp": timestamp_text,
            "nonce": nonce,
        }
        body = (
            f"<xml><ToUserName><![CDATA[{self.corp_id}]]></ToUserName>"
            f"<AgentID><![CDATA[]]></AgentID><Encrypt><![CDATA[{encrypted}]]></Encrypt></xml>"
        ).encode()
        return params, body

    def post(self, plaintext: str, **kwargs: Any) -> Any:
        params, body = self.envelope(plaintext, **kwargs)
        return self.client.post(self.url, params=params, content=body, headers={"Content-Type": "text/xml"})

    def post_raw(self, params: dict[str, str], body: bytes) -> Any:
        return self.client.post(self.url, params=params, content=body, headers={"Content-Type": "text/xml"})


def create_wecom_connection(client: TestClient, persona: Persona, **config: Any) -> dict[str, Any]:
    body = {
        "platform": "wecom",
        "name": "Brand A corp",
        "config": {"corp_id": CORP_ID, "contact_secret": "contact-secret-value-123", **config},
    }
    response = client.post("/api/v1/platforms/connections", json=body, headers=persona.headers)
    assert response.status_code == 201, response.text
    data: dict[str, Any] = response.json()
    return data


@pytest.fixture
def recording_registry(app: Any) -> HandlerRegistry:
    """The app's registry plus a no-op handler on every canonical WeCom event, so publishing them
    writes outbox rows the tests can read."""
    registry: HandlerRegistry = app.state.registry

    def record(session: Session, delivery: Delivery) -> None:
        return None

    for event_class in WECOM_EVENT_TYPES:
        registry.on(event_class, RECORDER, record)
    return registry


@pytest.fixture
def sender(client: TestClient, owner: Persona, recording_registry: HandlerRegistry) -> WeComSender:
    key = generate_encoding_aes_key()
    connection = create_wecom_connection(client, owner, token="Tok3nForTests", encoding_aes_key=key)
    return WeComSender(client, connection["id"], "Tok3nForTests", key)


def run_worker(factory: sessionmaker[Session], registry: HandlerRegistry) -> int:
    """Run outbox batches until none is due; returns how many rows ran."""
    total = 0
    while True:
        results = run_outbox_batch(
            factory,
            registry,
            worker_id="test-worker",
            batch_size=100,
            lease_seconds=60,
            policy=RetryPolicy(max_attempts=3),
        )
        if not results:
            return total
        total += len(results)


def inbox_count(factory: sessionmaker[Session]) -> int:
    with factory() as session:
        return session.scalar(select(func.count()).select_from(InboundMessage)) or 0


def canonical_events(factory: sessionmaker[Session]) -> list[OutboxEvent]:
    """Canonical WeCom events published so far (one recorder row per event)."""
    with factory() as session:
        return list(
            session.scalars(
                select(OutboxEvent).where(OutboxEvent.handler == RECORDER).order_by(OutboxEvent.id)
            )
        )
