"""Who takes a ticket: team choice, agent eligibility and the strategies (pure functions).

The service (`routing/service.py`) loads the team, its agents and its queue, asks `fill_queue` for
assignments and applies them with conditional updates; everything deciding lives here, so fairness
and capacity can be tested without a database.

An agent is eligible for a ticket when they are online, below capacity, hold every skill the ticket
needs and serve its region (an agent without regions serves all). Strategies choose among the
eligible: round robin (the one assigned longest ago), least load (the lowest share of capacity in
use), sticky (the customer's last agent or guide if eligible, else least load).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from enum import StrEnum


class Strategy(StrEnum):
    ROUND_ROBIN = "round_robin"
    LEAST_LOAD = "least_load"
    STICKY = "sticky"


class AgentStatus(StrEnum):
    ONLINE = "online"
    AWAY = "away"
    OFFLINE = "offline"


#: Queue order: urgent first, then by waiting time.
PRIORITY_RANK = {"urgent": 0, "high": 1, "normal": 2, "low": 3}
_NEVER = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class AgentView:
    user_id: int
    status: str
    capacity: int
    load: int
    skills: frozenset[str] = frozenset()
    regions: frozenset[str] = frozenset()
    last_assigned_at: datetime | None = None

    @property
    def free(self) -> int:
        return max(self.capacity - self.load, 0)


@dataclass(frozen=True)
class TicketView:
    id: int
    priority: str
    region: str | None = None
    required_skills: frozenset[str] = frozenset()
    # Agents the ticket sticks to, in order of preference (last agent, then the customer's guides).
    sticky_user_ids: tuple[int, ...] = ()


@dataclass(frozen=True)
class TeamView:
    id: int
    strategy: Strategy
    ticket_types: frozenset[str] = frozenset()
    regions: frozenset[str] = frozenset()
    is_default: bool = False


@dataclass(frozen=True)
class Choice:
    """An assignment (or None) and why, with how many agents each reason excluded."""

    user_id: int | None
    reason: str
    excluded: dict[str, int] = field(default_factory=dict)


def ineligibility(agent: AgentView, ticket: TicketView) -> str | None:
    """Why `agent` cannot take `ticket` (None: they can)."""
    if agent.status != AgentStatus.ONLINE:
        return "not_online"
    if agent.load >= agent.capacity:
        return "at_capacity"
    if not ticket.required_skills <= agent.skills:
        return "missing_skills"
    if ticket.region and agent.regions and ticket.region not in agent.regions:
        return "other_region"
    return None


def choose_team(teams: Iterable[TeamView], *, ticket_type: str, region: str | None) -> TeamView | None:
    """The most specific team serving the ticket's type and region (a team with no types or no
    regions serves all of them); the default team when none is specific; lowest id on ties."""
    best: tuple[int, int] | None = None
    chosen = None
    for team in teams:
        if team.ticket_types and ticket_type not in team.ticket_types:
            continue
        if team.regions and (region is None or region not in team.regions):
            continue
        specificity = (bool(team.ticket_types) + bool(team.regions)) * 2 + team.is_default
        key = (-specificity, team.id)
        if best is None or key < best:
            best, chosen = key, team
    return chosen


def _least_load_key(agent: AgentView) -> tuple[float, int, datetime, int]:
    return (agent.load / agent.capacity, agent.load, agent.last_assigned_at or _NEVER, agent.user_id)


def _round_robin_key(agent: AgentView) -> tuple[datetime, int]:
    return (agent.last_assigned_at or _NEVER, agent.user_id)


def pick(strategy: Strategy, ticket: TicketView, agents: Sequence[AgentView]) -> Choice:
    """The agent `strategy` gives `ticket` among `agents`, or none, with the reason."""
    excluded: Counter[str] = Counter()
    eligible: dict[int, AgentView] = {}
    for agent in agents:
        reason = ineligibility(agent, ticket)
        if reason is None:
            eligible[agent.user_id] = agent
        else:
            excluded[reason] += 1
    if not eligible:
        return Choice(None, "no_eligible_agent", dict(excluded))
    if strategy == Strategy.STICKY:
        for user_id in ticket.sticky_user_ids:
            if user_id in eligible:
                return Choice(user_id, "sticky", dict(excluded))
        chosen = min(eligible.values(), key=_least_load_key)
        reason = "sticky_unavailable_least_load" if ticket.sticky_user_ids else "least_load"
        return Choice(chosen.user_id, reason, dict(excluded))
    if strategy == Strategy.ROUND_ROBIN:
        return Choice(min(eligible.values(), key=_round_robin_key).user_id, "round_robin", dict(excluded))
    return Choice(min(eligible.values(), key=_least_load_key).user_id, "least_load", dict(excluded))


def queue_order(ticket: TicketView, queued_at: datetime) -> tuple[int, datetime, int]:
    return (PRIORITY_RANK.get(ticket.priority, 9), queued_at, ticket.id)


def fill_queue(
    strategy: Strategy, queue: Sequence[TicketView], agents: Sequence[AgentView], *, now: datetime
) -> tuple[list[tuple[TicketView, Choice]], list[AgentView]]:
    """Assign `queue` (already in queue order) to `agents` one ticket at a time, each assignment
    counting towards the agent's load before the next is chosen. Returns every ticket's choice (a
    None `user_id` for those left waiting) and the agents as they stand afterwards.

    Never puts an agent over capacity; a ticket no agent can take stays waiting without blocking
    the tickets behind it."""
    by_id = {agent.user_id: agent for agent in agents}
    results: list[tuple[TicketView, Choice]] = []
    for ticket in queue:
        if not any(agent.free for agent in by_id.values()):
            results.extend((rest, Choice(None, "no_free_capacity")) for rest in queue[len(results) :])
            break
        choice = pick(strategy, ticket, list(by_id.values()))
        if choice.user_id is not None:
            agent = by_id[choice.user_id]
            # A microsecond apart, so that later picks of this round do not tie on `now`: round
            # robin keeps turning.
            stamp = now + timedelta(microseconds=len(results))
            by_id[agent.user_id] = replace(agent, load=agent.load + 1, last_assigned_at=stamp)
        results.append((ticket, choice))
    return results, list(by_id.values())
