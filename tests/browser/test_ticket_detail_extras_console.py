"""工单详情's remaining capabilities in a real browser: assignment by hand, customer messages,
escalations on the timeline, attachments, duplicates and merging, satisfaction ratings, and the
customer's public rating page.

Through the API the owner sets up a team of two new agents (room for one ticket each) serving two
ticket types of its own, SLA policies for them (one breaches its first response within a minute and
escalates to the team's lead and manager), and opens tickets: one goes to each agent, the third waits.
In the console the owner reassigns the first ticket to the agent who is full: the 409 is offered as
强制分配 behind a confirm, and 分配记录 grows with the release and the forced assignment. A reply and
then the customer's message (客户消息) start the next-response countdown. A PNG is uploaded, listed,
previewed and downloaded byte for byte; a file of an unknown type (415) and a text file named .png
(422) are refused in words. A duplicate of the same customer is suggested with its reasons, a merge
into itself is refused (409, explained), and the duplicate is merged into the ticket: it disappears
from the suggestions, and its own page links to where it went. Resolved, the ticket gets 记录评价;
another gets a rating link, opened in a fresh logged-out browser on a phone-sized screen, rated 5
stars (then shown as already rated; a forged link is invalid). The page speaks English once.
"""

from __future__ import annotations

import re
import struct
import time
import uuid
import zlib
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, FilePayload, Page, expect

from scrm.demo.seed import STAFF_PASSWORD
from tests.browser.conftest import LiveServer
from tests.browser.test_channels_console import confirm
from tests.browser.test_wecom_console import api_token, log_in, wait_for_first_sync, watch_console

pytestmark = pytest.mark.browser

ALL_DAY = [["00:00", "24:00"]]
PRIORITIES = ("urgent", "high", "normal", "low")


def _api(live_server: LiveServer, method: str, path: str, **kwargs: Any) -> Any:
    headers = {"Authorization": f"Bearer {api_token(live_server)}"}
    answer = httpx.request(method, f"{live_server}{path}", headers=headers, timeout=30, **kwargs)
    answer.raise_for_status()
    return answer.json() if answer.content else None


def _png(width: int = 2, height: int = 2) -> bytes:
    """A real PNG (red pixels), built by hand."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    rows = b"".join(b"\x00" + b"\xff\x00\x00" * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


def _file(name: str, mime_type: str, data: bytes) -> FilePayload:
    return {"name": name, "mimeType": mime_type, "buffer": data}


def _setup(live_server: LiveServer, suffix: str) -> dict[str, Any]:
    """A team of two new online agents (capacity 1) serving two ticket types, and SLA policies: the
    main type answers within 2 hours and again within 30 minutes of a customer's message; the other
    breaches its first response after a minute and escalates (notify assignee, lead and manager;
    raise the priority)."""
    roles = {role["key"]: role["id"] for role in _api(live_server, "GET", "/api/v1/roles")}
    agents = {}
    for label in ("甲", "乙"):
        name = f"客服{label}{suffix}"
        user = _api(
            live_server,
            "POST",
            "/api/v1/users",
            json={
                "email": f"{uuid.uuid4().hex[:10]}@extras.test",
                "display_name": name,
                "password": STAFF_PASSWORD,
                "role_id": roles["agent"],
            },
        )
        _api(
            live_server,
            "PUT",
            f"/api/v1/tickets/agents/{user['id']}",
            json={"status": "online", "capacity": 1},
        )
        agents[label] = (int(user["id"]), name)
    main_type, fast_type = f"extras_{suffix}", f"extras_fast_{suffix}"
    team = _api(
        live_server,
        "POST",
        "/api/v1/tickets/teams",
        json={
            "name": f"售后二组{suffix}",
            "strategy": "least_load",
            "ticket_types": [main_type, fast_type],
            "member_user_ids": [agents["甲"][0], agents["乙"][0]],
            "lead_user_id": agents["甲"][0],
            "manager_user_id": agents["乙"][0],
        },
    )
    calendar = _api(
        live_server,
        "POST",
        "/api/v1/tickets/calendars",
        json={
            "name": f"全天候{suffix}",
            "weekly": {d: ALL_DAY for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")},
        },
    )
    _api(
        live_server,
        "POST",
        "/api/v1/tickets/sla-policies",
        json={
            "name": f"售后时效{suffix}",
            "calendar_id": calendar["id"],
            "ticket_type": main_type,
            "targets": {
                p: {"first_response_minutes": 120, "next_response_minutes": 30, "resolution_minutes": 480}
                for p in PRIORITIES
            },
        },
    )
    _api(
        live_server,
        "POST",
        "/api/v1/tickets/sla-policies",
        json={
            "name": f"一分钟时效{suffix}",
            "calendar_id": calendar["id"],
            "ticket_type": fast_type,
            "warning_percent": 50,
            "targets": {p: {"first_response_minutes": 1} for p in PRIORITIES},
            "escalation": [
                {"after_minutes": 0, "notify": ["assignee", "team_lead", "manager"], "raise_priority": True}
            ],
        },
    )
    return {"agents": agents, "team": team, "main_type": main_type, "fast_type": fast_type}


def _ticket(live_server: LiveServer, title: str, ticket_type: str, **extra: Any) -> dict[str, Any]:
    return _api(
        live_server, "POST", "/api/v1/tickets", json={"title": title, "ticket_type": ticket_type, **extra}
    )


def _expected_errors(errors: list[str]) -> list[str]:
    """Console errors left once the browser's notes of the deliberate refusals are removed."""
    return [e for e in errors if not (re.search(r"\b(409|413|415|422)\b", e) and "/api/v1/tickets" in e)]


