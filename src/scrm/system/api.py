"""HTTP endpoints of the system page: parse, call the service, shape the answer."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from scrm.core.actors import Actor
from scrm.core.pagination import Page, PageRequest
from scrm.identity.deps import DbSession, require_permission
from scrm.system import service
from scrm.system.permissions import SystemPermission
from scrm.system.schemas import DeadLetterKind, DeadLetterOut, OverviewOut, TimerOut

router = APIRouter(prefix="/api/v1/system", tags=["system"])

Viewer = Annotated[Actor, Depends(require_permission(SystemPermission.VIEW))]
Manager = Annotated[Actor, Depends(require_permission(SystemPermission.MANAGE))]
Limit = Annotated[int, Query(ge=1, le=200)]


@router.get("/overview", response_model=OverviewOut)
def get_overview(actor: Viewer, session: DbSession) -> OverviewOut:
    """Outbox, timer and inbox counts of the caller's workspace, and the workers' heartbeats."""
    return service.get_overview(session, actor=actor)


@router.get("/dead-letters", response_model=Page[DeadLetterOut])
def list_dead_letters(
    actor: Viewer,
    session: DbSession,
    kind: DeadLetterKind = DeadLetterKind.EVENT,
    limit: Limit = 50,
    cursor: str | None = None,
) -> Page[DeadLetterOut]:
    """Dead-lettered events or timers, newest first."""
    items, next_cursor = service.list_dead_letters(
        session, actor=actor, kind=kind, page=PageRequest(limit, cursor)
    )
    return Page(items=items, next_cursor=next_cursor)


@router.post("/dead-letters/{kind}/{item_id}/replay", response_model=DeadLetterOut)
def replay_dead_letter(
    kind: DeadLetterKind, item_id: int, actor: Manager, session: DbSession
) -> DeadLetterOut:
    """Queue a dead letter again with a fresh attempt budget. 404 for another workspace's id,
    409 if it is not dead."""
    return service.replay_dead_letter(session, actor=actor, kind=kind, item_id=item_id)


@router.get("/timers", response_model=Page[TimerOut])
def list_timers(
    actor: Viewer, session: DbSession, limit: Limit = 50, cursor: str | None = None
) -> Page[TimerOut]:
    """Scheduled timers of the caller's workspace, soonest first."""
    items, next_cursor = service.list_upcoming_timers(session, actor=actor, page=PageRequest(limit, cursor))
    return Page(items=items, next_cursor=next_cursor)
