"""Queue health, dead letters and upcoming timers, seen from one tenant.

Every query filters by the actor's tenant; worker heartbeats are the one global list (workers serve
all tenants). Services never commit; the request's unit of work does.
"""

from __future__ import annotations

import base64
from datetime import datetime, timedelta

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from scrm.core.actors import Actor
from scrm.core.clock import utcnow
from scrm.core.errors import ValidationFailed
from scrm.core.metrics import WORKER_STALE_AFTER
from scrm.core.outbox import replay_event
from scrm.core.outbox_models import (
    InboundMessage,
    InboundState,
    OutboxEvent,
    OutboxStatus,
    Timer,
    TimerStatus,
    WorkerHeartbeat,
)
from scrm.core.pagination import MAX_LIMIT, PageRequest, paginate
from scrm.core.tenancy import require_in_tenant, tenant_select
from scrm.core.timers import replay_timer
from scrm.identity.audit import record_audit
from scrm.system.permissions import SystemPermission
from scrm.system.schemas import (
    DeadLetterKind,
    DeadLetterOut,
    InboxCounts,
    OutboxCounts,
    OverviewOut,
    TimerCounts,
    TimerOut,
    WorkerOut,
)


def get_overview(session: Session, *, actor: Actor) -> OverviewOut:
    """Counts of the actor's tenant's outbox, timers and inbox, and every worker's heartbeat."""
    actor.require(SystemPermission.VIEW)
    tenant_id, now = actor.tenant_id, utcnow()

    outbox_counts = dict(
        session.execute(
            select(OutboxEvent.status, func.count())
            .where(OutboxEvent.tenant_id == tenant_id, OutboxEvent.status != OutboxStatus.DONE)
            .group_by(OutboxEvent.status)
        ).all()
    )
    done_last_hour = session.scalar(
        select(func.count()).where(
            OutboxEvent.tenant_id == tenant_id,
            OutboxEvent.status == OutboxStatus.DONE,
            OutboxEvent.processed_at >= now - timedelta(hours=1),
        )
    )
    scheduled = and_(Timer.tenant_id == tenant_id, Timer.status == TimerStatus.SCHEDULED)
    timer_count, next_due_at = session.execute(
        select(func.count(), func.min(Timer.due_at)).where(scheduled)
    ).one()
    overdue = session.scalar(select(func.count()).where(scheduled, Timer.due_at <= now))
    inbox_counts = dict(
        session.execute(
            select(InboundMessage.state, func.count())
            .where(
                InboundMessage.tenant_id == tenant_id,
                InboundMessage.state.in_((InboundState.RECEIVED, InboundState.FAILED)),
            )
            .group_by(InboundMessage.state)
        ).all()
    )
    heartbeats = session.scalars(select(WorkerHeartbeat).order_by(WorkerHeartbeat.started_at)).all()
    return OverviewOut(
        outbox=OutboxCounts(
            pending=outbox_counts.get(OutboxStatus.PENDING, 0),
            processing=outbox_counts.get(OutboxStatus.PROCESSING, 0),
            dead=outbox_counts.get(OutboxStatus.DEAD, 0),
            done_last_hour=done_last_hour or 0,
        ),
        timers=TimerCounts(scheduled=timer_count, overdue=overdue or 0, next_due_at=next_due_at),
        inbox=InboxCounts(
            received=inbox_counts.get(InboundState.RECEIVED, 0),
            failed=inbox_counts.get(InboundState.FAILED, 0),
        ),
        workers=[
            WorkerOut(
                worker_id=beat.worker_id,
                hostname=beat.hostname,
                pid=beat.pid,
                mode=beat.mode,
                started_at=beat.started_at,
                last_beat_at=beat.last_beat_at,
                alive=beat.last_beat_at >= now - WORKER_STALE_AFTER,
                processed_total=beat.processed_total,
            )
            for beat in heartbeats
        ],
    )


def list_dead_letters(
    session: Session, *, actor: Actor, kind: DeadLetterKind, page: PageRequest
) -> tuple[list[DeadLetterOut], str | None]:
    """The tenant's dead-lettered events or timers, newest first."""
    actor.require(SystemPermission.VIEW)
    if kind == DeadLetterKind.EVENT:
        events = tenant_select(OutboxEvent, actor.tenant_id).where(OutboxEvent.status == OutboxStatus.DEAD)
        rows, next_cursor = paginate(session, events, OutboxEvent.id, page)
        return [_event_out(row) for row in rows], next_cursor
    timers = tenant_select(Timer, actor.tenant_id).where(Timer.status == TimerStatus.DEAD)
    rows, next_cursor = paginate(session, timers, Timer.id, page)
    return [_timer_dead_letter_out(row) for row in rows], next_cursor


