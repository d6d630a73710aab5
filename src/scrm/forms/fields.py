"""Form fields as the builder edits them, checked and compiled to JSON Schema plus UI hints. Pure.

A form version stores two documents:

- `schema`: a JSON Schema (draft 2020-12) object of the submitted data. Each property names its field
  type in the extension keyword `x-field`, and its rules in `x-visible-if` / `x-required-if`; money
  bounds are `x-minimum` / `x-maximum` (decimal strings). Submissions are validated against it alone
  (`validation.py`).
- `ui`: presentation only: `order` (the field keys in display order) and, per field, labels, help and
  option labels in zh-CN and en, and the widget.

The builder sends fields as a list (`FieldSpec`); `check_fields` reports every problem of a draft as
field errors (`fields.<index>.<attribute>`), `compile_fields` turns a valid list into the two
documents and `fields_of` turns them back into the list.
"""

from __future__ import annotations

from decimal import Decimal
from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from scrm.forms.messages import field_error
from scrm.forms.regions import PROVINCES

MAX_FIELDS = 100
KEY_PATTERN = r"^[a-z][a-z0-9_]{0,39}$"
MONEY_PATTERN = r"^\d{1,12}(\.\d{1,2})?$"
CN_MOBILE_PATTERN = r"^1[3-9]\d{9}$"
RATING_MAX = 5
DEFAULT_MAX_LENGTH = {"text": 200, "textarea": 2000}
LIMIT_MAX_LENGTH = {"text": 2000, "textarea": 10_000}
DEFAULT_MAX_FILES, LIMIT_MAX_FILES = 10, 20
MAX_OPTIONS = 200
REGION_PART_LENGTH = 50


class FieldType(StrEnum):
    TEXT = "text"
    TEXTAREA = "textarea"
    NUMBER = "number"
    MONEY = "money"
    DATE = "date"
    CHOICE = "choice"
    MULTI_CHOICE = "multi_choice"
    REGION = "region"
    PHONE = "phone"
    FILE = "file"
    RATING = "rating"
    CONSENT = "consent"


CHOICE_TYPES = {FieldType.CHOICE, FieldType.MULTI_CHOICE}
WIDGETS: dict[FieldType, tuple[str, ...]] = {
    FieldType.CHOICE: ("radio", "select"),
    FieldType.MULTI_CHOICE: ("checkbox", "select"),
}
# Which attributes each type takes; the builder must not send the others.
ATTRIBUTES: dict[FieldType, set[str]] = {
    FieldType.TEXT: {"max_length"},
    FieldType.TEXTAREA: {"max_length"},
    FieldType.NUMBER: {"min", "max"},
    FieldType.MONEY: {"min", "max"},
    FieldType.DATE: set(),
    FieldType.CHOICE: {"options", "widget"},
    FieldType.MULTI_CHOICE: {"options", "widget", "max_items"},
    FieldType.REGION: set(),
    FieldType.PHONE: set(),
    FieldType.FILE: {"max_items"},
    FieldType.RATING: set(),
    FieldType.CONSENT: set(),
}
OPTIONAL_ATTRIBUTES = ("options", "min", "max", "max_length", "max_items", "widget")

LocalText = dict[Literal["zh-CN", "en"], str]


class Condition(BaseModel):
    """When a rule holds: the field `field` `equals` a value, is `in` a list of values, or is
    `filled` (any value; `value` is ignored). On a multi-choice field, `equals` means "includes"."""

    model_config = ConfigDict(extra="forbid")

    field: str = Field(min_length=1, max_length=40)
    op: Literal["equals", "in", "filled"]
    value: Any = None


class Option(BaseModel):
    model_config = ConfigDict(extra="forbid")

    value: str = Field(min_length=1, max_length=100)
    label: LocalText = Field(default_factory=dict)


class FieldSpec(BaseModel):
    """A field as the builder edits it."""

    model_config = ConfigDict(extra="forbid")

    key: str = Field(pattern=KEY_PATTERN)
    type: FieldType
    label: LocalText
    help: LocalText = Field(default_factory=dict)
    required: bool = False
    options: list[Option] | None = Field(default=None, max_length=MAX_OPTIONS)
    min: Decimal | None = None
    max: Decimal | None = None
    max_length: int | None = None
    max_items: int | None = None
    widget: str | None = None
    visible_if: Condition | None = None
    required_if: Condition | None = None


