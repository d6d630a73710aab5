"""Staff log in with WeCom: QR/OAuth redirect, code exchange against the simulator, linked users only."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import parse_qs, urlparse

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from scrm.main import create_app
from scrm.platforms.wecom.crypto import generate_encoding_aes_key
from scrm.platforms.wecom.simulator.app import RunningSimulator, start_simulator
from scrm.platforms.wecom.simulator.config import SimulatorConfig, StaffSeed
from scrm.staff.service import upsert_member
from tests.conftest import Persona

CORP = "wwlogin000000001"


@pytest.fixture
def simulator() -> Iterator[RunningSimulator]:
    running = start_simulator(
        SimulatorConfig(
            corp_id=CORP,
            contact_secret="contact",
            app_secret="app-secret",
            agent_id=1000002,
            token="tok",
            encoding_aes_key=generate_encoding_aes_key(),
            staff=[StaffSeed(userid="zhangsan"), StaffSeed(userid="lisi")],
        )
    )
    yield running
    running.stop()


@pytest.fixture
def web(app_settings, committing_factory) -> Iterator[TestClient]:
    settings = app_settings.model_copy(update={"public_base_url": "http://testserver"})
    with TestClient(
        create_app(settings, session_factory=committing_factory, run_embedded_worker=False),
        follow_redirects=False,
    ) as client:
        yield client


@pytest.fixture
def connection_id(
    web: TestClient,
    owner: Persona,
    simulator: RunningSimulator,
    committing_factory: sessionmaker[Session],
    agent: Persona,
) -> int:
    base = simulator.base_url
    created = web.post(
        "/api/v1/platforms/connections",
        headers=owner.headers,
        json={
            "platform": "wecom",
            "name": "模拟企业",
            "config": {
                "corp_id": CORP,
                "contact_secret": "contact",
                "agent_id": 1000002,
                "app_secret": "app-secret",
                "api_base_url": base,
                "oauth_base_url": base,
                "sso_base_url": base,
            },
        },
    )
    assert created.status_code == 201, created.text
    connection_id = int(created.json()["id"])
    with committing_factory.begin() as session:
        for userid in ("zhangsan", "lisi"):
            upsert_member(
                session,
                tenant_id=owner.tenant_id,
                connection_id=connection_id,
                member={"userid": userid, "name": userid},
            )
    staff = web.get("/api/v1/staff?q=zhangsan", headers=owner.headers).json()["items"][0]
    assert (
        web.put(
            f"/api/v1/staff/{staff['id']}/user", headers=owner.headers, json={"user_id": agent.user_id}
        ).status_code
        == 200
    )
    return connection_id


def _log_in_as(web: TestClient, connection_id: int, userid: str, mode: str = "qr") -> httpx.Response:
    start = web.get(f"/api/v1/auth/wecom/{connection_id}/authorize?mode={mode}")
    assert start.status_code == 302
    wecom_page = start.headers["location"]
    assert ("/wwlogin/sso/login?" if mode == "qr" else "/connect/oauth2/authorize?") in wecom_page
    page, _, _fragment = wecom_page.partition("#")  # OAuth URLs end with #wechat_redirect
    chosen = httpx.get(page + f"&sim_userid={userid}", follow_redirects=False, timeout=10)
    assert chosen.status_code in (302, 303, 307), chosen.text
    back = urlparse(chosen.headers["location"])
    assert back.path == f"/api/v1/auth/wecom/{connection_id}/callback"
    return web.get(f"{back.path}?{back.query}")


def test_a_linked_member_logs_in_with_the_qr_page(
    web: TestClient, connection_id: int, agent: Persona
) -> None:
    providers = web.get("/api/v1/auth/wecom/providers").json()
    assert providers == [{"connection_id": connection_id, "name": "模拟企业"}]
    done = _log_in_as(web, connection_id, "zhangsan")
    assert done.status_code == 302
    location = urlparse(done.headers["location"])
    assert location.path == "/login/wecom"
    token = parse_qs(location.fragment)["access_token"][0]
    me = web.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}).json()
    assert me["user"]["email"] == agent.email
    audit = web.get("/api/v1/audit-log?action=auth.login_wecom", headers={"Authorization": f"Bearer {token}"})
    assert audit.status_code == 403  # agents can't read the audit log; the entry exists for admins


def test_in_wecom_oauth_works_the_same(web: TestClient, connection_id: int) -> None:
    done = _log_in_as(web, connection_id, "zhangsan", mode="oauth")
    assert urlparse(done.headers["location"]).path == "/login/wecom"


def test_an_unlinked_member_is_sent_back_with_a_reason(web: TestClient, connection_id: int) -> None:
    done = _log_in_as(web, connection_id, "lisi")
    assert done.headers["location"] == "/login?wecom_error=not_linked"


def test_forged_state_and_reused_codes_are_refused(
    web: TestClient, connection_id: int, simulator: RunningSimulator
) -> None:
    start = web.get(f"/api/v1/auth/wecom/{connection_id}/authorize")
    chosen = httpx.get(start.headers["location"] + "&sim_userid=zhangsan", follow_redirects=False, timeout=10)
    back = urlparse(chosen.headers["location"])
    params = parse_qs(back.query)
    forged = web.get(f"{back.path}?code={params['code'][0]}&state=forged.state.value")
    assert forged.headers["location"] == "/login?wecom_error=state"
    first = web.get(f"{back.path}?{back.query}")
    assert urlparse(first.headers["location"]).path == "/login/wecom"
    again = web.get(f"{back.path}?{back.query}")
    assert again.headers["location"] == "/login?wecom_error=code"


def test_connections_without_an_app_offer_no_login(web: TestClient, owner: Persona) -> None:
    web.post(
        "/api/v1/platforms/connections",
        headers=owner.headers,
        json={"platform": "wecom", "name": "no app", "config": {"corp_id": "wwx", "contact_secret": "s"}},
    )
    assert web.get("/api/v1/auth/wecom/providers").json() == []
    created_id = web.get("/api/v1/platforms/connections", headers=owner.headers).json()["items"][0]["id"]
    assert web.get(f"/api/v1/auth/wecom/{created_id}/authorize").status_code == 401
