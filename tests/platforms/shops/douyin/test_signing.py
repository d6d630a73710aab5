"""Douyin shop signatures. platform-protocols.md §8.1 publishes no test vector, and none was found in
public SDK code, so the expected values here come from a second, independent implementation written
in this file: its own canonical JSON writer and HMAC-SHA256 built from SHA-256 (RFC 2104), checked
against the formulas in the notes and the official Go SDK's `Sign` (pattern `secret + "app_key" + k
+ "method" + m + "param_json" + pj + "timestamp" + ts + "v" + v + secret`)."""

from __future__ import annotations

import hashlib
from typing import Any

import pytest

from scrm.platforms.shops.douyin.signing import api_sign, event_sign, event_sign_matches, param_json

APP_KEY = "7012345678901234567"
APP_SECRET = "3a9f4c0e-5d2b-4c1a-9e8f-7b6a5c4d3e2f"
METHOD = "order.searchList"
TIMESTAMP = "1714536000"
PARAMS: dict[str, Any] = {
    "update_time_start": 1714449600,
    "update_time_end": 1714536000,
    "page": 0,
    "size": 100,
    "order_by": "update_time",
    "combine_status": [{"order_status": "2,3", "main_status": ""}],
    "product": "口红 <礼盒> & 小样",
}


def canonical(value: Any) -> str:
    """An independent writer of the canonical param_json: sorted keys, no spaces, UTF-8 kept."""
    if isinstance(value, dict):
        return "{" + ",".join(f"{canonical(str(key))}:{canonical(value[key])}" for key in sorted(value)) + "}"
    if isinstance(value, list):
        return "[" + ",".join(canonical(item) for item in value) + "]"
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, int):
        return str(value)
    escaped = str(value).replace("\\", "\\\\").replace('"', '\\"')
    return f'"{escaped}"'


def hmac_sha256(key: bytes, message: bytes) -> str:
    """RFC 2104 HMAC over SHA-256, without the hmac module."""
    block = 64
    if len(key) > block:
        key = hashlib.sha256(key).digest()
    key = key.ljust(block, b"\x00")
    inner = hashlib.sha256(bytes(byte ^ 0x36 for byte in key) + message).digest()
    return hashlib.sha256(bytes(byte ^ 0x5C for byte in key) + inner).hexdigest()


def pattern(pj: str, *, v: str = "2") -> bytes:
    return (
        APP_SECRET
        + "app_key"
        + APP_KEY
        + "method"
        + METHOD
        + "param_json"
        + pj
        + "timestamp"
        + TIMESTAMP
        + "v"
        + v
        + APP_SECRET
    ).encode("utf-8")


def test_param_json_is_sorted_compact_utf8() -> None:
    text = param_json(PARAMS)
    assert text == canonical(PARAMS)
    assert text.startswith('{"combine_status":[{"main_status":"","order_status":"2,3"}],"order_by"')
    assert "口红 <礼盒> & 小样" in text  # neither \\u escapes nor HTML escapes
    assert " " not in text.replace("口红 <礼盒> & 小样", "")
    assert param_json(None) == param_json({}) == "{}"


def test_hmac_sha256_sign_matches_the_independent_implementation() -> None:
    pj = canonical(PARAMS)
    expected = hmac_sha256(APP_SECRET.encode(), pattern(pj))
    assert api_sign(APP_KEY, APP_SECRET, METHOD, pj, TIMESTAMP) == expected
    assert api_sign(APP_KEY, APP_SECRET, METHOD, pj, TIMESTAMP, "2", "hmac-sha256") == expected
    assert expected == expected.lower() and len(expected) == 64


def test_md5_variant() -> None:
    pj = canonical(PARAMS)
    assert (
        api_sign(APP_KEY, APP_SECRET, METHOD, pj, TIMESTAMP, "2", "md5")
        == hashlib.md5(pattern(pj)).hexdigest()
    )


@pytest.mark.parametrize(
    "change",
    [
        {"timestamp": "1714536001"},
        {"method": "order.orderDetail"},
        {"param_json_text": '{"page":1}'},
        {"v": "1"},
        {"app_secret": "other"},
    ],
)
def test_every_signed_part_matters(change: dict[str, str]) -> None:
    arguments = {
        "app_key": APP_KEY,
        "app_secret": APP_SECRET,
        "method": METHOD,
        "param_json_text": canonical(PARAMS),
        "timestamp": TIMESTAMP,
        "v": "2",
    }
    assert api_sign(**{**arguments, **change}) != api_sign(**arguments)


def test_token_create_sign_of_date_time_timestamp() -> None:
    # The date-time form is signed exactly as sent.
    pj = canonical({"code": "", "grant_type": "authorization_self", "shop_id": 4463798})
    stamp = "2024-05-01 12:00:00"
    raw = f"{APP_SECRET}app_key{APP_KEY}methodtoken.createparam_json{pj}timestamp{stamp}v2{APP_SECRET}"
    assert api_sign(APP_KEY, APP_SECRET, "token.create", pj, stamp) == hmac_sha256(
        APP_SECRET.encode(), raw.encode()
    )


def test_push_event_sign() -> None:
    body = (
        b'[{"tag":"101","msg_id":"7201234567890000101",' + b'"data":"{\\"p_id\\":1,\\"shop_id\\":4463798}"}]'
    )
    expected = hashlib.md5(APP_KEY.encode() + body + APP_SECRET.encode()).hexdigest()
    assert event_sign(APP_KEY, body, APP_SECRET) == expected
    assert event_sign_matches(APP_KEY, body, APP_SECRET, expected.upper())
    assert not event_sign_matches(APP_KEY, body[:-1], APP_SECRET, expected)
    assert not event_sign_matches(APP_KEY, body, APP_SECRET, "")
