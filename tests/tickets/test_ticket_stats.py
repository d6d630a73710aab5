"""The SLA dashboard's figures (`GET /api/v1/tickets/stats`), checked against tickets made here over
HTTP on a faked clock: counts by status, priority, type, category and region; SLA attainment per clock
(a reply after its due time, a clock still running past it, a clock paused before it); what breaches
within the hour and what is overdue; daily series in the requested time zone; filters; another tenant's
tickets left out; bad parameters refused."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import update
from sqlalchemy.orm import Session, sessionmaker

from scrm.tickets import stats
from scrm.tickets.models import Ticket
from tests.conftest import Persona
from tests.tickets.conftest import MONDAY_10, Now
from tests.tickets.test_tickets import act, new_ticket, setup_sla

SHANGHAI_OFFSET = timedelta(hours=8)


@pytest.fixture
def now(now: Now, monkeypatch: pytest.MonkeyPatch) -> Now:
    """The tickets tests' clock, read by the statistics too."""
    monkeypatch.setattr(stats, "utcnow", now)
    return now


def at(local_hour: float) -> datetime:
    """Monday 2026-09-28 at `local_hour` in Shanghai."""
    return MONDAY_10 + timedelta(hours=local_hour - 10)


def get_stats(client: Any, persona: Persona, **params: Any) -> dict[str, Any]:
    answer = client.get("/api/v1/tickets/stats", params=params, headers=persona.headers)
    assert answer.status_code == 200, answer.text
    return dict(answer.json())


def set_created(factory: sessionmaker[Session], ticket_id: int, created_at: datetime) -> None:
    with factory() as session:
        session.execute(update(Ticket).where(Ticket.id == ticket_id).values(created_at=created_at))
        session.commit()


def reply(client: Any, persona: Persona, ticket_id: int) -> None:
    answer = client.post(
        f"/api/v1/tickets/{ticket_id}/comments", json={"body": "您好，已在处理"}, headers=persona.headers
    )
    assert answer.status_code == 201, answer.text


@pytest.fixture
def desk(
    client: Any, owner: Persona, other_tenant: Persona, now: Now, committing_factory: sessionmaker[Session]
) -> dict[str, int]:
    """Normal tickets opened Monday 10:00 (first response due 11:00, resolution 15:30): `on_time`
    replied 10:30 and resolved 14:00; `late_reply` replied 11:30; `silent` never replied; `waiting` put
    to wait on the customer at 10:20. `no_target` is urgent (the policy has no target for it); a
    complaint was opened just after midnight on Sunday (Shanghai), an old one 40 days ago. The clock
    then stands at 15:00."""
    setup_sla(client, owner)
    setup_sla(client, other_tenant)
    ids = {
        "on_time": new_ticket(client, owner, region="广东省")["id"],
        "late_reply": new_ticket(client, owner, region="广东省")["id"],
        "silent": new_ticket(client, owner, region="浙江省")["id"],
        "waiting": new_ticket(client, owner)["id"],
        "no_target": new_ticket(client, owner, priority="urgent", category="物流")["id"],
        "complaint": new_ticket(
            client, owner, ticket_type="complaint", category="物流", priority="high", region="广东省"
        )["id"],
        "old": new_ticket(client, owner, region="浙江省")["id"],
    }
    ids_elsewhere = [new_ticket(client, other_tenant, region="广东省")["id"]]
    # Rows take their creation time from the real clock: put them at the faked one.
    for ticket_id in [*ids.values(), *ids_elsewhere]:
        set_created(committing_factory, ticket_id, MONDAY_10)
    now.value = at(10 + 20 / 60)
    assert act(client, owner, ids["waiting"], "wait-customer").status_code == 200
    now.value = at(10.5)
    reply(client, owner, ids["on_time"])
    now.value = at(11.5)
    reply(client, owner, ids["late_reply"])
    now.value = at(14)
    assert act(client, owner, ids["on_time"], "resolve").status_code == 200
    assert act(client, owner, ids["old"], "resolve").status_code == 200
    # Sunday 00:30 in Shanghai is still Saturday in UTC.
    set_created(committing_factory, ids["complaint"], datetime(2026, 9, 26, 16, 30, tzinfo=UTC))
    set_created(committing_factory, ids["old"], MONDAY_10 - timedelta(days=40))
    now.value = at(15)
    return ids


