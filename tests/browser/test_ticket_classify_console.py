"""Ticket classification's console pages in a real browser: 分类规则, 智能分类 and 待分拣.

The owner adds a keyword rule in the drawer (its name clashing with an existing one is refused on the
name field), tries a message on it (the rule's reason, the urgent priority), trains the classifier on
the built-in seed data and watches the training's progress until the new model version shows with its
held-out accuracy above the majority baseline, then works the triage queue: one ticket confirmed in
one click, another corrected to a different category and priority; both leave the queue and the
server kept the corrections. The pages speak English too.

The live server is shared with the other browser tests: the rule's phrase is unique to this run, and
the model, rules, settings and corrections are removed afterwards so no later test sees tickets
classified by a model it did not ask for.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import delete

from scrm.core.db import make_engine
from scrm.tickets.classify.models import (
    ClassificationCorrection,
    ClassificationRule,
    ClassifierModel,
    ClassifierSettings,
)
from tests.browser.conftest import LiveServer
from tests.browser.test_wecom_console import api_token, log_in, watch_console

pytestmark = pytest.mark.browser
TRAINING_TIMEOUT_MS = 60_000


def _api(live_server: LiveServer, method: str, path: str, **kwargs: Any) -> Any:
    headers = {"Authorization": f"Bearer {api_token(live_server)}"}
    answer = httpx.request(method, f"{live_server}{path}", headers=headers, timeout=30, **kwargs)
    answer.raise_for_status()
    return answer.json() if answer.content else None


@pytest.fixture
def clean_classification(live_server: LiveServer) -> Iterator[None]:
    yield
    engine = make_engine(live_server.database_url)
    try:
        with engine.begin() as connection:
            for model in (ClassificationCorrection, ClassifierModel, ClassificationRule, ClassifierSettings):
                connection.execute(delete(model))
    finally:
        engine.dispose()


def _percent(text: str) -> float:
    match = re.search(r"([\d.]+)%", text)
    assert match, text
    return float(match.group(1))


def _expected_errors(errors: list[str]) -> list[str]:
    """Console errors left once the browser's notes of the deliberate 409 are removed."""
    return [e for e in errors if not (re.search(r"\b409\b", e) and "/api/v1/tickets/" in e)]