def replay_dead_letter(
    session: Session, *, actor: Actor, kind: DeadLetterKind, item_id: int
) -> DeadLetterOut:
    """Queue a dead letter again with a fresh attempt budget, and audit who did it.

    Raises NotFound for an id absent or in another tenant, Conflict if the item is not dead.
    """
    actor.require(SystemPermission.MANAGE)
    if kind == DeadLetterKind.EVENT:
        item: DeadLetterOut = _event_out(
            replay_event(session, require_in_tenant(session, OutboxEvent, actor.tenant_id, item_id))
        )
    else:
        item = _timer_dead_letter_out(
            replay_timer(session, require_in_tenant(session, Timer, actor.tenant_id, item_id))
        )
    record_audit(
        session,
        actor=actor,
        action="system.dead_letter.replay",
        target_type=f"dead_letter.{kind}",
        target_id=item_id,
    )
    return item


def list_upcoming_timers(
    session: Session, *, actor: Actor, page: PageRequest
) -> tuple[list[TimerOut], str | None]:
    """The tenant's live timers (scheduled or firing), soonest first; the cursor is opaque."""
    actor.require(SystemPermission.VIEW)
    if not 1 <= page.limit <= MAX_LIMIT:
        raise ValidationFailed(
            f"limit must be between 1 and {MAX_LIMIT}",
            field_errors=[{"field": "limit", "message": f"1..{MAX_LIMIT}"}],
        )
    statement = tenant_select(Timer, actor.tenant_id).where(
        Timer.status.in_((TimerStatus.SCHEDULED, TimerStatus.PROCESSING))
    )
    if page.cursor:
        due_at, last_id = _decode_due_cursor(page.cursor)
        statement = statement.where(
            or_(Timer.due_at > due_at, and_(Timer.due_at == due_at, Timer.id > last_id))
        )
    timers: list[Timer] = list(
        session.scalars(statement.order_by(Timer.due_at, Timer.id).limit(page.limit + 1))
    )
    next_cursor = None
    if len(timers) > page.limit:
        timers = timers[: page.limit]
        next_cursor = _encode_due_cursor(timers[-1].due_at, timers[-1].id)
    return [_timer_out(timer) for timer in timers], next_cursor


# Timers page by due time, not by id, so their cursor carries (due_at, id).
def _encode_due_cursor(due_at: datetime, last_id: int) -> str:
    return base64.urlsafe_b64encode(f"due:{due_at.isoformat()}|{last_id}".encode()).decode().rstrip("=")


def _decode_due_cursor(cursor: str) -> tuple[datetime, int]:
    try:
        text = base64.urlsafe_b64decode((cursor + "=" * (-len(cursor) % 4)).encode()).decode()
        prefix, _, rest = text.partition(":")
        due_text, _, id_text = rest.partition("|")
        if prefix != "due":
            raise ValueError(prefix)
        due_at = datetime.fromisoformat(due_text)
        if due_at.tzinfo is None:
            raise ValueError(due_text)
        return due_at, int(id_text)
    except (ValueError, UnicodeDecodeError) as error:
        raise ValidationFailed(
            "cursor is not valid",
            field_errors=[{"field": "cursor", "message": "not a cursor returned by this API"}],
        ) from error


def _event_out(row: OutboxEvent) -> DeadLetterOut:
    return DeadLetterOut(
        id=row.id,
        kind=DeadLetterKind.EVENT,
        name=row.event_type,
        handler=row.handler,
        status=row.status,
        attempts=row.attempts,
        last_error=row.last_error,
        created_at=row.created_at,
        failed_at=row.processed_at,
        payload=row.payload,
    )


def _timer_dead_letter_out(row: Timer) -> DeadLetterOut:
    return DeadLetterOut(
        id=row.id,
        kind=DeadLetterKind.TIMER,
        name=row.kind,
        handler=None,
        status=row.status,
        attempts=row.attempts,
        last_error=row.last_error,
        created_at=row.created_at,
        failed_at=row.fired_at,
        payload=row.payload,
    )


def _timer_out(timer: Timer) -> TimerOut:
    return TimerOut(
        id=timer.id,
        kind=timer.kind,
        key=timer.key,
        due_at=timer.due_at,
        status=timer.status,
        attempts=timer.attempts,
        created_at=timer.created_at,
        payload=timer.payload,
    )