def test_counts_attainment_and_what_is_about_to_breach(
    client: Any, owner: Persona, desk: dict[str, int]
) -> None:
    figures = get_stats(client, owner)
    assert figures["days"] == 30 and figures["timezone"] == "Asia/Shanghai"
    assert figures["since"].startswith("2026-08-29T16:00:00")  # 30 August, 00:00 in Shanghai
    assert figures["total"] == 6  # the old ticket is outside the window, the other tenant's not ours
    assert figures["by_status"] == {
        "new": 4,
        "open": 0,
        "waiting_customer": 1,
        "waiting_third_party": 0,
        "resolved": 1,
        "closed": 0,
    }
    assert figures["by_priority"] == {"urgent": 1, "high": 1, "normal": 4, "low": 0}
    assert figures["by_type"] == {"general": 5, "complaint": 1}
    assert figures["by_category"] == {"物流": 2}
    # First response: on time met; the late reply and the silent one (running past 11:00) breached;
    # the waiting one paused at 10:20, before its due time, so it still runs.
    assert figures["sla"]["first_response"] == {"met": 1, "breached": 2, "running": 1, "attainment": 0.3333}
    assert figures["sla"]["resolution"] == {"met": 1, "breached": 0, "running": 3, "attainment": 1.0}
    # Resolution is due at 15:30 for late_reply and silent (waiting is paused); silent's first
    # response is past due.
    assert figures["breaching_soon"] == 2
    assert figures["overdue"] == 1
    assert figures["by_region"] == [{"region": "广东省", "count": 3}, {"region": "浙江省", "count": 1}]
    assert figures["no_region"] == 2


def test_daily_series_in_the_time_zone_and_filters(
    client: Any, owner: Persona, other_tenant: Persona, desk: dict[str, int], now: Now
) -> None:
    week = get_stats(client, owner, days=7)
    assert [day["day"] for day in week["daily"]] == [f"2026-09-{day}" for day in range(22, 29)]
    by_day = {day["day"]: (day["created"], day["resolved"]) for day in week["daily"]}
    # The complaint counts on Sunday in Shanghai (Saturday in UTC); both resolutions fall on Monday,
    # the old ticket's too, although it was created before the window.
    assert by_day["2026-09-27"] == (1, 0)
    assert by_day["2026-09-26"] == (0, 0)
    assert by_day["2026-09-28"] == (5, 2)
    assert sum(created for created, _ in by_day.values()) == week["total"] == 6
    # In UTC, the complaint's day is Saturday.
    utc = {day["day"]: day["created"] for day in get_stats(client, owner, days=7, tz="UTC")["daily"]}
    assert (utc["2026-09-26"], utc["2026-09-27"]) == (1, 0)
    # A window of one day is today only: the complaint is left out.
    assert get_stats(client, owner, days=1)["total"] == 5

    complaints = get_stats(client, owner, ticket_type="complaint")
    assert complaints["total"] == 1 and complaints["by_region"] == [{"region": "广东省", "count": 1}]
    assert complaints["sla"]["first_response"] == {"met": 0, "breached": 0, "running": 0, "attainment": None}
    logistics = get_stats(client, owner, category="物流")
    assert logistics["total"] == 2 and logistics["by_priority"]["urgent"] == 1
    assert get_stats(client, owner, ticket_type="nothing-like-it")["total"] == 0

    other = get_stats(client, other_tenant)
    assert other["total"] == 1 and other["by_region"] == [{"region": "广东省", "count": 1}]
    assert other["sla"]["first_response"]["breached"] == 1  # its clock ran past 11:00 unanswered


