"""Custom forms in a real browser: the owner builds a registration form by dragging field types from
the palette onto the canvas (one dropped above another, one card dragged to the top), edits the
fields' properties, adds a "create a ticket" action and saves version 1; dragging in one more field
and saving makes version 2, listed in the version history. On the public page (no login) a visitor
sends a bad mobile number and sees the server's error on that field, then sends valid answers and the
ticket exists."""

from __future__ import annotations

import re
import uuid
from typing import Any

import httpx
import pytest
from playwright.sync_api import Locator, Page, expect

from tests.browser.conftest import LiveServer
from tests.browser.test_wecom_console import api_token, log_in, watch_console

pytestmark = pytest.mark.browser


def drag(page: Page, source: Locator, target: Locator, *, where: str = "middle") -> None:
    """Drag `source` onto `target` with the mouse, as a person would: press, move a little (dnd-kit
    starts a drag after 5 px), glide to the target, pause over it, release."""
    source.scroll_into_view_if_needed()
    start = source.bounding_box()
    assert start is not None
    x, y = start["x"] + start["width"] / 2, start["y"] + start["height"] / 2
    page.mouse.move(x, y)
    page.mouse.down()
    page.mouse.move(x + 8, y + 8, steps=4)
    page.wait_for_timeout(50)
    end = target.bounding_box()
    assert end is not None
    share = {"top": 0.2, "middle": 0.5, "bottom": 0.8}[where]
    page.mouse.move(end["x"] + end["width"] / 2, end["y"] + end["height"] * share, steps=15)
    page.wait_for_timeout(100)
    page.mouse.up()


def canvas_cards(page: Page) -> Locator:
    return page.locator("[data-testid='form-canvas'] .form-canvas-card")


def canvas_keys(page: Page) -> list[str]:
    ids = canvas_cards(page).evaluate_all("els => els.map(e => e.dataset.testid)")
    return [str(key).removeprefix("canvas-field-") for key in ids]


def tickets_titled(live_server: LiveServer, title: str) -> list[dict[str, Any]]:
    headers = {"Authorization": f"Bearer {api_token(live_server)}"}
    answer = httpx.get(f"{live_server}/api/v1/tickets", params={"limit": 200}, headers=headers, timeout=30)
    answer.raise_for_status()
    return [ticket for ticket in answer.json()["items"] if ticket["title"] == title]


