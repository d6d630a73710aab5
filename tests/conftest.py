"""Test fixtures shared by every test.

The database comes from ``SCRM_TEST_DATABASE_URL``: unset means a fresh SQLite file per session; a
PostgreSQL URL (``postgresql://127.0.0.1:5432/test``) makes the session create and drop its own
database beside it, so runs never see each other's rows.

Two kinds of session:
- ``db``: a session inside a transaction rolled back after the test (fast; most tests).
- ``committing_factory``: a real session factory whose commits are visible to other connections
  (worker, API, several processes); the tables are emptied after the test.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import settings as hypothesis_settings
from sqlalchemy import Engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from scrm.core.db import make_engine, make_session_factory
from scrm.models import metadata

# Hypothesis's per-example deadline measures the machine, not the code: on a loaded CI box it turns
# correct properties into failures. The properties are what we test.
hypothesis_settings.register_profile("scrm", deadline=None)
hypothesis_settings.load_profile("scrm")


def _create_postgres_database(base_url: str) -> tuple[str, str]:
    url = make_url(base_url.replace("postgresql://", "postgresql+psycopg://", 1))
    name = f"scrm_test_{uuid.uuid4().hex[:10]}"
    admin = make_engine(url.render_as_string(hide_password=False), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return url.set(database=name).render_as_string(hide_password=False), name


def _drop_postgres_database(base_url: str, name: str) -> None:
    url = make_url(base_url.replace("postgresql://", "postgresql+psycopg://", 1))
    admin = make_engine(url.render_as_string(hide_password=False), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    base = os.environ.get("SCRM_TEST_DATABASE_URL", "")
    if base.startswith("postgresql"):
        url, name = _create_postgres_database(base)
        yield url
        _drop_postgres_database(base, name)
    else:
        path: Path = tmp_path_factory.mktemp("db") / "scrm-test.db"
        yield f"sqlite:///{path}"


@pytest.fixture(scope="session")
def engine(database_url: str) -> Iterator[Engine]:
    engine = make_engine(database_url)
    metadata.create_all(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def db(engine: Engine) -> Iterator[Session]:
    """A session whose work is rolled back at the end; `commit()` inside only releases a savepoint."""
    connection = engine.connect()
    transaction = connection.begin()
    session = Session(bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False)
    try:
        yield session
    finally:
        session.close()
        transaction.rollback()
        connection.close()


def empty_all_tables(engine: Engine) -> None:
    with engine.begin() as connection:
        if engine.dialect.name == "postgresql":
            names = ", ".join(f'"{table.name}"' for table in metadata.sorted_tables)
            connection.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
        else:
            for table in reversed(metadata.sorted_tables):
                connection.execute(table.delete())


@pytest.fixture
def committing_factory(engine: Engine) -> Iterator[sessionmaker[Session]]:
    """Sessions that really commit; every table is emptied after the test."""
    try:
        yield make_session_factory(engine)
    finally:
        empty_all_tables(engine)


@pytest.fixture
def is_postgres(engine: Engine) -> bool:
    return engine.dialect.name == "postgresql"


# --- the application and personas -----------------------------------------------------------------

TEST_SECRET_KEY = "test-secret-key-" + "x" * 32


@pytest.fixture
def app_settings(database_url: str, tmp_path: Path):
    from scrm.settings import Environment, load_settings

    return load_settings(
        environment=Environment.TEST,
        database_url=database_url,
        secret_key=TEST_SECRET_KEY,
        var_dir=tmp_path / "var",
        embedded_worker=False,
    )


@pytest.fixture
def app(app_settings, committing_factory):
    from scrm.main import create_app

    return create_app(app_settings, session_factory=committing_factory, run_embedded_worker=False)


@pytest.fixture
def client(app):
    from fastapi.testclient import TestClient

    with TestClient(app) as test_client:
        yield test_client


class Persona:
    """A user with a seat in a tenant, and the headers that authenticate them."""

    def __init__(self, *, user_id: int, tenant_id: int, email: str, password: str, token: str) -> None:
        self.user_id = user_id
        self.tenant_id = tenant_id
        self.email = email
        self.password = password
        self.headers = {"Authorization": f"Bearer {token}"}


PASSWORD = "correct-horse-battery"


def _make_persona(factory: sessionmaker[Session], tenant_id: int, email: str, role_key: str) -> Persona:
    from sqlalchemy import select

    from scrm.identity.auth import hash_password, issue_access_token
    from scrm.identity.models import Membership, Role, User

    with factory() as session:
        user = User(email=email, display_name=email.split("@")[0], password_hash=hash_password(PASSWORD))
        session.add(user)
        session.flush()
        role = session.scalars(select(Role).where(Role.tenant_id == tenant_id, Role.key == role_key)).one()
        session.add(Membership(tenant_id=tenant_id, user_id=user.id, role_id=role.id))
        session.commit()
        token = issue_access_token(
            user=user, tenant_id=tenant_id, secret_key=TEST_SECRET_KEY, ttl_seconds=3600
        )
        return Persona(user_id=user.id, tenant_id=tenant_id, email=email, password=PASSWORD, token=token)


def _make_tenant(factory: sessionmaker[Session], name: str, owner_email: str) -> Persona:
    from sqlalchemy import select

    from scrm.identity.auth import issue_access_token
    from scrm.identity.models import User
    from scrm.identity.service import create_tenant

    with factory() as session:
        tenant = create_tenant(session, name=name, admin_email=owner_email, admin_password=PASSWORD)
        session.commit()
        user = session.scalars(select(User).where(User.email == owner_email)).one()
        token = issue_access_token(
            user=user, tenant_id=tenant.id, secret_key=TEST_SECRET_KEY, ttl_seconds=3600
        )
        return Persona(
            user_id=user.id, tenant_id=tenant.id, email=owner_email, password=PASSWORD, token=token
        )


@pytest.fixture
def owner(committing_factory: sessionmaker[Session]) -> Persona:
    """The owner of tenant "Brand A"."""
    return _make_tenant(committing_factory, "Brand A", "owner@brand-a.test")


@pytest.fixture
def admin(committing_factory: sessionmaker[Session], owner: Persona) -> Persona:
    return _make_persona(committing_factory, owner.tenant_id, "admin@brand-a.test", "admin")


@pytest.fixture
def agent(committing_factory: sessionmaker[Session], owner: Persona) -> Persona:
    """A service agent in Brand A: no management permissions, own-records data scope."""
    return _make_persona(committing_factory, owner.tenant_id, "agent@brand-a.test", "agent")


@pytest.fixture
def finance(committing_factory: sessionmaker[Session], owner: Persona) -> Persona:
    return _make_persona(committing_factory, owner.tenant_id, "finance@brand-a.test", "finance")


@pytest.fixture
def other_tenant(committing_factory: sessionmaker[Session]) -> Persona:
    """The owner of a second tenant, "Brand B", whose ids must never reach Brand A."""
    return _make_tenant(committing_factory, "Brand B", "owner@brand-b.test")
