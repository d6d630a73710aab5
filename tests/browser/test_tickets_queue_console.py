"""The ticket pages in a real browser: 工单队列, 工单详情 and SLA 看板.

The owner opens a complaint in the 新建工单 dialog (the server's refusal of a too-long region is shown
on that field), finds it under 未分配 with its SLA countdown, opens it, replies to the customer (the
first-response clock shows as met) and leaves an internal note, then moves it through 等待客户 (the
resolution clock pauses), 恢复处理 and 解决 with an outcome; the timeline lists each change. Closed
behind the page's back, the ticket refuses the 重新打开 still on screen: the 409 is explained and the
page catches up. The page speaks English once. The SLA dashboard draws its charts and the complaint
heat map on the map of China (no network: the map ships with the console).
"""

from __future__ import annotations

import re
import uuid
from typing import Any

import httpx
import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import LiveServer
from tests.browser.test_wecom_console import api_token, log_in, watch_console

pytestmark = pytest.mark.browser

COMPLAINT_POLICY = "投诉时效（浏览器测试）"
ALL_DAY = [["00:00", "24:00"]]


def _api(live_server: LiveServer, method: str, path: str, **kwargs: Any) -> Any:
    headers = {"Authorization": f"Bearer {api_token(live_server)}"}
    answer = httpx.request(method, f"{live_server}{path}", headers=headers, timeout=30, **kwargs)
    answer.raise_for_status()
    return answer.json() if answer.content else None


