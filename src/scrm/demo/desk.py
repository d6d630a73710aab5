"""The demo's service desk at work: two teams, three agents online, and on every demo tick the agents
take a step on their oldest ticket (a first reply, or resolving it), so tickets from the simulated
shops' refunds and big orders move through the queue and the SLA clocks while the console watches.
Some wait long enough to warn, breach and escalate: the demo's agents are busy people."""

from __future__ import annotations

import random
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from scrm.core.actors import Actor, ActorKind
from scrm.core.clock import as_utc, utcnow
from scrm.identity.models import User
from scrm.tickets import service as tickets
from scrm.tickets.lifecycle import Action, TicketStatus
from scrm.tickets.models import Ticket
from scrm.tickets.routing import settings as routing
from scrm.tickets.routing.assignment import AgentStatus, Strategy
from scrm.tickets.routing.schemas import AgentIn, TeamIn
from scrm.tickets.schemas import CommentIn, Outcome, TransitionIn

AGENTS = {"zhangsan@scrm.local": ["after_sales"], "lisi@scrm.local": ["after_sales"], "sunqi@scrm.local": []}
LEAD, MANAGER = "sunqi@scrm.local", "demo@scrm.local"
REPLIES = ["您好，已收到您的反馈，正在为您核实～", "亲，这边已经联系仓库，请稍等", "已为您登记，稍后回复您"]
# How long a demo agent lets a ticket sit after replying before resolving it.
RESOLVE_AFTER = timedelta(minutes=3)


def _users(session: Session) -> dict[str, int]:
    emails = [*AGENTS, MANAGER]
    return dict(session.execute(select(User.email, User.id).where(User.email.in_(emails))).all())


def seed_desk_teams(session: Session, *, tenant_id: int) -> None:
    """Teams and agents, once (a demo database from before routing gets them on its next start)."""
    actor = Actor.system(tenant_id)
    if routing.list_teams(session, actor=actor):
        return
    users = _users(session)
    for email, skills in AGENTS.items():
        routing.save_agent(
            session,
            actor=actor,
            user_id=users[email],
            data=AgentIn(status=AgentStatus.ONLINE, capacity=4, skills=skills),
        )
    common = {"lead_user_id": users[LEAD], "manager_user_id": users[MANAGER]}
    routing.save_team(
        session,
        actor=actor,
        data=TeamIn(
            name="售后一组",
            strategy=Strategy.LEAST_LOAD,
            ticket_types=["after_sales"],
            member_user_ids=[users["zhangsan@scrm.local"], users["lisi@scrm.local"]],
            **common,
        ),
    )
    routing.save_team(
        session,
        actor=actor,
        data=TeamIn(
            name="综合客服",
            strategy=Strategy.ROUND_ROBIN,
            is_default=True,
            member_user_ids=list(users[email] for email in AGENTS),
            **common,
        ),
    )


def work_the_desk(session: Session, *, tenant_id: int, sequence: int) -> None:
    """One step per demo agent, now and then: reply to their oldest unanswered ticket, or resolve
    their oldest answered one a few minutes after the reply."""
    chance = random.Random(sequence)
    now = utcnow()
    for email, user_id in _users(session).items():
        if email not in AGENTS or chance.random() < 0.5:
            continue
        actor = Actor(
            kind=ActorKind.USER,
            tenant_id=tenant_id,
            user_id=user_id,
            permissions=frozenset({"*"}),
            name=email,
        )
        ticket = session.scalars(
            select(Ticket)
            .where(
                Ticket.tenant_id == tenant_id,
                Ticket.assignee_id == user_id,
                Ticket.status.in_([TicketStatus.NEW, TicketStatus.OPEN]),
            )
            .order_by(Ticket.id)
            .limit(1)
        ).first()
        if ticket is None:
            continue
        if ticket.first_responded_at is None:
            tickets.add_comment(
                session, actor=actor, ticket_id=ticket.id, data=CommentIn(body=chance.choice(REPLIES))
            )
        elif as_utc(ticket.first_responded_at) + RESOLVE_AFTER < now:
            outcome = Outcome.REFUND if ticket.ticket_type == "after_sales" else Outcome.NONE
            tickets.transition(
                session,
                actor=actor,
                ticket_id=ticket.id,
                action=Action.RESOLVE,
                data=TransitionIn(outcome=outcome),
            )
