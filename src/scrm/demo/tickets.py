"""The demo's service desk: a customer-service calendar and SLA policy, so the tickets that the
simulated shops' refunds and big orders open run on SLA clocks. Idempotent (checked on every start,
so a demo database from before the service desk gets them too)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from scrm.core.actors import Actor
from scrm.tickets.schemas import CalendarIn, EscalationLevel, EscalationRole, SlaPolicyIn, Targets
from scrm.tickets.sla import service

WORKDAY = [["09:00", "12:00"], ["13:30", "21:00"]]


def seed_service_desk(session: Session, *, tenant_id: int) -> None:
    actor = Actor.system(tenant_id)
    if service.list_calendars(session, actor=actor):
        return
    calendar = service.save_calendar(
        session,
        actor=actor,
        data=CalendarIn(
            name="客服中心（上海）",
            timezone="Asia/Shanghai",
            weekly={day: WORKDAY for day in ("mon", "tue", "wed", "thu", "fri", "sat")},
        ),
    )
    service.save_policy(
        session,
        actor=actor,
        data=SlaPolicyIn(
            name="标准服务时效",
            calendar_id=calendar.id,
            targets={
                "urgent": Targets(first_response_minutes=10, resolution_minutes=120),
                "high": Targets(first_response_minutes=30, resolution_minutes=240),
                "normal": Targets(
                    first_response_minutes=60, next_response_minutes=240, resolution_minutes=1440
                ),
                "low": Targets(first_response_minutes=240, resolution_minutes=2880),
            },
            escalation=[
                EscalationLevel(after_minutes=0, notify=[EscalationRole.ASSIGNEE]),
                EscalationLevel(after_minutes=30, notify=[EscalationRole.TEAM_LEAD], raise_priority=True),
                EscalationLevel(after_minutes=60, notify=[EscalationRole.MANAGER], reassign=True),
            ],
        ),
    )
