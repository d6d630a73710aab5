"""WeCom members over HTTP: filters that page in SQL."""

from __future__ import annotations

from scrm.staff.service import upsert_member
from tests.conftest import Persona


def test_staff_filter_by_department_is_exact_and_paged_in_sql(
    client, owner: Persona, committing_factory
) -> None:
    with committing_factory.begin() as session:
        for userid, departments in (("a", [1]), ("b", [13, 3]), ("c", [31]), ("d", [2, 3]), ("e", [3])):
            upsert_member(
                session,
                tenant_id=owner.tenant_id,
                connection_id=7,
                member={"userid": userid, "name": userid, "department": departments},
            )
    first = client.get("/api/v1/staff?department=3&limit=2", headers=owner.headers).json()
    rest = client.get(
        f"/api/v1/staff?department=3&limit=2&cursor={first['next_cursor']}", headers=owner.headers
    ).json()
    assert sorted(m["userid"] for m in first["items"] + rest["items"]) == ["b", "d", "e"]
    assert len(first["items"]) == 2


def test_channel_managers_may_list_members_without_seeing_console_users(
    client, owner: Persona, agent: Persona, committing_factory
) -> None:
    """A custom role that manages channel codes needs the staff picker, not the user admin."""
    with committing_factory.begin() as session:
        upsert_member(
            session, tenant_id=owner.tenant_id, connection_id=7, member={"userid": "zhangsan", "name": "张三"}
        )
    role = client.post(
        "/api/v1/roles",
        headers=owner.headers,
        json={"name": "渠道专员", "permissions": ["channels.view", "channels.manage"], "data_scope": "all"},
    )
    assert role.status_code == 201, role.text
    key = client.post(
        "/api/v1/api-keys", headers=owner.headers, json={"name": "渠道", "role_id": role.json()["id"]}
    ).json()["secret"]
    headers = {"Authorization": f"Bearer {key}"}
    assert [m["userid"] for m in client.get("/api/v1/staff", headers=headers).json()["items"]] == ["zhangsan"]
    assert client.get("/api/v1/staff/departments", headers=headers).status_code == 200
    assert client.get("/api/v1/users", headers=headers).status_code == 403
    # Without either permission, no list.
    denied = client.get("/api/v1/staff", headers=agent.headers)
    assert denied.status_code == 403 and "channels.manage" in denied.json()["detail"]