def _pydantic_errors(index: int, error: ValidationError) -> list[dict[str, Any]]:
    found = []
    for item in error.errors():
        where = ".".join(str(part) for part in item["loc"])
        field = f"fields.{index}.{where}" if where else f"fields.{index}"
        if item["loc"] in (("type",), ("key",)):
            found.append(field_error(field, "unknown_type" if item["loc"] == ("type",) else "bad_key"))
            continue
        context = {k: v for k, v in (item.get("ctx") or {}).items() if isinstance(v, str | int | float)}
        found.append({"field": field, "message": item["msg"], "code": item["type"], "context": context})
    return found


def check_fields(raw: Any) -> tuple[list[FieldSpec], list[dict[str, Any]]]:
    """The fields of a draft and every problem in it (empty when the draft is valid).

    Problems: a shape the builder cannot send (unknown type or attribute), duplicate keys, choices
    without options or with repeated values, attributes a type does not take, bounds out of order,
    rules naming a missing field, the field itself, or a field they cannot compare with, and rules
    that depend on each other in a circle."""
    if not isinstance(raw, list) or not raw:
        return [], [field_error("fields", "no_fields")]
    if len(raw) > MAX_FIELDS:
        return [], [field_error("fields", "too_many_fields", max=MAX_FIELDS)]
    accepted: list[tuple[int, FieldSpec]] = []
    errors: list[dict[str, Any]] = []
    keys: set[str] = set()
    for index, item in enumerate(raw):
        try:
            spec = FieldSpec.model_validate(item)
        except ValidationError as error:
            errors.extend(_pydantic_errors(index, error))
            continue
        if spec.key in keys:
            errors.append(field_error(f"fields.{index}.key", "duplicate_key", key=spec.key))
            continue
        keys.add(spec.key)
        accepted.append((index, spec))
        errors.extend(_check_attributes(index, spec))
    by_key = {spec.key: spec for _, spec in accepted}
    for index, spec in accepted:
        for rule in ("visible_if", "required_if"):
            condition = getattr(spec, rule)
            if condition is not None:
                errors.extend(_check_condition(f"fields.{index}.{rule}", spec, condition, by_key))
    errors.extend(_check_cycles(accepted))
    return [spec for _, spec in accepted], errors


def _check_attributes(index: int, spec: FieldSpec) -> list[dict[str, Any]]:
    where = f"fields.{index}"
    errors = []
    allowed = ATTRIBUTES[spec.type]
    for name in OPTIONAL_ATTRIBUTES:
        if getattr(spec, name) is not None and name not in allowed:
            errors.append(field_error(f"{where}.{name}", "not_for_type", type=spec.type))
    if not any(text.strip() for text in spec.label.values()):
        errors.append(field_error(f"{where}.label", "label_missing"))
    if spec.type in CHOICE_TYPES:
        values = [option.value for option in spec.options or []]
        if not values:
            errors.append(field_error(f"{where}.options", "no_options"))
        elif len(set(values)) != len(values):
            errors.append(field_error(f"{where}.options", "duplicate_option"))
        if spec.widget is not None and spec.widget not in WIDGETS[spec.type]:
            errors.append(field_error(f"{where}.widget", "bad_widget", allowed=", ".join(WIDGETS[spec.type])))
    if spec.type == FieldType.MONEY:
        for name in ("min", "max"):
            bound = getattr(spec, name)
            if bound is not None and (bound < 0 or bound != bound.quantize(Decimal("0.01"))):
                errors.append(field_error(f"{where}.{name}", "bad_money_bound"))
    if spec.min is not None and spec.max is not None and spec.min > spec.max:
        errors.append(field_error(f"{where}.max", "max_below_min"))
    if spec.max_length is not None and not 1 <= spec.max_length <= LIMIT_MAX_LENGTH.get(spec.type, 0):
        limit = LIMIT_MAX_LENGTH.get(spec.type, 0)
        errors.append(field_error(f"{where}.max_length", "bad_max_length", limit=limit))
    if spec.max_items is not None:
        limit = LIMIT_MAX_FILES if spec.type == FieldType.FILE else len(spec.options or []) or 1
        if not 1 <= spec.max_items <= limit:
            errors.append(field_error(f"{where}.max_items", "bad_max_items", limit=limit))
    return errors