def test_the_ticket_detail_assigns_merges_attaches_and_is_rated(
    page: Page, browser: Browser, live_server: LiveServer
) -> None:
    errors = watch_console(page, live_server)
    wait_for_first_sync(live_server)
    suffix = uuid.uuid4().hex[:6]
    setup = _setup(live_server, suffix)
    (a_id, a_name), (b_id, b_name) = setup["agents"]["甲"], setup["agents"]["乙"]
    customer_id = _api(live_server, "GET", "/api/v1/customers", params={"limit": 1})["items"][0]["id"]

    first = _ticket(live_server, f"口红断裂 {suffix}", setup["main_type"], customer_id=customer_id)
    second = _ticket(live_server, f"粉底漏液 {suffix}", setup["main_type"])
    escalating = _ticket(live_server, f"催发货 {suffix}", setup["fast_type"])
    assert (first["assignee_id"], second["assignee_id"], escalating["assignee_id"]) == (a_id, b_id, None)
    escalated_from = time.monotonic()

    # The second ticket's record: least load, with agent 甲 left out at capacity.
    log_in(page)
    page.goto(f"/tickets/{second['id']}")
    expect(page.get_by_test_id("routing-assignee")).to_have_text(b_name)
    expect(page.get_by_test_id("routing-team")).to_have_text(f"售后二组{suffix}")
    assigned = page.locator("[data-testid='routing-decision'][data-kind='assigned']")
    expect(assigned).to_contain_text("分配给客服")
    expect(assigned).to_contain_text("最少负载")
    expect(assigned.get_by_test_id("decision-excluded-at_capacity")).to_have_text("满负荷: 1")

    # 分配 to agent 乙, who is full: 强制分配 after a confirm; 分配记录 grows (the release, the assignment).
    page.goto(f"/tickets/{first['id']}")
    expect(page.get_by_test_id("routing-assignee")).to_have_text(a_name)
    history = page.get_by_test_id("routing-history")
    expect(history).to_have_attribute("data-count", "2")
    expect(page.get_by_test_id("ticket-properties")).to_contain_text(f"售后二组{suffix}")
    page.get_by_test_id("assign-open").click()
    page.get_by_test_id("assign-assignee").click()
    option = page.get_by_test_id(f"assign-assignee-option-{b_id}")
    expect(option).to_contain_text("在线 · 1/1")
    option.click()
    page.get_by_test_id("assign-note").fill("乙 熟悉这位客户")
    page.get_by_test_id("assign-submit").click()
    expect(page.locator(".ant-modal-confirm")).to_contain_text(f"{b_name} 已满负荷（1/1）")
    confirm(page)
    expect(page.locator(".ant-message")).to_contain_text(f"已分配给 {b_name}")
    expect(page.get_by_test_id("assign-modal")).to_have_count(0)
    expect(page.get_by_test_id("routing-assignee")).to_have_text(b_name)
    expect(history).to_have_attribute("data-count", "4")
    newest = history.get_by_test_id("routing-decision").first
    expect(newest).to_have_attribute("data-reason", "by_hand")
    expect(newest).to_contain_text("手动分配")
    expect(newest).to_contain_text("强制")
    expect(newest).to_contain_text("备注：乙 熟悉这位客户")
    released = history.locator("[data-kind='released']")
    expect(released).to_contain_text("手动改派")
    expect(released).to_contain_text(f"原处理人：{a_name}")
    decisions = _api(live_server, "GET", f"/api/v1/tickets/{first['id']}/routing")
    assert [d["kind"] for d in decisions] == ["team", "assigned", "released", "assigned"]
    assert decisions[-1]["detail"]["force"] is True

    # A reply, then the customer's message: shown as the customer's, and the next-response clock runs.
    page.get_by_test_id("reply-body").fill("您好，已为您登记，马上处理。")
    page.get_by_test_id("reply-send").click()
    expect(page.locator(".ant-message")).to_contain_text("已回复客户")
    expect(page.get_by_test_id("ticket-sla-next_response")).to_have_count(0)
    page.get_by_test_id("reply-mode-customer").click()
    expect(page.get_by_test_id("reply-box")).to_have_attribute("data-mode", "customer")
    page.get_by_test_id("reply-body").fill("请问什么时候能补发？")
    page.get_by_test_id("reply-send").click()
    expect(page.locator(".ant-message")).to_contain_text("已记录客户消息")
    customer_message = page.locator("[data-testid^='comment-'][data-from-customer='true']")
    expect(customer_message).to_contain_text("请问什么时候能补发？")
    expect(customer_message).to_contain_text("客户")
    expect(page.get_by_test_id("comments")).to_have_attribute("data-count", "2")
    # (orange at once: the countdown warns within the hour)
    expect(page.get_by_test_id("ticket-sla-next_response")).to_have_attribute("data-state", "warned")
    expect(page.get_by_test_id("ticket-sla-next_response")).to_contain_text(
        re.compile(r"下次响应 · 剩余 (29|30) 分")
    )
    expect(page.locator("[data-testid='timeline-entry'][data-kind='comment.customer']")).to_contain_text(
        "客户消息"
    )

    # Attachments: a PNG is uploaded, previewed and downloaded as it was; two refusals in words.
    png = _png()
    attachments = page.get_by_test_id("ticket-attachments")
    file_input = attachments.locator("input[type=file]")
    file_input.set_input_files(files=_file("破损照片.png", "image/png", png))
    expect(page.locator(".ant-message")).to_contain_text("已上传 破损照片.png")
    expect(attachments).to_have_attribute("data-count", "1")
    stored = _api(live_server, "GET", f"/api/v1/tickets/{first['id']}/attachments")
    attachment_id = stored[0]["id"]
    row = page.get_by_test_id(f"attachment-{attachment_id}")
    expect(row).to_contain_text("破损照片.png")
    expect(row).to_contain_text(f"{len(png)} B")
    expect(row).to_contain_text("image/png")
    page.get_by_test_id(f"attachment-preview-{attachment_id}").click()
    image = page.get_by_test_id("attachment-preview-image")
    expect(image).to_be_visible()
    assert image.evaluate("img => img.naturalWidth") == 2
    page.locator(".ant-modal-close").click()
    expect(image).to_be_hidden()
    with page.expect_download() as download:
        page.get_by_test_id(f"attachment-download-{attachment_id}").click()
    assert download.value.suggested_filename == "破损照片.png"
    with open(download.value.path(), "rb") as saved:
        assert saved.read() == png
    file_input.set_input_files(files=_file("固件.bin", "application/octet-stream", b"\x00\x01\x02\xff" * 64))
    expect(page.get_by_test_id("attachment-error")).to_contain_text("不支持的文件类型")
    file_input.set_input_files(files=_file("说明.png", "image/png", "只是文字".encode()))
    expect(page.get_by_test_id("attachment-error")).to_have_text(
        "文件类型与内容不符：声明为 image/png，内容是 text/plain"
    )
    expect(attachments).to_have_attribute("data-count", "1")
    assert len(_api(live_server, "GET", f"/api/v1/tickets/{first['id']}/attachments")) == 1

    # A duplicate of the same customer: suggested with its reasons; a merge into itself is refused.
    duplicate = _ticket(
        live_server, f"口红断了还没补发 {suffix}", setup["main_type"], customer_id=customer_id
    )
    page.reload()
    suggestion = page.get_by_test_id(f"duplicate-{duplicate['id']}")
    expect(suggestion).to_contain_text(f"#{duplicate['id']} 口红断了还没补发 {suffix}")
    for reason in ("same_customer", "same_type", "created_within_14_days"):
        expect(suggestion.get_by_test_id(f"duplicate-reason-{reason}")).to_be_visible()
    expect(suggestion.get_by_test_id("duplicate-reason-same_customer")).to_have_text("同一客户")
    page.get_by_test_id("merge-open").click()
    page.get_by_test_id("merge-into").fill(str(first["id"]))
    page.get_by_test_id("merge-submit").click()
    expect(page.get_by_test_id("merge-refused")).to_have_text("不能合并到自己")
    page.locator(".ant-modal-close").click()
    expect(page.get_by_test_id("merge-modal")).to_have_count(0)
    page.get_by_test_id(f"duplicate-absorb-{duplicate['id']}").click()
    expect(page.get_by_test_id("merge-summary")).to_have_text(
        f"工单 #{duplicate['id']} → 工单 #{first['id']}"
    )
    page.get_by_test_id("merge-note").fill("同一支口红")
    page.get_by_test_id("merge-submit").click()
    expect(page.locator(".ant-message")).to_contain_text(f"工单 #{duplicate['id']} 已合并到 #{first['id']}")
    expect(page.get_by_test_id(f"duplicate-{duplicate['id']}")).to_have_count(0)
    expect(page.locator("[data-testid^='comment-'][data-internal='true']")).to_contain_text(
        f"合并了重复工单 #{duplicate['id']}"
    )
    merged = _api(live_server, "GET", f"/api/v1/tickets/{duplicate['id']}")
    assert (merged["status"], merged["outcome"], merged["merged_into_id"]) == (
        "closed",
        "merged",
        first["id"],
    )

    # Resolved, the ticket gets 记录评价 (4 stars and a comment).
    expect(page.get_by_test_id("ticket-rating-pending")).to_be_visible()
    page.get_by_test_id("ticket-action-resolve").click()
    page.get_by_test_id("ticket-action-confirm").click()
    expect(page.get_by_test_id("ticket-status")).to_have_text("已解决")
    page.get_by_test_id("rating-record").click()
    rating_modal = page.get_by_test_id("rating-modal")
    rating_modal.locator(".ant-rate-star").nth(3).click()
    page.get_by_test_id("rating-comment").fill("电话回访：处理很快")
    page.get_by_test_id("rating-submit").click()
    expect(page.locator(".ant-message")).to_contain_text("评价已记录")
    expect(page.get_by_test_id("ticket-rating")).to_have_attribute("data-score", "4")
    expect(page.get_by_test_id("ticket-rating-comment")).to_have_text("电话回访：处理很快")
    expect(page.get_by_test_id("timeline-entry").first).to_have_attribute("data-kind", "rated")
    assert _api(live_server, "GET", f"/api/v1/tickets/{first['id']}")["rating"] == 4

    # The merged duplicate's page links to where it went, and is not rated on its own.
    page.goto(f"/tickets/{duplicate['id']}")
    expect(page.get_by_test_id("ticket-merged-banner")).to_contain_text("此工单已作为重复工单合并到")
    expect(page.get_by_test_id("ticket-rating-merged")).to_be_visible()
    page.get_by_test_id("ticket-merged-banner-link").click()
    expect(page).to_have_url(re.compile(rf"/tickets/{first['id']}$"))

    # English once.
    page.get_by_test_id("lang-switch").click()
    expect(page.get_by_test_id("routing-history").get_by_test_id("routing-decision").first).to_contain_text(
        "By hand"
    )
    expect(page.get_by_test_id("assign-open")).to_have_count(0)  # resolved: not assigned any more
    expect(page.get_by_test_id("ticket-rating")).to_contain_text("Satisfied")
    expect(page.get_by_test_id(f"attachment-{attachment_id}")).to_contain_text("image/png")
    expect(page.get_by_text("Possible duplicates")).to_be_visible()
    page.get_by_test_id("lang-switch").click()
    expect(page.get_by_test_id("ticket-status")).to_have_text("已解决")

    # A rating link for the second ticket, opened logged out on a phone-sized screen.
    _api(live_server, "POST", f"/api/v1/tickets/{second['id']}/resolve", json={"outcome": "refund"})
    page.goto(f"/tickets/{second['id']}")
    page.get_by_test_id("rating-link-create").click()
    url = page.get_by_test_id("rating-link-url").inner_text().strip()
    assert re.fullmatch(rf"{re.escape(str(live_server))}/ticket-rating/[\w-]+\.[\w-]+", url)
    expect(page.get_by_test_id("rating-link-modal").locator(".ant-typography-copy")).to_be_visible()
    page.locator(".ant-modal-close").click()
    customer = browser.new_context(viewport={"width": 375, "height": 740}, is_mobile=True)
    try:
        phone = customer.new_page()
        phone_errors = watch_console(phone, live_server)
        phone.goto(url)
        expect(phone.get_by_test_id("rating-page-state")).to_have_attribute("data-state", "open")
        expect(phone.get_by_test_id("rating-page-title")).to_have_text(f"粉底漏液 {suffix}")
        expect(phone.get_by_test_id("rating-page-submit")).to_be_disabled()
        phone.get_by_test_id("rating-page").locator(".ant-rate-star").nth(4).click()
        expect(phone.get_by_test_id("rating-page-score-label")).to_have_text("非常满意")
        phone.get_by_test_id("rating-page-comment").fill("退款很及时，谢谢")
        phone.get_by_test_id("rating-page-submit").click()
        expect(phone.get_by_test_id("rating-page-state")).to_have_attribute("data-state", "thanks")
        expect(phone.get_by_text("感谢您的评价！")).to_be_visible()
        phone.reload()
        expect(phone.get_by_test_id("rating-page-state")).to_have_attribute("data-state", "rated")
        assert phone.evaluate("() => localStorage.getItem('scrm.token')") is None
        # a forged link
        phone.goto(url[:-4] + "abcd")
        expect(phone.get_by_test_id("rating-page-state")).to_have_attribute("data-state", "invalid")
        expect(phone.get_by_text("评价链接无效")).to_be_visible()
        assert [e for e in phone_errors if not re.search(r"\b404\b", e)] == []
    finally:
        customer.close()
    rated = _api(live_server, "GET", f"/api/v1/tickets/{second['id']}")
    assert (rated["rating"], rated["rating_comment"]) == (5, "退款很及时，谢谢")
    page.reload()
    expect(page.get_by_test_id("ticket-rating")).to_have_attribute("data-score", "5")

    # The third ticket breached its one-minute first response: escalation level 1 on its timeline.
    page.goto(f"/tickets/{escalating['id']}")
    deadline = escalated_from + 120
    while time.monotonic() < deadline:
        timeline = _api(live_server, "GET", f"/api/v1/tickets/{escalating['id']}")["timeline"]
        if any(e["kind"] == "sla.first_response.escalation" for e in timeline):
            break
        time.sleep(2)
    page.get_by_test_id("ticket-refresh").click()
    escalation = page.locator("[data-testid='timeline-entry'][data-kind='sla.first_response.escalation']")
    expect(escalation).to_contain_text("SLA · 首次响应 · 升级")
    detail = escalation.get_by_test_id("escalation-detail")
    expect(detail.get_by_test_id("escalation-level")).to_have_text("第 1 级")
    expect(detail.get_by_test_id(f"escalation-notified-{a_id}")).to_have_text(a_name)
    expect(detail.get_by_test_id(f"escalation-notified-{b_id}")).to_have_text(b_name)
    expect(detail.get_by_test_id("escalation-action-raise_priority")).to_have_text("提升优先级")
    expect(page.get_by_test_id("ticket-priority")).to_have_text("高")
    assert _expected_errors(errors) == []
