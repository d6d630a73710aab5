"""Routing's settings (团队与客服) and the SLA policies' escalation levels in a real browser.

The owner makes two new staff members agents (online, room for one ticket each), builds a team of
them serving a ticket type in 广东省 (the server refuses an overflow team without a wait, on that
field), and watches the queue through the page: two tickets go one to each agent, the third waits in
the team's queue, and giving an agent more room takes it at once. The team cannot be deleted while it
has open tickets. The owner switches their own presence (on the teams page and the ticket queue),
adds escalation levels to an SLA policy (a level not later than the one before is refused on its
field) and reads the page in English. An agent without the settings permission sees it all read-only.
"""

from __future__ import annotations

import re
import uuid
from typing import Any

import httpx
import pytest
from playwright.sync_api import Locator, Page, expect

from scrm.demo.seed import STAFF_PASSWORD
from tests.browser.conftest import LiveServer
from tests.browser.test_channels_console import confirm
from tests.browser.test_wecom_console import api_token, log_in, watch_console

pytestmark = pytest.mark.browser

AGENT_EMAIL = "zhangsan@scrm.local"  # the demo's 导购, on the built-in "agent" role
PROVINCE = "广东省"


def _api(live_server: LiveServer, method: str, path: str, **kwargs: Any) -> Any:
    headers = {"Authorization": f"Bearer {api_token(live_server)}"}
    answer = httpx.request(method, f"{live_server}{path}", headers=headers, timeout=30, **kwargs)
    answer.raise_for_status()
    return answer.json() if answer.content else None


def _expected_errors(errors: list[str]) -> list[str]:
    """The console errors left once the browser's notes of the deliberate 409 and 422 are removed."""
    return [e for e in errors if not re.search(r"\b(409|422)\b", e)]


def _new_staff(live_server: LiveServer, name: str, role_id: int) -> int:
    email = f"{uuid.uuid4().hex[:10]}@routing.test"
    user = _api(
        live_server,
        "POST",
        "/api/v1/users",
        json={"email": email, "display_name": name, "password": STAFF_PASSWORD, "role_id": role_id},
    )
    return int(user["id"])


def _pick(page: Page, select: Locator, search: str, option_testid: str) -> None:
    """Opens an antd select, types to search, and clicks the option."""
    select.click()
    page.keyboard.type(search)
    page.get_by_test_id(option_testid).click()


def _close_dropdown(page: Page) -> None:
    """Closes an open select's dropdown by clicking the drawer's title (Escape would close the drawer
    too, and Tab would toggle the active option)."""
    page.locator(".ant-drawer-title").click()


def _field_error(page: Page, testid: str) -> Locator:
    return (
        page.locator(".ant-form-item")
        .filter(has=page.get_by_test_id(testid))
        .locator(".ant-form-item-explain-error")
    )


def _add_agent(page: Page, user_id: int, name: str, capacity: int) -> None:
    page.get_by_test_id("agent-add").click()
    modal = page.get_by_test_id("agent-modal")
    _pick(page, modal.get_by_test_id("agent-form-user"), name, f"agent-form-user-option-{user_id}")
    modal.get_by_test_id("agent-form-status").click()
    page.get_by_test_id("agent-form-status-option-online").click()
    expect(modal.get_by_test_id("agent-form-status")).to_contain_text("在线")
    modal.get_by_test_id("agent-form-capacity").fill(str(capacity))
    page.get_by_test_id("agent-form-submit").click()
    expect(page.locator(".ant-message")).to_contain_text("客服设置已保存")
    expect(page.get_by_test_id("agent-modal")).to_have_count(0)


