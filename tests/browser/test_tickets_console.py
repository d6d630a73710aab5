"""The service desk's settings (服务时间与 SLA) in a real browser.

The owner builds a business calendar in the editor (Monday to Friday 09:00–12:00 and 13:30–18:00, a
holiday), sees the server refuse an interval that ends before it starts, on that interval, saves an
SLA policy on the calendar and previews deadlines with it: Friday 17:30 plus 60 working minutes falls
due on Monday 09:30 (Tuesday when that Monday is a holiday). The calendar cannot be deleted while the
policy uses it, and the page speaks English. An agent (tickets.view only) sees the settings without
the buttons that change them.

The browser runs in New York's time zone, so the preview's start is read in the calendar's zone
(Shanghai), not the browser's, and the due time is shown in both.
"""

from __future__ import annotations

import re
import uuid
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from playwright.sync_api import Page, expect

from scrm.demo.seed import STAFF_PASSWORD
from tests.browser.conftest import LiveServer
from tests.browser.test_channels_console import confirm, type_time
from tests.browser.test_wecom_console import api_token, log_in, watch_console

pytestmark = pytest.mark.browser

SHANGHAI = ZoneInfo("Asia/Shanghai")
BROWSER_ZONE = "America/New_York"
AGENT_EMAIL = "zhangsan@scrm.local"  # the demo's 导购, on the built-in "agent" role
WEEKDAYS_ZH = ("周一", "周二", "周三", "周四", "周五", "周六", "周日")


@pytest.fixture
def browser_context_args(browser_context_args: dict[str, Any]) -> dict[str, Any]:
    return {**browser_context_args, "timezone_id": BROWSER_ZONE}


def _api(live_server: LiveServer, method: str, path: str, **kwargs: Any) -> Any:
    headers = {"Authorization": f"Bearer {api_token(live_server)}"}
    answer = httpx.request(method, f"{live_server}{path}", headers=headers, timeout=30, **kwargs)
    answer.raise_for_status()
    return answer.json() if answer.content else None


def _next_friday() -> date:
    today = datetime.now(SHANGHAI).date()
    return today + timedelta(days=(4 - today.weekday()) % 7 or 7)


def _expected_errors(errors: list[str]) -> list[str]:
    """The console errors left once the browser's notes of the deliberate 409 and 422 are removed."""
    return [e for e in errors if not (re.search(r"\b(409|422)\b", e) and "/api/v1/tickets/" in e)]


