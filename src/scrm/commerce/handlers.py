"""Reactions of the commerce domain: shop observations → ingest; customer merges → orders follow;
the pull loop and backfills (`sync.py`); the daily RFM recency refresh."""

from __future__ import annotations

import logging

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from scrm.commerce.ingest import OrderObservation, ingest_orders, ingest_refund, refresh_customer_stats
from scrm.commerce.models import Order, OrderMove, Shop
from scrm.commerce.recency import TIMER_HANDLERS as RECENCY_TIMER_HANDLERS
from scrm.commerce.recency import schedule_recency_refresh
from scrm.commerce.sync import JOB_KINDS as SYNC_JOB_KINDS
from scrm.commerce.sync import TIMER_HANDLERS as SYNC_TIMER_HANDLERS
from scrm.commerce.sync import ensure_pull_chain, shop_row
from scrm.core.errors import NotFound
from scrm.core.events import Delivery, Event, EventHandler, publish, publish_many
from scrm.customers.events import CustomerMerged, CustomerUnmerged
from scrm.platforms.events import ConnectionActivated
from scrm.platforms.shops.canonical import ShopOrderDetailWanted, ShopOrderObserved, ShopRefundObserved
from scrm.platforms.shops.registry import is_shop_platform
from scrm.platforms.shops.service import require_shop

log = logging.getLogger(__name__)


def _shop(session: Session, tenant_id: int, connection_id: int) -> Shop | None:
    """The shop row of a connection; on first sight also its pull loop (None: not a shop)."""
    shop = session.scalars(
        select(Shop).where(Shop.tenant_id == tenant_id, Shop.connection_id == connection_id)
    ).one_or_none()
    if shop is not None:
        return shop
    try:
        identity = require_shop(session, tenant_id, connection_id)
    except NotFound:
        log.warning("observation for unknown shop connection %s dropped", connection_id)
        return None
    shop = shop_row(session, identity)
    ensure_pull_chain(session, tenant_id=tenant_id, connection_id=connection_id)
    return shop


def on_orders_observed(session: Session, deliveries: list[Delivery]) -> None:
    """Ingest observed orders (a batch, see `ingest.ingest_orders`), tenant by tenant; ask for the
    details of orders known only from partial messages."""
    observed = [delivery.load(ShopOrderObserved) for delivery in deliveries]
    shops: dict[tuple[int, int], Shop | None] = {}
    by_tenant: dict[int, list[tuple[ShopOrderObserved, OrderObservation]]] = {}
    for item in observed:
        key = (item.tenant_id, item.connection_id)
        if key not in shops:
            shops[key] = _shop(session, *key)
        shop = shops[key]
        if shop is not None:
            by_tenant.setdefault(item.tenant_id, []).append(
                (item, OrderObservation(shop, item.order, item.source))
            )
    wanted: list[Event] = []
    for items in by_tenant.values():
        ingested = ingest_orders(session, [observation for _, observation in items])
        wanted.extend(
            ShopOrderDetailWanted(
                tenant_id=item.tenant_id,
                connection_id=item.connection_id,
                external_id=item.order.external_id,
                inbound_message_id=item.inbound_message_id,
            )
            for (item, _), result in zip(items, ingested, strict=True)
            if result.wants_detail
        )
    publish_many(session, wanted)


def on_refund_observed(session: Session, delivery: Delivery) -> None:
    observed = delivery.load(ShopRefundObserved)
    shop = _shop(session, observed.tenant_id, observed.connection_id)
    if shop is None:
        return
    _, order_unknown = ingest_refund(session, shop=shop, snapshot=observed.refund, source=observed.source)
    if order_unknown:
        publish(
            session,
            ShopOrderDetailWanted(
                tenant_id=observed.tenant_id,
                connection_id=observed.connection_id,
                external_id=observed.refund.order_external_id,
                inbound_message_id=observed.inbound_message_id,
            ),
        )


def on_customer_merged(session: Session, delivery: Delivery) -> None:
    """The merged profile's orders now belong to the survivor (remembered, to move back on unmerge)."""
    merged = delivery.load(CustomerMerged)
    orders = session.scalars(
        select(Order.id).where(Order.tenant_id == merged.tenant_id, Order.customer_id == merged.merged_id)
    ).all()
    if not orders:
        return
    session.add_all(
        OrderMove(
            tenant_id=merged.tenant_id,
            merge_id=merged.merge_id,
            order_id=order_id,
            from_customer_id=merged.merged_id,
        )
        for order_id in orders
        if session.get(OrderMove, (merged.merge_id, order_id)) is None
    )
    session.execute(
        update(Order)
        .where(Order.tenant_id == merged.tenant_id, Order.id.in_(orders))
        .values(customer_id=merged.survivor_id)
        .execution_options(synchronize_session=False)
    )
    session.flush()
    refresh_customer_stats(session, tenant_id=merged.tenant_id, customer_id=merged.survivor_id)
    refresh_customer_stats(session, tenant_id=merged.tenant_id, customer_id=merged.merged_id)


def on_customer_unmerged(session: Session, delivery: Delivery) -> None:
    unmerged = delivery.load(CustomerUnmerged)
    moves = session.scalars(
        select(OrderMove).where(
            OrderMove.tenant_id == unmerged.tenant_id, OrderMove.merge_id == unmerged.merge_id
        )
    ).all()
    touched = {unmerged.survivor_id, unmerged.restored_id}
    for move in moves:
        session.execute(
            update(Order)
            .where(Order.id == move.order_id, Order.tenant_id == unmerged.tenant_id)
            .values(customer_id=move.from_customer_id)
            .execution_options(synchronize_session=False)
        )
        touched.add(move.from_customer_id)
        session.delete(move)
    session.flush()
    for customer_id in touched:
        refresh_customer_stats(session, tenant_id=unmerged.tenant_id, customer_id=customer_id)


def on_connection_activated(session: Session, delivery: Delivery) -> None:
    """A shop connection was created or re-enabled: its shop row, its pull loop, the tenant's recency
    refresh."""
    activated = delivery.load(ConnectionActivated)
    if not is_shop_platform(activated.platform):
        return
    if _shop(session, activated.tenant_id, activated.connection_id) is not None:
        schedule_recency_refresh(session, tenant_id=activated.tenant_id)


HANDLERS = [
    EventHandler.batched(ShopOrderObserved.event_type, "commerce.ingest_order", on_orders_observed),
    EventHandler(ShopRefundObserved.event_type, "commerce.ingest_refund", on_refund_observed),
    EventHandler(CustomerMerged.event_type, "commerce.customer_merged", on_customer_merged),
    EventHandler(CustomerUnmerged.event_type, "commerce.customer_unmerged", on_customer_unmerged),
    EventHandler(ConnectionActivated.event_type, "commerce.connection_activated", on_connection_activated),
]
TIMER_HANDLERS = [*SYNC_TIMER_HANDLERS, *RECENCY_TIMER_HANDLERS]
JOB_KINDS = [*SYNC_JOB_KINDS]
