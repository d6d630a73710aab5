"""Routing decisions as pure functions: eligibility, team choice, the strategies, and the queue fill's
guarantees (capacity never exceeded, nobody eligible left idle while a ticket they could take waits,
round robin fair to within one ticket)."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime

from hypothesis import given
from hypothesis import strategies as st

from scrm.tickets.routing.assignment import (
    AgentView,
    Strategy,
    TeamView,
    TicketView,
    choose_team,
    fill_queue,
    ineligibility,
    pick,
)

NOW = datetime(2026, 12, 7, 2, 0, tzinfo=UTC)
SKILLS = ["after_sales", "quality", "vip", "invoice"]
REGIONS = ["广东省", "浙江省", "上海市"]


def agent(user_id: int, **extra: object) -> AgentView:
    values: dict[str, object] = {"status": "online", "capacity": 3, "load": 0, **extra}
    return AgentView(user_id=user_id, **values)  # type: ignore[arg-type]


def test_eligibility_names_the_first_reason() -> None:
    ticket = TicketView(id=1, priority="normal", region="广东省", required_skills=frozenset({"quality"}))
    assert ineligibility(agent(1, status="away"), ticket) == "not_online"
    assert ineligibility(agent(1, load=3), ticket) == "at_capacity"
    assert ineligibility(agent(1, skills=frozenset({"vip"})), ticket) == "missing_skills"
    assert ineligibility(agent(1, skills=frozenset({"quality"}), regions=frozenset({"浙江省"})), ticket) == (
        "other_region"
    )
    assert ineligibility(agent(1, skills=frozenset({"quality", "vip"})), ticket) is None
    # No regions: serves every region; a ticket without a region goes to anyone.
    assert ineligibility(agent(1, regions=frozenset({"浙江省"})), TicketView(id=2, priority="low")) is None


def test_the_most_specific_team_wins_and_the_default_catches_the_rest() -> None:
    teams = [
        TeamView(id=1, strategy=Strategy.LEAST_LOAD, is_default=True),
        TeamView(id=2, strategy=Strategy.LEAST_LOAD, ticket_types=frozenset({"after_sales"})),
        TeamView(
            id=3,
            strategy=Strategy.LEAST_LOAD,
            ticket_types=frozenset({"after_sales"}),
            regions=frozenset({"广东省"}),
        ),
    ]
    assert choose_team(teams, ticket_type="after_sales", region="广东省").id == 3  # type: ignore[union-attr]
    assert choose_team(teams, ticket_type="after_sales", region="浙江省").id == 2  # type: ignore[union-attr]
    assert choose_team(teams, ticket_type="general", region=None).id == 1  # type: ignore[union-attr]
    assert choose_team(teams[1:], ticket_type="general", region=None) is None


def test_strategies() -> None:
    ticket = TicketView(id=1, priority="normal", sticky_user_ids=(3, 2))
    agents = [
        agent(1, load=2, last_assigned_at=datetime(2026, 1, 1, tzinfo=UTC)),
        agent(2, load=0, last_assigned_at=NOW),
        agent(3, load=3),
    ]
    # Round robin: the one assigned longest ago, whatever their load.
    assert pick(Strategy.ROUND_ROBIN, ticket, agents).user_id == 1
    assert pick(Strategy.LEAST_LOAD, ticket, agents).user_id == 2
    # Sticky: agent 3 is full, so the next sticky one.
    choice = pick(Strategy.STICKY, ticket, agents)
    assert (choice.user_id, choice.reason, choice.excluded) == (2, "sticky", {"at_capacity": 1})
    alone = pick(Strategy.STICKY, TicketView(id=2, priority="normal", sticky_user_ids=(3,)), agents)
    assert (alone.user_id, alone.reason) == (2, "sticky_unavailable_least_load")
    assert pick(Strategy.LEAST_LOAD, ticket, [agent(1, status="away")]).user_id is None


agents_strategy = st.lists(
    st.builds(
        AgentView,
        user_id=st.integers(1, 10_000),
        status=st.sampled_from(["online", "online", "away"]),
        capacity=st.integers(0, 4),
        load=st.integers(0, 4),
        skills=st.frozensets(st.sampled_from(SKILLS), max_size=3),
        regions=st.frozensets(st.sampled_from(REGIONS), max_size=2),
    ),
    max_size=12,
    unique_by=lambda agent: agent.user_id,
)
tickets_strategy = st.lists(
    st.builds(
        TicketView,
        id=st.integers(1, 100_000),
        priority=st.sampled_from(["urgent", "high", "normal", "low"]),
        region=st.one_of(st.none(), st.sampled_from(REGIONS)),
        required_skills=st.frozensets(st.sampled_from(SKILLS), max_size=2),
    ),
    max_size=40,
    unique_by=lambda ticket: ticket.id,
)


@given(agents_strategy, tickets_strategy, st.sampled_from(list(Strategy)))
def test_a_fill_never_exceeds_capacity_and_leaves_no_assignable_ticket_waiting(
    agents: list[AgentView], tickets: list[TicketView], strategy: Strategy
) -> None:
    results, after = fill_queue(strategy, tickets, agents, now=NOW)
    assert [ticket.id for ticket, _ in results] == [ticket.id for ticket in tickets]
    given_to = Counter(choice.user_id for _, choice in results if choice.user_id is not None)
    before = {agent.user_id: agent for agent in agents}
    for final in after:
        start = before[final.user_id]
        assert final.load == start.load + given_to[final.user_id]
        # Nobody is pushed over capacity by a fill (they may start over it: capacity was lowered).
        assert given_to[final.user_id] == 0 or final.load <= final.capacity
        if given_to[final.user_id]:
            assert start.status == "online"
    # Work conservation: a ticket left waiting had nobody eligible at the end of the fill.
    for ticket, choice in results:
        if choice.user_id is None:
            assert all(ineligibility(final, ticket) is not None for final in after)
        else:
            assert ticket.required_skills <= before[choice.user_id].skills


@given(st.integers(2, 30), st.integers(1, 200))
def test_round_robin_spreads_tickets_evenly(agent_count: int, ticket_count: int) -> None:
    agents = [agent(user_id, capacity=1000) for user_id in range(1, agent_count + 1)]
    tickets = [TicketView(id=index, priority="normal") for index in range(ticket_count)]
    results, _ = fill_queue(Strategy.ROUND_ROBIN, tickets, agents, now=NOW)
    counts = Counter(choice.user_id for _, choice in results)
    shares = [counts.get(user_id, 0) for user_id in range(1, agent_count + 1)]
    assert max(shares) - min(shares) <= 1
    assert sum(shares) == ticket_count


def test_least_load_fills_the_emptiest_first() -> None:
    agents = [agent(1, capacity=4, load=3), agent(2, capacity=4, load=0), agent(3, capacity=2, load=1)]
    tickets = [TicketView(id=index, priority="normal") for index in range(5)]
    results, after = fill_queue(Strategy.LEAST_LOAD, tickets, agents, now=NOW)
    assert [choice.user_id for _, choice in results] == [2, 2, 3, 2, 1]
    assert {final.user_id: final.load for final in after} == {1: 4, 2: 3, 3: 2}
