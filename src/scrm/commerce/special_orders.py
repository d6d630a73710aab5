"""Special orders (特殊订单, seed 000): presale ship dates, big-order risk alerts, gifts by customer
level, and cross-platform product sales alerts.

Run by `ingest.ingest_order` when an order is first seen or changes status. Each rule fires once: labels
are only added when absent, alerts carry a unique `dedupe_key` (per order, or per product and month).
Orders learnt by a backfill get their labels but raise no alerts (old news alarms nobody usefully).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from scrm.commerce import timeline
from scrm.commerce.convergence import Applied
from scrm.commerce.events import OrderAlertRaised
from scrm.commerce.models import CommerceSettings, Order, OrderAlert, OrderLine
from scrm.commerce.purchases import counted_orders_filter, net_spend
from scrm.core.clock import utcnow
from scrm.core.events import Event
from scrm.core.leases import dialect_insert
from scrm.platforms.shops.canonical import OrderStatus

SHANGHAI = ZoneInfo("Asia/Shanghai")
PAID_STATUSES = {OrderStatus.PAID, OrderStatus.SHIPPED, OrderStatus.COMPLETED}


def settings_of(session: Session, tenant_id: int) -> CommerceSettings | None:
    return session.get(CommerceSettings, tenant_id)


def _label(order: Order, label: str) -> bool:
    if label in order.labels:
        return False
    order.labels = [*order.labels, label]
    return True


def _raise_alert(
    session: Session,
    order: Order,
    *,
    kind: str,
    dedupe_key: str,
    title: str,
    detail: dict[str, Any],
    user_ids: list[int],
) -> Event | None:
    """Insert the alert unless its key fired before; the event to publish when it is new."""
    alert_id = session.execute(
        dialect_insert(session, OrderAlert)
        .values(
            tenant_id=order.tenant_id,
            kind=kind,
            dedupe_key=dedupe_key,
            order_id=order.id,
            title=title[:300],
            detail=detail,
            notify_user_ids=user_ids,
            status="open",
            created_at=utcnow(),
        )
        .on_conflict_do_nothing(index_elements=["tenant_id", "dedupe_key"])
        .returning(OrderAlert.id)
    ).scalar_one_or_none()
    if alert_id is None:
        return None
    timeline.record(session, order, f"alert.{kind}", title, "rules", alert_id=alert_id)
    return OrderAlertRaised(
        tenant_id=order.tenant_id, alert_id=alert_id, kind=kind, order_id=order.id, notify_user_ids=user_ids
    )


def _lifetime_spend_fen(session: Session, order: Order) -> int:
    if order.customer_id is None:
        return order.payment_fen
    total = session.scalar(
        select(func.coalesce(func.sum(net_spend()), 0)).where(
            Order.tenant_id == order.tenant_id,
            Order.customer_id == order.customer_id,
            *counted_orders_filter(),
        )
    )
    return int(total or 0)


def pick_gift(rules: list[dict[str, Any]], *, lifetime_fen: int, order_fen: int) -> str | None:
    """The first rule (highest `min_total_spent_fen` first) the customer and order qualify for."""
    ranked = sorted(rules, key=lambda rule: int(rule.get("min_total_spent_fen", 0)), reverse=True)
    for rule in ranked:
        if lifetime_fen >= int(rule.get("min_total_spent_fen", 0)) and order_fen >= int(
            rule.get("min_order_fen", 0)
        ):
            return str(rule.get("name") or "")
    return None


def month_bounds(moment: datetime) -> tuple[datetime, datetime, str]:
    """The Shanghai calendar month holding `moment`, as UTC bounds, and its "YYYY-MM" label."""
    local = moment.astimezone(SHANGHAI)
    start = local.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    end = (
        start.replace(year=start.year + 1, month=1)
        if start.month == 12
        else start.replace(month=start.month + 1)
    )
    return start.astimezone(UTC), end.astimezone(UTC), f"{start:%Y-%m}"


def _monthly_units(session: Session, tenant_id: int, sku_id: str, start: datetime, end: datetime) -> int:
    units = session.scalar(
        select(func.coalesce(func.sum(OrderLine.quantity), 0))
        .join(Order, Order.id == OrderLine.order_id)
        .where(
            OrderLine.tenant_id == tenant_id,
            OrderLine.sku_id == sku_id,
            Order.paid_at.is_not(None),
            Order.placed_at >= start,
            Order.placed_at < end,
        )
    )
    return int(units or 0)


def on_order_change(
    session: Session, *, order: Order, applied: Applied, live: bool, settings: CommerceSettings | None
) -> list[Event]:
    """Apply the special-order rules (the tenant's `settings`) to an order just seen or just moved;
    events to publish."""
    events: list[Event] = []
    if order.is_presale and order.presale_ship_at is not None:
        day = order.presale_ship_at.astimezone(SHANGHAI)
        if _label(order, f"预售 · {day:%m-%d} 发货"):
            timeline.record(
                session,
                order,
                "presale",
                f"预售订单，预计 {day:%Y-%m-%d} 发货",
                "rules",
                ship_at=day.isoformat(),
            )
    newly_paid = OrderStatus(order.status) in PAID_STATUSES and (
        applied.previous_status is None or applied.previous_status == OrderStatus.CREATED
    )
    if not newly_paid or settings is None:
        return events
    threshold = settings.big_order_threshold_fen
    if threshold is not None and order.payment_fen >= threshold:
        _label(order, "大额订单")
        if live:
            event = _raise_alert(
                session,
                order,
                kind="big_order",
                dedupe_key=f"big_order:{order.id}",
                title=f"大额订单 {order.external_id}：{order.payment_fen / 100:.2f} 元（{order.platform}）",
                detail={"payment_fen": order.payment_fen, "threshold_fen": threshold},
                user_ids=list(settings.alert_user_ids),
            )
            events.extend([event] if event else [])
    if settings.gift_rules:
        gift = pick_gift(
            settings.gift_rules, lifetime_fen=_lifetime_spend_fen(session, order), order_fen=order.payment_fen
        )
        if gift and _label(order, f"赠品：{gift}"):
            timeline.record(session, order, "gift", f"按客户等级匹配赠品：{gift}", "rules", gift=gift)
    if live and settings.product_alerts and order.placed_at is not None:
        skus = set(session.scalars(select(OrderLine.sku_id).where(OrderLine.order_id == order.id)))
        start, end, month = month_bounds(order.placed_at)
        for rule in settings.product_alerts:
            sku = str(rule.get("sku_id") or "")
            threshold_units = int(rule.get("monthly_units") or 0)
            if sku not in skus or threshold_units <= 0:
                continue
            units = _monthly_units(session, order.tenant_id, sku, start, end)
            if units >= threshold_units:
                event = _raise_alert(
                    session,
                    order,
                    kind="product_sales",
                    dedupe_key=f"product:{sku}:{month}",
                    title=f"商品 {sku} 本月全平台销量已达 {units} 件（阈值 {threshold_units}）",
                    detail={"sku_id": sku, "units": units, "month": month, "threshold": threshold_units},
                    user_ids=[int(user) for user in rule.get("user_ids") or settings.alert_user_ids],
                )
                events.extend([event] if event else [])
    return events
