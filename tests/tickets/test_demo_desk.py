"""The demo's service desk: teams and agents seeded once, tickets routed to the demo agents, and the
demo tick moving them (first reply, then resolved), which frees places for the queue."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from scrm.core.actors import Actor
from scrm.core.clock import utcnow
from scrm.demo import desk
from scrm.demo.seed import seed_demo
from scrm.demo.tickets import seed_service_desk
from scrm.registry import build_registry
from scrm.tickets import service
from scrm.tickets.models import Ticket
from scrm.tickets.routing.settings import list_teams
from scrm.tickets.schemas import TicketIn


def test_the_demo_desk_routes_and_works_its_tickets(db: Session, monkeypatch: pytest.MonkeyPatch) -> None:
    build_registry()
    tenant_id = seed_demo(db).tenant_id
    seed_service_desk(db, tenant_id=tenant_id)
    desk.seed_desk_teams(db, tenant_id=tenant_id)
    desk.seed_desk_teams(db, tenant_id=tenant_id)  # a restart seeds nothing twice
    actor = Actor.system(tenant_id)
    assert [team.name for team in list_teams(db, actor=actor)] == ["售后一组", "综合客服"]
    made = [
        service.create_ticket(
            db, actor=actor, data=TicketIn(title=f"退款 {index}", ticket_type="after_sales")
        )
        for index in range(10)
    ]
    # Two after-sales agents with four places each: eight assigned, two wait.
    assert sum(ticket.assignee_id is not None for ticket in made) == 8
    later = utcnow() + desk.RESOLVE_AFTER + timedelta(minutes=1)
    for sequence in range(1, 200):
        if sequence == 100:  # past RESOLVE_AFTER: replies turn into resolutions
            monkeypatch.setattr(desk, "utcnow", lambda: later)
        desk.work_the_desk(db, tenant_id=tenant_id, sequence=sequence)
    rows = db.scalars(select(Ticket).where(Ticket.tenant_id == tenant_id)).all()
    assert all(row.first_responded_at is not None for row in rows if row.assignee_id is not None)
    resolved = [row for row in rows if row.status == "resolved"]
    assert resolved and all(row.outcome == "refund" for row in resolved)
    # The places they freed went to the two that waited.
    assert all(row.assignee_id is not None for row in rows)
