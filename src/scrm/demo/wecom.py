"""The demo's WeCom corp: a simulator on loopback, a connection to it, a first sync and live traffic.

The simulator keeps its corp in memory and is seeded deterministically, so a restarted demo meets the
same staff and customers again; the connection (with its callback credentials) lives in the
database and is reused.
"""

from __future__ import annotations

import logging
import random
import socket
import threading
import time
from dataclasses import dataclass

import httpx
from sqlalchemy import select
from sqlalchemy.orm import Session

from scrm.core.actors import Actor, ActorKind
from scrm.platforms.models import PlatformConnection, PlatformKind
from scrm.platforms.schemas import ConnectionCreate
from scrm.platforms.service import create_connection, full_config, secret_box
from scrm.platforms.wecom.crypto import generate_encoding_aes_key
from scrm.platforms.wecom.simulator.app import RunningSimulator, start_simulator
from scrm.platforms.wecom.simulator.config import DepartmentSeed, SimulatorConfig, StaffSeed
from scrm.platforms.wecom.sync import start_sync

log = logging.getLogger(__name__)

DEMO_CORP_ID = "wwdemo0000huayang"
DEMO_CONNECTION_NAME = "花漾美妆 · 企业微信（模拟器）"
DEMO_STAFF = [
    StaffSeed(userid="zhangsan", name="张三", department=[2], position="上海门店导购"),
    StaffSeed(userid="lisi", name="李四", department=[2], position="上海门店导购"),
    StaffSeed(userid="wangwu", name="王五", department=[3], position="北京门店导购"),
    StaffSeed(userid="zhaoliu", name="赵六", department=[4], position="抖音直播运营"),
    StaffSeed(userid="sunqi", name="孙七", department=[1], position="客服主管", customer_contact=False),
]
DEMO_DEPARTMENTS = [
    DepartmentSeed(id=1, name="花漾美妆", parentid=0, order=100),
    DepartmentSeed(id=2, name="华东·上海门店", parentid=1, order=90),
    DepartmentSeed(id=3, name="华北·北京门店", parentid=1, order=80),
    DepartmentSeed(id=4, name="电商直播部", parentid=1, order=70),
]
DEMO_CUSTOMERS = 300


@dataclass
class DemoWeCom:
    simulator: RunningSimulator
    connection_id: int


def ensure_connection(
    session: Session, *, tenant_id: int, owner_user_id: int, secret_key: str, simulator_url: str
) -> tuple[int, dict[str, object]]:
    """The demo connection (created on first run, pointed at this run's simulator). Returns its id
    and its full config, secrets included, to configure the simulator with the same credentials."""
    box = secret_box(secret_key)
    connection = session.scalars(
        select(PlatformConnection).where(
            PlatformConnection.tenant_id == tenant_id,
            PlatformConnection.platform == PlatformKind.WECOM,
            PlatformConnection.name == DEMO_CONNECTION_NAME,
        )
    ).first()
    if connection is None:
        actor = Actor(
            kind=ActorKind.USER,
            tenant_id=tenant_id,
            user_id=owner_user_id,
            permissions=frozenset({"*"}),
            name="demo",
        )
        connection = create_connection(
            session,
            actor=actor,
            data=ConnectionCreate(
                platform=PlatformKind.WECOM,
                name=DEMO_CONNECTION_NAME,
                config={
                    "corp_id": DEMO_CORP_ID,
                    "contact_secret": "demo-contact-secret",
                    "agent_id": 1000002,
                    "app_secret": "demo-app-secret",
                    "token": "DemoCallbackToken2026",
                    "encoding_aes_key": generate_encoding_aes_key(),
                    "api_base_url": simulator_url,
                    "oauth_base_url": simulator_url,
                    "sso_base_url": simulator_url,
                },
            ),
            box=box,
        )
    else:
        # The simulator's port may differ from the last run's.
        connection.config = {
            **connection.config,
            "api_base_url": simulator_url,
            "oauth_base_url": simulator_url,
            "sso_base_url": simulator_url,
        }
    session.flush()
    return connection.id, full_config(session, connection, box=box)


