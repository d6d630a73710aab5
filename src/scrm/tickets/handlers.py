"""Tickets raised by other domains' events (seed 000: after-sales requests and order anomalies become
tickets by themselves), and the ticket timers (SLA clocks, auto-close).

- `order.refund_changed`: a requested refund opens an after-sales ticket (`after_sales`, once per
  refund); later refund states go on its timeline, and a refund that succeeded resolves it with the
  outcome `refund`.
- `order.alert_raised` of kind `big_order`: a risk review ticket (`risk_review`, high priority, once
  per alert).
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from scrm.commerce.events import OrderAlertRaised, OrderRefundChanged
from scrm.core.actors import Actor
from scrm.core.events import Delivery, EventHandler
from scrm.tickets import service
from scrm.tickets.lifecycle import Action
from scrm.tickets.routing import queue
from scrm.tickets.schemas import Priority, TicketIn, TicketSource
from scrm.tickets.timeline import record

REFUND_STATUS_ZH = {
    "requested": "买家申请售后",
    "agreed": "商家已同意",
    "returning": "买家已退货",
    "refused": "商家已拒绝",
    "succeeded": "退款成功",
    "closed": "售后关闭",
}


def on_refund_changed(session: Session, delivery: Delivery) -> None:
    event = delivery.load(OrderRefundChanged)
    source_ref = f"refund:{event.refund_id}"
    ticket = service.find_by_source(session, event.tenant_id, source_ref)
    if ticket is None:
        if event.status != "requested":
            return  # a refund first seen already decided needs nobody
        service.create_ticket(
            session,
            actor=Actor.system(event.tenant_id),
            data=TicketIn(
                title=f"售后申请：订单 {event.order_id}，退款 {event.amount_fen / 100:.2f} 元",
                customer_id=event.customer_id,
                order_id=event.order_id,
                source=TicketSource.REFUND,
                ticket_type="after_sales",
                # What raised it is known: no classifier needs to guess (it would read the amount).
                category="退换货",
                custom={"refund_id": event.refund_id, "amount_fen": event.amount_fen},
            ),
            source_ref=source_ref,
        )
        return
    if event.status == "requested":
        return  # what opened the ticket (a refund requested again is the same request)
    summary = f"售后状态：{REFUND_STATUS_ZH.get(event.status, event.status)}"
    record(session, ticket, "refund." + event.status, summary, "system", amount_fen=event.amount_fen)
    if event.status == "succeeded":
        service.apply_system_action(session, ticket, Action.RESOLVE, outcome="refund", note="退款成功")


def on_alert_raised(session: Session, delivery: Delivery) -> None:
    event = delivery.load(OrderAlertRaised)
    if event.kind != "big_order":
        return
    service.create_ticket(
        session,
        actor=Actor.system(event.tenant_id),
        data=TicketIn(
            title=f"大额订单风险核查：订单 {event.order_id}",
            order_id=event.order_id,
            source=TicketSource.ORDER_ANOMALY,
            ticket_type="risk_review",
            category="风控核查",
            priority=Priority.HIGH,
            custom={"alert_id": event.alert_id},
        ),
        source_ref=f"alert:{event.alert_id}",
    )


HANDLERS = [
    EventHandler(OrderRefundChanged.event_type, "tickets.refund_changed", on_refund_changed),
    EventHandler(OrderAlertRaised.event_type, "tickets.order_alert", on_alert_raised),
]
TIMER_HANDLERS = [*service.TIMER_HANDLERS, *queue.TIMER_HANDLERS]
