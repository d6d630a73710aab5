"""Order and refund ingest on the database: idempotency, events, buyers resolved to customers, the
customer's aggregates, refunds, merges, and the special-order rules."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from scrm.commerce.handlers import on_customer_merged
from scrm.commerce.ingest import OrderObservation, ensure_shop, ingest_order, ingest_orders, ingest_refund
from scrm.commerce.models import (
    CommerceSettings,
    Order,
    OrderAlert,
    OrderLine,
    OrderTimelineEntry,
    Refund,
    Shop,
)
from scrm.core.actors import Actor
from scrm.core.events import Delivery
from scrm.core.outbox_models import OutboxEvent
from scrm.customers.merging import merge_customers
from scrm.customers.models import Customer, CustomerIdentity
from scrm.identity.models import Tenant
from scrm.platforms.shops.canonical import (
    ObservationSource,
    OrderStatus,
    RefundSnapshot,
    RefundState,
    RefundStatus,
)
from tests.commerce.conftest import T0, Shops, snapshot

PUSH = ObservationSource.PUSH


def event_counts(db: Session) -> Counter[str]:
    db.flush()
    return Counter(
        # One per event, however many handlers it has rows for.
        db.scalars(
            select(OutboxEvent.event_type)
            .where(OutboxEvent.event_type.like("order.%"))
            .group_by(OutboxEvent.event_id, OutboxEvent.event_type)
        ).all()
    )


def test_the_same_observation_twice_is_one_order_and_one_event(db: Session, shops: Shops) -> None:
    paid = snapshot(shops.taobao, "T1", OrderStatus.PAID, version=2000, lines=2)
    first = ingest_order(db, shop=shops.taobao, snapshot=paid, source=PUSH)
    second = ingest_order(db, shop=shops.taobao, snapshot=paid, source=PUSH)
    assert first.created and not second.created and first.order_id == second.order_id
    assert not second.applied.changed
    assert db.scalar(select(func.count(Order.id)).where(Order.tenant_id == shops.tenant_id)) == 1
    assert db.scalar(select(func.count(OrderLine.id)).where(OrderLine.order_id == first.order_id)) == 2
    assert event_counts(db) == Counter({"order.paid": 1})


def test_out_of_order_observations_end_in_the_latest_state(db: Session, shops: Shops) -> None:
    shipped = snapshot(shops.jd, "J1", OrderStatus.SHIPPED, version=3000)
    paid = snapshot(shops.jd, "J1", OrderStatus.PAID, version=2000)
    created = snapshot(shops.jd, "J1", OrderStatus.CREATED, version=1000)
    for item in (shipped, paid, created, shipped):
        ingest_order(db, shop=shops.jd, snapshot=item, source=PUSH)
    order = db.scalars(select(Order).where(Order.external_id == "J1")).one()
    assert order.status == OrderStatus.SHIPPED and order.platform_status == "SHIPPED@3000"
    assert order.version == 3000 and order.body_version == 3000
    assert event_counts(db) == Counter({"order.shipped": 1})
    kinds = db.scalars(select(OrderTimelineEntry.kind).where(OrderTimelineEntry.order_id == order.id)).all()
    assert kinds == ["status.shipped"]


def test_buyers_become_customers_and_one_phone_links_two_platforms(db: Session, shops: Shops) -> None:
    ingest_order(
        db,
        shop=shops.taobao,
        snapshot=snapshot(
            shops.taobao, "T1", OrderStatus.COMPLETED, version=9, phone="13800001111", payment_fen=30000
        ),
        source=PUSH,
    )
    ingest_order(
        db,
        shop=shops.jd,
        snapshot=snapshot(
            shops.jd,
            "J1",
            OrderStatus.PAID,
            version=9,
            buyer="jd-pin-9",
            phone="13800001111",
            payment_fen=10000,
        ),
        source=PUSH,
    )
    ingest_order(
        db,
        shop=shops.jd,
        snapshot=snapshot(shops.jd, "J2", OrderStatus.CREATED, version=9, buyer="jd-pin-9", payment_fen=5000),
        source=PUSH,
    )
    orders = db.scalars(select(Order).order_by(Order.external_id)).all()
    assert len({order.customer_id for order in orders}) == 1 and orders[0].customer_id is not None
    customer = db.get(Customer, orders[0].customer_id)
    assert customer is not None
    db.refresh(customer)
    # The unpaid order does not count.
    assert (customer.order_count, customer.total_spent_fen, customer.avg_order_fen) == (2, 40000, 20000)
    assert customer.platform_count == 2 and customer.first_order_at == T0 and customer.last_order_at == T0
    # 2 orders reach the second frequency band, 400 yuan the second monetary band.
    assert customer.rfm_f == 2 and customer.rfm_m == 2 and 1 <= customer.rfm_r <= 5
    kinds = {
        identity.kind
        for identity in db.scalars(
            select(CustomerIdentity).where(CustomerIdentity.customer_id == customer.id)
        )
    }
    assert kinds == {"platform_buyer", "phone"}
    assert {shop["platform"] for shop in customer.orders_by_shop} == {"taobao", "jd"}


def test_a_partial_refund_nets_the_spend_and_publishes_once(db: Session, shops: Shops) -> None:
    done = ingest_order(
        db,
        shop=shops.youzan,
        snapshot=snapshot(shops.youzan, "E9", OrderStatus.COMPLETED, version=5, lines=2, payment_fen=20000),
        source=PUSH,
    )
    refund = RefundSnapshot(
        platform="youzan",
        shop_external_id="63077",
        external_id="R1",
        order_external_id="E9",
        version=6,
        status=RefundStatus.SUCCEEDED,
        platform_status="SUCCESS",
        amount_fen=10000,
        line_external_ids=("E9-0",),
    )
    row, unknown = ingest_refund(db, shop=shops.youzan, snapshot=refund, source=PUSH)
    ingest_refund(db, shop=shops.youzan, snapshot=refund, source=PUSH)
    requested = RefundSnapshot(**{**refund.model_dump(), "status": RefundStatus.REQUESTED, "version": 5})
    ingest_refund(db, shop=shops.youzan, snapshot=requested, source=PUSH)
    assert not unknown and row.status == RefundStatus.SUCCEEDED and row.amount_fen == 10000
    order = db.get(Order, done.order_id)
    assert order is not None and order.refunded_fen == 10000
    customer = db.get(Customer, order.customer_id)
    assert customer is not None
    db.refresh(customer)
    assert customer.total_spent_fen == 10000 and customer.order_count == 1
    assert event_counts(db) == Counter({"order.received": 1, "order.refund_changed": 1, "order.refunded": 1})


def test_a_refund_for_an_unknown_order_makes_a_shell_to_fetch(db: Session, shops: Shops) -> None:
    refund = RefundSnapshot(
        platform="jd",
        shop_external_id="v-jd",
        external_id="R7",
        order_external_id="J404",
        version=1,
        status=RefundStatus.REQUESTED,
        platform_status="WAIT",
        amount_fen=100,
    )
    _, unknown = ingest_refund(db, shop=shops.jd, snapshot=refund, source=PUSH)
    assert unknown and db.scalar(select(Order.status).where(Order.external_id == "J404")) == OrderStatus.PAID
    later = ingest_order(
        db, shop=shops.jd, snapshot=snapshot(shops.jd, "J404", OrderStatus.SHIPPED, version=2), source=PUSH
    )
    assert not later.created and db.scalar(select(func.count(Refund.id))) == 1


def test_merging_customers_moves_their_orders_and_aggregates(db: Session, shops: Shops) -> None:
    a = ingest_order(
        db,
        shop=shops.taobao,
        snapshot=snapshot(shops.taobao, "T1", OrderStatus.PAID, version=1, buyer="tb-a"),
        source=PUSH,
    )
    b = ingest_order(
        db,
        shop=shops.jd,
        snapshot=snapshot(shops.jd, "J1", OrderStatus.PAID, version=1, buyer="jd-b"),
        source=PUSH,
    )
    assert a.customer_id and b.customer_id and a.customer_id != b.customer_id
    survivor, merged = sorted([a.customer_id, b.customer_id])
    record = merge_customers(
        db,
        actor=Actor.system(shops.tenant_id),
        survivor_id=survivor,
        merged_id=merged,
        rule="manual",
        reason="test",
    )
    db.flush()
    payload = {
        "tenant_id": shops.tenant_id,
        "survivor_id": survivor,
        "merged_id": merged,
        "merge_id": record.id,
    }
    on_customer_merged(db, Delivery("e1", "customer.merged", shops.tenant_id, payload, 1))
    on_customer_merged(db, Delivery("e1", "customer.merged", shops.tenant_id, payload, 2))
    assert set(db.scalars(select(Order.customer_id))) == {survivor}
    customer = db.get(Customer, survivor)
    assert customer is not None
    db.refresh(customer)
    assert customer.order_count == 2 and customer.platform_count == 2


def test_special_orders_label_and_alert_once(db: Session, shops: Shops) -> None:
    db.add(
        CommerceSettings(
            tenant_id=shops.tenant_id,
            big_order_threshold_fen=50000,
            alert_user_ids=[7],
            gift_rules=[
                {"name": "VIP 礼盒", "min_total_spent_fen": 50000},
                {"name": "小样", "min_total_spent_fen": 0},
            ],
            product_alerts=[{"sku_id": "SKU-LIP-01", "monthly_units": 3, "user_ids": [8]}],
        )
    )
    big = snapshot(
        shops.taobao,
        "T-BIG",
        OrderStatus.PAID,
        version=2,
        payment_fen=88800,
        is_presale=True,
        presale_ship_at=T0 + timedelta(days=20),
    )
    ingest_order(db, shop=shops.taobao, snapshot=big, source=PUSH)
    ingest_order(db, shop=shops.taobao, snapshot=big, source=PUSH)
    order = db.scalars(select(Order).where(Order.external_id == "T-BIG")).one()
    assert order.labels == ["预售 · 11-21 发货", "大额订单", "赠品：VIP 礼盒"]
    for index in range(3):
        small = snapshot(
            shops.jd, f"J{index}", OrderStatus.PAID, version=3, buyer=f"b{index}", payment_fen=100
        )
        ingest_order(db, shop=shops.jd, snapshot=small, source=PUSH)
    alerts = db.scalars(select(OrderAlert).order_by(OrderAlert.id)).all()
    assert [(alert.kind, alert.notify_user_ids) for alert in alerts] == [
        ("big_order", [7]),
        ("product_sales", [8]),
    ]
    assert alerts[1].detail["units"] == 3
    assert event_counts(db)["order.alert_raised"] == 2


def test_a_backfilled_big_order_is_labelled_without_an_alert(db: Session, shops: Shops) -> None:
    db.add(CommerceSettings(tenant_id=shops.tenant_id, big_order_threshold_fen=100))
    ingest_order(
        db,
        shop=shops.taobao,
        snapshot=snapshot(shops.taobao, "OLD", OrderStatus.COMPLETED, version=1),
        source=ObservationSource.BACKFILL,
    )
    assert db.scalar(select(func.count(OrderAlert.id))) == 0
    assert db.scalar(select(Order.labels).where(Order.external_id == "OLD")) == ["大额订单"]


def test_an_order_the_platform_reports_fully_refunded_counts_for_nothing(db: Session, shops: Shops) -> None:
    """Pinduoduo reports refunds only as agreed; its order's refund state says the money went back."""
    paid = snapshot(shops.jd, "P1", OrderStatus.PAID, version=1, buyer="pdd-b", payment_fen=5000)
    kept = snapshot(shops.jd, "P2", OrderStatus.PAID, version=1, buyer="pdd-b", payment_fen=3000)
    refunded = snapshot(
        shops.jd,
        "P1",
        OrderStatus.CLOSED,
        version=2,
        buyer="pdd-b",
        payment_fen=5000,
        paid=True,
        refund_state=RefundState.FULL_REFUNDED,
    )
    for item in (paid, kept, refunded):
        result = ingest_order(db, shop=shops.jd, snapshot=item, source=PUSH)
    customer = db.get(Customer, result.customer_id)
    assert customer is not None
    db.refresh(customer)
    assert (customer.order_count, customer.total_spent_fen) == (1, 3000)


