"""Events of the commerce domain (for tickets, journeys and settlement).

Status events are published when an order *reaches* a status: one event for the status it is now in,
carrying the status it came from (`previous_status`, None for an order seen for the first time). An
order first seen already completed (a backfill) publishes `order.received` once, not the whole
history; consumers that care about "was paid" test `paid_at`.
"""

from __future__ import annotations

from typing import ClassVar

from scrm.core.events import Event


class OrderStatusEvent(Event, frozen=True):
    """Base of the order status events."""

    order_id: int
    shop_id: int
    platform: str
    external_id: str
    customer_id: int | None
    status: str
    previous_status: str | None
    payment_fen: int
    # Learnt by a backfill or a catch-up pull rather than as it happened.
    backfilled: bool = False


class OrderCreated(OrderStatusEvent, frozen=True):
    event_type: ClassVar[str] = "order.created"


class OrderPaid(OrderStatusEvent, frozen=True):
    event_type: ClassVar[str] = "order.paid"


class OrderShipped(OrderStatusEvent, frozen=True):
    event_type: ClassVar[str] = "order.shipped"


class OrderReceived(OrderStatusEvent, frozen=True):
    """The buyer received the goods / the trade succeeded (canonical status `completed`)."""

    event_type: ClassVar[str] = "order.received"


class OrderClosed(OrderStatusEvent, frozen=True):
    event_type: ClassVar[str] = "order.closed"


class OrderRefundChanged(Event, frozen=True):
    """A refund on the order was requested or changed status. `order.refunded` is published separately
    when a refund succeeds."""

    event_type: ClassVar[str] = "order.refund_changed"
    order_id: int
    refund_id: int
    customer_id: int | None
    status: str
    amount_fen: int


class OrderRefunded(Event, frozen=True):
    """A refund succeeded: `amount_fen` went back to the buyer (`refunded_fen` is the order's total)."""

    event_type: ClassVar[str] = "order.refunded"
    order_id: int
    refund_id: int
    customer_id: int | None
    amount_fen: int
    refunded_fen: int
    line_external_ids: list[str]


class OrderAlertRaised(Event, frozen=True):
    """A special-order rule fired (big order risk, product sales threshold)."""

    event_type: ClassVar[str] = "order.alert_raised"
    alert_id: int
    kind: str
    order_id: int | None
    notify_user_ids: list[int]
