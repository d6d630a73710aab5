"""The condition language's syntax tree, its operators and value types, and parsing with validation.

JSON form (what the API stores and the builder edits)::

    condition := {"all": [condition, ...]}          every item holds (an empty list holds)
               | {"any": [condition, ...]}          at least one item holds (an empty list does not)
               | {"not": condition}
               | {"field": NAME, "op": OPERATOR, "value": VALUE}   (no "value" for is_set / not_set)

`parse_condition` turns that into frozen nodes, checking each clause against the field registry
(unknown field, operator not allowed for the field's type, value of the wrong shape) and reporting
every problem with its path (``all[1].any[0].value``), never only the first.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from scrm.core.conditions.values import (
    Duration,
    TimePoint,
    parse_date_point,
    parse_duration,
)

if TYPE_CHECKING:
    from scrm.core.conditions.fields import FieldRegistry

MAX_DEPTH = 8
MAX_NODES = 200
MAX_LIST = 1000
MAX_TEXT = 200


class FieldType(StrEnum):
    STRING = "string"
    NUMBER = "number"
    ID = "id"  # an integer identifier: equality only
    BOOLEAN = "boolean"
    DATE = "date"  # a calendar day
    DATETIME = "datetime"  # an instant
    ID_SET = "id_set"  # a set of integer identifiers (tags)
    STRING_SET = "string_set"  # a set of strings (follow staff userids)


class Op(StrEnum):
    EQ = "eq"
    NE = "ne"
    IN = "in"
    NOT_IN = "not_in"
    GT = "gt"
    GTE = "gte"
    LT = "lt"
    LTE = "lte"
    BETWEEN = "between"
    BEFORE = "before"
    AFTER = "after"
    WITHIN_LAST = "within_last"
    WITHIN_NEXT = "within_next"
    CONTAINS_ALL = "contains_all"
    CONTAINS_ANY = "contains_any"
    CONTAINS_NONE = "contains_none"
    IS_SET = "is_set"
    NOT_SET = "not_set"


_PRESENCE = {Op.IS_SET, Op.NOT_SET}
_TIME_OPS = {Op.GT, Op.GTE, Op.LT, Op.LTE, Op.BETWEEN, Op.BEFORE, Op.AFTER, Op.WITHIN_LAST, Op.WITHIN_NEXT}
_SET_OPS = {Op.CONTAINS_ALL, Op.CONTAINS_ANY, Op.CONTAINS_NONE}

OPERATORS: dict[FieldType, frozenset[Op]] = {
    FieldType.STRING: frozenset({Op.EQ, Op.NE, Op.IN, Op.NOT_IN, *_PRESENCE}),
    FieldType.ID: frozenset({Op.EQ, Op.NE, Op.IN, Op.NOT_IN, *_PRESENCE}),
    FieldType.NUMBER: frozenset(
        {Op.EQ, Op.NE, Op.IN, Op.NOT_IN, Op.GT, Op.GTE, Op.LT, Op.LTE, Op.BETWEEN, *_PRESENCE}
    ),
    FieldType.BOOLEAN: frozenset({Op.EQ, Op.NE, *_PRESENCE}),
    FieldType.DATE: frozenset({*_TIME_OPS, *_PRESENCE}),
    FieldType.DATETIME: frozenset({*_TIME_OPS, *_PRESENCE}),
    FieldType.ID_SET: frozenset({*_SET_OPS, *_PRESENCE}),
    FieldType.STRING_SET: frozenset({*_SET_OPS, *_PRESENCE}),
}


# --- nodes ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class AllOf:
    items: tuple[Node, ...]


@dataclass(frozen=True)
class AnyOf:
    items: tuple[Node, ...]


@dataclass(frozen=True)
class Not:
    item: Node


@dataclass(frozen=True)
class Clause:
    """One test on one field. `value` is normalised by type: a scalar, a tuple (in/not_in and the
    set operators, sorted and without duplicates), a (low, high) pair for between, a `TimePoint`
    for time comparisons, a `Duration` for within_last/within_next, None for is_set/not_set."""

    field: str
    op: Op
    value: Any = None


Node = AllOf | AnyOf | Not | Clause


# --- errors -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Issue:
    path: str
    message: str


class ConditionError(ValueError):
    """The condition is malformed; `issues` says where and why (every problem found)."""

    def __init__(self, issues: Sequence[Issue]) -> None:
        self.issues = list(issues)
        super().__init__("; ".join(f"{issue.path or 'condition'}: {issue.message}" for issue in self.issues))

    def field_errors(self, prefix: str = "condition") -> list[dict[str, str]]:
        """The issues in the API's `errors` shape: `{"field": "condition.all[0].value", "message"}`."""
        return [
            {"field": f"{prefix}.{issue.path}" if issue.path else prefix, "message": issue.message}
            for issue in self.issues
        ]


