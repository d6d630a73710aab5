"""Order and refund ingest: platform snapshots → order rows, buyers → customers, events, aggregates.

Idempotent and order-tolerant (see `convergence.py` for the rules): the same snapshot applied twice
changes nothing and publishes nothing; snapshots in any order end in the platform's latest state.
Concurrent ingests of one order serialise on its row (`SELECT ... FOR UPDATE` on PostgreSQL; SQLite
has one writer). Never commits.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, func, insert, select
from sqlalchemy.orm import Session

from scrm.commerce import special_orders, timeline
from scrm.commerce.convergence import Applied, apply_snapshot, new_order_defaults
from scrm.commerce.events import (
    OrderClosed,
    OrderCreated,
    OrderPaid,
    OrderReceived,
    OrderRefundChanged,
    OrderRefunded,
    OrderShipped,
    OrderStatusEvent,
)
from scrm.commerce.models import CommerceSettings, Order, OrderLine, Refund, Shop
from scrm.commerce.purchases import counted_orders_filter, net_spend
from scrm.core.actors import Actor
from scrm.core.clock import utcnow
from scrm.core.db import is_postgresql
from scrm.core.events import Event, publish_many
from scrm.core.leases import dialect_insert
from scrm.customers.identity_resolution import (
    Claim,
    IdentityKind,
    KnownHolders,
    load_known_holders,
    resolve_customer,
)
from scrm.customers.order_stats import OrderStats, ShopOrderStats, record_orders_stats
from scrm.platforms.shops.canonical import (
    REFUND_STATUS_RANK,
    ObservationSource,
    OrderSnapshot,
    OrderStatus,
    RefundSnapshot,
    RefundStatus,
)

STATUS_EVENTS: dict[OrderStatus, type[OrderStatusEvent]] = {
    OrderStatus.CREATED: OrderCreated,
    OrderStatus.PAID: OrderPaid,
    OrderStatus.SHIPPED: OrderShipped,
    OrderStatus.COMPLETED: OrderReceived,
    OrderStatus.CLOSED: OrderClosed,
}
STATUS_SUMMARY_ZH = {
    OrderStatus.CREATED: "下单",
    OrderStatus.PAID: "已付款",
    OrderStatus.SHIPPED: "已发货",
    OrderStatus.COMPLETED: "已签收/交易成功",
    OrderStatus.CLOSED: "交易关闭",
}


@dataclass(frozen=True)
class OrderIngested:
    order_id: int
    created: bool
    applied: Applied
    customer_id: int | None
    # The order is known only from partial messages: fetch its details (asked once per order).
    wants_detail: bool = False


# --- shops -------------------------------------------------------------------------------------------


def ensure_shop(
    session: Session, *, tenant_id: int, connection_id: int, platform: str, external_id: str, name: str
) -> Shop:
    """The shop row of a shop connection, created on first use."""
    session.execute(
        dialect_insert(session, Shop)
        .values(
            tenant_id=tenant_id,
            connection_id=connection_id,
            platform=platform,
            external_id=external_id,
            name=name,
            consecutive_failures=0,
            channel_unconfirmed=[],
            created_at=utcnow(),
            updated_at=utcnow(),
        )
        .on_conflict_do_nothing(index_elements=["tenant_id", "connection_id"])
    )
    return session.scalars(
        select(Shop).where(Shop.tenant_id == tenant_id, Shop.connection_id == connection_id)
    ).one()


# --- orders ------------------------------------------------------------------------------------------


def _locked_order(session: Session, tenant_id: int, shop: Shop, external_id: str) -> tuple[Order, bool]:
    """The order row, created if absent, locked for this transaction; and whether it was created."""
    orders, created = _locked_orders(session, tenant_id, [(shop, external_id)])
    return orders[(shop.id, external_id)], bool(created)


def _locked_orders(
    session: Session, tenant_id: int, wanted: Sequence[tuple[Shop, str]]
) -> tuple[dict[tuple[int, str], Order], set[tuple[int, str]]]:
    """The order rows of `wanted` (shop, external id) pairs by (shop id, external id), those absent
    created, all locked for this transaction (shop by shop, each in id order, so concurrent batches
    queue rather than deadlock); and the keys created now. Most observations are of known orders:
    look first (a query per shop), insert only the absent (one statement)."""
    keys = {(shop.id, external_id): shop for shop, external_id in wanted}

    def load() -> dict[tuple[int, str], Order]:
        found: dict[tuple[int, str], Order] = {}
        by_shop: dict[int, list[str]] = {}
        for shop_id, external_id in keys:
            by_shop.setdefault(shop_id, []).append(external_id)
        for shop_id, external_ids in sorted(by_shop.items()):
            query = (
                select(Order)
                .where(
                    Order.tenant_id == tenant_id,
                    Order.shop_id == shop_id,
                    Order.external_id.in_(external_ids),
                )
                .order_by(Order.id)
                .execution_options(populate_existing=True)
            )
            if is_postgresql(session):
                query = query.with_for_update()
            found.update(((order.shop_id, order.external_id), order) for order in session.scalars(query))
        return found

    orders = load()
    absent = [key for key in keys if key not in orders]
    if not absent:
        return orders, set()
    now = utcnow()
    inserted = session.execute(
        dialect_insert(session, Order)
        .values(
            [
                {
                    "tenant_id": tenant_id,
                    "shop_id": shop_id,
                    "platform": keys[(shop_id, external_id)].platform,
                    "external_id": external_id,
                    "created_at": now,
                    "updated_at": now,
                    **new_order_defaults(),
                }
                for shop_id, external_id in sorted(absent)
            ]
        )
        .on_conflict_do_nothing(index_elements=["tenant_id", "shop_id", "external_id"])
        .returning(Order.shop_id, Order.external_id)
    ).all()
    created = {(shop_id, external_id) for shop_id, external_id in inserted}
    # Rows lost to a concurrent first sight are the winners' rows, locked by this second load.
    return load(), created


def _write_lines(session: Session, pending: dict[int, tuple[Order, OrderSnapshot]]) -> None:
    """Replace the lines of the orders in `pending` (order id -> the order and the snapshot whose
    body it now has) in two statements, and forget them."""
    if not pending:
        return
    session.execute(delete(OrderLine).where(OrderLine.order_id.in_(list(pending))))
    rows = [
        {
            "tenant_id": order.tenant_id,
            "order_id": order.id,
            "external_id": line.external_id,
            "title": line.title[:300],
            "item_id": line.item_id,
            "sku_id": line.sku_id,
            "outer_sku_id": line.outer_sku_id,
            "sku_description": (line.sku_description or None) and line.sku_description[:300],
            "quantity": line.quantity,
            "price_fen": line.price_fen,
            "total_fen": line.total_fen,
            "payment_fen": line.payment_fen,
            "discount_fen": line.discount_fen,
            "is_gift": line.is_gift,
            "is_presale": line.is_presale,
        }
        for order, snapshot in pending.values()
        for line in snapshot.lines
    ]
    if rows:
        session.execute(insert(OrderLine), rows)
    pending.clear()


def buyer_claims(shop: Shop, snapshot: OrderSnapshot) -> list[Claim]:
    """The identifiers the order gives for its buyer: the platform account (per shop), the phone when
    in clear, the WeChat unionid when the platform shares it. Masked values identify nobody."""
    buyer = snapshot.buyer
    if buyer is None:
        return []
    claims = []
    if buyer.account_id:
        claims.append(
            Claim(IdentityKind.PLATFORM_BUYER, buyer.account_id, f"{shop.platform}:{shop.external_id}")
        )
    if buyer.unionid:
        claims.append(Claim(IdentityKind.WECHAT_UNIONID, buyer.unionid))
    if buyer.phone and "*" not in buyer.phone:
        claims.append(Claim(IdentityKind.PHONE, buyer.phone))
    return claims


def _beyond_the_account(shop: Shop, snapshot: OrderSnapshot) -> bool:
    """Whether the snapshot names its buyer by more than the platform account (which found or made
    the order's customer in the first place)."""
    return any(claim.kind != IdentityKind.PLATFORM_BUYER for claim in buyer_claims(shop, snapshot))


def _resolve_buyer(
    session: Session, shop: Shop, order: Order, snapshot: OrderSnapshot, known: KnownHolders
) -> None:
    claims = buyer_claims(shop, snapshot)
    if not claims:
        return
    settled = known.settled_customer(claims)
    if settled is not None:
        order.customer_id = settled
        return
    buyer = snapshot.buyer
    name = (buyer.nick or buyer.name_masked or "") if buyer else ""
    resolved = resolve_customer(
        session,
        actor=Actor.system(order.tenant_id),
        claims=claims,
        source=f"order:{shop.platform}",
        name=name[:200] or None,
    )
    if resolved.merged:
        known.forget()  # who holds what changed beyond the claims just resolved
    if resolved.customer_id is not None:
        order.customer_id = resolved.customer_id


def _status_event(order: Order, applied: Applied, *, backfilled: bool) -> Event:
    status = OrderStatus(order.status)
    return STATUS_EVENTS[status](
        tenant_id=order.tenant_id,
        order_id=order.id,
        shop_id=order.shop_id,
        platform=order.platform,
        external_id=order.external_id,
        customer_id=order.customer_id,
        status=status.value,
        previous_status=applied.previous_status.value if applied.previous_status else None,
        payment_fen=order.payment_fen,
        backfilled=backfilled,
    )


@dataclass(frozen=True)
class OrderObservation:
    """One order snapshot seen at one shop, by push, pull or backfill."""

    shop: Shop
    snapshot: OrderSnapshot
    source: ObservationSource


def ingest_order(
    session: Session, *, shop: Shop, snapshot: OrderSnapshot, source: ObservationSource
) -> OrderIngested:
    """Apply one order snapshot (see the module docstring). Raises nothing for repeats or stale data:
    they simply change nothing."""
    return ingest_orders(session, [OrderObservation(shop, snapshot, source)])[0]


def ingest_orders(session: Session, observations: Sequence[OrderObservation]) -> list[OrderIngested]:
    """Apply order snapshots one after another, with the effects of `ingest_order` on each in turn,
    but set-based where order allows: the orders are loaded (and created) together, the events are
    published together, and each customer's aggregates are recomputed once, at the end. All
    observations must be of one tenant."""
    if not observations:
        return []
    tenant_id = observations[0].shop.tenant_id
    if any(observation.shop.tenant_id != tenant_id for observation in observations):
        raise ValueError("ingest_orders takes the observations of one tenant")
    orders, created = _locked_orders(
        session,
        tenant_id,
        [(observation.shop, observation.snapshot.external_id) for observation in observations],
    )
    settings = special_orders.settings_of(session, tenant_id)
    # The buyers' current profiles, looked up together: most resolve to what they already are.
    known = load_known_holders(
        session,
        tenant_id,
        (
            claim
            for observation in observations
            if orders[(observation.shop.id, observation.snapshot.external_id)].customer_id is None
            or _beyond_the_account(observation.shop, observation.snapshot)
            for claim in buyer_claims(observation.shop, observation.snapshot)
        ),
    )
    events: list[Event] = []
    stale_stats: set[int] = set()
    # Lines are written together at the end, unless a product sales rule must count them first.
    lines: dict[int, tuple[Order, OrderSnapshot]] = {}
    results = []
    for observation in observations:
        key = (observation.shop.id, observation.snapshot.external_id)
        order = orders[key]
        applied = _apply(
            session,
            observation,
            order,
            is_new=key in created,
            settings=settings,
            events=events,
            lines=lines,
            known=known,
        )
        created.discard(key)
        if applied.stats_changed and order.customer_id is not None:
            stale_stats.add(order.customer_id)
        wants_detail = not order.complete and order.detail_requested_at is None
        if wants_detail:
            order.detail_requested_at = utcnow()
        results.append(
            OrderIngested(order.id, applied.created, applied.applied, order.customer_id, wants_detail)
        )
    _write_lines(session, lines)
    if events:
        session.flush()
        publish_many(session, events)
    if stale_stats:
        session.flush()
        refresh_customers_stats(session, tenant_id=tenant_id, customer_ids=stale_stats)
    return results


@dataclass(frozen=True)
class _Change:
    created: bool
    applied: Applied
    # Whether the order's customer or anything their aggregates are computed from changed.
    stats_changed: bool


def _apply(
    session: Session,
    observation: OrderObservation,
    order: Order,
    *,
    is_new: bool,
    settings: CommerceSettings | None,
    events: list[Event],
    lines: dict[int, tuple[Order, OrderSnapshot]],
    known: KnownHolders,
) -> _Change:
    """One snapshot onto its (locked) order: body, buyer, timeline, rules; its events to `events`."""
    shop, snapshot, source = observation.shop, observation.snapshot, observation.source
    customer_before = order.customer_id
    money_before = (order.payment_fen, order.refunded_fen, order.paid_at, order.placed_at)
    applied = apply_snapshot(order, snapshot, is_new=is_new)
    if applied.body_replaced:
        lines[order.id] = (order, snapshot)
    if order.customer_id is None or (applied.body_replaced and _beyond_the_account(shop, snapshot)):
        # A complete snapshot may carry identifiers the first (partial) one lacked, e.g. the phone.
        _resolve_buyer(session, shop, order, snapshot, known)
    if applied.status_changed:
        status = OrderStatus(order.status)
        timeline.record(
            session,
            order,
            f"status.{status.value}",
            f"订单{STATUS_SUMMARY_ZH[status]}（{order.platform_status}）",
            source.value,
            previous_status=applied.previous_status.value if applied.previous_status else None,
            platform_status=order.platform_status,
            version=order.version,
        )
        events.append(_status_event(order, applied, backfilled=source != ObservationSource.PUSH))
    elif applied.refund_state_changed:
        timeline.record(session, order, "refund_state", f"退款状态：{order.refund_state}", source.value)
    if is_new or applied.status_changed:
        if settings is not None and settings.product_alerts:
            _write_lines(session, lines)
        events.extend(
            special_orders.on_order_change(
                session,
                order=order,
                applied=applied,
                live=source != ObservationSource.BACKFILL,
                settings=settings,
            )
        )
    money_after = (order.payment_fen, order.refunded_fen, order.paid_at, order.placed_at)
    stats_changed = (
        money_after != money_before or order.customer_id != customer_before or applied.status_changed
    )
    return _Change(is_new, applied, stats_changed)


# --- refunds -----------------------------------------------------------------------------------------


def ingest_refund(
    session: Session, *, shop: Shop, snapshot: RefundSnapshot, source: ObservationSource
) -> tuple[Refund, bool]:
    """Apply one refund snapshot; returns the refund row and whether its order was unknown until now
    (then a shell order was created and its details should be fetched)."""
    order, order_created = _locked_order(session, shop.tenant_id, shop, snapshot.order_external_id)
    if order_created:
        # A refund implies a payment; the details arrive with the fetch the caller requests.
        order.status = OrderStatus.PAID.value
        order.platform_status = "UNKNOWN"
    refund = session.scalars(
        select(Refund).where(
            Refund.tenant_id == shop.tenant_id,
            Refund.order_id == order.id,
            Refund.external_id == snapshot.external_id,
        )
    ).one_or_none()
    previous_status = None if refund is None else RefundStatus(refund.status)
    if refund is None:
        refund = Refund(
            tenant_id=shop.tenant_id,
            order_id=order.id,
            external_id=snapshot.external_id,
            status=snapshot.status.value,
            platform_status=snapshot.platform_status,
            version=-1,
        )
        session.add(refund)
    if previous_status is None or REFUND_STATUS_RANK[snapshot.status] > REFUND_STATUS_RANK[previous_status]:
        refund.status = snapshot.status.value
    if snapshot.version > refund.version:
        refund.platform_status = snapshot.platform_status
        if snapshot.amount_fen is not None:
            refund.amount_fen = snapshot.amount_fen
        if snapshot.line_external_ids:
            refund.line_external_ids = list(snapshot.line_external_ids)
        refund.refund_type = snapshot.refund_type or refund.refund_type
        refund.reason = (snapshot.reason or refund.reason or None) and (
            snapshot.reason or refund.reason or ""
        )[:300]
        refund.requested_at = refund.requested_at or snapshot.created_at
        refund.platform_updated_at = snapshot.updated_at
        refund.raw = dict(snapshot.raw)
        refund.version = snapshot.version
    session.flush()
    status_changed = previous_status != RefundStatus(refund.status)
    if not status_changed:
        return refund, order_created
    refunded = session.scalar(
        select(func.coalesce(func.sum(Refund.amount_fen), 0)).where(
            Refund.order_id == order.id, Refund.status == RefundStatus.SUCCEEDED
        )
    )
    order.refunded_fen = int(refunded or 0)
    events: list[Event] = [
        OrderRefundChanged(
            tenant_id=shop.tenant_id,
            order_id=order.id,
            refund_id=refund.id,
            customer_id=order.customer_id,
            status=refund.status,
            amount_fen=refund.amount_fen,
        )
    ]
    timeline.record(
        session,
        order,
        f"refund.{refund.status}",
        f"售后 {refund.external_id}：{refund.status}，金额 {refund.amount_fen / 100:.2f} 元",
        source.value,
        refund_id=refund.id,
        amount_fen=refund.amount_fen,
    )
    if refund.status == RefundStatus.SUCCEEDED:
        events.append(
            OrderRefunded(
                tenant_id=shop.tenant_id,
                order_id=order.id,
                refund_id=refund.id,
                customer_id=order.customer_id,
                amount_fen=refund.amount_fen,
                refunded_fen=order.refunded_fen,
                line_external_ids=list(refund.line_external_ids),
            )
        )
    publish_many(session, events)
    if order.customer_id is not None:
        session.flush()
        refresh_customer_stats(session, tenant_id=shop.tenant_id, customer_id=order.customer_id)
    return refund, order_created


# --- customer aggregates -------------------------------------------------------------------------------


def refresh_customer_stats(
    session: Session, *, tenant_id: int, customer_id: int, now: datetime | None = None
) -> OrderStats:
    """Recompute the customer's order aggregates from their orders and store them on the profile."""
    return refresh_customers_stats(session, tenant_id=tenant_id, customer_ids=[customer_id], now=now)[
        customer_id
    ]


def refresh_customers_stats(
    session: Session, *, tenant_id: int, customer_ids: Iterable[int], now: datetime | None = None
) -> dict[int, OrderStats]:
    """`refresh_customer_stats` for several customers: one query for all their orders, one statement
    to store them (profiles in id order, so concurrent batches queue rather than deadlock)."""
    wanted = sorted(set(customer_ids))
    rows = session.execute(
        select(
            Order.customer_id,
            Order.shop_id,
            Shop.platform,
            Shop.name,
            func.count(Order.id),
            func.coalesce(func.sum(net_spend()), 0),
            func.min(Order.placed_at),
            func.max(Order.placed_at),
        )
        .join(Shop, Shop.id == Order.shop_id)
        .where(Order.tenant_id == tenant_id, Order.customer_id.in_(wanted), *counted_orders_filter())
        .group_by(Order.customer_id, Order.shop_id, Shop.platform, Shop.name)
        .order_by(Order.customer_id, Order.shop_id)
    ).all()
    by_customer: dict[int, list[ShopOrderStats]] = {customer_id: [] for customer_id in wanted}
    for customer_id, shop_id, platform, name, count, spent, first, last in rows:
        by_customer[customer_id].append(
            ShopOrderStats(platform, shop_id, name, int(count), int(spent), first, last)
        )
    result = {}
    for customer_id, by_shop in by_customer.items():
        firsts = [shop.first_order_at for shop in by_shop if shop.first_order_at]
        lasts = [shop.last_order_at for shop in by_shop if shop.last_order_at]
        result[customer_id] = OrderStats(
            order_count=sum(shop.order_count for shop in by_shop),
            spent_fen=sum(shop.spent_fen for shop in by_shop),
            first_order_at=min(firsts) if firsts else None,
            last_order_at=max(lasts) if lasts else None,
            by_shop=by_shop,
        )
    record_orders_stats(session, tenant_id=tenant_id, stats=result, now=now or utcnow())
    return result
