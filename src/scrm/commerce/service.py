"""The commerce domain's reads and commands for the console and API. Functions flush, never commit.

Orders follow the customers' data scopes: an actor limited to their own (or their department's)
customers sees only those customers' orders; orders whose buyer is not linked to any customer are
visible only to actors who see every customer.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import Session

from scrm.commerce.models import (
    AlertStatus,
    CommerceSettings,
    Order,
    OrderAlert,
    OrderLine,
    OrderTimelineEntry,
    Refund,
    Shop,
)
from scrm.commerce.permissions import CommercePermission
from scrm.commerce.purchases import counted_orders_filter, net_spend
from scrm.commerce.schemas import (
    AlertOut,
    CommerceSettingsIn,
    CommerceSettingsOut,
    CrossPlatformCustomerOut,
    CrossPlatformReportOut,
    OrderDetailOut,
    OrderLineOut,
    OrderOut,
    OrderTimelineOut,
    PlatformComboOut,
    RefundOut,
)
from scrm.core.actors import Actor
from scrm.core.clock import utcnow
from scrm.core.errors import NotFound
from scrm.core.pagination import PageRequest, paginate
from scrm.core.tenancy import require_in_tenant, tenant_select
from scrm.customers.service import (
    access_customer,
    customer_ids_matching,
    customer_names,
    visible_customer_ids,
)
from scrm.identity.audit import record_audit


@dataclass(frozen=True)
class OrderFilter:
    platform: str | None = None
    shop_id: int | None = None
    status: str | None = None
    refund_state: str | None = None
    placed_from: datetime | None = None
    placed_to: datetime | None = None
    min_payment_fen: int | None = None
    max_payment_fen: int | None = None
    province: str | None = None
    city: str | None = None
    customer_id: int | None = None
    q: str | None = None


SelectT = TypeVar("SelectT", bound=Select)


def _scoped(session: Session, actor: Actor, stmt: SelectT) -> SelectT:
    visible = visible_customer_ids(session, actor)
    if visible is not None:
        stmt = stmt.where(Order.customer_id.in_(visible))
    return stmt


def order_select(session: Session, *, actor: Actor, filters: OrderFilter) -> Select[Any]:
    stmt = _scoped(session, actor, tenant_select(Order, actor.tenant_id))
    equal = {
        Order.platform: filters.platform,
        Order.shop_id: filters.shop_id,
        Order.status: filters.status,
        Order.refund_state: filters.refund_state,
        Order.receiver_province: filters.province,
        Order.receiver_city: filters.city,
        Order.customer_id: filters.customer_id,
    }
    for column, value in equal.items():
        if value is not None:
            stmt = stmt.where(column == value)
    if filters.placed_from is not None:
        stmt = stmt.where(Order.placed_at >= filters.placed_from)
    if filters.placed_to is not None:
        stmt = stmt.where(Order.placed_at < filters.placed_to)
    if filters.min_payment_fen is not None:
        stmt = stmt.where(Order.payment_fen >= filters.min_payment_fen)
    if filters.max_payment_fen is not None:
        stmt = stmt.where(Order.payment_fen <= filters.max_payment_fen)
    if filters.q and filters.q.strip():
        text = filters.q.strip()
        stmt = stmt.where(
            or_(
                Order.external_id == text,
                Order.buyer_nick.ilike(f"%{text}%"),
                Order.customer_id.in_(customer_ids_matching(session, tenant_id=actor.tenant_id, q=text)),
            )
        )
    return stmt


def _render(session: Session, tenant_id: int, orders: Sequence[Order]) -> list[OrderOut]:
    if not orders:
        return []
    shops = {
        shop.id: shop
        for shop in session.scalars(select(Shop).where(Shop.id.in_({order.shop_id for order in orders})))
    }
    names = customer_names(
        session, tenant_id=tenant_id, ids=[order.customer_id for order in orders if order.customer_id]
    )
    counts: dict[int, int] = {}
    titles: dict[int, str] = {}
    for order_id, title, quantity in session.execute(
        select(OrderLine.order_id, OrderLine.title, OrderLine.quantity)
        .where(OrderLine.order_id.in_([order.id for order in orders]))
        .order_by(OrderLine.order_id, OrderLine.id)
    ):
        counts[order_id] = counts.get(order_id, 0) + quantity
        titles.setdefault(order_id, title)
    return [
        OrderOut(
            id=order.id,
            platform=order.platform,
            shop_id=order.shop_id,
            shop_name=shops[order.shop_id].name,
            connection_id=shops[order.shop_id].connection_id,
            external_id=order.external_id,
            status=order.status,
            platform_status=order.platform_status,
            refund_state=order.refund_state,
            customer_id=order.customer_id,
            customer_name=names.get(order.customer_id) if order.customer_id else None,
            buyer_nick=order.buyer_nick,
            buyer_phone_masked=order.buyer_phone_masked,
            payment_fen=order.payment_fen,
            total_fen=order.total_fen,
            discount_fen=order.discount_fen,
            post_fee_fen=order.post_fee_fen,
            platform_fee_fen=order.platform_fee_fen,
            refunded_fen=order.refunded_fen,
            receiver_province=order.receiver_province,
            receiver_city=order.receiver_city,
            placed_at=order.placed_at,
            paid_at=order.paid_at,
            shipped_at=order.shipped_at,
            received_at=order.received_at,
            closed_at=order.closed_at,
            platform_updated_at=order.platform_updated_at,
            is_presale=order.is_presale,
            presale_ship_at=order.presale_ship_at,
            is_gift=order.is_gift,
            labels=list(order.labels),
            complete=order.complete,
            item_count=counts.get(order.id, 0),
            first_item_title=titles.get(order.id),
        )
        for order in orders
    ]


def list_orders(
    session: Session, *, actor: Actor, page: PageRequest, filters: OrderFilter
) -> tuple[list[OrderOut], str | None]:
    """Orders the actor may see, newest first (by id: the order they were first learnt in)."""
    actor.require(CommercePermission.ORDERS_VIEW)
    orders, next_cursor = paginate(
        session, order_select(session, actor=actor, filters=filters), Order.id, page
    )
    return _render(session, actor.tenant_id, orders), next_cursor


def access_order(session: Session, *, actor: Actor, order_id: int) -> Order:
    actor.require(CommercePermission.ORDERS_VIEW)
    order = session.scalars(
        _scoped(session, actor, tenant_select(Order, actor.tenant_id)).where(Order.id == order_id)
    ).one_or_none()
    if order is None:
        raise NotFound(f"order {order_id} not found")
    return order


def get_order(session: Session, *, actor: Actor, order_id: int) -> OrderDetailOut:
    order = access_order(session, actor=actor, order_id=order_id)
    (summary,) = _render(session, actor.tenant_id, [order])
    lines = session.scalars(select(OrderLine).where(OrderLine.order_id == order.id).order_by(OrderLine.id))
    refunds = session.scalars(select(Refund).where(Refund.order_id == order.id).order_by(Refund.id))
    timeline = session.scalars(
        select(OrderTimelineEntry)
        .where(OrderTimelineEntry.tenant_id == actor.tenant_id, OrderTimelineEntry.order_id == order.id)
        .order_by(OrderTimelineEntry.id)
    )
    return OrderDetailOut(
        **summary.model_dump(),
        items=[OrderLineOut.model_validate(line, from_attributes=True) for line in lines],
        refunds=[RefundOut.model_validate(refund, from_attributes=True) for refund in refunds],
        logistics=list(order.logistics),
        promotions=list(order.promotions),
        timeline=[OrderTimelineOut.model_validate(entry, from_attributes=True) for entry in timeline],
        raw=dict(order.raw),
    )


def customer_orders(
    session: Session, *, actor: Actor, customer_id: int, page: PageRequest
) -> tuple[list[OrderOut], str | None]:
    """The customer's orders from every shop (404 outside the actor's scope)."""
    customer = access_customer(session, actor=actor, customer_id=customer_id)
    return list_orders(session, actor=actor, page=page, filters=OrderFilter(customer_id=customer.id))


def recent_purchases(
    session: Session, *, actor: Actor, customer_id: int, limit: int = 3
) -> list[OrderDetailOut]:
    """The customer's last `limit` paid orders, newest placed first, with items, refunds and logistics
    (the chat sidebar's "last 3 purchases")."""
    actor.require(CommercePermission.ORDERS_VIEW)
    customer = access_customer(session, actor=actor, customer_id=customer_id)
    ids = session.scalars(
        select(Order.id)
        .where(
            Order.tenant_id == actor.tenant_id, Order.customer_id == customer.id, Order.paid_at.is_not(None)
        )
        .order_by(Order.placed_at.desc(), Order.id.desc())
        .limit(limit)
    ).all()
    return [get_order(session, actor=actor, order_id=order_id) for order_id in ids]


# --- reports -----------------------------------------------------------------------------------------


def cross_platform_report(session: Session, *, actor: Actor, top: int = 20) -> CrossPlatformReportOut:
    """Who buys on several platforms: counts per platform and per combination, and the top buyers.
    Counts purchases as the aggregates do (paid, not fully refunded), over the actor's scope."""
    actor.require(CommercePermission.ORDERS_VIEW)
    stmt = _scoped(
        session,
        actor,
        select(
            Order.customer_id,
            Order.platform,
            func.count(Order.id),
            func.sum(net_spend()),
            func.max(Order.placed_at),
        )
        .where(Order.tenant_id == actor.tenant_id, Order.customer_id.is_not(None), *counted_orders_filter())
        .group_by(Order.customer_id, Order.platform),
    )
    platforms: dict[int, set[str]] = defaultdict(set)
    totals: dict[int, list[Any]] = defaultdict(lambda: [0, 0, None])
    for holder, platform, count, spent, last in session.execute(stmt):
        customer_id = int(holder or 0)
        platforms[customer_id].add(platform)
        entry = totals[customer_id]
        entry[0] += int(count)
        entry[1] += int(spent or 0)
        entry[2] = last if entry[2] is None or (last and last > entry[2]) else entry[2]
    by_platform = Counter(platform for owned in platforms.values() for platform in owned)
    combos = Counter(tuple(sorted(owned)) for owned in platforms.values() if len(owned) > 1)
    multi = [customer_id for customer_id, owned in platforms.items() if len(owned) > 1]
    ranked = sorted(multi, key=lambda customer_id: (-totals[customer_id][1], customer_id))[:top]
    names = customer_names(session, tenant_id=actor.tenant_id, ids=ranked)
    return CrossPlatformReportOut(
        buyers=len(platforms),
        multi_platform_buyers=len(multi),
        multi_platform_share=round(len(multi) / len(platforms), 4) if platforms else 0.0,
        by_platform=dict(sorted(by_platform.items())),
        combinations=[
            PlatformComboOut(platforms=list(combo), customers=n) for combo, n in combos.most_common()
        ],
        top_customers=[
            CrossPlatformCustomerOut(
                customer_id=customer_id,
                name=names.get(customer_id, ""),
                platforms=sorted(platforms[customer_id]),
                order_count=totals[customer_id][0],
                total_spent_fen=totals[customer_id][1],
                last_order_at=totals[customer_id][2],
            )
            for customer_id in ranked
        ],
    )


# --- settings and alerts -----------------------------------------------------------------------------


def get_settings(session: Session, *, actor: Actor) -> CommerceSettingsOut:
    actor.require(CommercePermission.ORDERS_VIEW)
    row = session.get(CommerceSettings, actor.tenant_id)
    if row is None:
        return CommerceSettingsOut()
    return CommerceSettingsOut.model_validate(row, from_attributes=True)


def put_settings(session: Session, *, actor: Actor, data: CommerceSettingsIn) -> CommerceSettingsOut:
    actor.require(CommercePermission.SHOPS_MANAGE)
    row = session.get(CommerceSettings, actor.tenant_id)
    if row is None:
        row = CommerceSettings(tenant_id=actor.tenant_id)
        session.add(row)
    values = data.model_dump(mode="json")
    for key, value in values.items():
        setattr(row, key, value)
    row.updated_at = utcnow()
    session.flush()
    record_audit(
        session,
        actor=actor,
        action="commerce.settings_changed",
        target_type="commerce_settings",
        target_id=actor.tenant_id,
        detail=values,
    )
    return CommerceSettingsOut.model_validate(row, from_attributes=True)


def list_alerts(
    session: Session, *, actor: Actor, page: PageRequest, status: str | None = None
) -> tuple[list[AlertOut], str | None]:
    actor.require(CommercePermission.ORDERS_VIEW)
    stmt = tenant_select(OrderAlert, actor.tenant_id)
    if status:
        stmt = stmt.where(OrderAlert.status == status)
    alerts, next_cursor = paginate(session, stmt, OrderAlert.id, page)
    return [AlertOut.model_validate(alert, from_attributes=True) for alert in alerts], next_cursor


def acknowledge_alert(session: Session, *, actor: Actor, alert_id: int) -> AlertOut:
    actor.require(CommercePermission.ORDERS_VIEW)
    alert = require_in_tenant(session, OrderAlert, actor.tenant_id, alert_id)
    if alert.status != AlertStatus.ACKNOWLEDGED:
        alert.status = AlertStatus.ACKNOWLEDGED
        alert.acknowledged_by = actor.label
        session.flush()
    return AlertOut.model_validate(alert, from_attributes=True)


@dataclass(frozen=True)
class OrderReference:
    """An order (and line) another domain points at: its buyer, when known."""

    order_id: int
    customer_id: int | None


def order_reference(
    session: Session, *, tenant_id: int, order_id: int, order_line_id: int | None = None
) -> OrderReference | None:
    """The tenant's order `order_id` (and its line `order_line_id`), or None when either is not
    there (another tenant's ids included)."""
    customer_id = session.execute(
        select(Order.customer_id).where(Order.tenant_id == tenant_id, Order.id == order_id)
    ).first()
    if customer_id is None:
        return None
    if order_line_id is not None:
        line = session.scalar(
            select(OrderLine.id).where(
                OrderLine.tenant_id == tenant_id,
                OrderLine.id == order_line_id,
                OrderLine.order_id == order_id,
            )
        )
        if line is None:
            return None
    return OrderReference(order_id=order_id, customer_id=customer_id[0])
