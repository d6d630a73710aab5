"""Tickets over HTTP: explicit transitions (409 naming the allowed ones), the reopen window, comments
that stop the first-response clock, SLA due times on the policy's calendar, pauses that give the
waiting time back, and warnings and breaches that fire once from durable timers, restarts included."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from scrm.core import metrics
from scrm.core.worker import Worker, WorkerConfig
from scrm.registry import build_registry
from scrm.tickets.models import Ticket, TicketTimelineEntry
from tests.conftest import Persona
from tests.core.helpers import FakeClock
from tests.tickets.conftest import MONDAY_10, Now, Records

WORKDAY = [["09:00", "12:00"], ["13:30", "18:00"]]


def setup_sla(client: Any, persona: Persona, **policy: Any) -> int:
    """A Monday-to-Friday calendar with a lunch break and a policy on it (normal: first response 60,
    resolution 240 business minutes, warning at half; `policy` overrides fields). The policy's id."""
    calendar = client.post(
        "/api/v1/tickets/calendars",
        json={"name": "客服", "weekly": {day: WORKDAY for day in ("mon", "tue", "wed", "thu", "fri")}},
        headers=persona.headers,
    ).json()
    made = client.post(
        "/api/v1/tickets/sla-policies",
        json={
            "name": "标准",
            "calendar_id": calendar["id"],
            "targets": {"normal": {"first_response_minutes": 60, "resolution_minutes": 240}},
            "warning_percent": 50,
            **policy,
        },
        headers=persona.headers,
    )
    assert made.status_code == 201, made.text
    return int(made.json()["id"])


def unrouted(event_type: str) -> float:
    """How many `event_type` events were published with no handler yet (settlement and notifications
    are later issues): publishing counts them, writing no outbox row."""
    return float(metrics.OUTBOX_UNROUTED.labels(event_type)._value.get())


def new_ticket(client: Any, persona: Persona, **extra: Any) -> dict[str, Any]:
    answer = client.post(
        "/api/v1/tickets", json={"title": "口红断了", "source": "chat", **extra}, headers=persona.headers
    )
    assert answer.status_code == 201, answer.text
    return dict(answer.json())


def act(client: Any, persona: Persona, ticket_id: int, action: str, **body: Any) -> Any:
    return client.post(f"/api/v1/tickets/{ticket_id}/{action}", json=body or None, headers=persona.headers)


def test_transitions_are_explicit_and_illegal_ones_name_the_allowed(
    client: Any, owner: Persona, now: Now
) -> None:
    ticket = new_ticket(client, owner)
    completed_before = unrouted("ticket.completed")
    assert ticket["status"] == "new" and ticket["actions"] == [
        "open",
        "wait_customer",
        "wait_third_party",
        "resolve",
    ]
    refused = act(client, owner, ticket["id"], "close")
    assert refused.status_code == 409
    assert refused.json()["errors"][0]["allowed"] == ["open", "wait_customer", "wait_third_party", "resolve"]
    for action, status in [
        ("open", "open"),
        ("wait-customer", "waiting_customer"),
        ("resume", "open"),
        ("resolve", "resolved"),
        ("reopen", "open"),
    ]:
        answer = act(client, owner, ticket["id"], action)
        assert answer.status_code == 200 and answer.json()["status"] == status, answer.text
    closed = act(client, owner, ticket["id"], "resolve", outcome="resend")
    assert closed.json()["outcome"] == "resend"
    assert act(client, owner, ticket["id"], "close").json()["status"] == "closed"
    assert act(client, owner, ticket["id"], "reopen").status_code == 409
    detail = client.get(f"/api/v1/tickets/{ticket['id']}", headers=owner.headers).json()
    assert [entry["kind"] for entry in detail["timeline"]][-2:] == ["status.resolve", "status.close"]
    assert unrouted("ticket.completed") == completed_before + 1
    assert detail["outcome"] == "resend"


def test_other_tenants_and_bad_input_change_nothing(
    client: Any,
    owner: Persona,
    other_tenant: Persona,
    agent: Persona,
    now: Now,
    committing_factory: sessionmaker[Session],
) -> None:
    ticket = new_ticket(client, owner)
    assert client.get(f"/api/v1/tickets/{ticket['id']}", headers=other_tenant.headers).status_code == 404
    assert act(client, other_tenant, ticket["id"], "resolve").status_code == 404
    assert client.post("/api/v1/tickets", json={"title": ""}, headers=owner.headers).status_code == 422
    assert (
        client.post(
            "/api/v1/tickets", json={"title": "x", "priority": "asap"}, headers=owner.headers
        ).status_code
        == 422
    )
    assert act(client, owner, ticket["id"], "resolve", outcome="free money").status_code == 422
    with committing_factory() as session:
        assert session.scalar(select(func.count()).select_from(Ticket)) == 1
        assert session.get(Ticket, ticket["id"]).status == "new"  # type: ignore[union-attr]
    # Agents handle tickets but do not change the SLA settings.
    assert act(client, agent, ticket["id"], "open").status_code == 200


