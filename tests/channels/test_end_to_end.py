"""Channel codes end to end, over real HTTP: the app (callback receiver, inbox, embedded worker) on one
port, the WeCom simulator on another.

A simulated person scans a code → WeCom (the simulator) picks a member of the contact way and calls
back → the worker records the add, sends the welcome message, tags the customer in WeCom and locally,
and re-plans the way → the next scan goes to the next member.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select, update
from tests.channels.conftest import Stack
from tests.core.helpers import wait_until

from scrm.channels import followups, welcome_delivery
from scrm.core.outbox_models import OutboxEvent, OutboxStatus
from scrm.customers.models import Customer
from scrm.staff.models import StaffMember

LINK = {"msgtype": "link", "link": {"title": "新人券", "url": "https://shop.test/coupon", "desc": "扫码专享"}}
SEED_000_WELCOME = {
    "text": "{customer_name}您好，我是{staff_name}，欢迎光临{channel_name}",
    "attachments": [LINK],
    "variants": [
        {"name": "早餐", "start": "06:00", "end": "10:30", "text": "{customer_name}早上好！早餐套餐8折"},
        {"name": "宵夜", "start": "21:00", "end": "02:00", "text": "{customer_name}晚上好！宵夜满30减10"},
    ],
}


def picks(stack: Stack, code: dict[str, Any], count: int, **scan: Any) -> list[str]:
    return [stack.scan(code, name=f"客户{index}", **scan)["userid"] for index in range(count)]


def welcome_for(stack: Stack, welcome_code: str) -> list[dict[str, Any]]:
    return [message for message in stack.welcome_messages() if message["welcome_code"] == welcome_code]


def follow_in_wecom(stack: Stack, external_userid: str, userid: str) -> dict[str, Any]:
    import httpx
    from tests.channels.conftest import CONTACT_SECRET, CORP_ID

    token = httpx.get(
        f"{stack.sim_url}/cgi-bin/gettoken", params={"corpid": CORP_ID, "corpsecret": CONTACT_SECRET}
    ).json()["access_token"]
    answer = httpx.get(
        f"{stack.sim_url}/cgi-bin/externalcontact/get",
        params={"access_token": token, "external_userid": external_userid},
    ).json()
    return next(follow for follow in answer["follow_user"] if follow["userid"] == userid)


def customer_row(stack: Stack, external_userid: str) -> Customer:
    detail = stack.customer_of(external_userid)
    with stack.factory() as session:
        return session.get_one(Customer, detail["id"])


def zone_where_it_is(hour: int) -> str:
    """An Etc/GMT zone in which the local time now is `hour`:MM (for time-of-day variants)."""
    offset = (hour - datetime.now(UTC).hour) % 24
    if offset > 14:
        offset -= 24
    return "Etc/GMT" if offset == 0 else f"Etc/GMT{'-' if offset > 0 else '+'}{abs(offset)}"


# --- strategies ---------------------------------------------------------------------------------------


def test_round_robin_tags_welcome_and_timeline(stack: Stack) -> None:
    code = stack.create_code(
        name="抖音达人小美",
        staff=["zhangsan", "lisi", "wangwu"],
        tags=["抖音达人"],
        welcome={"text": SEED_000_WELCOME["text"], "attachments": [LINK]},
        remark_template="{channel_name}",
        description_template="{date} 扫码 · {staff_name}",
    )
    scans = [stack.scan(code, name=f"客户{index}") for index in range(4)]
    assert [scan["userid"] for scan in scans] == ["zhangsan", "lisi", "wangwu", "zhangsan"]
    assert stack.way_users(code) == ["lisi"]  # rotated after the fourth add

    last = scans[-1]
    [message] = welcome_for(stack, last["welcome_code"])
    assert message["text"] == {"content": "客户3您好，我是张三，欢迎光临抖音达人小美"}
    assert message["attachments"] == [LINK]
    # Tags and remark in WeCom (the simulator's state) and locally.
    tag = stack.code(code["id"])["tags"][0]
    follow = follow_in_wecom(stack, last["external_userid"], "zhangsan")
    assert tag["wecom_tag_id"] in [t["tag_id"] for t in follow["tags"]]
    assert follow["remark"] == "抖音达人小美" and follow["description"].endswith("扫码 · 张三")
    detail = stack.customer_of(last["external_userid"])
    assert [t["name"] for t in detail["tags"]] == ["抖音达人"]
    local = next(f for f in detail["follow_staff"] if f["staff_userid"] == "zhangsan")
    assert local["remark"] == "抖音达人小美"
    kinds = [entry["kind"] for entry in detail["timeline"]]
    assert {"channel.added", "channel.welcome_sent", "channel.tagged"} <= set(kinds)
    welcome_entry = next(e for e in detail["timeline"] if e["kind"] == "channel.welcome_sent")
    assert welcome_entry["detail"]["text"] == message["text"]["content"]
    row = customer_row(stack, last["external_userid"])
    assert (row.source_channel_id, row.source_label) == (code["id"], "抖音达人小美")
    # Every add and every decision is recorded, with its reason.
    adds = stack.api.get(f"/api/v1/channels/{code['id']}/adds").json()["items"]
    assert [add["staff_userid"] for add in adds] == ["zhangsan", "wangwu", "lisi", "zhangsan"]
    assert all(add["was_listed"] and not add["over_cap"] and not add["is_returning"] for add in adds)
    reasons = [d["reason"] for d in stack.api.get(f"/api/v1/channels/{code['id']}/decisions").json()["items"]]
    assert reasons[0] == "round robin: lisi (after zhangsan)"
    welcomes = stack.api.get(f"/api/v1/channels/{code['id']}/welcomes").json()["items"]
    assert [w["status"] for w in welcomes] == ["sent"] * 4


def test_weighted(stack: Stack) -> None:
    code = stack.create_code(
        staff=[{"userid": "zhangsan", "weight": 2}, {"userid": "lisi", "weight": 1}],
        routing={"strategy": "weighted"},
    )
    assert Counter(picks(stack, code, 6)) == {"zhangsan": 4, "lisi": 2}


def test_random_lists_everyone_and_wecom_picks(stack: Stack) -> None:
    code = stack.create_code(staff=["zhangsan", "lisi", "wangwu"], routing={"strategy": "random"})
    assert stack.way_users(code) == ["zhangsan", "lisi", "wangwu"]
    assert set(picks(stack, code, 6)) <= {"zhangsan", "lisi", "wangwu"}
    assert stack.way_users(code) == ["zhangsan", "lisi", "wangwu"]


def test_daily_caps_then_backups(stack: Stack) -> None:
    code = stack.create_code(
        staff=[
            {"userid": "zhangsan", "daily_cap": 2},
            {"userid": "lisi", "daily_cap": 1},
            {"userid": "wangwu", "backup": True},
        ]
    )
    assert picks(stack, code, 5) == ["zhangsan", "lisi", "zhangsan", "wangwu", "wangwu"]
    decision = stack.api.get(f"/api/v1/channels/{code['id']}/decisions").json()["items"][0]
    assert decision["mode"] == "backup" and decision["users"] == ["wangwu"]
    assert decision["excluded"] == {"zhangsan": "at_cap 2/2", "lisi": "at_cap 1/1"}
    detail = stack.code(code["id"])
    assert {entry["userid"]: entry["adds_today"] for entry in detail["staff"]} == {
        "zhangsan": 2,
        "lisi": 1,
        "wangwu": 2,
    }
    # The caps reset at the next local midnight: a refresh is due then.
    from scrm.core.outbox_models import Timer

    with stack.factory() as session:
        keys = set(session.scalars(select(Timer.key).where(Timer.kind == "channels.refresh_way")))
    midnight = (datetime.now(UTC) + timedelta(hours=8)).replace(hour=0, minute=0, second=0, microsecond=0)
    next_midnight = midnight + timedelta(days=1) - timedelta(hours=8)
    assert f"{code['id']}:at:{int(next_midnight.timestamp())}" in keys


def test_schedule_and_special_dates(stack: Stack) -> None:
    now = datetime.now(UTC) + timedelta(hours=8)
    later = [(now + timedelta(hours=h)).strftime("%H:00") for h in (2, 3)]
    code = stack.create_code(
        staff=[{"userid": "zhangsan", "schedule": [{"start": later[0], "end": later[1]}]}, "lisi"],
        routing={"strategy": "round_robin", "timezone": "Asia/Shanghai"},
    )
    assert stack.way_users(code) == ["lisi"]
    assert picks(stack, code, 2) == ["lisi", "lisi"]
    # Today is a closing day for lisi too: nobody is eligible, so everyone is listed (fallback).
    today = now.date().isoformat()
    changed = stack.api.patch(
        f"/api/v1/channels/{code['id']}",
        json={
            "routing": {"strategy": "round_robin", "special_dates": [{"date": today, "userids": ["lisi"]}]}
        },
    )
    assert changed.status_code == 200, changed.text
    assert stack.way_users(code) == ["zhangsan", "lisi"]
    problems = stack.api.get(f"/api/v1/channels/{code['id']}/problems").json()["items"]
    assert problems[0]["kind"] == "nobody_eligible"


def test_online_offline(stack: Stack) -> None:
    code = stack.create_code(staff=["zhangsan", "lisi"])
    response = stack.api.put(
        f"/api/v1/channels/staff/{stack.connection_id}/zhangsan/presence", json={"is_online": False}
    )
    assert response.status_code == 200 and response.json()["is_online"] is False
    stack.wait_idle()
    assert stack.way_users(code) == ["lisi"]
    assert picks(stack, code, 2) == ["lisi", "lisi"]
    stack.api.put(f"/api/v1/channels/staff/{stack.connection_id}/zhangsan/presence", json={"is_online": True})
    stack.wait_idle()
    assert picks(stack, code, 2) == ["zhangsan", "lisi"]
    listed = {row["userid"]: row for row in stack.api.get("/api/v1/channels/staff").json()}
    assert listed["zhangsan"]["is_online"] is True and listed["zhangsan"]["code_ids"] == [code["id"]]


def test_by_store_and_region(stack: Stack) -> None:
    staff = [
        {"userid": "zhangsan", "store": "徐汇店", "region": "上海"},
        {"userid": "lisi", "store": "静安店", "region": "上海"},
        {"userid": "wangwu", "store": "西湖店", "region": "杭州"},
    ]
    xuhui = stack.create_code(
        name="徐汇店活码",
        store="徐汇店",
        region="上海",
        staff=staff,
        routing={"strategy": "random", "match_location": True},
    )
    assert stack.way_users(xuhui) == ["zhangsan"]
    hangzhou = stack.create_code(
        name="杭州新店",
        store="滨江店",
        region="杭州",
        staff=staff,
        routing={"strategy": "random", "match_location": True},
    )
    assert stack.way_users(hangzhou) == ["wangwu"]
    scan = stack.scan(xuhui)
    adds = stack.api.get(f"/api/v1/channels/{xuhui['id']}/adds").json()["items"]
    assert adds[0]["store"] == "徐汇店" and adds[0]["region"] == "上海"
    row = customer_row(stack, scan["external_userid"])
    assert (row.store, row.region) == ("徐汇店", "上海")


# --- returning customers and sticky routing ----------------------------------------------------------


def test_a_returning_customer_is_recognised_not_duplicated(stack: Stack) -> None:
    poster = stack.create_code(name="海报", staff=["zhangsan"])
    live = stack.create_code(name="直播间", staff=["lisi"])
    first = stack.scan(poster, name="王女士", unionid="union-wang")
    again = stack.scan(live, name="王女士", unionid="union-wang")
    assert first["external_userid"] == again["external_userid"]
    assert len(stack.customers_named("王女士")) == 1
    added = stack.api.get(f"/api/v1/channels/{live['id']}/adds").json()["items"][0]
    assert added["is_returning"] is True
    assert stack.api.get(f"/api/v1/channels/{poster['id']}/adds").json()["items"][0]["is_returning"] is False
    # The first channel stays the source.
    assert customer_row(stack, first["external_userid"]).source_channel_id == poster["id"]
    summary = stack.api.get("/api/v1/channels/analytics/summary").json()
    assert {row["name"]: row["returning"] for row in summary["codes"]} == {"海报": 0, "直播间": 1}
    # Scanning a code of someone they already follow: WeCom sends nothing, nothing changes.
    assert stack.scan(live, unionid="union-wang", userid="lisi")["already_following"] is True


def test_merge_and_unmerge_re_point_the_channel_history(stack: Stack) -> None:
    """`customer.merged` moves a code's adds and welcomes to the survivor; unmerge moves them back."""
    poster = stack.create_code(name="海报", staff=["zhangsan"], welcome={"text": "欢迎"})
    live = stack.create_code(name="直播间", staff=["lisi"], welcome={"text": "欢迎"})
    first = stack.scan(poster, name="赵女士", unionid="union-zhao-1")
    second = stack.scan(live, name="赵女士（小号）", unionid="union-zhao-2")
    stack.wait_idle()
    survivor = stack.customer_of(first["external_userid"])["id"]
    merged = stack.customer_of(second["external_userid"])["id"]

    def owners() -> tuple[set[int | None], set[int | None]]:
        def of(path: str) -> set[int | None]:
            return {row["customer_id"] for row in stack.api.get(path).json()["items"]}

        return (
            of(f"/api/v1/channels/{live['id']}/adds"),
            of(f"/api/v1/channels/{live['id']}/welcomes"),
        )

    assert owners() == ({merged}, {merged})
    done = stack.api.post(
        f"/api/v1/customers/{survivor}/merge", json={"other_id": merged, "reason": "同一人", "force": True}
    )
    assert done.status_code == 200, done.text
    stack.wait_idle()
    assert owners() == ({survivor}, {survivor})
    assert {
        row["customer_id"] for row in stack.api.get(f"/api/v1/channels/{poster['id']}/adds").json()["items"]
    } == {survivor}
    undone = stack.api.post(
        f"/api/v1/customers/{survivor}/unmerge", json={"other_id": merged, "reason": "误合并"}
    )
    assert undone.status_code == 200, undone.text
    stack.wait_idle()
    assert owners() == ({merged}, {merged})
    assert {
        row["customer_id"] for row in stack.api.get(f"/api/v1/channels/{poster['id']}/adds").json()["items"]
    } == {survivor}


