"""Channel codes (渠道活码), the channel dashboard, customers, segments and merges in a real browser,
against the live server's simulated corp: a code with two staff on round robin, a tag and a welcome
message with a morning variant (seen in the phone preview), its QR code; scans through the simulator
that make the live board pulse, move the code's numbers and reach the customer's profile with the tag
and the welcome; a segment built in the builder with its live count; two customers merged and unmerged.
"""

from __future__ import annotations

import re
import uuid
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from playwright.sync_api import Locator, Page, expect

from tests.browser.conftest import LiveServer
from tests.browser.test_wecom_console import (
    DEMO_CONNECTION_NAME,
    api_token,
    log_in,
    wait_for_first_sync,
    watch_console,
)

pytestmark = pytest.mark.browser

LIVE_TIMEOUT_MS = 20_000
SHANGHAI = ZoneInfo("Asia/Shanghai")


def api(live_server: LiveServer, method: str, path: str, **kwargs: Any) -> Any:
    headers = {"Authorization": f"Bearer {api_token(live_server)}"}
    answer = httpx.request(method, f"{live_server}{path}", headers=headers, timeout=30, **kwargs)
    answer.raise_for_status()
    return answer.json() if answer.content else None


def synced_tag(live_server: LiveServer) -> tuple[int, str]:
    """A corp tag of the demo connection that WeCom knows (the demo corp's 渠道来源 tags, synced)."""
    for group in api(
        live_server, "GET", "/api/v1/tags", params={"connection_id": live_server.wecom_connection_id}
    ):
        for tag in group["tags"]:
            if tag["wecom_tag_id"]:
                return int(tag["id"]), str(tag["name"])
    pytest.fail("the demo corp has no synced corp tag")


def scan(live_server: LiveServer, state: str, name: str) -> dict[str, Any]:
    answer = httpx.post(
        f"{live_server.wecom_simulator_url}/_sim/scan", json={"state": state, "name": name}, timeout=10
    )
    answer.raise_for_status()
    return dict(answer.json())


def pick(page: Page, select_test_id: str, option_test_id: str) -> None:
    page.get_by_test_id(select_test_id).click()
    page.get_by_test_id(option_test_id).click()


def type_time(page: Page, field: Locator, value: str) -> None:
    """Types into an antd date / time picker and confirms with Enter."""
    field.click()
    page.keyboard.press("Control+A")
    page.keyboard.type(value)
    page.keyboard.press("Enter")


def confirm(page: Page) -> None:
    page.locator("[data-testid='confirm-ok']:visible").last.click()


