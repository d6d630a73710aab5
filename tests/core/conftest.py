"""Fixtures of the kernel tests: the fixture handler registry, a committed tenant, the effects table."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, delete
from sqlalchemy.orm import Session, sessionmaker

from scrm.core.events import HandlerRegistry, set_active_registry
from scrm.identity.models import Tenant
from tests.core import fixture_handlers


@pytest.fixture
def registry() -> Iterator[HandlerRegistry]:
    """The fixture handlers, installed as the active registry for the test."""
    registry = fixture_handlers.build()
    yield registry
    set_active_registry(None)


@pytest.fixture
def effects_table(engine: Engine) -> Iterator[None]:
    fixture_handlers.fixture_metadata.create_all(engine)
    yield
    with engine.begin() as connection:
        connection.execute(delete(fixture_handlers.effects))


@pytest.fixture
def tenant_id(committing_factory: sessionmaker[Session]) -> int:
    with committing_factory.begin() as session:
        tenant = Tenant(name="Acme")
        session.add(tenant)
        session.flush()
        return tenant.id


@pytest.fixture
def db_tenant_id(db: Session) -> int:
    tenant = Tenant(name="Rolled back")
    db.add(tenant)
    db.flush()
    return tenant.id
