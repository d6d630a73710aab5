"""TOP request signing (platform-protocols.md §7.1). Pure; reproduces the official md5 vector.

String to sign: every request parameter except `sign` (and file parameters, which this adapter never
sends) whose value is not empty, sorted by name in ASCII order, concatenated as
`name1value1name2value2…`. Then, by `sign_method`:

- `md5`: UPPER(hex(md5(secret + str + secret)))
- `hmac`: UPPER(hex(hmac_md5(key=secret, str)))
- `hmac-sha256`: UPPER(hex(hmac_sha256(key=secret, str)))
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from typing import Any

SIGN_METHODS = ("md5", "hmac", "hmac-sha256")


def _text(value: Any) -> str:
    if isinstance(value, bool):  # TOP wants "true"/"false", Python would say "True"
        return "true" if value else "false"
    return str(value)


def string_to_sign(params: Mapping[str, Any]) -> str:
    """The concatenation TOP signs: non-empty params except `sign`, sorted by name."""
    parts = []
    for name in sorted(params):
        value = params[name]
        if name == "sign" or value is None or isinstance(value, bytes | bytearray):
            continue
        text = _text(value)
        if text == "":
            continue
        parts.append(name + text)
    return "".join(parts)


def sign(params: Mapping[str, Any], secret: str, sign_method: str) -> str:
    """The `sign` value for `params` (which carry their own `sign_method`; this one decides).

    Raises ValueError for a sign method TOP does not know.
    """
    text = string_to_sign(params).encode("utf-8")
    key = secret.encode("utf-8")
    if sign_method == "md5":
        return hashlib.md5(key + text + key).hexdigest().upper()
    if sign_method == "hmac":
        return hmac.new(key, text, hashlib.md5).hexdigest().upper()
    if sign_method == "hmac-sha256":
        return hmac.new(key, text, hashlib.sha256).hexdigest().upper()
    raise ValueError(f"unknown TOP sign_method {sign_method!r}")


def verify(params: Mapping[str, Any], secret: str) -> bool:
    """Whether `params["sign"]` is right for the request's own `sign_method` (md5 when absent, as
    TOP defaults). Constant-time comparison; an unknown method is simply not valid."""
    given = params.get("sign")
    if not isinstance(given, str) or not given:
        return False
    try:
        expected = sign(params, secret, str(params.get("sign_method") or "md5"))
    except ValueError:
        return False
    return hmac.compare_digest(expected, given.upper())