# --- parsing ----------------------------------------------------------------------------------------


class _Parser:
    def __init__(self, registry: FieldRegistry) -> None:
        self.registry = registry
        self.issues: list[Issue] = []
        self.nodes = 0

    def fail(self, path: str, message: str) -> None:
        self.issues.append(Issue(path, message))

    def node(self, data: Any, path: str, depth: int) -> Node | None:
        self.nodes += 1
        if self.nodes > MAX_NODES:
            if self.nodes == MAX_NODES + 1:
                self.fail(path, f"a condition has at most {MAX_NODES} parts")
            return None
        if depth > MAX_DEPTH:
            self.fail(path, f"conditions nest at most {MAX_DEPTH} levels deep")
            return None
        if not isinstance(data, Mapping):
            self.fail(path, 'expected an object: {"all": [...]}, {"any": [...]}, {"not": ...} or a clause')
            return None
        keys = set(data)
        for combinator in ("all", "any"):
            if combinator in keys:
                if keys != {combinator}:
                    self.fail(path, f'"{combinator}" stands alone in its object')
                    return None
                items = data[combinator]
                if not isinstance(items, list):
                    self.fail(self.join(path, combinator), "expected a list of conditions")
                    return None
                prefix = self.join(path, combinator)
                parsed = [self.node(item, f"{prefix}[{i}]", depth + 1) for i, item in enumerate(items)]
                children = tuple(child for child in parsed if child is not None)
                return AllOf(children) if combinator == "all" else AnyOf(children)
        if "not" in keys:
            if keys != {"not"}:
                self.fail(path, '"not" stands alone in its object')
                return None
            inner = self.node(data["not"], self.join(path, "not"), depth + 1)
            return None if inner is None else Not(inner)
        return self.clause(data, path)

    @staticmethod
    def join(path: str, key: str) -> str:
        return f"{path}.{key}" if path else key

    def clause(self, data: Mapping[str, Any], path: str) -> Clause | None:
        unknown = set(data) - {"field", "op", "value"}
        if unknown:
            self.fail(path, f"unexpected keys {sorted(unknown)}; a clause has field, op and value")
            return None
        name = data.get("field")
        if not isinstance(name, str) or not name:
            self.fail(self.join(path, "field"), "a clause needs a field name")
            return None
        field = self.registry.get(name)
        if field is None:
            self.fail(self.join(path, "field"), f"unknown field {name!r}")
            return None
        if not field.available:
            reason = field.unavailable_reason or f"field {name!r} is not available"
            self.fail(self.join(path, "field"), reason)
            return None
        raw_op = data.get("op")
        try:
            op = Op(str(raw_op))
        except ValueError:
            self.fail(self.join(path, "op"), f"unknown operator {raw_op!r}")
            return None
        allowed = OPERATORS[field.type]
        if op not in allowed:
            self.fail(
                self.join(path, "op"),
                f"operator {op.value!r} does not apply to {field.type.value} field {name!r}; "
                f"use one of {sorted(o.value for o in allowed)}",
            )
            return None
        value_path = self.join(path, "value")
        if op in _PRESENCE:
            if data.get("value") is not None:
                self.fail(value_path, f"{op.value} takes no value")
                return None
            return Clause(name, op)
        if "value" not in data:
            self.fail(value_path, f"{op.value} needs a value")
            return None
        try:
            value = _value(field.type, op, data["value"])
        except ValueError as error:
            self.fail(value_path, str(error))
            return None
        problem = field.check_values(op, value) if field.check_values else None
        if problem:
            self.fail(value_path, problem)
            return None
        return Clause(name, op, value)


