"""Youzan push signatures (platform-protocols.md §6.2). Pure functions, no I/O.

- `event_sign`: the `Event-Sign` header, `md5(client_id + raw body bytes + client_secret)` in lower
  hex. It covers the exact bytes received, so it is checked before the body is parsed.
- `legacy_sign`: the body's `sign` field of older messages, `md5(client_id + msg + client_secret)`
  where `msg` is the URL-encoded string as it appears in the body. Youzan's docs now say to use
  Event-Sign; we only produce it (the simulator fills it in, as Youzan still does).
"""

from __future__ import annotations

import hashlib
import hmac


def event_sign(client_id: str, body: bytes, client_secret: str) -> str:
    """The `Event-Sign` header Youzan sends with `body`."""
    return hashlib.md5(client_id.encode("utf-8") + body + client_secret.encode("utf-8")).hexdigest()


def legacy_sign(client_id: str, msg: str, client_secret: str) -> str:
    """The legacy in-body `sign` of a message whose `msg` field is the string `msg`."""
    return hashlib.md5(f"{client_id}{msg}{client_secret}".encode()).hexdigest()


def event_sign_matches(client_id: str, body: bytes, client_secret: str, received: str | None) -> bool:
    """Whether `received` (any case) is the Event-Sign of `body`; constant-time."""
    if not received:
        return False
    expected = event_sign(client_id, body, client_secret)
    return hmac.compare_digest(expected, received.strip().lower())
