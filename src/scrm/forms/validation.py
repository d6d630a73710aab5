"""Submitted data checked against a form version's schema (compiled by `fields.py`). Pure.

`validate_data` answers the cleaned data and one field error per problem:
- a key the form does not have is an error (`unknown_field`);
- a field hidden by its `x-visible-if` rule is neither validated nor kept, whatever was sent;
- a field is required when listed in `required` or when its `x-required-if` rule holds; empty values
  (null, "", [], {}) of optional fields are dropped;
- values are normalised: text trimmed, money as a string with two decimals (checked as Decimal),
  phones as 11 digits, region parts trimmed.

Rules read the submitted values of the fields they name, a hidden field counting as empty.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from datetime import date
from decimal import Decimal
from typing import Any

from scrm.forms.messages import field_error
from scrm.forms.regions import PROVINCE_NAMES

_MONEY = re.compile(r"^\d{1,12}(\.\d{1,2})?$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_CN_MOBILE = re.compile(r"^1[3-9]\d{9}$")


class Invalid(Exception):
    def __init__(self, code: str, **context: Any) -> None:
        super().__init__(code)
        self.code = code
        self.context = context


def is_filled(value: Any) -> bool:
    return value is not None and value != "" and value != [] and value != {}


def holds(condition: dict[str, Any], value: Any) -> bool:
    """Whether a rule's condition holds for the named field's value (None when hidden or empty)."""
    op, expected = condition["op"], condition.get("value")
    if op == "filled":
        return is_filled(value) and value is not False
    if isinstance(value, list):  # multi-choice: "equals" means includes, "in" means any of
        wanted = expected if op == "in" and isinstance(expected, list) else [expected]
        return any(item in value for item in wanted if isinstance(item, str))
    if isinstance(value, dict | list) or value is None:
        return False
    return bool(value in expected) if op == "in" and isinstance(expected, list) else value == expected


def _text(prop: dict[str, Any], value: Any) -> str:
    if not isinstance(value, str):
        raise Invalid("not_text")
    text = value.strip()
    if len(text) > prop["maxLength"]:
        raise Invalid("too_long", max_length=prop["maxLength"])
    return text


def _number(prop: dict[str, Any], value: Any) -> int | float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise Invalid("not_number")
    if "minimum" in prop and value < prop["minimum"]:
        raise Invalid("below_minimum", minimum=prop["minimum"])
    if "maximum" in prop and value > prop["maximum"]:
        raise Invalid("above_maximum", maximum=prop["maximum"])
    return value


def _money(prop: dict[str, Any], value: Any) -> str:
    """Money is a string ("12.5", "12.50"): a float would have lost the fen already."""
    if not isinstance(value, str) or not _MONEY.fullmatch(value.strip()):
        raise Invalid("not_money")
    amount = Decimal(value.strip()).quantize(Decimal("0.01"))
    if "x-minimum" in prop and amount < Decimal(prop["x-minimum"]):
        raise Invalid("below_minimum", minimum=prop["x-minimum"])
    if "x-maximum" in prop and amount > Decimal(prop["x-maximum"]):
        raise Invalid("above_maximum", maximum=prop["x-maximum"])
    return f"{amount:.2f}"


def _date(prop: dict[str, Any], value: Any) -> str:
    if not isinstance(value, str) or not _DATE.fullmatch(value):
        raise Invalid("not_date")
    try:
        return date.fromisoformat(value).isoformat()
    except ValueError:
        raise Invalid("not_date") from None


def _choice(prop: dict[str, Any], value: Any) -> str:
    if not isinstance(value, str) or value not in prop["enum"]:
        raise Invalid("not_option")
    return value


def _multi_choice(prop: dict[str, Any], value: Any) -> list[str]:
    allowed = prop["items"]["enum"]
    if (
        not isinstance(value, list)
        or any(not isinstance(item, str) or item not in allowed for item in value)
        or len(set(value)) != len(value)
    ):
        raise Invalid("not_options")
    if "maxItems" in prop and len(value) > prop["maxItems"]:
        raise Invalid("too_many_items", max_items=prop["maxItems"])
    return list(value)


def _region(prop: dict[str, Any], value: Any) -> dict[str, str]:
    parts = ("province", "city", "district")
    if (
        not isinstance(value, dict)
        or set(value) - set(parts)
        or any(item is not None and not isinstance(item, str) for item in value.values())
        or not (value.get("province") or "").strip()
    ):
        raise Invalid("not_region")
    cleaned = {part: (value.get(part) or "").strip() for part in parts}
    if cleaned["province"] not in PROVINCE_NAMES:
        raise Invalid("unknown_province")
    if any(len(text) > 50 for text in cleaned.values()):
        raise Invalid("too_long", max_length=50)
    return {part: text for part, text in cleaned.items() if text}


def normalize_cn_mobile(value: str) -> str | None:
    """The 11 digits of a mainland China mobile number written with spaces, dashes or +86; or None."""
    digits = re.sub(r"[\s\-()]", "", value)
    for prefix in ("+86", "0086", "86"):
        if digits.startswith(prefix) and len(digits) == len(prefix) + 11:
            digits = digits[len(prefix) :]
    return digits if _CN_MOBILE.fullmatch(digits) else None


def _phone(prop: dict[str, Any], value: Any) -> str:
    number = normalize_cn_mobile(value) if isinstance(value, str) else None
    if number is None:
        raise Invalid("not_phone")
    return number


def _files(prop: dict[str, Any], value: Any) -> list[int]:
    """Attachment ids: the shape only; the attachments domain vouches for the ids themselves."""
    if (
        not isinstance(value, list)
        or any(isinstance(item, bool) or not isinstance(item, int) or item < 1 for item in value)
        or len(set(value)) != len(value)
    ):
        raise Invalid("not_files")
    if len(value) > prop["maxItems"]:
        raise Invalid("too_many_items", max_items=prop["maxItems"])
    return list(value)


def _rating(prop: dict[str, Any], value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= prop["maximum"]:
        raise Invalid("not_rating")
    return value


def _consent(prop: dict[str, Any], value: Any) -> bool:
    if not isinstance(value, bool):
        raise Invalid("not_boolean")
    if prop.get("const") is True and value is not True:
        raise Invalid("consent_required")
    return value


CHECKS: dict[str, Callable[[dict[str, Any], Any], Any]] = {
    "text": _text,
    "textarea": _text,
    "number": _number,
    "money": _money,
    "date": _date,
    "choice": _choice,
    "multi_choice": _multi_choice,
    "region": _region,
    "phone": _phone,
    "file": _files,
    "rating": _rating,
    "consent": _consent,
}


def visible_fields(schema: dict[str, Any], data: dict[str, Any]) -> set[str]:
    """The keys whose visibility rule holds (or that have none). Definitions are checked for circles
    when saved; a circle here would count as hidden."""
    properties: dict[str, Any] = schema["properties"]
    known: dict[str, bool] = {}

    def visible(key: str, path: frozenset[str]) -> bool:
        if key in known:
            return known[key]
        rule = properties[key].get("x-visible-if")
        if rule is None:
            result = True
        elif rule["field"] in path or rule["field"] not in properties:
            result = False
        else:
            shown = visible(rule["field"], path | {key})
            result = holds(rule, data.get(rule["field"]) if shown else None)
        known[key] = result
        return result

    return {key for key in properties if visible(key, frozenset())}


def validate_data(
    schema: dict[str, Any], data: Any, *, prefix: str = ""
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """(cleaned data, field errors) of `data` under `schema`; field errors name `<prefix><key>`."""
    if not isinstance(data, dict):
        return {}, [field_error(prefix.rstrip(".") or "data", "not_object")]
    properties: dict[str, Any] = schema["properties"]
    errors = [field_error(f"{prefix}{key}", "unknown_field") for key in data if key not in properties]
    shown = visible_fields(schema, data)
    required = set(schema.get("required", []))
    cleaned: dict[str, Any] = {}
    for key in properties:
        if key not in shown:
            continue
        prop, value = properties[key], data.get(key)
        rule = prop.get("x-required-if")
        needed = key in required or (
            rule is not None and holds(rule, data.get(rule["field"]) if rule["field"] in shown else None)
        )
        if not is_filled(value):
            if needed:
                errors.append(field_error(f"{prefix}{key}", "required"))
            continue
        if needed and prop["x-field"] == "consent":
            prop = prop | {"const": True}  # a consent box required by a rule must be ticked too
        try:
            result = CHECKS[prop["x-field"]](prop, value)
        except Invalid as problem:
            errors.append(field_error(f"{prefix}{key}", problem.code, **problem.context))
            continue
        if result == "":  # only blanks
            if needed:
                errors.append(field_error(f"{prefix}{key}", "required"))
            continue
        cleaned[key] = result
    return (cleaned, errors) if not errors else ({}, errors)
