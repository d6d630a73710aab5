"""The inbox stores each inbound message once and announces it once."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from scrm.core.errors import Conflict, NotFound
from scrm.core.events import Delivery, HandlerRegistry
from scrm.core.inbox import (
    InboxReceived,
    mark_failed,
    mark_ignored,
    mark_processed,
    require_inbound,
    store_inbound,
)
from scrm.core.outbox_models import InboundMessage, InboundState, OutboxEvent


def ignore(session: Session, delivery: Delivery) -> None:
    return None


@pytest.fixture
def inbox_registry(registry: HandlerRegistry) -> HandlerRegistry:
    registry.on(InboxReceived, "platform.parse", ignore)
    return registry


def store(session: Session, tenant_id: int, dedupe_key: str = "msg-1") -> tuple[InboundMessage, bool]:
    return store_inbound(
        session,
        tenant_id=tenant_id,
        platform="wecom",
        connection_id="corp-1",
        dedupe_key=dedupe_key,
        raw_payload="<xml>hello</xml>",
        headers={"X-Signature": "abc"},
    )


def test_a_duplicate_dedupe_key_returns_the_stored_message_without_a_second_event(
    db: Session, inbox_registry: HandlerRegistry, db_tenant_id: int
) -> None:
    first, first_is_new = store(db, db_tenant_id)
    again, again_is_new = store(db, db_tenant_id)
    assert (first_is_new, again_is_new) == (True, False)
    assert again.id == first.id
    assert (first.state, first.raw_payload, first.headers) == (
        InboundState.RECEIVED,
        "<xml>hello</xml>",
        {"X-Signature": "abc"},
    )

    (event,) = db.scalars(select(OutboxEvent)).all()
    assert event.event_type == "inbox.received"
    assert event.payload == {
        "tenant_id": db_tenant_id,
        "inbound_message_id": first.id,
        "platform": "wecom",
        "connection_id": "corp-1",
    }
    other, other_is_new = store(db, db_tenant_id, dedupe_key="msg-2")
    assert other_is_new and other.id != first.id
    assert db.scalar(select(func.count()).select_from(OutboxEvent)) == 2


def test_messages_move_through_explicit_states(
    db: Session, inbox_registry: HandlerRegistry, db_tenant_id: int
) -> None:
    message, _ = store(db, db_tenant_id)
    mark_failed(message, "unknown event type")
    assert (message.state, message.error) == (InboundState.FAILED, "unknown event type")
    mark_processed(message)
    assert (message.state, message.error) == (InboundState.PROCESSED, None)
    assert message.processed_at is not None
    mark_processed(message)  # a rerun handler may mark twice
    with pytest.raises(Conflict):
        mark_failed(message, "too late")
    with pytest.raises(Conflict):
        mark_ignored(message)

    ignored, _ = store(db, db_tenant_id, dedupe_key="msg-2")
    mark_ignored(ignored, "event we do not use")
    assert ignored.state == InboundState.IGNORED
    with pytest.raises(Conflict):
        mark_processed(ignored)


def test_another_tenants_message_is_not_found(
    db: Session, inbox_registry: HandlerRegistry, db_tenant_id: int
) -> None:
    message, _ = store(db, db_tenant_id)
    assert require_inbound(db, db_tenant_id, message.id) is message
    with pytest.raises(NotFound):
        require_inbound(db, db_tenant_id + 1, message.id)