def test_a_channel_code_from_the_editor_to_scans_on_the_live_board_and_the_customer(
    page: Page, live_server: LiveServer
) -> None:
    errors = watch_console(page, live_server)
    wait_for_first_sync(live_server)
    tag_id, tag_name = synced_tag(live_server)
    suffix = uuid.uuid4().hex[:6]
    name = f"浏览器测试码{suffix}"
    store = f"测试门店{suffix}"
    log_in(page)

    # The editor: two members on round robin, a tag, a welcome with a morning variant.
    page.get_by_test_id("menu-channels").click()
    expect(page).to_have_url(re.compile(r"/channels$"))
    expect(page.get_by_test_id("channels-table")).to_be_visible()
    page.get_by_test_id("channel-create").click()
    expect(page).to_have_url(re.compile(r"/channels/new$"))
    expect(page.get_by_test_id("channel-form-connection")).to_contain_text(DEMO_CONNECTION_NAME)
    page.get_by_test_id("channel-form-name").fill(name)
    page.get_by_test_id("channel-form-store").fill(store)
    pick(page, "channel-staff-picker", "channel-staff-option-zhangsan")
    pick(page, "channel-staff-picker", "channel-staff-option-lisi")
    expect(page.get_by_test_id("channel-staff-editor")).to_have_attribute("data-count", "2")
    page.get_by_test_id("channel-form-strategy-round_robin").click()
    pick(page, "channel-form-tags", f"channel-form-tag-option-{tag_id}")
    page.keyboard.press("Escape")
    page.get_by_test_id("channel-form-welcome-text").fill("您好 ")
    page.get_by_test_id("channel-form-welcome-text-insert-customer_name").click()
    expect(page.get_by_test_id("channel-form-welcome-text")).to_have_value("您好 {customer_name}")
    page.get_by_test_id("welcome-variant-add").click()
    page.get_by_test_id("welcome-variant-0-name").fill("早安")
    type_time(page, page.get_by_test_id("welcome-variant-0-start"), "06:00")
    type_time(page, page.get_by_test_id("welcome-variant-0-end"), "11:00")
    page.get_by_test_id("welcome-variant-0-text").fill("早上好 {customer_name}，早餐 8 折")

    # The phone preview: the morning variant at 08:00, the default in the afternoon.
    preview = page.get_by_test_id("phone-preview")
    day = datetime.now(SHANGHAI).date().isoformat()
    type_time(page, page.get_by_test_id("phone-preview-time"), f"{day} 08:00")
    expect(preview).to_have_attribute("data-variant", "早安")
    expect(page.get_by_test_id("phone-preview-text")).to_have_text("早上好 王小美，早餐 8 折")
    type_time(page, page.get_by_test_id("phone-preview-time"), f"{day} 15:00")
    expect(preview).to_have_attribute("data-variant", "")
    expect(page.get_by_test_id("phone-preview-text")).to_have_text("您好 王小美")

    page.get_by_test_id("channel-form-submit").click()
    expect(page).to_have_url(re.compile(r"/channels/\d+$"))
    code_id = int(page.url.rsplit("/", 1)[1])
    expect(page.get_by_test_id("channel-name")).to_have_text(name)
    expect(page.get_by_test_id("channel-status")).to_have_attribute("data-status", "active")
    expect(page.get_by_test_id("channel-qr-image")).to_have_attribute("data-loaded", "true")
    expect(page.get_by_test_id("channel-strategy")).to_have_attribute("data-value", "round_robin")
    expect(page.get_by_test_id("channel-detail-tags")).to_contain_text(tag_name)
    expect(page.get_by_test_id("channel-detail-welcome")).to_contain_text("早安")
    state = page.get_by_test_id("channel-state").get_attribute("data-value")
    assert state
    expect(page.get_by_test_id("channel-config-id")).to_have_attribute("data-value", re.compile(r".+"))
    # Round robin lists one member at a time, the first in order before any add.
    expect(page.get_by_test_id("channel-way-users")).to_have_attribute("data-value", "zhangsan")
    expect(page.get_by_test_id("channel-qr-download-png")).to_be_enabled()

    # The live board: waiting for scans (its first answer is history, which does not pulse).
    page.get_by_test_id("menu-channel-dashboard").click()
    expect(page).to_have_url(re.compile(r"/channels/dashboard$"))
    board = page.get_by_test_id("live-board")
    expect(board).to_have_attribute("data-cursor", re.compile(r"^\d+$"))
    store_card = page.locator(f"[data-testid='live-store'][data-store='{store}']")
    expect(store_card).to_have_count(0)

    first = f"扫码客户{suffix}甲"
    scanned = scan(live_server, state, first)
    assert scanned["userid"] == "zhangsan"
    expect(store_card).to_have_attribute("data-today", "1", timeout=LIVE_TIMEOUT_MS)
    expect(store_card).to_have_attribute("data-pulses", "1")
    expect(board.locator(f"[data-testid='live-scan'][data-code-id='{code_id}']")).to_have_count(1)

    # The code's page: today's adds, the member who got the customer, the stats; round robin moves on.
    page.goto(f"/channels/{code_id}")
    expect(page.get_by_test_id("channel-adds-today")).to_have_attribute(
        "data-value", "1", timeout=LIVE_TIMEOUT_MS
    )
    expect(page.get_by_test_id("channel-staff-today-zhangsan")).to_have_attribute("data-value", "1")
    expect(page.get_by_test_id("channel-stats-adds")).to_have_attribute(
        "data-value", "1", timeout=LIVE_TIMEOUT_MS
    )
    expect(page.get_by_test_id("channel-stats-staff-zhangsan")).to_have_attribute("data-adds", "1")
    expect(page.get_by_test_id("channel-way-users")).to_have_attribute(
        "data-value", "lisi", timeout=LIVE_TIMEOUT_MS
    )
    second = f"扫码客户{suffix}乙"
    assert scan(live_server, state, second)["userid"] == "lisi"
    expect(page.get_by_test_id("channel-staff-today-lisi")).to_have_attribute(
        "data-value", "1", timeout=LIVE_TIMEOUT_MS
    )
    expect(page.get_by_test_id("channel-adds-today")).to_have_attribute("data-value", "2")
    expect(
        page.get_by_test_id("channel-adds-table").locator("tr[data-testid^='channel-add-']")
    ).to_have_count(2, timeout=LIVE_TIMEOUT_MS)
    page.get_by_test_id("channel-tab-welcomes").click()
    welcomes = page.get_by_test_id("channel-welcomes-table").locator("tr[data-testid^='channel-welcome-']")
    expect(welcomes).to_have_count(2, timeout=LIVE_TIMEOUT_MS)
    expect(welcomes.first).to_have_attribute("data-status", "sent")
    page.get_by_test_id("channel-tab-decisions").click()
    expect(
        page.get_by_test_id("channel-decisions-table").locator("tr[data-testid^='channel-decision-']").first
    ).to_be_visible()

    # The customer: found by name, from this code, with its tag and the welcome on the timeline.
    page.get_by_test_id("menu-customers").click()
    page.get_by_test_id("customers-search").fill(first)
    page.get_by_test_id("customers-search").press("Enter")
    rows = page.locator("[data-testid^='customer-row-']")
    expect(rows).to_have_count(1)
    rows.first.locator("[data-testid^='customer-link-']").click()
    expect(page).to_have_url(re.compile(r"/customers/\d+$"))
    expect(page.get_by_test_id("customer-name")).to_have_text(first)
    expect(page.get_by_test_id("customer-source")).to_have_attribute("data-channel-id", str(code_id))
    expect(page.get_by_test_id("customer-store")).to_contain_text(store)
    expect(page.get_by_test_id("customer-tags")).to_contain_text(tag_name)
    timeline = page.get_by_test_id("customer-timeline")
    expect(timeline.locator("[data-kind='channel.added']")).to_have_count(1)
    welcome = timeline.locator("[data-kind='channel.welcome_sent']")
    for _ in range(30):
        if welcome.count():
            break
        page.wait_for_timeout(500)
        page.reload()
        expect(page.get_by_test_id("customer-timeline")).to_be_visible()
    expect(welcome).to_have_count(1)

    # The list filtered by the channel: both customers of this code.
    page.goto(f"/customers?channel={code_id}")
    expect(page.locator("[data-testid^='customer-row-']")).to_have_count(2)

    # The server's field errors land on their fields: a second code cannot take the same state.
    page.goto("/channels/new")
    page.get_by_test_id("channel-form-name").fill(f"{name}副本")
    page.get_by_test_id("channel-form-state").fill(state)
    pick(page, "channel-staff-picker", "channel-staff-option-zhangsan")
    page.get_by_test_id("channel-form-submit").click()
    state_item = page.locator(".ant-form-item").filter(has=page.get_by_test_id("channel-form-state"))
    expect(state_item.locator(".ant-form-item-explain-error")).to_be_visible()
    expect(page).to_have_url(re.compile(r"/channels/new$"))
    assert not [e for e in errors if "status of 409" not in e], errors


