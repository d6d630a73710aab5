"""Submitted data against a compiled form: every field type accepted and refused, values normalised,
unknown fields refused, and the rules (a hidden field is neither validated nor kept; required_if)."""

from __future__ import annotations

from typing import Any

import pytest

from scrm.forms.fields import check_fields, compile_fields
from scrm.forms.validation import validate_data
from tests.forms.helpers import every_type, registration


def schema_of(fields: list[dict[str, Any]]) -> dict[str, Any]:
    specs, errors = check_fields(fields)
    assert errors == []
    return compile_fields(specs)[0]


EVERY = schema_of(every_type())
REGISTRATION = schema_of(registration())


@pytest.mark.parametrize(
    ("key", "value", "stored"),
    [
        ("text", "  王小明 ", "王小明"),
        ("textarea", "口红断了\n包装破损", "口红断了\n包装破损"),
        ("number", 3, 3),
        ("number", 98.5, 98.5),
        ("money", "12", "12.00"),
        ("money", "0.5", "0.50"),
        ("money", "1000.00", "1000.00"),
        ("date", "2026-02-28", "2026-02-28"),
        ("choice", "late", "late"),
        ("multi_choice", ["math", "art"], ["math", "art"]),
        (
            "region",
            {"province": "广东省", "city": " 深圳市 ", "district": "南山区"},
            {"province": "广东省", "city": "深圳市", "district": "南山区"},
        ),
        ("region", {"province": "北京市", "city": ""}, {"province": "北京市"}),
        ("phone", "13800138000", "13800138000"),
        ("phone", "+86 138-0013-8000", "13800138000"),
        ("file", [3, 7], [3, 7]),
        ("rating", 5, 5),
        ("rating", 1, 1),
        ("consent", True, True),
        ("consent", False, False),
    ],
)
def test_each_type_accepts_and_normalises(key: str, value: Any, stored: Any) -> None:
    cleaned, errors = validate_data(EVERY, {key: value})
    assert errors == [] and cleaned == {key: stored}


@pytest.mark.parametrize(
    ("key", "value", "code"),
    [
        ("text", 42, "not_text"),
        ("text", "一二三四五六七八九十十", "too_long"),
        ("number", "3", "not_number"),
        ("number", True, "not_number"),
        ("number", 0, "below_minimum"),
        ("number", 100, "above_maximum"),
        ("money", 12.5, "not_money"),
        ("money", "-1", "not_money"),
        ("money", "1.234", "not_money"),
        ("money", "12,00", "not_money"),
        ("money", "1000.01", "above_maximum"),
        ("date", "2026-02-30", "not_date"),
        ("date", "28/02/2026", "not_date"),
        ("date", 20260228, "not_date"),
        ("choice", "other", "not_option"),
        ("choice", ["late"], "not_option"),
        ("multi_choice", ["art", "art"], "not_options"),
        ("multi_choice", ["dance"], "not_options"),
        ("multi_choice", "art", "not_options"),
        ("multi_choice", ["art", "math", "music"], "too_many_items"),
        ("region", "广东省深圳市", "not_region"),
        ("region", {"city": "深圳市"}, "not_region"),
        ("region", {"province": "广东省", "street": "科技园"}, "not_region"),
        ("region", {"province": "加利福尼亚"}, "unknown_province"),
        ("region", {"province": "广东省", "city": "深" * 51}, "too_long"),
        ("phone", "12345678901", "not_phone"),
        ("phone", "1380013800", "not_phone"),
        ("phone", "010-12345678", "not_phone"),
        ("phone", 13800138000, "not_phone"),
        ("file", [1, 1], "not_files"),
        ("file", [0], "not_files"),
        ("file", ["a.png"], "not_files"),
        ("file", [True], "not_files"),
        ("file", [1, 2, 3, 4], "too_many_items"),
        ("rating", 0, "not_rating"),
        ("rating", 6, "not_rating"),
        ("rating", 4.5, "not_rating"),
        ("consent", "yes", "not_boolean"),
    ],
)
def test_each_type_refuses_with_one_field_error(key: str, value: Any, code: str) -> None:
    cleaned, errors = validate_data(EVERY, {key: value})
    assert cleaned == {}
    assert [(error["field"], error["code"]) for error in errors] == [(key, code)]
    assert " / " in errors[0]["message"]  # Chinese, then English