def test_the_owner_builds_a_calendar_and_a_policy_and_previews_deadlines(
    page: Page, live_server: LiveServer
) -> None:
    errors = watch_console(page, live_server)
    suffix = uuid.uuid4().hex[:6]
    name = f"客服中心{suffix}"
    policy_name = f"售后标准{suffix}"
    friday = _next_friday()
    monday = friday + timedelta(days=3)
    holiday = friday + timedelta(days=10)  # the Monday after the next Friday
    log_in(page)
    page.get_by_test_id("menu-ticket-sla").click()
    expect(page).to_have_url(re.compile(r"/tickets/sla$"))
    expect(page.get_by_test_id("page-title")).to_have_text("服务时间与 SLA")
    expect(page.get_by_test_id("sla-read-only")).to_have_count(0)

    # A new calendar: Shanghai time, Monday to Friday 09:00–18:00 to start with.
    page.get_by_test_id("calendar-create").click()
    page.get_by_test_id("calendar-form-name").fill(name)
    expect(page.get_by_test_id("calendar-form-timezone")).to_contain_text("Asia/Shanghai")
    expect(page.get_by_test_id("calendar-form-mon-0")).to_have_attribute("data-value", "09:00-18:00")
    # Monday's morning ends at 12:00. The server refuses an afternoon that overlaps it (the error is
    # shown on Monday's row), then one that ends before it starts (shown on that interval).
    type_time(page, page.get_by_test_id("calendar-form-mon-0-end"), "12:00")
    page.get_by_test_id("calendar-form-mon-add").click()
    expect(page.get_by_test_id("calendar-form-mon-1")).to_have_attribute("data-value", "13:00-14:00")
    type_time(page, page.get_by_test_id("calendar-form-mon-1-start"), "11:00")
    page.get_by_test_id("calendar-form-submit").click()
    expect(page.get_by_test_id("calendar-form-mon-errors")).to_have_text("时段有重叠")
    type_time(page, page.get_by_test_id("calendar-form-mon-1-start"), "13:30")
    expect(page.get_by_test_id("calendar-form-mon-errors")).to_have_count(0)
    type_time(page, page.get_by_test_id("calendar-form-mon-1-end"), "12:00")
    expect(page.get_by_test_id("calendar-form-mon-1")).to_have_attribute("data-value", "13:30-12:00")
    page.get_by_test_id("calendar-form-submit").click()
    afternoon = page.locator(".ant-form-item").filter(has=page.get_by_test_id("calendar-form-mon-1"))
    expect(afternoon.locator(".ant-form-item-explain-error")).to_have_text("结束时间须晚于开始时间")
    expect(page.locator(".ant-message")).to_contain_text("填写的内容有误")
    morning = page.locator(".ant-form-item").filter(has=page.get_by_test_id("calendar-form-mon-0"))
    expect(morning.locator(".ant-form-item-explain-error")).to_have_count(0)

    # Fixed, Monday copied to the other weekdays, and a holiday picked.
    type_time(page, page.get_by_test_id("calendar-form-mon-1-end"), "18:00")
    expect(afternoon.locator(".ant-form-item-explain-error")).to_have_count(0)
    page.get_by_test_id("calendar-form-copy-monday").click()
    for day in ("tue", "wed", "thu", "fri"):
        expect(page.get_by_test_id(f"calendar-form-{day}")).to_have_attribute("data-count", "2")
        expect(page.get_by_test_id(f"calendar-form-{day}-0")).to_have_attribute("data-value", "09:00-12:00")
        expect(page.get_by_test_id(f"calendar-form-{day}-1")).to_have_attribute("data-value", "13:30-18:00")
    expect(page.get_by_test_id("calendar-form-sat-off")).to_be_visible()
    expect(page.get_by_test_id("calendar-form-sun-off")).to_be_visible()
    type_time(page, page.get_by_test_id("calendar-form-holidays-picker"), holiday.isoformat())
    expect(page.get_by_test_id(f"calendar-form-holidays-tag-{holiday.isoformat()}")).to_contain_text("周一")
    page.get_by_test_id("calendar-form-submit").click()
    expect(page.locator(".ant-message")).to_contain_text("日历已创建")

    row = page.locator(f"tr[data-name='{name}']")
    expect(row).to_contain_text("Asia/Shanghai")
    calendar_id = int(str(row.get_attribute("data-testid")).rsplit("-", 1)[1])
    expect(page.get_by_test_id(f"calendar-weekly-{calendar_id}")).to_have_text(
        "周一至周五 09:00–12:00, 13:30–18:00"
    )
    expect(page.get_by_test_id(f"calendar-holidays-{calendar_id}")).to_have_attribute("data-count", "1")
    stored = _api(live_server, "GET", f"/api/v1/tickets/calendars/{calendar_id}")
    weekday = [["09:00", "12:00"], ["13:30", "18:00"]]
    assert stored["weekly"] == {
        "mon": weekday,
        "tue": weekday,
        "wed": weekday,
        "thu": weekday,
        "fri": weekday,
        "sat": [],
        "sun": [],
    }
    assert stored["holidays"] == [holiday.isoformat()]
    assert stored["timezone"] == "Asia/Shanghai"
    assert stored["makeup_intervals"] is None

    # A second calendar of the same name: the 409 is shown on the name.
    page.get_by_test_id("calendar-create").click()
    page.get_by_test_id("calendar-form-name").fill(name)
    page.get_by_test_id("calendar-form-submit").click()
    taken = page.locator(".ant-form-item").filter(has=page.get_by_test_id("calendar-form-name"))
    expect(taken.locator(".ant-form-item-explain-error")).to_have_text("已有同名日历")
    page.get_by_test_id("calendar-form-cancel").click()
    expect(page.locator("tr[data-name]").filter(has_text=name)).to_have_count(1)

    # An SLA policy on the calendar.
    page.get_by_test_id("sla-tab-policies").click()
    expect(page).to_have_url(re.compile(r"tab=policies"))
    page.get_by_test_id("policy-create").click()
    page.get_by_test_id("policy-form-name").fill(policy_name)
    page.get_by_test_id("policy-form-calendar").click()
    page.get_by_test_id(f"policy-form-calendar-option-{calendar_id}").click()
    page.get_by_test_id("policy-form-urgent-first_response_minutes").fill("30")
    page.get_by_test_id("policy-form-urgent-resolution_minutes").fill("240")
    expect(page.get_by_test_id("policy-form-urgent-resolution_minutes-hint")).to_have_text("= 4 小时")
    page.get_by_test_id("policy-form-normal-first_response_minutes").fill("60")
    page.get_by_test_id("policy-form-normal-resolution_minutes").fill("1440")
    page.get_by_test_id("policy-form-submit").click()
    expect(page.locator(".ant-message")).to_contain_text("SLA 策略已创建")
    policy_row = page.locator(f"tr[data-name='{policy_name}']")
    expect(policy_row).to_be_visible()
    policy_id = int(str(policy_row.get_attribute("data-testid")).rsplit("-", 1)[1])
    expect(page.get_by_test_id(f"policy-calendar-{policy_id}")).to_contain_text(name)
    expect(page.get_by_test_id(f"policy-type-{policy_id}")).to_have_text("所有类型")
    expect(page.get_by_test_id(f"policy-targets-{policy_id}-urgent")).to_have_text(
        "紧急首响 30 分钟 · 解决 4 小时"
    )
    expect(page.get_by_test_id(f"policy-targets-{policy_id}-normal")).to_have_text(
        "普通首响 1 小时 · 解决 24 小时"
    )
    expect(page.get_by_test_id(f"policy-targets-{policy_id}-high")).to_have_count(0)
    expect(page.get_by_test_id(f"policy-warning-{policy_id}")).to_have_text("80%")
    saved = _api(live_server, "GET", f"/api/v1/tickets/sla-policies/{policy_id}")
    assert saved["calendar_id"] == calendar_id and saved["ticket_type"] is None
    urgent = {key: value for key, value in saved["targets"]["urgent"].items() if value is not None}
    assert urgent == {"first_response_minutes": 30, "resolution_minutes": 240}
    assert set(saved["targets"]) == {"urgent", "normal"}

    # 试算: Friday 17:30 + 60 working minutes is due on Monday 09:30 in Shanghai (shown too in the
    # browser's zone, New York: Sunday evening); across the lunch break; past the holiday to Tuesday.
    page.get_by_test_id(f"policy-preview-{policy_id}").click()
    expect(page.get_by_test_id("preview-modal")).to_contain_text("Asia/Shanghai")
    type_time(page, page.get_by_test_id("preview-start"), f"{friday.isoformat()} 17:30")
    page.get_by_test_id("preview-minutes").fill("60")
    page.get_by_test_id("preview-run").click()
    due = page.get_by_test_id("preview-due-local")
    expect(due).to_have_text(f"{monday.isoformat()} 周一 09:30")
    expect(due).to_have_attribute("data-value", f"{monday.isoformat()}T09:30:00+08:00")
    in_browser = datetime.combine(monday, time(9, 30), SHANGHAI).astimezone(ZoneInfo(BROWSER_ZONE))
    expect(page.get_by_test_id("preview-due-browser")).to_have_text(
        f"{in_browser:%Y-%m-%d} {WEEKDAYS_ZH[in_browser.weekday()]} {in_browser:%H:%M}"
    )
    expect(page.get_by_test_id("preview-result")).to_contain_text(BROWSER_ZONE)

    type_time(page, page.get_by_test_id("preview-start"), f"{monday.isoformat()} 11:30")
    page.get_by_test_id("preview-run").click()
    expect(due).to_have_text(f"{monday.isoformat()} 周一 14:00")

    type_time(page, page.get_by_test_id("preview-start"), f"{(friday + timedelta(days=7)).isoformat()} 17:30")
    page.get_by_test_id("preview-run").click()
    tuesday = holiday + timedelta(days=1)
    expect(due).to_have_text(f"{tuesday.isoformat()} 周二 09:30")
    page.get_by_test_id("preview-close").click()

    # The calendar is in use: deleting it is refused, naming the policy.
    page.get_by_test_id("sla-tab-calendars").click()
    page.get_by_test_id(f"calendar-delete-{calendar_id}").click()
    confirm(page)
    expect(page.get_by_test_id("calendar-in-use")).to_contain_text(policy_name)
    page.get_by_test_id("calendar-in-use-ok").click()
    expect(page.get_by_test_id(f"calendar-row-{calendar_id}")).to_be_visible()

    # In English.
    page.get_by_test_id("lang-switch").click()
    expect(page.get_by_test_id("page-title")).to_have_text("Service hours & SLA")
    expect(page.get_by_test_id("menu-ticket-sla")).to_have_text("Service hours & SLA")
    expect(page.get_by_test_id("menu-tickets-group")).to_have_text("Tickets")
    expect(page.get_by_test_id("sla-tab-calendars")).to_have_text("Business calendars")
    expect(page.get_by_test_id("sla-tab-policies")).to_have_text("SLA policies")
    expect(page.get_by_test_id("calendars-table").locator("thead")).to_contain_text("Time zone")
    expect(page.get_by_test_id(f"calendar-weekly-{calendar_id}")).to_have_text(
        "Mon–Fri 09:00–12:00, 13:30–18:00"
    )
    expect(page.get_by_test_id("calendars-table").locator("thead")).to_contain_text("Holidays")
    expect(page.get_by_test_id(f"calendar-holidays-{calendar_id}")).to_have_text("1")
    page.get_by_test_id("sla-tab-policies").click()
    expect(page.get_by_test_id(f"policy-targets-{policy_id}-urgent")).to_have_text(
        "UrgentFirst response 30 min · Resolve 4 h"
    )
    expect(page.get_by_test_id(f"policy-type-{policy_id}")).to_have_text("All types")
    page.get_by_test_id(f"policy-preview-{policy_id}").click()
    expect(page.get_by_test_id("preview-modal")).to_contain_text("Preview a due time")
    type_time(page, page.get_by_test_id("preview-start"), f"{friday.isoformat()} 17:30")
    page.get_by_test_id("preview-minutes").fill("60")
    page.get_by_test_id("preview-run").click()
    expect(due).to_have_text(f"{monday.isoformat()} Mon 09:30")
    expect(page.get_by_test_id("preview-result")).to_contain_text("Due (Asia/Shanghai)")
    assert not _expected_errors(errors), errors


