"""Platform connections over the API: validation, masking of secrets, permissions, tenant isolation,
audit, and the live connection test."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from scrm.identity.models import AuditEntry, Role
from scrm.platforms.models import PlatformConnection
from scrm.platforms.service import get_connection_secrets, load_wecom_config, secret_box
from scrm.platforms.wecom.crypto import generate_encoding_aes_key
from scrm.platforms.wecom.simulator import SimulatorConfig, start_simulator
from tests.conftest import TEST_SECRET_KEY, Persona, _make_persona
from tests.platforms.wecom.conftest import CORP_ID, create_wecom_connection

Factory = sessionmaker[Session]
URL = "/api/v1/platforms/connections"
CONTACT_SECRET = "contact-secret-value-123"
APP_SECRET = "app-secret-value-456"


class SecretWatch:
    """Every response body the test saw, to prove no secret ever left the server."""

    def __init__(self, client: TestClient) -> None:
        self.client = client
        self.bodies: list[str] = []

    def __getattr__(self, method: str) -> Any:
        call = getattr(self.client, method)

        def wrapped(*args: Any, **kwargs: Any) -> Any:
            response = call(*args, **kwargs)
            self.bodies.append(response.text)
            return response

        return wrapped

    def assert_never_returned(self, *secrets: str) -> None:
        for body in self.bodies:
            for secret in secrets:
                assert secret not in body


@pytest.fixture
def api(client: TestClient) -> SecretWatch:
    return SecretWatch(client)


@pytest.fixture
def viewer(committing_factory: Factory, owner: Persona) -> Persona:
    """Someone who may see connections but not manage them."""
    with committing_factory.begin() as session:
        session.add(
            Role(
                tenant_id=owner.tenant_id,
                key="connection_viewer",
                name="Viewer",
                permissions=["platforms.connections.view"],
                data_scope="all",
            )
        )
    return _make_persona(committing_factory, owner.tenant_id, "viewer@brand-a.test", "connection_viewer")


def test_create_masks_secrets_and_shows_the_callback_settings(
    api: SecretWatch, owner: Persona, app_settings: Any, committing_factory: Factory
) -> None:
    response = api.post(
        URL,
        json={
            "platform": "wecom",
            "name": "Brand A corp",
            "config": {
                "corp_id": CORP_ID,
                "contact_secret": CONTACT_SECRET,
                "agent_id": 1000002,
                "app_secret": APP_SECRET,
                "api_base_url": "http://127.0.0.1:1/",
            },
        },
        headers=owner.headers,
    )
    assert response.status_code == 201, response.text
    data = response.json()
    assert data["platform"] == "wecom"
    assert data["status"] == "active"
    assert data["callback_url"] == f"{app_settings.public_base_url}/hooks/wecom/{data['id']}"
    assert len(data["token"]) == 32 and data["token"].isalnum()
    assert len(data["encoding_aes_key"]) == 43
    assert data["config"] == {
        "corp_id": CORP_ID,
        "agent_id": 1000002,
        "api_base_url": "http://127.0.0.1:1",
        "has_contact_secret": True,
        "has_app_secret": True,
        "has_token": True,
        "has_encoding_aes_key": True,
    }
    api.assert_never_returned(CONTACT_SECRET, APP_SECRET)

    with committing_factory() as session:
        row = session.get_one(PlatformConnection, data["id"])
        assert CONTACT_SECRET not in row.secrets_encrypted and CONTACT_SECRET not in json.dumps(row.config)
        box = secret_box(TEST_SECRET_KEY)
        assert get_connection_secrets(session, row, box=box) == {
            "contact_secret": CONTACT_SECRET,
            "app_secret": APP_SECRET,
            "token": data["token"],
            "encoding_aes_key": data["encoding_aes_key"],
        }
        config = load_wecom_config(session, owner.tenant_id, data["id"], box=box)
        assert (config.corp_id, config.contact_secret, config.agent_id) == (CORP_ID, CONTACT_SECRET, 1000002)
        assert config.api_base_url == "http://127.0.0.1:1"


def test_given_callback_credentials_are_kept(api: SecretWatch, owner: Persona) -> None:
    key = "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C"
    data = create_wecom_connection(api.client, owner, token="QDG6eK", encoding_aes_key=key)
    assert (data["token"], data["encoding_aes_key"]) == ("QDG6eK", key)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"platform": "wecom", "name": "x", "config": {"contact_secret": "s"}}, "config.corp_id"),
        ({"platform": "wecom", "name": "x", "config": {"corp_id": "ww1"}}, "config.contact_secret"),
        (
            {
                "platform": "wecom",
                "name": "x",
                "config": {"corp_id": "ww1", "contact_secret": "s", "encoding_aes_key": "a" * 42},
            },
            "config.encoding_aes_key",
        ),
        (
            {
                "platform": "wecom",
                "name": "x",
                "config": {"corp_id": "ww1", "contact_secret": "s", "token": "has space"},
            },
            "config.token",
        ),
        (
            {
                "platform": "wecom",
                "name": "x",
                "config": {"corp_id": "ww1", "contact_secret": "s", "colour": "red"},
            },
            "config.colour",
        ),
        (
            {
                "platform": "wecom",
                "name": "x",
                "config": {"corp_id": "ww1", "contact_secret": "s", "api_base_url": "ftp://x"},
            },
            "config.api_base_url",
        ),
        (
            {
                "platform": "wecom",
                "name": "x",
                "config": {"corp_id": "ww1", "contact_secret": "s", "agent_id": 5},
            },
            "config",
        ),
        ({"platform": "youzan", "name": "x", "config": {}}, "config.client_id"),
        ({"platform": "myspace", "name": "x", "config": {}}, "platform"),
        ({"platform": "wecom", "name": "", "config": {"corp_id": "ww1", "contact_secret": "s"}}, "name"),
    ],
)
def test_invalid_configs_are_422_with_field_errors(
    api: SecretWatch, owner: Persona, body: dict[str, Any], field: str
) -> None:
    response = api.post(URL, json=body, headers=owner.headers)
    assert response.status_code == 422, response.text
    assert field in [error["field"] for error in response.json()["errors"]]


def test_list_get_update_disable(api: SecretWatch, owner: Persona, committing_factory: Factory) -> None:
    first = create_wecom_connection(api.client, owner)
    second = create_wecom_connection(api.client, owner, corp_id="wwcorp0000000002")

    page = api.get(URL, params={"limit": 1}, headers=owner.headers).json()
    assert [item["id"] for item in page["items"]] == [second["id"]]
    assert page["items"][0]["token"] is None  # lists never carry credentials
    rest = api.get(URL, params={"limit": 1, "cursor": page["next_cursor"]}, headers=owner.headers).json()
    assert [item["id"] for item in rest["items"]] == [first["id"]] and rest["next_cursor"] is None

    one = api.get(f"{URL}/{first['id']}", headers=owner.headers).json()
    assert one["token"] == first["token"]

    response = api.patch(
        f"{URL}/{first['id']}",
        json={
            "name": "Renamed",
            "config": {"contact_secret": "rotated-secret-789", "api_base_url": "http://127.0.0.1:2"},
        },
        headers=owner.headers,
    )
    assert response.status_code == 200, response.text
    updated = response.json()
    assert updated["name"] == "Renamed"
    assert updated["config"]["api_base_url"] == "http://127.0.0.1:2"
    assert updated["token"] == first["token"]  # untouched fields stay

    response = api.patch(
        f"{URL}/{first['id']}", json={"config": {"api_base_url": None}}, headers=owner.headers
    )
    assert "api_base_url" not in response.json()["config"]

    response = api.patch(
        f"{URL}/{first['id']}", json={"config": {"encoding_aes_key": "short"}}, headers=owner.headers
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "config.encoding_aes_key"

    with committing_factory() as session:
        row = session.get_one(PlatformConnection, first["id"])
        assert get_connection_secrets(session, row, box=secret_box(TEST_SECRET_KEY))["contact_secret"] == (
            "rotated-secret-789"
        )

    disabled = api.delete(f"{URL}/{first['id']}", headers=owner.headers)
    assert disabled.status_code == 200 and disabled.json()["status"] == "disabled"
    assert api.delete(f"{URL}/{first['id']}", headers=owner.headers).json()["status"] == "disabled"
    api.assert_never_returned(CONTACT_SECRET, "rotated-secret-789")


def test_permissions(api: SecretWatch, owner: Persona, agent: Persona, viewer: Persona) -> None:
    created = create_wecom_connection(api.client, owner)
    assert api.get(URL, headers=agent.headers).status_code == 403
    assert api.get(f"{URL}/{created['id']}", headers=agent.headers).status_code == 403
    assert (
        api.post(
            URL, json={"platform": "wecom", "name": "x", "config": {}}, headers=agent.headers
        ).status_code
        == 403
    )

    seen = api.get(f"{URL}/{created['id']}", headers=viewer.headers)
    assert seen.status_code == 200
    assert seen.json()["token"] is None and seen.json()["encoding_aes_key"] is None
    assert api.patch(f"{URL}/{created['id']}", json={"name": "x"}, headers=viewer.headers).status_code == 403
    assert api.delete(f"{URL}/{created['id']}", headers=viewer.headers).status_code == 403
    assert api.post(f"{URL}/{created['id']}/test", headers=viewer.headers).status_code == 403
    api.bodies = api.bodies[1:]  # all but the creation's answer, which showed the owner the token
    api.assert_never_returned(created["token"], CONTACT_SECRET)


def test_another_tenants_connection_is_404(api: SecretWatch, owner: Persona, other_tenant: Persona) -> None:
    created = create_wecom_connection(api.client, owner)
    path = f"{URL}/{created['id']}"
    assert api.get(path, headers=other_tenant.headers).status_code == 404
    assert api.patch(path, json={"name": "mine now"}, headers=other_tenant.headers).status_code == 404
    assert api.delete(path, headers=other_tenant.headers).status_code == 404
    assert api.post(f"{path}/test", headers=other_tenant.headers).status_code == 404
    assert api.get(URL, headers=other_tenant.headers).json()["items"] == []
    assert api.get(path, headers=owner.headers).json()["status"] == "active"


def test_changes_are_audited_without_secret_values(
    api: SecretWatch, owner: Persona, committing_factory: Factory
) -> None:
    created = create_wecom_connection(api.client, owner, app_secret=APP_SECRET, agent_id=7)
    api.patch(
        f"{URL}/{created['id']}",
        json={"config": {"contact_secret": "rotated-secret-789"}},
        headers=owner.headers,
    )
    api.patch(f"{URL}/{created['id']}", json={"rotate_callback_credentials": True}, headers=owner.headers)
    api.delete(f"{URL}/{created['id']}", headers=owner.headers)
    with committing_factory() as session:
        entries = session.scalars(
            select(AuditEntry)
            .where(AuditEntry.action.startswith("platform_connection."))
            .order_by(AuditEntry.id)
        ).all()
    assert [entry.action for entry in entries] == [
        "platform_connection.created",
        "platform_connection.updated",
        "platform_connection.updated",
        "platform_connection.disabled",
    ]
    assert entries[1].detail["secrets_changed"] == ["contact_secret"]
    assert sorted(entries[2].detail["secrets_changed"]) == ["encoding_aes_key", "token"]
    dumped = json.dumps([entry.detail for entry in entries])
    for secret in (
        CONTACT_SECRET,
        APP_SECRET,
        "rotated-secret-789",
        created["token"],
        created["encoding_aes_key"],
    ):
        assert secret not in dumped
    log = api.get("/api/v1/audit-log", params={"action": "platform_connection"}, headers=owner.headers)
    assert log.status_code == 200 and len(log.json()["items"]) == 4
    api.assert_never_returned(CONTACT_SECRET, APP_SECRET, "rotated-secret-789")


def test_platform_types_describe_the_config_form(api: SecretWatch, owner: Persona) -> None:
    types = {
        item["platform"]: item for item in api.get("/api/v1/platforms/types", headers=owner.headers).json()
    }
    assert set(types) == {"wecom", "youzan", "taobao", "douyin", "jd", "pdd"}
    wecom = types["wecom"]
    assert wecom["write_only_fields"] == ["app_secret", "contact_secret"]
    assert "corp_id" in wecom["config_schema"]["properties"]
    assert types["taobao"]["write_only_fields"] == ["app_secret", "session"]
    assert {"app_key", "seller_id", "sign_method"} <= set(types["taobao"]["config_schema"]["properties"])


# --- the connection test, against the WeCom simulator over loopback HTTP --------------------------


@pytest.fixture
def wecom_api() -> Iterator[str]:
    """The WeCom simulator for our corp, knowing the contact secret and an app's secret."""
    config = SimulatorConfig(
        corp_id=CORP_ID,
        contact_secret=CONTACT_SECRET,
        app_secret=APP_SECRET,
        agent_id=1000002,
        token="SimToken",
        encoding_aes_key=generate_encoding_aes_key(),
    )
    with start_simulator(config) as running:
        yield running.base_url