def _tenant_shops(db: Session) -> Shops:
    """A second tenant with the same three shops (connection ids of its own)."""
    tenant = Tenant(name="Brand B")
    db.add(tenant)
    db.flush()

    def shop(connection_id: int, platform: str, external_id: str) -> Shop:
        return ensure_shop(
            db,
            tenant_id=tenant.id,
            connection_id=connection_id,
            platform=platform,
            external_id=external_id,
            name=f"{platform} 旗舰店",
        )

    return Shops(
        tenant.id, shop(201, "taobao", "s-tb"), shop(202, "jd", "v-jd"), shop(203, "youzan", "63077")
    )


def _tenant_state(db: Session, tenant_id: int) -> dict[str, Any]:
    """What ingest left in a tenant, with database ids replaced by what they stand for."""
    db.flush()
    accounts: dict[int | None, tuple[str, ...]] = {None: ()}
    for customer_id, value in db.execute(
        select(CustomerIdentity.customer_id, CustomerIdentity.value)
        .where(CustomerIdentity.tenant_id == tenant_id, CustomerIdentity.kind == "platform_buyer")
        .order_by(CustomerIdentity.value)
    ):
        accounts[customer_id] = (*accounts.get(customer_id, ()), value)
    orders = db.scalars(select(Order).where(Order.tenant_id == tenant_id).order_by(Order.external_id)).all()
    return {
        "orders": [
            (o.external_id, o.status, o.platform_status, o.payment_fen, o.labels, accounts[o.customer_id])
            for o in orders
        ],
        "lines": sorted(
            db.execute(
                select(Order.external_id, OrderLine.external_id)
                .join(Order, Order.id == OrderLine.order_id)
                .where(Order.tenant_id == tenant_id)
            ).all()
        ),
        "timeline": Counter(
            db.scalars(select(OrderTimelineEntry.kind).where(OrderTimelineEntry.tenant_id == tenant_id))
        ),
        "events": Counter(
            db.scalars(
                select(OutboxEvent.event_type)
                .where(OutboxEvent.tenant_id == tenant_id, OutboxEvent.event_type.like("order.%"))
                .group_by(OutboxEvent.event_id, OutboxEvent.event_type)
            )
        ),
        "customers": sorted(
            (accounts[c.id], c.order_count, c.total_spent_fen, c.platform_count, c.rfm_f, c.rfm_m)
            for c in db.scalars(
                select(Customer).where(Customer.tenant_id == tenant_id, Customer.merged_into_id.is_(None))
            )
        ),
        "alerts": sorted(db.scalars(select(OrderAlert.kind).where(OrderAlert.tenant_id == tenant_id))),
    }


