"""The migrations build exactly the schema the models describe, on this test run's database."""

from __future__ import annotations

import uuid

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, text

from scrm.core.db import make_engine
from scrm.migrate import upgrade_to_head
from scrm.models import metadata


def _fresh_database(engine: Engine, tmp_path) -> str:
    if engine.dialect.name != "postgresql":
        return f"sqlite:///{tmp_path / 'migrated.db'}"
    name = f"scrm_mig_{uuid.uuid4().hex[:8]}"
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    return engine.url.set(database=name).render_as_string(hide_password=False)


def test_upgrade_to_head_matches_the_models(engine: Engine, tmp_path) -> None:
    url = _fresh_database(engine, tmp_path)
    upgrade_to_head(url)
    migrated = make_engine(url)
    try:
        with migrated.connect() as connection:
            diff = compare_metadata(
                MigrationContext.configure(connection, opts={"compare_type": True}), metadata
            )
        assert diff == [], f"models and migrations differ; run `./dev revision MESSAGE`: {diff}"
        upgrade_to_head(url)  # running it again is a no-op
    finally:
        migrated.dispose()
        if engine.dialect.name == "postgresql":
            with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{migrated.url.database}" WITH (FORCE)'))
