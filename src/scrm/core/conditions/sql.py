"""The SQL compiler: a condition as a SQLAlchemy boolean expression (never SQL text).

Every clause compiles to a two-valued expression (NULL never escapes: `x = v` becomes
`x IS NOT NULL AND x = v`), so `not` means exactly what the Python evaluator means.

Planning: inside each `all`, clauses on set fields that offer postings (an inverted index such as
`customer_tags`) are combined into one ``row_id IN (P1 INTERSECT P2 ... EXCEPT N)``: the database
intersects a few index ranges instead of probing every candidate row. Range clauses on fields the
postings copy (a customer's added_at) are pushed into each posting SELECT, which narrows them to
one covering index range. The original clauses on those fields stay in the expression, so the
result is the same with or without the plan.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, except_, false, intersect, not_, or_, select, true

from scrm.core.conditions.fields import Field, FieldRegistry
from scrm.core.conditions.model import AllOf, AnyOf, Clause, FieldType, Node, Not, Op
from scrm.core.conditions.values import Bounds, TimeContext, resolve, window

_SET_TYPES = (FieldType.ID_SET, FieldType.STRING_SET)
_TIME_TYPES = (FieldType.DATE, FieldType.DATETIME)


def _converter(field: Field) -> Callable[[Any], Any]:
    return field.sql_value or (lambda value: value)


def _present(column: ColumnElement[Any], test: ColumnElement[bool]) -> ColumnElement[bool]:
    return and_(column.is_not(None), test)


def _upper(column: ColumnElement[Any], bounds: Bounds, convert: Callable[[Any], Any]) -> ColumnElement[bool]:
    end = convert(bounds.end)
    return column <= end if bounds.end_inclusive else column < end


def _time_sql(
    clause: Clause, column: ColumnElement[Any], field: Field, context: TimeContext
) -> ColumnElement[bool]:
    calendar = field.type == FieldType.DATE
    convert = _converter(field)
    op = clause.op
    if op in (Op.WITHIN_LAST, Op.WITHIN_NEXT):
        bounds = window(clause.value, context, calendar=calendar, future=op == Op.WITHIN_NEXT)
        return _present(column, and_(column >= convert(bounds.start), _upper(column, bounds, convert)))
    if op == Op.BETWEEN:
        low = resolve(clause.value[0], context, calendar=calendar)
        high = resolve(clause.value[1], context, calendar=calendar)
        return _present(column, and_(column >= convert(low.start), _upper(column, high, convert)))
    bounds = resolve(clause.value, context, calendar=calendar)
    if op in (Op.LT, Op.BEFORE):
        return _present(column, column < convert(bounds.start))
    if op == Op.GTE:
        return _present(column, column >= convert(bounds.start))
    if op == Op.LTE:
        return _present(column, _upper(column, bounds, convert))
    if op in (Op.GT, Op.AFTER):
        return _present(column, not_(_upper(column, bounds, convert)))
    raise AssertionError(op)


def _scalar_sql(clause: Clause, column: ColumnElement[Any], field: Field) -> ColumnElement[bool]:
    convert = _converter(field)
    op, value = clause.op, clause.value
    if op == Op.IS_SET:
        return column.is_not(None)
    if op == Op.NOT_SET:
        return column.is_(None)
    if op == Op.EQ:
        return _present(column, column == convert(value))
    if op == Op.NE:
        return or_(column.is_(None), column != convert(value))
    if op == Op.IN:
        return _present(column, column.in_([convert(item) for item in value]))
    if op == Op.NOT_IN:
        return or_(column.is_(None), column.not_in([convert(item) for item in value]))
    if op == Op.GT:
        return _present(column, column > convert(value))
    if op == Op.GTE:
        return _present(column, column >= convert(value))
    if op == Op.LT:
        return _present(column, column < convert(value))
    if op == Op.LTE:
        return _present(column, column <= convert(value))
    if op == Op.BETWEEN:
        return _present(column, column.between(convert(value[0]), convert(value[1])))
    raise AssertionError(op)


def _clause_on(
    clause: Clause, field: Field, column: ColumnElement[Any], context: TimeContext
) -> ColumnElement[bool]:
    if field.type in _TIME_TYPES and clause.op not in (Op.IS_SET, Op.NOT_SET):
        return _time_sql(clause, column, field, context)
    return _scalar_sql(clause, column, field)


def _clause_sql(clause: Clause, registry: FieldRegistry, context: TimeContext) -> ColumnElement[bool]:
    field = registry.require(clause.field)
    if field.type in _SET_TYPES:
        if field.members is None:
            raise ValueError(f"field {field.name!r} has no SQL")
        members, op = field.members, clause.op
        if op == Op.IS_SET:
            return members.any_of(None)
        if op == Op.NOT_SET:
            return members.none_of(None)
        if op == Op.CONTAINS_ANY:
            return members.any_of(clause.value)
        if op == Op.CONTAINS_NONE:
            return members.none_of(clause.value)
        if op == Op.CONTAINS_ALL:
            return and_(*(members.any_of([value]) for value in clause.value))
        raise AssertionError(op)
    if field.column is None:
        raise ValueError(f"field {field.name!r} has no SQL")
    return _clause_on(clause, field, field.column, context)


def _narrowing(
    clauses: Sequence[Clause], field: Field, registry: FieldRegistry, context: TimeContext
) -> list[ColumnElement[bool]]:
    """The range clauses of the same `all` restated on the posting table's copies of their fields."""
    assert field.members is not None
    criteria = []
    for clause in clauses:
        copy = field.members.posting_columns.get(clause.field)
        if copy is None or clause.op in (Op.IS_SET, Op.NOT_SET, Op.NE, Op.NOT_IN):
            continue
        criteria.append(_clause_on(clause, registry.require(clause.field), copy, context))
    return criteria


