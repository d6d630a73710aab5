"""`scrm demo`'s shops: five simulated shops connected, buyers ordering on them, and people who came
in through the channel codes buying on several platforms, so one profile shows WeCom and shops."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from scrm.demo.channels import DemoApi
from scrm.demo.seed import DEMO_EMAIL, seed_demo
from scrm.demo.shops import DEMO_SHOPS, ShopTraffic, start_demo_shops
from scrm.demo.wecom import DemoTraffic, start_demo_wecom
from scrm.identity.models import User
from scrm.main import create_app
from scrm.settings import Environment, load_settings
from tests.channels.conftest import free_port
from tests.conftest import TEST_SECRET_KEY
from tests.core.helpers import wait_until


@pytest.mark.slow
def test_the_demo_links_channel_code_customers_to_orders_on_several_shops(
    database_url: str, tmp_path: Path, committing_factory: sessionmaker[Session]
) -> None:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    settings = load_settings(
        environment=Environment.TEST,
        database_url=database_url,
        secret_key=TEST_SECRET_KEY,
        var_dir=tmp_path / "var",
        public_base_url=base,
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
    wait_until(lambda: server.started, what="the app server")
    with committing_factory.begin() as session:
        tenant_id = seed_demo(session).tenant_id
        owner_id = session.scalars(select(User.id).where(User.email == DEMO_EMAIL)).one()
        wecom = start_demo_wecom(
            session,
            tenant_id=tenant_id,
            owner_user_id=owner_id,
            secret_key=TEST_SECRET_KEY,
            public_base_url=base,
        )
        shops = start_demo_shops(
            session, tenant_id=tenant_id, secret_key=TEST_SECRET_KEY, public_base_url=base
        )
    scans = DemoTraffic(wecom.simulator.base_url, api_url=base, mean_interval_seconds=0.2, seed=3).start()
    orders = ShopTraffic(shops, api_url=base, mean_interval_seconds=0.05, seed=5).start()
    api = DemoApi(base)
    try:
        assert set(shops.connections) == {shop.platform for shop in DEMO_SHOPS}

        def wecom_and_shops() -> dict[str, Any] | None:
            report = api.get("/api/v1/commerce/reports/cross-platform")
            for customer in report["top_customers"]:
                profile = api.get(f"/api/v1/customers/{customer['customer_id']}")
                if profile["follow_staff"] and len(customer["platforms"]) >= 2:
                    return dict(profile)
            return None

        wait_until(
            lambda: wecom_and_shops() is not None, what="a WeCom customer buying on two shops", timeout=240
        )
        profile = wecom_and_shops()
        assert profile is not None and profile["orders"]["platform_count"] >= 2
        assert {"wechat_unionid", "phone", "platform_buyer"} <= {
            item["kind"] for item in profile["identities"]
        }
        health = {shop["platform"]: shop["health"] for shop in api.get("/api/v1/commerce/shops")}
        assert set(health) == set(shops.connections) and "failing" not in health.values(), health
    finally:
        orders.stop()
        scans.stop()
        api.close()
        shops.stop()
        wecom.simulator.stop()
        server.should_exit = True
        thread.join(timeout=30)
        if thread.is_alive():
            # A server still draining (its embedded worker mid-batch) would hold locks that the
            # table cleanup after this test waits on: stop it without the grace period.
            server.force_exit = True
            thread.join(timeout=30)
        assert not thread.is_alive(), "the demo's app server did not stop"
