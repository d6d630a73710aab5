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
from sqlalchemy import Engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from scrm.core.db import make_engine, make_session_factory
from scrm.models import metadata


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