def _check_condition(
    where: str, spec: FieldSpec, condition: Condition, by_key: dict[str, FieldSpec]
) -> list[dict[str, Any]]:
    target = by_key.get(condition.field)
    if target is None:
        return [field_error(f"{where}.field", "missing_field", key=condition.field)]
    if target.key == spec.key:
        return [field_error(f"{where}.field", "self_reference")]
    if condition.op == "filled":
        return []
    values = condition.value if condition.op == "in" else [condition.value]
    if condition.op == "in" and (not isinstance(condition.value, list) or not condition.value):
        return [field_error(f"{where}.value", "value_list")]
    if any(isinstance(value, dict | list) or value is None for value in values):
        return [field_error(f"{where}.value", "value_scalar")]
    if target.type in CHOICE_TYPES:
        known = {option.value for option in target.options or []}
        if any(value not in known for value in values):
            return [field_error(f"{where}.value", "value_not_option")]
    if target.type in {FieldType.REGION, FieldType.FILE}:
        return [field_error(f"{where}.op", "op_filled_only")]
    return []


def _check_cycles(accepted: list[tuple[int, FieldSpec]]) -> list[dict[str, Any]]:
    """Visibility rules may chain (A shows when B is filled, B when C...) but not circle back."""
    depends = {spec.key: spec.visible_if.field for _, spec in accepted if spec.visible_if is not None}
    errors = []
    for index, spec in accepted:
        seen: set[str] = set()
        current = spec.key
        while current in depends and current not in seen:
            seen.add(current)
            current = depends[current]
        if current == spec.key and spec.key in depends:
            errors.append(field_error(f"fields.{index}.visible_if.field", "rule_cycle"))
    return errors


# --- compiling ------------------------------------------------------------------------------------------


def _number(value: Decimal) -> int | float:
    return int(value) if value == value.to_integral_value() else float(value)


def _property(spec: FieldSpec) -> dict[str, Any]:
    label = spec.label.get("zh-CN") or spec.label.get("en") or spec.key
    prop: dict[str, Any] = {"title": label, "x-field": spec.type.value}
    kind = spec.type
    if kind in (FieldType.TEXT, FieldType.TEXTAREA):
        prop |= {"type": "string", "maxLength": spec.max_length or DEFAULT_MAX_LENGTH[kind]}
    elif kind == FieldType.NUMBER:
        prop["type"] = "number"
        if spec.min is not None:
            prop["minimum"] = _number(spec.min)
        if spec.max is not None:
            prop["maximum"] = _number(spec.max)
    elif kind == FieldType.MONEY:
        prop |= {"type": "string", "format": "money", "pattern": MONEY_PATTERN}
        if spec.min is not None:
            prop["x-minimum"] = f"{spec.min:.2f}"
        if spec.max is not None:
            prop["x-maximum"] = f"{spec.max:.2f}"
    elif kind == FieldType.DATE:
        prop |= {"type": "string", "format": "date"}
    elif kind == FieldType.CHOICE:
        prop |= {"type": "string", "enum": [option.value for option in spec.options or []]}
    elif kind == FieldType.MULTI_CHOICE:
        prop |= {
            "type": "array",
            "items": {"type": "string", "enum": [option.value for option in spec.options or []]},
            "uniqueItems": True,
        }
        if spec.max_items is not None:
            prop["maxItems"] = spec.max_items
    elif kind == FieldType.REGION:
        part = {"type": "string", "maxLength": REGION_PART_LENGTH}
        prop |= {
            "type": "object",
            "format": "cn-region",
            "properties": {
                "province": {"type": "string", "enum": [name for _, name, _ in PROVINCES]},
                "city": part,
                "district": part,
            },
            "required": ["province"],
            "additionalProperties": False,
        }
    elif kind == FieldType.PHONE:
        prop |= {"type": "string", "format": "cn-mobile", "pattern": CN_MOBILE_PATTERN}
    elif kind == FieldType.FILE:
        prop |= {
            "type": "array",
            "format": "attachment-ids",
            "items": {"type": "integer", "minimum": 1},
            "uniqueItems": True,
            "maxItems": spec.max_items or DEFAULT_MAX_FILES,
        }
    elif kind == FieldType.RATING:
        prop |= {"type": "integer", "minimum": 1, "maximum": RATING_MAX}
    elif kind == FieldType.CONSENT:
        prop["type"] = "boolean"
        if spec.required:
            prop["const"] = True
    if spec.visible_if is not None:
        prop["x-visible-if"] = spec.visible_if.model_dump(exclude_none=True)
    if spec.required_if is not None:
        prop["x-required-if"] = spec.required_if.model_dump(exclude_none=True)
    return prop


