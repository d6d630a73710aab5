"""Deadline maths on business calendars: a golden table (lunch breaks, nights, weekends, holidays,
make-up working days, daylight-saving jumps, zero and exact-fit targets), the properties any arrival
time and target must satisfy, and the calendar spec's field errors."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scrm.tickets.sla.calendar import (
    WEEKDAYS,
    BusinessCalendar,
    InvalidCalendar,
    NoWorkingTime,
    add_business_minutes,
    add_business_seconds,
    business_seconds_between,
)

SHANGHAI = ZoneInfo("Asia/Shanghai")
WORKDAY = [["09:00", "12:00"], ["13:30", "18:00"]]  # 7.5 h with a lunch break

# 2026-09-28 is a Monday. A tenant's holidays 2026-10-01..08 (Thu..Thu) and a make-up Saturday
# 2026-10-10 worked as a Monday (the dates are a fixture, not the official schedule).
OFFICE = BusinessCalendar.from_spec(
    timezone="Asia/Shanghai",
    weekly={day: WORKDAY for day in WEEKDAYS[:5]},
    holidays=[f"2026-10-0{day}" for day in range(1, 9)],
    extra_workdays=["2026-10-10"],
)
ROUND_THE_CLOCK_NY = BusinessCalendar.from_spec(
    timezone="America/New_York", weekly={day: [["00:00", "24:00"]] for day in WEEKDAYS}
)
NIGHT_SHIFT = BusinessCalendar.from_spec(
    timezone="Asia/Shanghai", weekly={"mon": [["22:00", "24:00"]], "tue": [["00:00", "06:00"]]}
)


def local(text: str, zone: ZoneInfo = SHANGHAI) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=zone)


GOLDEN = [
    # (calendar, start, minutes, due) in the calendar's local time
    ("lunch break skipped", OFFICE, "2026-09-28 11:30", 60, "2026-09-28 14:00"),
    ("started during lunch", OFFICE, "2026-09-28 12:30", 30, "2026-09-28 14:00"),
    ("started before opening", OFFICE, "2026-09-28 07:00", 30, "2026-09-28 09:30"),
    ("started after closing", OFFICE, "2026-09-28 19:00", 30, "2026-09-29 09:30"),
    ("fits the morning exactly", OFFICE, "2026-09-28 09:00", 180, "2026-09-28 12:00"),
    ("fits the day exactly", OFFICE, "2026-09-28 09:00", 450, "2026-09-28 18:00"),
    ("one minute more: next morning", OFFICE, "2026-09-28 09:00", 451, "2026-09-29 09:01"),
    ("weekend skipped", OFFICE, "2026-09-25 17:30", 60, "2026-09-28 09:30"),
    ("started on a Sunday", OFFICE, "2026-09-27 10:00", 15, "2026-09-28 09:15"),
    ("holidays skipped", OFFICE, "2026-09-30 17:30", 60, "2026-10-09 09:30"),
    ("started on a holiday", OFFICE, "2026-10-02 10:00", 30, "2026-10-09 09:30"),
    ("Friday into the make-up Saturday", OFFICE, "2026-10-09 17:30", 60, "2026-10-10 09:30"),
    ("make-up Saturday then Monday", OFFICE, "2026-10-10 17:00", 120, "2026-10-12 10:00"),
    ("a two-day target", OFFICE, "2026-09-28 10:00", 900, "2026-09-30 10:00"),
    ("zero minutes off hours is the start", OFFICE, "2026-09-27 03:00", 0, "2026-09-27 03:00"),
    ("overnight shift across midnight", NIGHT_SHIFT, "2026-09-28 23:00", 120, "2026-09-29 01:00"),
    ("overnight shift, started on its second day", NIGHT_SHIFT, "2026-09-29 05:00", 90, "2026-10-05 22:30"),
]


@pytest.mark.parametrize(
    ("case", "calendar", "start", "minutes", "due"), GOLDEN, ids=[row[0] for row in GOLDEN]
)
def test_golden_deadlines(case: str, calendar: BusinessCalendar, start: str, minutes: int, due: str) -> None:
    started = local(start, calendar.timezone)
    got = add_business_minutes(calendar, started, minutes)
    assert got.astimezone(calendar.timezone) == local(due, calendar.timezone), case
    assert business_seconds_between(calendar, started, got) == minutes * 60


def test_working_time_is_real_time_across_daylight_saving_jumps() -> None:
    ny = ZoneInfo("America/New_York")
    # Spring forward (2026-03-08 02:00 -> 03:00): three working hours from 23:00 end at 03:00 EDT.
    due = add_business_minutes(ROUND_THE_CLOCK_NY, local("2026-03-07 23:00", ny), 180)
    assert due == datetime(2026, 3, 8, 7, 0, tzinfo=UTC) and due.astimezone(ny).hour == 3
    # Fall back (2026-11-01 02:00 -> 01:00): the repeated hour counts twice.
    due = add_business_minutes(ROUND_THE_CLOCK_NY, local("2026-11-01 00:00", ny), 180)
    assert due.astimezone(ny).replace(tzinfo=None) == datetime(2026, 11, 1, 2, 0)
    assert ROUND_THE_CLOCK_NY.working_spans(date(2026, 3, 8))[0][1] - ROUND_THE_CLOCK_NY.working_spans(
        date(2026, 3, 8)
    )[0][0] == timedelta(hours=23)
    # An interval that starts inside the skipped hour starts at the jump.
    skipped = BusinessCalendar.from_spec(timezone="America/New_York", weekly={"sun": [["02:30", "04:00"]]})
    assert skipped.working_spans(date(2026, 3, 8)) == (
        (datetime(2026, 3, 8, 7, 0, tzinfo=UTC), datetime(2026, 3, 8, 8, 0, tzinfo=UTC)),
    )


def test_holidays_win_over_extra_working_days_and_empty_calendars_raise() -> None:
    both = BusinessCalendar.from_spec(
        timezone="Asia/Shanghai",
        weekly={"mon": WORKDAY},
        holidays=["2026-10-10"],
        extra_workdays=["2026-10-10"],
    )
    assert both.intervals_on(date(2026, 10, 10)) == ()
    never = BusinessCalendar.from_spec(timezone="Asia/Shanghai", weekly={})
    with pytest.raises(NoWorkingTime):
        add_business_minutes(never, local("2026-09-28 09:00"), 1)
    with pytest.raises(ValueError, match="timezone-aware"):
        add_business_minutes(OFFICE, datetime(2026, 9, 28, 9, 0), 1)


def test_the_spec_reports_every_bad_field() -> None:
    with pytest.raises(InvalidCalendar) as raised:
        BusinessCalendar.from_spec(
            timezone="Mars/Olympus",
            weekly={
                "mon": [["09:00", "12:00"], ["11:00", "13:00"]],
                "tue": [["18:00", "09:00"]],
                "wed": [["9:00", "12:00"]],
                "funday": [],
                "thu": "09:00-18:00",  # type: ignore[dict-item]
            },
            holidays=["2026-13-01"],
        )
    fields = {error["field"] for error in raised.value.field_errors}
    assert fields == {
        "timezone",
        "weekly.mon",
        "weekly.tue[0]",
        "weekly.wed[0]",
        "weekly.funday",
        "weekly.thu",
        "holidays[0]",
    }


# --- properties ------------------------------------------------------------------------------------------

CALENDARS = st.sampled_from([OFFICE, NIGHT_SHIFT, ROUND_THE_CLOCK_NY])
STARTS = st.datetimes(
    min_value=datetime(2026, 1, 1), max_value=datetime(2027, 12, 31), timezones=st.just(UTC)
).map(lambda moment: moment.replace(microsecond=0))
MINUTES = st.integers(min_value=0, max_value=20_000)


@settings(max_examples=300, deadline=None)
@given(calendar=CALENDARS, start=STARTS, minutes=MINUTES)
def test_the_due_time_counts_back_to_the_target(
    calendar: BusinessCalendar, start: datetime, minutes: int
) -> None:
    due = add_business_minutes(calendar, start, minutes)
    assert due >= start
    assert business_seconds_between(calendar, start, due) == minutes * 60
    if minutes:
        # The deadline falls inside working time (an interval's end counts as inside).
        assert any(span_start < due <= span_end for span_start, span_end in _spans_around(calendar, due))


@settings(max_examples=300, deadline=None)
@given(calendar=CALENDARS, start=STARTS, first=MINUTES, second=MINUTES)
def test_targets_add_up_and_grow_monotonically(
    calendar: BusinessCalendar, start: datetime, first: int, second: int
) -> None:
    once = add_business_minutes(calendar, start, first + second)
    assert add_business_minutes(calendar, add_business_minutes(calendar, start, first), second) == once
    assert add_business_minutes(calendar, start, min(first, second)) <= add_business_minutes(
        calendar, start, max(first, second)
    )


@settings(max_examples=200, deadline=None)
@given(calendar=CALENDARS, start=STARTS, middle=MINUTES, end=MINUTES)
def test_working_time_between_is_additive(
    calendar: BusinessCalendar, start: datetime, middle: int, end: int
) -> None:
    split = start + timedelta(minutes=min(middle, end))
    stop = start + timedelta(minutes=max(middle, end))
    assert business_seconds_between(calendar, start, stop) == business_seconds_between(
        calendar, start, split
    ) + business_seconds_between(calendar, split, stop)


def test_seconds_and_minutes_agree() -> None:
    start = local("2026-09-28 11:59")
    assert add_business_seconds(OFFICE, start, 90) == local("2026-09-28 13:30") + timedelta(seconds=30)


def _spans_around(calendar: BusinessCalendar, moment: datetime) -> list[tuple[datetime, datetime]]:
    day = moment.astimezone(calendar.timezone).date()
    return [span for offset in (-1, 0, 1) for span in calendar.working_spans(day + timedelta(days=offset))]
