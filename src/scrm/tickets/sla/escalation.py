"""Escalation: what each level of a policy does when a clock has breached, and when the next level
falls due. Level 1 acts at the breach; level N+1 `after_minutes` business minutes after the breach
(each counted from the due time of the level before, so a late worker does not push the later
levels back; a pause stands escalation still).

A level notifies people (the assignee, the team lead, the manager: `ticket.escalated` carries their
user ids for the notification channel), may raise the priority one step, and may reassign the ticket
to another eligible agent of its team. The caller (`clocks.fire`) marks each level once per clock.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from scrm.core.tenancy import get_in_tenant
from scrm.tickets.events import TicketEscalated
from scrm.tickets.models import SlaPolicy, Ticket
from scrm.tickets.routing import queue
from scrm.tickets.routing.models import Team
from scrm.tickets.schemas import EscalationLevel, EscalationRole, default_escalation
from scrm.tickets.timeline import record

PRIORITY_UP = {"low": "normal", "normal": "high", "high": "urgent", "urgent": "urgent"}
ROLE_ZH = {
    EscalationRole.ASSIGNEE: "处理人",
    EscalationRole.TEAM_LEAD: "组长",
    EscalationRole.MANAGER: "主管",
}


def levels(policy: SlaPolicy) -> list[EscalationLevel]:
    """The policy's levels (policies stored before escalation was configurable: notify the assignee)."""
    return [EscalationLevel.model_validate(level) for level in policy.escalation] or default_escalation()


def run_level(
    session: Session, ticket: Ticket, policy: SlaPolicy, clock: str, level_number: int, *, now: datetime
) -> TicketEscalated | None:
    """Carry out level `level_number` (1-based) for `clock`; None when the policy has no such level."""
    configured = levels(policy)
    if level_number > len(configured):
        return None
    level = configured[level_number - 1]
    team = get_in_tenant(session, Team, ticket.tenant_id, ticket.team_id) if ticket.team_id else None
    actions: list[str] = []
    if level.raise_priority and ticket.priority != PRIORITY_UP[ticket.priority]:
        ticket.priority = PRIORITY_UP[ticket.priority]
        actions.append("raise_priority")
    if level.reassign and team is not None:
        queue.reassign(session, ticket, now=now, reason=f"escalation_level_{level_number}")
        actions.append("reassign")
    people = {
        EscalationRole.ASSIGNEE: ticket.assignee_id,
        EscalationRole.TEAM_LEAD: team.lead_user_id if team else None,
        EscalationRole.MANAGER: team.manager_user_id if team else None,
    }
    notify = list(dict.fromkeys(user for role in level.notify if (user := people[role]) is not None))
    whom = "、".join(ROLE_ZH[role] for role in level.notify) or "无人"
    extra = "".join(
        {"raise_priority": f"，优先级升为 {ticket.priority}", "reassign": "，重新分配"}[action]
        for action in actions
    )
    record(
        session,
        ticket,
        f"sla.{clock}.escalation",
        f"第 {level_number} 级升级：通知{whom}{extra}",
        "system",
        level=level_number,
        notify_user_ids=notify,
        actions=actions,
    )
    return TicketEscalated(
        tenant_id=ticket.tenant_id,
        ticket_id=ticket.id,
        clock=clock,
        level=level_number,
        notify_user_ids=notify,
        actions=actions,
    )
