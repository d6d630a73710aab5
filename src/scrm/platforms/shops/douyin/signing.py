"""Douyin shop (抖店) signatures (platform-protocols.md §8.1). Pure functions, no I/O.

API requests: `param_json` is the business parameters as JSON with keys sorted at every level, no
spaces, non-ASCII kept as UTF-8 (what the official Go SDK produces: sorted map keys, HTML escaping
off). The sign covers

    pattern = secret + "app_key" + app_key + "method" + method + "param_json" + param_json
                     + "timestamp" + timestamp + "v" + v + secret

as `hex(hmac_sha256(key=secret, pattern))` (sign_method=hmac-sha256, the default) or `md5(pattern)`
(sign_method=md5, being phased out). The timestamp is signed exactly as it is sent.

Pushes: `event-sign` = `md5(app_key + raw body bytes + app_secret)` in lower hex.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any, Literal

SignMethod = Literal["hmac-sha256", "md5"]


def param_json(params: Any) -> str:
    """The canonical `param_json` of `params`: keys sorted recursively, no spaces, UTF-8 kept."""
    return json.dumps(
        params if params is not None else {}, sort_keys=True, separators=(",", ":"), ensure_ascii=False
    )


def sign_pattern(
    app_key: str, app_secret: str, method: str, param_json_text: str, timestamp: str, v: str
) -> str:
    return (
        f"{app_secret}app_key{app_key}method{method}param_json{param_json_text}"
        f"timestamp{timestamp}v{v}{app_secret}"
    )


def api_sign(
    app_key: str,
    app_secret: str,
    method: str,
    param_json_text: str,
    timestamp: str,
    v: str = "2",
    sign_method: SignMethod = "hmac-sha256",
) -> str:
    """The `sign` query parameter of one API request (lower hex)."""
    pattern = sign_pattern(app_key, app_secret, method, param_json_text, timestamp, v).encode("utf-8")
    if sign_method == "md5":
        return hashlib.md5(pattern).hexdigest()
    return hmac.new(app_secret.encode("utf-8"), pattern, hashlib.sha256).hexdigest()


def event_sign(app_key: str, body: bytes, app_secret: str) -> str:
    """The `event-sign` header Douyin sends with a push body."""
    return hashlib.md5(app_key.encode("utf-8") + body + app_secret.encode("utf-8")).hexdigest()


def event_sign_matches(app_key: str, body: bytes, app_secret: str, received: str | None) -> bool:
    """Whether `received` (any case) is the event-sign of `body`; constant-time."""
    if not received:
        return False
    return hmac.compare_digest(event_sign(app_key, body, app_secret), received.strip().lower())
