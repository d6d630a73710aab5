"""Business calendars and SLA policies: create, list, read, change, and the deadline preview.

Keyword-only, typed, never commits. Every function checks the actor's permission and stays inside the
actor's tenant: another tenant's ids are unknown ids (404, or a field error where an id is an input).
"""

from __future__ import annotations

import json
from functools import lru_cache
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from scrm.core.actors import Actor
from scrm.core.errors import Conflict, ValidationFailed
from scrm.core.tenancy import get_in_tenant, require_in_tenant, tenant_select
from scrm.identity.audit import record_audit
from scrm.tickets.models import CalendarRow, SlaPolicy
from scrm.tickets.named_rows import save_named_row
from scrm.tickets.permissions import TicketPermission
from scrm.tickets.schemas import (
    CalendarIn,
    CalendarOut,
    DeadlinePreviewIn,
    DeadlinePreviewOut,
    SlaPolicyIn,
    SlaPolicyOut,
)
from scrm.tickets.sla.calendar import BusinessCalendar, InvalidCalendar, NoWorkingTime, add_business_minutes


def business_calendar(row: CalendarRow) -> BusinessCalendar:
    """The calendar a stored row describes (rows are validated when written). Calendars are kept per
    process by their content: a batch of SLA timers builds each calendar once, and a calendar's
    per-day working intervals, computed on first use, serve every ticket on it."""
    spec = [row.timezone, row.weekly, row.holidays, row.extra_workdays, row.makeup_intervals]
    return _calendar_of(json.dumps(spec, sort_keys=True))


@lru_cache(maxsize=256)
def _calendar_of(spec: str) -> BusinessCalendar:
    timezone, weekly, holidays, extra_workdays, makeup_intervals = json.loads(spec)
    return BusinessCalendar.from_spec(
        timezone=timezone,
        weekly=weekly,
        holidays=holidays,
        extra_workdays=extra_workdays,
        makeup_intervals=makeup_intervals,
    )


def _checked(data: CalendarIn) -> dict[str, Any]:
    """The row values of a calendar spec, normalised (sorted dates, no repeats); field errors as 422."""
    try:
        BusinessCalendar.from_spec(
            timezone=data.timezone,
            weekly=data.weekly,
            holidays=data.holidays,
            extra_workdays=data.extra_workdays,
            makeup_intervals=data.makeup_intervals,
        )
    except InvalidCalendar as error:
        raise ValidationFailed("the calendar is not valid", field_errors=error.field_errors) from None
    values = data.model_dump()
    values["holidays"] = sorted(set(data.holidays))
    values["extra_workdays"] = sorted(set(data.extra_workdays))
    return values


def list_calendars(session: Session, *, actor: Actor) -> list[CalendarOut]:
    actor.require(TicketPermission.VIEW)
    rows = session.scalars(tenant_select(CalendarRow, actor.tenant_id).order_by(CalendarRow.name))
    return [CalendarOut.model_validate(row) for row in rows]


def get_calendar(session: Session, *, actor: Actor, calendar_id: int) -> CalendarOut:
    actor.require(TicketPermission.VIEW)
    return CalendarOut.model_validate(require_in_tenant(session, CalendarRow, actor.tenant_id, calendar_id))


def save_calendar(
    session: Session, *, actor: Actor, data: CalendarIn, calendar_id: int | None = None
) -> CalendarOut:
    """Create a calendar, or replace the one with `calendar_id`. Deadlines already computed keep their
    times; new ones use the new hours."""
    actor.require(TicketPermission.SETTINGS_MANAGE)
    row = save_named_row(
        session, actor=actor, model=CalendarRow, row_id=calendar_id, values=_checked(data), audit="calendar"
    )
    return CalendarOut.model_validate(row)


