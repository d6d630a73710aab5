"""Form definitions: every problem of a draft comes back as a field error naming the field's index
and attribute; a valid draft compiles to JSON Schema + UI hints and back to the same fields."""

from __future__ import annotations

from typing import Any

import pytest

from scrm.forms.fields import check_fields, compile_fields, fields_of
from scrm.forms.regions import PROVINCE_NAMES
from tests.forms.helpers import every_type, label, registration


def errors_of(fields: Any) -> dict[str, str]:
    _, errors = check_fields(fields)
    return {error["field"]: error["code"] for error in errors}


def test_valid_drafts_compile_and_round_trip() -> None:
    for fields in (every_type(), registration()):
        specs, errors = check_fields(fields)
        assert errors == []
        schema, ui = compile_fields(specs)
        assert ui["order"] == [field["key"] for field in fields]
        again, errors = check_fields(fields_of(schema, ui))
        assert errors == [] and compile_fields(again) == (schema, ui)


def test_the_schema_is_json_schema_with_field_types_and_rules() -> None:
    schema, ui = compile_fields(check_fields(every_type() + registration()[3:4] + [
        {"key": "course", "type": "choice", "label": label("课程"), "required": True,
         "options": [{"value": "piano"}]},
    ])[0])  # fmt: skip
    props = schema["properties"]
    assert schema["$schema"].endswith("2020-12/schema") and schema["additionalProperties"] is False
    assert schema["required"] == ["course"]
    assert props["text"] == {"title": "姓名", "x-field": "text", "type": "string", "maxLength": 10}
    assert props["number"]["minimum"] == 1 and props["number"]["maximum"] == 99
    assert props["money"]["x-maximum"] == "1000.00" and props["money"]["format"] == "money"
    assert props["choice"]["enum"] == ["quality", "late"]
    assert props["multi_choice"]["items"]["enum"] == ["art", "math", "music"]
    assert props["multi_choice"]["maxItems"] == 2
    assert props["region"]["properties"]["province"]["enum"] == list(PROVINCE_NAMES)
    assert props["phone"]["format"] == "cn-mobile" and props["rating"]["maximum"] == 5
    assert props["has_piano"]["x-visible-if"] == {"field": "course", "op": "equals", "value": "piano"}
    assert ui["fields"]["choice"]["options"]["quality"] == {"zh-CN": "质量问题", "en": "Quality"}
    assert ui["fields"]["region"]["options"]["广东省"] == {"zh-CN": "广东省", "en": "Guangdong"}


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ([], {"fields": "no_fields"}),
        ("not a list", {"fields": "no_fields"}),
        ([{"key": "a", "type": "colour", "label": label("颜色")}], {"fields.0.type": "unknown_type"}),
        ([{"key": "A b", "type": "text", "label": label("甲")}], {"fields.0.key": "bad_key"}),
        (
            [{"key": "a", "type": "text", "label": label("甲"), "colour": "red"}],
            {"fields.0.colour": "extra_forbidden"},
        ),
        (
            [
                {"key": "a", "type": "text", "label": label("甲")},
                {"key": "a", "type": "date", "label": label("乙")},
            ],
            {"fields.1.key": "duplicate_key"},
        ),
        ([{"key": "a", "type": "choice", "label": label("甲")}], {"fields.0.options": "no_options"}),
        (
            [{"key": "a", "type": "multi_choice", "label": label("甲"), "options": []}],
            {"fields.0.options": "no_options"},
        ),
        (
            [
                {
                    "key": "a",
                    "type": "choice",
                    "label": label("甲"),
                    "options": [{"value": "x"}, {"value": "x"}],
                }
            ],
            {"fields.0.options": "duplicate_option"},
        ),
        (
            [
                {
                    "key": "a",
                    "type": "choice",
                    "label": label("甲"),
                    "options": [{"value": "x"}],
                    "widget": "slider",
                }
            ],
            {"fields.0.widget": "bad_widget"},
        ),
        (
            [{"key": "a", "type": "text", "label": label("甲"), "options": [{"value": "x"}]}],
            {"fields.0.options": "not_for_type"},
        ),
        ([{"key": "a", "type": "rating", "label": label("甲"), "max": 10}], {"fields.0.max": "not_for_type"}),
        (
            [{"key": "a", "type": "number", "label": label("甲"), "min": 5, "max": 1}],
            {"fields.0.max": "max_below_min"},
        ),
        (
            [{"key": "a", "type": "money", "label": label("甲"), "min": "-1"}],
            {"fields.0.min": "bad_money_bound"},
        ),
        (
            [{"key": "a", "type": "money", "label": label("甲"), "max": "1.005"}],
            {"fields.0.max": "bad_money_bound"},
        ),
        (
            [{"key": "a", "type": "text", "label": label("甲"), "max_length": 0}],
            {"fields.0.max_length": "bad_max_length"},
        ),
        (
            [{"key": "a", "type": "file", "label": label("甲"), "max_items": 50}],
            {"fields.0.max_items": "bad_max_items"},
        ),
        (
            [{"key": "a", "type": "text", "label": {"zh-CN": " ", "en": ""}}],
            {"fields.0.label": "label_missing"},
        ),
        (
            [
                {
                    "key": "a",
                    "type": "text",
                    "label": label("甲"),
                    "visible_if": {"field": "nope", "op": "filled"},
                }
            ],
            {"fields.0.visible_if.field": "missing_field"},
        ),
        (
            [
                {
                    "key": "a",
                    "type": "text",
                    "label": label("甲"),
                    "required_if": {"field": "a", "op": "filled"},
                }
            ],
            {"fields.0.required_if.field": "self_reference"},
        ),
        (
            [
                {"key": "a", "type": "choice", "label": label("甲"), "options": [{"value": "x"}]},
                {
                    "key": "b",
                    "type": "text",
                    "label": label("乙"),
                    "visible_if": {"field": "a", "op": "equals", "value": "y"},
                },
            ],
            {"fields.1.visible_if.value": "value_not_option"},
        ),
        (
            [
                {"key": "a", "type": "text", "label": label("甲")},
                {
                    "key": "b",
                    "type": "text",
                    "label": label("乙"),
                    "visible_if": {"field": "a", "op": "in", "value": "x"},
                },
            ],
            {"fields.1.visible_if.value": "value_list"},
        ),
        (
            [
                {"key": "a", "type": "region", "label": label("甲")},
                {
                    "key": "b",
                    "type": "text",
                    "label": label("乙"),
                    "visible_if": {"field": "a", "op": "equals", "value": "x"},
                },
            ],
            {"fields.1.visible_if.op": "op_filled_only"},
        ),
        (
            [
                {
                    "key": "a",
                    "type": "text",
                    "label": label("甲"),
                    "visible_if": {"field": "b", "op": "filled"},
                },
                {
                    "key": "b",
                    "type": "text",
                    "label": label("乙"),
                    "visible_if": {"field": "a", "op": "filled"},
                },
            ],
            {"fields.0.visible_if.field": "rule_cycle", "fields.1.visible_if.field": "rule_cycle"},
        ),
        (
            [{"key": "a", "type": "text", "label": label("甲"), "visible_if": {"field": "a", "op": "maybe"}}],
            {"fields.0.visible_if.op": "literal_error"},
        ),
    ],
)
def test_every_problem_of_a_draft_is_a_field_error(fields: Any, expected: dict[str, str]) -> None:
    assert errors_of(fields) == expected


def test_all_problems_are_reported_at_once_with_bilingual_messages() -> None:
    _, errors = check_fields(
        [
            {"key": "a", "type": "colour", "label": label("甲")},
            {"key": "b", "type": "choice", "label": label("乙")},
            {"key": "c", "type": "text", "label": label("丙"), "visible_if": {"field": "zz", "op": "filled"}},
        ]
    )
    assert [error["field"] for error in errors] == [
        "fields.0.type",
        "fields.1.options",
        "fields.2.visible_if.field",
    ]
    missing = errors[2]
    assert missing["message"] == "规则引用的字段不存在：zz / The rule names a missing field: zz"
    assert missing["context"] == {"key": "zz"}


def test_too_many_fields() -> None:
    fields = [{"key": f"f{index}", "type": "text", "label": label("字段")} for index in range(101)]
    assert errors_of(fields) == {"fields": "too_many_fields"}