def test_empty_optional_fields_are_dropped_and_unknown_fields_refused() -> None:
    cleaned, errors = validate_data(EVERY, {"text": "", "file": [], "region": None, "consent": False})
    assert errors == [] and cleaned == {"consent": False}
    _, errors = validate_data(EVERY, {"text": "好", "colour": "red", "size": 1})
    assert [(error["field"], error["code"]) for error in errors] == [
        ("colour", "unknown_field"),
        ("size", "unknown_field"),
    ]
    _, errors = validate_data(EVERY, ["text"])
    assert [error["code"] for error in errors] == ["not_object"]


def valid_registration(**changes: Any) -> dict[str, Any]:
    return {"name": "王小明", "phone": "13800138000", "course": "art", "agree": True} | changes


def test_required_fields_and_required_consent() -> None:
    cleaned, errors = validate_data(REGISTRATION, valid_registration())
    assert errors == [] and cleaned == valid_registration()
    _, errors = validate_data(REGISTRATION, {"name": "  ", "course": "art", "agree": False})
    assert {error["field"]: error["code"] for error in errors} == {
        "name": "required",
        "phone": "required",
        "agree": "consent_required",
    }


def test_a_hidden_field_is_not_validated_and_not_kept() -> None:
    cleaned, errors = validate_data(REGISTRATION, valid_registration(has_piano="maybe"))
    assert errors == [] and "has_piano" not in cleaned


def test_a_shown_field_is_validated_and_required_when_its_rule_holds() -> None:
    _, errors = validate_data(REGISTRATION, valid_registration(course="piano"))
    assert [(error["field"], error["code"]) for error in errors] == [("has_piano", "required")]
    _, errors = validate_data(REGISTRATION, valid_registration(course="piano", has_piano="maybe"))
    assert [(error["field"], error["code"]) for error in errors] == [("has_piano", "not_option")]
    cleaned, errors = validate_data(REGISTRATION, valid_registration(course="piano", has_piano="no"))
    assert errors == [] and cleaned["has_piano"] == "no"


def test_required_if_filled_follows_the_consent_box() -> None:
    _, errors = validate_data(REGISTRATION, valid_registration(promotions=True))
    assert [(error["field"], error["code"]) for error in errors] == [("wechat", "required")]
    cleaned, errors = validate_data(REGISTRATION, valid_registration(promotions=False))
    assert errors == [] and cleaned["promotions"] is False
    cleaned, errors = validate_data(REGISTRATION, valid_registration(promotions=True, wechat="wxid_1"))
    assert errors == [] and cleaned["wechat"] == "wxid_1"


def test_rules_chain_through_hidden_fields() -> None:
    schema = schema_of(
        [
            {
                "key": "kind",
                "type": "choice",
                "label": {"zh-CN": "类型"},
                "options": [{"value": "a"}, {"value": "b"}],
            },
            {
                "key": "detail",
                "type": "text",
                "label": {"zh-CN": "详情"},
                "visible_if": {"field": "kind", "op": "equals", "value": "a"},
            },
            {
                "key": "more",
                "type": "text",
                "label": {"zh-CN": "补充"},
                "required": True,
                "visible_if": {"field": "detail", "op": "filled"},
            },
        ]
    )
    # `detail` is hidden (kind b), so `more`, which shows when detail is filled, is hidden too.
    cleaned, errors = validate_data(schema, {"kind": "b", "detail": "sent anyway"})
    assert errors == [] and cleaned == {"kind": "b"}
    _, errors = validate_data(schema, {"kind": "a", "detail": "x"})
    assert [(error["field"], error["code"]) for error in errors] == [("more", "required")]


def test_in_and_multi_choice_conditions() -> None:
    schema = schema_of(
        [
            {
                "key": "tags",
                "type": "multi_choice",
                "label": {"zh-CN": "问题"},
                "options": [{"value": "broken"}, {"value": "late"}, {"value": "wrong"}],
            },
            {
                "key": "photo",
                "type": "file",
                "label": {"zh-CN": "照片"},
                "required_if": {"field": "tags", "op": "in", "value": ["broken", "wrong"]},
            },
            {
                "key": "days",
                "type": "number",
                "label": {"zh-CN": "延误天数"},
                "required_if": {"field": "tags", "op": "equals", "value": "late"},
            },
        ]
    )
    _, errors = validate_data(schema, {"tags": ["late", "wrong"]})
    assert {error["field"] for error in errors} == {"photo", "days"}
    cleaned, errors = validate_data(schema, {"tags": ["late"], "days": 2})
    assert errors == [] and cleaned == {"tags": ["late"], "days": 2}


def test_field_names_carry_a_prefix_for_tickets() -> None:
    _, errors = validate_data(EVERY, {"phone": "123", "colour": 1}, prefix="custom.")
    assert {error["field"] for error in errors} == {"custom.phone", "custom.colour"}
