"""Login, tokens, API keys and tenant switching over HTTP."""

from __future__ import annotations

from datetime import timedelta

import jwt
from sqlalchemy import func, select

from scrm.core.clock import utcnow
from scrm.identity.models import AuditEntry, LoginAttempt
from tests.conftest import TEST_SECRET_KEY, Persona


def _audit_count(factory, tenant_id: int) -> int:
    with factory() as session:
        return session.scalar(
            select(func.count()).select_from(AuditEntry).where(AuditEntry.tenant_id == tenant_id)
        )


def test_login_returns_a_token_that_identifies_the_user(client, owner: Persona) -> None:
    response = client.post("/api/v1/auth/login", json={"email": owner.email, "password": owner.password})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["token_type"] == "bearer"
    me = client.get("/api/v1/me", headers={"Authorization": f"Bearer {body['access_token']}"}).json()
    assert me["user"]["email"] == owner.email
    assert me["tenant"]["id"] == owner.tenant_id
    assert me["role"]["key"] == "owner"
    assert me["permissions"] == ["*"]


def test_login_is_case_insensitive_on_email(client, owner: Persona) -> None:
    response = client.post(
        "/api/v1/auth/login", json={"email": owner.email.upper(), "password": owner.password}
    )
    assert response.status_code == 200


def test_wrong_password_is_401_problem_and_records_only_the_attempt(
    client, owner: Persona, committing_factory
) -> None:
    before = _audit_count(committing_factory, owner.tenant_id)
    response = client.post("/api/v1/auth/login", json={"email": owner.email, "password": "nope-nope"})
    assert response.status_code == 401
    assert response.headers["content-type"].startswith("application/problem+json")
    problem = response.json()
    assert problem["status"] == 401 and problem["type"] == "/problems/unauthenticated"
    assert "incorrect" in problem["detail"]
    assert _audit_count(committing_factory, owner.tenant_id) == before
    with committing_factory() as session:
        assert session.scalar(select(func.count()).select_from(LoginAttempt)) == 1


def test_unknown_email_is_the_same_401(client) -> None:
    response = client.post("/api/v1/auth/login", json={"email": "ghost@x.test", "password": "whatever1"})
    assert response.status_code == 401
    assert response.json()["detail"] == "email or password is incorrect"


def test_login_is_rate_limited_per_account(client, owner: Persona, app_settings) -> None:
    for _ in range(app_settings.login_max_failures):
        assert (
            client.post(
                "/api/v1/auth/login", json={"email": owner.email, "password": "bad-guess"}
            ).status_code
            == 401
        )
    # Even the right password is refused while the account is locked.
    response = client.post("/api/v1/auth/login", json={"email": owner.email, "password": owner.password})
    assert response.status_code == 429
    assert int(response.headers["retry-after"]) > 0


def test_login_is_rate_limited_per_ip_across_accounts(client, app_settings) -> None:
    for index in range(app_settings.login_max_failures):
        client.post("/api/v1/auth/login", json={"email": f"spray{index}@x.test", "password": "bad-guess"})
    response = client.post("/api/v1/auth/login", json={"email": "another@x.test", "password": "bad-guess"})
    assert response.status_code == 429


def test_missing_forged_expired_and_garbage_tokens_are_401(client, owner: Persona) -> None:
    assert client.get("/api/v1/me").status_code == 401
    now = utcnow()
    claims = {
        "sub": str(owner.user_id),
        "tid": owner.tenant_id,
        "gen": 0,
        "iat": int(now.timestamp()),
        "exp": int((now + timedelta(hours=1)).timestamp()),
    }
    forged = jwt.encode(claims, "another-secret-" + "y" * 40, algorithm="HS256")
    expired = jwt.encode(
        {**claims, "exp": int((now - timedelta(seconds=5)).timestamp())}, TEST_SECRET_KEY, algorithm="HS256"
    )
    unsigned = jwt.encode(claims, None, algorithm="none")
    for token, reason in (
        (forged, "not valid"),
        (expired, "expired"),
        (unsigned, "not valid"),
        ("garbage", "not valid"),
    ):
        response = client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 401, token
        assert reason in response.json()["detail"]


