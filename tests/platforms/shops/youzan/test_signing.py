"""Youzan push signatures against the published legacy example (platform-protocols.md §6.2).

The published legacy message carries `sign` 5c15274ca4c079197c89154f44b20307, but its
client_secret was never published, so that value cannot be reproduced (it also appears verbatim in
SDK tests next to a *different* msg, so it was copied, not computed). The expected values below are
therefore computed with hashlib, independently of the code under test, from the documented formulas.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from scrm.platforms.shops.youzan.signing import event_sign, event_sign_matches, legacy_sign

FIXTURES = Path(__file__).parent / "fixtures"
CLIENT_ID = "6cd25b3f99727975b5"
LEGACY_MSG = (
    "%7B%22update_time%22:%222017-08-07%2018:19:05%22,%22payment%22:%2211.00%22,"
    "%22tid%22:%22E20170807181905034500002%22,%22status%22:%22TRADE_CLOSED%22%7D"
)
SECRET = "8c2a1c1d9c6e4f2b8e0a7d6c5b4a3f2e"


def test_legacy_example_msg_is_the_fixture_msg() -> None:
    example = json.loads((FIXTURES / "TRADE_ORDER_STATE.json").read_text(encoding="utf-8"))
    assert example["msg"] == LEGACY_MSG
    assert example["sign"] == "5c15274ca4c079197c89154f44b20307"


def test_legacy_sign_is_md5_of_client_id_msg_secret() -> None:
    expected = hashlib.md5((CLIENT_ID + LEGACY_MSG + SECRET).encode("utf-8")).hexdigest()
    assert legacy_sign(CLIENT_ID, LEGACY_MSG, SECRET) == expected
    # The order of the three parts matters: secret first would be another value.
    assert (
        legacy_sign(CLIENT_ID, LEGACY_MSG, SECRET)
        != hashlib.md5((SECRET + LEGACY_MSG + CLIENT_ID).encode()).hexdigest()
    )


def test_event_sign_covers_the_raw_body_bytes() -> None:
    body = (FIXTURES / "TRADE_ORDER_STATE.json").read_bytes()
    expected = hashlib.md5(CLIENT_ID.encode() + body + SECRET.encode()).hexdigest()
    assert event_sign(CLIENT_ID, body, SECRET) == expected
    assert event_sign_matches(CLIENT_ID, body, SECRET, expected.upper())
    # One byte more (a re-serialised body) is another signature.
    assert not event_sign_matches(CLIENT_ID, body + b" ", SECRET, expected)
    assert not event_sign_matches(CLIENT_ID, body, SECRET, None)


def test_event_sign_of_utf8_body() -> None:
    body = '{"kdt_name":"Qi码运动馆"}'.encode()
    assert (
        event_sign(CLIENT_ID, body, SECRET)
        == hashlib.md5(CLIENT_ID.encode() + body + SECRET.encode()).hexdigest()
    )
