"""Youzan value conventions: yuan strings, China-time strings, booleans in many spellings. Pure."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

#: Youzan times are China time (Asia/Shanghai: UTC+8 all year, no DST since 1991).
CHINA_TZ = timezone(timedelta(hours=8), "Asia/Shanghai")
TIME_FORMAT = "%Y-%m-%d %H:%M:%S"
_CLEAR_PHONE = re.compile(r"^1\d{10}$")


def fen(value: Any) -> int | None:
    """Decimal yuan ("11.00", 11, "0.5") → integer fen, rounding half up; None when absent or
    not a number. Floats go through their shortest repr, never binary arithmetic."""
    if value is None or value == "" or isinstance(value, bool):
        return None
    try:
        amount = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        return None
    if not amount.is_finite():
        return None
    return int((amount * 100).to_integral_value(rounding=ROUND_HALF_UP))


def yuan(amount_fen: int) -> str:
    """Integer fen → the yuan string Youzan writes ("169.00")."""
    return f"{Decimal(amount_fen) / 100:.2f}"


def china_time(value: Any) -> datetime | None:
    """ "yyyy-MM-dd HH:mm:ss" in China time → aware UTC; None when absent or malformed."""
    if not value or not isinstance(value, str):
        return None
    try:
        local = datetime.strptime(value.strip(), TIME_FORMAT)
    except ValueError:
        return None
    return local.replace(tzinfo=CHINA_TZ).astimezone(UTC)


def china_text(moment: datetime) -> str:
    """Aware datetime → "yyyy-MM-dd HH:mm:ss" in China time (sub-seconds dropped)."""
    return moment.astimezone(CHINA_TZ).strftime(TIME_FORMAT)


def epoch_ms(moment: datetime | None) -> int | None:
    return None if moment is None else int(moment.timestamp() * 1000)


def truthy(value: Any) -> bool:
    """Youzan flags come as true, 1, "1", "true"."""
    if isinstance(value, str):
        return value.strip().lower() in {"1", "true", "yes"}
    return bool(value)


def clear_phone(value: Any) -> str | None:
    """`value` when it is a mainland mobile number in clear (11 digits starting with 1)."""
    if isinstance(value, str) and _CLEAR_PHONE.fullmatch(value.strip()):
        return value.strip()
    return None


def text(value: Any) -> str | None:
    """A non-empty string form of `value`, or None."""
    if value is None or isinstance(value, bool):
        return None
    result = str(value).strip()
    return result or None
