"""Taobao/Tmall (淘宝/天猫) through TOP: signed router calls, increment pulls paged backwards, and TMC
messages consumed through the poll API. See README.md in this package."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import httpx

from scrm.platforms.shops.adapter import ShopPlatform
from scrm.platforms.shops.taobao.channel import TmcChannel, build_channel
from scrm.platforms.shops.taobao.client import TaobaoClient
from scrm.platforms.shops.taobao.tmc import map_message
from scrm.platforms.shops.transport import ShopTransport


def build_client(config: Mapping[str, Any], transport: ShopTransport, http: httpx.Client) -> TaobaoClient:
    return TaobaoClient(config, transport, http)


PLATFORM = ShopPlatform(
    platform="taobao",
    build_client=build_client,
    map_message=map_message,
    push=None,
    build_channel=build_channel,
)

__all__ = ["PLATFORM", "TaobaoClient", "TmcChannel", "build_channel", "build_client", "map_message"]
