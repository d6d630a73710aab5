"""JD (京东) POP shops: JOS signing, a pull-only client and the order mapping (no push: §8.2 [U])."""

from __future__ import annotations

from scrm.platforms.shops.adapter import ShopPlatform
from scrm.platforms.shops.jd.client import build_client
from scrm.platforms.shops.jd.mapping import map_message

PLATFORM = ShopPlatform(platform="jd", build_client=build_client, map_message=map_message)