def test_the_segment_builder_counts_live_and_saves(page: Page, live_server: LiveServer) -> None:
    errors = watch_console(page, live_server)
    wait_for_first_sync(live_server)
    tag_id, _ = synced_tag(live_server)

    def expected(condition: dict[str, Any]) -> str:
        return str(
            api(live_server, "POST", "/api/v1/segments/preview", json={"condition": condition, "limit": 1})[
                "count"
            ]
        )

    # Some customers carry the tag (tagging them through the API, as an operator would one by one).
    customers = api(live_server, "GET", "/api/v1/customers", params={"limit": 3})["items"]
    for customer in customers:
        api(live_server, "POST", f"/api/v1/customers/{customer['id']}/tags", json={"add": [tag_id]})

    log_in(page)
    page.get_by_test_id("menu-segments").click()
    expect(page).to_have_url(re.compile(r"/customers/segments$"))
    page.get_by_test_id("segment-create").click()
    count = page.get_by_test_id("segment-count")
    expect(count).to_have_attribute("data-value", expected({"all": []}))

    # tags has any of the tag
    page.get_by_test_id("segment-group-root-add-rule").click()
    rule = page.get_by_test_id("segment-rule-root-0")
    expect(rule).to_have_attribute("data-field", "tags")
    expect(rule).to_have_attribute("data-complete", "false")
    pick(page, "segment-rule-root-0-value", f"segment-rule-root-0-value-option-{tag_id}")
    page.keyboard.press("Escape")
    with_tag = {"all": [{"field": "tags", "op": "contains_any", "value": [tag_id]}]}
    expect(count).to_have_attribute("data-value", expected(with_tag))
    expect(count).to_have_attribute("data-pending", "false")
    assert int(count.get_attribute("data-value") or 0) >= len(customers)

    # … and added in the last 30 days
    page.get_by_test_id("segment-group-root-add-rule").click()
    pick(page, "segment-rule-root-1-field", "segment-rule-root-1-field-option-added_at")
    expect(page.get_by_test_id("segment-rule-root-1")).to_have_attribute("data-op", "within_last")
    recent = {"all": [*with_tag["all"], {"field": "added_at", "op": "within_last", "value": "30d"}]}
    expect(count).to_have_attribute("data-value", expected(recent))

    # … and NOT (followed by zhangsan): a nested, negated group
    page.get_by_test_id("segment-group-root-add-group").click()
    page.get_by_test_id("segment-group-root-2-add-rule").click()
    pick(page, "segment-rule-root-2-0-field", "segment-rule-root-2-0-field-option-staff")
    pick(page, "segment-rule-root-2-0-value", "segment-rule-root-2-0-value-option-zhangsan")
    page.keyboard.press("Escape")
    page.get_by_test_id("segment-group-root-2-negate").click()
    nested = {
        "all": [
            *recent["all"],
            {"not": {"any": [{"field": "staff", "op": "contains_any", "value": ["zhangsan"]}]}},
        ]
    }
    expect(count).to_have_attribute("data-value", expected(nested))
    expect(page.get_by_test_id("segment-summary")).to_contain_text("不满足")

    name = f"浏览器分群{uuid.uuid4().hex[:6]}"
    page.get_by_test_id("segment-name").fill(name)
    page.get_by_test_id("segment-save").click()
    expect(page).to_have_url(re.compile(r"/customers/segments/\d+$"))
    segment_id = page.url.rsplit("/", 1)[1]
    expect(page.get_by_test_id("segment-members")).to_be_visible()
    saved = api(live_server, "GET", f"/api/v1/segments/{segment_id}")
    assert saved["condition"] == nested
    expect(page.get_by_test_id("segment-export-csv")).to_be_enabled()

    page.get_by_test_id("segment-back").click()
    expect(page.get_by_test_id(f"segment-count-{segment_id}")).to_have_attribute(
        "data-value", expected(nested)
    )
    expect(page.get_by_test_id(f"segment-row-{segment_id}")).to_have_attribute("data-name", name)
    assert not errors, errors


