"""Calendars and SLA policies over HTTP: create, read, change, the deadline preview, and bad input
(field errors, unknown and other tenants' ids, permissions, calendars in use), each changing nothing."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from scrm.identity.models import AuditEntry
from scrm.tickets.models import CalendarRow, SlaPolicy
from tests.conftest import Persona

OFFICE: dict[str, Any] = {
    "name": "上海客服中心",
    "timezone": "Asia/Shanghai",
    "weekly": {day: [["09:00", "12:00"], ["13:30", "18:00"]] for day in ("mon", "tue", "wed", "thu", "fri")},
    "holidays": ["2026-10-02", "2026-10-01", "2026-10-01"],
    "extra_workdays": ["2026-10-10"],
}


def policy(calendar_id: int, **extra: Any) -> dict[str, Any]:
    return {
        "name": "标准 SLA",
        "calendar_id": calendar_id,
        "targets": {
            "urgent": {"first_response_minutes": 30, "resolution_minutes": 240},
            "normal": {
                "first_response_minutes": 120,
                "next_response_minutes": 240,
                "resolution_minutes": 1440,
            },
        },
        **extra,
    }


def counts(factory: sessionmaker[Session]) -> tuple[int, int]:
    with factory() as session:
        return (
            session.scalar(select(func.count()).select_from(CalendarRow)) or 0,
            session.scalar(select(func.count()).select_from(SlaPolicy)) or 0,
        )


def test_a_policy_previews_deadlines_on_its_calendar(client: Any, owner: Persona) -> None:
    created = client.post("/api/v1/tickets/calendars", json=OFFICE, headers=owner.headers)
    assert created.status_code == 201, created.text
    calendar = created.json()
    assert calendar["holidays"] == ["2026-10-01", "2026-10-02"]  # sorted, repeats dropped
    made = client.post("/api/v1/tickets/sla-policies", json=policy(calendar["id"]), headers=owner.headers)
    assert made.status_code == 201, made.text
    policy_id = made.json()["id"]
    assert made.json()["targets"]["urgent"] == {
        "first_response_minutes": 30,
        "next_response_minutes": None,
        "resolution_minutes": 240,
    }
    # Wednesday 2026-09-30 17:30 Shanghai + 60 business minutes: the holidays are skipped.
    preview = client.post(
        f"/api/v1/tickets/sla-policies/{policy_id}/preview",
        json={"start": "2026-09-30T17:30:00+08:00", "minutes": 60},
        headers=owner.headers,
    )
    assert preview.status_code == 200, preview.text
    assert preview.json()["due_at"].startswith("2026-10-05T01:30:00")  # Monday 09:30 Shanghai (UTC)
    assert preview.json()["due_at_local"].startswith("2026-10-05T09:30:00+08:00")
    # Changing the calendar changes later previews (the 10th, a Saturday, is now the next working day).
    changed = {
        **OFFICE,
        "holidays": [
            "2026-10-01",
            "2026-10-02",
            "2026-10-05",
            "2026-10-06",
            "2026-10-07",
            "2026-10-08",
            "2026-10-09",
        ],
    }
    assert (
        client.put(
            f"/api/v1/tickets/calendars/{calendar['id']}", json=changed, headers=owner.headers
        ).status_code
        == 200
    )
    preview = client.post(
        f"/api/v1/tickets/sla-policies/{policy_id}/preview",
        json={"start": "2026-09-30T17:30:00+08:00", "minutes": 60},
        headers=owner.headers,
    )
    assert preview.json()["due_at_local"].startswith("2026-10-10T09:30:00+08:00")
    listed = client.get("/api/v1/tickets/sla-policies", headers=owner.headers).json()
    assert [item["name"] for item in listed] == ["标准 SLA"]


def test_bad_calendars_get_field_errors_and_store_nothing(
    client: Any, owner: Persona, committing_factory: sessionmaker[Session]
) -> None:
    bad = {
        **OFFICE,
        "timezone": "Mars/Olympus",
        "weekly": {
            "mon": [["09:00", "12:00"], ["11:00", "13:00"]],
            "tue": [["18:00", "09:00"]],
            "someday": [],
        },
        "holidays": ["2026-02-30"],
    }
    answer = client.post("/api/v1/tickets/calendars", json=bad, headers=owner.headers)
    assert answer.status_code == 422
    fields = {error["field"] for error in answer.json()["errors"]}
    assert fields == {"timezone", "weekly.mon", "weekly.tue[0]", "weekly.someday", "holidays[0]"}
    assert (
        client.post(
            "/api/v1/tickets/calendars", json={**OFFICE, "extra": 1}, headers=owner.headers
        ).status_code
        == 422
    )
    assert counts(committing_factory) == (0, 0)
    with committing_factory() as session:
        assert not session.scalars(select(AuditEntry).where(AuditEntry.action.like("tickets.%"))).all()


def test_bad_policies_and_previews_are_refused(
    client: Any, owner: Persona, other_tenant: Persona, committing_factory: sessionmaker[Session]
) -> None:
    theirs = client.post("/api/v1/tickets/calendars", json=OFFICE, headers=other_tenant.headers).json()
    ours = client.post("/api/v1/tickets/calendars", json=OFFICE, headers=owner.headers).json()
    before = counts(committing_factory)
    # Another tenant's calendar is an unknown calendar.
    answer = client.post("/api/v1/tickets/sla-policies", json=policy(theirs["id"]), headers=owner.headers)
    assert answer.status_code == 422 and answer.json()["errors"][0]["field"] == "calendar_id"
    answer = client.post(
        "/api/v1/tickets/sla-policies", json=policy(ours["id"], targets={}), headers=owner.headers
    )
    assert answer.status_code == 422
    answer = client.post(
        "/api/v1/tickets/sla-policies",
        json=policy(ours["id"], targets={"someday": {"resolution_minutes": 5}}),
        headers=owner.headers,
    )
    assert answer.status_code == 422
    answer = client.post(
        "/api/v1/tickets/sla-policies",
        json=policy(ours["id"], targets={"low": {"resolution_minutes": 0}}),
        headers=owner.headers,
    )
    assert answer.status_code == 422
    assert counts(committing_factory) == before
    made = client.post("/api/v1/tickets/sla-policies", json=policy(ours["id"]), headers=owner.headers).json()
    # The same name twice is a conflict.
    assert (
        client.post(
            "/api/v1/tickets/sla-policies", json=policy(ours["id"]), headers=owner.headers
        ).status_code
        == 409
    )
    # Naive times, negative minutes and other tenants' policies.
    url = f"/api/v1/tickets/sla-policies/{made['id']}/preview"
    assert (
        client.post(
            url, json={"start": "2026-09-30T17:30:00", "minutes": 5}, headers=owner.headers
        ).status_code
        == 422
    )
    assert (
        client.post(
            url, json={"start": "2026-09-30T17:30:00Z", "minutes": -1}, headers=owner.headers
        ).status_code
        == 422
    )
    assert (
        client.post(
            url, json={"start": "2026-09-30T17:30:00Z", "minutes": 5}, headers=other_tenant.headers
        ).status_code
        == 404
    )
    assert client.get(f"/api/v1/tickets/calendars/{theirs['id']}", headers=owner.headers).status_code == 404
    # A calendar in use cannot be deleted; an unused one can.
    assert client.delete(f"/api/v1/tickets/calendars/{ours['id']}", headers=owner.headers).status_code == 409
    assert (
        client.delete(f"/api/v1/tickets/calendars/{theirs['id']}", headers=other_tenant.headers).status_code
        == 204
    )


def test_agents_read_but_do_not_manage(client: Any, owner: Persona, agent: Persona) -> None:
    calendar = client.post("/api/v1/tickets/calendars", json=OFFICE, headers=owner.headers).json()
    assert client.get("/api/v1/tickets/calendars", headers=agent.headers).status_code == 200
    assert (
        client.post(
            "/api/v1/tickets/calendars", json={**OFFICE, "name": "x"}, headers=agent.headers
        ).status_code
        == 403
    )
    made = client.post(
        "/api/v1/tickets/sla-policies", json=policy(calendar["id"]), headers=owner.headers
    ).json()
    preview = {"start": "2026-09-30T17:30:00Z", "minutes": 5}
    assert (
        client.post(
            f"/api/v1/tickets/sla-policies/{made['id']}/preview", json=preview, headers=agent.headers
        ).status_code
        == 403
    )
