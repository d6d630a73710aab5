"""The WeCom part of the console in a real browser, against the live server's simulated corp: the
connection with its callback settings and a sync with its progress bar, customers and the customer 360
page (with a live callback landing on its timeline), a tag group pushed to WeCom, WeCom members linked
to console accounts, and logging in with WeCom."""

from __future__ import annotations

import re
import time
import uuid

import httpx
import pytest
from playwright.sync_api import ConsoleMessage, Page, expect

from scrm.demo.seed import DEMO_EMAIL, DEMO_PASSWORD
from scrm.demo.wecom import DEMO_CONNECTION_NAME, DEMO_CORP_ID
from tests.browser.conftest import LiveServer

pytestmark = pytest.mark.browser

SYNC_TIMEOUT_MS = 60_000
# The simulated corp hands out avatar URLs on WeCom's CDN, which a sandboxed browser cannot resolve.
IGNORED_CONSOLE = ("ERR_NAME_NOT_RESOLVED", "ERR_INTERNET_DISCONNECTED")


def log_in(page: Page) -> None:
    page.goto("/login")
    page.get_by_test_id("login-email").fill(DEMO_EMAIL)
    page.get_by_test_id("login-password").fill(DEMO_PASSWORD)
    page.get_by_test_id("login-submit").click()
    expect(page.get_by_test_id("user-name")).to_be_visible()


def watch_console(page: Page, live_server: LiveServer) -> list[str]:
    """Console errors and uncaught exceptions of the console's pages (not the simulator's login page),
    except unreachable external images."""
    errors: list[str] = []

    def on_console(message: ConsoleMessage) -> None:
        where = str(message.location.get("url", ""))
        if message.type != "error" or any(x in message.text for x in IGNORED_CONSOLE):
            return
        if where.startswith(live_server.wecom_simulator_url):
            return
        errors.append(f"{message.text} ({where})")

    page.on("console", on_console)
    page.on("pageerror", lambda e: errors.append(str(e)))
    return errors


def api_token(live_server: LiveServer) -> str:
    answer = httpx.post(
        f"{live_server}/api/v1/auth/login", json={"email": DEMO_EMAIL, "password": DEMO_PASSWORD}, timeout=10
    )
    answer.raise_for_status()
    return str(answer.json()["access_token"])


def wait_for_first_sync(live_server: LiveServer) -> None:
    """The live server queues a full sync of the demo corp at start; the pages below need its data."""
    headers = {"Authorization": f"Bearer {api_token(live_server)}"}
    deadline = time.monotonic() + SYNC_TIMEOUT_MS / 1000
    while time.monotonic() < deadline:
        jobs = httpx.get(
            f"{live_server}/api/v1/jobs",
            params={"connection_id": live_server.wecom_connection_id, "limit": 50},
            headers=headers,
            timeout=30,
        ).json()["items"]
        if any(job["status"] == "succeeded" for job in jobs):
            return
        time.sleep(0.5)
    pytest.fail("the demo corp's first sync did not finish")


def test_connections_page_shows_the_callback_settings_and_an_incremental_sync_finishes(
    page: Page, live_server: LiveServer
) -> None:
    errors = watch_console(page, live_server)
    wait_for_first_sync(live_server)
    connection_id = live_server.wecom_connection_id
    log_in(page)
    page.get_by_test_id("menu-connections").click()
    expect(page).to_have_url(re.compile(r"/settings/connections$"))
    expect(page.get_by_test_id("connections-table")).to_contain_text(DEMO_CONNECTION_NAME)
    expect(page.get_by_test_id(f"connection-status-{connection_id}")).to_have_attribute(
        "data-status", "active"
    )
    page.get_by_test_id(f"connection-link-{connection_id}").click()

    # What goes into the WeCom admin's 接收事件服务器 settings.
    expect(page.get_by_test_id("connection-callback-url")).to_have_text(
        f"{live_server}/hooks/wecom/{connection_id}"
    )
    expect(page.get_by_test_id("connection-token")).to_have_attribute(
        "data-value", re.compile(r"^[A-Za-z0-9]{3,32}$")
    )
    expect(page.get_by_test_id("connection-aes-key")).to_have_attribute("data-value", re.compile(r"^.{43}$"))
    expect(page.get_by_test_id("connection-callback-url-copy")).to_be_visible()

    page.get_by_test_id("connection-test").click()
    expect(page.get_by_test_id("connection-test-result")).to_have_attribute("data-ok", "true")

    # The newest job is on show; an incremental sync replaces it and is followed to the end.
    expect(page.get_by_test_id("job-panel")).to_be_visible()
    previous = page.get_by_test_id("job-panel").get_attribute("data-job-id")
    page.get_by_test_id("connection-sync-incremental").click()
    expect(page.get_by_test_id("job-panel")).not_to_have_attribute("data-job-id", previous or "")
    expect(page.get_by_test_id("job-status")).to_have_attribute(
        "data-status", "succeeded", timeout=SYNC_TIMEOUT_MS
    )
    expect(page.get_by_test_id("job-progress")).to_have_attribute("data-percent", "100")
    expect(page.get_by_test_id("job-result")).to_be_visible()
    job_id = page.get_by_test_id("job-panel").get_attribute("data-job-id")
    expect(page.get_by_test_id(f"job-row-{job_id}")).to_be_visible()
    expect(page.get_by_test_id("connection-sync-full")).to_be_enabled()
    assert not errors, errors