def test_merge_two_customers_then_unmerge(page: Page, live_server: LiveServer) -> None:
    errors = watch_console(page, live_server)
    wait_for_first_sync(live_server)
    listed = api(live_server, "GET", "/api/v1/customers", params={"limit": 60})["items"]
    survivor, other = listed[-1], listed[-2]
    log_in(page)
    page.goto(f"/customers/{survivor['id']}")
    expect(page.get_by_test_id("customer-header")).to_be_visible()
    expect(page.get_by_test_id("customer-merges")).to_have_count(0)

    # Pick the other customer, give a reason, confirm: their unique identifiers disagree, so the
    # console shows why and asks before merging anyway.
    page.get_by_test_id("customer-merge").click()
    page.get_by_test_id("customer-merge-pick").click()
    page.get_by_test_id("customer-merge-pick").locator("input").fill(other["name"])
    page.get_by_test_id(f"customer-merge-option-{other['id']}").click()
    page.get_by_test_id("customer-merge-reason").fill("同一人的两个微信")
    page.get_by_test_id("customer-merge-submit").click()
    confirm(page)
    expect(page.get_by_test_id("customer-merge-conflicts")).to_be_visible()
    page.get_by_test_id("customer-merge-force").check()
    page.get_by_test_id("customer-merge-submit").click()
    confirm(page)
    expect(page.get_by_test_id("customer-merge-modal")).to_have_count(0)

    merges = page.get_by_test_id("customer-merges")
    expect(merges).to_be_visible()
    expect(merges.locator("[data-testid^='customer-merge-other-']")).to_have_text(f"#{other['id']}")
    status = merges.locator("[data-testid^='customer-merge-status-']")
    expect(status).to_have_attribute("data-status", "active")
    expect(page.get_by_test_id("customer-identities")).to_contain_text(
        next(i["value"] for i in other["identities"] if i["kind"] == "wecom_external_userid")
    )
    expect(page.get_by_test_id("customer-timeline").locator("[data-kind='customer.merged']")).to_have_count(1)

    # The merged-away profile points to the survivor.
    page.goto(f"/customers/{other['id']}")
    expect(page.get_by_test_id("customer-merged-away")).to_have_attribute("data-into", str(survivor["id"]))
    page.get_by_test_id("customer-merged-into").click()
    expect(page).to_have_url(re.compile(rf"/customers/{survivor['id']}$"))

    # Unmerge with a reason: the history keeps the merge, marked undone; both profiles are back.
    merge_id = (status.get_attribute("data-testid") or "").removeprefix("customer-merge-status-")
    page.get_by_test_id(f"customer-unmerge-{merge_id}").click()
    page.get_by_test_id("customer-unmerge-reason").fill("合并错了")
    page.get_by_test_id("customer-unmerge-submit").click()
    expect(page.get_by_test_id(f"customer-merge-status-{merge_id}")).to_have_attribute(
        "data-status", "undone"
    )
    expect(page.get_by_test_id(f"customer-unmerge-{merge_id}")).to_have_count(0)
    expect(page.get_by_test_id("customer-timeline").locator("[data-kind='customer.unmerged']")).to_have_count(
        1
    )
    page.goto(f"/customers/{other['id']}")
    expect(page.get_by_test_id("customer-header")).to_be_visible()
    expect(page.get_by_test_id("customer-name")).to_have_text(other["name"])
    # The 409 of the first try and the 404 of the merged-away profile are part of the story.
    expected = (f"/api/v1/customers/{survivor['id']}/merge", f"/api/v1/customers/{other['id']})")
    assert not [e for e in errors if not any(x in e for x in expected)], errors


