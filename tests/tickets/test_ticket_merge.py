"""Merging duplicate tickets over HTTP: suggestions (open tickets of the same customer or order within 14
days, the same order first, with reasons), the merge itself (the duplicate closes with outcome
`merged`, its clocks stop, it completes like any closed ticket, both timelines record it, the target
gets an internal comment) and every refusal, each of which changes nothing."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from scrm.core.outbox_models import OutboxEvent, Timer
from scrm.tickets import service as ticket_service
from scrm.tickets.models import Ticket, TicketComment, TicketTimelineEntry
from scrm.tickets.sla import clocks
from tests.conftest import Persona
from tests.tickets.conftest import Records
from tests.tickets.test_tickets import MONDAY_10, Now, act, new_ticket, setup_sla, unrouted


@pytest.fixture
def now(monkeypatch: pytest.MonkeyPatch) -> Iterator[Now]:
    clock = Now(MONDAY_10)
    monkeypatch.setattr(ticket_service, "utcnow", clock)
    monkeypatch.setattr(clocks, "utcnow", clock)
    yield clock


def published(factory: sessionmaker[Session], event_type: str) -> float:
    """Events of this type published so far: routed ones are outbox rows, the others are counted."""
    with factory() as session:
        routed = session.scalar(
            select(func.count(func.distinct(OutboxEvent.event_id))).where(
                OutboxEvent.event_type == event_type
            )
        )
    return unrouted(event_type) + float(routed or 0)


def merge(client: Any, persona: Persona, ticket_id: int, into: Any, **extra: Any) -> Any:
    return client.post(
        f"/api/v1/tickets/{ticket_id}/merge", json={"into_ticket_id": into, **extra}, headers=persona.headers
    )


def detail(client: Any, persona: Persona, ticket_id: int) -> dict[str, Any]:
    answer = client.get(f"/api/v1/tickets/{ticket_id}", headers=persona.headers)
    assert answer.status_code == 200, answer.text
    return dict(answer.json())


def test_duplicates_are_open_tickets_of_the_customer_or_order_within_14_days_same_order_first(
    client: Any,
    owner: Persona,
    foreign_records: Records,
    records: Records,
    other_tenant: Persona,
    committing_factory: sessionmaker[Session],
) -> None:
    base = new_ticket(
        client, owner, customer_id=records.customers[0], order_id=records.orders[0], ticket_type="after_sales"
    )
    same_customer = new_ticket(
        client, owner, customer_id=records.customers[0], order_id=records.orders[1], ticket_type="general"
    )
    same_order = new_ticket(
        client, owner, customer_id=records.customers[0], order_id=records.orders[0], ticket_type="after_sales"
    )
    order_only = new_ticket(client, owner, order_id=records.orders[0], ticket_type="risk_review")
    new_ticket(client, owner, customer_id=records.customers[1])  # another customer
    new_ticket(
        client, owner, customer_id=records.customers[2], order_id=records.orders[0]
    )  # the same order, another person: never merged
    old = new_ticket(client, owner, customer_id=records.customers[0])
    done = new_ticket(client, owner, customer_id=records.customers[0])
    act(client, owner, done["id"], "resolve")
    new_ticket(
        client, other_tenant, customer_id=foreign_records.customers[0], order_id=foreign_records.orders[0]
    )
    with committing_factory.begin() as session:
        row = session.get(Ticket, old["id"])
        assert row is not None
        row.created_at = row.created_at - timedelta(days=15)

    answer = client.get(f"/api/v1/tickets/{base['id']}/duplicates", headers=owner.headers)
    assert answer.status_code == 200, answer.text
    found = answer.json()
    assert [item["ticket"]["id"] for item in found] == [
        same_order["id"],
        order_only["id"],
        same_customer["id"],
    ]
    assert found[0]["reasons"] == ["same_customer", "same_order", "same_type", "created_within_14_days"]
    # Opened with the order alone, it was given the order's buyer as its customer.
    assert found[1]["reasons"] == ["same_customer", "same_order", "created_within_14_days"]
    assert found[2]["reasons"] == ["same_customer", "created_within_14_days"]
    assert all(0 <= item["hours_apart"] < 1 for item in found)

    loner = new_ticket(client, owner)
    assert client.get(f"/api/v1/tickets/{loner['id']}/duplicates", headers=owner.headers).json() == []
    assert (
        client.get(f"/api/v1/tickets/{base['id']}/duplicates", headers=other_tenant.headers).status_code
        == 404
    )


def test_a_merge_closes_the_duplicate_stops_its_clocks_and_links_both_timelines(
    client: Any, owner: Persona, records: Records, now: Now, committing_factory: sessionmaker[Session]
) -> None:
    setup_sla(client, owner)
    source = new_ticket(client, owner, customer_id=records.customers[0], order_id=records.orders[0])
    target = new_ticket(client, owner, customer_id=records.customers[0], order_id=records.orders[0])
    waiting = new_ticket(client, owner, customer_id=records.customers[0])
    client.post(f"/api/v1/tickets/{source['id']}/comments", json={"body": "照片已发"}, headers=owner.headers)
    completed_before = published(committing_factory, "ticket.completed")

    def live_timers(ticket_id: int) -> int:
        with committing_factory() as session:
            return int(
                session.scalar(
                    select(func.count())
                    .select_from(Timer)
                    .where(
                        Timer.kind == clocks.TIMER_KIND,
                        Timer.key.like(f"{ticket_id}:%"),
                        Timer.status == "scheduled",
                    )
                )
                or 0
            )

    target_timers = live_timers(target["id"])
    # The reply stopped the source's first-response clock; its resolution clock still runs.
    assert live_timers(source["id"]) == 2 and target_timers == 4
    now.value = MONDAY_10 + timedelta(minutes=5)
    answer = merge(client, owner, source["id"], target["id"], note="同一个问题")
    assert answer.status_code == 200, answer.text
    merged = answer.json()
    assert merged["source"]["status"] == "closed" and merged["source"]["outcome"] == "merged"
    assert merged["source"]["merged_into_id"] == target["id"] and merged["source"]["actions"] == []
    assert merged["source"]["closed_at"].startswith("2026-09-28T02:05:00")
    assert merged["target"]["status"] == "new" and merged["target"]["merged_into_id"] is None
    assert live_timers(source["id"]) == 0 and live_timers(target["id"]) == target_timers
    assert published(committing_factory, "ticket.completed") == completed_before + 1

    source_detail = detail(client, owner, source["id"])
    last = source_detail["timeline"][-1]
    assert last["kind"] == "status.merge" and last["detail"]["into_ticket_id"] == target["id"]
    assert last["detail"]["outcome"] == "merged" and f"#{target['id']}" in last["summary"]
    target_detail = detail(client, owner, target["id"])
    # The source's comments stay where they are: the target only gets the internal merge note.
    assert [(c["internal"], c["body"]) for c in target_detail["comments"]] == [
        (True, f"合并了重复工单 #{source['id']}「口红断了」：同一个问题")
    ]
    absorbed = target_detail["timeline"][-1]
    assert absorbed["kind"] == "merge.absorbed" and absorbed["detail"]["source_ticket_id"] == source["id"]
    assert absorbed["detail"]["comment_id"] == target_detail["comments"][0]["id"]

    # A ticket waiting on the customer (clocks paused) merges too, and stays stopped.
    act(client, owner, waiting["id"], "wait-customer")
    answer = merge(client, owner, waiting["id"], target["id"])
    assert answer.status_code == 200, answer.text
    assert answer.json()["source"]["paused_at"] is None and live_timers(waiting["id"]) == 0
    assert published(committing_factory, "ticket.completed") == completed_before + 2


def test_earlier_duplicates_follow_the_source_to_the_target_so_merges_never_chain(
    client: Any, owner: Persona, records: Records
) -> None:
    first, second, third = (new_ticket(client, owner, customer_id=records.customers[0]) for _ in range(3))
    assert merge(client, owner, first["id"], second["id"]).status_code == 200
    assert merge(client, owner, second["id"], third["id"]).status_code == 200
    assert detail(client, owner, first["id"])["merged_into_id"] == third["id"]
    assert detail(client, owner, third["id"])["timeline"][-1]["detail"]["redirected_ticket_ids"] == [
        first["id"]
    ]


def test_refused_merges_say_why_and_change_nothing(
    client: Any,
    owner: Persona,
    foreign_records: Records,
    records: Records,
    other_tenant: Persona,
    finance: Persona,
    committing_factory: sessionmaker[Session],
) -> None:
    open_one = new_ticket(client, owner, customer_id=records.customers[0])
    target = new_ticket(client, owner, customer_id=records.customers[0])
    merged = new_ticket(client, owner, customer_id=records.customers[0])
    assert merge(client, owner, merged["id"], target["id"]).status_code == 200
    closed = new_ticket(client, owner, customer_id=records.customers[0])
    act(client, owner, closed["id"], "resolve")
    act(client, owner, closed["id"], "close")
    resolved = new_ticket(client, owner, customer_id=records.customers[0])
    act(client, owner, resolved["id"], "resolve")
    someone_else = new_ticket(client, owner, customer_id=records.customers[1])
    foreign = new_ticket(client, other_tenant, customer_id=foreign_records.customers[0])

    def snapshot() -> tuple[Any, ...]:
        with committing_factory() as session:
            tickets = session.execute(
                select(Ticket.id, Ticket.status, Ticket.merged_into_id, Ticket.outcome).order_by(Ticket.id)
            ).all()
            return (
                tickets,
                session.scalar(select(func.count()).select_from(TicketComment)),
                session.scalar(select(func.count()).select_from(TicketTimelineEntry)),
            )

    before = snapshot()
    refusals = [
        (open_one["id"], open_one["id"], 409, "into itself"),
        (open_one["id"], closed["id"], 409, "is closed"),
        (open_one["id"], merged["id"], 409, f"merge into ticket {target['id']} instead"),
        (closed["id"], open_one["id"], 409, "is closed"),
        (merged["id"], open_one["id"], 409, f"already merged into ticket {target['id']}"),
        (resolved["id"], open_one["id"], 409, "reopen it first"),
        (open_one["id"], someone_else["id"], 409, "different customers"),
        # A cycle: the target was merged into this one.
        (target["id"], merged["id"], 409, "would make a chain"),
        (open_one["id"], foreign["id"], 404, "not found"),
        (open_one["id"], 999_999, 404, "not found"),
    ]
    for source_id, into, status, reason in refusals:
        answer = merge(client, owner, source_id, into)
        assert answer.status_code == status, (source_id, into, answer.text)
        assert reason in answer.json()["detail"], answer.json()
    assert merge(client, other_tenant, open_one["id"], target["id"]).status_code == 404
    assert merge(client, other_tenant, foreign["id"], open_one["id"]).status_code == 404
    assert merge(client, finance, open_one["id"], target["id"]).status_code == 403
    assert merge(client, owner, open_one["id"], "two").status_code == 422
    assert (
        client.post(f"/api/v1/tickets/{open_one['id']}/merge", json={}, headers=owner.headers).status_code
        == 422
    )
    assert merge(client, owner, open_one["id"], target["id"], note="x" * 2001).status_code == 422
    assert snapshot() == before


def test_the_merged_outcome_comes_only_from_a_merge(client: Any, owner: Persona) -> None:
    ticket = new_ticket(client, owner)
    answer = act(client, owner, ticket["id"], "resolve", outcome="merged")
    assert answer.status_code == 422
    assert answer.json()["errors"][0]["field"] == "outcome"
    assert detail(client, owner, ticket["id"])["status"] == "new"
