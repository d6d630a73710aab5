"""Hostile and broken callbacks: each gets a 4xx, and nothing is stored."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from scrm.core.metrics import REGISTRY
from scrm.core.outbox_models import OutboxEvent
from scrm.platforms.models import PlatformConnection
from scrm.platforms.wecom.crypto import WeComCrypto, generate_encoding_aes_key
from tests.conftest import Persona
from tests.platforms.wecom.conftest import CORP_ID, WeComSender, inbox_count, load_fixture

Factory = sessionmaker[Session]
ADD = load_fixture("add_external_contact__with_state")

XXE_FILE = '<?xml version="1.0"?><!DOCTYPE xml [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
BILLION_LAUGHS = (
    '<?xml version="1.0"?><!DOCTYPE xml [<!ENTITY lol "lol">'
    + "".join(
        f'<!ENTITY lol{i} "{("&lol" + str(i - 1) + ";") * 10 if i > 1 else "&lol;" * 10}">'
        for i in range(1, 10)
    )
    + "]>"
)


def signed(sender: WeComSender, encrypted: str, *, timestamp: int | None = None) -> dict[str, str]:
    ts = str(timestamp if timestamp is not None else int(time.time()))
    return {"msg_signature": sender.crypto.sign(ts, "77", encrypted), "timestamp": ts, "nonce": "77"}


def envelope(encrypted: str) -> bytes:
    return (
        f"<xml><ToUserName><![CDATA[{CORP_ID}]]></ToUserName><Encrypt><![CDATA[{encrypted}]]></Encrypt></xml>"
    ).encode()


def post_signed_plaintext(sender: WeComSender, plaintext: str) -> Any:
    encrypted = sender.crypto.encrypt(plaintext)
    return sender.post_raw(signed(sender, encrypted), envelope(encrypted))


def post_signed_ciphertext(sender: WeComSender, encrypted: str) -> Any:
    return sender.post_raw(signed(sender, encrypted), envelope(encrypted))


def forged_signature(sender: WeComSender) -> Any:
    params, body = sender.envelope(ADD)
    return sender.post_raw({**params, "msg_signature": "0123456789abcdef0123456789abcdef01234567"}, body)


def signed_with_another_token(sender: WeComSender) -> Any:
    other = WeComCrypto("AnotherToken", sender.encoding_aes_key, CORP_ID)
    encrypted = other.encrypt(ADD)
    ts = str(int(time.time()))
    return sender.post_raw(
        {"msg_signature": other.sign(ts, "1", encrypted), "timestamp": ts, "nonce": "1"}, envelope(encrypted)
    )


def wrong_receiveid(sender: WeComSender) -> Any:
    other = WeComCrypto(sender.token, sender.encoding_aes_key, "wwsomeoneelse")
    return post_signed_ciphertext(sender, other.encrypt(ADD))


def another_aes_key(sender: WeComSender) -> Any:
    other = WeComCrypto(sender.token, generate_encoding_aes_key(), CORP_ID)
    return post_signed_ciphertext(sender, other.encrypt(ADD))


def stale(sender: WeComSender) -> Any:
    return sender.post(ADD, timestamp=int(time.time()) - 301)


def from_the_future(sender: WeComSender) -> Any:
    return sender.post(ADD, timestamp=int(time.time()) + 400)


def missing(name: str) -> Callable[[WeComSender], Any]:
    def post(sender: WeComSender) -> Any:
        params, body = sender.envelope(ADD)
        del params[name]
        return sender.post_raw(params, body)

    return post


def xxe_in_envelope(sender: WeComSender) -> Any:
    params, _ = sender.envelope(ADD)
    return sender.post_raw(params, (XXE_FILE + "<xml><Encrypt>&xxe;</Encrypt></xml>").encode())


def laughs_in_envelope(sender: WeComSender) -> Any:
    params, _ = sender.envelope(ADD)
    return sender.post_raw(params, (BILLION_LAUGHS + "<xml><Encrypt>&lol9;</Encrypt></xml>").encode())


def non_ascii_signature(sender: WeComSender) -> Any:
    params, body = sender.envelope(ADD)
    return sender.post_raw({**params, "msg_signature": "签名" * 20}, body)


CASES: dict[str, tuple[int, Callable[[WeComSender], Any]]] = {
    "forged signature": (401, forged_signature),
    "signed with another token": (401, signed_with_another_token),
    "non-ASCII signature": (401, non_ascii_signature),
    "timestamp 301 s old": (401, stale),
    "timestamp 400 s ahead": (401, from_the_future),
    "no msg_signature": (400, missing("msg_signature")),
    "no timestamp": (400, missing("timestamp")),
    "no nonce": (400, missing("nonce")),
    "timestamp not a number": (
        400,
        lambda s: s.post_raw({**s.envelope(ADD)[0], "timestamp": "yesterday"}, s.envelope(ADD)[1]),
    ),
    "receiveid of another corp": (400, wrong_receiveid),
    "encrypted with another key": (400, another_aes_key),
    "ciphertext not base64": (400, lambda s: post_signed_ciphertext(s, "not*base64!!")),
    "ciphertext not whole blocks": (400, lambda s: post_signed_ciphertext(s, "QUJD")),
    "empty body": (400, lambda s: s.post_raw(s.envelope(ADD)[0], b"")),
    "envelope not XML": (400, lambda s: s.post_raw(s.envelope(ADD)[0], b'{"Encrypt": 1}')),
    "envelope truncated": (400, lambda s: s.post_raw(s.envelope(ADD)[0], s.envelope(ADD)[1][:-10])),
    "envelope without Encrypt": (400, lambda s: s.post_raw(s.envelope(ADD)[0], b"<xml><A>1</A></xml>")),
    "XXE in the envelope": (400, xxe_in_envelope),
    "entity expansion in the envelope": (400, laughs_in_envelope),
    "plaintext not XML": (400, lambda s: post_signed_plaintext(s, "hello")),
    "plaintext without CreateTime": (
        400,
        lambda s: post_signed_plaintext(s, "<xml><MsgType>event</MsgType><Event>x</Event></xml>"),
    ),
    "XXE in the plaintext": (
        400,
        lambda s: post_signed_plaintext(
            s,
            XXE_FILE + "<xml><CreateTime>1</CreateTime><MsgType>event</MsgType><UserID>&xxe;</UserID></xml>",
        ),
    ),
    "entity expansion in the plaintext": (
        400,
        lambda s: post_signed_plaintext(
            s,
            BILLION_LAUGHS
            + "<xml><CreateTime>1</CreateTime><MsgType>text</MsgType><Content>&lol9;</Content></xml>",
        ),
    ),
    "body over 1 MiB": (
        413,
        lambda s: s.post_raw(s.envelope(ADD)[0], b"<xml>" + b"A" * (1024 * 1024) + b"</xml>"),
    ),
    "chunked body over 1 MiB": (
        413,
        lambda s: s.client.post(
            s.url,
            params=s.envelope(ADD)[0],
            content=iter([b"<xml>", b"A" * (700 * 1024), b"A" * (700 * 1024)]),
        ),
    ),
    "unknown connection": (
        404,
        lambda s: s.client.post("/hooks/wecom/999999", params=s.envelope(ADD)[0], content=s.envelope(ADD)[1]),
    ),
    "connection id not a number": (
        404,
        lambda s: s.client.post("/hooks/wecom/abc", params=s.envelope(ADD)[0], content=s.envelope(ADD)[1]),
    ),
    "connection id past 64 bits": (
        404,
        lambda s: s.client.post(
            "/hooks/wecom/" + "9" * 30, params=s.envelope(ADD)[0], content=s.envelope(ADD)[1]
        ),
    ),
}


def outbox_count(factory: Factory) -> int:
    with factory() as session:
        return session.scalar(select(func.count()).select_from(OutboxEvent)) or 0


@pytest.mark.parametrize("case", sorted(CASES))
def test_hostile_callbacks_get_a_4xx_and_store_nothing(
    case: str, sender: WeComSender, committing_factory: Factory
) -> None:
    status, attack = CASES[case]
    outbox_before = outbox_count(committing_factory)  # connecting the corp published its activation
    response = attack(sender)
    assert response.status_code == status, response.text
    assert inbox_count(committing_factory) == 0
    assert outbox_count(committing_factory) == outbox_before
    # The receiver still works afterwards.
    assert sender.post(ADD).status_code == 200
    assert inbox_count(committing_factory) == 1


def test_rejections_are_counted_by_reason(sender: WeComSender) -> None:
    def rejected() -> float:
        return (
            REGISTRY.get_sample_value(
                "scrm_wecom_callbacks_total", {"kind": "event", "outcome": "bad_signature"}
            )
            or 0
        )

    before = rejected()
    assert forged_signature(sender).status_code == 401
    assert rejected() == before + 1


def test_a_disabled_connection_refuses_callbacks(
    sender: WeComSender, owner: Persona, committing_factory: Factory
) -> None:
    assert sender.post(ADD).status_code == 200  # cached as active first
    response = sender.client.delete(
        f"/api/v1/platforms/connections/{sender.connection_id}", headers=owner.headers
    )
    assert response.status_code == 200
    other = ADD.replace("WELCOMECODE", "WELCOMECODE-2")
    assert sender.post(other).status_code == 403  # the change invalidated the cached connection
    assert inbox_count(committing_factory) == 1
    response = sender.client.patch(
        f"/api/v1/platforms/connections/{sender.connection_id}",
        json={"status": "active"},
        headers=owner.headers,
    )
    assert response.status_code == 200
    assert sender.post(other).status_code == 200
    assert inbox_count(committing_factory) == 2


def test_rotated_callback_credentials_take_effect_at_once(
    sender: WeComSender, owner: Persona, committing_factory: Factory
) -> None:
    assert sender.post(ADD).status_code == 200
    response = sender.client.patch(
        f"/api/v1/platforms/connections/{sender.connection_id}",
        json={"rotate_callback_credentials": True},
        headers=owner.headers,
    )
    assert response.status_code == 200
    rotated = response.json()
    other = ADD.replace("WELCOMECODE", "WELCOMECODE-3")
    assert sender.post(other).status_code == 401  # the old token no longer signs
    sender.token, sender.encoding_aes_key = rotated["token"], rotated["encoding_aes_key"]
    assert sender.post(other).status_code == 200


def test_a_connection_of_another_platform_is_not_a_wecom_callback_target(
    sender: WeComSender, owner: Persona, committing_factory: Factory
) -> None:
    with committing_factory.begin() as session:
        shop = PlatformConnection(tenant_id=owner.tenant_id, platform="youzan", name="shop", config={})
        session.add(shop)
        session.flush()
        shop_id = shop.id
    params, body = sender.envelope(ADD)
    response = sender.client.post(f"/hooks/wecom/{shop_id}", params=params, content=body)
    assert response.status_code == 404
    assert inbox_count(committing_factory) == 0


def test_url_verification_rejects_broken_requests(sender: WeComSender) -> None:
    echostr = sender.crypto.encrypt("123")
    ts = str(int(time.time()))
    good = {
        "msg_signature": sender.crypto.sign(ts, "1", echostr),
        "timestamp": ts,
        "nonce": "1",
        "echostr": echostr,
    }
    assert sender.client.get(sender.url, params=good).status_code == 200
    assert sender.client.get(sender.url, params={**good, "echostr": ""}).status_code == 400
    assert (
        sender.client.get(sender.url, params={k: v for k, v in good.items() if k != "nonce"}).status_code
        == 400
    )
    assert sender.client.get("/hooks/wecom/424242", params=good).status_code == 404
    garbage = "%%%notbase64"
    bad = {**good, "echostr": garbage, "msg_signature": sender.crypto.sign(ts, "1", garbage)}
    assert sender.client.get(sender.url, params=bad).status_code == 400


@pytest.fixture
def no_raise_client(app: Any) -> Iterator[Any]:
    from fastapi.testclient import TestClient

    with TestClient(app, raise_server_exceptions=False) as client:
        yield client


def test_unexpected_shapes_never_answer_500(sender: WeComSender, no_raise_client: Any) -> None:
    params, body = sender.envelope(ADD)
    url = sender.url
    for attempt in (
        lambda: no_raise_client.post(url, params={**params, "timestamp": "9" * 40}, content=body),
        lambda: no_raise_client.post(url, params={**params, "nonce": "n" * 10_000}, content=body),
        lambda: no_raise_client.post(url, params=params, content=b"\xff\xfe\x00<\x00x"),
        lambda: no_raise_client.post(
            url, params=params, content=b'<?xml version="1.0" encoding="klingon"?><xml/>'
        ),
        lambda: no_raise_client.post(
            url, params=params, content=b"<xml><Encrypt>" + b"A" * 1000 + b"</Encrypt></xml>"
        ),
        lambda: no_raise_client.put(url, params=params, content=body),
    ):
        response = attempt()
        assert 400 <= response.status_code < 500, response.text
