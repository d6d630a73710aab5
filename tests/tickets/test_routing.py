"""Routing over HTTP and through the worker: teams and their queues, eligibility by skill, region and
presence, strategies, the queue moving the moment capacity frees up (urgent first), overflow after a
wait, assignment by hand, the decisions record, and bad input that changes nothing."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from scrm.core.worker import Worker, WorkerConfig
from scrm.registry import build_registry
from scrm.tickets.models import Ticket
from scrm.tickets.routing.models import Agent, RoutingDecision
from scrm.tickets.routing.queue import load_audit
from tests.conftest import Persona, _make_persona
from tests.core.helpers import FakeClock
from tests.tickets.conftest import Records


@pytest.fixture
def agents(committing_factory: sessionmaker[Session], owner: Persona) -> list[Persona]:
    return [
        _make_persona(committing_factory, owner.tenant_id, f"agent{index}@brand-a.test", "agent")
        for index in range(1, 4)
    ]


def team(client: Any, persona: Persona, **body: Any) -> dict[str, Any]:
    answer = client.post("/api/v1/tickets/teams", json=body, headers=persona.headers)
    assert answer.status_code == 201, answer.text
    return dict(answer.json())


def set_agent(client: Any, persona: Persona, user_id: int, **body: Any) -> dict[str, Any]:
    answer = client.put(
        f"/api/v1/tickets/agents/{user_id}", json={"status": "online", **body}, headers=persona.headers
    )
    assert answer.status_code == 200, answer.text
    return dict(answer.json())


def ticket(client: Any, persona: Persona, **body: Any) -> dict[str, Any]:
    answer = client.post("/api/v1/tickets", json={"title": "没收到货", **body}, headers=persona.headers)
    assert answer.status_code == 201, answer.text
    return dict(answer.json())


def resolve(client: Any, persona: Persona, ticket_id: int) -> None:
    answer = client.post(f"/api/v1/tickets/{ticket_id}/resolve", json={}, headers=persona.headers)
    assert answer.status_code == 200, answer.text


def assert_loads_match_open_tickets(factory: sessionmaker[Session], tenant_id: int) -> None:
    with factory() as session:
        assert load_audit(session, tenant_id) == {}


def test_the_queue_assigns_by_least_load_and_moves_on_when_capacity_frees_up(
    client: Any, owner: Persona, agents: list[Persona], committing_factory: sessionmaker[Session]
) -> None:
    first, second, _ = agents
    for persona in (first, second):
        set_agent(client, owner, persona.user_id, capacity=1)
    after_sales = team(
        client,
        owner,
        name="售后组",
        ticket_types=["after_sales"],
        member_user_ids=[first.user_id, second.user_id],
    )
    team(client, owner, name="综合组", is_default=True)
    made = [ticket(client, owner, ticket_type="after_sales") for _ in range(3)]
    assert {made[0]["assignee_id"], made[1]["assignee_id"]} == {first.user_id, second.user_id}
    assert made[2]["assignee_id"] is None and made[2]["queued_at"] is not None
    assert all(item["team_id"] == after_sales["id"] for item in made)
    assert (
        client.get(f"/api/v1/tickets/teams/{after_sales['id']}", headers=owner.headers).json()["waiting"] == 1
    )
    # An urgent ticket arriving later jumps the queue.
    urgent = ticket(client, owner, ticket_type="after_sales", priority="urgent")
    assert urgent["assignee_id"] is None
    # A general ticket goes to the default team, which has no agents: it waits there.
    general = ticket(client, owner)
    assert general["team_id"] != after_sales["id"] and general["assignee_id"] is None

    resolve(client, owner, made[0]["id"])
    urgent_now = client.get(f"/api/v1/tickets/{urgent['id']}", headers=owner.headers).json()
    assert urgent_now["assignee_id"] == made[0]["assignee_id"] and urgent_now["queued_at"] is None
    assert client.get(f"/api/v1/tickets/{made[2]['id']}", headers=owner.headers).json()["assignee_id"] is None
    resolve(client, owner, made[1]["id"])
    assert (
        client.get(f"/api/v1/tickets/{made[2]['id']}", headers=owner.headers).json()["assignee_id"]
        == (made[1]["assignee_id"])
    )
    decisions = client.get(f"/api/v1/tickets/{urgent['id']}/routing", headers=owner.headers).json()
    assert [item["kind"] for item in decisions] == ["team", "assigned"]
    assert decisions[1]["reason"] == "least_load" and decisions[1]["strategy"] == "least_load"
    timeline = client.get(f"/api/v1/tickets/{urgent['id']}", headers=owner.headers).json()["timeline"]
    assert "routing.assigned" in [entry["kind"] for entry in timeline]
    assert_loads_match_open_tickets(committing_factory, owner.tenant_id)


def test_skills_regions_and_presence_decide_who_is_eligible(
    client: Any, owner: Persona, agents: list[Persona], committing_factory: sessionmaker[Session]
) -> None:
    generalist, specialist, southern = agents
    set_agent(client, owner, generalist.user_id)
    set_agent(client, owner, specialist.user_id, skills=["quality"])
    set_agent(client, owner, southern.user_id, regions=["广东省"], status="offline")
    team(
        client,
        owner,
        name="综合组",
        is_default=True,
        strategy="round_robin",
        skills_by_category={"质量问题": ["quality"]},
        member_user_ids=[generalist.user_id, specialist.user_id, southern.user_id],
    )
    quality = ticket(client, owner, category="质量问题")
    assert quality["assignee_id"] == specialist.user_id and quality["required_skills"] == ["quality"]
    # Only the southern agent serves 广东省, and they are offline: the ticket waits.
    set_agent(client, owner, generalist.user_id, regions=["浙江省"])
    set_agent(client, owner, specialist.user_id, skills=["quality"], regions=["浙江省"])
    southern_ticket = ticket(client, owner, region="广东省")
    assert southern_ticket["assignee_id"] is None
    came_online = client.post("/api/v1/tickets/presence", json={"status": "online"}, headers=southern.headers)
    assert came_online.status_code == 200 and came_online.json()["load"] == 1
    assert client.get(f"/api/v1/tickets/{southern_ticket['id']}", headers=owner.headers).json()[
        "assignee_id"
    ] == (southern.user_id)
    mine = client.get("/api/v1/tickets?view=team", headers=southern.headers).json()["items"]
    assert {item["id"] for item in mine} == {quality["id"], southern_ticket["id"]}
    assert_loads_match_open_tickets(committing_factory, owner.tenant_id)


def test_sticky_teams_keep_a_customer_with_their_last_agent(
    client: Any, owner: Persona, agents: list[Persona], records: Records
) -> None:
    first, second, _ = agents
    set_agent(client, owner, first.user_id, capacity=5)
    set_agent(client, owner, second.user_id, capacity=5)
    team(
        client,
        owner,
        name="VIP",
        is_default=True,
        strategy="sticky",
        member_user_ids=[first.user_id, second.user_id],
    )
    earlier = ticket(client, owner, customer_id=records.customers[0])
    ticket(client, owner)  # someone else's, to make the two agents' loads differ
    again = ticket(client, owner, customer_id=records.customers[0])
    assert again["assignee_id"] == earlier["assignee_id"]
    decisions = client.get(f"/api/v1/tickets/{again['id']}/routing", headers=owner.headers).json()
    assert decisions[-1]["reason"] == "sticky"


def test_a_ticket_waiting_too_long_overflows_to_the_next_team(
    client: Any, owner: Persona, agents: list[Persona], committing_factory: sessionmaker[Session]
) -> None:
    first, second, _ = agents
    set_agent(client, owner, first.user_id, status="away")
    set_agent(client, owner, second.user_id)
    backup = team(client, owner, name="二线", member_user_ids=[second.user_id])
    team(
        client,
        owner,
        name="一线",
        is_default=True,
        member_user_ids=[first.user_id],
        overflow_team_id=backup["id"],
        overflow_after_minutes=10,
    )
    waiting = ticket(client, owner)
    assert waiting["assignee_id"] is None
    created = datetime.fromisoformat(waiting["created_at"])
    registry = build_registry()
    early = FakeClock(created.astimezone(UTC).replace(microsecond=0))
    Worker(committing_factory, registry, WorkerConfig(batch_size=50), worker_id="a", clock=early).run_once()
    assert (
        client.get(f"/api/v1/tickets/{waiting['id']}", headers=owner.headers).json()["team_id"]
        != backup["id"]
    )
    late = FakeClock(created.astimezone(UTC))
    late.advance(11 * 60)
    for worker_id in ("a", "b"):  # a restarted worker does not move it twice
        Worker(
            committing_factory, registry, WorkerConfig(batch_size=50), worker_id=worker_id, clock=late
        ).run_once()
    moved = client.get(f"/api/v1/tickets/{waiting['id']}", headers=owner.headers).json()
    assert moved["team_id"] == backup["id"] and moved["assignee_id"] == second.user_id
    with committing_factory() as session:
        kinds = session.scalars(
            select(RoutingDecision.kind)
            .where(RoutingDecision.ticket_id == waiting["id"])
            .order_by(RoutingDecision.id)
        ).all()
    assert kinds == ["team", "overflowed", "assigned"]


def test_assignment_by_hand_respects_membership_and_capacity(
    client: Any,
    owner: Persona,
    agents: list[Persona],
    other_tenant: Persona,
    committing_factory: sessionmaker[Session],
) -> None:
    first, second, outsider = agents
    set_agent(client, owner, first.user_id, capacity=1)
    set_agent(client, owner, second.user_id, capacity=1)
    team(client, owner, name="综合组", is_default=True, member_user_ids=[first.user_id, second.user_id])
    one, two = ticket(client, owner), ticket(client, owner)
    target = two["assignee_id"]
    url = f"/api/v1/tickets/{one['id']}/assign"
    full = client.post(url, json={"assignee_id": target}, headers=owner.headers)
    assert full.status_code == 409 and "capacity" in full.json()["detail"]
    stranger = client.post(url, json={"assignee_id": outsider.user_id}, headers=owner.headers)
    assert stranger.status_code == 422 and stranger.json()["errors"][0]["field"] == "assignee_id"
    forced = client.post(
        url, json={"assignee_id": target, "force": True, "note": "熟悉此客户"}, headers=owner.headers
    )
    assert forced.status_code == 200 and forced.json()["assignee_id"] == target
    # The place `one` left is taken by nobody (no ticket waits); loads still equal open tickets.
    agents_now = client.get("/api/v1/tickets/agents", headers=owner.headers).json()
    loads = {item["user_id"]: item["load"] for item in agents_now}
    assert loads[target] == 2 and loads[one["assignee_id"]] == 0
    # Another tenant sees none of it and cannot touch it.
    assert client.post(url, json={"assignee_id": None}, headers=other_tenant.headers).status_code == 404
    assert client.get(f"/api/v1/tickets/{one['id']}/routing", headers=other_tenant.headers).status_code == 404
    assert (
        client.put(
            f"/api/v1/tickets/agents/{first.user_id}", json={}, headers=other_tenant.headers
        ).status_code
        == 404
    )


def test_bad_team_definitions_are_refused_and_change_nothing(
    client: Any, owner: Persona, other_tenant: Persona, agent: Persona
) -> None:
    foreign = client.post("/api/v1/tickets/teams", json={"name": "B组"}, headers=other_tenant.headers).json()
    bad = [
        ({"name": "x", "member_user_ids": [other_tenant.user_id]}, "member_user_ids.0"),
        ({"name": "x", "lead_user_id": 987654}, "lead_user_id"),
        ({"name": "x", "overflow_team_id": foreign["id"], "overflow_after_minutes": 5}, "overflow_team_id"),
        ({"name": "x", "overflow_team_id": foreign["id"]}, "overflow_after_minutes"),
    ]
    for body, field in bad:
        answer = client.post("/api/v1/tickets/teams", json=body, headers=owner.headers)
        assert answer.status_code == 422, answer.text
        assert field in [error["field"] for error in answer.json()["errors"]]
    assert (
        client.post(
            "/api/v1/tickets/teams", json={"name": "x", "strategy": "random"}, headers=owner.headers
        ).status_code
        == 422
    )
    assert client.post("/api/v1/tickets/teams", json={"name": "x"}, headers=agent.headers).status_code == 403
    assert client.get("/api/v1/tickets/teams", headers=owner.headers).json() == []
    assert client.get(f"/api/v1/tickets/teams/{foreign['id']}", headers=owner.headers).status_code == 404


def test_capacity_is_checked_again_where_the_load_grows(
    client: Any, owner: Persona, agents: list[Persona], committing_factory: sessionmaker[Session]
) -> None:
    """Another process may have filled the agent since this fill read them: the conditional update
    refuses, whatever the fill believed."""
    from scrm.tickets.routing.queue import take_capacity

    set_agent(client, owner, agents[0].user_id, capacity=2)
    with committing_factory() as session:
        session.execute(Agent.__table__.update().values(load=2))
        assert not take_capacity(session, owner.tenant_id, agents[0].user_id, datetime.now(UTC))
        session.execute(Agent.__table__.update().values(load=1))
        assert take_capacity(session, owner.tenant_id, agents[0].user_id, datetime.now(UTC))
        assert session.scalar(select(Agent.load).where(Agent.user_id == agents[0].user_id)) == 2


def test_a_ticket_naming_another_tenants_team_is_refused(
    client: Any, owner: Persona, other_tenant: Persona, committing_factory: sessionmaker[Session]
) -> None:
    foreign = client.post("/api/v1/tickets/teams", json={"name": "B组"}, headers=other_tenant.headers).json()
    answer = client.post(
        "/api/v1/tickets", json={"title": "x", "team_id": foreign["id"]}, headers=owner.headers
    )
    assert answer.status_code == 422 and answer.json()["errors"][0]["field"] == "team_id"
    with committing_factory() as session:
        assert (
            session.scalar(
                select(func.count()).select_from(Ticket).where(Ticket.tenant_id == owner.tenant_id)
            )
            == 0
        )


def test_sticky_teams_send_a_new_customer_to_their_wecom_guide(
    client: Any, owner: Persona, agents: list[Persona], committing_factory: sessionmaker[Session]
) -> None:
    """No earlier ticket: the customer's guide (the staff member following them on WeCom, linked to
    a user) takes the ticket, though another agent has less load."""
    from scrm.customers.models import Customer, FollowRelation
    from scrm.staff.models import StaffMember

    guide, other, _ = agents
    set_agent(client, owner, guide.user_id, capacity=5)
    set_agent(client, owner, other.user_id, capacity=5)
    team(
        client,
        owner,
        name="VIP",
        is_default=True,
        strategy="sticky",
        member_user_ids=[guide.user_id, other.user_id],
    )
    first = ticket(client, owner)  # someone else's, given to the guide: least load would pick the other
    if first["assignee_id"] != guide.user_id:
        url = f"/api/v1/tickets/{first['id']}/assign"
        assert client.post(url, json={"assignee_id": guide.user_id}, headers=owner.headers).status_code == 200
    with committing_factory.begin() as session:
        customer = Customer(tenant_id=owner.tenant_id, name="王女士")
        session.add(customer)
        session.add(
            StaffMember(
                tenant_id=owner.tenant_id,
                connection_id=1,
                userid="guide01",
                name="导购",
                user_id=guide.user_id,
            )
        )
        session.flush()
        session.add(
            FollowRelation(
                tenant_id=owner.tenant_id,
                customer_id=customer.id,
                connection_id=1,
                staff_userid="guide01",
                external_userid="wm-1",
            )
        )
        customer_id = customer.id
    theirs = ticket(client, owner, customer_id=customer_id)
    assert theirs["assignee_id"] == guide.user_id
    decisions = client.get(f"/api/v1/tickets/{theirs['id']}/routing", headers=owner.headers).json()
    assert decisions[-1]["reason"] == "sticky"


def test_an_arrival_that_loses_its_agent_to_a_concurrent_one_chooses_again(
    client: Any,
    owner: Persona,
    agents: list[Persona],
    committing_factory: sessionmaker[Session],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Another process fills the chosen agent's last place between the choice and the conditional
    update: the ticket goes to the other agent with room, not to the queue."""
    from scrm.tickets.routing import queue

    first, second, _ = agents
    set_agent(client, owner, first.user_id, capacity=1)
    set_agent(client, owner, second.user_id, capacity=1)
    team(client, owner, name="综合组", is_default=True, member_user_ids=[first.user_id, second.user_id])
    real = queue.take_capacity
    raced: list[int] = []

    def racing(session: Session, tenant_id: int, user_id: int, stamp: datetime, *, count: int = 1) -> bool:
        if not raced:  # the concurrent arrival fills this agent first
            raced.append(user_id)
            session.execute(Agent.__table__.update().where(Agent.user_id == user_id).values(load=1))
        return real(session, tenant_id, user_id, stamp, count=count)

    monkeypatch.setattr(queue, "take_capacity", racing)
    made = ticket(client, owner)
    assert raced and made["assignee_id"] not in (None, raced[0])
