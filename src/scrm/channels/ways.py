"""Keeping each code's WeCom contact way right: facts counted from rows, the routing plan, the push.

`refresh_way` computes the plan (`scrm.channels.routing.plan_way`) from rows at `now` and, when the
user list or skip-verify differs from what the way has, calls `update_contact_way` (paced by the
client's rate limiter) and records the decision with its reason. It runs in durable timers:

- `channels.refresh_way` key `<code>:now`: re-armed by every add that may change the plan (rotation,
  a cap reached), so a burst of adds costs one update per worker round, and every add that commits
  is followed by a refresh that sees it (re-arming a timer being fired makes the firing roll back and
  fire again, see `scrm.core.timers`): caps hold on rows, whatever the concurrency;
- `channels.refresh_way` key `<code>:next`: the next schedule boundary, skip-verify window edge or
  local midnight (cap reset), set by every refresh.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from scrm.channels.calendar import local_day, zone
from scrm.channels.models import (
    ChannelAdd,
    ChannelCode,
    ChannelDecision,
    ChannelProblem,
    CodeStatus,
    ProblemKind,
    StaffPresence,
)
from scrm.channels.policies import routing_policy, skip_verify_windows
from scrm.channels.routing import (
    PlanMode,
    RoutingFacts,
    Strategy,
    WayPlan,
    next_skip_verify_change,
    plan_way,
    skip_verify_at,
)
from scrm.core.clock import utcnow
from scrm.core.events import TimerDelivery, TimerHandler
from scrm.core.outbox_models import Timer, TimerStatus
from scrm.core.timers import reschedule, schedule
from scrm.platforms.base import PlatformError
from scrm.platforms.runtime import platform_runtime
from scrm.platforms.wecom.client import WeComClient
from scrm.platforms.wecom.errors import WeComError
from scrm.staff.service import find_member

log = logging.getLogger(__name__)

REFRESH_KIND = "channels.refresh_way"
#: In handlers and timers a rate-limit wait longer than this ends the attempt (retried later).
HANDLER_MAX_WAIT_SECONDS = 3.0


@dataclass(frozen=True)
class DesiredWay:
    plan: WayPlan
    skip_verify: bool
    next_change_at: datetime | None


def wecom_client(session: Session, code: ChannelCode, *, max_wait_seconds: float = 5.0) -> WeComClient:
    """The code's connection's client, built once per unit of work (decrypting the secrets costs)."""
    cache = session.info.setdefault("scrm.channels.unit_cache", {})
    key = ("wecom_client", code.tenant_id, code.connection_id, max_wait_seconds)
    if key not in cache:
        cache[key] = platform_runtime().wecom_client(
            session,
            tenant_id=code.tenant_id,
            connection_id=code.connection_id,
            max_wait_seconds=max_wait_seconds,
        )
    client: WeComClient = cache[key]
    return client


def adds_today(session: Session, code: ChannelCode, now: datetime) -> dict[str, int]:
    """Adds through `code` per member on the code's local day of `now`, counted from rows."""
    day = local_day(now, zone(code.timezone)).isoformat()
    rows = session.execute(
        select(ChannelAdd.staff_userid, func.count())
        .where(
            ChannelAdd.tenant_id == code.tenant_id, ChannelAdd.code_id == code.id, ChannelAdd.local_day == day
        )
        .group_by(ChannelAdd.staff_userid)
    ).all()
    return {userid: int(count) for userid, count in rows}


def last_receiver(session: Session, code: ChannelCode) -> str | None:
    return session.scalar(
        select(ChannelAdd.staff_userid)
        .where(ChannelAdd.tenant_id == code.tenant_id, ChannelAdd.code_id == code.id)
        .order_by(ChannelAdd.id.desc())
        .limit(1)
    )


def offline_userids(session: Session, *, tenant_id: int, connection_id: int) -> frozenset[str]:
    return frozenset(
        session.scalars(
            select(StaffPresence.userid).where(
                StaffPresence.tenant_id == tenant_id,
                StaffPresence.connection_id == connection_id,
                StaffPresence.is_online.is_(False),
            )
        )
    )


