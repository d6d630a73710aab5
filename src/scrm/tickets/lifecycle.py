"""Ticket statuses and the explicit transitions between them (pure).

    new ──open──▶ open ──wait_customer──▶ waiting_customer ──resume──▶ open
     │              │  ──wait_third_party─▶ waiting_third_party ─resume─▶ open
     └──────────────┴──resolve──▶ resolved ──close──▶ closed
                                  resolved ──reopen (within the window)──▶ open

Waiting statuses pause the SLA clocks. `resolve` and `close` take an outcome (for settlement).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class TicketStatus(StrEnum):
    NEW = "new"
    OPEN = "open"
    WAITING_CUSTOMER = "waiting_customer"
    WAITING_THIRD_PARTY = "waiting_third_party"
    RESOLVED = "resolved"
    CLOSED = "closed"


class Action(StrEnum):
    OPEN = "open"
    WAIT_CUSTOMER = "wait_customer"
    WAIT_THIRD_PARTY = "wait_third_party"
    RESUME = "resume"
    RESOLVE = "resolve"
    CLOSE = "close"
    REOPEN = "reopen"


@dataclass(frozen=True)
class Transition:
    sources: frozenset[TicketStatus]
    target: TicketStatus


_ACTIVE = frozenset({TicketStatus.NEW, TicketStatus.OPEN})
_WAITING = frozenset({TicketStatus.WAITING_CUSTOMER, TicketStatus.WAITING_THIRD_PARTY})

TRANSITIONS: dict[Action, Transition] = {
    Action.OPEN: Transition(frozenset({TicketStatus.NEW}), TicketStatus.OPEN),
    Action.WAIT_CUSTOMER: Transition(
        _ACTIVE | {TicketStatus.WAITING_THIRD_PARTY}, TicketStatus.WAITING_CUSTOMER
    ),
    Action.WAIT_THIRD_PARTY: Transition(
        _ACTIVE | {TicketStatus.WAITING_CUSTOMER}, TicketStatus.WAITING_THIRD_PARTY
    ),
    Action.RESUME: Transition(_WAITING, TicketStatus.OPEN),
    Action.RESOLVE: Transition(_ACTIVE | _WAITING, TicketStatus.RESOLVED),
    Action.CLOSE: Transition(frozenset({TicketStatus.RESOLVED}), TicketStatus.CLOSED),
    Action.REOPEN: Transition(frozenset({TicketStatus.RESOLVED}), TicketStatus.OPEN),
}

PAUSED = _WAITING
DONE = frozenset({TicketStatus.RESOLVED, TicketStatus.CLOSED})


def allowed_actions(status: TicketStatus) -> list[Action]:
    """The actions a ticket in `status` accepts, in declaration order."""
    return [action for action, transition in TRANSITIONS.items() if status in transition.sources]


def target_of(status: TicketStatus, action: Action) -> TicketStatus | None:
    """Where `action` takes a ticket in `status`; None when it may not."""
    transition = TRANSITIONS[action]
    return transition.target if status in transition.sources else None
