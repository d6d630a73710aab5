"""The console in a real browser: log in, find your way, see the system page, replay a dead letter."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from scrm.core.clock import utcnow
from scrm.core.db import make_engine, make_session_factory, session_scope
from scrm.core.outbox_models import OutboxEvent, OutboxStatus
from scrm.demo.seed import DEMO_EMAIL, DEMO_PASSWORD, DEMO_TENANT_NAME
from scrm.identity.models import Tenant
from tests.browser.conftest import LiveServer

pytestmark = pytest.mark.browser


def log_in(page: Page, email: str = DEMO_EMAIL, password: str = DEMO_PASSWORD) -> None:
    page.goto("/")
    page.get_by_test_id("login-email").fill(email)
    page.get_by_test_id("login-password").fill(password)
    page.get_by_test_id("login-submit").click()
    if password == DEMO_PASSWORD:
        expect(page.get_by_test_id("user-name")).to_be_visible()


def test_wrong_password_shows_an_error_and_stays_on_login(page: Page) -> None:
    log_in(page, password="not-the-password")
    expect(page.get_by_test_id("login-error")).to_be_visible()
    expect(page.get_by_test_id("login-submit")).to_be_visible()


def test_log_in_and_open_the_system_page(page: Page) -> None:
    log_in(page)
    expect(page.get_by_test_id("user-name")).to_have_text("演示管理员")
    expect(page.get_by_test_id("tenant-switcher")).to_contain_text(DEMO_TENANT_NAME)
    page.get_by_test_id("menu-system").click()
    expect(page).to_have_url(re.compile(r"/system$"))
    expect(page.get_by_test_id("system-outbox")).to_be_visible()
    expect(page.get_by_test_id("system-timers")).to_be_visible()
    # The embedded worker of the server reports its heartbeat.
    expect(page.get_by_test_id("workers-table")).to_contain_text("embedded", timeout=15_000)


def test_staff_page_lists_the_demo_staff(page: Page) -> None:
    log_in(page)
    page.goto("/org/users")
    expect(page.get_by_test_id("users-table")).to_contain_text("张三")
    expect(page.get_by_test_id("users-table")).to_contain_text("zhaoliu@scrm.local")


def test_language_switch_turns_the_console_english_and_back(page: Page) -> None:
    log_in(page)
    expect(page.get_by_test_id("menu-system")).to_contain_text("系统")
    page.get_by_test_id("lang-switch").click()
    expect(page.get_by_test_id("menu-system")).to_contain_text("System")
    page.reload()
    expect(page.get_by_test_id("menu-system")).to_contain_text("System")
    page.get_by_test_id("lang-switch").click()
    expect(page.get_by_test_id("menu-system")).to_contain_text("系统")


def test_a_dead_letter_is_shown_and_replayed_from_the_system_page(
    page: Page, live_server: LiveServer
) -> None:
    factory = make_session_factory(make_engine(live_server.database_url))
    with session_scope(factory) as session:
        tenant_id = session.scalars(select(Tenant.id).where(Tenant.name == DEMO_TENANT_NAME)).one()
        dead = OutboxEvent(
            tenant_id=tenant_id,
            event_id="browser-test-dead-letter",
            event_type="demo.ticked",
            handler="demo.log_tick",
            payload={"tenant_id": tenant_id, "sequence": -1},
            status=OutboxStatus.DEAD,
            attempts=8,
            available_at=utcnow(),
            created_at=utcnow(),
            last_error="ConnectionError: simulated outage",
        )
        session.add(dead)
        session.flush()
        dead_id = dead.id
    log_in(page)
    page.get_by_test_id("menu-system").click()
    table = page.get_by_test_id("dead-letter-table")
    expect(table).to_contain_text("simulated outage")
    page.get_by_test_id(f"dead-letter-replay-{dead_id}").click()
    page.get_by_test_id("confirm-ok").click()
    expect(page.get_by_test_id(f"dead-letter-replay-{dead_id}")).to_have_count(0, timeout=15_000)
    with factory() as session:
        assert session.get_one(OutboxEvent, dead_id).status in (OutboxStatus.PENDING, OutboxStatus.DONE)
