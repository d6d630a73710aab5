"""Publishing: one outbox row per handler, in the caller's transaction, waking workers at commit."""

from __future__ import annotations

from typing import ClassVar

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from scrm.core import metrics
from scrm.core.events import Delivery, Event, HandlerRegistry, publish, publish_many, set_active_registry
from scrm.core.outbox_models import OutboxEvent, OutboxStatus
from scrm.core.wakeup import LOCAL_WAKE
from tests.core.fixture_handlers import Pinged


class Unheard(Event):
    event_type: ClassVar[str] = "fixture.unheard"


def noop(session: Session, delivery: Delivery) -> None:
    return None


def test_event_type_must_be_dotted_lower_case() -> None:
    with pytest.raises(TypeError, match="dotted"):

        class Shouting(Event):  # pragma: no cover - the class statement itself raises
            event_type: ClassVar[str] = "Shouting"


def test_events_are_frozen() -> None:
    ping = Pinged(tenant_id=1, number=1)
    with pytest.raises(ValueError, match="frozen"):
        ping.number = 2  # type: ignore[misc]


def test_a_handler_name_registers_once_per_event_type() -> None:
    registry = HandlerRegistry()
    registry.on(Pinged, "effects", noop)
    with pytest.raises(ValueError, match="already registered"):
        registry.on("fixture.pinged", "effects", noop)
    registry.on(Unheard, "effects", noop)  # same name, other event type: fine


def test_publish_writes_one_row_per_handler_with_one_event_id(
    db: Session, registry: HandlerRegistry, db_tenant_id: int
) -> None:
    registry.on(Pinged, "audit", noop)
    event_id = publish(db, Pinged(tenant_id=db_tenant_id, number=7))

    rows = db.scalars(select(OutboxEvent).order_by(OutboxEvent.handler)).all()
    assert [row.handler for row in rows] == ["audit", "effects"]
    assert {row.event_id for row in rows} == {event_id}
    assert all(row.status == OutboxStatus.PENDING and row.tenant_id == db_tenant_id for row in rows)
    assert rows[0].payload == {"tenant_id": db_tenant_id, "number": 7, "sleep_seconds": 0.0}


def test_publish_without_handlers_writes_nothing_but_counts(
    db: Session, registry: HandlerRegistry, db_tenant_id: int
) -> None:
    before = metrics.REGISTRY.get_sample_value(
        "scrm_outbox_unrouted_total", {"event_type": "fixture.unheard"}
    )
    publish(db, Unheard(tenant_id=db_tenant_id))
    after = metrics.REGISTRY.get_sample_value("scrm_outbox_unrouted_total", {"event_type": "fixture.unheard"})
    assert db.scalar(select(func.count()).select_from(OutboxEvent)) == 0
    assert (after or 0) == (before or 0) + 1


def test_publish_needs_an_installed_registry(db: Session, db_tenant_id: int) -> None:
    set_active_registry(None)
    with pytest.raises(RuntimeError, match="no handler registry"):
        publish(db, Pinged(tenant_id=db_tenant_id, number=1))


def test_publish_is_part_of_the_callers_transaction(
    committing_factory: sessionmaker[Session], registry: HandlerRegistry, tenant_id: int
) -> None:
    with committing_factory() as session:
        publish_many(session, [Pinged(tenant_id=tenant_id, number=n) for n in range(3)])
        session.rollback()
    with committing_factory.begin() as session:
        assert session.scalar(select(func.count()).select_from(OutboxEvent)) == 0
        publish_many(session, [Pinged(tenant_id=tenant_id, number=n) for n in range(3)])
    with committing_factory() as session:
        assert session.scalar(select(func.count()).select_from(OutboxEvent)) == 3


def test_local_workers_wake_on_commit_not_on_rollback(
    committing_factory: sessionmaker[Session], registry: HandlerRegistry, tenant_id: int
) -> None:
    generation = LOCAL_WAKE.generation
    with committing_factory() as session:
        publish(session, Pinged(tenant_id=tenant_id, number=1))
        assert LOCAL_WAKE.generation == generation
        session.rollback()
    assert LOCAL_WAKE.generation == generation
    with committing_factory.begin() as session:
        publish(session, Pinged(tenant_id=tenant_id, number=2))
    assert LOCAL_WAKE.generation > generation