def test_customer_list_and_the_customer_360_page_with_a_live_callback_on_its_timeline(
    page: Page, live_server: LiveServer
) -> None:
    errors = watch_console(page, live_server)
    wait_for_first_sync(live_server)
    log_in(page)
    page.get_by_test_id("menu-customers").click()
    expect(page).to_have_url(re.compile(r"/customers$"))
    rows = page.locator("[data-testid^='customer-row-']")
    expect(rows.first).to_be_visible()
    assert rows.count() > 10
    # Newest first; a customer followed by someone.
    rows.first.click()
    expect(page).to_have_url(re.compile(r"/customers/\d+$"))
    expect(page.get_by_test_id("customer-header")).to_be_visible()
    external_userid = page.get_by_test_id("customer-identity-wecom_external_userid").get_attribute(
        "data-value"
    )
    assert external_userid
    expect(page.get_by_test_id("customer-identities")).to_contain_text(external_userid)
    timeline = page.get_by_test_id("customer-timeline")
    expect(timeline.get_by_test_id("customer-timeline-item").first).to_be_visible()
    follows = page.locator("[data-testid^='customer-follow-row-']")
    expect(follows.first).to_be_visible()
    userid = (follows.first.get_attribute("data-testid") or "").removeprefix("customer-follow-row-")
    expect(page.get_by_test_id(f"follow-status-{userid}")).to_have_attribute("data-status", "active")

    # The customer deletes that staff member in WeCom: the callback lands on the profile.
    answer = httpx.post(
        f"{live_server.wecom_simulator_url}/_sim/customer/delete_staff",
        json={"external_userid": external_userid, "userid": userid},
        timeout=10,
    )
    answer.raise_for_status()
    deleted = timeline.locator("[data-kind='wecom.deleted_by_customer']")
    for _ in range(40):
        page.reload()
        expect(page.get_by_test_id("customer-timeline")).to_be_visible()
        if deleted.count():
            break
        page.wait_for_timeout(500)
    expect(deleted.first).to_contain_text(userid)
    expect(page.get_by_test_id(f"follow-status-{userid}")).to_have_attribute(
        "data-status", "deleted_by_customer"
    )

    # Back to the list, searched by the external_userid.
    page.get_by_test_id("customer-back").click()
    expect(page).to_have_url(re.compile(r"/customers(\?.*)?$"))
    page.get_by_test_id("customers-search").fill(external_userid)
    page.get_by_test_id("customers-search").press("Enter")
    expect(rows).to_have_count(1)
    assert not errors, errors