def delete_calendar(session: Session, *, actor: Actor, calendar_id: int) -> None:
    """Delete a calendar no policy uses (409 naming the policies otherwise)."""
    actor.require(TicketPermission.SETTINGS_MANAGE)
    row = require_in_tenant(session, CalendarRow, actor.tenant_id, calendar_id)
    users = session.scalars(
        select(SlaPolicy.name).where(SlaPolicy.tenant_id == actor.tenant_id, SlaPolicy.calendar_id == row.id)
    ).all()
    if users:
        raise Conflict(f"the calendar is used by SLA policies: {', '.join(users)}")
    session.delete(row)
    session.flush()
    record_audit(session, actor=actor, action="tickets.calendar_deleted", target_type="ticket_calendar",
                 target_id=calendar_id, detail={"name": row.name})  # fmt: skip


def list_policies(session: Session, *, actor: Actor) -> list[SlaPolicyOut]:
    actor.require(TicketPermission.VIEW)
    rows = session.scalars(tenant_select(SlaPolicy, actor.tenant_id).order_by(SlaPolicy.name))
    return [SlaPolicyOut.model_validate(row) for row in rows]


def get_policy(session: Session, *, actor: Actor, policy_id: int) -> SlaPolicyOut:
    actor.require(TicketPermission.VIEW)
    return SlaPolicyOut.model_validate(require_in_tenant(session, SlaPolicy, actor.tenant_id, policy_id))


def save_policy(
    session: Session, *, actor: Actor, data: SlaPolicyIn, policy_id: int | None = None
) -> SlaPolicyOut:
    """Create an SLA policy, or replace the one with `policy_id`."""
    actor.require(TicketPermission.SETTINGS_MANAGE)
    if get_in_tenant(session, CalendarRow, actor.tenant_id, data.calendar_id) is None:
        raise ValidationFailed(
            "unknown calendar",
            field_errors=[{"field": "calendar_id", "message": f"no calendar {data.calendar_id} here"}],
        )
    if not any(target.model_dump(exclude_none=True) for target in data.targets.values()):
        raise ValidationFailed(
            "no targets", field_errors=[{"field": "targets", "message": "set at least one target"}]
        )
    _check_escalation(data)
    values = data.model_dump(mode="json")
    values["targets"] = {
        priority: target.model_dump(exclude_none=True) for priority, target in data.targets.items()
    }
    row = save_named_row(
        session, actor=actor, model=SlaPolicy, row_id=policy_id, values=values, audit="sla_policy"
    )
    return SlaPolicyOut.model_validate(row)


def _check_escalation(data: SlaPolicyIn) -> None:
    errors = []
    if data.escalation[0].after_minutes != 0:
        errors.append(
            {"field": "escalation.0.after_minutes", "message": "the first level acts at the breach: 0"}
        )
    for index in range(1, len(data.escalation)):
        if data.escalation[index].after_minutes <= data.escalation[index - 1].after_minutes:
            errors.append(
                {"field": f"escalation.{index}.after_minutes", "message": "later levels come later"}
            )
    if errors:
        raise ValidationFailed("the escalation levels are not in order", field_errors=errors)


def preview_deadline(
    session: Session, *, actor: Actor, policy_id: int, data: DeadlinePreviewIn
) -> DeadlinePreviewOut:
    """When `data.minutes` business minutes from `data.start` fall due on the policy's calendar."""
    actor.require(TicketPermission.SETTINGS_MANAGE)
    policy = require_in_tenant(session, SlaPolicy, actor.tenant_id, policy_id)
    row = require_in_tenant(session, CalendarRow, actor.tenant_id, policy.calendar_id)
    calendar = business_calendar(row)
    try:
        due = add_business_minutes(calendar, data.start, data.minutes)
    except NoWorkingTime as error:
        raise ValidationFailed(
            str(error), field_errors=[{"field": "minutes", "message": str(error)}]
        ) from None
    return DeadlinePreviewOut(
        due_at=due, due_at_local=due.astimezone(calendar.timezone), timezone=row.timezone
    )
