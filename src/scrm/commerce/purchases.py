"""What counts as a purchase, for the aggregates, reports and rules (one definition for all)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import case

from scrm.commerce.models import Order
from scrm.platforms.shops.canonical import OrderStatus, RefundState


def counted_orders_filter() -> list[Any]:
    """Orders that count as purchases: paid, and not closed with everything refunded (by the refunds
    seen, or by the platform's own refund state: PDD reports refunds only as agreed)."""
    return [
        Order.paid_at.is_not(None),
        ~(
            (Order.status == OrderStatus.CLOSED)
            & ((Order.refunded_fen >= Order.payment_fen) | (Order.refund_state == RefundState.FULL_REFUNDED))
        ),
    ]


def net_spend() -> Any:
    """What an order is worth to its buyer's spend: the payment less refunds, never below zero."""
    return case(
        (Order.refund_state == RefundState.FULL_REFUNDED, 0),
        (Order.payment_fen > Order.refunded_fen, Order.payment_fen - Order.refunded_fen),
        else_=0,
    )
