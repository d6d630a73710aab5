"""The pull loop against a simulated shop (Taobao/TOP): orders changed on the platform arrive through
incremental pulls and the TMC message channel; an outage opens the circuit breaker, and after it
every order created during the outage arrives (the cursor resumes); a backfill pulls history."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from datetime import timedelta

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from scrm.commerce.models import Order, Shop
from scrm.commerce.sync import backfill_step, run_pull_tick, start_backfill
from scrm.core.actors import Actor
from scrm.core.clock import utcnow
from scrm.core.jobs import Job
from scrm.core.secrets import SecretBox
from scrm.core.shared_state import MemorySharedState
from scrm.platforms.runtime import PlatformRuntime, install_platform_runtime
from scrm.platforms.schemas import ConnectionCreate
from scrm.platforms.service import create_connection
from scrm.platforms.shops.service import shop_breaker
from scrm.platforms.shops.simulator.app import RunningShopSimulator, start_shop_simulator
from scrm.platforms.shops.simulator.gateway import FaultSpec
from scrm.platforms.shops.simulator.runtime import ShopSimulator, SimShop
from scrm.platforms.shops.simulator.world import Step
from tests.commerce.conftest import Shops
from tests.conftest import TEST_SECRET_KEY

SELLER = "2200999"
CREDENTIALS = {
    "app_key": "23456789",
    "app_secret": "top-secret-0123456789",
    "session": "sess-abc",
    "tmc_group": "default",
}


@pytest.fixture
def simulator() -> Iterator[RunningShopSimulator]:
    sim = ShopSimulator(seed=5)
    with start_shop_simulator(sim, platforms=["taobao"]) as running:
        sim.add_shop(SimShop("taobao", SELLER, "淘宝旗舰店", dict(CREDENTIALS)))
        yield running


@pytest.fixture
def runtime() -> Iterator[PlatformRuntime]:
    with httpx.Client(timeout=5) as http:
        installed = PlatformRuntime(
            secret_box=SecretBox(TEST_SECRET_KEY),
            shared_state=MemorySharedState(),
            http=http,
            public_base_url="http://t",
        )
        install_platform_runtime(installed)
        yield installed
        install_platform_runtime(None)


@pytest.fixture
def connection_id(
    db: Session, shops: Shops, simulator: RunningShopSimulator, runtime: PlatformRuntime
) -> int:
    connection = create_connection(
        db,
        actor=Actor.system(shops.tenant_id),
        data=ConnectionCreate(
            platform="taobao",
            name="淘宝旗舰店",
            config={
                **CREDENTIALS,
                "seller_id": SELLER,
                "api_base_url": simulator.base_url,
                "sign_method": "md5",
            },
        ),
        box=runtime.secret_box,
    )
    return connection.id


def _orders(db: Session) -> dict[str, str]:
    return dict(db.execute(select(Order.external_id, Order.status).where(Order.platform == "taobao")).all())


def test_pull_ticks_bring_orders_and_their_changes(
    db: Session, shops: Shops, simulator: RunningShopSimulator, connection_id: int
) -> None:
    world = simulator.simulator.world
    person = world.person("p1", phone="13900002222")
    first = (
        world.create_order("taobao", SELLER, person, steps=None)
        if False
        else world.create_order("taobao", SELLER, person)
    )
    world.advance(first, Step.PAY)
    second = world.create_order("taobao", SELLER, world.person("p2"))
    shop = run_pull_tick(
        db, tenant_id=shops.tenant_id, connection_id=connection_id, now=utcnow() + timedelta(seconds=5)
    )
    assert shop is not None and shop.last_pull_error is None and shop.cursor_at is not None
    assert _orders(db) == {first.order_id: "paid", second.order_id: "created"}
    world.advance(first, Step.SHIP)
    world.advance(second, Step.CLOSE)
    run_pull_tick(
        db, tenant_id=shops.tenant_id, connection_id=connection_id, now=utcnow() + timedelta(seconds=10)
    )
    assert _orders(db) == {first.order_id: "shipped", second.order_id: "closed"}


def test_an_outage_opens_the_breaker_and_nothing_is_missed_after_it(
    db: Session, shops: Shops, simulator: RunningShopSimulator, connection_id: int, runtime: PlatformRuntime
) -> None:
    world = simulator.simulator.world
    before = world.create_order("taobao", SELLER, world.person("early"))
    run_pull_tick(
        db, tenant_id=shops.tenant_id, connection_id=connection_id, now=utcnow() + timedelta(seconds=2)
    )
    simulator.simulator.gateway.add_fault(FaultSpec(platform="taobao", http_status=503))
    during = [world.create_order("taobao", SELLER, world.person(f"o{index}")) for index in range(7)]
    for attempt in range(3):
        shop = run_pull_tick(
            db,
            tenant_id=shops.tenant_id,
            connection_id=connection_id,
            now=utcnow() + timedelta(seconds=3 + attempt),
        )
        assert shop is not None and shop.last_pull_error
    assert shop.consecutive_failures == 3
    assert shop_breaker(runtime.shared_state, connection_id).state == "open"
    assert set(_orders(db)) == {before.order_id}
    simulator.simulator.gateway.clear_faults()
    # Time passes: the breaker's open period ends and it lets one probe through (half-open).
    key = f"shops:breaker:connection:{connection_id}"
    state = json.loads(runtime.shared_state.get(key) or "{}")
    runtime.shared_state.set(key, json.dumps({**state, "open_until": time.time() - 1}), ttl_seconds=60)
    assert shop_breaker(runtime.shared_state, connection_id).state == "half_open"
    shop = run_pull_tick(
        db, tenant_id=shops.tenant_id, connection_id=connection_id, now=utcnow() + timedelta(seconds=30)
    )
    assert shop is not None and shop.last_pull_error is None and shop.consecutive_failures == 0
    assert set(_orders(db)) == {before.order_id, *(order.order_id for order in during)}


def test_tmc_messages_are_ingested_and_confirmed_on_the_next_tick(
    db: Session, shops: Shops, simulator: RunningShopSimulator, connection_id: int
) -> None:
    world = simulator.simulator.world
    order = world.create_order("taobao", SELLER, world.person("m1"))
    world.advance(order, Step.PAY)
    shop = run_pull_tick(
        db, tenant_id=shops.tenant_id, connection_id=connection_id, now=utcnow() + timedelta(seconds=5)
    )
    assert shop is not None and len(shop.channel_unconfirmed) >= 2
    pending = list(shop.channel_unconfirmed)
    run_pull_tick(
        db, tenant_id=shops.tenant_id, connection_id=connection_id, now=utcnow() + timedelta(seconds=6)
    )
    confirms = simulator.simulator.gateway.requests("taobao", "taobao.tmc.messages.confirm")
    assert confirms and set(pending) <= set(str(confirms[-1]["params"].get("s_message_ids", "")).split(","))
    assert _orders(db)[order.order_id] == "paid"


def test_a_backfill_pulls_history_window_by_window(
    db: Session, shops: Shops, simulator: RunningShopSimulator, connection_id: int
) -> None:
    world = simulator.simulator.world
    orders = [world.create_order("taobao", SELLER, world.person(f"h{index}")) for index in range(5)]
    now = utcnow()
    job, created = start_backfill(
        db,
        tenant_id=shops.tenant_id,
        connection_id=connection_id,
        start=now - timedelta(hours=13),
        end=now + timedelta(seconds=1),
        created_by="t",
    )
    assert created and job.params["windows"] == 3
    outcomes = [backfill_step(db, job) for _ in range(3)]
    assert [outcome.done for outcome in outcomes] == [False, False, True]
    assert outcomes[-1].result == {"orders": 5} and outcomes[-1].progress_done == 3
    assert set(_orders(db)) == {order.order_id for order in orders}
    assert db.scalar(select(func.count(Shop.id)).where(Shop.connection_id == connection_id)) == 1
    assert db.get(Job, job.id) is not None