def test_sticky_hands_a_returning_customer_back_to_their_previous_guide(stack: Stack) -> None:
    code = stack.create_code(staff=["zhangsan", "lisi"], routing={"sticky": True})
    first = stack.scan(code, name="老客户", unionid="union-sticky")
    assert first["userid"] == "zhangsan"
    # The guide removes them; months later they scan again and WeCom gives them to lisi (the way's pick).
    stack.sim(
        "POST",
        "staff/delete_customer",
        json={"external_userid": first["external_userid"], "userid": "zhangsan"},
    )
    stack.wait_idle()
    again = stack.scan(code, unionid="union-sticky")
    assert again["userid"] == "lisi"
    add = stack.api.get(f"/api/v1/channels/{code['id']}/adds").json()["items"][0]
    assert add["is_returning"] is True and add["routed_to"] == "zhangsan"
    timeline = stack.customer_of(first["external_userid"])["timeline"]
    assert any(entry["kind"] == "channel.sticky_transfer" for entry in timeline)
    # The customer accepts the transfer: they follow zhangsan again, and it is not counted as an add.
    stack.sim("POST", "transfers/complete", json={"external_userid": first["external_userid"]})
    stack.wait_idle()
    follows = {
        f["staff_userid"]: f["status"] for f in stack.customer_of(first["external_userid"])["follow_staff"]
    }
    assert follows == {"zhangsan": "active", "lisi": "deleted_by_staff"}
    assert stack.code(code["id"])["adds_total"] == 2


