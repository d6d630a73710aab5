"""The condition language (条件): segments, rules, journeys and settlement scoping share it.

A condition is data (JSON) checked against a domain's typed field registry, then evaluated by pure
Python (`evaluate`) or compiled to a SQLAlchemy expression (`compile_condition`) with the same
meaning. See README.md ("The condition language") for the grammar and every operator.
"""

from scrm.core.conditions.evaluate import evaluate, explain
from scrm.core.conditions.fields import Field, FieldRegistry, SetMembers
from scrm.core.conditions.model import (
    OPERATORS,
    AllOf,
    AnyOf,
    Clause,
    ConditionError,
    FieldType,
    Issue,
    Node,
    Not,
    Op,
    clauses,
    condition_to_json,
    fields_used,
    parse_condition,
)
from scrm.core.conditions.sql import compile_condition
from scrm.core.conditions.values import Bounds, Duration, TimeContext, TimePoint

__all__ = [
    "OPERATORS",
    "AllOf",
    "AnyOf",
    "Bounds",
    "Clause",
    "ConditionError",
    "Duration",
    "Field",
    "FieldRegistry",
    "FieldType",
    "Issue",
    "Node",
    "Not",
    "Op",
    "SetMembers",
    "TimeContext",
    "TimePoint",
    "clauses",
    "compile_condition",
    "condition_to_json",
    "evaluate",
    "explain",
    "fields_used",
    "parse_condition",
]
