"""Browser tests: the built console, served by a real server on loopback, driven in Debian's chromium.

The server runs in a thread on a free port over a migrated SQLite file seeded with the demo
workspace, with its embedded worker, exactly as `scrm demo` runs it.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from scrm.demo.wecom import DemoWeCom

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict) -> dict:
    return {
        **browser_type_launch_args,
        "executable_path": CHROMIUM,
        "args": [*browser_type_launch_args.get("args", []), *CHROMIUM_ARGS],
    }


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class LiveServer(str):
    """The server's base URL (a str, for pytest-playwright's base_url) and its database URL."""

    database_url: str
    wecom_simulator_url: str
    wecom_connection_id: int

    def __new__(cls, base: str, database_url: str, wecom: DemoWeCom) -> LiveServer:
        instance = super().__new__(cls, base)
        instance.database_url = database_url
        instance.wecom_simulator_url = wecom.simulator.base_url
        instance.wecom_connection_id = wecom.connection_id
        return instance


@pytest.fixture(scope="session")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    import uvicorn

    from scrm.core.db import make_engine, make_session_factory, session_scope
    from scrm.demo.seed import DEMO_EMAIL, seed_demo
    from scrm.demo.wecom import start_demo_wecom
    from scrm.identity.models import User
    from scrm.main import WEB_DIST, create_app
    from scrm.migrate import upgrade_to_head
    from scrm.registry import build_registry
    from scrm.settings import Environment, load_settings

    if not (WEB_DIST / "index.html").is_file():
        pytest.fail("the console is not built: run `./dev setup` (npm ci && npm run build in frontend/)")
    var_dir: Path = tmp_path_factory.mktemp("live")
    port = _free_port()
    settings = load_settings(
        environment=Environment.TEST,
        var_dir=var_dir,
        public_base_url=f"http://127.0.0.1:{port}",
        database_url=f"sqlite:///{var_dir / 'live.db'}",
        secret_key="browser-" + "k" * 40,
    )
    upgrade_to_head(settings.database_url)
    build_registry()
    with session_scope(make_session_factory(make_engine(settings.database_url))) as session:
        seed = seed_demo(session)
        owner_id = session.scalars(select(User.id).where(User.email == DEMO_EMAIL)).one()
        wecom = start_demo_wecom(
            session,
            tenant_id=seed.tenant_id,
            owner_user_id=owner_id,
            secret_key=settings.resolved_secret_key,
            public_base_url=f"http://127.0.0.1:{port}",
        )
    server = uvicorn.Server(
        uvicorn.Config(
            create_app(settings, run_embedded_worker=True), host="127.0.0.1", port=port, log_level="warning"
        )
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{port}"
    for _ in range(100):
        try:
            if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            time.sleep(0.1)
    yield LiveServer(base, settings.database_url, wecom)
    server.should_exit = True
    thread.join(timeout=10)
    wecom.simulator.stop()


@pytest.fixture(scope="session")
def base_url(live_server: LiveServer) -> str:
    return str(live_server)