def _complaint_sla(live_server: LiveServer) -> None:
    """Complaints on a round-the-clock calendar: first response in 2 hours, resolution in 8."""
    if any(p["name"] == COMPLAINT_POLICY for p in _api(live_server, "GET", "/api/v1/tickets/sla-policies")):
        return
    calendar = _api(
        live_server,
        "POST",
        "/api/v1/tickets/calendars",
        json={
            "name": f"全天候{uuid.uuid4().hex[:6]}",
            "weekly": {day: ALL_DAY for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")},
        },
    )
    _api(
        live_server,
        "POST",
        "/api/v1/tickets/sla-policies",
        json={
            "name": COMPLAINT_POLICY,
            "calendar_id": calendar["id"],
            "ticket_type": "complaint",
            "targets": {
                p: {"first_response_minutes": 120, "resolution_minutes": 480}
                for p in ("urgent", "high", "normal", "low")
            },
        },
    )


def _field_error(page: Page, test_id: str) -> Any:
    return (
        page.locator(".ant-form-item")
        .filter(has=page.get_by_test_id(test_id))
        .locator(".ant-form-item-explain-error")
    )


def _act(page: Page, action: str, note: str | None = None) -> None:
    page.get_by_test_id(f"ticket-action-{action}").click()
    expect(page.get_by_test_id("ticket-action-confirm")).to_be_visible()
    if note:
        page.get_by_test_id("ticket-action-note").fill(note)
    page.get_by_test_id("ticket-action-confirm").click()


def test_a_complaint_from_the_dialog_through_its_statuses(page: Page, live_server: LiveServer) -> None:
    errors = watch_console(page, live_server)
    _complaint_sla(live_server)
    title = f"收到的口红断了 {uuid.uuid4().hex[:6]}"
    log_in(page)
    page.get_by_test_id("menu-ticket-queue").click()
    expect(page).to_have_url(re.compile(r"/tickets$"))
    expect(page.get_by_test_id("page-title")).to_have_text("工单队列")
    for tab in ("mine", "team", "unassigned", "breaching", "all"):
        expect(page.get_by_test_id(f"tickets-tab-{tab}")).to_be_visible()

    # 新建工单: the server refuses a region longer than 50 characters, on the region field.
    page.get_by_test_id("ticket-create").click()
    page.get_by_test_id("new-ticket-title").fill(title)
    page.get_by_test_id("new-ticket-description").fill("客户说外盒完好，口红断成两截，要求补发。")
    page.get_by_test_id("new-ticket-type").locator("input").fill("complaint")
    page.get_by_test_id("new-ticket-type").locator("input").press("Tab")
    page.get_by_test_id("new-ticket-region").locator("input").fill("广东省" * 20)
    page.get_by_test_id("new-ticket-submit").click()
    expect(_field_error(page, "new-ticket-region")).to_have_text("最多 50 个字符")
    expect(page.locator(".ant-message")).to_contain_text("填写的内容有误")
    page.get_by_test_id("new-ticket-region").locator("input").fill("广东省")
    page.get_by_test_id("new-ticket-region").locator("input").press("Tab")  # closes the suggestions
    expect(_field_error(page, "new-ticket-region")).to_have_count(0)
    page.get_by_test_id("new-ticket-submit").click()
    expect(page.locator(".ant-message")).to_contain_text("已创建")
    expect(page.get_by_test_id("new-ticket-modal")).to_have_count(0)

    # 未分配: the new ticket with its first-response countdown.
    page.get_by_test_id("tickets-tab-unassigned").click()
    expect(page).to_have_url(re.compile(r"view=unassigned"))
    row = page.locator("tr[data-testid^='ticket-row-']").filter(has_text=title)
    expect(row).to_have_count(1)
    ticket_id = int(str(row.get_attribute("data-testid")).rsplit("-", 1)[1])
    expect(page.get_by_test_id(f"ticket-status-{ticket_id}")).to_have_text("新建")
    expect(page.get_by_test_id(f"ticket-priority-{ticket_id}")).to_have_text("普通")
    countdown = page.get_by_test_id(f"ticket-sla-{ticket_id}")
    expect(countdown).to_have_attribute("data-state", "running")
    expect(countdown).to_have_attribute("data-clock", "first_response")
    expect(countdown).to_contain_text(re.compile(r"首次响应 · 剩余 1 小时 5\d 分"))
    stored = _api(live_server, "GET", f"/api/v1/tickets/{ticket_id}")
    assert (stored["ticket_type"], stored["region"], stored["priority"]) == ("complaint", "广东省", "normal")

    # The detail page.
    row.click()
    expect(page).to_have_url(re.compile(rf"/tickets/{ticket_id}$"))
    expect(page.get_by_test_id("ticket-detail-title")).to_have_text(f"#{ticket_id} {title}")
    expect(page.get_by_test_id("ticket-status")).to_have_text("新建")
    expect(page.get_by_test_id("ticket-region")).to_have_text("广东省")
    expect(page.get_by_test_id("ticket-sla-first_response")).to_have_attribute("data-state", "running")
    expect(page.get_by_test_id("ticket-sla-resolution")).to_contain_text(
        re.compile(r"解决 · 剩余 7 小时 5\d 分")
    )
    expect(page.get_by_test_id("ticket-actions")).to_have_attribute(
        "data-actions", "open,wait_customer,wait_third_party,resolve"
    )

    # A reply to the customer stops the first-response clock; an internal note does not show as one.
    page.get_by_test_id("reply-body").fill("您好，很抱歉给您带来不便，我们马上为您补发。")
    page.get_by_test_id("reply-send").click()
    expect(page.locator(".ant-message")).to_contain_text("已回复客户")
    expect(page.get_by_test_id("ticket-sla-first_response")).to_have_attribute("data-state", "met")
    page.get_by_test_id("reply-mode-internal").click()
    expect(page.get_by_test_id("reply-box")).to_have_attribute("data-mode", "internal")
    page.get_by_test_id("reply-body").fill("仓库确认同批次还有库存")
    page.get_by_test_id("reply-send").click()
    expect(page.get_by_test_id("comments")).to_have_attribute("data-count", "2")
    expect(page.locator("[data-testid^='comment-'][data-internal='true']")).to_contain_text(
        "仓库确认同批次还有库存"
    )
    expect(page.locator("[data-testid^='comment-'][data-internal='false']")).to_contain_text("马上为您补发")

    # 等待客户 pauses the resolution clock; 恢复处理 restarts it; 解决 with the outcome 补发.
    _act(page, "wait_customer", note="请客户补充照片")
    expect(page.get_by_test_id("ticket-status")).to_have_text("等待客户")
    expect(page.get_by_test_id("ticket-sla-resolution")).to_have_attribute("data-state", "paused")
    expect(page.get_by_test_id("ticket-sla-resolution")).to_contain_text("已暂停")
    expect(page.get_by_test_id("ticket-actions")).to_have_attribute(
        "data-actions", "wait_third_party,resume,resolve"
    )
    _act(page, "resume")
    expect(page.get_by_test_id("ticket-status")).to_have_text("处理中")
    expect(page.get_by_test_id("ticket-sla-resolution")).to_have_attribute("data-state", "running")
    page.get_by_test_id("ticket-action-resolve").click()
    page.get_by_test_id("ticket-action-outcome").click()
    page.get_by_test_id("ticket-action-outcome-option-resend").click()
    # The choice must show before confirming (a loaded browser may still be closing the list).
    expect(page.get_by_test_id("ticket-action-outcome")).to_contain_text("补发")
    page.get_by_test_id("ticket-action-confirm").click()
    expect(page.get_by_test_id("ticket-status")).to_have_text("已解决")
    expect(page.get_by_test_id("ticket-sla-resolution")).to_have_attribute("data-state", "met")
    expect(page.get_by_test_id("ticket-actions")).to_have_attribute("data-actions", "close,reopen")
    kinds = ["comment.reply", "comment.internal", "status.wait_customer", "status.resume", "status.resolve"]
    entries = page.get_by_test_id("timeline-entry")
    expect(entries.first).to_have_attribute("data-kind", "status.resolve")
    timeline = [str(entries.nth(i).get_attribute("data-kind")) for i in range(entries.count())]
    assert timeline[::-1][:1] == ["created"] and [k for k in timeline[::-1] if k in kinds] == kinds
    expect(page.get_by_test_id("ticket-timeline")).to_contain_text("等待客户：请客户补充照片")
    assert _api(live_server, "GET", f"/api/v1/tickets/{ticket_id}")["outcome"] == "resend"

    # Closed elsewhere: the 重新打开 still on screen is refused, the 409 explained, the page updated.
    _api(live_server, "POST", f"/api/v1/tickets/{ticket_id}/close")
    _act(page, "reopen")
    expect(page.get_by_test_id("ticket-action-conflict")).to_have_text(
        "当前状态不允许「重新打开」，也没有其他可执行的操作"
    )
    expect(page.get_by_test_id("ticket-status")).to_have_text("已关闭")
    expect(page.get_by_test_id("ticket-no-actions")).to_be_visible()
    expect(page.get_by_test_id("reply-box")).to_have_count(0)
    expect(entries.first).to_have_attribute("data-kind", "status.close")

    # English once.
    page.get_by_test_id("lang-switch").click()
    expect(page.get_by_test_id("ticket-status")).to_have_text("Closed")
    expect(entries.first).to_contain_text("Status · Close")
    expect(page.get_by_test_id("menu-ticket-queue")).to_have_text("Ticket queue")
    page.get_by_test_id("lang-switch").click()
    expect(page.get_by_test_id("ticket-status")).to_have_text("已关闭")
    # the browser notes the deliberate 422 and 409
    assert [e for e in errors if not (re.search(r"\b(409|422)\b", e) and "/api/v1/tickets" in e)] == []


def test_the_sla_dashboard_draws_the_complaint_heat_map(page: Page, live_server: LiveServer) -> None:
    errors = watch_console(page, live_server)
    _complaint_sla(live_server)
    for region in ("广东省", "广东省深圳市", "浙江省"):
        _api(
            live_server,
            "POST",
            "/api/v1/tickets",
            json={"title": f"包裹破损 {region}", "ticket_type": "complaint", "region": region},
        )
    expected = _api(live_server, "GET", "/api/v1/tickets/stats", params={"ticket_type": "complaint"})
    guangdong = sum(r["count"] for r in expected["by_region"] if r["region"].startswith("广东"))
    assert guangdong >= 2
    log_in(page)
    page.get_by_test_id("menu-ticket-dashboard").click()
    expect(page).to_have_url(re.compile(r"/tickets/dashboard$"))
    expect(page.get_by_test_id("page-title")).to_have_text("SLA 看板")
    heat = page.get_by_test_id("dashboard-heatmap")
    expect(heat).to_have_attribute("data-map-regions", "34")
    expect(heat).to_have_attribute("data-provinces", re.compile(rf"(^|,)广东:{guangdong}(,|$)"))
    expect(heat.locator("canvas")).to_be_visible()
    expect(page.get_by_test_id("heatmap-type")).to_contain_text("complaint")
    expect(page.get_by_test_id("heatmap-province-广东")).to_contain_text(str(guangdong))
    for chart in ("dashboard-by-status", "dashboard-by-priority", "dashboard-sla", "dashboard-daily"):
        expect(page.get_by_test_id(chart).locator("canvas")).to_be_visible()
    overall = _api(live_server, "GET", "/api/v1/tickets/stats")
    expect(page.get_by_test_id("dashboard-daily")).to_have_attribute("data-created", str(overall["total"]))
    expect(page.get_by_test_id("dashboard-figure-total")).to_contain_text(str(overall["total"]))
    expect(page.get_by_test_id("dashboard-breaching")).to_be_visible()
    page.get_by_test_id("lang-switch").click()
    expect(page.get_by_test_id("page-title")).to_have_text("SLA dashboard")
    expect(page.get_by_test_id("heatmap-province-广东")).to_contain_text("Guangdong")
    page.get_by_test_id("lang-switch").click()
    assert errors == []


def test_custom_fields_are_labelled_from_the_ticket_types_form(page: Page, live_server: LiveServer) -> None:
    errors = watch_console(page, live_server)
    ticket_type = f"breakage_{uuid.uuid4().hex[:6]}"
    _api(
        live_server,
        "POST",
        "/api/v1/forms",
        json={
            "name": f"破损登记 {ticket_type}",
            "kind": "ticket",
            "ticket_type": ticket_type,
            "fields": [
                {"key": "sku", "type": "text", "label": {"zh-CN": "商品编码", "en": "SKU"}, "required": True},
                {
                    "key": "damage",
                    "type": "choice",
                    "label": {"zh-CN": "破损情况", "en": "Damage"},
                    "options": [
                        {"value": "broken", "label": {"zh-CN": "断裂", "en": "Broken"}},
                        {"value": "leaking", "label": {"zh-CN": "漏液", "en": "Leaking"}},
                    ],
                },
            ],
        },
    )
    ticket = _api(
        live_server,
        "POST",
        "/api/v1/tickets",
        json={
            "title": "口红断裂",
            "ticket_type": ticket_type,
            "custom": {"damage": "broken", "sku": "LP-01"},
        },
    )
    log_in(page)
    page.goto(f"/tickets/{ticket['id']}")
    fields = page.get_by_test_id("custom-fields")
    expect(fields).to_have_attribute("data-from-form", "true")
    expect(page.get_by_test_id("custom-field-label-sku")).to_have_text("商品编码")
    expect(page.get_by_test_id("custom-field-sku")).to_have_text("LP-01")
    expect(page.get_by_test_id("custom-field-label-damage")).to_have_text("破损情况")
    expect(page.get_by_test_id("custom-field-damage")).to_have_text("断裂")
    # in the form's order, not the submission's
    labels = fields.locator("[data-testid^='custom-field-label-']")
    expect(labels).to_have_text(["商品编码", "破损情况"])
    page.get_by_test_id("lang-switch").click()
    expect(page.get_by_test_id("custom-field-label-damage")).to_have_text("Damage")
    expect(page.get_by_test_id("custom-field-damage")).to_have_text("Broken")
    page.get_by_test_id("lang-switch").click()
    assert errors == []