def test_a_recorded_breach_counts_whatever_the_times_say(
    client: Any, owner: Persona, desk: dict[str, int], committing_factory: sessionmaker[Session]
) -> None:
    with committing_factory() as session:
        session.execute(
            update(Ticket)
            .where(Ticket.id == desk["on_time"])
            .values(sla_marks={"resolution.breach": "2026-09-28T07:30:00+00:00"})
        )
        session.commit()
    resolution = get_stats(client, owner)["sla"]["resolution"]
    assert (resolution["met"], resolution["breached"]) == (0, 1)


def test_bad_parameters_and_permissions(client: Any, owner: Persona, finance: Persona, now: Now) -> None:
    for params, field in [
        ({"days": 0}, "days"),
        ({"days": 367}, "days"),
        ({"days": "many"}, "days"),
        ({"tz": "Mars/Olympus_Mons"}, "tz"),
        ({"ticket_type": "x" * 65}, "ticket_type"),
    ]:
        answer = client.get("/api/v1/tickets/stats", params=params, headers=owner.headers)
        assert answer.status_code == 422, (params, answer.text)
        assert [error["field"] for error in answer.json()["errors"]] == [field]
    assert client.get("/api/v1/tickets/stats", headers=finance.headers).status_code == 403
    assert client.get("/api/v1/tickets/stats").status_code == 401
    empty = get_stats(client, owner, days=3)
    assert empty["total"] == 0 and [day["created"] for day in empty["daily"]] == [0, 0, 0]
    assert empty["sla"]["resolution"]["attainment"] is None


def test_days_follow_a_daylight_saving_change(
    client: Any, owner: Persona, now: Now, committing_factory: sessionmaker[Session]
) -> None:
    """New York leaves summer time at 06:00 UTC on 1 November 2026: 04:30 UTC that day is 00:30 (EDT)
    on the 1st, and 04:30 UTC the next day is 23:30 (EST) on the 1st too."""
    now.value = datetime(2026, 11, 3, 17, 0, tzinfo=UTC)
    for created_at in (datetime(2026, 11, 1, 4, 30, tzinfo=UTC), datetime(2026, 11, 2, 4, 30, tzinfo=UTC)):
        set_created(committing_factory, new_ticket(client, owner)["id"], created_at)
    daily = get_stats(client, owner, days=5, tz="America/New_York")["daily"]
    assert {day["day"]: day["created"] for day in daily} == {
        "2026-10-30": 0,
        "2026-10-31": 0,
        "2026-11-01": 2,
        "2026-11-02": 0,
        "2026-11-03": 0,
    }


def test_the_queue_filters_by_priority(client: Any, owner: Persona, desk: dict[str, int]) -> None:
    answer = client.get("/api/v1/tickets", params={"priority": "urgent"}, headers=owner.headers)
    assert answer.status_code == 200, answer.text
    assert [ticket["id"] for ticket in answer.json()["items"]] == [desk["no_target"]]
    both = client.get(
        "/api/v1/tickets", params={"priority": "normal", "status": "new"}, headers=owner.headers
    ).json()["items"]
    assert sorted(ticket["id"] for ticket in both) == sorted([desk["late_reply"], desk["silent"]])
    refused = client.get("/api/v1/tickets", params={"priority": "asap"}, headers=owner.headers)
    assert refused.status_code == 422 and refused.json()["errors"][0]["field"] == "priority"


def test_a_duplicate_closed_by_a_merge_leaves_the_attainment(
    client: Any, owner: Persona, desk: dict[str, int]
) -> None:
    merged = client.post(
        f"/api/v1/tickets/{desk['silent']}/merge",
        json={"into_ticket_id": desk["late_reply"]},
        headers=owner.headers,
    )
    assert merged.status_code == 200, merged.text
    figures = get_stats(client, owner)
    # The silent ticket's breached first response is no longer counted; it is closed now.
    assert figures["sla"]["first_response"] == {"met": 1, "breached": 1, "running": 1, "attainment": 0.5}
    assert figures["sla"]["resolution"] == {"met": 1, "breached": 0, "running": 2, "attainment": 1.0}
    assert (figures["by_status"]["new"], figures["by_status"]["closed"]) == (3, 1)
    assert (figures["breaching_soon"], figures["overdue"]) == (1, 0)
