"""The typed field registry: what a domain lets conditions test, and how each evaluator reads it.

A domain declares its fields (name, type, labels) with two readers: `get` takes the value from a
record (a plain mapping) for the Python evaluator, and `column` (scalar fields) or `members` (set
fields) gives the SQL for the compiler. The kernel knows no domain: registries are built by the
domains and handed to `parse_condition`, `evaluate` and `compile_condition`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import ColumnElement, Select

from scrm.core.conditions.model import OPERATORS, FieldType, Op


@dataclass(frozen=True)
class SetMembers:
    """SQL of a set field (rows × values, e.g. customers × tags).

    `any_of(values)`: the row carries at least one of `values` (None: any value at all), as a
    boolean expression over the registry's row. `none_of(values)`: the negation, written so the
    database can anti-join (NOT EXISTS). `postings(values, criteria)`: optional; a one-column
    SELECT of the row ids carrying any of `values` (None: any value) with extra `criteria` on the
    posting table; segments intersect these (INTERSECT / EXCEPT) instead of probing row by row.
    `posting_columns`: fields whose values the posting table copies (field name → its column
    there); range clauses on them in the same `all` are pushed into every posting SELECT.
    """

    any_of: Callable[[Sequence[Any] | None], ColumnElement[bool]]
    none_of: Callable[[Sequence[Any] | None], ColumnElement[bool]]
    postings: Callable[[Sequence[Any] | None, Sequence[ColumnElement[bool]]], Select[Any]] | None = None
    posting_columns: Mapping[str, Any] = field(default_factory=dict)  # column expressions


def _default_getter(name: str) -> Callable[[Mapping[str, Any]], Any]:
    return lambda record: record.get(name)


@dataclass(frozen=True)
class Field:
    name: str
    type: FieldType
    label_zh: str
    label_en: str
    get: Callable[[Mapping[str, Any]], Any] | None = None
    column: Any = None  # a column expression (mapped attribute or ColumnElement)
    members: SetMembers | None = None
    # Turns a Python value into what the column compares with (e.g. date → "YYYY-MM-DD" for dates
    # kept as text in JSON). Identity when None.
    sql_value: Callable[[Any], Any] | None = None
    # Domain checks on values (e.g. "tag 12 does not exist"): a message, or None when fine.
    check_values: Callable[[Op, Any], str | None] | None = None
    available: bool = True
    unavailable_reason: str | None = None
    group: str = "profile"

    def read(self, record: Mapping[str, Any]) -> Any:
        return (self.get or _default_getter(self.name))(record)

    @property
    def operators(self) -> list[str]:
        return sorted(op.value for op in OPERATORS[self.type])

    def describe(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "type": self.type.value,
            "label_zh": self.label_zh,
            "label_en": self.label_en,
            "operators": self.operators,
            "available": self.available,
            "unavailable_reason": self.unavailable_reason,
            "group": self.group,
        }


class FieldRegistry:
    """The fields of one kind of record (customers of one tenant, orders...), by name.

    `row_id` is the column that identifies a row (for the postings planner)."""

    def __init__(self, fields: Iterable[Field], *, row_id: Any = None) -> None:
        self._fields: dict[str, Field] = {}
        for item in fields:
            if item.name in self._fields:
                raise ValueError(f"field {item.name!r} declared twice")
            self._fields[item.name] = item
        self.row_id = row_id

    def get(self, name: str) -> Field | None:
        return self._fields.get(name)

    def require(self, name: str) -> Field:
        found = self._fields.get(name)
        if found is None:
            raise KeyError(name)
        return found

    def __iter__(self) -> Iterator[Field]:
        return iter(self._fields.values())

    def describe(self) -> list[dict[str, Any]]:
        return [item.describe() for item in self._fields.values()]
