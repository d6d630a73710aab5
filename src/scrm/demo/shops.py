"""The demo's shops: one simulated shop on each of Youzan, Taobao/Tmall, Douyin, JD and Pinduoduo,
connected like a brand would connect them, and buyers placing orders on them all the time.

Some buyers are the people who came in through the channel codes: the demo records a phone number
for them (as a guide would after the chat, `POST /api/v1/customers/resolve`) and has them buy on
several platforms with receiver data the brand may decrypt, so their one profile shows WeCom and
several shops. Orders then pay, ship, arrive, and now and then get refunded, on a realistic clock
compressed into minutes. Youzan and Douyin push to the server; Taobao and PDD queue messages on
their channels; JD is pulled.
"""

from __future__ import annotations

import heapq
import itertools
import logging
import random
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import httpx
from sqlalchemy import select
from sqlalchemy.orm import Session

from scrm.commerce.sync import ensure_pull_chain
from scrm.core.actors import Actor
from scrm.platforms.models import PlatformConnection
from scrm.platforms.schemas import ConnectionCreate
from scrm.platforms.service import callback_url_of, create_connection, secret_box
from scrm.platforms.shops.simulator.app import RunningShopSimulator, start_shop_simulator
from scrm.platforms.shops.simulator.runtime import ShopSimulator, SimShop
from scrm.platforms.shops.simulator.world import SimOrder, SimPerson, Step

log = logging.getLogger(__name__)

PLATFORMS = ["youzan", "taobao", "douyin", "jd", "pdd"]


@dataclass(frozen=True)
class DemoShop:
    platform: str
    name: str
    shop_id: str
    # The platform's credentials, by the connection config's field names.
    credentials: dict[str, str]
    # How often buyers pick this platform.
    weight: float


DEMO_SHOPS = [
    DemoShop(
        "taobao",
        "花漾美妆天猫旗舰店（模拟器）",
        "2200811",
        {
            "app_key": "23811001",
            "app_secret": "demo-top-secret-2026",
            "session": "demo-top-session",
            "seller_id": "2200811",
        },
        0.3,
    ),
    DemoShop(
        "douyin",
        "花漾美妆抖音小店（模拟器）",
        "8810022",
        {"app_key": "7310022", "app_secret": "demo-douyin-secret-2026", "shop_id": "8810022"},
        0.25,
    ),
    DemoShop(
        "youzan",
        "花漾美妆有赞商城（模拟器）",
        "63077",
        {
            "client_id": "demo6cd25b3f99727975b5",
            "client_secret": "demo-youzan-secret-2026",
            "kdt_id": "63077",
        },
        0.15,
    ),
    DemoShop(
        "jd",
        "花漾美妆京东自营店（模拟器）",
        "10088",
        {
            "app_key": "demojdappkey",
            "app_secret": "demo-jd-secret-2026",
            "access_token": "demo-jd-token",
            "vender_id": "10088",
        },
        0.15,
    ),
    DemoShop(
        "pdd",
        "花漾美妆拼多多店（模拟器）",
        "171504183",
        {
            "client_id": "demopddclient",
            "client_secret": "demo-pdd-secret-2026",
            "access_token": "demo-pdd-token",
            "mall_id": "171504183",
        },
        0.15,
    ),
]


@dataclass
class DemoShops:
    simulator: RunningShopSimulator
    connections: dict[str, int]  # platform -> connection id

    def stop(self) -> None:
        self.simulator.stop()


def _ensure_connection(
    session: Session, *, tenant_id: int, secret_key: str, shop: DemoShop, simulator_url: str
) -> int:
    existing = session.scalars(
        select(PlatformConnection).where(
            PlatformConnection.tenant_id == tenant_id,
            PlatformConnection.platform == shop.platform,
            PlatformConnection.name == shop.name,
        )
    ).first()
    if existing is not None:
        # The simulator's port differs from the last run's; the pull loop may have stopped with it.
        existing.config = {**existing.config, "api_base_url": simulator_url}
        session.flush()
        ensure_pull_chain(session, tenant_id=tenant_id, connection_id=existing.id)
        return existing.id
    connection = create_connection(
        session,
        actor=Actor.system(tenant_id),
        data=ConnectionCreate(
            platform=shop.platform,
            name=shop.name,
            config={**shop.credentials, "api_base_url": simulator_url, "pull_interval_seconds": 10},
        ),
        box=secret_box(secret_key),
    )
    return connection.id


def start_demo_shops(
    session: Session, *, tenant_id: int, secret_key: str, public_base_url: str, seed: int = 2026
) -> DemoShops:
    """Start the shop simulator (all five platforms, in a thread) and connect the demo's shops to it."""
    sim = ShopSimulator(seed=seed)
    running = start_shop_simulator(sim, platforms=PLATFORMS)
    connections: dict[str, int] = {}
    for shop in DEMO_SHOPS:
        connection_id = _ensure_connection(
            session, tenant_id=tenant_id, secret_key=secret_key, shop=shop, simulator_url=running.base_url
        )
        connections[shop.platform] = connection_id
        sim.add_shop(
            SimShop(
                shop.platform,
                shop.shop_id,
                shop.name,
                dict(shop.credentials),
                push_url=callback_url_of(public_base_url, shop.platform, connection_id),
            )
        )
    return DemoShops(simulator=running, connections=connections)


