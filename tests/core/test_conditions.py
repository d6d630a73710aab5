"""The condition language: parsing, validation errors with paths, the Python evaluator's semantics."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from scrm.core.conditions import (
    AllOf,
    Clause,
    ConditionError,
    Field,
    FieldRegistry,
    FieldType,
    Op,
    TimeContext,
    condition_to_json,
    evaluate,
    explain,
    parse_condition,
)

NOW = datetime(2026, 3, 15, 4, 0, tzinfo=UTC)  # 12:00 in Shanghai
CONTEXT = TimeContext(now=NOW)


def registry() -> FieldRegistry:
    return FieldRegistry(
        [
            Field("tags", FieldType.ID_SET, "标签", "Tags"),
            Field("staff", FieldType.STRING_SET, "跟进员工", "Staff"),
            Field("store", FieldType.STRING, "门店", "Store"),
            Field("channel", FieldType.ID, "渠道", "Channel"),
            Field("spent", FieldType.NUMBER, "消费", "Spent"),
            Field("vip", FieldType.BOOLEAN, "会员", "VIP"),
            Field("birthday", FieldType.DATE, "生日", "Birthday"),
            Field("added_at", FieldType.DATETIME, "添加时间", "Added"),
            Field(
                "order_count",
                FieldType.NUMBER,
                "订单数",
                "Orders",
                available=False,
                unavailable_reason="order aggregates arrive with the commerce module",
            ),
        ]
    )


def check(condition: Any, record: dict[str, Any]) -> bool:
    fields = registry()
    return evaluate(parse_condition(condition, fields), record, fields, CONTEXT)


def issues(condition: Any) -> list[tuple[str, str]]:
    with pytest.raises(ConditionError) as caught:
        parse_condition(condition, registry())
    return [(issue.path, issue.message) for issue in caught.value.issues]


def test_nested_all_any_not() -> None:
    condition = {
        "all": [
            {"field": "tags", "op": "contains_all", "value": [1, 2]},
            {
                "any": [
                    {"field": "store", "op": "eq", "value": "徐汇店"},
                    {"field": "spent", "op": "gt", "value": 500},
                ]
            },
            {"not": {"field": "tags", "op": "contains_any", "value": [9]}},
        ]
    }
    assert check(condition, {"tags": {1, 2, 3}, "store": "徐汇店"})
    assert check(condition, {"tags": [1, 2], "spent": 800})
    assert not check(condition, {"tags": {1, 2, 9}, "store": "徐汇店"})
    assert not check(condition, {"tags": {1}, "store": "徐汇店"})
    assert not check(condition, {"tags": {1, 2}, "store": "西湖店", "spent": 10})


def test_empty_combinators() -> None:
    assert check({"all": []}, {})
    assert not check({"any": []}, {})
    assert check({"not": {"any": []}}, {})


def test_unset_values_satisfy_only_the_negative_operators() -> None:
    empty: dict[str, Any] = {}
    assert check({"field": "store", "op": "ne", "value": "x"}, empty)
    assert check({"field": "store", "op": "not_in", "value": ["x"]}, empty)
    assert check({"field": "store", "op": "not_set"}, empty)
    assert check({"field": "tags", "op": "contains_none", "value": [1]}, empty)
    assert check({"field": "tags", "op": "not_set"}, empty)
    for condition in (
        {"field": "store", "op": "eq", "value": "x"},
        {"field": "store", "op": "in", "value": ["x"]},
        {"field": "spent", "op": "lt", "value": 10},
        {"field": "spent", "op": "between", "value": [0, 10]},
        {"field": "added_at", "op": "before", "value": "2030-01-01"},
        {"field": "added_at", "op": "within_last", "value": "30d"},
        {"field": "vip", "op": "eq", "value": False},
        {"field": "tags", "op": "contains_any", "value": [1]},
        {"field": "tags", "op": "is_set"},
    ):
        assert not check(condition, empty), condition
        # `not` is exact: the negation of a failing clause holds.
        assert check({"not": condition}, empty), condition


def test_numbers_and_ids() -> None:
    assert check({"field": "spent", "op": "between", "value": [100, 200]}, {"spent": 200})
    assert check({"field": "spent", "op": "between", "value": [100, 200]}, {"spent": 100.0})
    assert not check({"field": "spent", "op": "between", "value": [100, 200]}, {"spent": 200.5})
    assert check({"field": "spent", "op": "gte", "value": 100}, {"spent": 100})
    assert not check({"field": "spent", "op": "gt", "value": 100}, {"spent": 100})
    assert check({"field": "channel", "op": "in", "value": [3, 4]}, {"channel": 4})
    assert check({"field": "vip", "op": "ne", "value": True}, {"vip": False})


def test_set_operators() -> None:
    record = {"tags": {1, 2}, "staff": {"zhangsan"}}
    assert check({"field": "tags", "op": "contains_all", "value": [1, 2]}, record)
    assert not check({"field": "tags", "op": "contains_all", "value": [1, 3]}, record)
    assert check({"field": "tags", "op": "contains_any", "value": [3, 2]}, record)
    assert check({"field": "tags", "op": "contains_none", "value": [3, 4]}, record)
    assert check({"field": "staff", "op": "contains_any", "value": ["zhangsan", "lisi"]}, record)
    assert check({"field": "staff", "op": "is_set"}, record)


def test_absolute_dates_are_whole_days_in_the_time_zone() -> None:
    # 2026-03-01 in Shanghai is [2026-02-28T16:00Z, 2026-03-01T16:00Z).
    first_minute = datetime(2026, 2, 28, 16, 0, tzinfo=UTC)
    last_minute = datetime(2026, 3, 1, 15, 59, tzinfo=UTC)
    next_day = datetime(2026, 3, 1, 16, 0, tzinfo=UTC)
    day = "2026-03-01"
    for moment, on_the_day in ((first_minute, True), (last_minute, True), (next_day, False)):
        record = {"added_at": moment}
        assert check({"field": "added_at", "op": "between", "value": [day, day]}, record) is on_the_day
        assert check({"field": "added_at", "op": "lte", "value": day}, record) is on_the_day
        assert check({"field": "added_at", "op": "after", "value": day}, record) is not on_the_day
    assert check(
        {"field": "added_at", "op": "before", "value": day}, {"added_at": first_minute - timedelta(seconds=1)}
    )
    assert not check({"field": "added_at", "op": "before", "value": day}, {"added_at": first_minute})
    assert check({"field": "added_at", "op": "gte", "value": day}, {"added_at": first_minute})


def test_relative_values_and_windows() -> None:
    assert check(
        {"field": "added_at", "op": "within_last", "value": "30d"}, {"added_at": NOW - timedelta(days=30)}
    )
    assert not check(
        {"field": "added_at", "op": "within_last", "value": "30d"},
        {"added_at": NOW - timedelta(days=30, microseconds=1)},
    )
    assert check(
        {"field": "added_at", "op": "within_next", "value": "2w"}, {"added_at": NOW + timedelta(days=14)}
    )
    assert check(
        {"field": "added_at", "op": "before", "value": "30d"}, {"added_at": NOW - timedelta(days=31)}
    )
    assert check(
        {"field": "added_at", "op": "before", "value": "-30d"}, {"added_at": NOW - timedelta(days=31)}
    )
    assert check({"field": "added_at", "op": "after", "value": "+1h"}, {"added_at": NOW + timedelta(hours=2)})
    # Instants with an offset, and without one (read in the context's time zone).
    assert check(
        {"field": "added_at", "op": "after", "value": "2026-03-15T11:00:00+08:00"}, {"added_at": NOW}
    )
    assert not check({"field": "added_at", "op": "after", "value": "2026-03-15T12:00:00"}, {"added_at": NOW})
    # Dates (calendar days) count from today in the time zone.
    assert check({"field": "birthday", "op": "within_next", "value": "7d"}, {"birthday": date(2026, 3, 22)})
    assert not check({"field": "birthday", "op": "within_next", "value": "7d"}, {"birthday": "2026-03-23"})
    assert check({"field": "birthday", "op": "before", "value": "2026-03-01"}, {"birthday": "2026-02-28"})
    assert check({"field": "birthday", "op": "lte", "value": "0d"}, {"birthday": "2026-03-15"})


def test_every_problem_is_reported_with_its_path() -> None:
    found = issues(
        {
            "all": [
                {"field": "nope", "op": "eq", "value": 1},
                {"field": "tags", "op": "gt", "value": 3},
                {"any": [{"field": "spent", "op": "between", "value": [5, 1]}]},
                {"field": "added_at", "op": "before", "value": "yesterday"},
                {"not": {"field": "store", "op": "is_set", "value": "x"}},
                {"field": "order_count", "op": "gt", "value": 1},
                {"field": "birthday", "op": "within_last", "value": "12h"},
                {"field": "tags", "op": "contains_all", "value": []},
                {"field": "tags", "op": "contains_all", "value": ["1"]},
                {"field": "vip", "op": "eq", "value": 1},
                {"field": "store", "op": "like", "value": "x"},
            ]
        }
    )
    paths = [path for path, _ in found]
    assert paths == [
        "all[0].field",
        "all[1].op",
        "all[2].any[0].value",
        "all[3].value",
        "all[4].not.value",
        "all[5].field",
        "all[6].value",
        "all[7].value",
        "all[8].value",
        "all[9].value",
        "all[10].op",
    ]
    messages = dict(found)
    assert "unknown field 'nope'" in messages["all[0].field"]
    assert "does not apply to id_set field 'tags'" in messages["all[1].op"]
    assert "low <= high" in messages["all[2].any[0].value"]
    assert "commerce module" in messages["all[5].field"]
    assert "unknown operator 'like'" in messages["all[10].op"]


def test_shape_errors() -> None:
    assert issues([]) == [
        ("", 'expected an object: {"all": [...]}, {"any": [...]}, {"not": ...} or a clause')
    ]
    assert issues({"all": [], "any": []})[0][1] == '"all" stands alone in its object'
    assert issues({"all": {}})[0] == ("all", "expected a list of conditions")
    assert issues({"field": "store", "op": "eq"})[0] == ("value", "eq needs a value")
    assert issues({"field": "store", "op": "eq", "value": "x", "extra": 1})[0][0] == ""
    deep: dict[str, Any] = {"field": "store", "op": "is_set"}
    for _ in range(10):
        deep = {"not": deep}
    assert "nest at most" in issues(deep)[0][1]
    wide = {"any": [{"field": "store", "op": "is_set"}] * 250}
    assert "at most 200 parts" in issues(wide)[0][1]


def test_error_field_errors_for_the_api() -> None:
    with pytest.raises(ConditionError) as caught:
        parse_condition({"all": [{"field": "x", "op": "eq", "value": 1}]}, registry())
    assert caught.value.field_errors() == [
        {"field": "condition.all[0].field", "message": "unknown field 'x'"}
    ]


def test_json_round_trip_is_normalised() -> None:
    raw = {
        "all": [
            {"field": "tags", "op": "contains_any", "value": [3, 1, 3]},
            {"field": "added_at", "op": "between", "value": ["2026-01-01", "30d"]},
            {"not": {"field": "store", "op": "not_set"}},
        ]
    }
    fields = registry()
    parsed = parse_condition(raw, fields)
    assert isinstance(parsed, AllOf)
    assert parsed.items[0] == Clause("tags", Op.CONTAINS_ANY, (1, 3))
    again = condition_to_json(parsed)
    assert again["all"][0]["value"] == [1, 3]
    assert again["all"][1]["value"] == ["2026-01-01", "30d"]
    assert parse_condition(again, fields) == parsed


def test_explain_lists_each_clause_outcome() -> None:
    fields = registry()
    condition = parse_condition(
        {
            "all": [
                {"field": "store", "op": "eq", "value": "a"},
                {"not": {"field": "spent", "op": "gt", "value": 1}},
            ]
        },
        fields,
    )
    assert explain(condition, {"store": "a", "spent": 5}, fields, CONTEXT) == [
        {"path": "all[0]", "field": "store", "op": "eq", "result": True},
        {"path": "all[1].not", "field": "spent", "op": "gt", "result": True},
    ]


def test_time_context_requires_an_aware_now() -> None:
    with pytest.raises(ValueError):
        TimeContext(now=datetime(2026, 1, 1))