def test_an_agent_sees_the_settings_without_the_buttons_that_change_them(
    page: Page, live_server: LiveServer
) -> None:
    errors = watch_console(page, live_server)
    suffix = uuid.uuid4().hex[:6]
    weekday = [["09:00", "12:00"], ["13:30", "18:00"]]
    calendar = _api(
        live_server,
        "POST",
        "/api/v1/tickets/calendars",
        json={
            "name": f"门店客服{suffix}",
            "weekly": {"mon": weekday, "tue": weekday, "wed": weekday, "sat": [["10:00", "16:00"]]},
            "holidays": ["2027-01-01"],
            "extra_workdays": ["2027-02-06"],
        },
    )
    policy = _api(
        live_server,
        "POST",
        "/api/v1/tickets/sla-policies",
        json={
            "name": f"退款工单{suffix}",
            "calendar_id": calendar["id"],
            "ticket_type": "refund",
            "targets": {"high": {"first_response_minutes": 90}},
            "warning_percent": 75,
        },
    )
    page.goto("/login")
    page.get_by_test_id("login-email").fill(AGENT_EMAIL)
    page.get_by_test_id("login-password").fill(STAFF_PASSWORD)
    page.get_by_test_id("login-submit").click()
    expect(page.get_by_test_id("user-name")).to_be_visible()

    page.get_by_test_id("menu-ticket-sla").click()
    expect(page).to_have_url(re.compile(r"/tickets/sla$"))
    expect(page.get_by_test_id("sla-read-only")).to_be_visible()
    calendar_id = calendar["id"]
    expect(page.get_by_test_id(f"calendar-weekly-{calendar_id}")).to_have_text(
        "周一至周三 09:00–12:00, 13:30–18:00；周六 10:00–16:00"
    )
    expect(page.get_by_test_id(f"calendar-extra-{calendar_id}")).to_have_attribute("data-count", "1")
    expect(page.get_by_test_id("calendar-create")).to_have_count(0)
    expect(page.get_by_test_id(f"calendar-edit-{calendar_id}")).to_have_count(0)
    expect(page.get_by_test_id(f"calendar-delete-{calendar_id}")).to_have_count(0)
    # The calendar opens to be read, with nothing to save.
    page.get_by_test_id(f"calendar-view-{calendar_id}").click()
    expect(page.get_by_test_id("calendar-form-name")).to_have_value(calendar["name"])
    expect(page.get_by_test_id("calendar-form-name")).to_be_disabled()
    expect(page.get_by_test_id("calendar-form-holidays-tag-2027-01-01")).to_be_visible()
    expect(page.get_by_test_id("calendar-form-submit")).to_have_count(0)
    expect(page.get_by_test_id("calendar-form-mon-add")).to_have_count(0)
    page.keyboard.press("Escape")
    expect(page.get_by_test_id("calendar-form-name")).to_have_count(0)

    page.get_by_test_id("sla-tab-policies").click()
    policy_id = policy["id"]
    expect(page.get_by_test_id(f"policy-targets-{policy_id}-high")).to_have_text("高首响 1 小时 30 分钟")
    expect(page.get_by_test_id(f"policy-type-{policy_id}")).to_have_text("refund")
    expect(page.get_by_test_id(f"policy-warning-{policy_id}")).to_have_text("75%")
    expect(page.get_by_test_id("policy-create")).to_have_count(0)
    expect(page.get_by_test_id(f"policy-edit-{policy_id}")).to_have_count(0)
    expect(page.get_by_test_id(f"policy-preview-{policy_id}")).to_have_count(0)
    assert not errors, errors
