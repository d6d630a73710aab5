"""Youzan push verification: signed bodies are accepted, anything else is refused with a 4xx, an
outcome label and a reason; test messages are acknowledged without being stored."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from scrm.platforms.shops.adapter import PushRejected
from scrm.platforms.shops.registry import shop_platform
from scrm.platforms.shops.youzan.push import PUSH, dedupe_key
from scrm.platforms.shops.youzan.signing import event_sign

FIXTURES = Path(__file__).parent / "fixtures"
CLIENT_ID = "6cd25b3f99727975b5"
SECRET = "youzan-push-secret"
SECRETS = {"client_id": CLIENT_ID, "client_secret": SECRET, "kdt_id": "63077"}


def signed(body: bytes, **headers: str) -> dict[str, str]:
    return {
        "Content-Type": "application/json",
        "Event-Sign": event_sign(CLIENT_ID, body, SECRET),
        "Event-Type": "trade_TradePaid",
        "Client-Id": CLIENT_ID,
        **headers,
    }


def fixture_body(name: str, **changes: Any) -> bytes:
    message = json.loads((FIXTURES / f"{name}.json").read_text(encoding="utf-8"))
    message.update(changes)
    return json.dumps(message, ensure_ascii=False, separators=(",", ":")).encode()


def rejected(headers: dict[str, str], body: bytes) -> PushRejected:
    with pytest.raises(PushRejected) as raised:
        PUSH.verify(headers, body, SECRETS)
    assert 400 <= raised.value.status < 500 and raised.value.detail
    return raised.value


def test_signed_message_is_accepted_as_received() -> None:
    body = fixture_body("trade_TradePaid")
    (message,) = PUSH.verify(signed(body), body, SECRETS)
    assert message.dedupe_key == "7d3e5c1a-2b4f-4e6d-8a9c-1b2c3d4e5f60"
    assert message.raw == body.decode() and message.is_test is False
    mapped = PUSH.map_message(message.raw, shop_external_id="63077")
    assert mapped.orders[0].external_id == "E20240501120000012300001"


def test_header_names_are_case_insensitive() -> None:
    body = fixture_body("trade_TradeClose")
    headers = {"event-sign": event_sign(CLIENT_ID, body, SECRET).upper(), "CLIENT-ID": CLIENT_ID}
    assert len(PUSH.verify(headers, body, SECRETS)) == 1


def test_wrong_signature() -> None:
    body = fixture_body("trade_TradePaid")
    error = rejected(signed(body, **{"Event-Sign": "0" * 32}), body)
    assert (error.status, error.outcome) == (401, "bad_signature")
    assert rejected({"Client-Id": CLIENT_ID}, body).outcome == "bad_signature"
    # Signed with another app's secret.
    other = {**signed(body), "Event-Sign": event_sign(CLIENT_ID, body, "someone-else")}
    assert rejected(other, body).outcome == "bad_signature"


def test_wrong_client_id() -> None:
    body = fixture_body("trade_TradePaid")
    error = rejected(signed(body, **{"Client-Id": "another-client"}), body)
    assert (error.status, error.outcome) == (403, "wrong_client")
    foreign = fixture_body("trade_TradePaid", client_id="another-client")
    assert rejected(signed(foreign), foreign).outcome == "wrong_client"


@pytest.mark.parametrize("body", [b"{not json", b"[1,2]", b"\xff\xfe"])
def test_malformed_bodies(body: bytes) -> None:
    error = rejected(signed(body), body)
    assert (error.status, error.outcome) == (400, "malformed")


def test_another_shop() -> None:
    body = fixture_body("trade_TradePaid", kdt_id=99999)
    error = rejected(signed(body), body)
    assert (error.status, error.outcome) == (404, "unknown_shop")


def test_test_messages_are_marked() -> None:
    body = fixture_body("test_message")
    (message,) = PUSH.verify(signed(body), body, SECRETS)
    assert message.is_test is True and message.dedupe_key == "test-0001"


def test_dedupe_key_without_msg_id_is_stable() -> None:
    message = {"type": "trade_TradeClose", "id": "E1", "version": 1714539605}
    assert dedupe_key(message) == dedupe_key(dict(message)) != dedupe_key({**message, "version": 1})
    assert dedupe_key(message).startswith("sha256:")


def test_platform_entry_and_answers() -> None:
    entry = shop_platform("youzan")
    assert entry.platform == "youzan" and entry.push is PUSH and entry.build_channel is None
    assert b"success" in PUSH.success_body and b"success" not in PUSH.failure_body
    assert entry.map_message(fixture_body("trade_TradeSuccess").decode(), "63077").fetch_orders
