"""HTTP endpoints of channel codes (渠道活码), code groups, presence, problems and channel analytics."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import Response

from scrm.channels import analytics, qr, service, views
from scrm.channels.permissions import ChannelPermission
from scrm.channels.schemas import (
    AddOut,
    ChannelCreate,
    ChannelOut,
    ChannelUpdate,
    DecisionOut,
    GroupCreate,
    GroupOut,
    GroupUpdate,
    LiveOut,
    PresenceIn,
    PresenceOut,
    ProblemOut,
    SeriesOut,
    StaffStats,
    SummaryOut,
    UnknownStateOut,
    WelcomeResultOut,
)
from scrm.channels.ways import refresh_way
from scrm.core.errors import Conflict
from scrm.core.pagination import Page, PageRequest
from scrm.identity.deps import CurrentActor, DbSession
from scrm.platforms.base import PlatformError
from scrm.staff.service import names_by_userid

router = APIRouter(prefix="/api/v1/channels", tags=["channels"])

Limit = Annotated[int, Query(ge=1, le=200)]
Scale = Annotated[int, Query(ge=1, le=40)]
TimeZone = Annotated[str, Query(alias="tz", description="IANA time zone of the day buckets")]
FromDay = Annotated[date | None, Query(alias="from", description="first local day, included")]
ToDay = Annotated[date | None, Query(alias="to", description="last local day, included")]


# --- groups ---------------------------------------------------------------------------------------


@router.get("/groups", response_model=list[GroupOut])
def list_groups(actor: CurrentActor, session: DbSession) -> list[GroupOut]:
    return [
        GroupOut(id=g.id, name=g.name, description=g.description, code_count=count, created_at=g.created_at)
        for g, count in service.list_groups(session, actor=actor)
    ]


@router.post("/groups", response_model=GroupOut, status_code=201)
def create_group(body: GroupCreate, actor: CurrentActor, session: DbSession) -> GroupOut:
    group = service.create_group(session, actor=actor, data=body)
    return GroupOut(
        id=group.id, name=group.name, description=group.description, code_count=0, created_at=group.created_at
    )


@router.patch("/groups/{group_id}", response_model=GroupOut)
def update_group(group_id: int, body: GroupUpdate, actor: CurrentActor, session: DbSession) -> GroupOut:
    group = service.update_group(session, actor=actor, group_id=group_id, data=body)
    count = next((c for g, c in service.list_groups(session, actor=actor) if g.id == group.id), 0)
    return GroupOut(
        id=group.id,
        name=group.name,
        description=group.description,
        code_count=count,
        created_at=group.created_at,
    )


@router.delete("/groups/{group_id}", status_code=204)
def delete_group(group_id: int, actor: CurrentActor, session: DbSession) -> None:
    service.delete_group(session, actor=actor, group_id=group_id)


# --- presence, unknown states -----------------------------------------------------------------------


def _presence_out(session: DbSession, tenant_id: int, rows: list[dict]) -> list[PresenceOut]:
    names = names_by_userid(session, tenant_id=tenant_id, userids={row["userid"] for row in rows})
    return [PresenceOut(**row, name=names.get(row["userid"])) for row in rows]


@router.get("/staff", response_model=list[PresenceOut])
def list_presence(
    actor: CurrentActor, session: DbSession, connection_id: int | None = None
) -> list[PresenceOut]:
    """Members on live codes with their presence (在线/离线) and codes."""
    return _presence_out(
        session, actor.tenant_id, service.presence_rows(session, actor=actor, connection_id=connection_id)
    )


@router.put("/staff/{connection_id}/{userid}/presence", response_model=PresenceOut)
def set_presence(
    connection_id: int, userid: str, body: PresenceIn, actor: CurrentActor, session: DbSession
) -> PresenceOut:
    """Mark a member online or offline; their codes are re-planned within a second or so."""
    service.set_presence(
        session, actor=actor, connection_id=connection_id, userid=userid, is_online=body.is_online
    )
    rows = [
        row
        for row in service.presence_rows(session, actor=actor, connection_id=connection_id)
        if row["userid"] == userid
    ]
    return _presence_out(session, actor.tenant_id, rows)[0]


@router.get("/unknown-states", response_model=list[UnknownStateOut])
def unknown_states(
    actor: CurrentActor, session: DbSession, connection_id: int | None = None
) -> list[UnknownStateOut]:
    """Adds whose `state` matched no code, counted per state."""
    return views.unknown_states(session, actor=actor, connection_id=connection_id)


# --- analytics ------------------------------------------------------------------------------------


def _filters(
    actor: CurrentActor,
    from_day: date | None,
    to_day: date | None,
    tz: str,
    code_id: int | None,
    group_id: int | None,
    connection_id: int | None,
    store: str | None,
    region: str | None,
) -> analytics.Filters:
    return analytics.Filters(
        actor=actor,
        from_day=from_day,
        to_day=to_day,
        timezone=tz,
        code_id=code_id,
        group_id=group_id,
        connection_id=connection_id,
        store=store,
        region=region,
    )


@router.get("/analytics/summary", response_model=SummaryOut)
def analytics_summary(
    actor: CurrentActor,
    session: DbSession,
    from_day: FromDay = None,
    to_day: ToDay = None,
    tz: TimeZone = "Asia/Shanghai",
    code_id: int | None = None,
    group_id: int | None = None,
    connection_id: int | None = None,
    store: str | None = None,
    region: str | None = None,
) -> SummaryOut:
    """Adds, deletions (by staff, by customer) and net growth per code and per store over a day range
    (default: the last 30 days)."""
    filters = _filters(actor, from_day, to_day, tz, code_id, group_id, connection_id, store, region)
    return analytics.summary(session, filters)


@router.get("/analytics/series", response_model=SeriesOut)
def analytics_series(
    actor: CurrentActor,
    session: DbSession,
    bucket: Annotated[str, Query(pattern="^(day|hour)$")] = "day",
    from_day: FromDay = None,
    to_day: ToDay = None,
    tz: TimeZone = "Asia/Shanghai",
    code_id: int | None = None,
    group_id: int | None = None,
    connection_id: int | None = None,
    store: str | None = None,
    region: str | None = None,
) -> SeriesOut:
    """Adds, deletions and net per local day or hour."""
    filters = _filters(actor, from_day, to_day, tz, code_id, group_id, connection_id, store, region)
    return analytics.series(session, filters, bucket=bucket)


@router.get("/analytics/staff", response_model=list[StaffStats])
def analytics_staff(
    actor: CurrentActor,
    session: DbSession,
    from_day: FromDay = None,
    to_day: ToDay = None,
    tz: TimeZone = "Asia/Shanghai",
    code_id: int | None = None,
    group_id: int | None = None,
    connection_id: int | None = None,
    store: str | None = None,
    region: str | None = None,
) -> list[StaffStats]:
    """Adds, returning customers, deletions and net per member."""
    filters = _filters(actor, from_day, to_day, tz, code_id, group_id, connection_id, store, region)
    return analytics.per_staff(session, filters)


@router.get("/analytics/live", response_model=LiveOut)
def analytics_live(
    actor: CurrentActor,
    session: DbSession,
    since: Annotated[int | None, Query(ge=0, description="`cursor` of the previous answer")] = None,
    tz: TimeZone = "Asia/Shanghai",
) -> LiveOut:
    """The scan board: scans after `since` and per-store heartbeat counts. Poll every 2 s."""
    return analytics.live(session, actor=actor, since=since, timezone=tz)


# --- codes ----------------------------------------------------------------------------------------


@router.post("", response_model=ChannelOut, status_code=201)
def create_code(body: ChannelCreate, actor: CurrentActor, session: DbSession) -> ChannelOut:
    """Create a code and its WeCom contact way. 502/503 when WeCom fails (nothing is stored)."""
    code = service.create_code(session, actor=actor, data=body)
    return views.code_outs(session, [code])[0]


@router.get("", response_model=Page[ChannelOut])
def list_codes(
    actor: CurrentActor,
    session: DbSession,
    connection_id: int | None = None,
    group_id: int | None = None,
    store: str | None = None,
    region: str | None = None,
    status: Annotated[str | None, Query(pattern="^(active|disabled|deleted)$")] = None,
    q: str | None = None,
    limit: Limit = 50,
    cursor: str | None = None,
) -> Page[ChannelOut]:
    codes, next_cursor = service.list_codes(
        session,
        actor=actor,
        page=PageRequest(limit, cursor),
        connection_id=connection_id,
        group_id=group_id,
        store=store,
        region=region,
        status=status,
        q=q,
    )
    return Page(items=views.code_outs(session, codes), next_cursor=next_cursor)


@router.get("/{channel_id}", response_model=ChannelOut)
def get_code(channel_id: int, actor: CurrentActor, session: DbSession) -> ChannelOut:
    return views.code_outs(session, [service.get_code(session, actor=actor, code_id=channel_id)])[0]


@router.patch("/{channel_id}", response_model=ChannelOut)
def update_code(channel_id: int, body: ChannelUpdate, actor: CurrentActor, session: DbSession) -> ChannelOut:
    code = service.update_code(session, actor=actor, code_id=channel_id, data=body)
    return views.code_outs(session, [code])[0]


@router.delete("/{channel_id}", status_code=204)
def delete_code(channel_id: int, actor: CurrentActor, session: DbSession) -> None:
    """Delete the code's contact way in WeCom (its QR code stops working) and mark the code deleted."""
    service.delete_code(session, actor=actor, code_id=channel_id)