def lacks_customer_contact(session: Session, *, tenant_id: int, connection_id: int, userid: str) -> bool:
    """True when our mirror of the corp knows the member and says 客户联系 is off (unknown: False)."""
    member = find_member(session, tenant_id=tenant_id, connection_id=connection_id, userid=userid)
    return member is not None and not member.has_customer_contact


def routing_facts(session: Session, code: ChannelCode, now: datetime) -> RoutingFacts:
    userids: Iterable[str] = (str(item["userid"]) for item in code.staff)
    return RoutingFacts(
        now=now,
        adds_today=adds_today(session, code, now),
        last_userid=last_receiver(session, code),
        offline=offline_userids(session, tenant_id=code.tenant_id, connection_id=code.connection_id),
        without_customer_contact=frozenset(
            userid
            for userid in userids
            if lacks_customer_contact(
                session, tenant_id=code.tenant_id, connection_id=code.connection_id, userid=userid
            )
        ),
    )


def desired_way(session: Session, code: ChannelCode, now: datetime) -> DesiredWay:
    policy = routing_policy(code)
    plan = plan_way(policy, routing_facts(session, code, now))
    windows = skip_verify_windows(code)
    skip = skip_verify_at(code.skip_verify, windows, code.timezone, now)
    changes = [t for t in (plan.next_change_at, next_skip_verify_change(windows, code.timezone, now)) if t]
    return DesiredWay(plan=plan, skip_verify=skip, next_change_at=min(changes) if changes else None)


def record_problem(
    session: Session,
    *,
    tenant_id: int,
    connection_id: int,
    code_id: int | None,
    kind: ProblemKind,
    message: str,
    state: str | None = None,
    detail: dict[str, object] | None = None,
    occurred_at: datetime | None = None,
) -> None:
    session.add(
        ChannelProblem(
            tenant_id=tenant_id,
            connection_id=connection_id,
            code_id=code_id,
            kind=kind,
            state=state,
            message=message[:500],
            detail=detail or {},
            occurred_at=occurred_at or utcnow(),
        )
    )


def record_decision(
    session: Session,
    code: ChannelCode,
    desired: DesiredWay,
    *,
    trigger: str,
    pushed: bool,
    error: str | None = None,
) -> ChannelDecision:
    decision = ChannelDecision(
        tenant_id=code.tenant_id,
        code_id=code.id,
        trigger=trigger,
        users=list(desired.plan.users),
        skip_verify=desired.skip_verify,
        mode=desired.plan.mode,
        reason=desired.plan.reason[:500],
        excluded=dict(desired.plan.excluded),
        is_pushed=pushed,
        error=error,
    )
    session.add(decision)
    session.flush()
    if pushed:
        code.way_users = list(desired.plan.users)
        code.way_skip_verify = desired.skip_verify
        code.way_synced_at = decision.decided_at
        code.way_error = None
        code.decision_id = decision.id
    return decision


def refresh_way(
    session: Session,
    code: ChannelCode,
    *,
    trigger: str,
    now: datetime | None = None,
    client: WeComClient | None = None,
    force: bool = False,
    extra_fields: dict[str, object] | None = None,
) -> ChannelDecision | None:
    """Bring the code's contact way to the plan at `now`; returns the decision when one was pushed.

    Raises the client's errors: `PlatformError` with `retryable` for the caller's retry. `force` pushes
    even when nothing routing-related changed (with `extra_fields`, e.g. a new remark on the way).
    """
    now = now or utcnow()
    desired = desired_way(session, code, now)
    schedule_next_refresh(session, code, desired.next_change_at)
    if desired.plan.mode == PlanMode.EMPTY:
        if code.way_error != desired.plan.reason:
            code.way_error = desired.plan.reason
            record_problem(
                session,
                tenant_id=code.tenant_id,
                connection_id=code.connection_id,
                code_id=code.id,
                kind=ProblemKind.NOBODY_ELIGIBLE,
                message="no member of this code can take customers (客户联系); the way is left as it is",
            )
            record_decision(session, code, desired, trigger=trigger, pushed=False, error=desired.plan.reason)
        return None
    unchanged = (
        list(desired.plan.users) == list(code.way_users) and desired.skip_verify == code.way_skip_verify
    )
    if unchanged and not force:
        return None
    client = client or wecom_client(session, code, max_wait_seconds=HANDLER_MAX_WAIT_SECONDS)
    if code.config_id:
        client.update_contact_way(
            code.config_id,
            user=list(desired.plan.users),
            skip_verify=desired.skip_verify,
            **(extra_fields or {}),
        )
    if desired.plan.mode == PlanMode.FALLBACK and code.way_users != list(desired.plan.users):
        record_problem(
            session,
            tenant_id=code.tenant_id,
            connection_id=code.connection_id,
            code_id=code.id,
            kind=ProblemKind.NOBODY_ELIGIBLE,
            message=desired.plan.reason,
            detail={"excluded": dict(desired.plan.excluded)},
        )
    return record_decision(session, code, desired, trigger=trigger, pushed=True)


