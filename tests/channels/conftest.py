"""Fixtures of the channel tests: the app over real HTTP (with the embedded worker) beside a WeCom
simulator, a connection to it, and helpers to create codes, scan them and wait for the outcome."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from sqlalchemy.orm import Session, sessionmaker
from tests.conftest import TEST_SECRET_KEY, Persona
from tests.core.helpers import wait_until

from scrm.main import create_app
from scrm.platforms.wecom.crypto import generate_encoding_aes_key
from scrm.platforms.wecom.simulator.app import RunningSimulator, start_simulator
from scrm.platforms.wecom.simulator.config import SimulatorConfig, StaffSeed
from scrm.settings import Environment, load_settings

CORP_ID = "wwchannels000001"
CONTACT_SECRET = "contact-secret-channels"
STAFF = [
    StaffSeed(userid="zhangsan", name="张三", department=[1]),
    StaffSeed(userid="lisi", name="李四", department=[1]),
    StaffSeed(userid="wangwu", name="王五", department=[1]),
    StaffSeed(userid="zhaoliu", name="赵六", department=[1]),
    StaffSeed(userid="sunqi", name="孙七", department=[1], customer_contact=False),
]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Stack:
    api: httpx.Client
    simulator: RunningSimulator
    connection_id: int
    owner: Persona
    tags: dict[str, int] = field(default_factory=dict)  # name -> our tag id

    @property
    def sim_url(self) -> str:
        return self.simulator.base_url

    def sim(self, method: str, path: str, **kwargs: Any) -> Any:
        response = httpx.request(method, f"{self.sim_url}/_sim/{path}", timeout=10, **kwargs)
        assert response.status_code == 200, response.text
        return response.json()

    def wecom(self, api: str, body: dict[str, Any]) -> dict[str, Any]:
        token = httpx.get(
            f"{self.sim_url}/cgi-bin/gettoken",
            params={"corpid": CORP_ID, "corpsecret": CONTACT_SECRET},
            timeout=10,
        ).json()["access_token"]
        answer = httpx.post(
            f"{self.sim_url}/cgi-bin/externalcontact/{api}",
            params={"access_token": token},
            json=body,
            timeout=10,
        ).json()
        return dict(answer)

    def create_code(self, **fields: Any) -> dict[str, Any]:
        body = {"connection_id": self.connection_id, "name": "测试活码", "staff": ["zhangsan"], **fields}
        response = self.api.post("/api/v1/channels", json=body)
        assert response.status_code == 201, response.text
        return dict(response.json())

    def code(self, code_id: int) -> dict[str, Any]:
        return dict(self.api.get(f"/api/v1/channels/{code_id}").json())

    def way_users(self, code: dict[str, Any]) -> list[str]:
        return list(self.wecom("get_contact_way", {"config_id": code["config_id"]})["contact_way"]["user"])

    def wait_idle(self) -> None:
        """Until the simulator delivered every callback and the worker finished every row and due timer."""
        self.simulator.simulator.callbacks.wait_idle()
        wait_until(self._worker_idle, what="the worker to finish its work")

    def _worker_idle(self) -> bool:
        from sqlalchemy import func, select

        from scrm.core.clock import utcnow
        from scrm.core.outbox_models import InboundMessage, OutboxEvent, Timer

        factory: sessionmaker[Session] = self.factory
        with factory() as session:
            pending = session.scalar(
                select(func.count())
                .select_from(OutboxEvent)
                .where(OutboxEvent.status.in_(("pending", "processing")))
            )
            # Due timers, and welcome retries whatever their time (they are due within seconds).
            due = session.scalar(
                select(func.count())
                .select_from(Timer)
                .where(
                    Timer.status.in_(("scheduled", "processing")),
                    (Timer.due_at <= utcnow()) | (Timer.kind == "channels.welcome_retry"),
                )
            )
            inbox = session.scalar(
                select(func.count()).select_from(InboundMessage).where(InboundMessage.state == "received")
            )
        return not pending and not due and not inbox

    factory: Any = None

    def scan(self, code: dict[str, Any], **fields: Any) -> dict[str, Any]:
        """A WeChat user scans the code; returns the simulator's answer once everything is processed."""
        answer = dict(self.sim("POST", "scan", json={"config_id": code["config_id"], **fields}))
        self.wait_idle()
        return answer

    def welcome_messages(self) -> list[dict[str, Any]]:
        return list(self.sim("GET", "welcome_messages"))

    def customers_named(self, name: str) -> list[dict[str, Any]]:
        items = self.api.get("/api/v1/customers", params={"q": name, "limit": 50}).json()["items"]
        return [item for item in items if item["name"] == name]

    def customer_of(self, external_userid: str) -> dict[str, Any]:
        customers = self.api.get("/api/v1/customers", params={"q": external_userid, "limit": 5}).json()[
            "items"
        ]
        assert customers, f"no customer for {external_userid}"
        return dict(self.api.get(f"/api/v1/customers/{customers[0]['id']}").json())


@pytest.fixture
def stack(
    database_url: str, tmp_path: Path, committing_factory: sessionmaker[Session], owner: Persona
) -> Iterator[Stack]:
    """The app with its embedded worker on a free port, the simulator, a synced WeCom connection and
    two corp tags (渠道/抖音达人, 渠道/门店)."""
    port = free_port()
    settings = load_settings(
        environment=Environment.TEST,
        database_url=database_url,
        secret_key=TEST_SECRET_KEY,
        var_dir=tmp_path / "var",
        public_base_url=f"http://127.0.0.1:{port}",
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
    api = httpx.Client(base_url=f"http://127.0.0.1:{port}", headers=owner.headers, timeout=30)
    token, aes_key = "channelsCallbackToken", generate_encoding_aes_key()
    simulator = start_simulator(
        SimulatorConfig(
            corp_id=CORP_ID,
            contact_secret=CONTACT_SECRET,
            token=token,
            encoding_aes_key=aes_key,
            staff=STAFF,
            customers=0,
            seed=11,
            callback_retry_interval_seconds=0.2,
        )
    )
    try:
        created = api.post(
            "/api/v1/platforms/connections",
            json={
                "platform": "wecom",
                "name": "渠道测试企业",
                "config": {
                    "corp_id": CORP_ID,
                    "contact_secret": CONTACT_SECRET,
                    "api_base_url": simulator.base_url,
                    "token": token,
                    "encoding_aes_key": aes_key,
                },
            },
        )
        assert created.status_code == 201, created.text
        connection = created.json()
        httpx.put(f"{simulator.base_url}/_sim/callback", json={"url": connection["callback_url"]}, timeout=10)
        stack = Stack(api=api, simulator=simulator, connection_id=connection["id"], owner=owner)
        stack.factory = committing_factory
        stack.sim("POST", "tags/create", json={"group_name": "渠道", "tags": ["抖音达人", "门店", "包裹卡"]})
        job = api.post(f"/api/v1/platforms/connections/{connection['id']}/sync", json={"mode": "full"}).json()
        wait_until(
            lambda: api.get(f"/api/v1/jobs/{job['id']}").json()["status"] == "succeeded",
            what="the full sync",
        )
        stack.wait_idle()
        stack.tags = {
            tag["name"]: tag["id"] for group in api.get("/api/v1/tags").json() for tag in group["tags"]
        }
        yield stack
    finally:
        simulator.stop()
        server.should_exit = True
        thread.join(timeout=10)
        api.close()
