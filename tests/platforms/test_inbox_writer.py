"""The group-commit inbox writer stores exactly what `store_inbound` would, and isolates bad rows."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from scrm.core.events import Delivery, HandlerRegistry, set_active_registry
from scrm.core.inbox import InboxReceived, store_inbound
from scrm.core.outbox_models import InboundMessage, OutboxEvent
from scrm.identity.models import Tenant
from scrm.platforms.inbox_writer import InboundItem, InboxWriter, store_inbound_batch

Factory = sessionmaker[Session]


@pytest.fixture
def registry() -> HandlerRegistry:
    registry = HandlerRegistry()

    def ignore(session: Session, delivery: Delivery) -> None:
        return None

    registry.on(InboxReceived, "test.platform", ignore)
    set_active_registry(registry)
    yield registry
    set_active_registry(None)


@pytest.fixture
def tenant_id(committing_factory: Factory) -> int:
    with committing_factory.begin() as session:
        tenant = Tenant(name="Writer")
        session.add(tenant)
        session.flush()
        return tenant.id


def item(tenant_id: int, key: str, payload: str = "<xml/>") -> InboundItem:
    return InboundItem(
        tenant_id=tenant_id,
        platform="wecom",
        connection_id="1",
        dedupe_key=key,
        raw_payload=payload,
        headers={"nonce": key},
    )


def snapshot(session: Session) -> tuple[list[tuple[object, ...]], list[tuple[object, ...]]]:
    messages = [
        (m.tenant_id, m.platform, m.connection_id, m.dedupe_key, m.raw_payload, m.headers, m.state)
        for m in session.scalars(select(InboundMessage).order_by(InboundMessage.id))
    ]
    ids = {m.id: m.dedupe_key for m in session.scalars(select(InboundMessage))}
    events = [
        (
            e.event_type,
            e.handler,
            e.status,
            {**e.payload, "inbound_message_id": ids[e.payload["inbound_message_id"]]},
        )
        for e in session.scalars(select(OutboxEvent).order_by(OutboxEvent.id))
    ]
    return messages, events


def test_a_batch_stores_what_store_inbound_stores(db: Session, registry: HandlerRegistry) -> None:
    tenant = Tenant(name="Batch")
    db.add(tenant)
    db.flush()
    items = [
        item(tenant.id, "a"),
        item(tenant.id, "b", "<xml>b</xml>"),
        item(tenant.id, "a"),
        item(tenant.id, "c"),
    ]

    with db.begin_nested() as one_by_one:
        singles = [
            store_inbound(
                db,
                tenant_id=i.tenant_id,
                platform=i.platform,
                connection_id=i.connection_id,
                dedupe_key=i.dedupe_key,
                raw_payload=i.raw_payload,
                headers=i.headers,
            )[1]
            for i in items
        ]
        expected = snapshot(db)
        one_by_one.rollback()

    assert store_inbound_batch(db, items) == singles == [True, True, False, True]
    assert snapshot(db) == expected
    # Stored keys are duplicates for the next batch.
    assert store_inbound_batch(db, [item(tenant.id, "b"), item(tenant.id, "d")]) == [False, True]


def test_the_writer_answers_each_request_after_the_commit(
    registry: HandlerRegistry, committing_factory: Factory, tenant_id: int
) -> None:
    writer = InboxWriter(committing_factory, idle_exit_seconds=0.2)
    keys = [f"k{n % 150}" for n in range(300)]  # every key twice
    with ThreadPoolExecutor(max_workers=16) as pool:
        results = list(pool.map(lambda key: writer.store_blocking(item(tenant_id, key), timeout=60), keys))
    assert sum(results) == 150
    with committing_factory() as session:
        assert len(session.scalars(select(InboundMessage)).all()) == 150
        assert len(session.scalars(select(OutboxEvent)).all()) == 150


def test_one_bad_row_does_not_fail_its_batch(
    registry: HandlerRegistry, committing_factory: Factory, tenant_id: int
) -> None:
    writer = InboxWriter(committing_factory)
    futures = [writer.submit(item(tenant_id, f"ok{n}")) for n in range(5)]
    bad = writer.submit(item(tenant_id + 10_000, "orphan"))  # no such tenant: the foreign key refuses it
    futures += [writer.submit(item(tenant_id, f"ok{n}")) for n in range(5, 10)]
    assert [future.result(timeout=60) for future in futures] == [True] * 10
    with pytest.raises(Exception):  # noqa: B017 - whichever integrity error the database raises
        bad.result(timeout=60)
    with committing_factory() as session:
        assert len(session.scalars(select(InboundMessage)).all()) == 10