def test_a_batch_has_the_effects_of_its_observations_one_by_one(db: Session, shops: Shops) -> None:
    """`ingest_orders` over a mixed sequence (repeats, out of order, a phone that links two platforms,
    refund states, a product sales rule that counts lines mid-batch) leaves exactly what ingesting the
    same sequence one observation at a time leaves."""
    other = _tenant_shops(db)
    for tenant in (shops, other):
        db.add(
            CommerceSettings(
                tenant_id=tenant.tenant_id,
                big_order_threshold_fen=50000,
                gift_rules=[{"name": "小样", "min_total_spent_fen": 0}],
                product_alerts=[{"sku_id": "SKU-LIP-01", "monthly_units": 4, "user_ids": [8]}],
            )
        )

    def sequence(t: Shops) -> list[OrderObservation]:
        def seen(shop: Shop, *args: Any, **kwargs: Any) -> OrderObservation:
            return OrderObservation(shop, snapshot(shop, *args, **kwargs), PUSH)

        return [
            seen(t.taobao, "T1", OrderStatus.PAID, version=20, lines=2),
            seen(t.taobao, "T1", OrderStatus.CREATED, version=10),
            seen(t.jd, "J1", OrderStatus.CREATED, version=10, complete=False, buyer="jd-7"),
            seen(
                t.jd, "J1", OrderStatus.PAID, version=20, buyer="jd-7", phone="13800002222", payment_fen=60000
            ),
            seen(t.taobao, "T2", OrderStatus.PAID, version=30, phone="13800002222", buyer="buyer-2"),
            seen(t.taobao, "T1", OrderStatus.SHIPPED, version=40, lines=2),
            seen(t.taobao, "T1", OrderStatus.PAID, version=20, lines=2),
            seen(t.youzan, "Y1", OrderStatus.PAID, version=5, buyer="yz-1"),
            seen(
                t.youzan,
                "Y1",
                OrderStatus.COMPLETED,
                version=9,
                buyer="yz-1",
                refund_state=RefundState.PARTIAL_REFUNDED,
            ),
            seen(t.jd, "J2", OrderStatus.PAID, version=50, buyer="jd-7"),
            seen(t.taobao, "T1", OrderStatus.SHIPPED, version=40, lines=2),
        ]

    ingest_orders(db, sequence(shops))
    for observation in sequence(other):
        ingest_orders(db, [observation])
    batched, one_by_one = _tenant_state(db, shops.tenant_id), _tenant_state(db, other.tenant_id)
    assert batched == one_by_one
    # And the state is the expected one, not merely the same twice.
    assert batched["events"]["order.alert_raised"] == 2  # the big order, then the product's 4th unit
    assert batched["orders"][2][:3] == ("T1", "shipped", "SHIPPED@40")
    assert any(accounts == ("buyer-2", "jd-7") for accounts, *_ in batched["customers"])
