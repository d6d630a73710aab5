"""Routing: 3,000 tickets arriving within one second for 500 agents with skills, regions and capacity
(seed 003's "3000+ 咨询"); how long until every ticket that can be assigned is, and whether any agent
ever went over capacity.

    .venv/bin/python -m bench.routing [--tickets 3000] [--agents 500] [--threads N]
                                      [--no-postgres] [--postgres-url URL]

Five teams (four by ticket type, one default), 100 agents each, capacities 4 to 8 (about 3,000 places
in all), a third of the agents with a skill (quality, vip, invoice) and a fifth restricted to regions.

1. Burst, through the real path: `tickets.service.create_ticket` (team choice, queue, fill, in the
   ticket's own transaction) from N threads (one on SQLite), arrivals spread evenly over one
   second. Figures: time until the last ticket is in, per-ticket arrival-to-assigned latency
   (queueing included), tickets left waiting (nobody eligible with room).
2. Backlog: the same 3,000 tickets waiting while all agents are offline; then everyone comes online
   and the queues are filled (`routing.queue.fill`). Baseline, in the same run, on an identical
   backlog: the assigner peers use, one ticket at a time, counting each eligible agent's open tickets
   with a query (no load counter, no capacity guard in the update).

After each phase: capacity violations (agents with more open tickets than capacity, or a load
counter that disagrees with the tickets) must be zero. Figures only; nothing here passes or fails.
"""

from __future__ import annotations

import argparse
import random
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

from sqlalchemy import func, insert, select, update
from sqlalchemy.orm import Session, sessionmaker

from bench.support import (
    DEFAULT_POSTGRES_URL,
    peak_rss_mb,
    percentile,
    postgres_database,
    prepare_database,
    sqlite_database,
)
from scrm.core.actors import Actor
from scrm.core.clock import utcnow
from scrm.identity.models import Membership, Role, User
from scrm.registry import build_registry
from scrm.tickets import service
from scrm.tickets.lifecycle import DONE
from scrm.tickets.models import Ticket
from scrm.tickets.routing import queue
from scrm.tickets.routing.assignment import AgentView, Strategy, TicketView, ineligibility
from scrm.tickets.routing.models import Agent, Team, TeamMember
from scrm.tickets.routing.schemas import TeamIn
from scrm.tickets.routing.settings import save_team
from scrm.tickets.schemas import TicketIn

TYPES = ["after_sales", "logistics", "quality", "invoice"]
REGIONS = ["广东省", "浙江省", "江苏省", "上海市", "北京市", "四川省"]
CATEGORY_SKILL = {"质量问题": "quality", "会员": "vip", "发票": "invoice"}


def _people(factory: sessionmaker[Session], tenant_id: int, count: int) -> list[int]:
    with factory.begin() as session:
        role = Role(tenant_id=tenant_id, key="agent", name="客服", permissions=["*"], data_scope="all")
        session.add(role)
        session.flush()
        ids = list(
            session.scalars(
                insert(User).returning(User.id),
                [
                    {"email": f"agent{index}@bench.test", "display_name": f"客服{index}"}
                    for index in range(count)
                ],
            )
        )
        session.execute(
            insert(Membership),
            [{"tenant_id": tenant_id, "user_id": user_id, "role_id": role.id} for user_id in ids],
        )
    return ids


def _teams(
    factory: sessionmaker[Session], tenant_id: int, user_ids: list[int], generator: random.Random
) -> None:
    actor = Actor.system(tenant_id)
    per_team = len(user_ids) // (len(TYPES) + 1)
    with factory.begin() as session:
        for index, name in enumerate([*TYPES, "default"]):
            members = user_ids[index * per_team : (index + 1) * per_team]
            save_team(
                session,
                actor=actor,
                data=TeamIn(
                    name=name,
                    strategy=[Strategy.LEAST_LOAD, Strategy.ROUND_ROBIN][index % 2],
                    ticket_types=[] if name == "default" else [name],
                    is_default=name == "default",
                    skills_by_category={category: [skill] for category, skill in CATEGORY_SKILL.items()},
                    member_user_ids=members,
                ),
            )
        session.execute(
            update(Agent).where(Agent.tenant_id == tenant_id).values(status="online"),
            execution_options={"synchronize_session": False},
        )
        for agent in session.scalars(select(Agent).where(Agent.tenant_id == tenant_id)):
            agent.capacity = generator.randint(4, 8)
            agent.skills = (
                [generator.choice(list(CATEGORY_SKILL.values()))] if generator.random() < 0.35 else []
            )
            agent.regions = generator.sample(REGIONS, 2) if generator.random() < 0.2 else []


