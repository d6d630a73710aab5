"""Channel analytics (渠道数据): adds, deletions (either side) and net growth per code, per store, per
member, by day and by hour; and the live feed of the scan board.

Everything is counted from `channel_adds` and `channel_deletions` with GROUP BY on their local day and
hour (stored at insert, in each code's time zone), so the same SQL runs on SQLite and PostgreSQL and
nothing is ever a read-modify-write counter. Days are "YYYY-MM-DD" strings, compared as text.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta
from typing import Any

from sqlalchemy import Integer, Select, cast, func, select
from sqlalchemy.orm import Session

from scrm.channels.calendar import zone
from scrm.channels.models import ChannelAdd, ChannelCode, ChannelDeletion
from scrm.channels.permissions import ChannelPermission
from scrm.channels.schemas import (
    CodeStats,
    LiveOut,
    LiveScan,
    LiveStore,
    SeriesOut,
    SeriesPoint,
    StaffStats,
    StoreStats,
    SummaryOut,
)
from scrm.core.actors import Actor
from scrm.core.clock import utcnow
from scrm.core.errors import ValidationFailed
from scrm.staff.service import names_by_userid

DEFAULT_DAYS = 30
MAX_DAYS = 400
LIVE_LIMIT = 200


class Filters:
    """The filters every analytics query takes, resolved to a day range and WHERE clauses."""

    def __init__(
        self,
        *,
        actor: Actor,
        from_day: date | None,
        to_day: date | None,
        timezone: str,
        code_id: int | None = None,
        group_id: int | None = None,
        connection_id: int | None = None,
        store: str | None = None,
        region: str | None = None,
    ) -> None:
        actor.require(ChannelPermission.ANALYTICS_VIEW)
        try:
            today = utcnow().astimezone(zone(timezone)).date()
        except ValueError as error:
            raise ValidationFailed(
                str(error), field_errors=[{"field": "tz", "message": str(error)}]
            ) from None
        self.to_day = to_day or today
        self.from_day = from_day or self.to_day - timedelta(days=DEFAULT_DAYS - 1)
        if self.from_day > self.to_day or (self.to_day - self.from_day).days >= MAX_DAYS:
            raise ValidationFailed(
                "the day range is empty or too long",
                field_errors=[{"field": "from", "message": f"from ≤ to, at most {MAX_DAYS} days"}],
            )
        self.tenant_id = actor.tenant_id
        self.code_id, self.group_id, self.connection_id = code_id, group_id, connection_id
        self.store, self.region = store, region

    def apply(self, stmt: Select, table: Any) -> Select:
        stmt = stmt.where(
            table.tenant_id == self.tenant_id,
            table.local_day >= self.from_day.isoformat(),
            table.local_day <= self.to_day.isoformat(),
        )
        if self.code_id is not None:
            stmt = stmt.where(table.code_id == self.code_id)
        if self.connection_id is not None:
            stmt = stmt.where(table.connection_id == self.connection_id)
        if self.store is not None:
            stmt = stmt.where(table.store == self.store)
        if self.region is not None:
            stmt = stmt.where(table.region == self.region)
        if self.group_id is not None:
            stmt = stmt.where(
                table.code_id.in_(
                    select(ChannelCode.id).where(
                        ChannelCode.tenant_id == self.tenant_id, ChannelCode.group_id == self.group_id
                    )
                )
            )
        return stmt


def summary(session: Session, filters: Filters) -> SummaryOut:
    adds: dict[int, tuple[int, int]] = {}
    for code_id, count, returning in session.execute(
        filters.apply(
            select(ChannelAdd.code_id, func.count(), func.sum(cast(ChannelAdd.is_returning, Integer))),
            ChannelAdd,
        ).group_by(ChannelAdd.code_id)
    ):
        adds[code_id] = (int(count), int(returning or 0))
    deletions: dict[int, dict[bool, int]] = defaultdict(dict)
    for code_id, by_customer, count in session.execute(
        filters.apply(
            select(ChannelDeletion.code_id, ChannelDeletion.by_customer, func.count()), ChannelDeletion
        ).group_by(ChannelDeletion.code_id, ChannelDeletion.by_customer)
    ):
        deletions[code_id][bool(by_customer)] = int(count)
    code_ids = sorted(set(adds) | set(deletions))
    codes = {
        code.id: code
        for code in session.scalars(
            select(ChannelCode).where(
                ChannelCode.tenant_id == filters.tenant_id, ChannelCode.id.in_(code_ids)
            )
        )
    }
    code_rows = []
    for code_id in code_ids:
        code = codes.get(code_id)
        added, returning = adds.get(code_id, (0, 0))
        by_staff, by_customer = deletions[code_id].get(False, 0), deletions[code_id].get(True, 0)
        code_rows.append(
            CodeStats(
                code_id=code_id,
                name=code.name if code else str(code_id),
                store=code.store if code else None,
                region=code.region if code else None,
                adds=added,
                returning=returning,
                deletions_by_staff=by_staff,
                deletions_by_customer=by_customer,
                net=added - by_staff - by_customer,
            )
        )
    code_rows.sort(key=lambda row: (-row.adds, row.code_id))
    stores: dict[tuple[str | None, str | None], list[int]] = defaultdict(lambda: [0, 0])
    for store, region, count in session.execute(
        filters.apply(select(ChannelAdd.store, ChannelAdd.region, func.count()), ChannelAdd).group_by(
            ChannelAdd.store, ChannelAdd.region
        )
    ):
        stores[(store, region)][0] += int(count)
    for store, region, count in session.execute(
        filters.apply(
            select(ChannelDeletion.store, ChannelDeletion.region, func.count()), ChannelDeletion
        ).group_by(ChannelDeletion.store, ChannelDeletion.region)
    ):
        stores[(store, region)][1] += int(count)
    store_rows = sorted(
        (
            StoreStats(store=store, region=region, adds=added, deletions=deleted, net=added - deleted)
            for (store, region), (added, deleted) in stores.items()
        ),
        key=lambda row: (-row.adds, row.store or ""),
    )
    total_adds = sum(row.adds for row in code_rows)
    total_deletions = sum(row.deletions_by_staff + row.deletions_by_customer for row in code_rows)
    return SummaryOut(
        from_day=filters.from_day.isoformat(),
        to_day=filters.to_day.isoformat(),
        codes=code_rows,
        stores=store_rows,
        adds=total_adds,
        deletions=total_deletions,
        net=total_adds - total_deletions,
    )


def series(session: Session, filters: Filters, *, bucket: str) -> SeriesOut:
    """Adds, deletions and net per local day (every day of the range, zeros included) or per hour
    (hours with activity)."""
    if bucket not in ("day", "hour"):
        raise ValidationFailed(
            "bucket is day or hour", field_errors=[{"field": "bucket", "message": "day or hour"}]
        )
    points: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    if bucket == "day":
        day = filters.from_day
        while day <= filters.to_day:
            points[day.isoformat()]
            day += timedelta(days=1)
    for table, index in ((ChannelAdd, 0), (ChannelDeletion, 1)):
        columns: list[Any] = [table.local_day] + ([table.local_hour] if bucket == "hour" else [])
        for row in session.execute(filters.apply(select(*columns, func.count()), table).group_by(*columns)):
            key = row[0] if bucket == "day" else f"{row[0]} {int(row[1]):02d}"
            points[key][index] += int(row[-1])
    return SeriesOut(
        bucket=bucket,
        points=[
            SeriesPoint(key=key, adds=added, deletions=deleted, net=added - deleted)
            for key, (added, deleted) in sorted(points.items())
        ],
    )


def per_staff(session: Session, filters: Filters) -> list[StaffStats]:
    figures: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
    for userid, count, returning in session.execute(
        filters.apply(
            select(ChannelAdd.staff_userid, func.count(), func.sum(cast(ChannelAdd.is_returning, Integer))),
            ChannelAdd,
        ).group_by(ChannelAdd.staff_userid)
    ):
        figures[userid][0] += int(count)
        figures[userid][1] += int(returning or 0)
    for userid, count in session.execute(
        filters.apply(select(ChannelDeletion.staff_userid, func.count()), ChannelDeletion).group_by(
            ChannelDeletion.staff_userid
        )
    ):
        figures[userid][2] += int(count)
    names = names_by_userid(session, tenant_id=filters.tenant_id, userids=figures.keys())
    return sorted(
        (
            StaffStats(
                staff_userid=userid,
                name=names.get(userid),
                adds=added,
                returning=returning,
                deletions=deleted,
                net=added - deleted,
            )
            for userid, (added, returning, deleted) in figures.items()
        ),
        key=lambda row: (-row.adds, row.staff_userid),
    )


def live(
    session: Session, *, actor: Actor, since: int | None, timezone: str, limit: int = LIVE_LIMIT
) -> LiveOut:
    """The scan board's feed: adds after `since` (an id from the previous answer's `cursor`; the latest
    50 without one), and per store the adds of the last minute and of today. Three indexed queries,
    cheap enough to poll every 2 seconds."""
    actor.require(ChannelPermission.ANALYTICS_VIEW)
    now = utcnow()
    stmt = (
        select(ChannelAdd, ChannelCode.name)
        .join(ChannelCode, ChannelCode.id == ChannelAdd.code_id)
        .where(ChannelAdd.tenant_id == actor.tenant_id)
    )
    if since is None:
        rows = list(session.execute(stmt.order_by(ChannelAdd.id.desc()).limit(50)))[::-1]
    else:
        rows = list(session.execute(stmt.where(ChannelAdd.id > since).order_by(ChannelAdd.id).limit(limit)))
    items = [
        LiveScan(
            id=add.id,
            code_id=add.code_id,
            code_name=name,
            store=add.store,
            region=add.region,
            staff_userid=add.staff_userid,
            occurred_at=add.occurred_at,
            is_returning=add.is_returning,
        )
        for add, name in rows
    ]
    cursor = items[-1].id if items else (since or 0)
    today = now.astimezone(zone(timezone)).date().isoformat()
    minute: dict[str | None, int] = dict(
        session.execute(
            select(ChannelAdd.store, func.count())
            .where(
                ChannelAdd.tenant_id == actor.tenant_id, ChannelAdd.recorded_at >= now - timedelta(seconds=60)
            )
            .group_by(ChannelAdd.store)
        ).all()
    )
    daily: dict[str | None, int] = dict(
        session.execute(
            select(ChannelAdd.store, func.count())
            .where(ChannelAdd.tenant_id == actor.tenant_id, ChannelAdd.local_day == today)
            .group_by(ChannelAdd.store)
        ).all()
    )
    stores = [
        LiveStore(
            store=store, adds_last_minute=int(minute.get(store, 0)), adds_today=int(daily.get(store, 0))
        )
        for store in sorted(set(minute) | set(daily), key=lambda value: value or "")
    ]
    return LiveOut(items=items, cursor=cursor, stores=stores, server_time=now)