def rotates(code: ChannelCode) -> bool:
    """Whether an add may change the plan (rotation or a cap), so it must re-arm the refresh."""
    strategy = (code.routing or {}).get("strategy") or Strategy.ROUND_ROBIN
    has_caps = any(item.get("daily_cap") for item in code.staff)
    return strategy != Strategy.RANDOM or has_caps


def request_refresh(
    session: Session, code: ChannelCode, *, trigger: str, due_at: datetime | None = None
) -> None:
    """Have the code's way refreshed by a worker at `due_at` (now by default), after this commits."""
    due_at = due_at or utcnow()
    key = f"{code.id}:now"
    # Re-arm whatever state the timer is in (fired, or being fired right now, which then rolls back
    # and fires again): the firing that follows must see this transaction's add.
    if reschedule(session, REFRESH_KIND, key, due_at) is None:
        schedule(
            session,
            REFRESH_KIND,
            due_at,
            {"code_id": code.id, "trigger": trigger},
            key,
            tenant_id=code.tenant_id,
        )


def schedule_next_refresh(session: Session, code: ChannelCode, due_at: datetime | None) -> None:
    """A refresh at the next boundary. Keyed by its time: a timer cannot re-arm itself while it fires
    (the fence would roll the firing back), and a stale boundary that fires finds nothing to change."""
    if due_at is None:
        return
    key = f"{code.id}:at:{int(due_at.timestamp())}"
    schedule(
        session,
        REFRESH_KIND,
        due_at,
        {"code_id": code.id, "trigger": "boundary"},
        key,
        tenant_id=code.tenant_id,
    )


def cancel_refreshes(session: Session, code: ChannelCode) -> None:
    """Cancel the code's pending refreshes (it was deleted)."""
    session.execute(
        update(Timer)
        .where(
            Timer.kind == REFRESH_KIND,
            Timer.key.startswith(f"{code.id}:"),
            Timer.status == TimerStatus.SCHEDULED,
        )
        .values(status=TimerStatus.CANCELLED),
        execution_options={"synchronize_session": False},
    )


def on_refresh_timer(session: Session, timer: TimerDelivery) -> None:
    """Timer `channels.refresh_way`: push the plan. Permanent WeCom errors are recorded on the code
    (problem + decision) and end the firing; retryable ones raise for the timer's retry."""
    code = session.scalars(
        select(ChannelCode).where(
            ChannelCode.tenant_id == timer.tenant_id, ChannelCode.id == int(timer.payload["code_id"])
        )
    ).one_or_none()
    if code is None or code.status != CodeStatus.ACTIVE:
        return
    trigger = str(timer.payload.get("trigger") or "timer")
    try:
        refresh_way(session, code, trigger=trigger)
    except PlatformError as error:
        if error.retryable:
            raise
        message = f"update_contact_way failed: {error}"
        log.warning("channel code %s: %s", code.id, message)
        code.way_error = message[:2000]
        record_problem(
            session,
            tenant_id=code.tenant_id,
            connection_id=code.connection_id,
            code_id=code.id,
            kind=ProblemKind.WAY_UPDATE_FAILED,
            message=message,
            detail={"errcode": error.errcode} if isinstance(error, WeComError) else {},
        )
        record_decision(
            session, code, desired_way(session, code, utcnow()), trigger=trigger, pushed=False, error=message
        )


TIMER_HANDLERS = [TimerHandler(REFRESH_KIND, on_refresh_timer)]
