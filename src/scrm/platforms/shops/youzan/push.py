"""Youzan push verification (platform-protocols.md §6.2): what the webhook endpoint calls first.

A push is one JSON message. It is accepted when the `Client-Id` header is our client_id, the
`Event-Sign` header is `md5(client_id + raw body + client_secret)`, the body is a JSON object, and
(test messages aside) its `kdt_id` is this connection's shop. Youzan re-pushes anything not answered
with HTTP 200 and a body containing "success", so refusals answer 4xx with `failure_body`.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

from scrm.platforms.shops.adapter import MappedMessage, PushMessage, PushRejected
from scrm.platforms.shops.youzan.messages import map_message
from scrm.platforms.shops.youzan.signing import event_sign_matches
from scrm.platforms.shops.youzan.values import text


def dedupe_key(message: Mapping[str, Any]) -> str:
    """`msg_id` (a UUID per message, kept across re-pushes); without one, a hash of what
    identifies the event (type, business id, version)."""
    msg_id = text(message.get("msg_id"))
    if msg_id:
        return msg_id
    basis = f"{message.get('type')}|{message.get('id')}|{message.get('version')}"
    return "sha256:" + hashlib.sha256(basis.encode("utf-8")).hexdigest()


class YouzanPush:
    platform = "youzan"
    success_body = b'{"code":0,"msg":"success"}'
    failure_body = b'{"code":-1,"msg":"failed"}'

    def verify(
        self, headers: Mapping[str, str], body: bytes, secrets: Mapping[str, Any]
    ) -> list[PushMessage]:
        """The one message in `body`, or PushRejected. `secrets` is the connection config
        (client_id, client_secret, kdt_id). Header names are case-insensitive."""
        lowered = {str(name).lower(): str(value) for name, value in headers.items()}
        client_id = str(secrets.get("client_id") or "")
        client_secret = str(secrets.get("client_secret") or "")
        if not client_id or not client_secret:
            raise PushRejected(404, "unknown_connection", "connection has no client_id/client_secret")
        if lowered.get("client-id", "").strip() != client_id:
            raise PushRejected(403, "wrong_client", "Client-Id header is not this connection's client_id")
        if not event_sign_matches(client_id, body, client_secret, lowered.get("event-sign")):
            raise PushRejected(401, "bad_signature", "Event-Sign does not match the body")
        try:
            message = json.loads(body)
        except ValueError:
            raise PushRejected(400, "malformed", "body is not JSON") from None
        if not isinstance(message, dict):
            raise PushRejected(400, "malformed", "body is not a JSON object")
        if "client_id" in message and str(message["client_id"]) != client_id:
            raise PushRejected(403, "wrong_client", "body client_id is not this connection's client_id")
        is_test = message.get("test") is True
        # Console test messages are acknowledged whatever shop they name; real ones must be ours.
        if not is_test and str(message.get("kdt_id", "")).strip() != str(secrets.get("kdt_id", "")).strip():
            raise PushRejected(404, "unknown_shop", f"kdt_id {message.get('kdt_id')!r} is not this shop")
        return [PushMessage(dedupe_key=dedupe_key(message), raw=body.decode("utf-8"), is_test=is_test)]

    def map_message(self, raw: str, *, shop_external_id: str) -> MappedMessage:
        return map_message(raw, shop_external_id)


PUSH = YouzanPush()
