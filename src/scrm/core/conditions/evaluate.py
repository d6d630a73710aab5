"""The pure Python evaluator: does one record satisfy a condition? (Rules and journeys use this.)

Semantics, shared with the SQL compiler (tests compare both on generated data):
- an unset value (None; an empty set for set fields) satisfies `ne`, `not_in`, `not_set` and
  `contains_none`, and fails every other operator;
- `all` of nothing holds, `any` of nothing does not, `not` negates exactly (two-valued logic);
- time values compare against `Bounds` (see `values`); `between` includes both ends.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from scrm.core.conditions.fields import FieldRegistry
from scrm.core.conditions.model import AllOf, AnyOf, Clause, FieldType, Node, Not, Op
from scrm.core.conditions.values import Bounds, TimeContext, coerce_time, resolve, window


def _before_start(value: Any, bounds: Bounds) -> bool:
    return bool(value < bounds.start)


def _up_to_end(value: Any, bounds: Bounds) -> bool:
    return bool(value <= bounds.end) if bounds.end_inclusive else bool(value < bounds.end)


def _time_clause(clause: Clause, value: Any, calendar: bool, context: TimeContext) -> bool:
    value = coerce_time(value, calendar=calendar)
    if value is None:
        return False
    op = clause.op
    if op in (Op.WITHIN_LAST, Op.WITHIN_NEXT):
        bounds = window(clause.value, context, calendar=calendar, future=op == Op.WITHIN_NEXT)
        return bool(bounds.start <= value) and _up_to_end(value, bounds)
    if op == Op.BETWEEN:
        low = resolve(clause.value[0], context, calendar=calendar)
        high = resolve(clause.value[1], context, calendar=calendar)
        return bool(low.start <= value) and _up_to_end(value, high)
    bounds = resolve(clause.value, context, calendar=calendar)
    if op in (Op.LT, Op.BEFORE):
        return _before_start(value, bounds)
    if op == Op.GTE:
        return not _before_start(value, bounds)
    if op == Op.LTE:
        return _up_to_end(value, bounds)
    if op in (Op.GT, Op.AFTER):
        return not _up_to_end(value, bounds)
    raise AssertionError(op)


def _set_clause(clause: Clause, value: Any) -> bool:
    members = set(value or ())
    if clause.op == Op.IS_SET:
        return bool(members)
    if clause.op == Op.NOT_SET:
        return not members
    wanted = set(clause.value)
    if clause.op == Op.CONTAINS_ALL:
        return wanted <= members
    if clause.op == Op.CONTAINS_ANY:
        return bool(wanted & members)
    if clause.op == Op.CONTAINS_NONE:
        return not wanted & members
    raise AssertionError(clause.op)


def _scalar_clause(clause: Clause, value: Any) -> bool:
    op = clause.op
    if op == Op.IS_SET:
        return value is not None
    if op == Op.NOT_SET:
        return value is None
    if op == Op.NE:
        return value is None or value != clause.value
    if op == Op.NOT_IN:
        return value is None or value not in clause.value
    if value is None:
        return False
    if op == Op.EQ:
        return bool(value == clause.value)
    if op == Op.IN:
        return value in clause.value
    if op == Op.GT:
        return bool(value > clause.value)
    if op == Op.GTE:
        return bool(value >= clause.value)
    if op == Op.LT:
        return bool(value < clause.value)
    if op == Op.LTE:
        return bool(value <= clause.value)
    if op == Op.BETWEEN:
        return bool(clause.value[0] <= value <= clause.value[1])
    raise AssertionError(op)


def evaluate(node: Node, record: Mapping[str, Any], registry: FieldRegistry, context: TimeContext) -> bool:
    """Whether `record` satisfies `node` (parsed with the same registry) at `context.now`."""
    if isinstance(node, AllOf):
        return all(evaluate(item, record, registry, context) for item in node.items)
    if isinstance(node, AnyOf):
        return any(evaluate(item, record, registry, context) for item in node.items)
    if isinstance(node, Not):
        return not evaluate(node.item, record, registry, context)
    field = registry.require(node.field)
    value = field.read(record)
    if field.type in (FieldType.ID_SET, FieldType.STRING_SET):
        return _set_clause(node, value)
    if field.type in (FieldType.DATE, FieldType.DATETIME) and node.op not in (Op.IS_SET, Op.NOT_SET):
        return _time_clause(node, value, field.type == FieldType.DATE, context)
    return _scalar_clause(node, value)


def explain(
    node: Node, record: Mapping[str, Any], registry: FieldRegistry, context: TimeContext, path: str = ""
) -> list[dict[str, Any]]:
    """Each clause with its outcome on `record` (for "why did this rule fire")."""
    if isinstance(node, AllOf | AnyOf):
        key = "all" if isinstance(node, AllOf) else "any"
        return [
            entry
            for index, item in enumerate(node.items)
            for entry in explain(item, record, registry, context, f"{path}.{key}[{index}]".lstrip("."))
        ]
    if isinstance(node, Not):
        return explain(node.item, record, registry, context, f"{path}.not".lstrip("."))
    return [
        {
            "path": path,
            "field": node.field,
            "op": node.op.value,
            "result": evaluate(node, record, registry, context),
        }
    ]
