"""The TMC message channel, polled through its documented API instead of the SDK's WebSocket
(platform-protocols.md §7.4): `taobao.tmc.messages.consume(quantity, group_name)` hands out pending
messages, `taobao.tmc.messages.confirm(s_message_ids)` removes them; a message not confirmed is
handed out again later. Before the first consume the seller is permitted once
(`taobao.tmc.user.permit` without `topics`: every topic the app subscribes to).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import httpx

from scrm.platforms.shops.taobao.client import TopApi, listed
from scrm.platforms.shops.transport import ShopTransport

#: TOP's bounds for one consume, and how many ids one confirm carries.
MAX_QUANTITY = 200
CONFIRM_BATCH = 200


class TmcChannel:
    """`MessageChannel` over one app's TMC group (`tmc_group` in the config, "default" by default)."""

    def __init__(self, api: TopApi, group_name: str = "default") -> None:
        self.api = api
        self.group_name = group_name
        self._permitted = False

    def permit(self) -> None:
        """Authorize this seller's messages for the app (idempotent on TOP's side)."""
        self.api.call("taobao.tmc.user.permit", {})
        self._permitted = True

    def consume(self, quantity: int) -> list[tuple[str, str]]:
        """Up to `quantity` (1..200) messages as (id, the message's JSON as TOP gave it)."""
        if not self._permitted:
            self.permit()
        data = self.api.call(
            "taobao.tmc.messages.consume",
            {"quantity": max(1, min(quantity, MAX_QUANTITY)), "group_name": self.group_name},
            session=False,
        )
        return [
            (str(message.get("id")), json.dumps(message, ensure_ascii=False, separators=(",", ":")))
            for message in listed(data.get("messages"), "tmc_message")
        ]

    def confirm(self, message_ids: list[str]) -> None:
        for offset in range(0, len(message_ids), CONFIRM_BATCH):
            batch = message_ids[offset : offset + CONFIRM_BATCH]
            self.api.call(
                "taobao.tmc.messages.confirm",
                {"group_name": self.group_name, "s_message_ids": ",".join(batch)},
                session=False,
            )


def build_channel(config: Mapping[str, Any], transport: ShopTransport, http: httpx.Client) -> TmcChannel:
    return TmcChannel(TopApi(config, transport, http), str(config.get("tmc_group") or "default"))