@router.post("/{channel_id}/refresh", response_model=ChannelOut)
def refresh_code(channel_id: int, actor: CurrentActor, session: DbSession) -> ChannelOut:
    """Re-plan the code now and push its contact way if it differs."""
    actor.require(ChannelPermission.MANAGE)
    code = service.require_code(session, actor, channel_id)
    if code.status != "active":
        raise Conflict(f"the code is {code.status}")
    try:
        refresh_way(session, code, trigger="manual")
    except PlatformError as error:
        raise service.platform_problem(error, "update_contact_way") from error
    return views.code_outs(session, [code])[0]


@router.post("/{channel_id}/recreate-way", response_model=ChannelOut)
def recreate_way(channel_id: int, actor: CurrentActor, session: DbSession) -> ChannelOut:
    """Give the code a new contact way with the same state (its way was deleted in WeCom): new QR."""
    return views.code_outs(session, [service.recreate_way(session, actor=actor, code_id=channel_id)])[0]


def _qr_content(actor: CurrentActor, session: DbSession, channel_id: int) -> str:
    code = service.get_code(session, actor=actor, code_id=channel_id)
    if not code.qr_url:
        raise Conflict("this code has no QR link (its contact way is gone)")
    return code.qr_url


@router.get("/{channel_id}/qr.png", response_class=Response, responses={200: {"content": {"image/png": {}}}})
def qr_png(
    channel_id: int, actor: CurrentActor, session: DbSession, color: str | None = None, scale: Scale = 8
) -> Response:
    """The code's QR image as PNG; `color` is a name (blue, red...) or #RRGGBB."""
    image = qr.png(_qr_content(actor, session, channel_id), colour=color, scale=scale)
    return Response(
        image,
        media_type="image/png",
        headers={"Content-Disposition": f'inline; filename="channel-{channel_id}.png"'},
    )


