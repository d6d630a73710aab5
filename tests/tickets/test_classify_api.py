"""Classification over HTTP: rules (CRUD and bad input), urgent phrases that raise a new ticket's
priority before its SLA clocks start, the triage queue and agents' corrections, tickets from chat
messages (once per message), and tenant isolation; every rejected request changes nothing."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from scrm.customers.models import Customer
from scrm.tickets import service as ticket_service
from scrm.tickets.classify.models import ClassificationCorrection, ClassificationRule
from scrm.tickets.models import Ticket
from scrm.tickets.sla import clocks
from tests.conftest import Persona

# Monday 2026-09-28 10:00 in Shanghai.
MONDAY_10 = datetime(2026, 9, 28, 2, 0, tzinfo=UTC)
WORKDAY = [["09:00", "12:00"], ["13:30", "18:00"]]
LOST_PARCEL = {
    "name": "订单丢失升级",
    "phrases": ["订单丢失", "丢件"],
    "category": "丢件/未收到",
    "urgent": True,
    "position": 1,
}
COMPLAINT = {
    "name": "投诉",
    "phrases": ["投诉", "12315", "曝光"],
    "category": "投诉",
    "priority": "high",
    "creates_ticket_from_chat": True,
}


@pytest.fixture
def now(monkeypatch: pytest.MonkeyPatch) -> Iterator[datetime]:
    monkeypatch.setattr(ticket_service, "utcnow", lambda: MONDAY_10)
    monkeypatch.setattr(clocks, "utcnow", lambda: MONDAY_10)
    yield MONDAY_10


def add_rule(client: Any, persona: Persona, **rule: Any) -> dict[str, Any]:
    answer = client.post("/api/v1/tickets/classifier/rules", json=rule, headers=persona.headers)
    assert answer.status_code == 201, answer.text
    return dict(answer.json())


def new_ticket(client: Any, persona: Persona, title: str, **extra: Any) -> dict[str, Any]:
    answer = client.post("/api/v1/tickets", json={"title": title, **extra}, headers=persona.headers)
    assert answer.status_code == 201, answer.text
    return dict(answer.json())


def setup_sla(client: Any, persona: Persona) -> None:
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
            "targets": {
                "urgent": {"first_response_minutes": 10, "resolution_minutes": 60},
                "high": {"first_response_minutes": 30, "resolution_minutes": 120},
                "normal": {"first_response_minutes": 60, "resolution_minutes": 240},
            },
        },
        headers=persona.headers,
    )
    assert made.status_code == 201, made.text


def count(factory: sessionmaker[Session], model: Any) -> int:
    with factory() as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def test_rules_are_managed_over_http_and_bad_input_changes_nothing(
    client: Any,
    owner: Persona,
    agent: Persona,
    other_tenant: Persona,
    committing_factory: sessionmaker[Session],
) -> None:
    rule = add_rule(client, owner, **LOST_PARCEL)
    assert rule["match_mode"] == "any" and rule["enabled"] and rule["urgent"]
    url = f"/api/v1/tickets/classifier/rules/{rule['id']}"
    changed = client.put(
        url, json={**LOST_PARCEL, "phrases": ["丢件", " 订单  丢失 ", "丢件"]}, headers=owner.headers
    )
    assert changed.status_code == 200 and changed.json()["phrases"] == ["丢件", "订单 丢失"]
    listed = client.get("/api/v1/tickets/classifier/rules", headers=agent.headers)
    assert [item["id"] for item in listed.json()] == [rule["id"]]
    bad_bodies = [
        {**LOST_PARCEL, "name": "x", "phrases": []},
        {**LOST_PARCEL, "name": "x", "phrases": ["   "]},
        {**LOST_PARCEL, "name": "x", "phrases": ["长" * 51]},
        {**LOST_PARCEL, "name": "x", "priority": "asap"},
        {**LOST_PARCEL, "name": "x", "match_mode": "some"},
        {**LOST_PARCEL, "name": "x", "surprise": True},
        {"name": "does nothing", "phrases": ["你好"]},
    ]
    for body in bad_bodies:
        answer = client.post("/api/v1/tickets/classifier/rules", json=body, headers=owner.headers)
        assert answer.status_code == 422, (body, answer.text)
        assert answer.json()["errors"], answer.text
    assert (
        client.post("/api/v1/tickets/classifier/rules", json=LOST_PARCEL, headers=owner.headers).status_code
        == 409
    )
    # Agents handle tickets but do not change the rules; another tenant does not see them.
    assert (
        client.post("/api/v1/tickets/classifier/rules", json=COMPLAINT, headers=agent.headers).status_code
        == 403
    )
    assert client.put(url, json=COMPLAINT, headers=other_tenant.headers).status_code == 404
    assert client.delete(url, headers=other_tenant.headers).status_code == 404
    assert client.get("/api/v1/tickets/classifier/rules", headers=other_tenant.headers).json() == []
    assert (
        client.put(
            "/api/v1/tickets/classifier/rules/999999", json=COMPLAINT, headers=owner.headers
        ).status_code
        == 404
    )
    assert count(committing_factory, ClassificationRule) == 1
    with committing_factory() as session:
        kept = session.get(ClassificationRule, rule["id"])
        assert kept is not None and kept.phrases == ["丢件", "订单 丢失"] and kept.name == LOST_PARCEL["name"]
    assert client.delete(url, headers=owner.headers).status_code == 204
    assert count(committing_factory, ClassificationRule) == 0


def test_an_urgent_phrase_raises_the_priority_the_sla_clocks_start_with(
    client: Any, owner: Persona, now: datetime
) -> None:
    setup_sla(client, owner)
    add_rule(client, owner, **LOST_PARCEL)
    plain = new_ticket(client, owner, "问一下发货时间")
    lost = new_ticket(client, owner, "快递一周没动静", description="订单丢失了吧，物流停在10号")
    assert plain["priority"] == "normal"
    assert (lost["priority"], lost["category"], lost["classified_by"]) == ("urgent", "丢件/未收到", "rule")
    assert lost["classification_confidence"] == 1.0 and lost["needs_triage"] is False
    # Monday 10:00 + 60 business minutes (urgent) = 11:00; the normal ticket's 240 run to 15:30.
    assert lost["due_resolution_at"].startswith("2026-09-28T03:00:00")
    assert lost["due_first_response_at"].startswith("2026-09-28T02:10:00")
    assert plain["due_resolution_at"].startswith("2026-09-28T07:30:00")
    # A caller's higher priority is never lowered; its category is kept (the agent's).
    given = new_ticket(client, owner, "丢件", priority="urgent", category="物流查询")
    assert (given["priority"], given["category"], given["classified_by"]) == ("urgent", "物流查询", "agent")
    detail = client.get(f"/api/v1/tickets/{lost['id']}", headers=owner.headers).json()
    classified = [entry for entry in detail["timeline"] if entry["kind"] == "classified"]
    assert len(classified) == 1
    assert classified[0]["detail"]["previous_priority"] == "normal"
    assert classified[0]["detail"]["priority"] == "urgent"
    assert "订单丢失升级" in classified[0]["detail"]["reasons"][0]


def test_unclassified_tickets_wait_in_triage_until_an_agent_confirms_or_corrects(
    client: Any,
    owner: Persona,
    agent: Persona,
    other_tenant: Persona,
    now: datetime,
    committing_factory: sessionmaker[Session],
) -> None:
    setup_sla(client, owner)
    unsure = new_ticket(client, owner, "你好，在吗")
    decided = new_ticket(client, owner, "发票抬头", category="发票")
    assert (unsure["classified_by"], unsure["category"], unsure["needs_triage"]) == ("none", None, True)
    assert decided["needs_triage"] is False
    triage = client.get("/api/v1/tickets?view=triage", headers=agent.headers).json()["items"]
    assert [item["id"] for item in triage] == [unsure["id"]]
    url = f"/api/v1/tickets/{unsure['id']}/classification"
    for body in ({"category": ""}, {"category": "   "}, {"category": "物流查询", "priority": "asap"}, {}):
        assert client.post(url, json=body, headers=agent.headers).status_code == 422, body
    assert client.post(url, json={"category": "物流查询"}, headers=other_tenant.headers).status_code == 404
    assert (
        client.post(
            "/api/v1/tickets/999999/classification", json={"category": "x"}, headers=agent.headers
        ).status_code
        == 404
    )
    assert count(committing_factory, ClassificationCorrection) == 0
    with committing_factory() as session:
        # Rows take their creation time from the real clock; this ticket was opened at "now".
        row = session.get(Ticket, unsure["id"])
        assert row is not None
        row.created_at = MONDAY_10
        session.commit()
    corrected = client.post(url, json={"category": "物流查询", "priority": "high"}, headers=agent.headers)
    assert corrected.status_code == 200, corrected.text
    body = corrected.json()
    assert (body["category"], body["classified_by"], body["needs_triage"]) == ("物流查询", "agent", False)
    # The new priority's clocks, counted from the ticket's creation: 10:00 + 120 business minutes.
    assert body["priority"] == "high" and body["due_resolution_at"].startswith("2026-09-28T04:00:00")
    assert client.get("/api/v1/tickets?view=triage", headers=agent.headers).json()["items"] == []
    corrections = client.get(f"{url}/corrections", headers=agent.headers).json()
    assert [(c["predicted_category"], c["predicted_by"], c["corrected_category"]) for c in corrections] == [
        (None, "none", "物流查询")
    ]
    assert corrections[0]["previous_priority"] == "normal" and corrections[0]["corrected_priority"] == "high"
    # A done ticket's category may still be fixed, not its priority (409, nothing changes).
    assert client.post(f"/api/v1/tickets/{decided['id']}/resolve", headers=agent.headers).status_code == 200
    done_url = f"/api/v1/tickets/{decided['id']}/classification"
    refused = client.post(done_url, json={"category": "发票", "priority": "urgent"}, headers=agent.headers)
    assert refused.status_code == 409
    with committing_factory() as session:
        row = session.get(Ticket, decided["id"])
        assert row is not None and row.priority == "normal"
    assert count(committing_factory, ClassificationCorrection) == 1
    confirmed = client.post(done_url, json={"category": "发票"}, headers=agent.headers)
    assert confirmed.status_code == 200
    kinds = [
        e["kind"]
        for e in client.get(f"/api/v1/tickets/{decided['id']}", headers=agent.headers).json()["timeline"]
    ]
    assert "classification.confirmed" in kinds
    kinds = [
        e["kind"]
        for e in client.get(f"/api/v1/tickets/{unsure['id']}", headers=agent.headers).json()["timeline"]
    ]
    assert "classification.corrected" in kinds
    assert client.get("/api/v1/tickets?view=nonsense", headers=agent.headers).status_code == 422


def _customer(factory: sessionmaker[Session], tenant_id: int) -> int:
    with factory() as session:
        customer = Customer(tenant_id=tenant_id, name="小林")
        session.add(customer)
        session.commit()
        return customer.id


def test_a_chat_message_matching_a_chat_rule_opens_one_ticket(
    client: Any,
    owner: Persona,
    other_tenant: Persona,
    now: datetime,
    committing_factory: sessionmaker[Session],
) -> None:
    add_rule(client, owner, **COMPLAINT)
    add_rule(client, owner, **LOST_PARCEL)  # matches too, but opens nothing from chat by itself
    customer_id = _customer(committing_factory, owner.tenant_id)
    foreign_customer = _customer(committing_factory, other_tenant.tenant_id)
    message = {
        "customer_id": customer_id,
        "message_id": "wx-msg-0001",
        "text": "丢件了也没人管，再不处理我就打12315投诉\n订单 4520017739881",
        "sent_at": "2026-09-28T09:59:00+08:00",
    }
    first = client.post("/api/v1/tickets/from-message", json=message, headers=owner.headers)
    assert first.status_code == 200, first.text
    ticket = first.json()["ticket"]
    assert [rule["name"] for rule in first.json()["matched_rules"]] == ["投诉"]
    assert (ticket["source"], ticket["customer_id"], ticket["category"]) == ("chat", customer_id, "投诉")
    assert ticket["priority"] == "urgent"  # the lost-parcel rule still raises it
    assert ticket["title"] == "丢件了也没人管，再不处理我就打12315投诉"
    again = client.post("/api/v1/tickets/from-message", json=message, headers=owner.headers)
    assert again.status_code == 200 and again.json()["ticket"]["id"] == ticket["id"]
    assert count(committing_factory, Ticket) == 1
    detail = client.get(f"/api/v1/tickets/{ticket['id']}", headers=owner.headers).json()
    chat_entries = [entry for entry in detail["timeline"] if entry["kind"] == "chat.message"]
    assert len(chat_entries) == 1 and chat_entries[0]["detail"]["sent_at"] == "2026-09-28T01:59:00+00:00"
    quiet = client.post(
        "/api/v1/tickets/from-message",
        json={**message, "message_id": "wx-msg-0002", "text": "丢件了"},
        headers=owner.headers,
    )
    assert quiet.status_code == 200 and quiet.json() == {"ticket": None, "matched_rules": []}
    bad = [
        {**message, "message_id": "m3", "text": ""},
        {**message, "message_id": "m3", "text": "   \n "},
        {**message, "message_id": "m3", "text": "投诉" * 2501},
        {**message, "message_id": "m3", "customer_id": foreign_customer},
        {**message, "message_id": "m3", "customer_id": 999999},
        {**message, "message_id": "has space"},
        {key: value for key, value in message.items() if key != "customer_id"},
        {**message, "message_id": "m3", "sent_at": "2026-09-28T09:59:00"},  # no time zone
    ]
    for body in bad:
        answer = client.post("/api/v1/tickets/from-message", json=body, headers=owner.headers)
        assert answer.status_code == 422, (body, answer.text)
        assert answer.json()["errors"]
    # Another tenant's rules never open a ticket here: Brand B has none.
    other = client.post(
        "/api/v1/tickets/from-message",
        json={**message, "customer_id": foreign_customer, "message_id": "b-1"},
        headers=other_tenant.headers,
    )
    assert other.status_code == 200 and other.json()["ticket"] is None
    assert count(committing_factory, Ticket) == 1


def test_rules_and_the_rule_tester_stay_in_their_tenant(
    client: Any, owner: Persona, other_tenant: Persona, now: datetime
) -> None:
    add_rule(client, owner, **LOST_PARCEL)
    mine = client.post(
        "/api/v1/tickets/classifier/test", json={"text": "订单丢失"}, headers=owner.headers
    ).json()
    assert [rule["name"] for rule in mine["matched_rules"]] == ["订单丢失升级"] and mine["urgent"] is True
    theirs = client.post(
        "/api/v1/tickets/classifier/test", json={"text": "订单丢失"}, headers=other_tenant.headers
    ).json()
    assert theirs["matched_rules"] == [] and theirs["model_category"] is None
    ticket = new_ticket(client, other_tenant, "订单丢失")
    assert (ticket["priority"], ticket["classified_by"], ticket["needs_triage"]) == ("normal", "none", True)
    settings = client.put(
        "/api/v1/tickets/classifier/settings",
        json={"triage_threshold": 0.8, "urgency_threshold": 0.9},
        headers=owner.headers,
    )
    assert settings.status_code == 200
    assert client.get("/api/v1/tickets/classifier/settings", headers=other_tenant.headers).json() == {
        "triage_threshold": 0.6,
        "urgency_threshold": 0.7,
    }
    assert (
        client.put(
            "/api/v1/tickets/classifier/settings",
            json={"triage_threshold": 1.5, "urgency_threshold": 0.9},
            headers=owner.headers,
        ).status_code
        == 422
    )
    assert (
        client.get("/api/v1/tickets/classifier/settings", headers=owner.headers).json()["triage_threshold"]
        == 0.8
    )
