"""Douyin shop (抖店): signed JSON APIs with self-use tokens, batched HTTP pushes signed with
event-sign (platform-protocols.md §8.1). See README.md for what is implemented and what is guessed.
"""

from __future__ import annotations

from scrm.platforms.shops.adapter import ShopPlatform
from scrm.platforms.shops.douyin.client import build_client
from scrm.platforms.shops.douyin.messages import map_message
from scrm.platforms.shops.douyin.push import PUSH

PLATFORM = ShopPlatform(platform="douyin", build_client=build_client, map_message=map_message, push=PUSH)

__all__ = ["PLATFORM"]
