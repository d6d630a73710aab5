"""HTTP endpoints of the tickets domain: tickets, their transitions (one endpoint per action) and
comments; calendars, SLA policies and the deadline preview."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, status

from scrm.core.pagination import Page, PageRequest
from scrm.identity.deps import CurrentActor, DbSession
from scrm.tickets import service as ticket_service
from scrm.tickets import stats
from scrm.tickets.lifecycle import Action, TicketStatus
from scrm.tickets.schemas import (
    CalendarIn,
    CalendarOut,
    CommentIn,
    CommentOut,
    DeadlinePreviewIn,
    DeadlinePreviewOut,
    Priority,
    SlaPolicyIn,
    SlaPolicyOut,
    TicketDetailOut,
    TicketIn,
    TicketOut,
    TicketStatsOut,
    TransitionIn,
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


@router.post("", response_model=TicketOut, status_code=status.HTTP_201_CREATED)
def create_ticket(data: TicketIn, actor: CurrentActor, session: DbSession) -> TicketOut:
    """Open a ticket; its SLA clocks start on the policy for its type."""
    return ticket_service.create_ticket(session, actor=actor, data=data)


@router.get("", response_model=Page[TicketOut])
def list_tickets(
    actor: CurrentActor,
    session: DbSession,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: str | None = None,
    status_: Annotated[TicketStatus | None, Query(alias="status")] = None,
    view: Annotated[str | None, Query(pattern="^(mine|team|unassigned|breaching|triage)$")] = None,
    priority: Priority | None = None,
) -> Page[TicketOut]:
    items, next_cursor = ticket_service.list_tickets(
        session,
        actor=actor,
        page=PageRequest(limit, cursor),
        status=status_,
        view=view,
        priority=priority,
    )
    return Page(items=items, next_cursor=next_cursor)


@router.get("/stats", response_model=TicketStatsOut)
def ticket_stats(
    actor: CurrentActor,
    session: DbSession,
    days: Annotated[int, Query(ge=1, le=stats.MAX_DAYS)] = stats.DEFAULT_DAYS,
    tz: Annotated[str, Query(max_length=64, description="IANA zone of the days")] = stats.DEFAULT_TIMEZONE,
    ticket_type: Annotated[str | None, Query(max_length=64)] = None,
    category: Annotated[str | None, Query(max_length=64)] = None,
) -> TicketStatsOut:
    """The SLA dashboard: counts by status, priority, type, category and region, SLA attainment per
    clock and the daily created / resolved series over the last `days` days (in `tz`); tickets about
    to breach or overdue now."""
    query = stats.StatsQuery(days=days, timezone=tz, ticket_type=ticket_type, category=category)
    return stats.ticket_stats(session, actor=actor, query=query)


@router.get("/{ticket_id}", response_model=TicketDetailOut)
def get_ticket(ticket_id: int, actor: CurrentActor, session: DbSession) -> TicketDetailOut:
    return ticket_service.get_ticket(session, actor=actor, ticket_id=ticket_id)


@router.post("/{ticket_id}/comments", response_model=CommentOut, status_code=status.HTTP_201_CREATED)
def add_comment(ticket_id: int, data: CommentIn, actor: CurrentActor, session: DbSession) -> CommentOut:
    """A reply to the customer (stops the first-response clock), or an internal note."""
    return ticket_service.add_comment(session, actor=actor, ticket_id=ticket_id, data=data)


def _transition_route(action: Action) -> None:
    def transition(
        ticket_id: int, actor: CurrentActor, session: DbSession, data: TransitionIn | None = None
    ) -> TicketOut:
        return ticket_service.transition(
            session, actor=actor, ticket_id=ticket_id, action=action, data=data or TransitionIn()
        )

    transition.__name__ = f"{action.value}_ticket"
    router.add_api_route(
        f"/{{ticket_id}}/{action.value.replace('_', '-')}",
        transition,
        methods=["POST"],
        response_model=TicketOut,
        summary=f"Transition: {action.value}",
        description="409 with the allowed actions when the ticket's status does not accept this one.",
    )


for _action in Action:
    _transition_route(_action)
