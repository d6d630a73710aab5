"""Ticket statistics for the SLA dashboard (SLA 看板): counts by status, priority, type, category and
region, SLA attainment per clock, what is about to breach, and the daily created / resolved series.

Everything is aggregated in SQL (GROUP BY and conditional sums), tenant-scoped, on SQLite and
PostgreSQL alike. An SLA clock is judged from the ticket's stored due time, the instant the clock
ended (the first reply, or resolution, which stops every clock) and `Ticket.sla_marks` (a breach the
timer already recorded):

- breached: marked as breached, or ended after its due time, or still running past its due time
  (a paused clock is judged at the instant it paused: the waiting time does not count);
- met: ended on or before its due time (and never marked as breached);
- running: neither yet.

Duplicates closed by a merge are left out of the attainment (the ticket they joined carries on).

Days are local calendar days in the requested time zone. PostgreSQL converts with its own zone
database; SQLite has none, so its expression adds the zone's UTC offset, switching offsets at the
zone's transitions inside the window (found here in Python), which gives the same days.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import ColumnElement, Integer, and_, bindparam, case, func, not_, or_, select
from sqlalchemy.orm import InstrumentedAttribute, Session

from scrm.core.actors import Actor
from scrm.core.clock import utcnow
from scrm.core.db import UtcDateTime
from scrm.core.errors import ValidationFailed
from scrm.tickets.lifecycle import DONE, TicketStatus
from scrm.tickets.models import Ticket
from scrm.tickets.permissions import TicketPermission
from scrm.tickets.schemas import (
    ClockAttainmentOut,
    DayCountOut,
    Priority,
    RegionCountOut,
    TicketStatsOut,
)

DEFAULT_DAYS = 30
MAX_DAYS = 366
DEFAULT_TIMEZONE = "Asia/Shanghai"
#: "About to breach": a running clock due within this long.
SOON = timedelta(hours=1)
CLOCKS = ("first_response", "resolution")
_DONE = [status.value for status in DONE]
MERGED = "merged"  # the outcome of a ticket closed as another's duplicate
# Offsets are looked for at this step; every zone's transitions fall on a quarter hour.
_OFFSET_STEP = timedelta(minutes=15)


@dataclass(frozen=True)
class StatsQuery:
    days: int = DEFAULT_DAYS
    timezone: str = DEFAULT_TIMEZONE
    ticket_type: str | None = None
    category: str | None = None


def ticket_stats(session: Session, *, actor: Actor, query: StatsQuery) -> TicketStatsOut:
    """The dashboard's figures for the actor's tenant (tickets.view). Raises ValidationFailed (422)
    for `days` outside 1..366 or an unknown time zone."""
    actor.require(TicketPermission.VIEW)
    zone = _zone(query.timezone)
    if not 1 <= query.days <= MAX_DAYS:
        raise ValidationFailed(
            "days is out of range", field_errors=[{"field": "days", "message": f"1..{MAX_DAYS}"}]
        )
    now = utcnow()
    first_day = now.astimezone(zone).date() - timedelta(days=query.days - 1)
    since = datetime.combine(first_day, time(0), zone).astimezone(UTC)
    now_param = bindparam("stats_now", now, type_=UtcDateTime())
    since_param = bindparam("stats_since", since, type_=UtcDateTime())

    scope = [Ticket.tenant_id == actor.tenant_id]
    if query.ticket_type is not None:
        scope.append(Ticket.ticket_type == query.ticket_type)
    if query.category is not None:
        scope.append(Ticket.category == query.category)
    in_window = [*scope, Ticket.created_at >= since_param]

    def counts(column: Any) -> dict[str, int]:
        rows = session.execute(select(column, func.count()).where(*in_window).group_by(column))
        return {str(key): int(count) for key, count in rows if key is not None}

    by_status = {status.value: 0 for status in TicketStatus} | counts(Ticket.status)
    by_priority = {priority.value: 0 for priority in Priority} | counts(Ticket.priority)

    sla = {clock: _attainment(session, in_window, clock, now_param) for clock in CLOCKS}
    soon_param = bindparam("stats_soon", now + SOON, type_=UtcDateTime())
    breaching_soon = _count(
        session,
        [*scope, _open_and_running(), _any_clock_due(lambda due: and_(due > now_param, due <= soon_param))],
    )
    overdue = _count(session, [*scope, _open_and_running(), _any_clock_due(lambda due: due <= now_param)])

    day_of = _local_day_expression(session, zone, since, now)
    created = _per_day(session, day_of(Ticket.created_at), in_window)
    resolved = _per_day(session, day_of(Ticket.resolved_at), [*scope, Ticket.resolved_at >= since_param])
    daily = [
        DayCountOut(day=day, created=int(created.get(day, 0)), resolved=int(resolved.get(day, 0)))
        for day in _days(first_day, query.days)
    ]

    regions = counts(Ticket.region)
    total = sum(by_status.values())
    return TicketStatsOut(
        days=query.days,
        timezone=query.timezone,
        since=since,
        generated_at=now,
        total=total,
        by_status=by_status,
        by_priority=by_priority,
        by_type=counts(Ticket.ticket_type),
        by_category=counts(Ticket.category),
        sla=sla,
        breaching_soon=breaching_soon,
        overdue=overdue,
        daily=daily,
        by_region=[
            RegionCountOut(region=region, count=count)
            for region, count in sorted(regions.items(), key=lambda item: (-item[1], item[0]))
        ],
        no_region=total - sum(regions.values()),
    )


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValidationFailed(
            f"unknown time zone {name!r}", field_errors=[{"field": "tz", "message": "unknown time zone"}]
        ) from None


def _count(session: Session, where: Iterable[ColumnElement[bool]]) -> int:
    return int(session.scalar(select(func.count()).select_from(Ticket).where(*where)) or 0)


def _per_day(session: Session, day: Any, where: list[ColumnElement[bool]]) -> dict[str, int]:
    # Grouped outside a subquery: PostgreSQL would not see the day expression's parameters in the
    # select list and in GROUP BY as one expression.
    days = select(day.label("day")).where(*where).subquery()
    rows = session.execute(select(days.c.day, func.count()).group_by(days.c.day))
    return {str(key): int(count) for key, count in rows}


def _ended_at(clock: str) -> ColumnElement[Any]:
    """When the clock stopped for good: the first reply (first response only), resolution, or a
    close without resolution (a merge)."""
    if clock == "first_response":
        return func.coalesce(Ticket.first_responded_at, Ticket.resolved_at, Ticket.closed_at)
    return func.coalesce(Ticket.resolved_at, Ticket.closed_at)


def _due(clock: str) -> InstrumentedAttribute[datetime | None]:
    return Ticket.due_first_response_at if clock == "first_response" else Ticket.due_resolution_at


def _breached(clock: str, now: Any) -> ColumnElement[bool]:
    due, ended = _due(clock), _ended_at(clock)
    return or_(
        Ticket.sla_marks[f"{clock}.breach"].as_string().is_not(None),
        and_(ended.is_not(None), ended > due),
        and_(ended.is_(None), due <= func.coalesce(Ticket.paused_at, now)),
    )


def _attainment(
    session: Session, in_window: list[ColumnElement[bool]], clock: str, now: Any
) -> ClockAttainmentOut:
    breached = _breached(clock, now)
    ended = _ended_at(clock)

    def total(condition: ColumnElement[bool]) -> Any:
        return func.coalesce(func.sum(case((condition, 1), else_=0)), 0).cast(Integer)

    met, missed, running = session.execute(
        select(
            total(and_(not_(breached), ended.is_not(None))),
            total(breached),
            total(and_(not_(breached), ended.is_(None))),
        ).where(*in_window, _due(clock).is_not(None), _not_merged())
    ).one()
    judged = int(met) + int(missed)
    return ClockAttainmentOut(
        met=int(met),
        breached=int(missed),
        running=int(running),
        attainment=round(int(met) / judged, 4) if judged else None,
    )


def _not_merged() -> ColumnElement[bool]:
    # A duplicate closed into another ticket is served by that ticket's clocks.
    return or_(Ticket.outcome.is_(None), Ticket.outcome != MERGED)


def _open_and_running() -> ColumnElement[bool]:
    return and_(Ticket.status.notin_(_DONE), Ticket.paused_at.is_(None))


def _any_clock_due(test: Any) -> ColumnElement[bool]:
    """A running clock (first response before the first reply; resolution) whose due time passes `test`."""
    return or_(
        and_(
            Ticket.first_responded_at.is_(None),
            Ticket.due_first_response_at.is_not(None),
            test(Ticket.due_first_response_at),
        ),
        and_(Ticket.due_resolution_at.is_not(None), test(Ticket.due_resolution_at)),
    )


def _days(first: date, count: int) -> list[str]:
    return [(first + timedelta(days=offset)).isoformat() for offset in range(count)]


def _local_day_expression(session: Session, zone: ZoneInfo, since: datetime, until: datetime) -> Any:
    """A function of a UTC datetime column giving its local day ("YYYY-MM-DD") in `zone`, valid for
    instants between `since` and `until` (and after, at the last offset)."""
    if session.get_bind().dialect.name == "postgresql":
        return lambda column: func.to_char(func.timezone(zone.key, column), "YYYY-MM-DD")

    segments = _offset_segments(zone, since, until)

    def sqlite_day(column: Any) -> Any:
        def shifted(minutes: int) -> Any:
            return func.strftime("%Y-%m-%d", column, f"{minutes:+d} minutes")

        *earlier, (_, last_minutes) = segments
        if not earlier:
            return shifted(last_minutes)
        return case(
            *[
                (column < bindparam(None, ends_at, type_=UtcDateTime()), shifted(minutes))
                for ends_at, minutes in earlier
            ],
            else_=shifted(last_minutes),
        )

    return sqlite_day


def _offset_segments(zone: ZoneInfo, since: datetime, until: datetime) -> list[tuple[datetime, int]]:
    """The zone's UTC offsets (in minutes) between `since` and `until`: [(when the offset stops
    applying, minutes), ..., (until, last minutes)]."""

    def offset(instant: datetime) -> int:
        delta = instant.astimezone(zone).utcoffset() or timedelta(0)
        return int(delta.total_seconds() // 60)

    segments: list[tuple[datetime, int]] = []
    current, instant = offset(since), since
    while instant < until:
        following = instant + _OFFSET_STEP
        if offset(following) != current:
            segments.append((following, current))
            current = offset(following)
        instant = following
    segments.append((until, current))
    return segments