def _arrivals(count: int, generator: random.Random) -> list[TicketIn]:
    categories = [None, None, None, *CATEGORY_SKILL]
    return [
        TicketIn(
            title=f"咨询 {index}",
            source="api",
            ticket_type=generator.choice([*TYPES, "general"]),
            category=generator.choice(categories),
            priority=generator.choices(["urgent", "high", "normal", "low"], [1, 3, 12, 4])[0],
            region=generator.choice([None, *REGIONS]),
        )
        for index in range(count)
    ]


def _violations(factory: sessionmaker[Session], tenant_id: int) -> tuple[int, int]:
    """(agents over capacity, agents whose load counter disagrees with their open tickets)."""
    with factory() as session:
        audit = queue.load_audit(session, tenant_id)
    over = sum(held > capacity for held, _, capacity in audit.values())
    wrong = sum(held != load for held, load, _ in audit.values())
    return over, wrong


def _waiting(factory: sessionmaker[Session], tenant_id: int) -> int:
    with factory() as session:
        return (
            session.scalar(
                select(func.count()).where(
                    Ticket.tenant_id == tenant_id, Ticket.assignee_id.is_(None), Ticket.status.notin_(DONE)
                )
            )
            or 0
        )


def burst(factory: sessionmaker[Session], tenant_id: int, tickets: list[TicketIn], threads: int) -> None:
    actor = Actor.system(tenant_id)
    latencies: list[float] = []
    lock = threading.Lock()
    start = time.perf_counter() + 0.2
    spacing = 1.0 / len(tickets)

    def arrive(index: int) -> None:
        arrival = start + index * spacing
        delay = arrival - time.perf_counter()
        if delay > 0:
            time.sleep(delay)
        with factory.begin() as session:
            service.create_ticket(session, actor=actor, data=tickets[index])
        with lock:
            latencies.append(time.perf_counter() - arrival)

    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(arrive, range(len(tickets))))
    elapsed = time.perf_counter() - start
    latencies.sort()
    over, wrong = _violations(factory, tenant_id)
    print(f"  burst via create_ticket ({threads} threads): all {len(tickets):,} in after {elapsed:.2f} s")
    print(
        f"    arrival → assigned (or queued)  p50 {percentile(latencies, 0.5) * 1000:7.1f} ms"
        f"   p99 {percentile(latencies, 0.99) * 1000:7.1f} ms   max {latencies[-1] * 1000:7.1f} ms"
    )
    print(f"    left waiting (nobody eligible with room): {_waiting(factory, tenant_id):,}")
    print(f"    capacity violations: {over}   load counters wrong: {wrong}")


def _reset_backlog(factory: sessionmaker[Session], tenant_id: int) -> None:
    """Everyone offline and empty-handed; every ticket back in its team's queue."""
    with factory.begin() as session:
        now = utcnow()
        session.execute(
            update(Ticket)
            .where(Ticket.tenant_id == tenant_id)
            .values(assignee_id=None, queued_at=Ticket.created_at, status="new"),
            execution_options={"synchronize_session": False},
        )
        session.execute(
            update(Agent)
            .where(Agent.tenant_id == tenant_id)
            .values(load=0, status="online", last_assigned_at=now - timedelta(days=1)),
            execution_options={"synchronize_session": False},
        )


def drain(factory: sessionmaker[Session], tenant_id: int) -> None:
    _reset_backlog(factory, tenant_id)
    began = time.perf_counter()
    with factory.begin() as session:
        teams = session.scalars(select(Team).where(Team.tenant_id == tenant_id)).all()
        assigned = queue.fill_teams(session, teams, now=utcnow())
    ours = time.perf_counter() - began
    over, wrong = _violations(factory, tenant_id)
    print(f"  backlog drain, queue fill:          {assigned:,} assigned in {ours:6.2f} s"
          f"   violations {over}, load counters wrong {wrong}")  # fmt: skip
    _reset_backlog(factory, tenant_id)
    began = time.perf_counter()
    assigned = _naive_drain(factory, tenant_id)
    naive = time.perf_counter() - began
    over, _ = _violations(factory, tenant_id)
    print(f"  backlog drain, count-per-ticket:    {assigned:,} assigned in {naive:6.2f} s"
          f"   violations {over}   (baseline)")  # fmt: skip


