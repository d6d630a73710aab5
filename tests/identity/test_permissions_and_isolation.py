"""Permission checks, data scopes and tenant isolation on every identity endpoint."""

from __future__ import annotations

import pytest

from tests.conftest import Persona


def _role_id(client, persona: Persona, key: str) -> int:
    return next(
        role["id"]
        for role in client.get("/api/v1/roles", headers=persona.headers).json()
        if role["key"] == key
    )


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("get", "/api/v1/users", None),
        (
            "post",
            "/api/v1/users",
            {"email": "n@x.test", "display_name": "n", "password": "12345678", "role_id": 1},
        ),
        ("post", "/api/v1/departments", {"name": "East"}),
        ("post", "/api/v1/roles", {"name": "r", "permissions": []}),
        ("get", "/api/v1/api-keys", None),
        ("post", "/api/v1/api-keys", {"name": "k", "role_id": 1}),
        ("get", "/api/v1/audit-log", None),
    ],
)
def test_agent_without_permission_gets_403(client, agent: Persona, method: str, path: str, body) -> None:
    response = getattr(client, method)(path, headers=agent.headers, **({"json": body} if body else {}))
    assert response.status_code == 403, response.text
    assert response.json()["type"] == "/problems/permission-denied"


def test_finance_reads_audit_but_cannot_manage_staff(client, finance: Persona) -> None:
    assert client.get("/api/v1/audit-log", headers=finance.headers).status_code == 200
    assert client.post("/api/v1/departments", headers=finance.headers, json={"name": "x"}).status_code == 403


def test_admin_cannot_promote_to_owner_or_change_the_owner(
    client, owner: Persona, admin: Persona, agent: Persona
) -> None:
    owner_role = _role_id(client, owner, "owner")
    response = client.patch(
        f"/api/v1/users/{agent.user_id}", headers=admin.headers, json={"role_id": owner_role}
    )
    assert response.status_code == 403
    response = client.patch(
        f"/api/v1/users/{owner.user_id}", headers=admin.headers, json={"is_active": False}
    )
    assert response.status_code == 403


def test_nobody_deactivates_themselves(client, owner: Persona) -> None:
    response = client.patch(
        f"/api/v1/users/{owner.user_id}", headers=owner.headers, json={"is_active": False}
    )
    assert response.status_code == 409


def test_custom_role_grants_exactly_its_permissions(client, owner: Persona, agent: Persona) -> None:
    created = client.post(
        "/api/v1/roles",
        headers=owner.headers,
        json={"name": "审计员", "permissions": ["identity.audit.view"], "data_scope": "all"},
    )
    assert created.status_code == 201, created.text
    client.patch(
        f"/api/v1/users/{agent.user_id}", headers=owner.headers, json={"role_id": created.json()["id"]}
    )
    assert client.get("/api/v1/audit-log", headers=agent.headers).status_code == 200
    assert client.get("/api/v1/api-keys", headers=agent.headers).status_code == 403


