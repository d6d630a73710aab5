"""Commerce end to end over real HTTP: the app with its worker on one port, the five shop simulators
on another. Shops are connected through the API; a person buys on Youzan and Douyin (pushes),
Taobao (its TMC channel and pulls), JD (pulls) and PDD (its PMC channel); one customer ends up with
all their orders and aggregates. Forged and replayed pushes are refused or stored once."""

from __future__ import annotations

import hashlib
import json
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from scrm.core.outbox_models import InboundMessage
from scrm.main import create_app
from scrm.platforms.shops.simulator.app import RunningShopSimulator, start_shop_simulator
from scrm.platforms.shops.simulator.runtime import ShopSimulator, SimShop
from scrm.platforms.shops.simulator.world import Step
from scrm.settings import Environment, load_settings
from tests.conftest import TEST_SECRET_KEY, Persona
from tests.core.helpers import wait_until

SHOPS: dict[str, tuple[str, dict[str, str]]] = {
    "youzan": ("63077", {"client_id": "yz-e2e-client", "client_secret": "yz-e2e-secret", "kdt_id": "63077"}),
    "douyin": ("88001", {"app_key": "dy-e2e-app", "app_secret": "dy-e2e-secret", "shop_id": "88001"}),
    "taobao": (
        "2200777",
        {
            "app_key": "23000777",
            "app_secret": "tb-e2e-secret",
            "session": "tb-e2e-session",
            "seller_id": "2200777",
        },
    ),
    "jd": (
        "10077",
        {
            "app_key": "jd-e2e-app",
            "app_secret": "jd-e2e-secret",
            "access_token": "jd-e2e-token",
            "vender_id": "10077",
        },
    ),
    "pdd": (
        "555001",
        {
            "client_id": "pdd-e2e-client",
            "client_secret": "pdd-e2e-secret",
            "access_token": "pdd-e2e-token",
            "mall_id": "555001",
        },
    ),
}