# --- what cannot be attributed ------------------------------------------------------------------------


def test_unknown_state_deleted_and_disabled_codes(stack: Stack) -> None:
    # A contact way made outside the module: its state matches no code.
    raw = stack.wecom("add_contact_way", {"type": 1, "scene": 2, "user": ["zhangsan"], "state": "old-flyer"})
    scan = stack.scan({"config_id": raw["config_id"]}, name="未知渠道客户")
    row = customer_row(stack, scan["external_userid"])
    assert (row.source_channel_id, row.source_label) == (None, "unknown channel")
    unknown = stack.api.get("/api/v1/channels/unknown-states").json()
    assert [(u["state"], u["count"]) for u in unknown] == [("old-flyer", 1)]
    assert stack.welcome_messages() == []

    # A disabled code keeps its way: the scan is recorded as a problem on the code's page.
    disabled = stack.create_code(name="停用码", tags=["门店"], welcome={"text": "你好"})
    stack.api.patch(f"/api/v1/channels/{disabled['id']}", json={"status": "disabled"})
    scan = stack.scan(disabled)
    assert stack.welcome_messages() == []
    problems = stack.api.get(f"/api/v1/channels/{disabled['id']}/problems").json()["items"]
    assert [p["kind"] for p in problems] == ["disabled_code"]
    assert customer_row(stack, scan["external_userid"]).source_label == "unknown channel"
    assert stack.code(disabled["id"])["problems"]["by_kind"] == {"disabled_code": 1}

    # A deleted code whose state is still on some way (e.g. a callback for a scan made just before).
    deleted = stack.create_code(name="已删码")
    stack.api.delete(f"/api/v1/channels/{deleted['id']}")
    leftover = stack.wecom(
        "add_contact_way", {"type": 1, "scene": 2, "user": ["lisi"], "state": deleted["state"]}
    )
    stack.scan({"config_id": leftover["config_id"]})
    problems = stack.api.get(f"/api/v1/channels/{deleted['id']}/problems").json()["items"]
    assert [p["kind"] for p in problems] == ["deleted_code"]


