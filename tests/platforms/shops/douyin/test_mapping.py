"""Douyin shop payloads → canonical snapshots: one fixture per push tag we support, plus the order
APIs' answers."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from scrm.platforms.shops.canonical import OrderStatus, RefundState, RefundStatus
from scrm.platforms.shops.douyin.mapping import MappingError, map_order_detail
from scrm.platforms.shops.douyin.messages import map_message

FIXTURES = Path(__file__).parent / "fixtures"
ORDER = "6920000000000000001"
SHOP = "4463798"


def raw(name: str) -> str:
    return (FIXTURES / f"{name}.json").read_text(encoding="utf-8")


def data(name: str) -> Any:
    return json.loads(raw(name))["data"]


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


def test_order_detail() -> None:
    order = map_order_detail(data("order.orderDetail")["shop_order_detail"], shop_external_id=SHOP)
    assert (order.platform, order.shop_external_id, order.external_id) == ("douyin", SHOP, ORDER)
    assert order.status is OrderStatus.PAID and order.platform_status == "2" and order.complete
    assert order.version == 1714536090 * 1000
    assert order.created_at == utc(2024, 5, 1, 4, 0) and order.paid_at == utc(2024, 5, 1, 4, 1, 30)
    assert order.shipped_at is None and order.received_at is None and order.closed_at is None
    assert (order.payment_fen, order.total_fen, order.post_fee_fen, order.discount_fen) == (
        32800,
        33800,
        1000,
        2000,
    )
    assert order.refund_state is RefundState.NONE
    assert order.buyer is not None
    assert order.buyer.account_id == "1@#Q2h5cWZ0bWVhZ2VudA=="
    # post_tel is ciphertext: no phone, only the masked copy.
    assert order.buyer.phone is None and order.buyer.phone_masked == "138****5678"
    assert order.buyer.name_masked == "王*"
    assert (order.receiver_province, order.receiver_city) == ("浙江省", "杭州市")
    assert order.is_presale is True and order.presale_ship_at == utc(2024, 5, 3, 4, 0)
    lipstick, bag = order.lines
    assert lipstick.external_id == "6920000000000000002" and lipstick.outer_sku_id == "SKU-LIP-01"
    assert (lipstick.quantity, lipstick.price_fen, lipstick.total_fen, lipstick.payment_fen) == (
        2,
        16900,
        33800,
        31800,
    )
    assert lipstick.discount_fen == 2000 and lipstick.sku_description == "色号:01 正红"
    assert lipstick.is_presale and not lipstick.is_gift
    assert bag.is_gift and bag.payment_fen == 0
    assert order.raw["order_id"] == ORDER


def test_search_list_orders() -> None:
    refunded, shipped = (
        map_order_detail(detail, shop_external_id=SHOP)
        for detail in data("order.searchList")["shop_order_list"]
    )
    assert shipped.status is OrderStatus.SHIPPED and shipped.shipped_at == utc(2024, 5, 2, 1, 30)
    (parcel,) = shipped.logistics
    assert (parcel.company, parcel.tracking_no) == ("顺丰速运", "SF1234567890123")
    assert parcel.line_external_ids == ("6920000000000000002", "6920000000000000003")
    assert refunded.status is OrderStatus.COMPLETED and refunded.received_at == utc(2024, 5, 5, 12, 15)
    assert refunded.refund_state is RefundState.PARTIAL_REFUNDED
    assert refunded.buyer is not None and refunded.buyer.phone == "13812345678"
    assert refunded.buyer.phone_masked is None
    assert refunded.is_presale is False and refunded.presale_ship_at is None


@pytest.mark.parametrize(
    ("tag", "status", "platform_status", "field", "at"),
    [
        ("100", OrderStatus.CREATED, "1", "created_at", utc(2024, 5, 1, 4, 0)),
        ("101", OrderStatus.PAID, "105", "paid_at", utc(2024, 5, 1, 4, 1, 30)),
        ("102", OrderStatus.SHIPPED, "3", "shipped_at", utc(2024, 5, 2, 1, 30)),
        ("103", OrderStatus.COMPLETED, "5", "received_at", utc(2024, 5, 5, 12, 15)),
        ("106", OrderStatus.CLOSED, "4", "closed_at", utc(2024, 5, 1, 5, 0, 5)),
    ],
)
def test_order_tags_are_partial_snapshots(
    tag: str, status: OrderStatus, platform_status: str, field: str, at: datetime
) -> None:
    mapped = map_message(raw(f"tag_{tag}"), SHOP)
    (order,) = mapped.orders
    assert mapped.fetch_orders == [ORDER] and mapped.ignored_reason is None
    assert order.external_id == ORDER and order.complete is False
    assert order.status is status and order.platform_status == platform_status
    assert getattr(order, field) == at
    assert order.version == int(at.timestamp()) * 1000
    assert order.raw["tag"] == tag


def test_paid_tag_carries_the_amount() -> None:
    (order,) = map_message(raw("tag_101"), SHOP).orders
    assert order.payment_fen == 32800


@pytest.mark.parametrize(
    ("tag", "status", "fetch"),
    [
        ("200", RefundStatus.REQUESTED, []),
        ("201", RefundStatus.AGREED, []),
        ("206", RefundStatus.SUCCEEDED, [ORDER]),
    ],
)
def test_after_sales_tags(tag: str, status: RefundStatus, fetch: list[str]) -> None:
    mapped = map_message(raw(f"tag_{tag}"), SHOP)
    (refund,) = mapped.refunds
    assert mapped.fetch_orders == fetch and mapped.orders == []
    assert refund.external_id == "7300000000000000001" and refund.order_external_id == ORDER
    assert refund.status is status and refund.amount_fen == 15900
    assert refund.refund_type == "refund_only" and refund.line_external_ids == ("6920000000000000002",)
    assert refund.created_at == datetime.fromtimestamp(1714700000, UTC)


def test_after_sales_closed_with_post_fee() -> None:
    (refund,) = map_message(raw("tag_207"), SHOP).refunds
    assert refund.status is RefundStatus.CLOSED and refund.refund_type == "return_and_refund"
    assert refund.amount_fen == 32800 + 1000 and refund.version == 1714964400000


def test_refund_versions_follow_the_events() -> None:
    versions = [map_message(raw(f"tag_{tag}"), SHOP).refunds[0].version for tag in ("200", "201", "206")]
    assert versions == sorted(versions) and len(set(versions)) == 3


def test_verification_and_other_tags_are_ignored() -> None:
    assert map_message(raw("tag_0"), SHOP).ignored_reason == "verification message"
    assert "113" in (map_message(raw("tag_113"), SHOP).ignored_reason or "")


def test_bad_payloads() -> None:
    with pytest.raises(MappingError):
        map_message("[]", SHOP)
    with pytest.raises(MappingError):
        map_message(json.dumps({"tag": "101", "msg_id": "x", "data": "{broken"}), SHOP)
    with pytest.raises(MappingError):
        map_message(json.dumps({"tag": "101", "msg_id": "x", "data": "{}"}), SHOP)
    with pytest.raises(MappingError):
        map_order_detail({"order_id": "1", "order_status": 77}, shop_external_id=SHOP)
