"""A Douyin shop simulator served in a thread, one shop in it, and clients pointed at it."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from scrm.core.shared_state import MemorySharedState
from scrm.platforms.shops.douyin import errors
from scrm.platforms.shops.douyin.client import DouyinClient
from scrm.platforms.shops.simulator.app import RunningShopSimulator, start_shop_simulator
from scrm.platforms.shops.simulator.runtime import ShopSimulator, SimShop
from scrm.platforms.shops.transport import ShopTransport, TransportPolicy

APP_KEY = "7012345678901234567"
APP_SECRET = "douyin-test-secret-0001"
SHOP_ID = "4463798"
FAST = TransportPolicy(
    rate_per_second=10_000,
    burst=1000,
    max_attempts=4,
    base_backoff_seconds=0.01,
    max_wait_seconds=5.0,
    failure_threshold=50,
    open_seconds=30.0,
)
_keys = itertools.count(1)


@pytest.fixture(scope="module")
def running() -> Iterator[RunningShopSimulator]:
    sim = ShopSimulator(seed=13, retry_schedule_seconds=(0.2, 0.5))
    sim.add_shop(SimShop("douyin", SHOP_ID, "抖店旗舰店", {"app_key": APP_KEY, "app_secret": APP_SECRET}))
    with start_shop_simulator(sim, platforms=["douyin"]) as server:
        yield server


@pytest.fixture
def sim(running: RunningShopSimulator) -> Iterator[ShopSimulator]:
    simulator = running.simulator
    yield simulator
    simulator.gateway.clear_faults()
    simulator.gateway.clear_requests()


@pytest.fixture(autouse=True)
def quick_rate_limit_retry(monkeypatch: pytest.MonkeyPatch) -> None:
    # Douyin never says how long to wait after 60000; tests do not need the production second.
    monkeypatch.setattr(errors, "RATE_LIMIT_RETRY_AFTER", 0.01)


@pytest.fixture
def http() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=httpx.Timeout(3.0, connect=2.0)) as client:
        yield client


def make_client(
    running: RunningShopSimulator,
    http: httpx.Client,
    *,
    policy: TransportPolicy = FAST,
    state: MemorySharedState | None = None,
    shop_id: str = SHOP_ID,
    **options: Any,
) -> DouyinClient:
    transport = ShopTransport(
        platform="douyin",
        connection_key=f"douyin-test-{next(_keys)}",
        shared_state=state or MemorySharedState(),
        policy=policy,
    )
    config = {
        "app_key": APP_KEY,
        "app_secret": APP_SECRET,
        "shop_id": shop_id,
        "api_base_url": running.base_url,
    }
    return DouyinClient(config, transport, http, **options)
