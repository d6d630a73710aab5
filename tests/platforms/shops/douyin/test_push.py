"""Douyin shop push verification: signed batches become one message per element; anything else is
refused with a 4xx, an outcome label and a reason; the verification message is marked as a test."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from scrm.platforms.shops.adapter import PushRejected
from scrm.platforms.shops.douyin.push import PUSH, dedupe_key
from scrm.platforms.shops.douyin.signing import event_sign
from scrm.platforms.shops.registry import shop_platform

FIXTURES = Path(__file__).parent / "fixtures"
APP_KEY = "7012345678901234567"
SECRET = "douyin-push-secret"
SECRETS = {"app_key": APP_KEY, "app_secret": SECRET, "shop_id": "4463798"}


def element(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((FIXTURES / f"{name}.json").read_text(encoding="utf-8"))
    return loaded


def batch(*elements: Any) -> bytes:
    return json.dumps(list(elements), ensure_ascii=False, separators=(",", ":")).encode()


def signed(body: bytes, **headers: str) -> dict[str, str]:
    return {
        "Content-Type": "application/json",
        "app-id": APP_KEY,
        "event-sign": event_sign(APP_KEY, body, SECRET),
        **headers,
    }


def rejected(headers: dict[str, str], body: bytes) -> PushRejected:
    with pytest.raises(PushRejected) as raised:
        PUSH.verify(headers, body, SECRETS)
    assert 400 <= raised.value.status < 500 and raised.value.detail
    return raised.value


def test_a_batch_becomes_one_message_per_element() -> None:
    body = batch(element("tag_101"), element("tag_206"))
    first, second = PUSH.verify(signed(body), body, SECRETS)
    assert (first.dedupe_key, second.dedupe_key) == ("7201234567890000101", "7201234567890000206")
    assert json.loads(first.raw) == element("tag_101") and not first.is_test
    assert PUSH.map_message(second.raw, shop_external_id="4463798").refunds[0].amount_fen == 15900


def test_header_names_are_case_insensitive() -> None:
    body = batch(element("tag_100"))
    headers = {"App-Id": APP_KEY, "Event-Sign": event_sign(APP_KEY, body, SECRET).upper()}
    assert len(PUSH.verify(headers, body, SECRETS)) == 1


def test_wrong_signature() -> None:
    body = batch(element("tag_100"))
    error = rejected(signed(body, **{"event-sign": "f" * 32}), body)
    assert (error.status, error.outcome) == (401, "bad_signature")
    assert rejected({"app-id": APP_KEY}, body).outcome == "bad_signature"


def test_wrong_app_id() -> None:
    body = batch(element("tag_100"))
    error = rejected(signed(body, **{"app-id": "7000000000000000000"}), body)
    assert (error.status, error.outcome) == (403, "wrong_app")


@pytest.mark.parametrize(
    "body",
    [
        b"not json",
        b"{}",
        b"[]",
        b'["text"]',
        b'[{"msg_id":"1","data":"{}"}]',
        b'[{"tag":"101","msg_id":"1","data":"{broken"}]',
    ],
)
def test_malformed_bodies(body: bytes) -> None:
    error = rejected(signed(body), body)
    assert (error.status, error.outcome) == (400, "malformed")


def test_another_shop_refuses_the_whole_batch() -> None:
    foreign = element("tag_101")
    foreign["data"] = json.dumps({**json.loads(foreign["data"]), "shop_id": 1})
    body = batch(element("tag_100"), foreign)
    error = rejected(signed(body), body)
    assert (error.status, error.outcome) == (404, "unknown_shop")


def test_verification_message_is_a_test() -> None:
    body = batch(element("tag_0"))
    (message,) = PUSH.verify(signed(body), body, SECRETS)
    assert message.is_test is True


def test_dedupe_key_without_msg_id() -> None:
    item = {"tag": "101", "data": '{"p_id":1}'}
    assert dedupe_key(item) == dedupe_key(dict(item)) != dedupe_key({**item, "tag": "102"})


def test_platform_entry_and_answers() -> None:
    entry = shop_platform("douyin")
    assert entry.platform == "douyin" and entry.push is PUSH and entry.build_channel is None
    assert json.loads(PUSH.success_body)["code"] == 0 and json.loads(PUSH.failure_body)["code"] != 0
