"""Engine, declarative base and the mixins every table uses.

SQLite runs in WAL mode with a busy timeout and foreign keys on; PostgreSQL goes through psycopg 3.
Every tenant table carries `tenant_id`; composite indexes and unique constraints lead with it so the
schema can later be distributed by tenant without a rewrite.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    DateTime,
    Engine,
    ForeignKey,
    Integer,
    MetaData,
    create_engine,
    event,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, sessionmaker
from sqlalchemy.types import TypeDecorator

from scrm.core.clock import as_utc, utcnow

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# SQLite only auto-increments an INTEGER PRIMARY KEY; PostgreSQL gets a real bigint.
BigId = BigInteger().with_variant(Integer(), "sqlite")


class UtcDateTime(TypeDecorator[datetime]):
    """A timezone-aware datetime that reads back aware on SQLite too."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are not stored; use scrm.core.clock.utcnow()")
        return as_utc(value)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        return None if value is None else as_utc(value)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class IdMixin:
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)


class TimestampMixin:
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, nullable=False)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, onupdate=utcnow, nullable=False)


class TenantMixin:
    """Rows owned by one tenant. Query them only through `scrm.core.tenancy.tenant_select`."""

    tenant_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("tenants.id", ondelete="CASCADE"), index=True, nullable=False
    )


# WAL pages after which a committing connection checkpoints (SQLite's default is 1000). Durable
# writers take the callbacks' critical path, so they leave routine checkpoints (about 10 ms each here)
# to the other connections, which commit often enough (the worker); they checkpoint only if nobody does.
_DURABLE_WRITER_CHECKPOINT_PAGES = 20_000


def _sqlite_configurator(synchronous: str, checkpoint_pages: int = 1000) -> Any:
    def configure(dbapi_connection: Any, _record: Any) -> None:
        # We issue BEGIN ourselves (see `_begin_immediate`), so switch off pysqlite's own handling.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=10000")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA synchronous={synchronous}")
        cursor.execute(f"PRAGMA wal_autocheckpoint={checkpoint_pages}")
        cursor.close()

    return configure


READ_ONLY = "scrm_read_only"


def _begin_immediate(connection: Any) -> None:
    # A deferred transaction that reads and then writes can fail at once with "database is locked"
    # when another connection wrote in between (busy_timeout does not cover lock upgrades).
    # Taking the write lock at BEGIN makes concurrent transactions queue instead of fail.
    # Transactions declared read-only (`read_only_session`) take no lock: in WAL mode they read a
    # snapshot while a writer works, so a page never waits for the worker.
    if connection.get_execution_options().get(READ_ONLY):
        connection.exec_driver_sql("BEGIN")
    else:
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def make_engine(url: str, *, durable_commits: bool = False, **kwargs: Any) -> Engine:
    """Create the engine for `url`, with SQLite pragmas and PostgreSQL pooling set sensibly.

    SQLite runs in WAL mode with synchronous=NORMAL: a commit survives the process dying, but the
    last commits may be lost if the machine loses power. `durable_commits` makes every commit wait
    for its WAL write to reach the disk (synchronous=FULL), for what must survive that too (inbound
    callbacks, which are acknowledged once committed), and leaves routine WAL checkpoints to other
    connections. PostgreSQL commits are durable either way."""
    if url.startswith("sqlite"):
        kwargs.setdefault("connect_args", {"check_same_thread": False, "timeout": 10})
        engine = create_engine(url, **kwargs)
        configure = (
            _sqlite_configurator("FULL", _DURABLE_WRITER_CHECKPOINT_PAGES)
            if durable_commits
            else _sqlite_configurator("NORMAL")
        )
        event.listen(engine, "connect", configure)
        event.listen(engine, "begin", _begin_immediate)
        return engine
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    kwargs.setdefault("pool_pre_ping", True)
    kwargs.setdefault("pool_size", 10)
    kwargs.setdefault("max_overflow", 10)
    return create_engine(url, **kwargs)


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(bind=engine, expire_on_commit=False, autoflush=True)


def mark_read_only(session: Session) -> None:
    """Declare the session's coming transaction read-only. On SQLite it then starts without taking
    the write lock; a write inside it may fail with "database is locked" (that is a bug to fix)."""
    session.connection(execution_options={READ_ONLY: True})


def is_postgresql(session_or_engine: Session | Engine) -> bool:
    bind = session_or_engine.get_bind() if isinstance(session_or_engine, Session) else session_or_engine
    return bind.dialect.name == "postgresql"


@contextmanager
def session_scope(factory: sessionmaker[Session]) -> Iterator[Session]:
    """A session whose transaction commits once on success and rolls back on error.

    This is the unit of work for background tasks and scripts; requests use `scrm.core.uow`.
    """
    session = factory()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def durable_session_factory(factory: sessionmaker[Session]) -> sessionmaker[Session]:
    """Sessions like `factory`'s whose commits survive a power loss (see `make_engine`): on SQLite a
    second engine on the same file with durable commits; on PostgreSQL `factory` itself."""
    engine = factory.kw["bind"]
    if not isinstance(engine, Engine) or engine.dialect.name != "sqlite":
        return factory
    if engine.url.database in (None, "", ":memory:"):
        return factory  # a second engine would open another, empty database
    durable = make_engine(engine.url.render_as_string(hide_password=False), durable_commits=True)
    return make_session_factory(durable)
