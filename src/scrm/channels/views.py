"""Read models of codes for the API: codes with their staff, tags, way and counts; a code's problems,
decisions, adds and welcome results; unknown states. Batched: a page costs a handful of queries."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session, aliased

from scrm.channels.calendar import local_day, zone
from scrm.channels.models import (
    ChannelAdd,
    ChannelCode,
    ChannelDecision,
    ChannelProblem,
    ChannelWelcome,
    ProblemKind,
)
from scrm.channels.permissions import ChannelPermission
from scrm.channels.schemas import (
    AddOut,
    ChannelOut,
    DecisionOut,
    ProblemOut,
    ProblemSummary,
    RoutingIn,
    StaffEntryOut,
    TagRef,
    UnknownStateOut,
    WayOut,
    WelcomeIn,
    WelcomeResultOut,
    WindowIn,
)
from scrm.channels.service import adds_total, require_code
from scrm.channels.ways import offline_userids
from scrm.core.actors import Actor
from scrm.core.clock import utcnow
from scrm.core.pagination import PageRequest, paginate
from scrm.core.tenancy import tenant_select
from scrm.customers.channel_support import tags_by_ids
from scrm.staff.service import names_by_userid


def code_outs(
    session: Session, codes: Sequence[ChannelCode], *, now: datetime | None = None
) -> list[ChannelOut]:
    if not codes:
        return []
    now = now or utcnow()
    tenant_id = codes[0].tenant_id
    ids = [code.id for code in codes]
    days = {code.id: local_day(now, zone(code.timezone)).isoformat() for code in codes}
    today: dict[int, dict[str, int]] = defaultdict(dict)
    for code_id, day, userid, count in session.execute(
        select(ChannelAdd.code_id, ChannelAdd.local_day, ChannelAdd.staff_userid, func.count())
        .where(
            ChannelAdd.tenant_id == tenant_id,
            ChannelAdd.code_id.in_(ids),
            ChannelAdd.local_day.in_(set(days.values())),
        )
        .group_by(ChannelAdd.code_id, ChannelAdd.local_day, ChannelAdd.staff_userid)
    ):
        if days[code_id] == day:
            today[code_id][userid] = int(count)
    totals = adds_total(session, tenant_id=tenant_id, code_ids=ids)
    problems: dict[int, dict[str, int]] = defaultdict(dict)
    last_problem: dict[int, datetime] = {}
    for problem_code_id, kind, count, last in session.execute(
        select(
            ChannelProblem.code_id, ChannelProblem.kind, func.count(), func.max(ChannelProblem.occurred_at)
        )
        .where(ChannelProblem.tenant_id == tenant_id, ChannelProblem.code_id.in_(ids))
        .group_by(ChannelProblem.code_id, ChannelProblem.kind)
    ):
        if problem_code_id is None:
            continue
        problems[problem_code_id][kind] = int(count)
        if last is not None:
            last_problem[problem_code_id] = max(last_problem.get(problem_code_id, last), last)
    tags = {
        tag.id: tag
        for tag in tags_by_ids(
            session, tenant_id=tenant_id, tag_ids=sorted({t for code in codes for t in code.tag_ids})
        )
    }
    userids = {item["userid"] for code in codes for item in code.staff}
    names = names_by_userid(session, tenant_id=tenant_id, userids=userids)
    offline = {
        connection_id: offline_userids(session, tenant_id=tenant_id, connection_id=connection_id)
        for connection_id in {code.connection_id for code in codes}
    }
    result = []
    for code in codes:
        staff = [
            StaffEntryOut(
                **item,
                name=names.get(item["userid"]),
                is_online=item["userid"] not in offline[code.connection_id],
                adds_today=today[code.id].get(item["userid"], 0),
            )
            for item in code.staff
        ]
        result.append(
            ChannelOut(
                id=code.id,
                connection_id=code.connection_id,
                name=code.name,
                description=code.description,
                status=code.status,
                state=code.state,
                config_id=code.config_id,
                qr_url=code.qr_url,
                qr_png_url=f"/api/v1/channels/{code.id}/qr.png",
                qr_svg_url=f"/api/v1/channels/{code.id}/qr.svg",
                group_id=code.group_id,
                store=code.store,
                region=code.region,
                staff=staff,
                routing=RoutingIn.model_validate(code.routing or {}),
                tags=[
                    TagRef(id=tags[tag_id].id, name=tags[tag_id].name, wecom_tag_id=tags[tag_id].wecom_tag_id)
                    for tag_id in code.tag_ids
                    if tag_id in tags
                ],
                welcome=WelcomeIn.model_validate(code.welcome) if code.welcome else None,
                skip_verify=code.skip_verify,
                skip_verify_windows=[
                    WindowIn.model_validate(item) for item in code.skip_verify_windows or []
                ],
                remark_template=code.remark_template,
                description_template=code.description_template,
                way=WayOut(
                    users=list(code.way_users or []),
                    skip_verify=code.way_skip_verify,
                    synced_at=code.way_synced_at,
                    error=code.way_error,
                ),
                adds_today=sum(today[code.id].values()),
                adds_total=totals.get(code.id, 0),
                problems=ProblemSummary(
                    total=sum(problems[code.id].values()),
                    by_kind=problems[code.id],
                    last_at=last_problem.get(code.id),
                ),
                created_at=code.created_at,
                updated_at=code.updated_at,
            )
        )
    return result


def list_problems(
    session: Session, *, actor: Actor, code_id: int, page: PageRequest
) -> tuple[list[ProblemOut], str | None]:
    actor.require(ChannelPermission.VIEW)
    code = require_code(session, actor, code_id)
    rows, cursor = paginate(
        session,
        tenant_select(ChannelProblem, actor.tenant_id).where(ChannelProblem.code_id == code.id),
        ChannelProblem.id,
        page,
    )
    return [_problem_out(row) for row in rows], cursor


def _problem_out(row: ChannelProblem) -> ProblemOut:
    return ProblemOut(
        id=row.id,
        code_id=row.code_id,
        kind=row.kind,
        state=row.state,
        message=row.message,
        detail=row.detail,
        occurred_at=row.occurred_at,
    )


def unknown_states(
    session: Session, *, actor: Actor, connection_id: int | None = None
) -> list[UnknownStateOut]:
    """The "unknown state" counter: adds whose state matched no code, per state, counted from rows."""
    actor.require(ChannelPermission.VIEW)
    stmt = (
        select(
            ChannelProblem.connection_id,
            ChannelProblem.state,
            func.count(),
            func.max(ChannelProblem.occurred_at),
        )
        .where(ChannelProblem.tenant_id == actor.tenant_id, ChannelProblem.kind == ProblemKind.UNKNOWN_STATE)
        .group_by(ChannelProblem.connection_id, ChannelProblem.state)
        .order_by(func.count().desc())
    )
    if connection_id is not None:
        stmt = stmt.where(ChannelProblem.connection_id == connection_id)
    return [
        UnknownStateOut(connection_id=cid, state=state or "", count=int(count), last_seen_at=last)
        for cid, state, count, last in session.execute(stmt)
    ]


def list_decisions(
    session: Session, *, actor: Actor, code_id: int, page: PageRequest
) -> tuple[list[DecisionOut], str | None]:
    actor.require(ChannelPermission.VIEW)
    code = require_code(session, actor, code_id)
    rows, cursor = paginate(
        session,
        tenant_select(ChannelDecision, actor.tenant_id).where(ChannelDecision.code_id == code.id),
        ChannelDecision.id,
        page,
    )
    return [
        DecisionOut(
            id=row.id,
            decided_at=row.decided_at,
            trigger=row.trigger,
            users=row.users,
            skip_verify=row.skip_verify,
            mode=row.mode,
            reason=row.reason,
            excluded=row.excluded,
            is_pushed=row.is_pushed,
            error=row.error,
        )
        for row in rows
    ], cursor


def list_adds(
    session: Session, *, actor: Actor, code_id: int, page: PageRequest
) -> tuple[list[AddOut], str | None]:
    """The code's adds, newest first. `over_cap` is counted from rows: the member had reached their
    cap on this code that local day before this add (it raced the way's update)."""
    actor.require(ChannelPermission.VIEW)
    code = require_code(session, actor, code_id)
    earlier = aliased(ChannelAdd)
    before = (
        select(func.count())
        .where(
            and_(
                earlier.tenant_id == ChannelAdd.tenant_id,
                earlier.code_id == ChannelAdd.code_id,
                earlier.local_day == ChannelAdd.local_day,
                earlier.staff_userid == ChannelAdd.staff_userid,
                earlier.id < ChannelAdd.id,
            )
        )
        .scalar_subquery()
    )
    stmt = select(ChannelAdd, before).where(
        ChannelAdd.tenant_id == actor.tenant_id, ChannelAdd.code_id == code.id
    )
    rows, cursor = paginate(session, stmt, ChannelAdd.id, page, rows=True)
    caps: dict[str, int] = {
        item["userid"]: int(item["daily_cap"]) for item in code.staff if item.get("daily_cap")
    }
    names = names_by_userid(session, tenant_id=actor.tenant_id, userids={add.staff_userid for add, _ in rows})
    return [
        AddOut(
            id=add.id,
            code_id=add.code_id,
            staff_userid=add.staff_userid,
            staff_name=names.get(add.staff_userid),
            external_userid=add.external_userid,
            customer_id=add.customer_id,
            store=add.store,
            region=add.region,
            occurred_at=add.occurred_at,
            local_day=add.local_day,
            is_returning=add.is_returning,
            is_half=add.is_half,
            was_listed=add.was_listed,
            routed_to=add.routed_to,
            over_cap=add.staff_userid in caps and int(count) >= caps[add.staff_userid],
        )
        for add, count in rows
    ], cursor


def list_welcomes(
    session: Session, *, actor: Actor, code_id: int, page: PageRequest
) -> tuple[list[WelcomeResultOut], str | None]:
    actor.require(ChannelPermission.VIEW)
    code = require_code(session, actor, code_id)
    rows, cursor = paginate(
        session,
        tenant_select(ChannelWelcome, actor.tenant_id).where(ChannelWelcome.code_id == code.id),
        ChannelWelcome.id,
        page,
    )
    return [
        WelcomeResultOut(
            id=row.id,
            code_id=row.code_id,
            customer_id=row.customer_id,
            staff_userid=row.staff_userid,
            variant=row.variant,
            status=row.status,
            attempts=row.attempts,
            text=row.text,
            error=row.error,
            created_at=row.created_at,
        )
        for row in rows
    ], cursor
