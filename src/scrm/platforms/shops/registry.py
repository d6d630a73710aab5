"""The built-in shop platforms: platform name → the module whose `PLATFORM` is its `ShopPlatform`."""

from __future__ import annotations

import importlib

from scrm.platforms.shops.adapter import ShopPlatform

SHOP_PLATFORM_MODULES: dict[str, str] = {
    "youzan": "scrm.platforms.shops.youzan",
    "taobao": "scrm.platforms.shops.taobao",
    "douyin": "scrm.platforms.shops.douyin",
    "jd": "scrm.platforms.shops.jd",
    "pdd": "scrm.platforms.shops.pdd",
}


def shop_platform(platform: str) -> ShopPlatform:
    """The platform's adapter entry; KeyError for a platform that is not a shop platform."""
    entry: ShopPlatform = importlib.import_module(SHOP_PLATFORM_MODULES[platform]).PLATFORM
    return entry


def is_shop_platform(platform: str) -> bool:
    return platform in SHOP_PLATFORM_MODULES
