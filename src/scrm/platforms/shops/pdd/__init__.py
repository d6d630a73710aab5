"""Pinduoduo (拼多多) malls: API and PMC signing, the pull client, the PMC channel (polled stand-in
for the WebSocket, see README) and the order / message mapping."""

from __future__ import annotations

from scrm.platforms.shops.adapter import ShopPlatform
from scrm.platforms.shops.pdd.channel import build_channel
from scrm.platforms.shops.pdd.client import build_client
from scrm.platforms.shops.pdd.messages import map_message

PLATFORM = ShopPlatform(
    platform="pdd", build_client=build_client, map_message=map_message, build_channel=build_channel
)
