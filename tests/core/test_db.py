"""Engine settings: what a commit survives."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker

from scrm.core.db import durable_session_factory


def test_durable_sessions_wait_for_the_disk_on_sqlite(committing_factory: sessionmaker[Session]) -> None:
    durable = durable_session_factory(committing_factory)
    if committing_factory.kw["bind"].dialect.name != "sqlite":
        assert durable is committing_factory  # PostgreSQL commits are durable already
        return
    with committing_factory() as session:
        assert session.execute(text("PRAGMA synchronous")).scalar_one() == 1  # NORMAL
    with durable() as session:
        assert session.execute(text("PRAGMA synchronous")).scalar_one() == 2  # FULL
        assert session.execute(text("PRAGMA journal_mode")).scalar_one() == "wal"
        # Routine checkpoints are left to the other connections (SQLite's default is 1000 pages).
        assert session.execute(text("PRAGMA wal_autocheckpoint")).scalar_one() > 1000
    durable.kw["bind"].dispose()