def test_due_times_count_business_minutes_and_pauses_give_time_back(
    client: Any, owner: Persona, now: Now
) -> None:
    setup_sla(client, owner)
    ticket = new_ticket(client, owner)
    # Monday 10:00 + 60 business minutes = 11:00; + 240 = 15:30 (the lunch break does not count).
    assert ticket["due_first_response_at"].startswith("2026-09-28T03:00:00")
    assert ticket["due_resolution_at"].startswith("2026-09-28T07:30:00")
    # A reply to the customer at 10:20 stops the first-response clock.
    now.value = MONDAY_10 + timedelta(minutes=20)
    assert (
        client.post(
            f"/api/v1/tickets/{ticket['id']}/comments", json={"body": "您好，已收到"}, headers=owner.headers
        ).status_code
        == 201
    )
    # Waiting on the customer from 10:30 to 16:00: 210 business minutes were left at 10:30, counted again
    # from 16:00: 16:00-18:00 (120) and the next morning 09:00-10:30 (90).
    now.value = MONDAY_10 + timedelta(minutes=30)
    act(client, owner, ticket["id"], "wait-customer")
    now.value = datetime(2026, 9, 28, 8, 0, tzinfo=UTC)
    resumed = act(client, owner, ticket["id"], "resume").json()
    assert resumed["first_responded_at"].startswith("2026-09-28T02:20:00")
    assert resumed["due_resolution_at"].startswith("2026-09-29T02:30:00")


def test_warnings_and_breaches_fire_once_from_durable_timers(
    client: Any, owner: Persona, now: Now, committing_factory: sessionmaker[Session]
) -> None:
    setup_sla(client, owner)
    ticket = new_ticket(client, owner)
    breached_before, escalated_before = unrouted("ticket.sla_breached"), unrouted("ticket.escalated")
    registry = build_registry()
    config = WorkerConfig(batch_size=50, lease_seconds=30, max_attempts=3)
    # Past the resolution due time (15:30): both clocks warn and breach.
    clock = FakeClock(datetime(2026, 9, 28, 8, 0, tzinfo=UTC))
    Worker(committing_factory, registry, config, worker_id="a", clock=clock).run_once()
    # A restarted worker (a new one) finds nothing to fire again.
    clock.advance(3600)
    Worker(committing_factory, registry, config, worker_id="b", clock=clock).run_once()
    with committing_factory() as session:
        row = session.get(Ticket, ticket["id"])
        assert row is not None
        # Level 1 of the default escalation (notify the assignee) acts at each breach.
        assert set(row.sla_marks) == {
            "first_response.warning",
            "first_response.breach",
            "first_response.escalation.1",
            "resolution.warning",
            "resolution.breach",
            "resolution.escalation.1",
        }
        kinds = session.scalars(
            select(TicketTimelineEntry.kind).where(
                TicketTimelineEntry.ticket_id == row.id, TicketTimelineEntry.kind.like("sla.%")
            )
        ).all()
        assert sorted(kinds) == sorted(
            [
                "sla.first_response.warning",
                "sla.first_response.breach",
                "sla.first_response.escalation",
                "sla.resolution.warning",
                "sla.resolution.breach",
                "sla.resolution.escalation",
            ]
        )
    assert unrouted("ticket.sla_breached") == breached_before + 2
    assert unrouted("ticket.escalated") == escalated_before + 2


def test_a_paused_ticket_does_not_breach_and_resolving_stops_the_clocks(
    client: Any, owner: Persona, now: Now, committing_factory: sessionmaker[Session]
) -> None:
    setup_sla(client, owner)
    waiting = new_ticket(client, owner)
    act(client, owner, waiting["id"], "wait-customer")
    done = new_ticket(client, owner)
    act(client, owner, done["id"], "resolve")
    clock = FakeClock(datetime(2026, 9, 30, 8, 0, tzinfo=UTC))
    Worker(
        committing_factory, build_registry(), WorkerConfig(batch_size=50), worker_id="a", clock=clock
    ).run_once()
    with committing_factory() as session:
        for ticket_id in (waiting["id"], done["id"]):
            row = session.get(Ticket, ticket_id)
            assert row is not None and row.sla_marks == {}


def test_a_ticket_points_only_at_the_tenants_customers_orders_and_lines(
    client: Any,
    owner: Persona,
    records: Records,
    foreign_records: Records,
    committing_factory: sessionmaker[Session],
) -> None:
    from scrm.commerce.models import OrderLine

    with committing_factory.begin() as session:
        line = OrderLine(
            tenant_id=owner.tenant_id, order_id=records.orders[0], external_id="L1", title="口红 #02"
        )
        session.add(line)
        session.flush()
        line_id = line.id
    bad = [
        ({"customer_id": foreign_records.customers[0]}, "customer_id"),
        ({"order_id": foreign_records.orders[0]}, "order_id"),
        ({"order_id": records.orders[1], "order_line_id": line_id}, "order_line_id"),
        ({"order_line_id": line_id}, "order_id"),
    ]
    for body, field in bad:
        answer = client.post("/api/v1/tickets", json={"title": "x", **body}, headers=owner.headers)
        assert answer.status_code == 422 and field in [error["field"] for error in answer.json()["errors"]]
    assert client.get("/api/v1/tickets", headers=owner.headers).json()["items"] == []
    made = new_ticket(client, owner, order_id=records.orders[0], order_line_id=line_id)
    # The order's buyer is the customer when none is given.
    assert (made["customer_id"], made["order_line_id"]) == (records.customers[0], line_id)
