"""Application-wide conventions: problem documents, limits, health, readiness, metrics, the console."""

from __future__ import annotations

from fastapi.testclient import TestClient

from scrm.main import create_app
from scrm.settings import Environment, load_settings
from tests.conftest import Persona


def test_malformed_json_is_a_422_problem_with_field_errors(client) -> None:
    response = client.post(
        "/api/v1/auth/login",
        content=b'{"email": "a@b.c", "password": ',
        headers={"content-type": "application/json"},
    )
    assert response.status_code == 422
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["errors"]


def test_missing_fields_name_the_field(client) -> None:
    response = client.post("/api/v1/auth/login", json={"email": "a@b.c"})
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "password"
    assert response.json()["errors"][0]["code"] == "missing"


def test_field_errors_carry_a_code_and_their_limits(client, owner: Persona) -> None:
    """The console words field errors in its own language from `code` and `context`."""
    response = client.post(
        "/api/v1/segments", headers=owner.headers, json={"name": "", "condition": {"all": []}}
    )
    assert response.status_code == 422
    [error] = [e for e in response.json()["errors"] if e["field"] == "name"]
    assert error["code"] == "string_too_short" and error["context"] == {"min_length": 1}


def test_invalid_user_fields_change_nothing(client, owner: Persona) -> None:
    response = client.post(
        "/api/v1/users",
        headers=owner.headers,
        json={"email": "not-an-email", "display_name": "", "password": "short", "role_id": 1},
    )
    assert response.status_code == 422
    fields = {error["field"] for error in response.json()["errors"]}
    assert {"email", "display_name", "password"} <= fields
    assert len(client.get("/api/v1/users", headers=owner.headers).json()["items"]) == 1


def test_oversized_bodies_get_413_before_any_handler_runs(client, owner: Persona) -> None:
    big = b"x" * (1024 * 1024 + 1)
    response = client.post(
        "/api/v1/roles", headers={**owner.headers, "content-type": "application/json"}, content=big
    )
    assert response.status_code == 413
    assert response.json()["type"] == "/problems/payload-too-large"


def test_oversized_chunked_bodies_are_cut_off_too(client, owner: Persona) -> None:
    def chunks():
        for _ in range(20):
            yield b"y" * 65536

    response = client.post(
        "/api/v1/roles", headers={**owner.headers, "content-type": "application/json"}, content=chunks()
    )
    assert response.status_code == 413


def test_unknown_api_paths_are_404_problems_not_the_console(client) -> None:
    response = client.get("/api/v1/does-not-exist")
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("application/problem+json")


def test_console_never_serves_files_outside_its_folder(client) -> None:
    for path in ("/..%2f..%2fpyproject.toml", "/../../../../etc/passwd", "/%2e%2e/%2e%2e/settings.py"):
        response = client.get(path)
        assert "[project]" not in response.text and "root:" not in response.text


def test_healthz(client) -> None:
    assert client.get("/healthz").json()["status"] == "ok"


def test_readyz_is_503_until_migrations_are_current(tmp_path) -> None:
    from scrm.migrate import upgrade_to_head

    url = f"sqlite:///{tmp_path / 'ready.db'}"
    settings = load_settings(
        environment=Environment.TEST,
        database_url=url,
        var_dir=tmp_path,
        secret_key="r" * 40,
        embedded_worker=False,
    )
    with TestClient(create_app(settings)) as client:
        response = client.get("/readyz")
        assert response.status_code == 503
        assert response.json()["checks"]["migrations"].startswith("at None")
        upgrade_to_head(url)
        response = client.get("/readyz")
        assert response.status_code == 200, response.text
        assert response.json() == {"status": "ready", "checks": {"database": "ok", "migrations": "ok"}}


def test_readyz_reports_an_unreachable_database(tmp_path) -> None:
    settings = load_settings(
        environment=Environment.TEST,
        database_url="postgresql://127.0.0.1:1/nowhere",
        var_dir=tmp_path,
        secret_key="r" * 40,
        embedded_worker=False,
    )
    with TestClient(create_app(settings)) as client:
        response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["checks"]["database"].startswith("unreachable")


def test_metrics_are_prometheus_text(client, owner: Persona) -> None:
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    assert "# TYPE" in response.text


def test_production_refuses_to_start_without_a_secret_key() -> None:
    import pytest
    from pydantic import ValidationError

    with pytest.raises(ValidationError, match="SCRM_SECRET_KEY is required"):
        load_settings(environment=Environment.PRODUCTION, secret_key=None)


def test_development_generates_and_keeps_a_secret_key(tmp_path) -> None:
    first = load_settings(var_dir=tmp_path).resolved_secret_key
    second = load_settings(var_dir=tmp_path).resolved_secret_key
    assert first == second and len(first) >= 32
    assert (tmp_path / "secret_key").stat().st_mode & 0o777 == 0o600


def test_reads_do_not_wait_for_a_writer_on_sqlite(client, owner: Persona, engine) -> None:
    """A GET answers while another connection holds SQLite's write lock (the worker mid-step);
    had it needed the lock it would fail with "database is locked" after the busy timeout."""
    import pytest

    if engine.dialect.name != "sqlite":
        pytest.skip("SQLite's single-writer lock is what this is about")
    with engine.connect() as writer:
        writer.exec_driver_sql("DELETE FROM login_attempts")  # BEGIN IMMEDIATE: the lock is held now
        assert client.get("/api/v1/me", headers=owner.headers).status_code == 200
        assert client.get("/api/v1/users", headers=owner.headers).status_code == 200
        writer.rollback()


def test_api_key_use_is_recorded_on_reads_too(client, owner: Persona) -> None:
    role_id = client.get("/api/v1/roles", headers=owner.headers).json()[0]["id"]
    created = client.post(
        "/api/v1/api-keys", headers=owner.headers, json={"name": "k", "role_id": role_id}
    ).json()
    assert (
        client.get("/api/v1/me", headers={"Authorization": f"Bearer {created['secret']}"}).status_code == 200
    )
    listed = client.get("/api/v1/api-keys", headers=owner.headers).json()["items"][0]
    assert listed["last_used_at"] is not None
