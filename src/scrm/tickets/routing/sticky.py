"""Whom a customer's ticket sticks to: the agent of their latest ticket, then their guides (the staff
following them on WeCom, as users of this tenant)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from scrm.customers.query import follow_staff_userids
from scrm.staff.service import user_ids_for_staff
from scrm.tickets.models import Ticket


def sticky_user_ids(session: Session, ticket: Ticket) -> tuple[int, ...]:
    if ticket.customer_id is None:
        return ()
    last_agent = session.scalars(
        select(Ticket.assignee_id)
        .where(
            Ticket.tenant_id == ticket.tenant_id,
            Ticket.customer_id == ticket.customer_id,
            Ticket.assignee_id.is_not(None),
            Ticket.id != ticket.id,
        )
        .order_by(Ticket.id.desc())
        .limit(1)
    ).first()
    userids = follow_staff_userids(session, tenant_id=ticket.tenant_id, customer_id=ticket.customer_id)
    by_userid = user_ids_for_staff(session, tenant_id=ticket.tenant_id, userids=userids)
    ordered = [last_agent] if last_agent is not None else []
    ordered += [by_userid[userid] for userid in userids if userid in by_userid]
    return tuple(dict.fromkeys(ordered))