def _naive_drain(factory: sessionmaker[Session], tenant_id: int) -> int:
    """The peers' assigner: for each waiting ticket, the team's agents and a COUNT of each one's open
    tickets, the least loaded eligible one gets it."""
    assigned = 0
    with factory.begin() as session:
        members = Counter[int]()
        team_members: dict[int, list[int]] = {}
        for team_id, user_id in session.execute(select(TeamMember.team_id, TeamMember.user_id)):
            team_members.setdefault(team_id, []).append(user_id)
            members[user_id] += 1
        agents = {
            agent.user_id: agent
            for agent in session.scalars(select(Agent).where(Agent.tenant_id == tenant_id))
        }
        waiting = session.scalars(
            select(Ticket)
            .where(Ticket.tenant_id == tenant_id, Ticket.queued_at.is_not(None))
            .order_by(Ticket.id)
        ).all()
        for ticket in waiting:
            candidates = team_members.get(ticket.team_id or 0, [])
            loads = dict(
                session.execute(
                    select(Ticket.assignee_id, func.count())
                    .where(Ticket.assignee_id.in_(candidates), Ticket.status.notin_(DONE))
                    .group_by(Ticket.assignee_id)
                ).all()
            )
            view = TicketView(
                id=ticket.id, priority=ticket.priority, region=ticket.region,
                required_skills=frozenset(ticket.required_skills),
            )  # fmt: skip
            best = None
            for user_id in candidates:
                agent = agents[user_id]
                state = AgentView(
                    user_id=user_id, status=agent.status, capacity=agent.capacity, load=loads.get(user_id, 0),
                    skills=frozenset(agent.skills), regions=frozenset(agent.regions),
                )  # fmt: skip
                if ineligibility(state, view) is None and (best is None or state.load < best.load):
                    best = state
            if best is not None:
                ticket.assignee_id, ticket.queued_at = best.user_id, None
                session.flush()
                assigned += 1
    return assigned


def run(label: str, url: str, arguments: argparse.Namespace) -> None:
    engine, factory, tenant_id = prepare_database(url)
    generator = random.Random(arguments.seed)
    try:
        user_ids = _people(factory, tenant_id, arguments.agents)
        _teams(factory, tenant_id, user_ids, generator)
        with factory() as session:
            places = session.scalar(select(func.sum(Agent.capacity)).where(Agent.tenant_id == tenant_id))
        print(f"\n{label}: {arguments.tickets:,} tickets, {arguments.agents} agents, {places:,} places")
        # SQLite has one writer: more arrival threads only queue on its lock (and its busy handler
        # lets a waiter starve past the busy timeout), so arrivals there come from one thread.
        threads = 1 if url.startswith("sqlite") else arguments.threads
        burst(factory, tenant_id, _arrivals(arguments.tickets, generator), threads)
        drain(factory, tenant_id)
    finally:
        engine.dispose()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="bench.routing", description=__doc__.splitlines()[0])
    parser.add_argument("--tickets", type=int, default=3000)
    parser.add_argument("--agents", type=int, default=500)
    parser.add_argument("--threads", type=int, default=4, help="arrival threads on PostgreSQL (SQLite: 1)")
    parser.add_argument("--postgres-url", default=DEFAULT_POSTGRES_URL)
    parser.add_argument("--no-postgres", action="store_true")
    parser.add_argument("--no-sqlite", action="store_true")
    parser.add_argument("--seed", type=int, default=3)
    arguments = parser.parse_args(argv)
    build_registry()
    if not arguments.no_sqlite:
        with sqlite_database() as url:
            run("SQLite", url, arguments)
    if not arguments.no_postgres:
        with postgres_database(arguments.postgres_url) as postgres_url:
            if postgres_url is not None:
                run("PostgreSQL", postgres_url, arguments)
    own, _ = peak_rss_mb()
    print(f"\npeak RSS: {own:.0f} MiB")


if __name__ == "__main__":
    main()