def _hints(spec: FieldSpec) -> dict[str, Any]:
    hints: dict[str, Any] = {"label": dict(spec.label)}
    if spec.help:
        hints["help"] = dict(spec.help)
    if spec.widget is not None:
        hints["widget"] = spec.widget
    if spec.type in CHOICE_TYPES:
        hints["options"] = {option.value: dict(option.label) for option in spec.options or []}
    if spec.type == FieldType.REGION:
        hints["options"] = {zh: {"zh-CN": zh, "en": en} for _, zh, en in PROVINCES}
    return hints


def compile_fields(specs: list[FieldSpec]) -> tuple[dict[str, Any], dict[str, Any]]:
    """The JSON Schema and the UI hints of a valid field list (see the module docstring)."""
    schema = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "type": "object",
        "properties": {spec.key: _property(spec) for spec in specs},
        "required": [spec.key for spec in specs if spec.required],
        "additionalProperties": False,
    }
    ui = {"order": [spec.key for spec in specs], "fields": {spec.key: _hints(spec) for spec in specs}}
    return schema, ui


def fields_of(schema: dict[str, Any], ui: dict[str, Any]) -> list[dict[str, Any]]:
    """The builder's field list of a compiled definition (what `compile_fields` was given)."""
    required = set(schema.get("required", []))
    specs = []
    for key in ui.get("order", []):
        prop, hints = schema["properties"][key], ui["fields"].get(key, {})
        kind = FieldType(prop["x-field"])
        spec: dict[str, Any] = {"key": key, "type": kind.value, "label": hints.get("label", {})}
        spec["help"] = hints.get("help", {})
        spec["required"] = key in required
        if kind in CHOICE_TYPES:
            values = prop["enum"] if kind == FieldType.CHOICE else prop["items"]["enum"]
            labels = hints.get("options", {})
            spec["options"] = [{"value": value, "label": labels.get(value, {})} for value in values]
            if "widget" in hints:
                spec["widget"] = hints["widget"]
        if kind in (FieldType.TEXT, FieldType.TEXTAREA) and prop["maxLength"] != DEFAULT_MAX_LENGTH[kind]:
            spec["max_length"] = prop["maxLength"]
        if kind == FieldType.NUMBER:
            spec |= {
                name: prop[word] for name, word in (("min", "minimum"), ("max", "maximum")) if word in prop
            }
        if kind == FieldType.MONEY:
            spec |= {
                name: prop[word]
                for name, word in (("min", "x-minimum"), ("max", "x-maximum"))
                if word in prop
            }
        if kind == FieldType.MULTI_CHOICE and "maxItems" in prop:
            spec["max_items"] = prop["maxItems"]
        if kind == FieldType.FILE and prop["maxItems"] != DEFAULT_MAX_FILES:
            spec["max_items"] = prop["maxItems"]
        for rule, word in (("visible_if", "x-visible-if"), ("required_if", "x-required-if")):
            if word in prop:
                spec[rule] = prop[word]
        specs.append(spec)
    return specs