def test_a_member_without_customer_contact_is_recorded_as_a_problem(stack: Stack) -> None:
    code = stack.create_code(staff=["zhangsan"])
    with stack.factory.begin() as session:  # our mirror learns zhangsan lost 客户联系 (WeCom still routes)
        session.execute(
            update(StaffMember).where(StaffMember.userid == "zhangsan").values(has_customer_contact=False)
        )
    scan = stack.scan(code)
    assert scan["userid"] == "zhangsan"
    problems = stack.api.get(f"/api/v1/channels/{code['id']}/problems").json()["items"]
    assert "no_customer_contact" in [p["kind"] for p in problems]
    assert stack.code(code["id"])["adds_total"] == 1  # the customer is still recorded


# --- welcome messages ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("hour", "expected"), [(8, "早上好！早餐套餐8折"), (23, "晚上好！宵夜满30减10"), (15, "您好，我是")]
)
def test_the_welcome_variant_follows_the_local_time_of_day(stack: Stack, hour: int, expected: str) -> None:
    code = stack.create_code(
        name="门店海报", routing={"timezone": zone_where_it_is(hour)}, welcome=SEED_000_WELCOME
    )
    scan = stack.scan(code, name="王女士")
    [message] = welcome_for(stack, scan["welcome_code"])
    assert expected in message["text"]["content"] and message["text"]["content"].startswith("王女士")
    variant = stack.api.get(f"/api/v1/channels/{code['id']}/welcomes").json()["items"][0]["variant"]
    assert variant == {8: "早餐", 23: "宵夜", 15: None}[hour]


