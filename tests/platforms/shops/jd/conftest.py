"""A JD simulator served in a thread for the module, a fresh shop and client per test."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from scrm.core.shared_state import MemorySharedState
from scrm.platforms.shops.jd.client import JdClient
from scrm.platforms.shops.jd.simulator import FRONT_END
from scrm.platforms.shops.simulator.app import RunningShopSimulator, start_shop_simulator
from scrm.platforms.shops.simulator.runtime import ShopSimulator, SimShop
from scrm.platforms.shops.simulator.world import SimOrder
from scrm.platforms.shops.transport import ShopTransport, TransportPolicy

_serial = itertools.count(1)

FAST = TransportPolicy(
    rate_per_second=10_000,
    burst=10_000,
    max_attempts=4,
    base_backoff_seconds=0.01,
    max_wait_seconds=3,
    failure_threshold=50,
    open_seconds=30,
)


@dataclass
class JdShop:
    sim: ShopSimulator
    base_url: str
    shop: SimShop
    config: dict[str, Any]
    http: httpx.Client

    def client(
        self, policy: TransportPolicy = FAST, config: dict[str, Any] | None = None, **options: Any
    ) -> JdClient:
        """A client with its own transport (and breaker); `config` overrides connection fields,
        `options` go to `JdClient` (page_size, max_window…)."""
        transport = ShopTransport(
            platform="jd",
            connection_key=f"jd-{self.shop.shop_id}-{next(_serial)}",
            shared_state=MemorySharedState(),
            policy=policy,
        )
        return JdClient({**self.config, **(config or {})}, transport, self.http, **options)

    def order(self, steps: list[str], **kwargs: Any) -> SimOrder:
        person = self.sim.world.person(f"jd-person-{next(_serial)}")
        order = self.sim.world.create_order("jd", self.shop.shop_id, person, **kwargs)
        for step in steps:
            self.sim.world.advance(order, step)
        return order


@pytest.fixture(scope="module")
def running() -> Iterator[RunningShopSimulator]:
    sim = ShopSimulator(seed=11)
    with start_shop_simulator(sim, platforms=["jd"]) as served:
        yield served


@pytest.fixture
def jd(running: RunningShopSimulator) -> Iterator[JdShop]:
    sim = running.simulator
    number = next(_serial)
    credentials = {
        "app_key": f"jd-app-{number}",
        "app_secret": f"jd-secret-{number}",
        "access_token": f"jd-token-{number}",
        "vender_id": str(10_000 + number),
    }
    shop = sim.add_shop(SimShop("jd", credentials["vender_id"], f"京东店{number}", credentials))
    state = FRONT_END.state(sim)
    state.rate_limit_per_second, state.rate_burst = 100.0, 100.0
    with httpx.Client(timeout=5) as http:
        yield JdShop(sim, running.base_url, shop, {**credentials, "api_base_url": running.base_url}, http)
    sim.gateway.clear_faults()
