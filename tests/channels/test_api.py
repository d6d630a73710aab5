"""The channel-code API over HTTP against the WeCom simulator: validation with field errors, WeCom
failures (502/503, nothing stored), edits pushed to the contact way, groups, QR images, tenant
isolation and permissions."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from tests.channels.conftest import Stack
from tests.conftest import Persona


def fields_of(response: httpx.Response) -> set[str]:
    assert response.status_code == 422, response.text
    return {error["field"] for error in response.json()["errors"]}


def post(stack: Stack, **fields: Any) -> httpx.Response:
    return stack.api.post(
        "/api/v1/channels",
        json={"connection_id": stack.connection_id, "name": "码", "staff": ["zhangsan"], **fields},
    )


def test_create_answers_the_code_with_its_contact_way(stack: Stack) -> None:
    code = stack.create_code(
        name="上海徐汇店",
        staff=[{"userid": "zhangsan", "daily_cap": 50}, "lisi", {"userid": "wangwu", "backup": True}],
        routing={"strategy": "round_robin", "timezone": "Asia/Shanghai"},
        tags=["门店", stack.tags["抖音达人"]],
        store="上海徐汇店",
        region="华东",
        skip_verify=False,
        remark_template="{store}-{customer_name}",
    )
    assert code["status"] == "active" and len(code["state"]) <= 30
    assert code["config_id"] and code["qr_url"]
    assert [tag["name"] for tag in code["tags"]] == ["门店", "抖音达人"]
    assert [entry["userid"] for entry in code["staff"]] == ["zhangsan", "lisi", "wangwu"]
    way = stack.wecom("get_contact_way", {"config_id": code["config_id"]})["contact_way"]
    assert way["state"] == code["state"] and way["type"] == 2 and way["scene"] == 2
    assert way["user"] == ["zhangsan"] and way["skip_verify"] is False
    assert code["way"]["users"] == ["zhangsan"]
    assert stack.api.get(f"/api/v1/channels/{code['id']}").json()["id"] == code["id"]
    decisions = stack.api.get(f"/api/v1/channels/{code['id']}/decisions").json()["items"]
    assert decisions[0]["trigger"] == "created" and decisions[0]["users"] == ["zhangsan"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"staff": []}, "staff"),
        ({"staff": [{"userid": "zhangsan", "weight": 0}]}, "staff.0.weight"),
        ({"staff": ["zhangsan", "zhangsan"]}, "staff"),
        ({"staff": [{"userid": "zhangsan", "backup": True}]}, "staff"),
        ({"staff": ["sunqi"]}, "staff.0.userid"),  # no 客户联系 (known from the sync)
        ({"routing": {"timezone": "Mars/Olympus"}}, "routing.timezone"),
        ({"routing": {"strategy": "fastest"}}, "routing.strategy"),
        (
            {"routing": {"schedule": [{"days": [8], "start": "09:00", "end": "18:00"}]}},
            "routing.schedule.0.days.0",
        ),
        ({"routing": {"schedule": [{"start": "9am", "end": "18:00"}]}}, "routing.schedule.0.start"),
        ({"welcome": {"text": "你好{nickname}"}}, "welcome.text"),
        ({"welcome": {"attachments": [{"msgtype": "link", "link": {"title": "t"}}]}}, "welcome.attachments"),
        (
            {"welcome": {"attachments": [{"msgtype": "image", "image": {"pic_url": "p"}}] * 10}},
            "welcome.attachments",
        ),
        ({"welcome": {"variants": [{"name": "早", "start": "06:00"}]}}, "welcome.variants.0"),
        ({"remark_template": "{phone}"}, "remark_template"),
        ({"tags": ["没有这个标签"]}, "tags.0"),
        ({"state": "有中文"}, "state"),
        ({"state": "x" * 31}, "state"),
        ({"group_id": 999999}, "group_id"),
        ({"connection_id": 999999}, "connection_id"),
        ({"name": ""}, "name"),
    ],
)
def test_bad_input_is_refused_with_field_errors(stack: Stack, body: dict[str, Any], field: str) -> None:
    response = post(stack, **body)
    assert field in fields_of(response), response.json()
    assert stack.api.get("/api/v1/channels").json()["items"] == []


def test_a_state_in_use_is_a_conflict(stack: Stack) -> None:
    stack.create_code(state="store-sh-01")
    response = post(stack, state="store-sh-01")
    assert response.status_code == 409 and response.json()["errors"][0]["field"] == "state"


def test_wecom_failures_answer_502_or_503_and_store_nothing(stack: Stack) -> None:
    stack.sim("POST", "faults", json={"api": "externalcontact/add_contact_way", "errcode": 48002, "count": 1})
    refused = post(stack)
    assert refused.status_code == 502, refused.text
    assert refused.headers["content-type"].startswith("application/problem+json")
    stack.sim(
        "POST", "faults", json={"api": "externalcontact/add_contact_way", "errcode": 45033, "count": 10}
    )
    busy = post(stack)
    assert busy.status_code == 503, busy.text
    stack.sim("DELETE", "faults")
    assert stack.api.get("/api/v1/channels").json()["items"] == []
    assert stack.sim("GET", "state")["counts"]["contact_ways"] == 0
    # WeCom refusing the staff list is the caller's problem: 422 on `staff`.
    stack.sim("POST", "faults", json={"api": "externalcontact/add_contact_way", "errcode": 40003, "count": 1})
    assert "staff" in fields_of(post(stack))


def test_edits_are_pushed_to_the_contact_way(stack: Stack) -> None:
    code = stack.create_code(staff=["zhangsan", "lisi"], routing={"strategy": "random"})
    assert stack.way_users(code) == ["zhangsan", "lisi"]
    changed = stack.api.patch(
        f"/api/v1/channels/{code['id']}",
        json={"name": "新名字", "staff": ["lisi", "wangwu"], "skip_verify": False, "tags": ["包裹卡"]},
    )
    assert changed.status_code == 200, changed.text
    way = stack.wecom("get_contact_way", {"config_id": code["config_id"]})["contact_way"]
    assert way["user"] == ["lisi", "wangwu"] and way["skip_verify"] is False and way["remark"] == "新名字"
    assert [tag["name"] for tag in changed.json()["tags"]] == ["包裹卡"]
    # A WeCom failure on an edit changes nothing.
    stack.sim(
        "POST", "faults", json={"api": "externalcontact/update_contact_way", "errcode": 48002, "count": 1}
    )
    failed = stack.api.patch(f"/api/v1/channels/{code['id']}", json={"staff": ["zhangsan"]})
    assert failed.status_code == 502
    assert [e["userid"] for e in stack.code(code["id"])["staff"]] == ["lisi", "wangwu"]
    # Disable keeps the way; delete removes it.
    assert (
        stack.api.patch(f"/api/v1/channels/{code['id']}", json={"status": "disabled"}).json()["status"]
        == "disabled"
    )
    assert stack.wecom("get_contact_way", {"config_id": code["config_id"]})["errcode"] == 0
    assert stack.api.delete(f"/api/v1/channels/{code['id']}").status_code == 204
    assert stack.wecom("get_contact_way", {"config_id": code["config_id"]})["errcode"] == 41044
    assert stack.code(code["id"])["status"] == "deleted"
    assert stack.api.get("/api/v1/channels").json()["items"] == []
    assert [c["id"] for c in stack.api.get("/api/v1/channels?status=deleted").json()["items"]] == [code["id"]]
    assert stack.api.delete(f"/api/v1/channels/{code['id']}").status_code == 204  # idempotent


def test_groups_and_list_filters(stack: Stack) -> None:
    stores = stack.api.post("/api/v1/channels/groups", json={"name": "门店"}).json()
    assert stack.api.post("/api/v1/channels/groups", json={"name": "门店"}).status_code == 409
    kol = stack.api.post("/api/v1/channels/groups", json={"name": "达人"}).json()
    a = stack.create_code(name="徐汇", group_id=stores["id"], store="徐汇店", region="上海")
    b = stack.create_code(name="西湖", group_id=stores["id"], store="西湖店", region="杭州")
    c = stack.create_code(name="达人小美", group_id=kol["id"])

    def ids(query: str) -> list[int]:
        return [item["id"] for item in stack.api.get(f"/api/v1/channels?{query}").json()["items"]]

    assert ids("") == [c["id"], b["id"], a["id"]]
    assert ids(f"group_id={stores['id']}") == [b["id"], a["id"]]
    assert ids("store=徐汇店") == [a["id"]]
    assert ids("region=杭州") == [b["id"]]
    assert ids("q=达人") == [c["id"]]
    assert ids("limit=1")[0] == c["id"]
    groups = {g["name"]: g for g in stack.api.get("/api/v1/channels/groups").json()}
    assert groups["门店"]["code_count"] == 2
    renamed = stack.api.patch(f"/api/v1/channels/groups/{kol['id']}", json={"name": "网红达人"})
    assert renamed.json()["name"] == "网红达人"
    assert stack.api.delete(f"/api/v1/channels/groups/{kol['id']}").status_code == 204
    assert stack.code(c["id"])["group_id"] is None


def test_qr_images(stack: Stack) -> None:
    code = stack.create_code()
    png = stack.api.get(f"/api/v1/channels/{code['id']}/qr.png?color=red&scale=4")
    assert png.status_code == 200 and png.headers["content-type"] == "image/png"
    assert png.content.startswith(b"\x89PNG")
    svg = stack.api.get(
        f"/api/v1/channels/{code['id']}/qr.svg", params={"color": "blue", "label": "上海徐汇店"}
    )
    assert svg.headers["content-type"].startswith("image/svg+xml")
    assert "上海徐汇店" in svg.text and "#1677ff" in svg.text
    assert "color" in fields_of(stack.api.get(f"/api/v1/channels/{code['id']}/qr.png?color=chartreuse"))


def test_other_tenants_codes_answer_404(stack: Stack, other_tenant: Persona) -> None:
    code = stack.create_code()
    group = stack.api.post("/api/v1/channels/groups", json={"name": "门店"}).json()
    headers = other_tenant.headers
    base = str(stack.api.base_url)
    for method, path in [
        ("GET", f"/api/v1/channels/{code['id']}"),
        ("PATCH", f"/api/v1/channels/{code['id']}"),
        ("DELETE", f"/api/v1/channels/{code['id']}"),
        ("GET", f"/api/v1/channels/{code['id']}/qr.png"),
        ("GET", f"/api/v1/channels/{code['id']}/adds"),
        ("GET", f"/api/v1/channels/{code['id']}/problems"),
        ("PATCH", f"/api/v1/channels/groups/{group['id']}"),
        ("DELETE", f"/api/v1/channels/groups/{group['id']}"),
    ]:
        response = httpx.request(method, base + path, headers=headers, json={} if method == "PATCH" else None)
        assert response.status_code == 404, (method, path, response.text)
    assert httpx.get(base + "/api/v1/channels", headers=headers).json()["items"] == []
    assert httpx.get(base + "/api/v1/channels/groups", headers=headers).json() == []
    # Their create cannot use our connection.
    response = httpx.post(
        base + "/api/v1/channels",
        headers=headers,
        json={"connection_id": stack.connection_id, "name": "x", "staff": ["zhangsan"]},
    )
    assert "connection_id" in fields_of(response)
    assert stack.code(code["id"])["status"] == "active"


def test_permissions(stack: Stack, agent: Persona, finance: Persona, admin: Persona) -> None:
    code = stack.create_code()
    base = str(stack.api.base_url)
    # Guides see codes (to show their QR) but do not manage them.
    assert httpx.get(f"{base}/api/v1/channels/{code['id']}", headers=agent.headers).status_code == 200
    assert httpx.get(f"{base}/api/v1/channels/{code['id']}/qr.svg", headers=agent.headers).status_code == 200
    body = {"connection_id": stack.connection_id, "name": "x", "staff": ["zhangsan"]}
    assert httpx.post(f"{base}/api/v1/channels", headers=agent.headers, json=body).status_code == 403
    assert httpx.delete(f"{base}/api/v1/channels/{code['id']}", headers=agent.headers).status_code == 403
    assert httpx.get(f"{base}/api/v1/channels/analytics/summary", headers=agent.headers).status_code == 403
    # Finance sees none of it.
    assert httpx.get(f"{base}/api/v1/channels", headers=finance.headers).status_code == 403
    # Admins manage codes and see analytics.
    created = httpx.post(f"{base}/api/v1/channels", headers=admin.headers, json=body, timeout=30)
    assert created.status_code == 201, created.text
    assert httpx.get(f"{base}/api/v1/channels/analytics/live", headers=admin.headers).status_code == 200
    assert httpx.get(f"{base}/api/v1/channels").status_code == 401


def test_skip_verify_windows_set_the_way(stack: Stack) -> None:
    from datetime import UTC, datetime, timedelta

    now = datetime.now(UTC) + timedelta(hours=8)  # the code's zone: Asia/Shanghai
    inside = {
        "start": (now - timedelta(hours=1)).strftime("%H:00"),
        "end": (now + timedelta(hours=2)).strftime("%H:00"),
    }
    outside = {
        "start": (now + timedelta(hours=2)).strftime("%H:00"),
        "end": (now + timedelta(hours=3)).strftime("%H:00"),
    }
    open_now = stack.create_code(skip_verify=False, skip_verify_windows=[inside])
    closed_now = stack.create_code(skip_verify=True, skip_verify_windows=[outside])
    assert (
        stack.wecom("get_contact_way", {"config_id": open_now["config_id"]})["contact_way"]["skip_verify"]
        is True
    )
    assert (
        stack.wecom("get_contact_way", {"config_id": closed_now["config_id"]})["contact_way"]["skip_verify"]
        is False
    )
    # A timer flips it at the window's edge.
    from sqlalchemy import select

    from scrm.core.outbox_models import Timer

    with stack.factory() as session:
        keys = set(session.scalars(select(Timer.key).where(Timer.kind == "channels.refresh_way")))
    assert any(key.startswith(f"{closed_now['id']}:at:") for key in keys)
