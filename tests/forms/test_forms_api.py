"""Forms in the console over HTTP: create, change (a changed definition is a new version, an
unchanged one is not), versions, the dry run, permissions, tenant isolation, and ticket types' fields
(validated on ticket creation; an old ticket keeps its version after an edit)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from scrm.forms.models import Form, FormVersion
from tests.conftest import Persona
from tests.forms.conftest import make_form
from tests.forms.helpers import every_type, label


def complaint_fields(*extra: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        {
            "key": "problem",
            "type": "choice",
            "label": label("问题类型", "Problem"),
            "required": True,
            "options": [{"value": "broken", "label": label("破损", "Broken")}, {"value": "lost"}],
        },
        {"key": "amount", "type": "money", "label": label("申请金额", "Amount")},
        *extra,
    ]


def ticket_form(client: Any, persona: Persona, *extra: dict[str, Any]) -> dict[str, Any]:
    made = client.post(
        "/api/v1/forms",
        json={
            "name": "售后字段",
            "kind": "ticket",
            "ticket_type": "after_sales",
            "fields": complaint_fields(*extra),
        },
        headers=persona.headers,
    )
    assert made.status_code == 201, made.text
    return dict(made.json())


def count(factory: sessionmaker[Session], model: Any) -> int:
    with factory() as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def test_create_read_change_and_versions(client: Any, owner: Persona) -> None:
    made = make_form(client, owner, fields=every_type(), description="门店反馈")
    assert made.status_code == 201, made.text
    form = made.json()
    assert form["current_version"] == 1 and form["kind"] == "public" and len(form["public_key"]) >= 20
    assert form["definition"]["version"] == 1
    assert form["definition"]["fields"][0] == {
        "key": "text",
        "type": "text",
        "label": {"zh-CN": "姓名", "en": "Name"},
        "help": {},
        "required": False,
        "max_length": 10,
    }
    assert form["definition"]["schema"]["properties"]["phone"]["format"] == "cn-mobile"
    body = {"name": "门店反馈", "kind": "public", "fields": form["definition"]["fields"]}
    same = client.put(f"/api/v1/forms/{form['id']}", json=body, headers=owner.headers)
    assert same.status_code == 200 and same.json()["current_version"] == 1  # nothing changed: no version
    body["fields"] = [*body["fields"], {"key": "note", "type": "textarea", "label": label("备注", "Note")}]
    changed = client.put(f"/api/v1/forms/{form['id']}", json=body, headers=owner.headers)
    assert changed.status_code == 200 and changed.json()["current_version"] == 2
    versions = client.get(f"/api/v1/forms/{form['id']}/versions", headers=owner.headers).json()
    assert [version["version"] for version in versions] == [2, 1]
    first = client.get(f"/api/v1/forms/{form['id']}/versions/1", headers=owner.headers).json()
    assert "note" not in first["schema"]["properties"] and len(first["fields"]) == len(every_type())
    assert client.get(f"/api/v1/forms/{form['id']}/versions/3", headers=owner.headers).status_code == 404
    listed = client.get("/api/v1/forms", headers=owner.headers).json()
    assert [item["name"] for item in listed] == ["门店反馈"]
    assert client.get("/api/v1/forms?kind=ticket", headers=owner.headers).json() == []


def test_invalid_definitions_are_422_with_field_errors_and_write_nothing(
    client: Any, owner: Persona, committing_factory: sessionmaker[Session]
) -> None:
    bad = make_form(
        client,
        owner,
        fields=[
            {"key": "a", "type": "colour", "label": label("甲")},
            {"key": "b", "type": "choice", "label": label("乙")},
            {"key": "b", "type": "text", "label": label("丙")},
            {"key": "c", "type": "text", "label": label("丁"), "visible_if": {"field": "zz", "op": "filled"}},
        ],
        on_submit=[{"type": "create_ticket", "title": "{missing} 的反馈"}],
    )
    assert bad.status_code == 422
    assert {error["field"]: error["code"] for error in bad.json()["errors"]} == {
        "fields.0.type": "unknown_type",
        "fields.1.options": "no_options",
        "fields.2.key": "duplicate_key",
        "fields.3.visible_if.field": "missing_field",
        "on_submit.0.title": "unknown_placeholder",
    }
    ticket_without_type = make_form(client, owner, kind="ticket")
    assert [error["field"] for error in ticket_without_type.json()["errors"]] == ["ticket_type"]
    malformed = client.post("/api/v1/forms", content=b'{"name": ', headers=owner.headers)
    assert malformed.status_code == 422
    assert count(committing_factory, Form) == 0 and count(committing_factory, FormVersion) == 0


def test_an_edit_that_breaks_the_definition_keeps_the_current_version(
    client: Any, owner: Persona, committing_factory: sessionmaker[Session]
) -> None:
    form = make_form(client, owner).json()
    broken = client.put(
        f"/api/v1/forms/{form['id']}",
        json={
            "name": "投诉登记",
            "kind": "public",
            "fields": [{"key": "x", "type": "choice", "label": label("甲")}],
        },
        headers=owner.headers,
    )
    assert broken.status_code == 422 and broken.json()["errors"][0]["field"] == "fields.0.options"
    kind = client.put(
        f"/api/v1/forms/{form['id']}",
        json={
            "name": "投诉登记",
            "kind": "ticket",
            "ticket_type": "x",
            "fields": form["definition"]["fields"],
        },
        headers=owner.headers,
    )
    assert kind.status_code == 422 and kind.json()["errors"][0]["field"] == "kind"
    assert client.get(f"/api/v1/forms/{form['id']}", headers=owner.headers).json()["current_version"] == 1
    assert count(committing_factory, FormVersion) == 1


def test_names_and_ticket_types_are_unique_per_tenant(
    client: Any, owner: Persona, other_tenant: Persona
) -> None:
    assert make_form(client, owner).status_code == 201
    clash = make_form(client, owner)
    assert clash.status_code == 409 and clash.json()["errors"][0]["field"] == "name"
    assert make_form(client, other_tenant).status_code == 201  # another tenant's names are its own
    ticket_form(client, owner)
    again = client.post(
        "/api/v1/forms",
        json={"name": "另一个", "kind": "ticket", "ticket_type": "after_sales", "fields": complaint_fields()},
        headers=owner.headers,
    )
    assert again.status_code == 409 and again.json()["errors"][0]["field"] == "ticket_type"


def test_dry_run_returns_field_errors_and_writes_nothing(
    client: Any, owner: Persona, committing_factory: sessionmaker[Session]
) -> None:
    draft = client.post(
        "/api/v1/forms/validate",
        json={"fields": [{"key": "a", "type": "number", "label": label("甲"), "min": 9, "max": 1}]},
        headers=owner.headers,
    )
    assert draft.status_code == 200
    assert draft.json()["valid"] is False and draft.json()["errors"][0]["field"] == "fields.0.max"
    good = client.post("/api/v1/forms/validate", json={"fields": every_type()}, headers=owner.headers).json()
    assert (
        good["valid"] is True
        and good["errors"] == []
        and set(good["schema"]["properties"]) == {field["key"] for field in every_type()}
    )
    actions = client.post(
        "/api/v1/forms/validate",
        json={
            "kind": "ticket",
            "fields": every_type(),
            "on_submit": [{"type": "tag_customer", "phone_field": "text", "tag_ids": [999999]}],
        },
        headers=owner.headers,
    ).json()
    assert [error["field"] for error in actions["errors"]] == ["on_submit"]
    tags = client.post(
        "/api/v1/forms/validate",
        json={
            "fields": every_type(),
            "on_submit": [{"type": "tag_customer", "phone_field": "text", "tag_ids": [999999]}],
        },
        headers=owner.headers,
    ).json()
    assert [error["field"] for error in tags["errors"]] == ["on_submit.0.phone_field", "on_submit.0.tag_ids"]
    assert count(committing_factory, Form) == 0


def test_permissions_and_other_tenants(
    client: Any, owner: Persona, agent: Persona, other_tenant: Persona
) -> None:
    form = make_form(client, owner).json()
    assert client.get(f"/api/v1/forms/{form['id']}", headers=agent.headers).status_code == 200
    assert make_form(client, agent, name="客服建的").status_code == 403
    assert client.put(f"/api/v1/forms/{form['id']}", json={}, headers=agent.headers).status_code == 422
    assert client.delete(f"/api/v1/forms/{form['id']}", headers=agent.headers).status_code == 403
    for path in ("", "/versions", "/versions/1", "/submissions"):
        assert (
            client.get(f"/api/v1/forms/{form['id']}{path}", headers=other_tenant.headers).status_code == 404
        )
    body = {"name": "x", "kind": "public", "fields": form["definition"]["fields"]}
    assert (
        client.put(f"/api/v1/forms/{form['id']}", json=body, headers=other_tenant.headers).status_code == 404
    )
    assert client.delete(f"/api/v1/forms/{form['id']}", headers=other_tenant.headers).status_code == 404
    assert client.get("/api/v1/forms", headers=other_tenant.headers).json() == []
    assert client.get("/api/v1/forms").status_code == 401
    archived = client.delete(f"/api/v1/forms/{form['id']}", headers=owner.headers)
    assert archived.status_code == 200 and archived.json()["is_active"] is False


def test_ticket_custom_fields_follow_the_type_form_and_old_tickets_keep_their_version(
    client: Any, owner: Persona, other_tenant: Persona
) -> None:
    form = ticket_form(client, owner)
    refused = client.post(
        "/api/v1/tickets",
        json={
            "title": "口红断了",
            "ticket_type": "after_sales",
            "custom": {"amount": "1.999", "colour": "red"},
        },
        headers=owner.headers,
    )
    assert refused.status_code == 422
    assert {error["field"]: error["code"] for error in refused.json()["errors"]} == {
        "custom.colour": "unknown_field",
        "custom.problem": "required",
        "custom.amount": "not_money",
    }
    made = client.post(
        "/api/v1/tickets",
        json={
            "title": "口红断了",
            "ticket_type": "after_sales",
            "custom": {"problem": "broken", "amount": "39.9"},
        },
        headers=owner.headers,
    )
    assert made.status_code == 201, made.text
    old = made.json()
    assert old["custom"] == {"problem": "broken", "amount": "39.90"}  # stored as normalised
    # Version 2 makes the amount required; the old ticket keeps version 1.
    fields = complaint_fields()
    fields[1]["required"] = True
    changed = client.put(
        f"/api/v1/forms/{form['id']}",
        json={"name": "售后字段", "kind": "ticket", "ticket_type": "after_sales", "fields": fields},
        headers=owner.headers,
    )
    assert changed.json()["current_version"] == 2
    again = client.post(
        "/api/v1/tickets",
        json={"title": "又断了", "ticket_type": "after_sales", "custom": {"problem": "lost"}},
        headers=owner.headers,
    )
    assert again.status_code == 422 and again.json()["errors"][0]["field"] == "custom.amount"
    new = client.post(
        "/api/v1/tickets",
        json={"title": "又断了", "ticket_type": "after_sales", "custom": {"problem": "lost", "amount": "5"}},
        headers=owner.headers,
    ).json()
    assert new["form_version_id"] != old["form_version_id"]
    old_detail = client.get(f"/api/v1/tickets/{old['id']}", headers=owner.headers).json()
    assert old_detail["form"]["version"] == 1 and old_detail["form"]["form_id"] == form["id"]
    assert old_detail["form"]["schema"]["required"] == ["problem"]
    assert old_detail["form"]["ui"]["fields"]["problem"]["options"]["broken"] == {
        "zh-CN": "破损",
        "en": "Broken",
    }
    new_detail = client.get(f"/api/v1/tickets/{new['id']}", headers=owner.headers).json()
    assert new_detail["form"]["version"] == 2
    # Other types, other tenants and switched-off forms do not check the fields.
    free = client.post(
        "/api/v1/tickets", json={"title": "咨询", "custom": {"anything": 1}}, headers=owner.headers
    ).json()
    assert free["form_version_id"] is None and free["custom"] == {"anything": 1}
    assert client.get(f"/api/v1/tickets/{free['id']}", headers=owner.headers).json()["form"] is None
    elsewhere = client.post(
        "/api/v1/tickets",
        json={"title": "咨询", "ticket_type": "after_sales", "custom": {"x": 1}},
        headers=other_tenant.headers,
    )
    assert elsewhere.status_code == 201 and elsewhere.json()["form_version_id"] is None
    client.delete(f"/api/v1/forms/{form['id']}", headers=owner.headers)
    off = client.post(
        "/api/v1/tickets",
        json={"title": "咨询", "ticket_type": "after_sales", "custom": {"x": 1}},
        headers=owner.headers,
    )
    assert off.status_code == 201 and off.json()["form_version_id"] is None