def test_a_new_tag_group_is_pushed_to_wecom(page: Page, live_server: LiveServer) -> None:
    errors = watch_console(page, live_server)
    wait_for_first_sync(live_server)
    name = f"浏览器测试{uuid.uuid4().hex[:6]}"
    log_in(page)
    page.get_by_test_id("menu-tags").click()
    expect(page).to_have_url(re.compile(r"/customers/tags$"))
    expect(page.get_by_test_id("tags-board")).to_be_visible()
    page.get_by_test_id("tag-group-create").click()
    connection = page.get_by_test_id("tag-group-form-connection")
    expect(connection).to_be_visible()
    if not connection.get_by_text(DEMO_CONNECTION_NAME).count():
        connection.click()
        page.get_by_test_id(f"tag-group-form-connection-option-{live_server.wecom_connection_id}").click()
    page.get_by_test_id("tag-group-form-name").fill(name)
    tags = page.get_by_test_id("tag-group-form-tags").locator("input")
    for tag in ("金卡", "银卡", "铜卡"):
        tags.fill(tag)
        tags.press("Enter")
    page.get_by_test_id("tag-group-form-submit").click()

    group = page.locator(f"[data-testid^='tag-group-'][data-name='{name}']")
    expect(group).to_be_visible()
    expect(group.locator("[data-testid^='tag-'][data-name='金卡']")).to_be_visible()
    # 同步中 until the worker has pushed it and WeCom's ids are back; the board refreshes by itself.
    expect(group).to_have_attribute("data-syncing", "false", timeout=SYNC_TIMEOUT_MS)
    expect(group.locator("[data-testid^='tag-group-syncing-']")).to_have_count(0)
    expect(group.locator("[data-syncing='true']")).to_have_count(0)

    # Add one more tag inline; it too leaves 同步中.
    group_id = (group.get_attribute("data-testid") or "").removeprefix("tag-group-")
    page.get_by_test_id(f"tag-add-{group_id}").click()
    page.get_by_test_id(f"tag-add-input-{group_id}").fill("钻石卡")
    page.get_by_test_id(f"tag-add-input-{group_id}").press("Enter")
    added = group.locator("[data-testid^='tag-'][data-name='钻石卡']")
    expect(added).to_be_visible()
    expect(added).to_have_attribute("data-syncing", "false", timeout=SYNC_TIMEOUT_MS)

    # WeCom has it.
    token = httpx.get(
        f"{live_server.wecom_simulator_url}/cgi-bin/gettoken",
        params={"corpid": DEMO_CORP_ID, "corpsecret": "demo-contact-secret"},
        timeout=10,
    ).json()["access_token"]
    listed = httpx.post(
        f"{live_server.wecom_simulator_url}/cgi-bin/externalcontact/get_corp_tag_list",
        params={"access_token": token},
        json={},
        timeout=10,
    ).json()
    groups = {g["group_name"]: {t["name"] for t in g["tag"]} for g in listed["tag_group"]}
    assert groups.get(name) == {"金卡", "银卡", "铜卡", "钻石卡"}
    assert not errors, errors


def test_wecom_members_are_listed_and_linked_then_log_in_with_wecom(
    page: Page, live_server: LiveServer
) -> None:
    errors = watch_console(page, live_server)
    wait_for_first_sync(live_server)
    log_in(page)
    page.get_by_test_id("menu-wecom-members").click()
    expect(page).to_have_url(re.compile(r"/org/wecom-members$"))
    table = page.get_by_test_id("wecom-members-table")
    expect(table).to_contain_text("zhangsan")
    expect(page.get_by_test_id("wecom-department-tree")).to_be_visible()

    # 客户联系 filter: the member without it drops out.
    expect(table).to_contain_text("sunqi")
    page.get_by_test_id("wecom-members-contact-yes").click()
    expect(table).not_to_contain_text("sunqi")
    page.get_by_test_id("wecom-members-contact-all").click()

    # Link zhangsan to the console account of 张三.
    row = page.locator("[data-testid^='member-row-']").filter(has_text="zhangsan")
    member_id = (row.get_attribute("data-testid") or "").removeprefix("member-row-")
    page.get_by_test_id(f"member-link-{member_id}").click()
    page.get_by_test_id("member-link-user").click()
    page.get_by_test_id("member-link-user").locator("input").fill("zhangsan@")
    page.locator("[data-testid^='member-link-option-']").filter(has_text="zhangsan@scrm.local").click()
    page.get_by_test_id("member-link-submit").click()
    expect(page.get_by_test_id(f"member-linked-{member_id}")).to_contain_text("张三")

    # Log out and in again with WeCom: the simulator's login page stands in for the QR code.
    page.get_by_test_id("user-menu").click()
    page.get_by_test_id("logout").click()
    expect(page.get_by_test_id("login-submit")).to_be_visible()
    connection_id = live_server.wecom_connection_id

    # A member who is not linked comes back with an explanation.
    page.get_by_test_id(f"wecom-login-{connection_id}").click()
    page.locator("a.member[data-userid='sunqi']").click()
    expect(page.get_by_test_id("login-wecom-error")).to_have_attribute("data-code", "not_linked")
    expect(page.get_by_test_id("login-wecom-error")).to_contain_text("企业微信成员")

    page.get_by_test_id(f"wecom-login-{connection_id}").click()
    page.locator("a.member[data-userid='zhangsan']").click()
    expect(page.get_by_test_id("user-name")).to_contain_text("张三")
    # The token never stays in the address bar.
    assert "access_token" not in page.url
    assert not errors, errors
