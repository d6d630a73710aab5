"""Handlers that accept only some events of their type get rows only for those (a WeCom callback is
no business of the shop handler, and the other way round)."""

from __future__ import annotations

from typing import ClassVar

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from scrm.core.clock import utcnow
from scrm.core.events import Event, EventHandler, HandlerRegistry, outbox_rows, publish
from scrm.core.outbox_models import OutboxEvent


class Arrived(Event):
    event_type: ClassVar[str] = "fixture.arrived"
    platform: str


def test_rows_are_written_only_for_handlers_that_accept_the_event(
    committing_factory: sessionmaker[Session], registry: HandlerRegistry, tenant_id: int
) -> None:
    registry.add(
        EventHandler(Arrived.event_type, "wecom", lambda s, d: None, accepts=lambda e: e.platform == "wecom")
    )
    registry.add(
        EventHandler(Arrived.event_type, "shops", lambda s, d: None, accepts=lambda e: e.platform != "wecom")
    )
    registry.add(EventHandler(Arrived.event_type, "audit", lambda s, d: None))
    with committing_factory.begin() as session:
        publish(session, Arrived(tenant_id=tenant_id, platform="wecom"))
        publish(session, Arrived(tenant_id=tenant_id, platform="youzan"))
    with committing_factory() as session:
        rows = session.execute(select(OutboxEvent.handler, OutboxEvent.payload)).all()
    routed = sorted((handler, payload["platform"]) for handler, payload in rows)
    assert routed == [("audit", "wecom"), ("audit", "youzan"), ("shops", "youzan"), ("wecom", "wecom")]
    # The driver-level path (the inbox writer's) routes the same way.
    _, written = outbox_rows([Arrived(tenant_id=tenant_id, platform="pdd")], now=utcnow())
    assert sorted(row["handler"] for row in written) == ["audit", "shops"]