def test_rules_training_and_triage_in_the_console(
    page: Page, live_server: LiveServer, clean_classification: None
) -> None:
    errors = watch_console(page, live_server)
    suffix = uuid.uuid4().hex[:6]
    phrase = f"订单丢失{suffix}"
    rule_name = f"丢件升级{suffix}"
    log_in(page)

    # 分类规则: a new rule from the drawer.
    page.get_by_test_id("menu-ticket-rules").click()
    expect(page).to_have_url(re.compile(r"/tickets/classification-rules$"))
    expect(page.get_by_test_id("page-title")).to_have_text("分类规则")
    page.get_by_test_id("rule-add").click()
    page.get_by_test_id("rule-name").fill(rule_name)
    page.get_by_test_id("rule-phrases").locator("input").fill(phrase)
    page.keyboard.press("Enter")
    page.get_by_test_id("rule-category").locator("input").fill("丢件/未收到")
    page.get_by_test_id("rule-urgent").check()
    page.get_by_test_id("rule-chat").check()
    page.get_by_test_id("rule-save").click()
    expect(page.locator(".ant-message")).to_contain_text(f"已创建规则「{rule_name}」")
    rules = _api(live_server, "GET", "/api/v1/tickets/classifier/rules")
    rule = next(r for r in rules if r["name"] == rule_name)
    assert rule["phrases"] == [phrase] and rule["category"] == "丢件/未收到"
    assert rule["urgent"] and rule["creates_ticket_from_chat"] and rule["enabled"]
    expect(page.get_by_test_id(f"rule-name-{rule['id']}")).to_have_text(rule_name)

    # The same name again is refused on the name field.
    page.get_by_test_id("rule-add").click()
    page.get_by_test_id("rule-name").fill(rule_name)
    page.get_by_test_id("rule-phrases").locator("input").fill("别的词")
    page.keyboard.press("Enter")
    page.get_by_test_id("rule-category").locator("input").fill("投诉")
    page.get_by_test_id("rule-save").click()
    taken = page.locator(".ant-form-item").filter(has=page.get_by_test_id("rule-name"))
    expect(taken.locator(".ant-form-item-explain-error")).to_have_text("名称已被使用")
    page.keyboard.press("Escape")
    assert len(_api(live_server, "GET", "/api/v1/tickets/classifier/rules")) == len(rules)

    # 试一试: the rule's reason and the urgent priority.
    page.get_by_test_id("rule-test-text").fill(f"快递一直没到，{phrase}了吧")
    page.get_by_test_id("rule-test-run").click()
    expect(page.get_by_test_id("rule-test-hit")).to_contain_text(f"规则「{rule_name}」命中")
    expect(page.get_by_test_id("rule-test-category")).to_have_text("丢件/未收到")
    expect(page.get_by_test_id("rule-test-priority")).to_have_text("紧急")

    # 智能分类: train on the built-in seed data, watch the progress to the new version.
    page.get_by_test_id("menu-ticket-classifier").click()
    expect(page.get_by_test_id("page-title")).to_have_text("智能分类")
    page.get_by_test_id("training-source").click()
    page.locator(".ant-select-item-option").filter(has_text="内置示例数据").click()
    page.get_by_test_id("training-start").click()
    expect(page.locator(".ant-message")).to_contain_text("已开始训练")
    current = page.get_by_test_id("training-current")
    expect(current).to_have_attribute("data-status", "succeeded", timeout=TRAINING_TIMEOUT_MS)
    expect(page.get_by_test_id("training-succeeded")).to_contain_text("已训练完成")
    models = _api(live_server, "GET", "/api/v1/tickets/classifier/models")
    active = next(m for m in models if m["active"])
    version = active["version"]
    accuracy = _percent(page.get_by_test_id(f"model-accuracy-{version}").inner_text())
    baseline = _percent(page.get_by_test_id(f"model-baseline-{version}").inner_text())
    assert accuracy == pytest.approx(active["accuracy"] * 100, abs=0.1)
    assert accuracy > baseline + 30, (accuracy, baseline)
    expect(page.get_by_test_id(f"model-version-{version}")).to_contain_text("使用中")

    # Two tickets the model is unsure about, and one the rule decides (not in triage).
    first = _api(live_server, "POST", "/api/v1/tickets", json={"title": f"嗯嗯好的 {suffix}"})
    second = _api(live_server, "POST", "/api/v1/tickets", json={"title": f"在吗在吗 {suffix}"})
    ruled = _api(live_server, "POST", "/api/v1/tickets", json={"title": f"{phrase}，快处理"})
    assert first["needs_triage"] and second["needs_triage"], (first, second)
    assert (ruled["category"], ruled["priority"], ruled["needs_triage"]) == ("丢件/未收到", "urgent", False)

    # 待分拣: confirm one in one click, correct the other.
    page.get_by_test_id("menu-ticket-triage").click()
    expect(page.get_by_test_id("page-title")).to_have_text("待分拣")
    first_row = page.locator(f"tr[data-row-key='{first['id']}']")
    second_row = page.locator(f"tr[data-row-key='{second['id']}']")
    expect(first_row).to_be_visible()
    expect(second_row).to_be_visible()
    expect(page.locator(f"tr[data-row-key='{ruled['id']}']")).to_have_count(0)
    expect(page.get_by_test_id(f"triage-predicted-{first['id']}")).to_have_text(first["category"])
    expect(page.get_by_test_id(f"triage-confidence-{first['id']}")).to_contain_text("%")
    page.get_by_test_id(f"triage-confirm-{first['id']}").click()
    expect(page.locator(".ant-message")).to_contain_text(f"已确认工单 #{first['id']} 的分类")
    expect(first_row).to_have_count(0)

    corrected_to = "发票" if second["category"] != "发票" else "物流查询"
    page.get_by_test_id(f"triage-category-{second['id']}").locator("input").fill(corrected_to)
    page.get_by_test_id("page-title").click()  # closes the suggestions, which may cover the next select
    page.get_by_test_id(f"triage-priority-{second['id']}").click()
    page.locator(".ant-select-dropdown:visible .ant-select-item-option").filter(has_text="高").click()
    page.get_by_test_id(f"triage-correct-{second['id']}").click()
    expect(page.locator(".ant-message")).to_contain_text(f"工单 #{second['id']} 已改为「{corrected_to}」")
    expect(second_row).to_have_count(0)

    confirmed = _api(live_server, "GET", f"/api/v1/tickets/{first['id']}")
    assert (confirmed["category"], confirmed["classified_by"], confirmed["needs_triage"]) == (
        first["category"],
        "agent",
        False,
    )
    corrected = _api(live_server, "GET", f"/api/v1/tickets/{second['id']}")
    assert (corrected["category"], corrected["priority"]) == (corrected_to, "high")
    kept = _api(live_server, "GET", f"/api/v1/tickets/{second['id']}/classification/corrections")
    assert [(c["predicted_category"], c["corrected_category"]) for c in kept] == [
        (second["category"], corrected_to)
    ]

    # In English.
    page.get_by_test_id("lang-switch").click()
    expect(page.get_by_test_id("page-title")).to_have_text("Triage")
    expect(page.get_by_test_id("menu-ticket-triage")).to_have_text("Triage")
    expect(page.get_by_test_id("menu-ticket-classifier")).to_have_text("Smart classification")
    page.get_by_test_id("menu-ticket-rules").click()
    expect(page.get_by_test_id("page-title")).to_have_text("Classification rules")
    expect(page.get_by_test_id("rules-table").locator("thead")).to_contain_text("Keywords / phrases")
    page.get_by_test_id("menu-ticket-classifier").click()
    expect(page.get_by_test_id(f"model-version-{version}")).to_contain_text("In use")
    assert not _expected_errors(errors), errors