def _scalar(field_type: FieldType, raw: Any) -> Any:
    if field_type == FieldType.STRING or field_type == FieldType.STRING_SET:
        if not isinstance(raw, str):
            raise ValueError("expected text")
        if len(raw) > MAX_TEXT:
            raise ValueError(f"text longer than {MAX_TEXT} characters")
        return raw
    if field_type in (FieldType.ID, FieldType.ID_SET):
        if isinstance(raw, bool) or not isinstance(raw, int):
            raise ValueError("expected an integer id")
        return raw
    if field_type == FieldType.NUMBER:
        if isinstance(raw, bool) or not isinstance(raw, int | float):
            raise ValueError("expected a number")
        if raw != raw or raw in (float("inf"), float("-inf")):
            raise ValueError("expected a finite number")
        return raw
    if field_type == FieldType.BOOLEAN:
        if not isinstance(raw, bool):
            raise ValueError("expected true or false")
        return raw
    raise ValueError(f"no scalar values for {field_type.value}")


def _list(field_type: FieldType, raw: Any) -> tuple[Any, ...]:
    if not isinstance(raw, list) or not raw:
        raise ValueError("expected a non-empty list")
    if len(raw) > MAX_LIST:
        raise ValueError(f"at most {MAX_LIST} values")
    values = {_scalar(field_type, item) for item in raw}
    return tuple(sorted(values, key=lambda item: (str(type(item)), item)))


def _value(field_type: FieldType, op: Op, raw: Any) -> Any:
    if field_type in (FieldType.DATE, FieldType.DATETIME):
        calendar = field_type == FieldType.DATE
        if op in (Op.WITHIN_LAST, Op.WITHIN_NEXT):
            duration = parse_duration(raw)
            if calendar and not duration.whole_days:
                raise ValueError("a date field takes durations in days or weeks (30d, 2w)")
            return duration
        if op == Op.BETWEEN:
            if not isinstance(raw, list) or len(raw) != 2:
                raise ValueError("between takes [from, to]")
            return (parse_date_point(raw[0], calendar=calendar), parse_date_point(raw[1], calendar=calendar))
        return parse_date_point(raw, calendar=calendar)
    if op in _SET_OPS or op in (Op.IN, Op.NOT_IN):
        return _list(field_type, raw)
    if op == Op.BETWEEN:
        if not isinstance(raw, list) or len(raw) != 2:
            raise ValueError("between takes [low, high]")
        low, high = _scalar(field_type, raw[0]), _scalar(field_type, raw[1])
        if low > high:
            raise ValueError("between takes [low, high] with low <= high")
        return (low, high)
    return _scalar(field_type, raw)


def parse_condition(data: Any, registry: FieldRegistry) -> Node:
    """The checked syntax tree of `data`; raises ConditionError listing every problem."""
    parser = _Parser(registry)
    node = parser.node(data, "", 0)
    if parser.issues or node is None:
        raise ConditionError(parser.issues or [Issue("", "empty condition")])
    return node


# --- back to JSON -----------------------------------------------------------------------------------


def _value_json(value: Any) -> Any:
    if isinstance(value, TimePoint | Duration):
        return value.text
    if isinstance(value, tuple):
        return [_value_json(item) for item in value]
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def condition_to_json(node: Node) -> dict[str, Any]:
    """The normalised JSON form of a parsed condition (`parse_condition` reads it back equal)."""
    if isinstance(node, AllOf):
        return {"all": [condition_to_json(item) for item in node.items]}
    if isinstance(node, AnyOf):
        return {"any": [condition_to_json(item) for item in node.items]}
    if isinstance(node, Not):
        return {"not": condition_to_json(node.item)}
    out: dict[str, Any] = {"field": node.field, "op": node.op.value}
    if node.op not in _PRESENCE:
        out["value"] = _value_json(node.value)
    return out


def fields_used(node: Node) -> set[str]:
    if isinstance(node, AllOf | AnyOf):
        return set().union(*(fields_used(item) for item in node.items)) if node.items else set()
    if isinstance(node, Not):
        return fields_used(node.item)
    return {node.field}


def clauses(node: Node) -> list[Clause]:
    """Every clause of the tree, depth first."""
    if isinstance(node, AllOf | AnyOf):
        return [clause for item in node.items for clause in clauses(item)]
    if isinstance(node, Not):
        return clauses(node.item)
    return [node]