# --- buyers ------------------------------------------------------------------------------------------


#: Seconds before an order's next step (pay, ship, receive; refunds and closing otherwise), compressed
#: from hours and days.
STEP_DELAYS: dict[str, tuple[float, float]] = {Step.PAY: (2, 8), Step.SHIP: (15, 45), Step.RECEIVE: (30, 90)}


@dataclass(order=True)
class _Due:
    at: float
    serial: int
    order: SimOrder = field(compare=False)
    steps: list[str] = field(compare=False)


class ShopTraffic:
    """Buyers placing and progressing orders, in a thread (see the module docstring)."""

    def __init__(
        self,
        shops: DemoShops,
        *,
        api_url: str | None,
        mean_interval_seconds: float = 2.0,
        seed: int = 7,
    ) -> None:
        self.shops = shops
        self.world = shops.simulator.simulator.world
        self.api_url = api_url
        self.mean_interval = mean_interval_seconds
        self.random = random.Random(seed)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="demo-shop-traffic", daemon=True)
        self._due: list[_Due] = []
        self._serial = itertools.count()
        self._wecom_people: list[SimPerson] = []
        self._linked: set[int] = set()
        self.orders = 0

    def start(self) -> ShopTraffic:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    # people
    def _link_wecom_customers(self, api: Any) -> None:
        """Give a phone to some customers who came through the channel codes, as their guide would
        record it, so their shop orders find their profile."""
        customers = api.get("/api/v1/customers", limit=50)["items"]
        for customer in customers:
            if customer["id"] in self._linked:
                continue
            self._linked.add(customer["id"])
            unionids = [item["value"] for item in customer["identities"] if item["kind"] == "wechat_unionid"]
            if not unionids or self.random.random() > 0.6:
                continue
            phone = f"139{self.random.randint(10_000_000, 99_999_999)}"
            api.send(
                "POST",
                "/api/v1/customers/resolve",
                {
                    "identities": [
                        {"kind": "wechat_unionid", "value": unionids[0]},
                        {"kind": "phone", "value": phone},
                    ],
                    "source": "demo:guide",
                },
            )
            self._wecom_people.append(
                self.world.person(f"wecom-{customer['id']}", name=customer["name"] or None, phone=phone)
            )

    def _buyer(self) -> tuple[SimPerson, bool]:
        if self._wecom_people and self.random.random() < 0.45:
            return self.random.choice(self._wecom_people), True
        return self.world.person(f"buyer-{self.random.randint(1, 400)}"), self.random.random() < 0.5

    # orders
    def _place_order(self) -> None:
        shop = self.random.choices(DEMO_SHOPS, [item.weight for item in DEMO_SHOPS])[0]
        person, reveal = self._buyer()
        presale = 7 if self.random.random() < 0.08 else None
        order = self.world.create_order(
            shop.platform,
            shop.shop_id,
            person,
            post_fee_fen=self.random.choice([0, 0, 0, 800, 1000]),
            presale_days=presale,
            reveal_phone=reveal,
        )
        self.orders += 1
        self._schedule(order, self.world.random_lifecycle(order))

    def _schedule(self, order: SimOrder, steps: list[str]) -> None:
        if not steps:
            return
        low, high = STEP_DELAYS.get(steps[0], (10, 40))
        heapq.heappush(
            self._due,
            _Due(time.monotonic() + self.random.uniform(low, high), next(self._serial), order, steps),
        )

    def _advance_due(self) -> None:
        now = time.monotonic()
        while self._due and self._due[0].at <= now:
            due = heapq.heappop(self._due)
            try:
                self.world.advance(due.order, due.steps[0])
            except ValueError:
                continue
            self._schedule(due.order, due.steps[1:])

    def _wait_for_server(self) -> None:
        while self.api_url and not self._stop.is_set():
            try:
                if httpx.get(f"{self.api_url}/healthz", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            self._stop.wait(0.5)

    def _run(self) -> None:
        from scrm.demo.channels import DemoApi

        self._wait_for_server()
        api = DemoApi(self.api_url) if self.api_url else None
        next_link = 0.0
        try:
            while not self._stop.wait(min(1.0, self.random.expovariate(1 / self.mean_interval))):
                try:
                    if api is not None and time.monotonic() >= next_link:
                        self._link_wecom_customers(api)
                        next_link = time.monotonic() + 10
                    self._place_order()
                    self._advance_due()
                except (httpx.HTTPError, RuntimeError, KeyError, ValueError):
                    log.debug("demo shop traffic hiccup", exc_info=True)
        finally:
            if api is not None:
                api.close()
