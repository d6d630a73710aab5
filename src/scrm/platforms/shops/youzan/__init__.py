"""Youzan (有赞云): token + JSON APIs, HTTP pushes signed with Event-Sign (platform-protocols.md §6).

See README.md for what is implemented and what is guessed.
"""

from __future__ import annotations

from scrm.platforms.shops.adapter import ShopPlatform
from scrm.platforms.shops.youzan.client import build_client
from scrm.platforms.shops.youzan.messages import map_message
from scrm.platforms.shops.youzan.push import PUSH

PLATFORM = ShopPlatform(platform="youzan", build_client=build_client, map_message=map_message, push=PUSH)

__all__ = ["PLATFORM"]