@dataclass
class ShopStack:
    api: httpx.Client
    base_url: str
    shops: RunningShopSimulator
    connections: dict[str, dict[str, Any]]
    factory: sessionmaker[Session]

    @property
    def sim(self) -> ShopSimulator:
        return self.shops.simulator


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def shop_stack(
    database_url: str, tmp_path: Path, committing_factory: sessionmaker[Session], owner: Persona
) -> Iterator[ShopStack]:
    port = _free_port()
    base_url = f"http://127.0.0.1:{port}"
    settings = load_settings(
        environment=Environment.TEST,
        database_url=database_url,
        secret_key=TEST_SECRET_KEY,
        var_dir=tmp_path / "var",
        public_base_url=base_url,
    )
    server = uvicorn.Server(
        uvicorn.Config(
            create_app(settings, session_factory=committing_factory, run_embedded_worker=True),
            host="127.0.0.1",
            port=port,
            log_level="warning",
        )
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    wait_until(lambda: server.started, what="the app server to start")
    sim = ShopSimulator(seed=17, retry_schedule_seconds=(0.2, 0.5, 1.0))
    shops = start_shop_simulator(sim, platforms=list(SHOPS))
    api = httpx.Client(base_url=base_url, headers=owner.headers, timeout=20)
    connections: dict[str, dict[str, Any]] = {}
    try:
        for platform, (shop_id, credentials) in SHOPS.items():
            created = api.post(
                "/api/v1/platforms/connections",
                json={
                    "platform": platform,
                    "name": f"{platform} 店",
                    "config": {**credentials, "api_base_url": shops.base_url, "pull_interval_seconds": 1},
                },
            )
            assert created.status_code == 201, created.text
            connection = created.json()
            connections[platform] = connection
            # Paste the push URL into "the platform's console" (the simulator), as an operator would.
            sim.add_shop(
                SimShop(
                    platform,
                    shop_id,
                    connection["name"],
                    dict(credentials),
                    push_url=connection["callback_url"],
                )
            )
        yield ShopStack(api, base_url, shops, connections, committing_factory)
    finally:
        shops.stop()
        server.should_exit = True
        thread.join(timeout=10)
        api.close()


def test_one_buyer_on_five_platforms_is_one_customer_with_every_order(shop_stack: ShopStack) -> None:
    world = shop_stack.sim.world
    person = world.person("ana", name="安娜", phone="13912345678")
    orders = {}
    for platform, (shop_id, _) in SHOPS.items():
        order = world.create_order(platform, shop_id, person, skus=[("SKU-SERUM", 1)], reveal_phone=True)
        world.advance(order, Step.PAY)
        orders[platform] = order
    world.advance(orders["taobao"], Step.SHIP)
    world.advance(orders["youzan"], Step.SHIP)
    world.advance(orders["youzan"], Step.RECEIVE)

    def listed() -> list[dict[str, Any]]:
        return list(shop_stack.api.get("/api/v1/orders", params={"limit": 50}).json()["items"])

    def arrived() -> bool:
        statuses = {item["platform"]: item["status"] for item in listed() if item["customer_id"]}
        expected = {"youzan": "completed", "taobao": "shipped", "douyin": "paid", "jd": "paid", "pdd": "paid"}
        return statuses == expected

    wait_until(arrived, what="every platform's order with its latest status")
    items = listed()
    assert {item["external_id"] for item in items} == {order.order_id for order in orders.values()}
    assert len({item["customer_id"] for item in items}) == 1
    customer_id = items[0]["customer_id"]
    customer = shop_stack.api.get(f"/api/v1/customers/{customer_id}").json()
    assert customer["orders"]["order_count"] == 5 and customer["orders"]["platform_count"] == 5
    assert customer["orders"]["total_spent_fen"] == 5 * 45900
    assert {shop["platform"] for shop in customer["orders"]["by_shop"]} == set(SHOPS)
    recent = shop_stack.api.get(f"/api/v1/customers/{customer_id}/recent-purchases").json()
    assert len(recent) == 3 and all(order["items"] for order in recent)
    report = shop_stack.api.get("/api/v1/commerce/reports/cross-platform").json()
    assert report["multi_platform_buyers"] == 1 and report["top_customers"][0]["customer_id"] == customer_id
    shops = {shop["platform"]: shop for shop in shop_stack.api.get("/api/v1/commerce/shops").json()}
    assert all(shop["health"] in ("ok", "lagging") for shop in shops.values()), shops
    assert shops["youzan"]["last_push_at"] and shops["douyin"]["last_push_at"]


def test_forged_and_replayed_pushes(shop_stack: ShopStack) -> None:
    youzan = shop_stack.connections["youzan"]
    url = youzan["callback_url"]
    client_id, secret = SHOPS["youzan"][1]["client_id"], SHOPS["youzan"][1]["client_secret"]
    message = {
        "client_id": client_id,
        "kdt_id": 63077,
        "id": "E2026120600001",
        "type": "trade_TradeClose",
        "status": "TRADE_CLOSED",
        "msg": "%7B%22tid%22%3A%22E2026120600001%22%2C%22update_time%22%3A%222026-12-06%2010%3A00%3A00%22%7D",
        "msg_id": "7a3f0c55-0000-4000-8000-000000000001",
        "version": 1765000000,
        "test": False,
    }
    body = json.dumps(message).encode()
    sign = hashlib.md5(client_id.encode() + body + secret.encode()).hexdigest()
    headers = {"Content-Type": "application/json", "Client-Id": client_id, "Event-Type": "trade_TradeClose"}

    def stored() -> int:
        with shop_stack.factory() as session:
            return int(
                session.scalar(
                    select(func.count(InboundMessage.id)).where(InboundMessage.platform == "youzan")
                )
                or 0
            )

    before = stored()
    forged = httpx.post(url, content=body, headers={**headers, "Event-Sign": "0" * 32})
    assert forged.status_code == 401 and b"success" not in forged.content
    wrong_shop = json.dumps({**message, "kdt_id": 1}).encode()
    other = httpx.post(
        url,
        content=wrong_shop,
        headers={
            **headers,
            "Event-Sign": hashlib.md5(client_id.encode() + wrong_shop + secret.encode()).hexdigest(),
        },
    )
    assert other.status_code in (400, 404) and b"success" not in other.content
    unknown = httpx.post(
        f"{shop_stack.base_url}/hooks/youzan/999999", content=body, headers={**headers, "Event-Sign": sign}
    )
    assert unknown.status_code == 404
    douyin_on_youzan = httpx.post(
        f"{shop_stack.base_url}/hooks/douyin/{youzan['id']}",
        content=b"[]",
        headers={"event-sign": "x", "app-id": "y"},
    )
    assert douyin_on_youzan.status_code == 404
    assert stored() == before
    first = httpx.post(url, content=body, headers={**headers, "Event-Sign": sign})
    replay = httpx.post(url, content=body, headers={**headers, "Event-Sign": sign})
    assert first.status_code == replay.status_code == 200 and b"success" in replay.content
    assert stored() == before + 1
    test_message = json.dumps({**message, "test": True, "msg_id": "t-1"}).encode()
    acked = httpx.post(
        url,
        content=test_message,
        headers={
            **headers,
            "Event-Sign": hashlib.md5(client_id.encode() + test_message + secret.encode()).hexdigest(),
        },
    )
    assert acked.status_code == 200 and b"success" in acked.content and stored() == before + 1
    disabled = shop_stack.api.delete(f"/api/v1/platforms/connections/{youzan['id']}")
    assert disabled.status_code == 200

    def refused() -> bool:
        return httpx.post(url, content=body, headers={**headers, "Event-Sign": sign}).status_code == 403

    wait_until(refused, what="the disabled connection to refuse pushes (its cache expires)")


def test_testing_a_shop_connection_calls_its_platform(shop_stack: ShopStack) -> None:
    for platform, connection in shop_stack.connections.items():
        answer = shop_stack.api.post(f"/api/v1/platforms/connections/{connection['id']}/test").json()
        assert answer["ok"] is True, (platform, answer)
    jd = shop_stack.connections["jd"]
    changed = shop_stack.api.patch(
        f"/api/v1/platforms/connections/{jd['id']}", json={"config": {"app_secret": "wrong"}}
    )
    assert changed.status_code == 200, changed.text
    answer = shop_stack.api.post(f"/api/v1/platforms/connections/{jd['id']}/test").json()
    assert answer["ok"] is False and "wrong" not in answer["detail"]
