"""Time values of the condition language: absolute dates and instants, relative offsets, durations.

- Absolute: ``"2026-03-01"`` (a whole day, in the evaluation's time zone) or an ISO instant
  ``"2026-03-01T08:00:00+08:00"`` (no offset: the evaluation's time zone).
- Relative: ``"30d"`` or ``"-30d"`` is 30 days before now, ``"+7d"`` 7 days after now; units ``m``
  (minutes), ``h``, ``d``, ``w``. On a date field only ``d`` and ``w``, counted from today.
- Durations (within_last / within_next): ``"30d"``, ``"12h"``, ``"2w"`` (no sign).

Resolution against a `TimeContext` (now, time zone) gives `Bounds`: where the value starts and
ends. A whole day ends at the next midnight (exclusive); an instant ends where it starts
(inclusive). Both evaluators compare with the same bounds, so they agree to the microsecond.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import Any
from zoneinfo import ZoneInfo

_RELATIVE = re.compile(r"^([+-]?)(\d{1,6})(m|h|d|w)$")
_DURATION = re.compile(r"^(\d{1,6})(m|h|d|w)$")
SHANGHAI = ZoneInfo("Asia/Shanghai")
_UNITS = {"m": timedelta(minutes=1), "h": timedelta(hours=1), "d": timedelta(days=1), "w": timedelta(weeks=1)}


@dataclass(frozen=True)
class TimeContext:
    """When and where a condition is evaluated: `now` (aware) and the calendar's time zone."""

    now: datetime
    tz: tzinfo = SHANGHAI

    def __post_init__(self) -> None:
        if self.now.tzinfo is None:
            raise ValueError("TimeContext.now must be timezone-aware")

    @property
    def today(self) -> date:
        return self.now.astimezone(self.tz).date()


@dataclass(frozen=True)
class Duration:
    text: str
    amount: int
    unit: str

    @property
    def delta(self) -> timedelta:
        return self.amount * _UNITS[self.unit]

    @property
    def whole_days(self) -> bool:
        return self.unit in ("d", "w")

    @property
    def days(self) -> int:
        return self.amount * (7 if self.unit == "w" else 1)


@dataclass(frozen=True)
class TimePoint:
    """An absolute day, an absolute instant, or an offset from now (`offset`, signed)."""

    text: str
    day: date | None = None
    instant: datetime | None = None  # may be naive: then in the evaluation's time zone
    offset: Duration | None = None
    future: bool = False


@dataclass(frozen=True)
class Bounds:
    """Where a time value starts and ends; `end_inclusive` is False for whole days."""

    start: Any  # datetime (aware) or date
    end: Any
    end_inclusive: bool


def parse_duration(raw: Any) -> Duration:
    if not isinstance(raw, str) or not (match := _DURATION.fullmatch(raw.strip())):
        raise ValueError('expected a duration such as "30d", "12h" or "2w"')
    amount, unit = int(match.group(1)), match.group(2)
    return Duration(raw.strip(), amount, unit)


def parse_date_point(raw: Any, *, calendar: bool) -> TimePoint:
    """A time value for a date (`calendar`) or datetime field; raises ValueError with the reason."""
    if not isinstance(raw, str) or not raw.strip():
        raise ValueError('expected a date ("2026-03-01"), an instant, or a relative value ("30d", "+7d")')
    text = raw.strip()
    if match := _RELATIVE.fullmatch(text):
        sign, amount, unit = match.groups()
        if calendar and unit not in ("d", "w"):
            raise ValueError("a date field takes relative values in days or weeks")
        return TimePoint(text, offset=Duration(f"{amount}{unit}", int(amount), unit), future=sign == "+")
    if len(text) == 10:
        try:
            return TimePoint(text, day=date.fromisoformat(text))
        except ValueError:
            raise ValueError(f"{text!r} is not a date (YYYY-MM-DD)") from None
    if calendar:
        raise ValueError("a date field takes a date (YYYY-MM-DD) or a relative value in days")
    try:
        return TimePoint(text, instant=datetime.fromisoformat(text.replace("Z", "+00:00")))
    except ValueError:
        raise ValueError(f"{text!r} is not an ISO date or date-time") from None


def _aware(value: datetime, context: TimeContext) -> datetime:
    return value.replace(tzinfo=context.tz) if value.tzinfo is None else value


def resolve(point: TimePoint, context: TimeContext, *, calendar: bool) -> Bounds:
    """The bounds of `point` now. Instants are returned in UTC; days of a date field as dates."""
    if calendar:
        if point.offset is not None:
            days = point.offset.days if point.future else -point.offset.days
            day = context.today + timedelta(days=days)
        else:
            assert point.day is not None
            day = point.day
        return Bounds(day, day, True)
    if point.offset is not None:
        moment = context.now + (point.offset.delta if point.future else -point.offset.delta)
        moment = moment.astimezone(UTC)
        return Bounds(moment, moment, True)
    if point.instant is not None:
        moment = _aware(point.instant, context).astimezone(UTC)
        return Bounds(moment, moment, True)
    assert point.day is not None
    start = datetime.combine(point.day, time(), context.tz).astimezone(UTC)
    end = datetime.combine(point.day + timedelta(days=1), time(), context.tz).astimezone(UTC)
    return Bounds(start, end, False)


def window(duration: Duration, context: TimeContext, *, calendar: bool, future: bool) -> Bounds:
    """within_last / within_next: [now - d, now] or [now, now + d] (days: from today)."""
    if calendar:
        today = context.today
        other = today + timedelta(days=duration.days if future else -duration.days)
        return Bounds(today, other, True) if future else Bounds(other, today, True)
    now = context.now.astimezone(UTC)
    return Bounds(now, now + duration.delta, True) if future else Bounds(now - duration.delta, now, True)


def coerce_time(value: Any, *, calendar: bool) -> Any:
    """A record's value as a comparable date (calendar) or aware UTC datetime; None if unset.

    Strings are read as ISO; naive datetimes are taken as UTC (how the database returns them)."""
    if value is None:
        return None
    if calendar:
        if isinstance(value, datetime):
            return value.date()
        if isinstance(value, date):
            return value
        return date.fromisoformat(str(value)[:10])
    if isinstance(value, str):
        value = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if isinstance(value, datetime):
        return (value if value.tzinfo else value.replace(tzinfo=UTC)).astimezone(UTC)
    if isinstance(value, date):
        return datetime.combine(value, time(), UTC)
    raise ValueError(f"not a time value: {value!r}")