@router.get(
    "/{channel_id}/qr.svg", response_class=Response, responses={200: {"content": {"image/svg+xml": {}}}}
)
def qr_svg(
    channel_id: int,
    actor: CurrentActor,
    session: DbSession,
    color: str | None = None,
    label: Annotated[str | None, Query(max_length=40)] = None,
    scale: Scale = 8,
) -> Response:
    """The code's QR image as SVG, with an optional coloured label band (e.g. the store's name)."""
    image = qr.svg(_qr_content(actor, session, channel_id), colour=color, label=label, scale=scale)
    return Response(
        image,
        media_type="image/svg+xml",
        headers={"Content-Disposition": f'inline; filename="channel-{channel_id}.svg"'},
    )


@router.get("/{channel_id}/problems", response_model=Page[ProblemOut])
def list_problems(
    channel_id: int, actor: CurrentActor, session: DbSession, limit: Limit = 50, cursor: str | None = None
) -> Page[ProblemOut]:
    items, next_cursor = views.list_problems(
        session, actor=actor, code_id=channel_id, page=PageRequest(limit, cursor)
    )
    return Page(items=items, next_cursor=next_cursor)


@router.get("/{channel_id}/decisions", response_model=Page[DecisionOut])
def list_decisions(
    channel_id: int, actor: CurrentActor, session: DbSession, limit: Limit = 50, cursor: str | None = None
) -> Page[DecisionOut]:
    """Routing decisions: the user lists pushed to the contact way, and why."""
    items, next_cursor = views.list_decisions(
        session, actor=actor, code_id=channel_id, page=PageRequest(limit, cursor)
    )
    return Page(items=items, next_cursor=next_cursor)


@router.get("/{channel_id}/adds", response_model=Page[AddOut])
def list_adds(
    channel_id: int, actor: CurrentActor, session: DbSession, limit: Limit = 50, cursor: str | None = None
) -> Page[AddOut]:
    items, next_cursor = views.list_adds(
        session, actor=actor, code_id=channel_id, page=PageRequest(limit, cursor)
    )
    return Page(items=items, next_cursor=next_cursor)


@router.get("/{channel_id}/welcomes", response_model=Page[WelcomeResultOut])
def list_welcomes(
    channel_id: int, actor: CurrentActor, session: DbSession, limit: Limit = 50, cursor: str | None = None
) -> Page[WelcomeResultOut]:
    items, next_cursor = views.list_welcomes(
        session, actor=actor, code_id=channel_id, page=PageRequest(limit, cursor)
    )
    return Page(items=items, next_cursor=next_cursor)
