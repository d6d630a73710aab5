"""Events of the tickets domain."""

from __future__ import annotations

from typing import ClassVar

from scrm.core.events import Event


class TicketCreated(Event):
    event_type: ClassVar[str] = "ticket.created"
    ticket_id: int
    customer_id: int | None
    order_id: int | None
    source: str
    priority: str


class TicketStatusChanged(Event):
    event_type: ClassVar[str] = "ticket.status_changed"
    ticket_id: int
    action: str
    previous_status: str
    status: str


class TicketCompleted(Event):
    """The ticket is closed for good: settlement may release or claw back what it held for the order.
    `outcome` `merged`: closed as a duplicate of another ticket, which carries the real outcome when
    it completes; settlement treats `merged` as no outcome."""

    event_type: ClassVar[str] = "ticket.completed"
    ticket_id: int
    customer_id: int | None
    order_id: int | None
    outcome: str | None


class TicketRated(Event):
    """The customer's satisfaction rating (1..5), given once, by staff on their behalf or by the
    customer through a rating link. No handler yet (analytics and agent scores are later issues)."""

    event_type: ClassVar[str] = "ticket.rated"
    ticket_id: int
    customer_id: int | None
    score: int


class TicketSlaWarned(Event):
    event_type: ClassVar[str] = "ticket.sla_warned"
    ticket_id: int
    clock: str
    due_at: str
    assignee_id: int | None


class TicketSlaBreached(Event):
    """A clock ran out: the first escalation level (notify the assignee) acts on this."""

    event_type: ClassVar[str] = "ticket.sla_breached"
    ticket_id: int
    clock: str
    due_at: str
    assignee_id: int | None
    team_id: int | None


class TicketAssigned(Event):
    """Routing (or a person) gave the ticket to an agent: the agent's notification acts on this."""

    event_type: ClassVar[str] = "ticket.assigned"
    ticket_id: int
    assignee_id: int
    team_id: int | None


class TicketEscalated(Event):
    """An escalation level fired: `notify_user_ids` are whom it reaches (assignee, team lead, manager);
    `actions` what it did besides (raise_priority, reassign)."""

    event_type: ClassVar[str] = "ticket.escalated"
    ticket_id: int
    clock: str
    level: int
    notify_user_ids: list[int]
    actions: list[str]
