"""A Youzan simulator served in a thread, one shop in it, and clients pointed at it."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from scrm.core.shared_state import MemorySharedState
from scrm.platforms.shops.simulator.app import RunningShopSimulator, start_shop_simulator
from scrm.platforms.shops.simulator.runtime import ShopSimulator, SimShop
from scrm.platforms.shops.transport import ShopTransport, TransportPolicy
from scrm.platforms.shops.youzan import errors
from scrm.platforms.shops.youzan.client import YouzanClient

CLIENT_ID = "6cd25b3f99727975b5"
CLIENT_SECRET = "youzan-test-secret-0001"
KDT_ID = "63077"
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
    sim = ShopSimulator(seed=11, retry_schedule_seconds=(0.2, 0.5))
    sim.add_shop(
        SimShop("youzan", KDT_ID, "Qi码运动馆", {"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET})
    )
    with start_shop_simulator(sim, platforms=["youzan"]) as server:
        yield server


@pytest.fixture
def sim(running: RunningShopSimulator) -> Iterator[ShopSimulator]:
    simulator = running.simulator
    yield simulator
    simulator.gateway.clear_faults()
    simulator.gateway.clear_requests()


@pytest.fixture(autouse=True)
def quick_rate_limit_retry(monkeypatch: pytest.MonkeyPatch) -> None:
    # Youzan never says how long to wait after 20001; tests do not need the production second.
    monkeypatch.setattr(errors, "RATE_LIMIT_RETRY_AFTER", 0.01)


@pytest.fixture
def http() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=httpx.Timeout(3.0, connect=2.0)) as client:
        yield client


def config(running: RunningShopSimulator, **overrides: Any) -> dict[str, Any]:
    return {
        "client_id": CLIENT_ID,
        "client_secret": CLIENT_SECRET,
        "kdt_id": KDT_ID,
        "api_base_url": running.base_url,
        **overrides,
    }


def make_client(
    running: RunningShopSimulator,
    http: httpx.Client,
    *,
    policy: TransportPolicy = FAST,
    state: MemorySharedState | None = None,
    kdt_id: str = KDT_ID,
    **options: Any,
) -> YouzanClient:
    transport = ShopTransport(
        platform="youzan",
        connection_key=f"youzan-test-{next(_keys)}",
        shared_state=state or MemorySharedState(),
        policy=policy,
    )
    return YouzanClient(config(running, kdt_id=kdt_id), transport, http, **options)
