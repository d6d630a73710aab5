"""The group-commit inbox writer stores exactly what `store_inbound` would, and isolates bad rows."""

from __future__ import annotations

import asyncio
import re
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

import pytest
from sqlalchemy import select, text
from sqlalchemy.orm import Session, sessionmaker

from scrm.core.events import Delivery, HandlerRegistry, set_active_registry
from scrm.core.inbox import InboxReceived
from scrm.core.outbox_models import InboundMessage, OutboxEvent
from scrm.identity.models import Tenant
from scrm.platforms.inbox_writer import InboundItem, InboxWriter, store_inbound_batch, store_inbound_item

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
        singles = [store_inbound_item(db, i)[1] for i in items]
        expected = snapshot(db)
        one_by_one.rollback()

    assert store_inbound_batch(db, items) == singles == [True, True, False, True]
    assert snapshot(db) == expected
    # Stored keys are duplicates for the next batch.
    assert store_inbound_batch(db, [item(tenant.id, "b"), item(tenant.id, "d")]) == [False, True]


def raw_rows(session: Session) -> tuple[list[tuple[object, ...]], list[tuple[object, ...]]]:
    """Every stored column as the database holds it (JSON and times as text), ids replaced by keys."""
    messages = session.execute(
        text(
            "SELECT id, tenant_id, platform, connection_id, dedupe_key, CAST(headers AS TEXT), raw_payload,"
            " CAST(received_at AS TEXT), state, processed_at, error FROM inbound_messages ORDER BY id"
        )
    ).all()
    key_of = {row[0]: row[4] for row in messages}
    events = session.execute(
        text(
            "SELECT tenant_id, event_id, event_type, handler, CAST(payload AS TEXT), status, attempts,"
            " CAST(available_at AS TEXT), lease_until, claimed_by, last_error, CAST(created_at AS TEXT),"
            " processed_at FROM outbox ORDER BY id"
        )
    ).all()
    for event in events:
        assert uuid.UUID(event[1]).version == 4
    return (
        [tuple(row[1:]) for row in messages],
        [
            (
                *row[:1],
                *row[2:4],
                re.sub(r'"inbound_message_id": (\d+)', lambda m: f'"message": "{key_of[int(m[1])]}"', row[4]),
                *row[5:],
            )
            for row in events
        ],
    )


def test_a_batch_stores_the_very_column_values_store_inbound_stores(
    db: Session, registry: HandlerRegistry, monkeypatch: pytest.MonkeyPatch
) -> None:
    now = datetime(2026, 5, 4, 3, 2, 1, 123456, tzinfo=UTC)
    for module in ("scrm.core.inbox", "scrm.core.events", "scrm.platforms.inbox_writer"):
        monkeypatch.setattr(f"{module}.utcnow", lambda: now)
    tenant = Tenant(name="Columns")
    db.add(tenant)
    db.flush()
    items = [
        InboundItem(
            tenant_id=tenant.id,
            platform="wecom",
            connection_id="7",
            dedupe_key=f"evt:{n % 3}",
            raw_payload=f"<xml><A>中文 {n} \"'</A></xml>",
            headers={"nonce": str(n), "user_agent": "Mozilla/5.0 \u00e9\u4e2d"},
        )
        for n in range(5)
    ]
    with db.begin_nested() as one_by_one:
        for i in items:
            store_inbound_item(db, i)
        expected = raw_rows(db)
        one_by_one.rollback()

    assert store_inbound_batch(db, items) == [True, True, True, False, False]
    assert raw_rows(db) == expected


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


def test_the_writer_commits_durably(committing_factory: Factory) -> None:
    """Acknowledged means stored through a power loss: on SQLite the writer's commits are
    synchronous=FULL (2), where the rest of the app runs NORMAL (1); PostgreSQL's always are."""
    writer = InboxWriter(committing_factory)
    if committing_factory.kw["bind"].dialect.name != "sqlite":
        assert writer.session_factory is committing_factory
        return
    with writer.session_factory() as session:
        assert session.execute(text("PRAGMA synchronous")).scalar_one() == 2
    with committing_factory() as session:
        assert session.execute(text("PRAGMA synchronous")).scalar_one() == 1


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


def test_coroutines_on_an_event_loop_are_answered_after_the_commit(
    registry: HandlerRegistry, committing_factory: Factory, tenant_id: int
) -> None:
    writer = InboxWriter(committing_factory, idle_exit_seconds=0.2)

    async def store_all() -> list[bool | BaseException]:
        stores = [writer.store(item(tenant_id, f"k{n % 100}")) for n in range(200)]  # every key twice
        stores.append(writer.store(item(tenant_id + 10_000, "orphan")))  # the foreign key refuses it
        return await asyncio.gather(*stores, return_exceptions=True)

    results = asyncio.run(store_all())
    assert isinstance(results[-1], Exception)
    assert sorted(results[:-1], key=bool) == [False] * 100 + [True] * 100
    with committing_factory() as session:
        assert len(session.scalars(select(InboundMessage)).all()) == 100
        assert len(session.scalars(select(OutboxEvent)).all()) == 100


def test_a_cancelled_wait_still_stores_its_item_and_the_writer_goes_on(
    registry: HandlerRegistry, committing_factory: Factory, tenant_id: int
) -> None:
    writer = InboxWriter(committing_factory, idle_exit_seconds=0.2)

    async def cancel_one() -> bool:
        waiting = asyncio.ensure_future(writer.store(item(tenant_id, "cancelled")))
        await asyncio.sleep(0)  # queued, not yet answered
        waiting.cancel()
        return await writer.store(item(tenant_id, "next"))

    assert asyncio.run(cancel_one()) is True
    assert writer.store_blocking(item(tenant_id, "cancelled"), timeout=60) is False  # it was stored


def test_a_cancelled_future_of_a_thread_does_not_stop_the_writer(
    registry: HandlerRegistry, committing_factory: Factory, tenant_id: int
) -> None:
    writer = InboxWriter(committing_factory, idle_exit_seconds=0.2)
    futures = [writer.submit(item(tenant_id, f"c{n}")) for n in range(20)]
    for future in futures:
        future.cancel()  # succeeds while queued; the item is stored all the same
    assert writer.store_blocking(item(tenant_id, "after"), timeout=60) is True
    assert [writer.store_blocking(item(tenant_id, f"c{n}"), timeout=60) for n in range(20)] == [False] * 20
