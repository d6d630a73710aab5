"""A PDD simulator served in a thread for the module, a fresh mall and clients per test."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from scrm.core.shared_state import MemorySharedState
from scrm.platforms.shops.pdd.channel import PddMessageChannel
from scrm.platforms.shops.pdd.client import PddClient
from scrm.platforms.shops.pdd.simulator import FRONT_END
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
class PddMall:
    sim: ShopSimulator
    base_url: str
    shop: SimShop
    config: dict[str, Any]
    http: httpx.Client

    def transport(self, policy: TransportPolicy = FAST) -> ShopTransport:
        return ShopTransport(
            platform="pdd",
            connection_key=f"pdd-{self.shop.shop_id}-{next(_serial)}",
            shared_state=MemorySharedState(),
            policy=policy,
        )

    def client(
        self, policy: TransportPolicy = FAST, config: dict[str, Any] | None = None, **options: Any
    ) -> PddClient:
        return PddClient({**self.config, **(config or {})}, self.transport(policy), self.http, **options)

    def channel(self, config: dict[str, Any] | None = None) -> PddMessageChannel:
        return PddMessageChannel({**self.config, **(config or {})}, self.transport(), self.http)

    def order(self, steps: list[str], **kwargs: Any) -> SimOrder:
        person = self.sim.world.person(f"pdd-person-{next(_serial)}")
        order = self.sim.world.create_order("pdd", self.shop.shop_id, person, **kwargs)
        for step in steps:
            self.sim.world.advance(order, step)
        return order


@pytest.fixture(scope="module")
def running() -> Iterator[RunningShopSimulator]:
    sim = ShopSimulator(seed=13)
    with start_shop_simulator(sim, platforms=["pdd"]) as served:
        yield served


@pytest.fixture
def pdd(running: RunningShopSimulator) -> Iterator[PddMall]:
    sim = running.simulator
    number = next(_serial)
    credentials = {
        "client_id": f"pdd-client-{number}",
        "client_secret": f"pdd-secret-{number}",
        "access_token": f"pdd-token-{number}",
        "mall_id": str(171_504_000 + number),
    }
    shop = sim.add_shop(SimShop("pdd", credentials["mall_id"], f"拼多多店{number}", credentials))
    state = FRONT_END.state(sim)
    state.rate_limit_per_second, state.rate_burst = 100.0, 100.0
    state.pmc_visibility_seconds = 60.0
    with httpx.Client(timeout=5) as http:
        yield PddMall(sim, running.base_url, shop, {**credentials, "api_base_url": running.base_url}, http)
    sim.gateway.clear_faults()