def test_bulk_tagging_the_filtered_list_runs_as_a_job(page: Page, live_server: LiveServer) -> None:
    errors = watch_console(page, live_server)
    wait_for_first_sync(live_server)
    tag_id, tag_name = synced_tag(live_server)
    staff = "wangwu"
    since = (datetime.now(SHANGHAI) - timedelta(days=3650)).date().isoformat()
    log_in(page)
    page.goto(f"/customers?staff={staff}&added_from={since}")
    rows = page.locator("[data-testid^='customer-row-']")
    expect(rows.first).to_be_visible()
    page.get_by_test_id("customers-bulk-tag").click()
    expect(page.get_by_test_id("bulk-tag-scope")).to_have_attribute("data-count", re.compile(r"^\d+$"))
    target = int(page.get_by_test_id("bulk-tag-scope").get_attribute("data-count") or 0)
    assert target > 0
    pick(page, "bulk-tag-add", f"bulk-tag-add-option-{tag_id}")
    page.get_by_test_id("bulk-tag-scope").click()  # closes the dropdown (Escape would close the dialog)
    page.get_by_test_id("bulk-tag-submit").click()
    expect(page.get_by_test_id("job-status")).to_have_attribute(
        "data-status", "succeeded", timeout=LIVE_TIMEOUT_MS
    )
    expect(page.get_by_test_id("job-progress")).to_have_attribute("data-percent", "100")
    page.get_by_test_id("bulk-tag-close").click()
    # Every customer of the filtered list now carries the tag.
    first_id = (rows.first.get_attribute("data-testid") or "").removeprefix("customer-row-")
    expect(page.get_by_test_id(f"customer-tags-{first_id}")).to_contain_text(tag_name)
    untagged = api(
        live_server,
        "GET",
        "/api/v1/customers",
        params={"staff": staff, "added_from": since, "tags_none": [tag_id], "limit": 5},
    )["items"]
    assert untagged == []
    assert not errors, errors