def start_demo_wecom(
    session: Session,
    *,
    tenant_id: int,
    owner_user_id: int,
    secret_key: str,
    public_base_url: str,
    simulator_port: int = 0,
) -> DemoWeCom:
    """Connect the demo corp, start its simulator with the connection's callback credentials, and
    queue a full sync (the worker runs it once the server is up)."""
    port = simulator_port or _free_port()
    simulator_url = f"http://127.0.0.1:{port}"
    connection_id, config = ensure_connection(
        session,
        tenant_id=tenant_id,
        owner_user_id=owner_user_id,
        secret_key=secret_key,
        simulator_url=simulator_url,
    )
    simulator = start_simulator(
        SimulatorConfig(
            corp_id=DEMO_CORP_ID,
            contact_secret="demo-contact-secret",
            app_secret="demo-app-secret",
            agent_id=1000002,
            token=str(config["token"]),
            encoding_aes_key=str(config["encoding_aes_key"]),
            callback_url=f"{public_base_url.rstrip('/')}/hooks/wecom/{connection_id}",
            corp_name="花漾美妆",
            staff=DEMO_STAFF,
            departments=DEMO_DEPARTMENTS,
            customers=DEMO_CUSTOMERS,
            seed=2026,
        ),
        port=port,
    )
    _create_channel_tags(simulator.base_url)
    start_sync(session, tenant_id=tenant_id, connection_id=connection_id, mode="full", created_by="demo")
    return DemoWeCom(simulator=simulator, connection_id=connection_id)


def _create_channel_tags(simulator_url: str) -> None:
    """The corp tags the demo's channel codes put on customers (the first sync brings them in)."""
    from scrm.demo.channels import TAG_GROUP, TAGS

    httpx.post(f"{simulator_url}/_sim/tags/create", json={"group_name": TAG_GROUP, "tags": TAGS}, timeout=10)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class DemoTraffic:
    """Simulated people scanning the demo's channel codes (and now and then leaving or coming back),
    in a thread. The codes are made through the API once the server is up (`scrm.demo.channels`)."""

    def __init__(
        self,
        simulator_url: str,
        *,
        api_url: str | None = None,
        start_after_url: str | None = None,
        mean_interval_seconds: float = 3.0,
        seed: int | None = None,
    ) -> None:
        self.simulator_url = simulator_url
        self.api_url = api_url
        self.start_after_url = start_after_url or (f"{api_url}/healthz" if api_url else None)
        self.mean_interval = mean_interval_seconds
        self.random = random.Random(seed)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="demo-traffic", daemon=True)
        self.scans = 0
        self.ways: dict[str, str] = {}  # code name -> config_id of its contact way

    def start(self) -> DemoTraffic:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def _wait_for_server(self) -> None:
        """Scans before the server listens would have their callbacks retried away: wait for it."""
        while self.start_after_url and not self._stop.is_set():
            try:
                if httpx.get(self.start_after_url, timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            self._stop.wait(0.5)

    def _ensure_codes(self) -> bool:
        from scrm.demo.channels import DemoApi, ensure_demo_codes

        if self.api_url is None:
            return False
        api = DemoApi(self.api_url)
        try:
            connection = next(
                item
                for item in api.get("/api/v1/platforms/connections", limit=200)["items"]
                if item["name"] == DEMO_CONNECTION_NAME
            )
            self.ways = ensure_demo_codes(
                api, connection_id=connection["id"], simulator_url=self.simulator_url, stop=self._stop
            )
        finally:
            api.close()
        return bool(self.ways)

    def _pick_code(self) -> str:
        from scrm.demo.channels import DEMO_CODES

        names = [code.name for code in DEMO_CODES if code.name in self.ways]
        weights = [code.share for code in DEMO_CODES if code.name in self.ways]
        return self.ways[self.random.choices(names, weights)[0]]

    def _run(self) -> None:
        self._wait_for_server()
        try:
            if not self._ensure_codes():
                log.warning("demo traffic: the channel codes could not be set up")
                return
        except (httpx.HTTPError, RuntimeError, StopIteration):
            log.warning("demo traffic: the channel codes could not be set up", exc_info=True)
            return
        with httpx.Client(base_url=self.simulator_url, timeout=10) as http:
            recent: list[tuple[str, str, str]] = []  # (external_userid, userid, unionid)
            while not self._stop.wait(self.random.expovariate(1 / self.mean_interval)):
                try:
                    roll = self.random.random()
                    if recent and roll < 0.08:
                        external_userid, userid, _ = recent.pop(self.random.randrange(len(recent)))
                        http.post(
                            "/_sim/customer/delete_staff",
                            json={"external_userid": external_userid, "userid": userid},
                        )
                        continue
                    body: dict[str, object] = {"config_id": self._pick_code()}
                    if recent and roll < 0.2:  # someone who came before scans again (returning)
                        body["unionid"] = self.random.choice(recent)[2]
                    else:
                        body["unionid"] = f"demo-union-{self.random.getrandbits(48):012x}"
                    answer = http.post("/_sim/scan", json=body).json()
                    self.scans += 1
                    if not answer.get("already_following"):
                        recent = [
                            *recent[-80:],
                            (answer["external_userid"], answer["userid"], str(body["unionid"])),
                        ]
                except (httpx.HTTPError, KeyError, ValueError):
                    log.debug("demo traffic hiccup", exc_info=True)
                    time.sleep(1)
