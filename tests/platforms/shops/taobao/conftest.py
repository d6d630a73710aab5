"""A simulated TOP gateway in a thread, one seller on it, and clients wired like production."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from scrm.core.shared_state import MemorySharedState
from scrm.platforms.shops.simulator.app import start_shop_simulator
from scrm.platforms.shops.simulator.runtime import ShopSimulator, SimShop
from scrm.platforms.shops.simulator.world import ShopWorld
from scrm.platforms.shops.taobao.client import TaobaoClient
from scrm.platforms.shops.taobao.simulator import FRONT_END
from scrm.platforms.shops.taobao.simulator.state import TaobaoSimState
from scrm.platforms.shops.transport import ShopTransport, TransportPolicy

APP_KEY = "12345678"
APP_SECRET = "9f1c2b7e5a4d4c1f8e6b3a2d1c0f9e8d"
SESSION = "6102a17c3e9f1b2d8a7c6e5f4b3a2918ZZ2200123456"
SELLER = "2200123456"
SHOP_NAME = "美妆旗舰店"


class ManualClock:
    """The world's clock: moves only when told, so orders land on exact seconds."""

    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def set(self, moment: datetime) -> None:
        self.now = moment


@dataclass
class TopEnv:
    sim: ShopSimulator
    base_url: str
    http: httpx.Client
    world_clock: ManualClock
    sleeps: list[float] = field(default_factory=list)

    @property
    def state(self) -> TaobaoSimState:
        return FRONT_END.state(self.sim)

    def config(self, **overrides: Any) -> dict[str, Any]:
        config: dict[str, Any] = {
            "app_key": APP_KEY,
            "app_secret": APP_SECRET,
            "session": SESSION,
            "seller_id": SELLER,
            "sign_method": "hmac-sha256",
            "tmc_group": "default",
            "api_base_url": self.base_url,
            "rate_limit_per_second": None,
        }
        config.update(overrides)
        return config

    def transport(self, policy: TransportPolicy | None = None) -> ShopTransport:
        return ShopTransport(
            platform="taobao",
            connection_key="taobao-test",
            shared_state=MemorySharedState(),
            policy=policy
            or TransportPolicy(
                rate_per_second=10_000, burst=1000, base_backoff_seconds=0.01, max_wait_seconds=30
            ),
            sleep=self.sleeps.append,
        )

    def client(self, policy: TransportPolicy | None = None, **overrides: Any) -> TaobaoClient:
        clock = overrides.pop("clock", None)
        chunk = overrides.pop("chunk", timedelta(minutes=30))
        return TaobaoClient(
            self.config(**overrides), self.transport(policy), self.http, clock=clock, chunk=chunk
        )

    def requests(self, api: str | None = None) -> list[dict[str, Any]]:
        return self.sim.gateway.requests("taobao", api)


@pytest.fixture
def top() -> Iterator[TopEnv]:
    clock = ManualClock(datetime.now(UTC).replace(microsecond=0) - timedelta(hours=6))
    sim = ShopSimulator(world=ShopWorld(seed=11, clock=clock))
    running = start_shop_simulator(sim, platforms=["taobao"])
    sim.add_shop(
        SimShop(
            "taobao",
            SELLER,
            SHOP_NAME,
            {"app_key": APP_KEY, "app_secret": APP_SECRET, "session": SESSION, "tmc_group": "default"},
        )
    )
    try:
        with httpx.Client(timeout=httpx.Timeout(5.0)) as http:
            yield TopEnv(sim=sim, base_url=running.base_url, http=http, world_clock=clock)
    finally:
        running.stop()
