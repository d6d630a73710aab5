"""Public forms over HTTP, without login: the definition, submissions that create a ticket and tag the
customer the phone number matches (in the request's transaction), and bad input: unknown keys,
switched-off and ticket-type forms (404), oversized bodies (413), malformed JSON and invalid answers
(422 naming each field), too many submissions (429); a rejected submission writes nothing."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from scrm.forms import submissions
from scrm.forms.models import FormSubmission
from scrm.tickets.models import Ticket
from tests.conftest import Persona
from tests.forms.helpers import registration


def count(factory: sessionmaker[Session], model: Any) -> int:
    with factory() as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def make_tag(client: Any, persona: Persona) -> int:
    group = client.post(
        "/api/v1/tags/groups", json={"name": "报名", "tags": ["已报名"]}, headers=persona.headers
    )
    assert group.status_code == 201, group.text
    return int(group.json()["tags"][0]["id"])


def make_customer(client: Any, persona: Persona, phone: str) -> int:
    resolved = client.post(
        "/api/v1/customers/resolve",
        json={"identities": [{"kind": "phone", "value": phone}], "name": "王妈妈"},
        headers=persona.headers,
    )
    assert resolved.status_code == 200, resolved.text
    return int(resolved.json()["customer_id"])


def registration_form(client: Any, persona: Persona, tag_id: int) -> dict[str, Any]:
    made = client.post(
        "/api/v1/forms",
        json={
            "name": "春季美术班报名",
            "kind": "public",
            "fields": registration(),
            "on_submit": [
                {"type": "tag_customer", "phone_field": "phone", "tag_ids": [tag_id]},
                {
                    "type": "create_ticket",
                    "ticket_type": "enrolment",
                    "priority": "high",
                    "title": "{name} 报名 {course}",
                },
            ],
        },
        headers=persona.headers,
    )
    assert made.status_code == 201, made.text
    return dict(made.json())


def answers(**changes: Any) -> dict[str, Any]:
    return {"name": "王小明", "phone": "138 0013 8000", "course": "art", "agree": True} | changes


def submit(client: Any, key: str, data: Any) -> Any:
    return client.post(f"/api/v1/public/forms/{key}/submissions", json={"data": data})


def test_the_definition_is_public(client: Any, owner: Persona) -> None:
    form = registration_form(client, owner, make_tag(client, owner))
    shown = client.get(f"/api/v1/public/forms/{form['public_key']}")
    assert shown.status_code == 200
    body = shown.json()
    assert body["name"] == "春季美术班报名" and body["version"] == 1
    assert [field["key"] for field in body["fields"]] == [field["key"] for field in registration()]
    assert body["schema"]["properties"]["phone"]["format"] == "cn-mobile"
    assert "on_submit" not in body and "id" not in body  # nothing about the tenant or its actions


def test_a_submission_creates_a_ticket_and_tags_the_customer(
    client: Any, owner: Persona, agent: Persona, committing_factory: sessionmaker[Session]
) -> None:
    tag_id = make_tag(client, owner)
    customer_id = make_customer(client, owner, "13800138000")
    form = registration_form(client, owner, tag_id)
    sent = submit(client, form["public_key"], answers())
    assert sent.status_code == 201, sent.text
    assert sent.json()["received"] is True and "ticket" not in sent.text
    tickets = client.get("/api/v1/tickets", headers=owner.headers).json()["items"]
    assert len(tickets) == 1
    ticket = tickets[0]
    assert ticket["title"] == "王小明 报名 美术" and ticket["source"] == "form"
    assert ticket["ticket_type"] == "enrolment" and ticket["priority"] == "high"
    assert ticket["customer_id"] == customer_id and ticket["custom"]["phone"] == "13800138000"
    assert ticket["form_version_id"] == form["definition"]["id"]
    detail = client.get(f"/api/v1/tickets/{ticket['id']}", headers=owner.headers).json()
    assert detail["form"]["version"] == 1 and "学员姓名：王小明" in detail["description"]
    customer = client.get(f"/api/v1/customers/{customer_id}", headers=owner.headers).json()
    assert tag_id in [tag["id"] for tag in customer["tags"]]
    listed = client.get(f"/api/v1/forms/{form['id']}/submissions", headers=owner.headers).json()["items"]
    assert len(listed) == 1
    assert listed[0]["ticket_id"] == ticket["id"] and listed[0]["customer_id"] == customer_id
    assert listed[0]["data"]["phone"] == "13800138000" and listed[0]["version"] == 1
    assert [item["status"] for item in listed[0]["outcome"]] == ["tagged", "created"]
    masked = client.get(f"/api/v1/forms/{form['id']}/submissions", headers=agent.headers).json()["items"]
    assert masked[0]["data"]["phone"] == "138****8000"
    with committing_factory() as session:
        stored = session.scalars(select(Ticket)).one()
        assert stored.source_ref == f"form:{listed[0]['id']}"


def test_an_unknown_phone_is_recorded_and_the_ticket_still_opens(
    client: Any, owner: Persona, committing_factory: sessionmaker[Session]
) -> None:
    form = registration_form(client, owner, make_tag(client, owner))
    assert submit(client, form["public_key"], answers(phone="13900139000")).status_code == 201
    item = client.get(f"/api/v1/forms/{form['id']}/submissions", headers=owner.headers).json()["items"][0]
    assert item["customer_id"] is None
    assert item["outcome"][0] == {
        "type": "tag_customer",
        "status": "no_customer",
        "detail": "no customer has this phone number",
    }
    assert item["outcome"][1]["status"] == "created"
    assert count(committing_factory, Ticket) == 1


def test_invalid_answers_are_422_by_field_and_write_nothing(
    client: Any, owner: Persona, committing_factory: sessionmaker[Session]
) -> None:
    form = registration_form(client, owner, make_tag(client, owner))
    refused = submit(client, form["public_key"], answers(phone="12345", course="piano", agree=False, extra=1))
    assert refused.status_code == 422
    assert {error["field"]: error["code"] for error in refused.json()["errors"]} == {
        "extra": "unknown_field",
        "phone": "not_phone",
        "has_piano": "required",
        "agree": "consent_required",
    }
    assert refused.json()["errors"][1]["message"].startswith("请输入有效的中国大陆手机号 / ")
    malformed = client.post(
        f"/api/v1/public/forms/{form['public_key']}/submissions",
        content=b'{"data": {"name": ',
        headers={"content-type": "application/json"},
    )
    assert malformed.status_code == 422 and malformed.json()["errors"]
    not_an_object = client.post(f"/api/v1/public/forms/{form['public_key']}/submissions", json={"data": [1]})
    assert not_an_object.status_code == 422 and not_an_object.json()["errors"][0]["field"] == "data"
    oversized = submit(client, form["public_key"], answers(name="王" * (submissions.MAX_BODY_BYTES // 2)))
    assert oversized.status_code == 413
    assert count(committing_factory, FormSubmission) == 0 and count(committing_factory, Ticket) == 0


def test_unknown_switched_off_and_ticket_forms_are_404(
    client: Any, owner: Persona, other_tenant: Persona, committing_factory: sessionmaker[Session]
) -> None:
    form = registration_form(client, owner, make_tag(client, owner))
    for key in ("no-such-key", form["public_key"][:-1] + "x"):
        assert client.get(f"/api/v1/public/forms/{key}").status_code == 404
        assert submit(client, key, answers()).status_code == 404
    ticket_form = client.post(
        "/api/v1/forms",
        json={"name": "工单字段", "kind": "ticket", "ticket_type": "enrolment", "fields": registration()},
        headers=owner.headers,
    ).json()
    assert ticket_form["public_key"] is None
    # Another tenant's console cannot read the form's submissions either.
    assert (
        client.get(f"/api/v1/forms/{form['id']}/submissions", headers=other_tenant.headers).status_code == 404
    )
    client.delete(f"/api/v1/forms/{form['id']}", headers=owner.headers)
    assert client.get(f"/api/v1/public/forms/{form['public_key']}").status_code == 404
    assert submit(client, form["public_key"], answers()).status_code == 404
    assert count(committing_factory, FormSubmission) == 0


def test_old_submissions_keep_their_version(client: Any, owner: Persona) -> None:
    form = registration_form(client, owner, make_tag(client, owner))
    assert submit(client, form["public_key"], answers(phone="13900139000")).status_code == 201
    fields = registration()[:3]
    changed = client.put(
        f"/api/v1/forms/{form['id']}",
        json={"name": "春季美术班报名", "kind": "public", "fields": fields, "on_submit": []},
        headers=owner.headers,
    ).json()
    assert changed["current_version"] == 2
    assert submit(client, form["public_key"], answers()).status_code == 422  # `agree` is gone now
    version_2 = {key: value for key, value in answers().items() if key != "agree"}
    assert submit(client, form["public_key"], version_2).status_code == 201
    items = client.get(f"/api/v1/forms/{form['id']}/submissions", headers=owner.headers).json()["items"]
    assert [item["version"] for item in items] == [2, 1]
    assert items[1]["data"]["agree"] is True and items[0]["outcome"] == []


def test_a_visitor_who_submits_too_often_gets_429(
    client: Any, owner: Persona, monkeypatch: pytest.MonkeyPatch, committing_factory: sessionmaker[Session]
) -> None:
    monkeypatch.setattr(submissions, "MAX_SUBMISSIONS_PER_IP", 2)
    form = registration_form(client, owner, make_tag(client, owner))
    for _ in range(2):
        assert submit(client, form["public_key"], answers(phone="13900139000")).status_code == 201
    limited = submit(client, form["public_key"], answers(phone="13900139000"))
    assert limited.status_code == 429 and limited.headers["retry-after"] == "600"
    assert count(committing_factory, FormSubmission) == 2


def test_a_failing_tag_action_is_recorded_and_the_rest_stands(
    client: Any, owner: Persona, committing_factory: sessionmaker[Session]
) -> None:
    tag_id = make_tag(client, owner)
    customer_id = make_customer(client, owner, "13800138000")
    form = registration_form(client, owner, tag_id)
    # The tag goes away after the form was saved: tagging fails inside its savepoint.
    assert client.delete(f"/api/v1/tags/{tag_id}", headers=owner.headers).status_code == 204
    assert submit(client, form["public_key"], answers()).status_code == 201
    item = client.get(f"/api/v1/forms/{form['id']}/submissions", headers=owner.headers).json()["items"][0]
    assert item["customer_id"] == customer_id
    assert [entry["status"] for entry in item["outcome"]] == ["failed", "created"]
    assert item["outcome"][0]["detail"]
    assert count(committing_factory, Ticket) == 1 and count(committing_factory, FormSubmission) == 1
    customer = client.get(f"/api/v1/customers/{customer_id}", headers=owner.headers).json()
    assert customer["tags"] == []
