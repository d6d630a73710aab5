"""The system page's API: overview counts, dead letters and replay, upcoming timers; tenant-isolated."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from scrm.core.clock import utcnow
from scrm.core.outbox_models import OutboxEvent, OutboxStatus, Timer, TimerStatus, WorkerHeartbeat
from tests.conftest import Persona

Factory = sessionmaker[Session]


def add_event(factory: Factory, tenant_id: int, status: OutboxStatus, **values: Any) -> int:
    now = utcnow()
    with factory.begin() as session:
        row = OutboxEvent(
            tenant_id=tenant_id,
            event_id=str(uuid.uuid4()),
            event_type="ticket.created",
            handler="sla.start",
            payload={"ticket_id": 7},
            status=status,
            attempts=8 if status == OutboxStatus.DEAD else 0,
            available_at=now,
            last_error="RuntimeError: boom" if status == OutboxStatus.DEAD else None,
            processed_at=values.pop(
                "processed_at", now if status in (OutboxStatus.DONE, OutboxStatus.DEAD) else None
            ),
            **values,
        )
        session.add(row)
        session.flush()
        return row.id


def add_timer(factory: Factory, tenant_id: int, key: str, due_in: timedelta, status: TimerStatus) -> int:
    due_at = utcnow() + due_in
    with factory.begin() as session:
        timer = Timer(
            tenant_id=tenant_id,
            kind="sla.breach",
            key=key,
            due_at=due_at,
            available_at=due_at,
            payload={"ticket_id": key},
            status=status,
            attempts=8 if status == TimerStatus.DEAD else 0,
            last_error="boom" if status == TimerStatus.DEAD else None,
        )
        session.add(timer)
        session.flush()
        return timer.id


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/api/v1/system/overview"),
        ("get", "/api/v1/system/dead-letters"),
        ("get", "/api/v1/system/timers"),
        ("post", "/api/v1/system/dead-letters/event/1/replay"),
    ],
)
def test_the_system_page_needs_its_permissions(
    client: TestClient, agent: Persona, method: str, path: str
) -> None:
    assert getattr(client, method)(path).status_code == 401
    response = getattr(client, method)(path, headers=agent.headers)
    assert response.status_code == 403
    assert response.json()["type"] == "/problems/permission-denied"


def test_overview_counts_only_the_callers_tenant(
    client: TestClient, committing_factory: Factory, owner: Persona, other_tenant: Persona
) -> None:
    for status in (OutboxStatus.PENDING, OutboxStatus.PENDING, OutboxStatus.PROCESSING, OutboxStatus.DEAD):
        add_event(committing_factory, owner.tenant_id, status)
    add_event(committing_factory, owner.tenant_id, OutboxStatus.DONE)
    add_event(
        committing_factory, owner.tenant_id, OutboxStatus.DONE, processed_at=utcnow() - timedelta(hours=2)
    )
    add_event(committing_factory, other_tenant.tenant_id, OutboxStatus.DEAD)
    add_timer(committing_factory, owner.tenant_id, "overdue", timedelta(minutes=-1), TimerStatus.SCHEDULED)
    add_timer(committing_factory, owner.tenant_id, "later", timedelta(hours=1), TimerStatus.SCHEDULED)
    add_timer(committing_factory, owner.tenant_id, "done", timedelta(hours=-1), TimerStatus.FIRED)
    add_timer(
        committing_factory, other_tenant.tenant_id, "theirs", timedelta(minutes=-5), TimerStatus.SCHEDULED
    )
    now = utcnow()
    with committing_factory.begin() as session:
        session.add_all(
            [
                WorkerHeartbeat(worker_id="h:1:a", hostname="h", pid=1, started_at=now, last_beat_at=now,
                                processed_total=5, mode="process"),
                WorkerHeartbeat(worker_id="h:2:b", hostname="h", pid=2, started_at=now - timedelta(hours=1),
                                last_beat_at=now - timedelta(minutes=10), processed_total=0, mode="embedded"),
            ]
        )  # fmt: skip

    response = client.get("/api/v1/system/overview", headers=owner.headers)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["outbox"] == {"pending": 2, "processing": 1, "dead": 1, "done_last_hour": 1}
    assert body["timers"]["scheduled"] == 2 and body["timers"]["overdue"] == 1
    assert body["timers"]["next_due_at"] is not None
    assert body["inbox"] == {"received": 0, "failed": 0}
    workers = {worker["worker_id"]: worker for worker in body["workers"]}
    assert workers["h:1:a"]["alive"] is True and workers["h:1:a"]["processed_total"] == 5
    assert workers["h:2:b"]["alive"] is False

    theirs = client.get("/api/v1/system/overview", headers=other_tenant.headers).json()
    assert theirs["outbox"]["dead"] == 1 and theirs["outbox"]["pending"] == 0
    assert theirs["timers"]["overdue"] == 1


def test_dead_letters_list_newest_first_in_pages(
    client: TestClient, committing_factory: Factory, owner: Persona, other_tenant: Persona
) -> None:
    ids = [add_event(committing_factory, owner.tenant_id, OutboxStatus.DEAD) for _ in range(3)]
    add_event(committing_factory, owner.tenant_id, OutboxStatus.PENDING)
    add_event(committing_factory, other_tenant.tenant_id, OutboxStatus.DEAD)
    timer_id = add_timer(committing_factory, owner.tenant_id, "t", timedelta(0), TimerStatus.DEAD)

    first = client.get("/api/v1/system/dead-letters?kind=event&limit=2", headers=owner.headers).json()
    assert [item["id"] for item in first["items"]] == [ids[2], ids[1]]
    item = first["items"][0]
    assert (item["kind"], item["name"], item["handler"], item["attempts"]) == (
        "event",
        "ticket.created",
        "sla.start",
        8,
    )
    assert item["last_error"] == "RuntimeError: boom" and item["payload"] == {"ticket_id": 7}
    assert item["failed_at"] is not None
    second = client.get(
        f"/api/v1/system/dead-letters?kind=event&limit=2&cursor={first['next_cursor']}", headers=owner.headers
    ).json()
    assert [item["id"] for item in second["items"]] == [ids[0]] and second["next_cursor"] is None

    timers = client.get("/api/v1/system/dead-letters?kind=timer", headers=owner.headers).json()
    assert [(item["id"], item["kind"], item["name"], item["handler"]) for item in timers["items"]] == [
        (timer_id, "timer", "sla.breach", None)
    ]
    assert client.get("/api/v1/system/dead-letters?kind=job", headers=owner.headers).status_code == 422


def test_replay_requeues_a_dead_letter_once_and_only_in_its_tenant(
    client: TestClient, committing_factory: Factory, owner: Persona, admin: Persona, other_tenant: Persona
) -> None:
    event_id = add_event(committing_factory, owner.tenant_id, OutboxStatus.DEAD)
    timer_id = add_timer(committing_factory, owner.tenant_id, "t", timedelta(hours=-1), TimerStatus.DEAD)

    foreign = client.post(
        f"/api/v1/system/dead-letters/event/{event_id}/replay", headers=other_tenant.headers
    )
    assert foreign.status_code == 404
    response = client.post(f"/api/v1/system/dead-letters/event/{event_id}/replay", headers=admin.headers)
    assert response.status_code == 200, response.text
    assert (response.json()["status"], response.json()["attempts"]) == ("pending", 0)
    again = client.post(f"/api/v1/system/dead-letters/event/{event_id}/replay", headers=admin.headers)
    assert again.status_code == 409

    response = client.post(f"/api/v1/system/dead-letters/timer/{timer_id}/replay", headers=owner.headers)
    assert response.status_code == 200
    assert response.json()["status"] == "scheduled"
    with committing_factory() as session:
        timer = session.get(Timer, timer_id)
        assert timer is not None and (timer.status, timer.attempts) == (TimerStatus.SCHEDULED, 0)
    audit = client.get("/api/v1/audit-log?action=system.", headers=owner.headers).json()
    assert [entry["action"] for entry in audit["items"]] == ["system.dead_letter.replay"] * 2


def test_upcoming_timers_are_listed_soonest_first_in_pages(
    client: TestClient, committing_factory: Factory, owner: Persona, other_tenant: Persona
) -> None:
    later = add_timer(committing_factory, owner.tenant_id, "later", timedelta(hours=2), TimerStatus.SCHEDULED)
    soon = add_timer(committing_factory, owner.tenant_id, "soon", timedelta(minutes=5), TimerStatus.SCHEDULED)
    middle = add_timer(
        committing_factory, owner.tenant_id, "middle", timedelta(hours=1), TimerStatus.SCHEDULED
    )
    add_timer(committing_factory, owner.tenant_id, "fired", timedelta(minutes=1), TimerStatus.FIRED)
    add_timer(committing_factory, owner.tenant_id, "cancelled", timedelta(minutes=1), TimerStatus.CANCELLED)
    add_timer(
        committing_factory, other_tenant.tenant_id, "theirs", timedelta(minutes=1), TimerStatus.SCHEDULED
    )

    first = client.get("/api/v1/system/timers?limit=2", headers=owner.headers).json()
    assert [item["id"] for item in first["items"]] == [soon, middle]
    assert set(first["items"][0]) >= {"id", "kind", "key", "due_at", "status", "attempts"}
    second = client.get(f"/api/v1/system/timers?limit=2&cursor={first['next_cursor']}", headers=owner.headers)
    assert [item["id"] for item in second.json()["items"]] == [later]
    assert second.json()["next_cursor"] is None
    bad = client.get("/api/v1/system/timers?cursor=not-a-cursor", headers=owner.headers)
    assert bad.status_code == 422
