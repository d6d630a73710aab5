"""HTTP endpoints of the tickets domain (so far: calendars, SLA policies, the deadline preview)."""

from __future__ import annotations

from fastapi import APIRouter, status

from scrm.identity.deps import CurrentActor, DbSession
from scrm.tickets.schemas import (
    CalendarIn,
    CalendarOut,
    DeadlinePreviewIn,
    DeadlinePreviewOut,
    SlaPolicyIn,
    SlaPolicyOut,
)
from scrm.tickets.sla import service

router = APIRouter(prefix="/api/v1/tickets", tags=["tickets"])


@router.get("/calendars", response_model=list[CalendarOut])
def list_calendars(actor: CurrentActor, session: DbSession) -> list[CalendarOut]:
    return service.list_calendars(session, actor=actor)


@router.post("/calendars", response_model=CalendarOut, status_code=status.HTTP_201_CREATED)
def create_calendar(data: CalendarIn, actor: CurrentActor, session: DbSession) -> CalendarOut:
    return service.save_calendar(session, actor=actor, data=data)


@router.get("/calendars/{calendar_id}", response_model=CalendarOut)
def get_calendar(calendar_id: int, actor: CurrentActor, session: DbSession) -> CalendarOut:
    return service.get_calendar(session, actor=actor, calendar_id=calendar_id)


@router.put("/calendars/{calendar_id}", response_model=CalendarOut)
def replace_calendar(
    calendar_id: int, data: CalendarIn, actor: CurrentActor, session: DbSession
) -> CalendarOut:
    return service.save_calendar(session, actor=actor, data=data, calendar_id=calendar_id)


@router.delete("/calendars/{calendar_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_calendar(calendar_id: int, actor: CurrentActor, session: DbSession) -> None:
    service.delete_calendar(session, actor=actor, calendar_id=calendar_id)


@router.get("/sla-policies", response_model=list[SlaPolicyOut])
def list_policies(actor: CurrentActor, session: DbSession) -> list[SlaPolicyOut]:
    return service.list_policies(session, actor=actor)


@router.post("/sla-policies", response_model=SlaPolicyOut, status_code=status.HTTP_201_CREATED)
def create_policy(data: SlaPolicyIn, actor: CurrentActor, session: DbSession) -> SlaPolicyOut:
    return service.save_policy(session, actor=actor, data=data)


@router.get("/sla-policies/{policy_id}", response_model=SlaPolicyOut)
def get_policy(policy_id: int, actor: CurrentActor, session: DbSession) -> SlaPolicyOut:
    return service.get_policy(session, actor=actor, policy_id=policy_id)


@router.put("/sla-policies/{policy_id}", response_model=SlaPolicyOut)
def replace_policy(
    policy_id: int, data: SlaPolicyIn, actor: CurrentActor, session: DbSession
) -> SlaPolicyOut:
    return service.save_policy(session, actor=actor, data=data, policy_id=policy_id)


@router.post("/sla-policies/{policy_id}/preview", response_model=DeadlinePreviewOut)
def preview_deadline(
    policy_id: int, data: DeadlinePreviewIn, actor: CurrentActor, session: DbSession
) -> DeadlinePreviewOut:
    """When `minutes` business minutes from `start` fall due on the policy's calendar."""
    return service.preview_deadline(session, actor=actor, policy_id=policy_id, data=data)