def _outer(compound: Any) -> Any:
    subquery = compound.subquery()
    return select(*subquery.c)


def _plan_all(
    node: AllOf, registry: FieldRegistry, context: TimeContext
) -> tuple[ColumnElement[bool] | None, list[Node]]:
    """Split an `all` into one postings expression (or None) and the items compiled one by one."""
    if registry.row_id is None:
        return None, list(node.items)
    plain = [item for item in node.items if isinstance(item, Clause)]
    positives: list[Select[Any]] = []
    negatives: list[Select[Any]] = []
    planned: set[int] = set()
    for index, item in enumerate(node.items):
        if not isinstance(item, Clause):
            continue
        field = registry.require(item.field)
        if field.type not in _SET_TYPES or field.members is None or field.members.postings is None:
            continue
        postings = field.members.postings
        criteria = _narrowing(plain, field, registry, context)
        if item.op == Op.CONTAINS_ALL:
            positives.extend(postings([value], criteria) for value in item.value)
        elif item.op == Op.CONTAINS_ANY:
            positives.append(postings(item.value, criteria))
        elif item.op == Op.IS_SET:
            positives.append(postings(None, criteria))
        elif item.op == Op.CONTAINS_NONE:
            negatives.append(postings(item.value, criteria))
        elif item.op == Op.NOT_SET:
            negatives.append(postings(None, criteria))
        planned.add(index)
    if not positives:
        # Nothing to start an intersection from: compile every clause on its own.
        return None, list(node.items)
    combined: Any = positives[0] if len(positives) == 1 else intersect(*positives)
    if negatives:
        # SQLite rejects a parenthesised compound as the left side: wrap it in a subquery.
        left: Any = combined if len(positives) == 1 else _outer(combined)
        combined = except_(left, *negatives)
    rest = [item for index, item in enumerate(node.items) if index not in planned]
    return registry.row_id.in_(combined), rest


def compile_condition(node: Node, registry: FieldRegistry, context: TimeContext) -> ColumnElement[bool]:
    """A boolean SQL expression over the registry's row (customers...) equivalent to `evaluate`."""
    if isinstance(node, AllOf):
        if not node.items:
            return true()
        planned, rest = _plan_all(node, registry, context)
        parts = ([planned] if planned is not None else []) + [
            compile_condition(item, registry, context) for item in rest
        ]
        return parts[0] if len(parts) == 1 else and_(*parts)
    if isinstance(node, AnyOf):
        if not node.items:
            return false()
        parts = [compile_condition(item, registry, context) for item in node.items]
        return parts[0] if len(parts) == 1 else or_(*parts)
    if isinstance(node, Not):
        return not_(compile_condition(node.item, registry, context))
    return _clause_sql(node, registry, context)