def test_build_a_form_by_dragging_then_fill_it_in_publicly(page: Page, live_server: LiveServer) -> None:
    errors = watch_console(page, live_server)
    suffix = uuid.uuid4().hex[:6]
    log_in(page)
    page.get_by_test_id("menu-forms").click()
    expect(page).to_have_url(re.compile(r"/forms$"))
    page.get_by_test_id("form-create").click()
    page.get_by_test_id("form-name").fill(f"美术班报名{suffix}")

    canvas = page.get_by_test_id("form-canvas")
    drag(page, page.get_by_test_id("palette-text"), canvas)
    expect(page.get_by_test_id("canvas-field-text")).to_be_visible()
    drag(page, page.get_by_test_id("palette-phone"), page.get_by_test_id("form-canvas-tail"))
    expect(page.get_by_test_id("canvas-field-phone")).to_be_visible()
    # Dropped on the upper part of the first card: it goes above it.
    drag(page, page.get_by_test_id("palette-choice"), page.get_by_test_id("canvas-field-text"), where="top")
    expect(page.get_by_test_id("canvas-field-choice")).to_be_visible()
    assert canvas_keys(page) == ["choice", "text", "phone"]
    # Reorder: the mobile field to the top.
    drag(
        page,
        page.get_by_test_id("canvas-field-phone"),
        page.get_by_test_id("canvas-field-choice"),
        where="top",
    )
    expect(canvas_cards(page).first).to_have_attribute("data-testid", "canvas-field-phone")
    assert canvas_keys(page) == ["phone", "choice", "text"]

    # Properties: the text field becomes the required student name; the mobile number is required.
    page.get_by_test_id("canvas-field-label-text").click()
    page.get_by_test_id("prop-key").fill("name")
    page.get_by_test_id("prop-label-zh").fill("学员姓名")
    page.get_by_test_id("prop-label-en").fill("Student")
    page.get_by_test_id("prop-required").click()
    page.get_by_test_id("canvas-field-label-phone").click()
    page.get_by_test_id("prop-label-zh").fill("家长手机")
    page.get_by_test_id("prop-required").click()
    expect(page.get_by_test_id("canvas-field-label-phone")).to_have_text("家长手机")

    # After submission: open a ticket titled with the student's name.
    page.get_by_test_id("tab-actions").click()
    page.get_by_test_id("form-action-add-ticket").click()
    page.get_by_test_id("form-action-0-ticket-type").fill("enrolment")
    page.get_by_test_id("form-action-0-title").fill("{name} 报名美术班")
    expect(page.get_by_test_id("form-draft-status")).to_have_attribute("data-valid", "true")

    page.get_by_test_id("form-save").click()
    expect(page.get_by_test_id("form-version")).to_have_text("版本 1")
    expect(page).to_have_url(re.compile(r"/forms/\d+$"))

    # One more field makes version 2.
    drag(page, page.get_by_test_id("palette-textarea"), page.get_by_test_id("form-canvas-tail"))
    expect(page.get_by_test_id("canvas-field-textarea")).to_be_visible()
    page.get_by_test_id("form-save").click()
    expect(page.get_by_test_id("form-version")).to_have_text("版本 2")
    page.get_by_test_id("form-versions-open").click()
    expect(page.get_by_test_id("form-version-row-2")).to_be_visible()
    expect(page.get_by_test_id("form-version-row-1")).to_be_visible()
    page.get_by_test_id("form-version-view-1").click()
    expect(page.get_by_test_id("version-field-name")).to_be_visible()
    expect(page.get_by_test_id("version-field-textarea")).to_have_count(0)

    # The public page, without the console's login.
    public_url = page.get_by_test_id("form-public-link").get_attribute("href")
    assert public_url and public_url.startswith("/f/")
    visitor = page.context.browser.new_page()  # type: ignore[union-attr]
    errors += watch_console(visitor, live_server)
    visitor.goto(f"{live_server}{public_url}")
    expect(visitor.get_by_test_id("public-form-title")).to_have_text(f"美术班报名{suffix}")
    student = f"小明{suffix}"
    visitor.get_by_test_id("public-field-input-name").fill(student)
    visitor.get_by_test_id("public-field-input-phone").fill("12345")
    visitor.get_by_test_id("public-field-choice").get_by_text("选项一").click()
    visitor.get_by_test_id("public-field-submit").click()
    expect(visitor.get_by_test_id("public-field-phone")).to_contain_text("请输入有效的中国大陆手机号")
    expect(visitor.get_by_test_id("public-form-error")).to_be_visible()
    assert tickets_titled(live_server, f"{student} 报名美术班") == []

    visitor.get_by_test_id("public-field-input-phone").fill("13800138000")
    visitor.get_by_test_id("public-field-submit").click()
    expect(visitor.get_by_test_id("public-form-done")).to_be_visible()
    made = tickets_titled(live_server, f"{student} 报名美术班")
    assert len(made) == 1 and made[0]["source"] == "form" and made[0]["ticket_type"] == "enrolment"
    assert made[0]["custom"] == {"name": student, "phone": "13800138000", "choice": "option_1"}

    # The submission is listed with its ticket.
    page.keyboard.press("Escape")
    page.goto(f"{live_server}/forms/{page.url.rsplit('/', 1)[-1]}/submissions")
    expect(page.get_by_test_id(f"submission-ticket-{made[0]['id']}")).to_be_visible()
    visitor.close()
    assert [e for e in errors if not re.search(r"\b422\b", e)] == []
