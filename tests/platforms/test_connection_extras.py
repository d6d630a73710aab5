"""Connection details the console depends on: one connection per corp, names for pickers, who may
cancel a sync."""

from __future__ import annotations

from sqlalchemy.orm import Session, sessionmaker

from scrm.core.jobs import start_job
from tests.conftest import Persona

CONFIG = {"corp_id": "wwdup0001", "contact_secret": "secret"}


def test_the_same_corp_cannot_be_connected_twice_unless_the_first_is_disabled(client, owner: Persona) -> None:
    first = client.post(
        "/api/v1/platforms/connections",
        headers=owner.headers,
        json={"platform": "wecom", "name": "A", "config": CONFIG},
    )
    assert first.status_code == 201
    again = client.post(
        "/api/v1/platforms/connections",
        headers=owner.headers,
        json={"platform": "wecom", "name": "B", "config": CONFIG},
    )
    assert again.status_code == 409 and again.json()["errors"][0]["field"] == "config.corp_id"
    assert client.delete(
        f"/api/v1/platforms/connections/{first.json()['id']}", headers=owner.headers
    ).status_code in (200, 204)
    assert (
        client.post(
            "/api/v1/platforms/connections",
            headers=owner.headers,
            json={"platform": "wecom", "name": "C", "config": CONFIG},
        ).status_code
        == 201
    )


def test_any_member_gets_connection_names_but_not_their_configuration(
    client, owner: Persona, agent: Persona, other_tenant: Persona
) -> None:
    created = client.post(
        "/api/v1/platforms/connections",
        headers=owner.headers,
        json={"platform": "wecom", "name": "花漾", "config": CONFIG},
    ).json()
    names = client.get("/api/v1/platforms/connection-names", headers=agent.headers).json()
    assert names == [{"id": created["id"], "name": "花漾", "platform": "wecom", "status": "active"}]
    assert client.get("/api/v1/platforms/connection-names", headers=other_tenant.headers).json() == []
    assert (
        client.get(f"/api/v1/platforms/connections/{created['id']}", headers=agent.headers).status_code == 403
    )


def test_connection_managers_cancel_syncs_but_not_other_jobs(
    client, owner: Persona, agent: Persona, committing_factory: sessionmaker[Session]
) -> None:
    role = client.post(
        "/api/v1/roles",
        headers=owner.headers,
        json={
            "name": "integrator",
            "permissions": ["platforms.connections.manage", "platforms.connections.view"],
        },
    ).json()
    client.patch(f"/api/v1/users/{agent.user_id}", headers=owner.headers, json={"role_id": role["id"]})
    with committing_factory.begin() as session:
        sync = start_job(
            session, tenant_id=owner.tenant_id, kind="wecom.full_sync", title="sync", connection_id=1
        )[0]
        other = start_job(session, tenant_id=owner.tenant_id, kind="customers.bulk_tag", title="bulk")[0]
        sync_id, other_id = sync.id, other.id
    assert (
        client.post(f"/api/v1/jobs/{sync_id}/cancel", headers=agent.headers).json()["status"] == "cancelled"
    )
    assert client.post(f"/api/v1/jobs/{other_id}/cancel", headers=agent.headers).status_code == 403