def test_the_connection_test_fetches_a_token_and_records_failures(
    api: SecretWatch, owner: Persona, wecom_api: str, committing_factory: Factory
) -> None:
    created = create_wecom_connection(
        api.client, owner, api_base_url=wecom_api, agent_id=1000002, app_secret=APP_SECRET
    )
    path = f"{URL}/{created['id']}"

    result = api.post(f"{path}/test", headers=owner.headers)
    assert result.status_code == 200
    assert result.json()["ok"] is True, result.json()
    assert "app 1000002 secret" in result.json()["detail"]
    assert result.json()["latency_ms"] > 0

    api.patch(path, json={"config": {"contact_secret": "wrong-secret-000"}}, headers=owner.headers)
    failed = api.post(f"{path}/test", headers=owner.headers)
    assert failed.status_code == 200
    assert failed.json()["ok"] is False
    assert "40001" in failed.json()["detail"]
    connection = api.get(path, headers=owner.headers).json()
    assert connection["status"] == "error"
    assert "40001" in connection["last_error"] and connection["last_error_at"]

    api.patch(path, json={"config": {"contact_secret": CONTACT_SECRET}}, headers=owner.headers)
    assert api.post(f"{path}/test", headers=owner.headers).json()["ok"] is True
    assert api.get(path, headers=owner.headers).json()["status"] == "active"
    api.assert_never_returned(CONTACT_SECRET, "wrong-secret-000")


def test_an_unreachable_platform_is_a_failed_test_not_an_error(
    api: SecretWatch, owner: Persona, committing_factory: Factory
) -> None:
    created = create_wecom_connection(api.client, owner, api_base_url="http://127.0.0.1:9")
    result = api.post(f"{URL}/{created['id']}/test", headers=owner.headers)
    assert result.status_code == 200
    assert result.json()["ok"] is False
    assert result.json()["detail"]
    api.assert_never_returned(CONTACT_SECRET)