def test_the_owner_builds_a_team_and_watches_its_queue_and_escalation(
    page: Page, live_server: LiveServer
) -> None:
    errors = watch_console(page, live_server)
    suffix = uuid.uuid4().hex[:6]
    ticket_type = f"browser_{suffix}"
    roles = {role["key"]: role["id"] for role in _api(live_server, "GET", "/api/v1/roles")}
    name_a, name_b = f"客服甲{suffix}", f"客服乙{suffix}"
    agent_a = _new_staff(live_server, name_a, roles["agent"])
    agent_b = _new_staff(live_server, name_b, roles["agent"])
    # The team ours overflows into (the demo's own teams are not seeded here).
    default_team = _api(
        live_server,
        "POST",
        "/api/v1/tickets/teams",
        json={"name": f"综合客服{suffix}", "strategy": "round_robin", "is_default": True},
    )
    owner_id = _api(live_server, "GET", "/api/v1/me")["user"]["id"]

    log_in(page)
    page.get_by_test_id("menu-ticket-teams").click()
    expect(page).to_have_url(re.compile(r"/tickets/teams$"))
    expect(page.get_by_test_id("page-title")).to_have_text("团队与客服")
    expect(page.get_by_test_id("routing-read-only")).to_have_count(0)
    # The other team is listed with its strategy.
    expect(page.get_by_test_id(f"team-strategy-{default_team['id']}")).to_have_text("轮流分配")
    expect(page.get_by_test_id(f"team-default-{default_team['id']}")).to_be_visible()

    # Two new staff members become agents: online, room for one ticket each.
    _add_agent(page, agent_a, name_a, 1)
    _add_agent(page, agent_b, name_b, 1)
    for user_id in (agent_a, agent_b):
        expect(page.get_by_test_id(f"agent-presence-{user_id}")).to_have_attribute("data-value", "online")
        expect(page.get_by_test_id(f"agent-presence-{user_id}")).to_have_text("在线")
        expect(page.get_by_test_id(f"agent-load-{user_id}")).to_have_attribute("data-value", "0/1")
        expect(page.get_by_test_id(f"agent-teams-{user_id}")).to_have_text("—")

    # A team of them for the new ticket type in 广东省, with a skill for a category, overflowing into
    # the default team. Without a wait the server refuses the overflow, on its field.
    team_name = f"浏览器测试组{suffix}"
    page.get_by_test_id("team-create").click()
    drawer = page.get_by_test_id("team-drawer")
    drawer.get_by_test_id("team-form-name").fill(team_name)
    drawer.get_by_test_id("team-form-strategy").click()
    page.get_by_test_id("team-form-strategy-option-least_load").click()
    drawer.get_by_test_id("team-form-types").click()
    page.keyboard.type(ticket_type)
    page.keyboard.press("Enter")
    expect(drawer.get_by_test_id("team-form-types")).to_have_attribute("data-value", ticket_type)
    _pick(page, drawer.get_by_test_id("team-form-regions"), "广东", f"team-form-regions-option-{PROVINCE}")
    expect(drawer.get_by_test_id("team-form-regions")).to_have_attribute("data-value", PROVINCE)
    _pick(page, drawer.get_by_test_id("team-form-members"), name_a, f"team-form-members-option-{agent_a}")
    page.keyboard.press("Control+A")
    page.keyboard.type(name_b)
    page.get_by_test_id(f"team-form-members-option-{agent_b}").click()
    _close_dropdown(page)
    expect(drawer.get_by_test_id("team-form-members")).to_have_attribute("data-value", f"{agent_a},{agent_b}")
    _pick(page, drawer.get_by_test_id("team-form-lead"), name_a, f"team-form-lead-option-{agent_a}")
    drawer.get_by_test_id("team-form-skills-add").click()
    drawer.get_by_test_id("team-form-skills-0-category").fill(f"测试分类{suffix}")
    drawer.get_by_test_id("team-form-skills-0-skills").click()
    page.keyboard.type("退款")
    page.keyboard.press("Enter")
    _close_dropdown(page)
    drawer.get_by_test_id("team-form-overflow").click()
    page.get_by_test_id(f"team-form-overflow-option-{default_team['id']}").click()
    page.get_by_test_id("team-form-submit").click()
    expect(_field_error(page, "team-form-overflow-minutes")).to_have_text("设置了溢出团队时必须填写等待时间")
    expect(page.locator(".ant-message")).to_contain_text("填写的内容有误")
    assert not [t for t in _api(live_server, "GET", "/api/v1/tickets/teams") if t["name"] == team_name]
    drawer.get_by_test_id("team-form-overflow-minutes").fill("30")
    expect(_field_error(page, "team-form-overflow-minutes")).to_have_count(0)
    page.get_by_test_id("team-form-submit").click()
    expect(page.locator(".ant-message")).to_contain_text("团队已创建")

    row = page.locator(f"tr[data-name='{team_name}']")
    expect(row).to_be_visible()
    team_id = int(str(row.get_attribute("data-testid")).rsplit("-", 1)[1])
    expect(page.get_by_test_id(f"team-strategy-{team_id}")).to_have_text("最少负载")
    expect(page.get_by_test_id(f"team-types-{team_id}")).to_have_attribute("data-value", ticket_type)
    expect(page.get_by_test_id(f"team-regions-{team_id}")).to_have_text(PROVINCE)
    expect(page.get_by_test_id(f"team-lead-{team_id}")).to_contain_text(name_a)
    expect(page.get_by_test_id(f"team-overflow-{team_id}")).to_have_text(
        f"等待 30 分钟后转 {default_team['name']}"
    )
    expect(page.get_by_test_id(f"team-members-{team_id}")).to_have_attribute("data-count", "2")
    expect(page.get_by_test_id(f"team-waiting-{team_id}")).to_have_attribute("data-count", "0")
    expect(page.get_by_test_id(f"agent-teams-{agent_a}")).to_have_text(team_name)
    saved = _api(live_server, "GET", f"/api/v1/tickets/teams/{team_id}")
    assert saved["member_user_ids"] == sorted([agent_a, agent_b])
    assert saved["lead_user_id"] == agent_a and saved["manager_user_id"] is None
    assert saved["ticket_types"] == [ticket_type] and saved["regions"] == [PROVINCE]
    assert saved["skills_by_category"] == {f"测试分类{suffix}": ["退款"]}
    assert saved["overflow_team_id"] == default_team["id"] and saved["overflow_after_minutes"] == 30

    # Three tickets: one for each agent, the third waits in the team's queue.
    ticket_ids = [
        _api(
            live_server,
            "POST",
            "/api/v1/tickets",
            json={"title": f"包裹破损 {i} {suffix}", "ticket_type": ticket_type, "region": PROVINCE},
        )["id"]
        for i in range(3)
    ]
    page.get_by_test_id("routing-refresh").click()
    expect(page.get_by_test_id(f"team-waiting-{team_id}")).to_have_attribute("data-count", "1")
    for user_id in (agent_a, agent_b):
        expect(page.get_by_test_id(f"agent-load-{user_id}")).to_have_attribute("data-value", "1/1")
        expect(page.get_by_test_id(f"agent-last-{user_id}")).not_to_have_text("从未")
    assignees = sorted(
        _api(live_server, "GET", f"/api/v1/tickets/{i}")["assignee_id"] or 0 for i in ticket_ids
    )
    assert assignees == sorted([0, agent_a, agent_b])

    # More room for 乙: the waiting ticket is theirs at once.
    page.get_by_test_id(f"agent-edit-{agent_b}").click()
    expect(page.get_by_test_id("agent-form-capacity")).to_have_value("1")
    page.get_by_test_id("agent-form-capacity").fill("2")
    page.get_by_test_id("agent-form-submit").click()
    expect(page.locator(".ant-message")).to_contain_text("客服设置已保存")
    expect(page.get_by_test_id(f"agent-load-{agent_b}")).to_have_attribute("data-value", "2/2")
    expect(page.get_by_test_id(f"team-waiting-{team_id}")).to_have_attribute("data-count", "0")
    assert sorted(
        _api(live_server, "GET", f"/api/v1/tickets/{i}")["assignee_id"] for i in ticket_ids
    ) == sorted([agent_a, agent_b, agent_b])

    # The team has open tickets: deleting it is refused, saying why.
    page.get_by_test_id(f"team-delete-{team_id}").click()
    confirm(page)
    expect(page.get_by_test_id("team-in-use")).to_have_text(
        "团队还有 3 张未完成的工单，请先把它们转到其他团队"
    )
    page.get_by_test_id("team-in-use-ok").click()
    expect(page.get_by_test_id(f"team-row-{team_id}")).to_be_visible()

    # The owner's own presence: online, then away (they serve no team, so nothing is assigned).
    presence = page.get_by_test_id("my-presence")
    page.get_by_test_id("my-presence-online").click()
    expect(page.locator(".ant-message")).to_contain_text("您的状态已切换为「在线」")
    expect(presence).to_have_attribute("data-value", "online")
    expect(page.get_by_test_id(f"agent-presence-{owner_id}")).to_have_text("在线")
    page.get_by_test_id("my-presence-away").click()
    expect(presence).to_have_attribute("data-value", "away")
    expect(page.get_by_test_id(f"agent-presence-{owner_id}")).to_have_text("离开")
    mine = next(a for a in _api(live_server, "GET", "/api/v1/tickets/agents") if a["user_id"] == owner_id)
    assert mine["status"] == "away" and mine["load"] == 0
    # The ticket queue shows the same switch.
    page.get_by_test_id("menu-ticket-queue").click()
    expect(page).to_have_url(re.compile(r"/tickets(\?.*)?$"))
    expect(page.get_by_test_id("my-presence")).to_have_attribute("data-value", "away")

    # Escalation levels on an SLA policy: at the breach tell the assignee (the default), then the
    # team lead with a raised priority, then the manager with a reassignment.
    weekday = [["09:00", "18:00"]]
    calendar = _api(
        live_server,
        "POST",
        "/api/v1/tickets/calendars",
        json={
            "name": f"升级测试日历{suffix}",
            "weekly": {d: weekday for d in ("mon", "tue", "wed", "thu", "fri")},
        },
    )
    policy = _api(
        live_server,
        "POST",
        "/api/v1/tickets/sla-policies",
        json={
            "name": f"升级测试{suffix}",
            "calendar_id": calendar["id"],
            "ticket_type": ticket_type,
            "targets": {"normal": {"first_response_minutes": 60}},
        },
    )
    policy_id = policy["id"]
    page.get_by_test_id("menu-ticket-sla").click()
    page.get_by_test_id("sla-tab-policies").click()
    timeline = page.get_by_test_id(f"policy-escalation-{policy_id}")
    expect(timeline).to_have_attribute("data-count", "1")
    expect(page.get_by_test_id(f"policy-escalation-{policy_id}-0")).to_have_text("超时时 通知 处理人")
    page.get_by_test_id(f"policy-edit-{policy_id}").click()
    expect(page.get_by_test_id("policy-form-escalation")).to_have_attribute("data-count", "1")
    expect(page.get_by_test_id("policy-form-escalation-0-after")).to_be_disabled()
    page.get_by_test_id("policy-form-escalation-add").click()
    expect(page.get_by_test_id("policy-form-escalation-1-after")).to_have_value("30")
    page.get_by_test_id("policy-form-escalation-1-after").fill("0")
    page.get_by_test_id("policy-form-escalation-1-notify-team_lead").click()
    page.get_by_test_id("policy-form-escalation-1-raise").click()
    page.get_by_test_id("policy-form-submit").click()
    expect(_field_error(page, "policy-form-escalation-1-after")).to_have_text("须晚于上一级")
    assert len(_api(live_server, "GET", f"/api/v1/tickets/sla-policies/{policy_id}")["escalation"]) == 1
    page.get_by_test_id("policy-form-escalation-1-after").fill("45")
    expect(_field_error(page, "policy-form-escalation-1-after")).to_have_count(0)
    page.get_by_test_id("policy-form-escalation-add").click()
    expect(page.get_by_test_id("policy-form-escalation-2-after")).to_have_value("75")
    page.get_by_test_id("policy-form-escalation-2-notify-manager").click()
    page.get_by_test_id("policy-form-escalation-2-reassign").click()
    page.get_by_test_id("policy-form-submit").click()
    expect(page.locator(".ant-message")).to_contain_text("SLA 策略已保存")
    expect(timeline).to_have_attribute("data-count", "3")
    expect(page.get_by_test_id(f"policy-escalation-{policy_id}-1")).to_have_text(
        "超时 45 分钟后 通知 组长 · 提升优先级"
    )
    expect(page.get_by_test_id(f"policy-escalation-{policy_id}-2")).to_have_text(
        "超时 1 小时 15 分钟后 通知 主管 · 重新分配"
    )
    stored = _api(live_server, "GET", f"/api/v1/tickets/sla-policies/{policy_id}")
    assert stored["escalation"] == [
        {"after_minutes": 0, "notify": ["assignee"], "raise_priority": False, "reassign": False},
        {"after_minutes": 45, "notify": ["team_lead"], "raise_priority": True, "reassign": False},
        {"after_minutes": 75, "notify": ["manager"], "raise_priority": False, "reassign": True},
    ]
    assert stored["targets"]["normal"]["first_response_minutes"] == 60

    # In English.
    page.get_by_test_id("lang-switch").click()
    expect(page.get_by_test_id(f"policy-escalation-{policy_id}-1")).to_have_text(
        "45 min after breach Notify Team lead · Raise priority"
    )
    expect(page.get_by_test_id("policies-table").locator("thead")).to_contain_text("Escalation")
    page.get_by_test_id("menu-ticket-teams").click()
    expect(page.get_by_test_id("page-title")).to_have_text("Teams & agents")
    expect(page.get_by_test_id("menu-ticket-teams")).to_have_text("Teams & agents")
    expect(page.get_by_test_id(f"team-strategy-{team_id}")).to_have_text("Least load")
    expect(page.get_by_test_id(f"team-overflow-{team_id}")).to_have_text(
        f"To {default_team['name']} after 30 min"
    )
    expect(page.get_by_test_id(f"agent-presence-{owner_id}")).to_have_text("Away")
    expect(page.get_by_test_id("teams-table").locator("thead")).to_contain_text("Waiting")
    expect(page.get_by_test_id("agents-table").locator("thead")).to_contain_text("Load / capacity")
    assert not _expected_errors(errors), errors


