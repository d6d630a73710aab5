"""The WeCom module end to end, over real HTTP: the app on one port, the simulator on another.

Connect the corp, sync it, then let simulated people scan, delete and be tagged, and watch the
profiles follow through the callback receiver, the inbox, the worker and the reactions.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import uvicorn
from sqlalchemy.orm import Session, sessionmaker

from scrm.main import create_app
from scrm.platforms.wecom.crypto import generate_encoding_aes_key
from scrm.platforms.wecom.simulator.app import RunningSimulator, start_simulator
from scrm.platforms.wecom.simulator.config import SimulatorConfig, StaffSeed
from scrm.settings import Environment, load_settings
from tests.conftest import TEST_SECRET_KEY, Persona
from tests.core.helpers import wait_until

CORP_ID = "wwe2e0000000001"
CONTACT_SECRET = "contact-secret-e2e"
CUSTOMERS = 230  # over two batch pages per member, to exercise cursors


@dataclass
class Stack:
    api: httpx.Client
    simulator: RunningSimulator
    connection: dict
    owner: Persona

    def sim(self, method: str, path: str, **kwargs) -> dict:  # type: ignore[no-untyped-def]
        response = httpx.request(method, f"{self.simulator.base_url}/_sim/{path}", timeout=10, **kwargs)
        assert response.status_code == 200, response.text
        return dict(response.json())

    def customers(self, query: str = "") -> list[dict]:
        return list(self.api.get(f"/api/v1/customers?limit=200&{query}").json()["items"])


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def stack(
    database_url: str, tmp_path: Path, committing_factory: sessionmaker[Session], owner: Persona
) -> Iterator[Stack]:
    port = _free_port()
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
    api = httpx.Client(base_url=f"http://127.0.0.1:{port}", headers=owner.headers, timeout=20)
    token, aes_key = "e2eCallbackToken", generate_encoding_aes_key()
    simulator = start_simulator(
        SimulatorConfig(
            corp_id=CORP_ID,
            contact_secret=CONTACT_SECRET,
            token=token,
            encoding_aes_key=aes_key,
            staff=[StaffSeed(userid=u) for u in ("zhangsan", "lisi", "wangwu")],
            customers=CUSTOMERS,
            seed=7,
            callback_retry_interval_seconds=0.2,
        )
    )
    created = api.post(
        "/api/v1/platforms/connections",
        json={
            "platform": "wecom",
            "name": "模拟企业",
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
    # Paste the callback settings into "the WeCom admin" (the simulator), as an operator would.
    response = httpx.put(
        f"{simulator.base_url}/_sim/callback", json={"url": connection["callback_url"]}, timeout=10
    )
    assert response.status_code == 200, response.text
    try:
        yield Stack(api=api, simulator=simulator, connection=connection, owner=owner)
    finally:
        simulator.stop()
        server.should_exit = True
        thread.join(timeout=10)
        api.close()


def _sync(stack: Stack, mode: str) -> dict:
    job = stack.api.post(f"/api/v1/platforms/connections/{stack.connection['id']}/sync", json={"mode": mode})
    assert job.status_code == 202, job.text

    def finished() -> bool:
        return stack.api.get(f"/api/v1/jobs/{job.json()['id']}").json()["status"] in ("succeeded", "failed")

    wait_until(finished, what=f"the {mode} sync to finish")
    result = dict(stack.api.get(f"/api/v1/jobs/{job.json()['id']}").json())
    assert result["status"] == "succeeded", result
    return result


def test_full_sync_then_live_callbacks_keep_profiles_current(stack: Stack) -> None:
    assert stack.api.post(f"/api/v1/platforms/connections/{stack.connection['id']}/test").json()["ok"] is True
    job = _sync(stack, "full")
    state = stack.sim("GET", "state")
    assert job["progress_total"] == job["progress_done"] == state["counts"]["relations"]
    staff = stack.api.get("/api/v1/staff").json()["items"]
    assert {member["userid"] for member in staff} == {"zhangsan", "lisi", "wangwu"}
    assert all(member["has_customer_contact"] for member in staff)
    customers = stack.customers()
    assert len(customers) == min(200, CUSTOMERS)
    assert all(customer["name"] for customer in customers)

    # A second full sync is idempotent.
    _sync(stack, "full")
    assert len(stack.customers()) == min(200, CUSTOMERS)

    # A new person scans a contact way: callback → inbox → worker → profile, enriched from the API.
    way = httpx.post(
        f"{stack.simulator.base_url}/cgi-bin/externalcontact/add_contact_way",
        params={"access_token": _token(stack)},
        json={"type": 1, "scene": 2, "user": ["lisi"], "state": "e2e-store"},
        timeout=10,
    ).json()
    assert way["errcode"] == 0, way
    scan = stack.sim(
        "POST", "scan", json={"state": "e2e-store", "name": "扫码的王女士", "unionid": "union-e2e"}
    )

    def arrived() -> list[dict]:
        return [c for c in stack.customers("q=扫码的王女士") if c["name"] == "扫码的王女士"]

    wait_until(lambda: bool(arrived()), what="the scanned customer's profile")
    follow = next(f for f in arrived()[0]["follow_staff"] if f["staff_userid"] == "lisi")
    assert follow["state"] == "e2e-store" and follow["status"] == "active"
    assert {"kind": "wechat_unionid", "namespace": "", "value": "union-e2e"} in arrived()[0]["identities"]

    # The customer deletes the guide: the relation says so.
    stack.sim(
        "POST", "customer/delete_staff", json={"external_userid": scan["external_userid"], "userid": "lisi"}
    )
    wait_until(
        lambda: (
            next(f for f in arrived()[0]["follow_staff"] if f["staff_userid"] == "lisi")["status"]
            == "deleted_by_customer"
        ),
        what="the deletion to reach the profile",
    )


def test_tags_flow_both_ways(stack: Stack) -> None:
    _sync(stack, "full")
    # Console → WeCom.
    created = stack.api.post(
        "/api/v1/tags/groups",
        json={"connection_id": stack.connection["id"], "name": "会员等级", "tags": ["金卡", "银卡"]},
    )
    assert created.status_code == 201, created.text

    def pushed() -> bool:
        groups = stack.api.get("/api/v1/tags").json()
        group = next(g for g in groups if g["name"] == "会员等级")
        return bool(group["wecom_group_id"]) and all(tag["wecom_tag_id"] for tag in group["tags"])

    wait_until(pushed, what="the tag group to be pushed to WeCom")
    listed = httpx.post(
        f"{stack.simulator.base_url}/cgi-bin/externalcontact/get_corp_tag_list",
        params={"access_token": _token(stack)},
        json={},
        timeout=10,
    ).json()
    assert {
        tag["name"] for g in listed["tag_group"] if g["group_name"] == "会员等级" for tag in g["tag"]
    } == {"金卡", "银卡"}

    # WeCom admin → console (change_external_tag callbacks).
    stack.sim("POST", "tags/create", json={"group_name": "兴趣", "tags": ["咖啡", "烘焙"]})
    wait_until(
        lambda: (
            {
                t["name"]
                for g in stack.api.get("/api/v1/tags").json()
                if g["name"] == "兴趣"
                for t in g["tags"]
            }
            == {"咖啡", "烘焙"}
        ),
        what="the admin-created tags to arrive",
    )


def test_incremental_sync_catches_what_callbacks_missed(stack: Stack) -> None:
    _sync(stack, "full")
    before = len(stack.customers("staff=wangwu&limit=200"))
    # Callbacks stop reaching us; a person adds wangwu meanwhile.
    httpx.put(
        f"{stack.simulator.base_url}/_sim/callback",
        json={"url": "http://127.0.0.1:9/unreachable"},
        timeout=10,
    )
    way = httpx.post(
        f"{stack.simulator.base_url}/cgi-bin/externalcontact/add_contact_way",
        params={"access_token": _token(stack)},
        json={"type": 1, "scene": 2, "user": ["wangwu"], "state": "missed"},
        timeout=10,
    ).json()
    stack.sim("POST", "scan", json={"config_id": way["config_id"], "name": "错过回调的客户"})
    result = _sync(stack, "incremental")
    assert result["result"]["added"] == 1
    assert any(c["name"] == "错过回调的客户" for c in stack.customers("q=错过回调的客户"))
    assert before >= 0


def _token(stack: Stack) -> str:
    response = httpx.get(
        f"{stack.simulator.base_url}/cgi-bin/gettoken",
        params={"corpid": CORP_ID, "corpsecret": CONTACT_SECRET},
        timeout=10,
    )
    return str(response.json()["access_token"])
