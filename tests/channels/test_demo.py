"""`scrm demo`'s channel codes: made through the API once the server is up, scanned steadily, and
brought back when the demo restarts with a fresh simulator (same codes, new contact ways)."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
import uvicorn
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from tests.channels.conftest import free_port
from tests.conftest import TEST_SECRET_KEY
from tests.core.helpers import wait_until

from scrm.demo.channels import DEMO_CODES
from scrm.demo.seed import DEMO_EMAIL, seed_demo
from scrm.demo.wecom import DemoTraffic, start_demo_wecom
from scrm.identity.models import User
from scrm.main import create_app
from scrm.settings import Environment, load_settings


@pytest.mark.slow
def test_the_demo_scans_its_three_codes_and_survives_a_restart(
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

    def start_wecom():  # type: ignore[no-untyped-def]
        with committing_factory.begin() as session:
            tenant_id = seed_demo(session).tenant_id
            owner_id = session.scalars(select(User.id).where(User.email == DEMO_EMAIL)).one()
            return start_demo_wecom(
                session,
                tenant_id=tenant_id,
                owner_user_id=owner_id,
                secret_key=TEST_SECRET_KEY,
                public_base_url=base,
            )

    wecom = start_wecom()
    traffic = DemoTraffic(wecom.simulator.base_url, api_url=base, mean_interval_seconds=0.1, seed=1).start()
    try:
        from scrm.demo.channels import DemoApi

        api = DemoApi(base)
        wait_until(lambda: traffic.scans >= 30, what="demo scans", timeout=120)
        codes = {code["name"]: code for code in api.get("/api/v1/channels")["items"]}
        assert set(codes) == {code.name for code in DEMO_CODES}

        def counted() -> dict[str, int]:
            summary = api.get("/api/v1/channels/analytics/summary")
            return {row["name"]: row["adds"] for row in summary["codes"]}

        wait_until(lambda: len(counted()) == 3, what="adds through every code")
        assert api.get("/api/v1/channels/analytics/live")["items"]
        store_code = codes["上海徐汇店·收银台"]
        assert store_code["store"] == "上海徐汇店" and [t["name"] for t in store_code["tags"]] == ["门店扫码"]
        traffic.stop()

        # The demo restarts: a new simulator knows nothing; the same codes get new contact ways.
        wecom.simulator.stop()
        before = sum(counted().values())
        wecom = start_wecom()
        traffic = DemoTraffic(
            wecom.simulator.base_url, api_url=base, mean_interval_seconds=0.1, seed=2
        ).start()
        wait_until(lambda: traffic.scans >= 10, what="scans after the restart", timeout=180)
        after = {code["name"]: code for code in api.get("/api/v1/channels")["items"]}
        assert set(after) == set(codes)
        assert all(after[name]["config_id"] != codes[name]["config_id"] for name in codes)
        wait_until(lambda: sum(counted().values()) > before, what="adds after the restart")
        api.close()
    finally:
        traffic.stop()
        wecom.simulator.stop()
        server.should_exit = True
        thread.join(timeout=10)
