"""Youzan payloads → canonical snapshots: one fixture per push type we support, plus API answers."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from scrm.platforms.shops.canonical import OrderStatus, RefundState, RefundStatus
from scrm.platforms.shops.youzan.mapping import MappingError, map_full_order_info
from scrm.platforms.shops.youzan.messages import decode_msg, map_message
from scrm.platforms.shops.youzan.values import fen

FIXTURES = Path(__file__).parent / "fixtures"
TID = "E20240501120000012300001"
SHOP = "63077"


def raw(name: str) -> str:
    return (FIXTURES / f"{name}.json").read_text(encoding="utf-8")


def data(name: str) -> Any:
    return json.loads(raw(name))["data"]


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


def test_trade_create_is_a_complete_unpaid_snapshot() -> None:
    mapped = map_message(raw("trade_TradeCreate"), SHOP)
    (order,) = mapped.orders
    assert mapped.fetch_orders == [] and mapped.ignored_reason is None
    assert order.external_id == TID and order.shop_external_id == SHOP and order.platform == "youzan"
    assert order.complete is True
    assert order.status is OrderStatus.CREATED and order.platform_status == "WAIT_BUYER_PAY"
    assert order.version == 1714536000 * 1000
    assert order.created_at == utc(2024, 5, 1, 4, 0, 0)
    assert order.paid_at is None
    # An encrypted phone is no phone; it is kept as the masked value, as the brief asks.
    assert order.buyer is not None
    assert order.buyer.phone is None and order.buyer.phone_masked == "$ENC$Kq8xZ2Ffd3VwN1k=$"
    assert order.raw["msg_id"] == "2b1f0b4e-6a7c-4c39-9b8d-0f1e2d3c4b5a"


def test_trade_paid_maps_money_buyer_lines_and_times() -> None:
    (order,) = map_message(raw("trade_TradePaid"), SHOP).orders
    assert order.status is OrderStatus.PAID and order.platform_status == "TRADE_PAID"
    assert order.version == 1714536090000
    assert order.paid_at == utc(2024, 5, 1, 4, 1, 30)
    assert order.updated_at == utc(2024, 5, 1, 4, 1, 30)
    assert (order.total_fen, order.post_fee_fen, order.payment_fen, order.discount_fen) == (
        33800,
        1000,
        32800,
        2000,
    )
    assert order.refund_state is RefundState.NONE
    assert order.buyer is not None
    assert order.buyer.account_id == "Vr7bVHqR695441617385984000"
    assert order.buyer.phone == "13812345678" and order.buyer.phone_masked is None
    assert order.buyer.nick == "小鹿" and order.buyer.name_masked == "王*"
    assert (order.receiver_province, order.receiver_city) == ("浙江省", "杭州市")
    assert order.is_presale is False and order.is_gift is False
    lipstick, bag = order.lines
    assert lipstick.external_id == "3017654321" and lipstick.outer_sku_id == "SKU-LIP-01"
    assert (lipstick.quantity, lipstick.price_fen, lipstick.total_fen, lipstick.payment_fen) == (
        2,
        16900,
        33800,
        31800,
    )
    assert lipstick.discount_fen == 2000 and lipstick.sku_description == "色号:01 正红"
    assert bag.is_gift is True and bag.payment_fen == 0 and not lipstick.is_gift


def test_trade_buyer_pay_masked_phone_and_presale() -> None:
    (order,) = map_message(raw("trade_TradeBuyerPay"), SHOP).orders
    assert order.status is OrderStatus.PAID and order.platform_status == "WAIT_SELLER_SEND_GOODS"
    assert order.buyer is not None and order.buyer.phone is None and order.buyer.phone_masked == "138****5678"
    assert order.is_presale is True and order.lines[0].is_presale is True


@pytest.mark.parametrize(
    ("name", "status", "platform_status", "field", "at"),
    [
        (
            "trade_TradeSellerShip",
            OrderStatus.SHIPPED,
            "WAIT_BUYER_CONFIRM_GOODS",
            "shipped_at",
            utc(2024, 5, 2, 1, 30),
        ),
        ("trade_TradePartlySellerShip", OrderStatus.PAID, "WAIT_SELLER_SEND_GOODS", None, None),
        (
            "trade_TradeSuccess",
            OrderStatus.COMPLETED,
            "TRADE_SUCCESS",
            "received_at",
            utc(2024, 5, 5, 12, 15),
        ),
        ("trade_TradeClose", OrderStatus.CLOSED, "TRADE_CLOSED", "closed_at", utc(2024, 5, 1, 5, 0, 5)),
    ],
)
def test_status_messages_are_partial_and_ask_for_the_order(
    name: str, status: OrderStatus, platform_status: str, field: str | None, at: datetime | None
) -> None:
    envelope = json.loads(raw(name))
    mapped = map_message(raw(name), SHOP)
    (order,) = mapped.orders
    assert mapped.fetch_orders == [TID]
    assert order.complete is False
    assert order.status is status and order.platform_status == platform_status
    assert order.version == envelope["version"] * 1000
    assert order.lines == () and order.buyer is None
    if field is not None:
        assert getattr(order, field) == at


def test_legacy_trade_order_state_example() -> None:
    mapped = map_message(raw("TRADE_ORDER_STATE"), SHOP)
    (order,) = mapped.orders
    assert order.external_id == "E20170807181905034500002"
    assert order.status is OrderStatus.CLOSED and order.complete is False
    assert order.payment_fen == 1100
    assert order.updated_at == utc(2017, 8, 7, 10, 19, 5)
    assert order.version == 1502101273000
    assert mapped.fetch_orders == ["E20170807181905034500002"]


def test_legacy_refund_message() -> None:
    mapped = map_message(raw("trade_refund_RefundSuccess"), SHOP)
    (refund,) = mapped.refunds
    assert refund.external_id == "201905061234560000012345" and refund.order_external_id == TID
    assert refund.status is RefundStatus.SUCCEEDED and refund.amount_fen == 15900
    assert refund.refund_type == "refund_only" and refund.line_external_ids == ("3017654321",)
    assert refund.reason == "多拍/拍错/不想要" and refund.updated_at == utc(2024, 5, 3, 2, 0)
    assert refund.version == 1714701600000
    assert mapped.fetch_orders == [TID]  # the order's refund state changed


def test_new_style_refund_messages_carry_an_object() -> None:
    created = map_message(raw("youzan_trade_RefundCreated"), SHOP)
    (requested,) = created.refunds
    assert requested.status is RefundStatus.REQUESTED and created.fetch_orders == []
    success = map_message(raw("youzan_trade_RefundSuccess"), SHOP)
    (refund,) = success.refunds
    assert refund.status is RefundStatus.SUCCEEDED
    assert refund.amount_fen == 32800 and refund.refund_type == "return_and_refund"
    assert refund.line_external_ids == ("3017654321", "3017654322")
    assert refund.external_id == requested.external_id == "202405031000000000099999"
    assert refund.version > requested.version


def test_other_types_and_test_messages_are_ignored() -> None:
    assert map_message(raw("trade_TradeMemoModified"), SHOP).ignored_reason
    ignored = map_message(raw("test_message"), SHOP)
    assert ignored.ignored_reason == "test message" and not ignored.orders


def test_trade_get_answer_is_versioned_by_update_time() -> None:
    info = data("youzan.trade.get")["full_order_info"]
    order = map_full_order_info(info, shop_external_id=SHOP)
    assert order.status is OrderStatus.COMPLETED and order.complete is True
    assert order.version == 1714911300000  # update_time in ms
    assert order.shipped_at == utc(2024, 5, 2, 1, 30) and order.received_at == utc(2024, 5, 5, 12, 15)
    assert order.refund_state is RefundState.PARTIAL_REFUNDED
    assert order.is_gift is True  # order_info.type 1: a gift order


def test_sold_get_answer() -> None:
    shipped, closed = (
        map_full_order_info(entry["full_order_info"], shop_external_id=SHOP)
        for entry in data("youzan.trades.sold.get")["full_order_info_list"]
    )
    assert shipped.status is OrderStatus.SHIPPED and shipped.buyer is not None and shipped.buyer.phone is None
    assert closed.status is OrderStatus.CLOSED and closed.closed_at == utc(2024, 5, 1, 5, 0, 5)
    assert closed.external_id == "E20240501120000012300002" and closed.paid_at is None


def test_bad_payloads() -> None:
    with pytest.raises(MappingError):
        map_message("not json", SHOP)
    with pytest.raises(MappingError):
        map_full_order_info({"order_info": {"tid": "E1", "status": "SOMETHING_NEW"}}, shop_external_id=SHOP)
    envelope = json.loads(raw("trade_TradeSellerShip"))
    envelope["msg"] = "%7Bbroken"
    with pytest.raises(MappingError):
        map_message(json.dumps(envelope), SHOP)
    assert decode_msg({"tid": "x"}) == {"tid": "x"}


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("11.00", 1100),
        ("0.01", 1),
        ("169", 16900),
        (12.3, 1230),
        ("0.005", 1),
        ("", None),
        (None, None),
        ("x", None),
    ],
)
def test_yuan_to_fen(value: Any, expected: int | None) -> None:
    assert fen(value) == expected