def test_unknown_permission_codes_are_rejected_with_field_errors(client, owner: Persona) -> None:
    response = client.post(
        "/api/v1/roles", headers=owner.headers, json={"name": "x", "permissions": ["launch.missiles"]}
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "permissions"


def test_builtin_roles_cannot_be_deleted_and_assigned_roles_are_kept(
    client, owner: Persona, agent: Persona
) -> None:
    assert (
        client.delete(f"/api/v1/roles/{_role_id(client, owner, 'agent')}", headers=owner.headers).status_code
        == 409
    )
    custom = client.post("/api/v1/roles", headers=owner.headers, json={"name": "c", "permissions": []}).json()
    client.patch(f"/api/v1/users/{agent.user_id}", headers=owner.headers, json={"role_id": custom["id"]})
    assert client.delete(f"/api/v1/roles/{custom['id']}", headers=owner.headers).status_code == 409


def test_department_scope_sees_only_its_department_and_below(client, owner: Persona) -> None:
    east = client.post("/api/v1/departments", headers=owner.headers, json={"name": "华东"}).json()
    shanghai = client.post(
        "/api/v1/departments", headers=owner.headers, json={"name": "上海", "parent_id": east["id"]}
    ).json()
    north = client.post("/api/v1/departments", headers=owner.headers, json={"name": "华北"}).json()
    operator = _role_id(client, owner, "operator")
    agent_role = _role_id(client, owner, "agent")

    def add(email: str, department_id: int, role_id: int) -> None:
        response = client.post(
            "/api/v1/users",
            headers=owner.headers,
            json={
                "email": email,
                "display_name": email,
                "password": "password-123",
                "role_id": role_id,
                "department_id": department_id,
            },
        )
        assert response.status_code == 201, response.text

    add("lead@a.test", east["id"], operator)
    add("sh@a.test", shanghai["id"], agent_role)
    add("bj@a.test", north["id"], agent_role)
    token = client.post(
        "/api/v1/auth/login", json={"email": "lead@a.test", "password": "password-123"}
    ).json()["access_token"]
    seen = {
        user["email"]
        for user in client.get("/api/v1/users", headers={"Authorization": f"Bearer {token}"}).json()["items"]
    }
    assert seen == {"lead@a.test", "sh@a.test"}


def test_users_list_paginates_with_a_cursor(client, owner: Persona) -> None:
    role = _role_id(client, owner, "agent")
    for index in range(5):
        client.post(
            "/api/v1/users",
            headers=owner.headers,
            json={
                "email": f"u{index}@a.test",
                "display_name": f"u{index}",
                "password": "password-123",
                "role_id": role,
            },
        )
    first = client.get("/api/v1/users?limit=4", headers=owner.headers).json()
    second = client.get(f"/api/v1/users?limit=4&cursor={first['next_cursor']}", headers=owner.headers).json()
    emails = [u["email"] for u in first["items"] + second["items"]]
    assert len(emails) == 6 and len(set(emails)) == 6
    assert second["next_cursor"] is None
    assert client.get("/api/v1/users?cursor=not-a-cursor", headers=owner.headers).status_code == 422


# --- tenant isolation --------------------------------------------------------------------------------


def _foreign_ids(client, other: Persona) -> dict[str, int]:
    department = client.post("/api/v1/departments", headers=other.headers, json={"name": "B-dept"}).json()
    role = client.post(
        "/api/v1/roles", headers=other.headers, json={"name": "B-role", "permissions": []}
    ).json()
    key = client.post(
        "/api/v1/api-keys", headers=other.headers, json={"name": "B-key", "role_id": role["id"]}
    ).json()
    return {"user": other.user_id, "department": department["id"], "role": role["id"], "api_key": key["id"]}


def test_another_tenants_ids_answer_404_and_change_nothing(
    client, owner: Persona, other_tenant: Persona
) -> None:
    ids = _foreign_ids(client, other_tenant)
    attempts = [
        ("get", f"/api/v1/users/{ids['user']}", None),
        ("patch", f"/api/v1/users/{ids['user']}", {"display_name": "hijacked"}),
        ("get", f"/api/v1/roles/{ids['role']}", None),
        ("patch", f"/api/v1/roles/{ids['role']}", {"name": "hijacked"}),
        ("delete", f"/api/v1/roles/{ids['role']}", None),
        ("delete", f"/api/v1/api-keys/{ids['api_key']}", None),
        ("post", "/api/v1/departments", {"name": "child", "parent_id": ids["department"]}),
        (
            "post",
            "/api/v1/users",
            {"email": "x@a.test", "display_name": "x", "password": "password-1", "role_id": ids["role"]},
        ),
        ("post", "/api/v1/api-keys", {"name": "k", "role_id": ids["role"]}),
    ]
    for method, path, body in attempts:
        response = getattr(client, method)(path, headers=owner.headers, **({"json": body} if body else {}))
        assert response.status_code == 404, (method, path, response.text)
        assert response.headers["content-type"].startswith("application/problem+json")
    # Tenant B's records are untouched.
    b_role = client.get(f"/api/v1/roles/{ids['role']}", headers=other_tenant.headers).json()
    assert b_role["name"] == "B-role"
    b_keys = client.get("/api/v1/api-keys", headers=other_tenant.headers).json()["items"]
    assert b_keys[0]["revoked_at"] is None
    assert (
        client.get(f"/api/v1/users/{ids['user']}", headers=other_tenant.headers).json()["display_name"]
        != "hijacked"
    )


def test_lists_never_show_another_tenants_rows(client, owner: Persona, other_tenant: Persona) -> None:
    _foreign_ids(client, other_tenant)
    users = client.get("/api/v1/users", headers=owner.headers).json()["items"]
    assert {u["email"] for u in users} == {owner.email}
    assert all(
        not r["name"].startswith("B-") for r in client.get("/api/v1/roles", headers=owner.headers).json()
    )
    assert client.get("/api/v1/departments", headers=owner.headers).json() == []
    assert client.get("/api/v1/api-keys", headers=owner.headers).json()["items"] == []
    audit = client.get("/api/v1/audit-log", headers=owner.headers).json()["items"]
    assert all("B-" not in str(entry["detail"]) for entry in audit)


def test_every_api_route_requires_authentication(app, client) -> None:
    """Walks the OpenAPI document so that new endpoints are covered without touching this test."""
    public = {
        ("post", "/api/v1/auth/login"),
        # WeCom login: the provider list and the redirect dance happen before anyone is logged in.
        ("get", "/api/v1/auth/wecom/providers"),
        ("get", "/api/v1/auth/wecom/{connection_id}/authorize"),
        ("get", "/api/v1/auth/wecom/{connection_id}/callback"),
        # Customers fill in public forms and rate tickets through signed links, without an account.
        ("get", "/api/v1/public/forms/{public_key}"),
        ("post", "/api/v1/public/forms/{public_key}/submissions"),
        ("get", "/api/v1/public/ticket-ratings/{token}"),
        ("post", "/api/v1/public/ticket-ratings/{token}"),
    }
    spec = client.get("/api/openapi.json").json()
    assert {path for _, path in public if "/public/" in path} <= set(spec["paths"])
    assert all(path.startswith("/api/v1/public/") for path in spec["paths"] if "/public/" in path)
    checked = 0
    for path, operations in spec["paths"].items():
        for method in operations:
            if (method, path) in public:
                continue
            concrete = path.replace("{", "").replace("}", "")
            concrete = "/".join(
                "1" if part.endswith("_id") or part == "id" else part for part in concrete.split("/")
            )
            response = client.request(method.upper(), concrete)
            assert response.status_code == 401, (method, path, response.status_code)
            checked += 1
    assert checked >= 15


def test_duplicate_member_email_is_a_409_naming_the_field(client, owner: Persona, agent: Persona) -> None:
    response = client.post(
        "/api/v1/users",
        headers=owner.headers,
        json={
            "email": agent.email,
            "display_name": "dup",
            "password": "password-123",
            "role_id": _role_id(client, owner, "agent"),
        },
    )
    assert response.status_code == 409
    assert response.json()["errors"][0]["field"] == "email"


def test_saving_your_own_unchanged_role_is_allowed(client, owner: Persona) -> None:
    response = client.patch(
        f"/api/v1/users/{owner.user_id}",
        headers=owner.headers,
        json={"display_name": "Boss", "role_id": _role_id(client, owner, "owner")},
    )
    assert response.status_code == 200 and response.json()["display_name"] == "Boss"


def test_key_managers_can_list_roles_to_pick_one(client, owner: Persona, agent: Persona) -> None:
    keys_only = client.post(
        "/api/v1/roles",
        headers=owner.headers,
        json={"name": "keys", "permissions": ["identity.api_keys.manage"]},
    ).json()
    client.patch(f"/api/v1/users/{agent.user_id}", headers=owner.headers, json={"role_id": keys_only["id"]})
    assert client.get("/api/v1/roles", headers=agent.headers).status_code == 200
    assert client.get("/api/v1/users", headers=agent.headers).status_code == 403