def test_an_agent_sees_teams_and_agents_read_only(page: Page, live_server: LiveServer) -> None:
    errors = watch_console(page, live_server)
    roles = {role["key"]: role["id"] for role in _api(live_server, "GET", "/api/v1/roles")}
    suffix = uuid.uuid4().hex[:6]
    members = [_new_staff(live_server, f"客服{n}{suffix}", roles["agent"]) for n in ("丙", "丁")]
    team = _api(
        live_server,
        "POST",
        "/api/v1/tickets/teams",
        json={
            "name": f"只读测试组{suffix}",
            "ticket_types": [f"readonly_{suffix}"],
            "member_user_ids": members,
            "skills_by_category": {"退款": ["退款"]},
        },
    )
    page.goto("/login")
    page.get_by_test_id("login-email").fill(AGENT_EMAIL)
    page.get_by_test_id("login-password").fill(STAFF_PASSWORD)
    page.get_by_test_id("login-submit").click()
    expect(page.get_by_test_id("user-name")).to_be_visible()

    page.get_by_test_id("menu-ticket-teams").click()
    expect(page.get_by_test_id("routing-read-only")).to_be_visible()
    expect(page.get_by_test_id(f"team-row-{team['id']}")).to_be_visible()
    expect(page.get_by_test_id(f"team-members-{team['id']}")).to_have_attribute(
        "data-count", str(len(team["member_user_ids"]))
    )
    expect(page.get_by_test_id("team-create")).to_have_count(0)
    expect(page.get_by_test_id("agent-add")).to_have_count(0)
    expect(page.get_by_test_id(f"team-edit-{team['id']}")).to_have_count(0)
    expect(page.get_by_test_id(f"team-delete-{team['id']}")).to_have_count(0)
    expect(page.locator("[data-testid^='agent-edit-']")).to_have_count(0)
    # An agent handles tickets, so has a presence of their own.
    expect(page.get_by_test_id("my-presence")).to_be_visible()
    # The team opens to be read, with nothing to save; members show by name (agents' names, as
    # this role cannot list staff).
    page.get_by_test_id(f"team-view-{team['id']}").click()
    expect(page.get_by_test_id("team-form-name")).to_have_value(team["name"])
    expect(page.get_by_test_id("team-form-name")).to_be_disabled()
    expect(page.get_by_test_id("team-form-submit")).to_have_count(0)
    expect(page.get_by_test_id("team-form-skills-add")).to_have_count(0)
    picker = page.get_by_test_id("team-form-members")
    expect(picker).to_have_attribute("data-value", ",".join(str(i) for i in team["member_user_ids"]))
    expect(picker).not_to_contain_text("#")
    assert not errors, errors
