"""Business calendars and deadline maths (工作日历与时限计算): pure functions, no database.

A `BusinessCalendar` says when a team works: a time zone, working intervals per weekday (several per
day, e.g. a lunch break between two), holidays (days off whatever their weekday, 法定节假日) and extra
working days (调休上班: weekend days worked, with the intervals `makeup_intervals` gives, by default
Monday's).

Contracts:
- `add_business_seconds(calendar, start, seconds)` is the instant when `seconds` of working time have
  passed since `start`. Working time is real elapsed time inside working intervals, so an interval
  that spans a daylight-saving jump counts the hour it really lasts. Zero seconds is `start` itself,
  whether or not the team is working then. A deadline that uses up an interval exactly is that
  interval's end, not the next interval's start.
- `business_seconds_between(calendar, start, end)` is the working time in [start, end) (0 when
  end <= start). It is the inverse: `business_seconds_between(c, s, add_business_seconds(c, s, n)) == n`.
- Instants are timezone-aware (any zone; UTC is returned). A working interval's wall-clock bound that
  a DST jump skips is read as the jump itself; a repeated one as its first occurrence.
- A calendar with no working time within `HORIZON_DAYS` raises `NoWorkingTime`.

`BusinessCalendar.from_spec` builds one from the API's JSON (weekday keys `mon`..`sun`, intervals as
["HH:MM", "HH:MM"], "24:00" allowed as an end) and raises `InvalidCalendar` naming every bad field.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from itertools import pairwise
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
#: How far ahead a deadline is searched before the calendar is declared empty (about ten years).
HORIZON_DAYS = 3700
END_OF_DAY = 24 * 60  # minutes: "24:00"

#: One working interval of a day: [start, end) in minutes after local midnight (end may be 1440).
Interval = tuple[int, int]


class NoWorkingTime(ValueError):
    """The calendar has no working time within the horizon (every day off)."""


class InvalidCalendar(ValueError):
    """A calendar spec with errors; `field_errors` lists each as {"field", "message"}."""

    def __init__(self, field_errors: list[dict[str, str]]) -> None:
        super().__init__("; ".join(f"{error['field']}: {error['message']}" for error in field_errors))
        self.field_errors = field_errors


@dataclass(frozen=True)
class BusinessCalendar:
    timezone: ZoneInfo
    # weekday (0 = Monday) -> sorted, non-overlapping intervals; absent or empty: a day off.
    weekly: Mapping[int, tuple[Interval, ...]]
    holidays: frozenset[date] = frozenset()
    extra_workdays: frozenset[date] = frozenset()
    # The intervals of an extra working day; None: Monday's.
    makeup_intervals: tuple[Interval, ...] | None = None
    _cache: dict[date, tuple[tuple[datetime, datetime], ...]] = field(
        default_factory=dict, compare=False, repr=False
    )

    def intervals_on(self, day: date) -> tuple[Interval, ...]:
        """The working intervals of a local calendar day (holidays win over extra working days)."""
        if day in self.holidays:
            return ()
        if day in self.extra_workdays:
            return self.makeup_intervals if self.makeup_intervals is not None else self.weekly.get(0, ())
        return self.weekly.get(day.weekday(), ())

    def working_spans(self, day: date) -> tuple[tuple[datetime, datetime], ...]:
        """The day's working intervals as UTC instants, in order (cached: deadlines revisit days)."""
        spans = self._cache.get(day)
        if spans is None:
            spans = tuple(
                span
                for start, end in self.intervals_on(day)
                if (span := (self._instant(day, start), self._instant(day, end)))[0] < span[1]
            )
            if len(self._cache) > 4096:
                self._cache.clear()
            self._cache[day] = spans
        return spans

    def _instant(self, day: date, minutes: int) -> datetime:
        if minutes >= END_OF_DAY:
            return self._instant(day + timedelta(days=1), 0)
        wall = datetime.combine(day, time(minutes // 60, minutes % 60))
        after = wall.replace(tzinfo=self.timezone).astimezone(UTC)
        if after.astimezone(self.timezone).replace(tzinfo=None) == wall:
            return after  # (a repeated wall time resolves to its first occurrence: fold=0)
        # A wall time the DST jump skipped: the jump itself, found between the readings of the wall
        # time by the offsets before and after it.
        before = wall.replace(tzinfo=self.timezone, fold=1).astimezone(UTC)
        low, high = min(before, after), max(before, after)
        while high - low > timedelta(seconds=1):
            middle = low + (high - low) / 2
            if middle.astimezone(self.timezone).replace(tzinfo=None) >= wall:
                high = middle
            else:
                low = middle
        return high.replace(microsecond=0)

    @classmethod
    def from_spec(
        cls,
        *,
        timezone: str,
        weekly: Mapping[str, Sequence[Sequence[str]]],
        holidays: Sequence[str] = (),
        extra_workdays: Sequence[str] = (),
        makeup_intervals: Sequence[Sequence[str]] | None = None,
    ) -> BusinessCalendar:
        """A calendar from the API's JSON (see the module docstring); raises InvalidCalendar."""
        errors: list[dict[str, str]] = []
        try:
            zone = ZoneInfo(timezone)
        except (ZoneInfoNotFoundError, ValueError):
            errors.append({"field": "timezone", "message": f"unknown time zone {timezone!r}"})
            zone = ZoneInfo("UTC")
        parsed: dict[int, tuple[Interval, ...]] = {}
        for key, intervals in weekly.items():
            if key not in WEEKDAYS:
                errors.append({"field": f"weekly.{key}", "message": f"expected one of {', '.join(WEEKDAYS)}"})
                continue
            parsed[WEEKDAYS.index(key)] = _parse_intervals(f"weekly.{key}", intervals, errors)
        makeup = (
            None
            if makeup_intervals is None
            else _parse_intervals("makeup_intervals", makeup_intervals, errors)
        )
        holiday_dates = _parse_dates("holidays", holidays, errors)
        extra_dates = _parse_dates("extra_workdays", extra_workdays, errors)
        if errors:
            raise InvalidCalendar(errors)
        return cls(zone, parsed, frozenset(holiday_dates), frozenset(extra_dates), makeup)


def _parse_minutes(text: Any) -> int | None:
    if not isinstance(text, str) or len(text) != 5 or text[2] != ":":
        return None
    hours, minutes = text[:2], text[3:]
    if not (hours.isdigit() and minutes.isdigit()):
        return None
    value = int(hours) * 60 + int(minutes)
    if int(minutes) >= 60 or value > END_OF_DAY:
        return None
    return value


def _parse_intervals(where: str, intervals: Any, errors: list[dict[str, str]]) -> tuple[Interval, ...]:
    if not isinstance(intervals, Sequence) or isinstance(intervals, str):
        errors.append({"field": where, "message": 'expected a list of ["HH:MM", "HH:MM"]'})
        return ()
    parsed: list[Interval] = []
    for index, interval in enumerate(intervals):
        here = f"{where}[{index}]"
        if not isinstance(interval, Sequence) or isinstance(interval, str) or len(interval) != 2:
            errors.append({"field": here, "message": 'expected ["HH:MM", "HH:MM"]'})
            continue
        start, end = _parse_minutes(interval[0]), _parse_minutes(interval[1])
        if start is None or end is None or start >= END_OF_DAY:
            errors.append({"field": here, "message": "times are HH:MM between 00:00 and 24:00"})
            continue
        if end <= start:
            errors.append({"field": here, "message": "the end must be after the start"})
            continue
        parsed.append((start, end))
    parsed.sort()
    for (_, previous_end), (start, _) in pairwise(parsed):
        if start < previous_end:
            errors.append({"field": where, "message": "intervals overlap"})
            break
    return tuple(parsed)


def _parse_dates(where: str, values: Sequence[str], errors: list[dict[str, str]]) -> list[date]:
    parsed = []
    for index, value in enumerate(values):
        try:
            parsed.append(date.fromisoformat(value))
        except (TypeError, ValueError):
            errors.append({"field": f"{where}[{index}]", "message": "expected a date, YYYY-MM-DD"})
    return parsed


def _spans_from(calendar: BusinessCalendar, start: datetime) -> Iterator[tuple[datetime, datetime]]:
    """The working spans that end after `start`, clipped to begin no earlier than it, in order."""
    day = start.astimezone(calendar.timezone).date() - timedelta(days=1)  # an overnight span may reach in
    for _ in range(HORIZON_DAYS):
        for span_start, span_end in calendar.working_spans(day):
            if span_end > start:
                yield max(span_start, start), span_end
        day += timedelta(days=1)


def _aware(moment: datetime, name: str) -> datetime:
    if moment.tzinfo is None:
        raise ValueError(f"{name} must be timezone-aware")
    return moment.astimezone(UTC)


def add_business_seconds(calendar: BusinessCalendar, start: datetime, seconds: float) -> datetime:
    """The instant `seconds` of working time after `start` (see the module docstring)."""
    start = _aware(start, "start")
    if seconds < 0:
        raise ValueError("seconds must not be negative")
    if seconds == 0:
        return start
    remaining = timedelta(seconds=seconds)
    for span_start, span_end in _spans_from(calendar, start):
        available = span_end - span_start
        if remaining <= available:
            return span_start + remaining
        remaining -= available
    raise NoWorkingTime(f"no working time within {HORIZON_DAYS} days")


def add_business_minutes(calendar: BusinessCalendar, start: datetime, minutes: float) -> datetime:
    return add_business_seconds(calendar, start, minutes * 60)


def business_seconds_between(calendar: BusinessCalendar, start: datetime, end: datetime) -> float:
    """Working time in [start, end), in seconds (0 when end <= start)."""
    start, end = _aware(start, "start"), _aware(end, "end")
    total = timedelta()
    if end <= start:
        return 0.0
    for span_start, span_end in _spans_from(calendar, start):
        if span_start >= end:
            break
        total += min(span_end, end) - span_start
    return total.total_seconds()
