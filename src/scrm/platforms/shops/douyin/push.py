"""Douyin shop push verification (platform-protocols.md §8.1).

A push is a JSON array of `{"tag", "msg_id", "data"}` elements (`data` a JSON string). It is
accepted when the `app-id` header is our app_key, the `event-sign` header is
`md5(app_key + raw body + app_secret)`, every element is well formed, and every element other than
the console's verification message (tag "0") names this connection's `shop_id`. Each element becomes
one stored message; anything refused answers 4xx and Douyin pushes it again.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

from scrm.platforms.shops.adapter import MappedMessage, PushMessage, PushRejected
from scrm.platforms.shops.douyin.mapping import MappingError, text
from scrm.platforms.shops.douyin.messages import TEST_TAG, decode_data, map_message
from scrm.platforms.shops.douyin.signing import event_sign_matches


def dedupe_key(element: Mapping[str, Any]) -> str:
    """`msg_id`; without one, a hash of the tag and the data (identical re-pushes collapse)."""
    msg_id = text(element.get("msg_id"))
    if msg_id:
        return msg_id
    basis = f"{element.get('tag')}|{element.get('data')}"
    return "sha256:" + hashlib.sha256(basis.encode("utf-8")).hexdigest()


class DouyinPush:
    platform = "douyin"
    success_body = b'{"code":0,"msg":"success"}'
    failure_body = b'{"code":-1,"msg":"failed"}'

    def verify(
        self, headers: Mapping[str, str], body: bytes, secrets: Mapping[str, Any]
    ) -> list[PushMessage]:
        """One PushMessage per element of the batch, or PushRejected for the whole request.
        `secrets` is the connection config (app_key, app_secret, shop_id)."""
        lowered = {str(name).lower(): str(value) for name, value in headers.items()}
        app_key = str(secrets.get("app_key") or "")
        app_secret = str(secrets.get("app_secret") or "")
        if not app_key or not app_secret:
            raise PushRejected(404, "unknown_connection", "connection has no app_key/app_secret")
        if lowered.get("app-id", "").strip() != app_key:
            raise PushRejected(403, "wrong_app", "app-id header is not this connection's app_key")
        if not event_sign_matches(app_key, body, app_secret, lowered.get("event-sign")):
            raise PushRejected(401, "bad_signature", "event-sign does not match the body")
        try:
            elements = json.loads(body)
        except ValueError:
            raise PushRejected(400, "malformed", "body is not JSON") from None
        if not isinstance(elements, list) or not elements:
            raise PushRejected(400, "malformed", "body is not a non-empty JSON array")
        shop_id = str(secrets.get("shop_id", "")).strip()
        messages = []
        for element in elements:
            if not isinstance(element, dict) or "tag" not in element:
                raise PushRejected(400, "malformed", "an element is not an object with a tag")
            is_test = str(element["tag"]).strip() == TEST_TAG
            if not is_test:
                try:
                    data = decode_data(element.get("data"))
                except MappingError as error:
                    raise PushRejected(400, "malformed", f"tag {element['tag']}: {error}") from None
                if str(data.get("shop_id", "")).strip() != shop_id:
                    raise PushRejected(
                        404, "unknown_shop", f"shop_id {data.get('shop_id')!r} is not this shop"
                    )
            raw = json.dumps(element, ensure_ascii=False, separators=(",", ":"))
            messages.append(PushMessage(dedupe_key=dedupe_key(element), raw=raw, is_test=is_test))
        return messages

    def map_message(self, raw: str, *, shop_external_id: str) -> MappedMessage:
        return map_message(raw, shop_external_id)


PUSH = DouyinPush()