def test_a_lost_answer_is_retried_and_never_sent_twice(stack: Stack) -> None:
    code = stack.create_code(welcome={"text": "欢迎"})
    # WeCom does the work and the connection breaks before the answer: we cannot know it was sent.
    stack.sim("POST", "faults", json={"api": "externalcontact/send_welcome_msg", "drop": True, "count": 1})
    scan = stack.scan(code)
    assert len(welcome_for(stack, scan["welcome_code"])) == 1
    result = stack.api.get(f"/api/v1/channels/{code['id']}/welcomes").json()["items"][0]
    assert result["status"] == "probably_sent" and result["attempts"] >= 2


def test_busy_wecom_is_retried_within_the_validity(stack: Stack) -> None:
    code = stack.create_code(welcome={"text": "欢迎"})
    stack.sim(
        "POST", "faults", json={"api": "externalcontact/send_welcome_msg", "errcode": 45033, "count": 3}
    )
    scan = stack.scan(code)
    assert len(welcome_for(stack, scan["welcome_code"])) == 1
    result = stack.api.get(f"/api/v1/channels/{code['id']}/welcomes").json()["items"][0]
    assert result["status"] == "sent"


def test_persistent_failure_is_recorded_as_failed_once_the_code_expires(
    stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(welcome_delivery, "WELCOME_CODE_VALIDITY", timedelta(seconds=5))
    code = stack.create_code(welcome={"text": "欢迎"})
    stack.sim("POST", "faults", json={"api": "externalcontact/send_welcome_msg", "errcode": 45033})
    scan = stack.sim("POST", "scan", json={"config_id": code["config_id"]})

    def settled() -> bool:
        return bool(stack.api.get(f"/api/v1/channels/{code['id']}/welcomes").json()["items"])

    wait_until(settled, what="the welcome to be given up")
    result = stack.api.get(f"/api/v1/channels/{code['id']}/welcomes").json()["items"][0]
    assert result["status"] == "failed" and result["attempts"] >= 2 and "45033" in result["error"]
    assert welcome_for(stack, scan["welcome_code"]) == []
    timeline = stack.customer_of(scan["external_userid"])["timeline"]
    assert any(entry["kind"] == "channel.welcome_failed" for entry in timeline)
    problems = stack.api.get(f"/api/v1/channels/{code['id']}/problems").json()["items"]
    assert [p["kind"] for p in problems] == ["welcome_failed"]


def test_wecom_failing_the_tags_is_retried_then_recorded_on_the_code(
    stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(followups, "FOLLOW_UP_ATTEMPTS", 2)
    code = stack.create_code(tags=["抖音达人"], welcome={"text": "欢迎"})
    stack.sim("POST", "faults", json={"api": "externalcontact/mark_tag", "errcode": -1})
    scan = stack.scan(code)

    def problems() -> list[dict[str, Any]]:
        return list(stack.api.get(f"/api/v1/channels/{code['id']}/problems").json()["items"])

    wait_until(lambda: bool(problems()), what="the tag failure on the code's page")
    [problem] = problems()
    assert problem["kind"] == "tags_failed" and "gave up after 2 attempts" in problem["message"]
    stack.wait_idle()
    # Tried, retried once, then given up: no dead letter, no endless retry.
    with stack.factory() as session:
        push = session.scalars(
            select(OutboxEvent).where(OutboxEvent.handler == "channels.push_tags_and_remark")
        ).one()
    assert (push.status, push.attempts) == (OutboxStatus.DONE, 2)
    assert len(welcome_for(stack, scan["welcome_code"])) == 1  # the welcome went out regardless


@pytest.mark.parametrize(
    ("scan_fields", "fault", "status", "timeline_kind"),
    [
        ({"customer_chatted": True}, None, "customer_chatting", "channel.welcome_customer_chatting"),
        ({}, {"errcode": 48002, "count": 1}, "failed", "channel.welcome_failed"),
        ({}, {"errcode": 41050, "count": 1}, "expired", "channel.welcome_expired"),
    ],
)
def test_every_welcome_outcome_reaches_the_timeline(
    stack: Stack, scan_fields: dict[str, Any], fault: dict[str, Any] | None, status: str, timeline_kind: str
) -> None:
    code = stack.create_code(welcome={"text": "欢迎"})
    if fault:
        stack.sim("POST", "faults", json={"api": "externalcontact/send_welcome_msg", **fault})
    scan = stack.scan(code, **scan_fields)
    result = stack.api.get(f"/api/v1/channels/{code['id']}/welcomes").json()["items"][0]
    assert result["status"] == status and result["attempts"] == 1
    timeline = stack.customer_of(scan["external_userid"])["timeline"]
    assert timeline_kind in [entry["kind"] for entry in timeline]
    assert welcome_for(stack, scan["welcome_code"]) == []


def test_half_added_customers_are_welcomed_and_counted_once(stack: Stack) -> None:
    code = stack.create_code(welcome={"text": "欢迎"})
    scan = stack.scan(code, half=True)
    assert len(welcome_for(stack, scan["welcome_code"])) == 1
    adds = stack.api.get(f"/api/v1/channels/{code['id']}/adds").json()["items"]
    assert [(add["is_half"], add["staff_userid"]) for add in adds] == [(True, "zhangsan")]


# --- analytics ----------------------------------------------------------------------------------------


def test_analytics_and_the_live_feed(stack: Stack) -> None:
    xuhui = stack.create_code(name="徐汇店", store="徐汇店", region="上海", staff=["zhangsan"])
    xihu = stack.create_code(name="西湖店", store="西湖店", region="杭州", staff=["lisi", "wangwu"])
    live = stack.api.get("/api/v1/channels/analytics/live").json()
    assert live["items"] == [] and live["cursor"] == 0
    scans = [stack.scan(xuhui) for _ in range(3)] + [stack.scan(xihu) for _ in range(2)]
    stack.sim(
        "POST",
        "customer/delete_staff",
        json={"external_userid": scans[0]["external_userid"], "userid": "zhangsan"},
    )
    stack.sim(
        "POST",
        "staff/delete_customer",
        json={"external_userid": scans[3]["external_userid"], "userid": "lisi"},
    )
    stack.wait_idle()
    summary = stack.api.get("/api/v1/channels/analytics/summary").json()
    by_code = {row["name"]: row for row in summary["codes"]}
    assert (
        by_code["徐汇店"]["adds"],
        by_code["徐汇店"]["deletions_by_customer"],
        by_code["徐汇店"]["net"],
    ) == (3, 1, 2)
    assert (by_code["西湖店"]["adds"], by_code["西湖店"]["deletions_by_staff"], by_code["西湖店"]["net"]) == (
        2,
        1,
        1,
    )
    assert {row["store"]: row["net"] for row in summary["stores"]} == {"徐汇店": 2, "西湖店": 1}
    assert (summary["adds"], summary["deletions"], summary["net"]) == (5, 2, 3)
    days = stack.api.get("/api/v1/channels/analytics/series", params={"bucket": "day"}).json()["points"]
    assert len(days) == 30 and days[-1]["adds"] == 5 and days[-1]["net"] == 3
    hours = stack.api.get("/api/v1/channels/analytics/series", params={"bucket": "hour"}).json()["points"]
    assert sum(point["adds"] for point in hours) == 5
    region = stack.api.get("/api/v1/channels/analytics/summary", params={"region": "杭州"}).json()
    assert region["adds"] == 2
    staff = {row["staff_userid"]: row for row in stack.api.get("/api/v1/channels/analytics/staff").json()}
    assert staff["zhangsan"]["adds"] == 3 and staff["zhangsan"]["deletions"] == 1
    # The board polls with the cursor of its last answer and gets only what is new.
    feed = stack.api.get("/api/v1/channels/analytics/live").json()
    assert [item["store"] for item in feed["items"]] == ["徐汇店"] * 3 + ["西湖店"] * 2
    assert {row["store"]: row["adds_last_minute"] for row in feed["stores"]} == {"徐汇店": 3, "西湖店": 2}
    stack.scan(xihu)
    newer = stack.api.get("/api/v1/channels/analytics/live", params={"since": feed["cursor"]}).json()
    assert [item["code_name"] for item in newer["items"]] == ["西湖店"] and newer["cursor"] > feed["cursor"]