def test_token_for_a_tenant_without_a_seat_is_401(client, owner: Persona, other_tenant: Persona) -> None:
    now = utcnow()
    claims = {
        "sub": str(owner.user_id),
        "tid": other_tenant.tenant_id,
        "gen": 0,
        "iat": int(now.timestamp()),
        "exp": int((now + timedelta(hours=1)).timestamp()),
    }
    token = jwt.encode(claims, TEST_SECRET_KEY, algorithm="HS256")
    assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}).status_code == 401


def test_user_in_two_tenants_switches_between_them(client, owner: Persona, other_tenant: Persona) -> None:
    roles = client.get("/api/v1/roles", headers=other_tenant.headers).json()
    operator_role = next(role for role in roles if role["key"] == "operator")
    created = client.post(
        "/api/v1/users",
        headers=other_tenant.headers,
        json={
            "email": owner.email,
            "display_name": "A's owner",
            "password": "ignored-password",
            "role_id": operator_role["id"],
        },
    )
    assert created.status_code == 201, created.text
    me = client.get("/api/v1/me", headers=owner.headers).json()
    assert {t["id"] for t in me["tenants"]} == {owner.tenant_id, other_tenant.tenant_id}
    switched = client.post(
        "/api/v1/auth/switch-tenant", headers=owner.headers, json={"tenant_id": other_tenant.tenant_id}
    )
    assert switched.status_code == 200
    me_b = client.get(
        "/api/v1/me", headers={"Authorization": f"Bearer {switched.json()['access_token']}"}
    ).json()
    assert me_b["tenant"]["id"] == other_tenant.tenant_id
    assert me_b["role"]["key"] == "operator"
    # Their password in tenant A is unchanged by joining B.
    assert (
        client.post("/api/v1/auth/login", json={"email": owner.email, "password": owner.password}).status_code
        == 200
    )


def test_switching_to_a_foreign_tenant_is_404(client, owner: Persona, other_tenant: Persona) -> None:
    response = client.post(
        "/api/v1/auth/switch-tenant", headers=owner.headers, json={"tenant_id": other_tenant.tenant_id}
    )
    assert response.status_code == 404


def test_api_key_is_shown_once_authenticates_and_can_be_revoked(client, owner: Persona) -> None:
    admin_role = next(
        role for role in client.get("/api/v1/roles", headers=owner.headers).json() if role["key"] == "admin"
    )
    created = client.post(
        "/api/v1/api-keys", headers=owner.headers, json={"name": "ERP sync", "role_id": admin_role["id"]}
    )
    assert created.status_code == 201
    secret = created.json()["secret"]
    assert secret.startswith("scrm_")
    listed = client.get("/api/v1/api-keys", headers=owner.headers).json()["items"]
    assert [item["name"] for item in listed] == ["ERP sync"]
    assert "secret" not in listed[0]
    key_headers = {"Authorization": f"Bearer {secret}"}
    me = client.get("/api/v1/me", headers=key_headers).json()
    assert me["user"] is None and me["tenant"]["id"] == owner.tenant_id
    assert client.get("/api/v1/users", headers=key_headers).status_code == 200
    assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {secret[:-2]}xx"}).status_code == 401
    assert client.delete(f"/api/v1/api-keys/{created.json()['id']}", headers=owner.headers).status_code == 200
    response = client.get("/api/v1/me", headers=key_headers)
    assert response.status_code == 401 and "revoked" in response.json()["detail"]


def test_login_and_key_creation_are_audited(client, owner: Persona) -> None:
    client.post("/api/v1/auth/login", json={"email": owner.email, "password": owner.password})
    role_id = client.get("/api/v1/roles", headers=owner.headers).json()[0]["id"]
    client.post("/api/v1/api-keys", headers=owner.headers, json={"name": "k", "role_id": role_id})
    entries = client.get("/api/v1/audit-log", headers=owner.headers).json()["items"]
    actions = [entry["action"] for entry in entries]
    assert actions[:2] == ["api_key.created", "auth.login"]
    assert entries[0]["actor_name"] == owner.email
    assert entries[0]["ip"] == "testclient"
