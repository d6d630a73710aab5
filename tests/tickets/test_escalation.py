"""Escalation after a breach, level by level from durable timers (notify the assignee, then the team
lead with a raised priority, then the manager with a reassignment), each level once however often
the worker restarts; and the next-response clock, one round per unanswered customer message."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from scrm.core.worker import Worker, WorkerConfig
from scrm.registry import build_registry
from scrm.tickets.models import Ticket, TicketTimelineEntry
from tests.conftest import Persona, _make_persona
from tests.core.helpers import FakeClock
from tests.tickets.conftest import MONDAY_10, Now
from tests.tickets.test_tickets import WORKDAY, setup_sla

ESCALATION = [
    {"after_minutes": 0, "notify": ["assignee"]},
    {"after_minutes": 30, "notify": ["team_lead"], "raise_priority": True},
    {"after_minutes": 60, "notify": ["manager", "assignee"], "reassign": True},
]


TARGETS = {"normal": {"first_response_minutes": 60, "next_response_minutes": 30, "resolution_minutes": 240}}


def policy(client: Any, persona: Persona, **extra: Any) -> int:
    return setup_sla(client, persona, targets=TARGETS, warning_percent=80, **extra)


def run_worker(factory: sessionmaker[Session], at: datetime, worker_id: str) -> None:
    Worker(
        factory, build_registry(), WorkerConfig(batch_size=50), worker_id=worker_id, clock=FakeClock(at)
    ).run_once()


def escalations(factory: sessionmaker[Session], ticket_id: int, clock: str) -> list[dict[str, Any]]:
    with factory() as session:
        return [
            entry.detail
            for entry in session.scalars(
                select(TicketTimelineEntry)
                .where(
                    TicketTimelineEntry.ticket_id == ticket_id,
                    TicketTimelineEntry.kind == f"sla.{clock}.escalation",
                )
                .order_by(TicketTimelineEntry.id)
            )
        ]


def test_escalation_climbs_level_by_level_once_each(
    client: Any, owner: Persona, now: Now, committing_factory: sessionmaker[Session]
) -> None:
    first, second, lead = (
        _make_persona(committing_factory, owner.tenant_id, f"esc{index}@brand-a.test", "agent")
        for index in range(3)
    )
    policy(client, owner, escalation=ESCALATION)
    for persona in (first, second):
        assert client.put(
            f"/api/v1/tickets/agents/{persona.user_id}", json={"status": "online"}, headers=owner.headers
        ).is_success
    team = client.post(
        "/api/v1/tickets/teams",
        json={
            "name": "售后",
            "is_default": True,
            "strategy": "round_robin",
            "member_user_ids": [first.user_id, second.user_id],
            "lead_user_id": lead.user_id,
            "manager_user_id": owner.user_id,
        },
        headers=owner.headers,
    )
    assert team.status_code == 201, team.text
    ticket = client.post("/api/v1/tickets", json={"title": "快递丢件"}, headers=owner.headers).json()
    assignee = ticket["assignee_id"]
    assert assignee in (first.user_id, second.user_id)
    # Replied at 10:20: only the resolution clock runs, due 15:30 (10:00-12:00, 13:30-15:30).
    now.value = MONDAY_10 + timedelta(minutes=20)
    client.post(f"/api/v1/tickets/{ticket['id']}/comments", json={"body": "正在核实"}, headers=owner.headers)
    due = datetime(2026, 9, 28, 7, 30, tzinfo=UTC)
    assert ticket["due_resolution_at"].startswith("2026-09-28T07:30:00")

    for worker_id in ("a", "b"):  # the breach: level 1, once, whoever runs
        run_worker(committing_factory, due + timedelta(seconds=5), worker_id)
    levels = escalations(committing_factory, ticket["id"], "resolution")
    assert [(item["level"], item["notify_user_ids"], item["actions"]) for item in levels] == [
        (1, [assignee], [])
    ]

    # Level 2, 30 business minutes after the breach (16:00): the team lead, priority normal → high.
    run_worker(committing_factory, due + timedelta(minutes=29), "a")
    assert len(escalations(committing_factory, ticket["id"], "resolution")) == 1
    for worker_id in ("a", "b"):
        run_worker(committing_factory, due + timedelta(minutes=30, seconds=5), worker_id)
    levels = escalations(committing_factory, ticket["id"], "resolution")
    assert [(item["level"], item["notify_user_ids"], item["actions"]) for item in levels][1] == (
        2,
        [lead.user_id],
        ["raise_priority"],
    )
    # Level 3 (16:30): the manager and the (new) assignee; the ticket goes to the other agent.
    for worker_id in ("c", "a", "b"):
        run_worker(committing_factory, due + timedelta(minutes=61), worker_id)
    other = second.user_id if assignee == first.user_id else first.user_id
    levels = escalations(committing_factory, ticket["id"], "resolution")
    assert [(item["level"], item["notify_user_ids"], item["actions"]) for item in levels][2] == (
        3,
        [owner.user_id, other],
        ["reassign"],
    )
    # Nothing more: three levels configured; a day later, restarted workers find nothing to do.
    run_worker(committing_factory, due + timedelta(days=1), "d")
    assert len(escalations(committing_factory, ticket["id"], "resolution")) == 3
    with committing_factory() as session:
        row = session.get(Ticket, ticket["id"])
        assert row is not None and (row.priority, row.assignee_id) == ("high", other)
        assert {mark for mark in row.sla_marks if mark.startswith("resolution.escalation")} == {
            "resolution.escalation.1",
            "resolution.escalation.2",
            "resolution.escalation.3",
        }
    decisions = client.get(f"/api/v1/tickets/{ticket['id']}/routing", headers=owner.headers).json()
    assert [item["kind"] for item in decisions][-2:] == ["released", "reassigned"]


def test_escalation_levels_must_come_in_order(client: Any, owner: Persona) -> None:
    calendar = client.post(
        "/api/v1/tickets/calendars", json={"name": "c", "weekly": {"mon": WORKDAY}}, headers=owner.headers
    ).json()
    body = {"name": "p", "calendar_id": calendar["id"], "targets": {"normal": {"resolution_minutes": 60}}}
    for levels, field in (
        ([{"after_minutes": 5}], "escalation.0.after_minutes"),
        ([{"after_minutes": 0}, {"after_minutes": 30}, {"after_minutes": 30}], "escalation.2.after_minutes"),
    ):
        answer = client.post(
            "/api/v1/tickets/sla-policies", json={**body, "escalation": levels}, headers=owner.headers
        )
        assert answer.status_code == 422 and answer.json()["errors"][0]["field"] == field
    bad_role = {**body, "escalation": [{"after_minutes": 0, "notify": ["ceo"]}]}
    assert (
        client.post("/api/v1/tickets/sla-policies", json=bad_role, headers=owner.headers).status_code == 422
    )
    assert client.get("/api/v1/tickets/sla-policies", headers=owner.headers).json() == []


def test_next_response_runs_per_unanswered_customer_message(
    client: Any, owner: Persona, now: Now, committing_factory: sessionmaker[Session]
) -> None:
    policy(client, owner)
    ticket = client.post("/api/v1/tickets", json={"title": "色号不对"}, headers=owner.headers).json()
    url = f"/api/v1/tickets/{ticket['id']}"
    # A customer's message before the first response starts nothing new.
    now.value = MONDAY_10 + timedelta(minutes=5)
    client.post(f"{url}/comments", json={"body": "在吗", "from_customer": True}, headers=owner.headers)
    assert client.get(url, headers=owner.headers).json()["due_next_response_at"] is None
    now.value = MONDAY_10 + timedelta(minutes=10)
    client.post(f"{url}/comments", json={"body": "您好"}, headers=owner.headers)
    # 10:40 the customer writes: an answer is due by 11:10; they are not answered in time.
    now.value = MONDAY_10 + timedelta(minutes=40)
    client.post(
        f"{url}/comments", json={"body": "换什么色号？", "from_customer": True}, headers=owner.headers
    )
    assert (
        client.get(url, headers=owner.headers)
        .json()["due_next_response_at"]
        .startswith("2026-09-28T03:10:00")
    )
    for worker_id in ("a", "b"):
        run_worker(committing_factory, datetime(2026, 9, 28, 3, 11, tzinfo=UTC), worker_id)
    assert len(escalations(committing_factory, ticket["id"], "next_response")) == 1
    # The reply stops that round; waiting on the customer, whose message then resumes the ticket and
    # starts a new round, which can breach again (once).
    now.value = datetime(2026, 9, 28, 3, 20, tzinfo=UTC)
    client.post(f"{url}/comments", json={"body": "推荐 #02"}, headers=owner.headers)
    assert client.get(url, headers=owner.headers).json()["due_next_response_at"] is None
    client.post(f"{url}/wait-customer", headers=owner.headers)
    now.value = datetime(2026, 9, 28, 3, 30, tzinfo=UTC)
    client.post(
        f"{url}/comments", json={"body": "好的，那换 #02", "from_customer": True}, headers=owner.headers
    )
    resumed = client.get(url, headers=owner.headers).json()
    assert resumed["status"] == "open" and resumed["due_next_response_at"].startswith("2026-09-28T04:00:00")
    for worker_id in ("a", "b"):
        run_worker(committing_factory, datetime(2026, 9, 28, 4, 1, tzinfo=UTC), worker_id)
    assert len(escalations(committing_factory, ticket["id"], "next_response")) == 2
    refused = client.post(
        f"{url}/comments", json={"body": "x", "from_customer": True, "internal": True}, headers=owner.headers
    )
    assert refused.status_code == 422


def test_a_pause_stands_escalation_still(
    client: Any, owner: Persona, now: Now, committing_factory: sessionmaker[Session]
) -> None:
    policy(client, owner, escalation=ESCALATION)
    ticket = client.post("/api/v1/tickets", json={"title": "发票抬头错了"}, headers=owner.headers).json()
    url = f"/api/v1/tickets/{ticket['id']}"
    now.value = MONDAY_10 + timedelta(minutes=20)
    client.post(f"{url}/comments", json={"body": "收到"}, headers=owner.headers)
    due = datetime(2026, 9, 28, 7, 30, tzinfo=UTC)  # resolution, 15:30
    run_worker(committing_factory, due + timedelta(seconds=5), "a")
    assert len(escalations(committing_factory, ticket["id"], "resolution")) == 1
    # Waiting on the customer from 15:35 to the next morning: level 2 (due 16:00) does not fire.
    now.value = due + timedelta(minutes=5)
    client.post(f"{url}/wait-customer", headers=owner.headers)
    run_worker(committing_factory, due + timedelta(hours=3), "a")
    assert len(escalations(committing_factory, ticket["id"], "resolution")) == 1
    # Resumed Tuesday 09:00: level 2 comes 30 business minutes later (09:30), once.
    now.value = datetime(2026, 9, 29, 1, 0, tzinfo=UTC)
    client.post(f"{url}/resume", headers=owner.headers)
    run_worker(committing_factory, datetime(2026, 9, 29, 1, 29, tzinfo=UTC), "a")
    assert len(escalations(committing_factory, ticket["id"], "resolution")) == 1
    for worker_id in ("a", "b"):
        run_worker(committing_factory, datetime(2026, 9, 29, 1, 31, tzinfo=UTC), worker_id)
    assert [item["level"] for item in escalations(committing_factory, ticket["id"], "resolution")] == [1, 2]
