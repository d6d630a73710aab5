"""Local-time windows shared by routing and welcome messages (pure: no database, no clock).

A `TimeRange` is a half-open range of local clock time, `[start, end)`. When `end` is earlier than
`start` it runs overnight, and the part after midnight belongs to the day it started on: a Friday
"21:00-02:00" shift covers Saturday 01:00, and a Saturday-only 21:00-02:00 shift does not cover
Saturday 01:00. `start == end` means the whole day.

A `WeeklyWindow` is a set of ISO weekdays (1 Monday .. 7 Sunday; empty means every day) and ranges.
A `SpecialDate` replaces the weekly windows for one local date (ranges within that day; none means
closed), for everyone or for the listed staff.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

ALL_DAYS = frozenset(range(1, 8))


@lru_cache(maxsize=64)
def zone(name: str) -> ZoneInfo:
    """The IANA time zone `name`; raises ValueError for an unknown one."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as error:
        raise ValueError(f"unknown time zone {name!r}") from error


def parse_clock(text: str) -> time:
    """ "HH:MM" (00:00..24:00, where 24:00 means the end of the day) as a time; raises ValueError."""
    hours, sep, minutes = text.partition(":")
    if not sep or not hours.isdigit() or not minutes.isdigit() or len(minutes) != 2:
        raise ValueError(f"{text!r} is not HH:MM")
    hour, minute = int(hours), int(minutes)
    if (hour, minute) == (24, 0):
        return time(0, 0)
    if not (0 <= hour < 24 and 0 <= minute < 60):
        raise ValueError(f"{text!r} is not a time of day")
    return time(hour, minute)


@dataclass(frozen=True)
class TimeRange:
    start: time
    end: time

    @classmethod
    def parse(cls, start: str, end: str) -> TimeRange:
        return cls(parse_clock(start), parse_clock(end))

    @property
    def overnight(self) -> bool:
        return self.end < self.start

    @property
    def whole_day(self) -> bool:
        return self.start == self.end

    def same_day_part(self, moment: time) -> bool:
        """Whether `moment` falls in the part of the range on the day it starts."""
        if self.whole_day:
            return True
        if self.overnight:
            return moment >= self.start
        return self.start <= moment < self.end

    def next_day_part(self, moment: time) -> bool:
        """Whether `moment` falls in the part after midnight of an overnight range."""
        return self.overnight and moment < self.end


@dataclass(frozen=True)
class WeeklyWindow:
    days: frozenset[int] = ALL_DAYS
    ranges: tuple[TimeRange, ...] = ()

    def contains(self, local: datetime, *, previous_day_counts: bool = True) -> bool:
        """Whether local time `local` is inside the window (see the module docstring)."""
        days = self.days or ALL_DAYS
        moment = local.time()
        today = local.isoweekday()
        yesterday = (today - 2) % 7 + 1
        for item in self.ranges:
            if today in days and item.same_day_part(moment):
                return True
            if previous_day_counts and yesterday in days and item.next_day_part(moment):
                return True
        return False


def in_any(windows: Sequence[WeeklyWindow], local: datetime) -> bool:
    return any(window.contains(local) for window in windows)


@dataclass(frozen=True)
class SpecialDate:
    """A date with its own hours (empty: closed), for `userids` (empty: everyone)."""

    day: date
    ranges: tuple[TimeRange, ...] = ()
    userids: frozenset[str] = field(default_factory=frozenset)

    def applies_to(self, userid: str) -> bool:
        return not self.userids or userid in self.userids


def special_for(specials: Iterable[SpecialDate], day: date, userid: str) -> SpecialDate | None:
    """The special date for `userid` on `day` (the last one listed wins)."""
    found = None
    for special in specials:
        if special.day == day and special.applies_to(userid):
            found = special
    return found


def on_duty(
    windows: Sequence[WeeklyWindow] | None, specials: Sequence[SpecialDate], userid: str, local: datetime
) -> bool:
    """Whether `userid` works at local time `local`. No windows means always, except special dates.

    On a special date only its ranges count, and the weekly overnight tail of the day before does not
    reach into it; the day after a special date gets no overnight tail from it either.
    """
    special = special_for(specials, local.date(), userid)
    moment = local.time()
    if special is not None:
        return any(item.start <= moment < item.end or item.whole_day for item in special.ranges)
    if windows is None:
        return True
    yesterday_special = special_for(specials, local.date() - timedelta(days=1), userid) is not None
    return any(window.contains(local, previous_day_counts=not yesterday_special) for window in windows)


def boundary_times(windows: Iterable[WeeklyWindow], specials: Iterable[SpecialDate]) -> set[time]:
    """Every local clock time at which some window may open or close (midnight included)."""
    times = {time(0, 0)}
    for window in windows:
        for item in window.ranges:
            times.update((item.start, item.end))
    for special in specials:
        for item in special.ranges:
            times.update((item.start, item.end))
    return times


def next_boundary(now: datetime, tz: ZoneInfo, clock_times: set[time], *, horizon_days: int = 8) -> datetime:
    """The first instant after `now` (UTC) whose local clock time is in `clock_times`.

    A superset of the real changes is fine: whoever wakes at a boundary recomputes and finds no change.
    """
    local_now = now.astimezone(tz)
    best: datetime | None = None
    for offset in range(horizon_days + 1):
        day = local_now.date() + timedelta(days=offset)
        for moment in clock_times:
            candidate = datetime.combine(day, moment, tzinfo=tz).astimezone(UTC)
            if candidate > now and (best is None or candidate < best):
                best = candidate
        if best is not None:
            return best
    return now + timedelta(days=horizon_days)


def local_day(now: datetime, tz: ZoneInfo) -> date:
    return now.astimezone(tz).date()
