"""Tickets raised by commerce events: a requested refund opens one after-sales ticket (repeats open no
other), later refund states go on its timeline and a successful refund resolves it with the outcome
`refund`; a big-order alert opens a high-priority risk review; other alerts and refunds first seen
already decided open nothing."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from scrm.commerce.events import OrderAlertRaised, OrderRefundChanged
from scrm.core.events import Delivery, Event, set_active_registry
from scrm.identity.models import Tenant
from scrm.registry import build_registry
from scrm.tickets.handlers import on_alert_raised, on_refund_changed
from scrm.tickets.models import Ticket, TicketTimelineEntry


@pytest.fixture
def tenant_id(db: Session) -> Iterator[int]:
    set_active_registry(build_registry())
    tenant = Tenant(name="Brand")
    db.add(tenant)
    db.flush()
    yield tenant.id
    set_active_registry(None)


def deliver(event: Event) -> Delivery:
    return Delivery(str(uuid.uuid4()), event.event_type, event.tenant_id, event.model_dump(mode="json"), 1)


def refund(tenant_id: int, status: str, refund_id: int = 7) -> Delivery:
    return deliver(
        OrderRefundChanged(
            tenant_id=tenant_id,
            order_id=41,
            refund_id=refund_id,
            customer_id=9,
            status=status,
            amount_fen=5900,
        )
    )


def test_a_refund_request_becomes_one_ticket_that_a_successful_refund_resolves(
    db: Session, tenant_id: int
) -> None:
    on_refund_changed(db, refund(tenant_id, "requested"))
    on_refund_changed(db, refund(tenant_id, "requested"))  # redelivered
    on_refund_changed(db, refund(tenant_id, "agreed"))
    tickets = db.scalars(select(Ticket).where(Ticket.tenant_id == tenant_id)).all()
    assert len(tickets) == 1
    ticket = tickets[0]
    assert (ticket.source, ticket.ticket_type, ticket.order_id, ticket.customer_id) == (
        "refund",
        "after_sales",
        41,
        9,
    )
    assert ticket.status == "new" and "59.00" in ticket.title
    assert (ticket.category, ticket.classified_by) == ("退换货", "agent")
    on_refund_changed(db, refund(tenant_id, "succeeded"))
    db.refresh(ticket)
    assert (ticket.status, ticket.outcome) == ("resolved", "refund")
    kinds = db.scalars(
        select(TicketTimelineEntry.kind)
        .where(TicketTimelineEntry.ticket_id == ticket.id)
        .order_by(TicketTimelineEntry.id)
    ).all()
    assert kinds == ["created", "refund.agreed", "refund.succeeded", "status.resolve"]


def test_refunds_first_seen_decided_and_other_alerts_open_nothing(db: Session, tenant_id: int) -> None:
    on_refund_changed(db, refund(tenant_id, "succeeded", refund_id=8))
    on_alert_raised(
        db,
        deliver(
            OrderAlertRaised(
                tenant_id=tenant_id, alert_id=3, kind="product_sales", order_id=41, notify_user_ids=[]
            )
        ),
    )
    assert db.scalars(select(Ticket).where(Ticket.tenant_id == tenant_id)).all() == []


def test_a_big_order_alert_opens_a_risk_review(db: Session, tenant_id: int) -> None:
    alert = deliver(
        OrderAlertRaised(tenant_id=tenant_id, alert_id=5, kind="big_order", order_id=42, notify_user_ids=[7])
    )
    on_alert_raised(db, alert)
    on_alert_raised(db, alert)
    tickets = db.scalars(select(Ticket).where(Ticket.tenant_id == tenant_id)).all()
    assert [(t.source, t.ticket_type, t.priority, t.order_id) for t in tickets] == [
        ("order_anomaly", "risk_review", "high", 42)
    ]


def test_a_ticket_form_never_stops_an_event_from_raising_its_ticket(db: Session, tenant_id: int) -> None:
    """An administrator's after-sales form may require fields a refund does not carry: the refund's
    ticket is raised anyway, its fields kept as given without a form version; the demo's own
    after-sales form takes a refund's fields as they are."""
    from scrm.core.actors import Actor
    from scrm.demo.forms import seed_demo_forms
    from scrm.forms import service as forms
    from scrm.forms.schemas import FormIn, FormKind

    seed_demo_forms(db, tenant_id=tenant_id)
    on_refund_changed(db, refund(tenant_id, "requested", refund_id=21))
    fitting = db.scalars(select(Ticket).where(Ticket.source_ref == "refund:21")).one()
    assert fitting.form_version_id is not None and fitting.custom == {"refund_id": 21, "amount_fen": 5900}
    strict = next(
        form for form in forms.list_forms(db, actor=Actor.system(tenant_id)) if form.kind == "ticket"
    )
    forms.update_form(
        db,
        actor=Actor.system(tenant_id),
        form_id=strict.id,
        data=FormIn(
            name="售后工单字段",
            kind=FormKind.TICKET,
            ticket_type="after_sales",
            fields=[{"key": "phone", "type": "phone", "label": {"zh-CN": "手机"}, "required": True}],
        ),
    )
    on_refund_changed(db, refund(tenant_id, "requested", refund_id=22))
    kept = db.scalars(select(Ticket).where(Ticket.source_ref == "refund:22")).one()
    assert kept.form_version_id is None and kept.custom == {"refund_id": 22, "amount_fen": 5900}
