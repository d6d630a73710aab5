"""Trade JSON and TMC messages → canonical snapshots (pure), from recorded-shape fixtures."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from scrm.platforms.shops.canonical import OrderStatus, RefundState, RefundStatus
from scrm.platforms.shops.taobao import PLATFORM
from scrm.platforms.shops.taobao.mapping import (
    TRADE_STATUS,
    MappingError,
    fen,
    map_trade,
    map_trade_refunds,
    parse_time,
    refund_state,
    yuan,
)
from scrm.platforms.shops.taobao.tmc import map_message

FIXTURES = Path(__file__).parent / "fixtures"
SHOP = "2200123456"
TID = "2345678901234567"


def fixture(name: str) -> Any:
    return json.loads((FIXTURES / f"{name}.json").read_text(encoding="utf-8"))


def raw_message(name: str) -> str:
    return (FIXTURES / f"{name}.json").read_text(encoding="utf-8")


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)


def ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


# --- values --------------------------------------------------------------------------------------


def test_times_are_shanghai_strings_made_utc() -> None:
    assert parse_time("2024-06-18 20:15:03") == utc(2024, 6, 18, 12, 15, 3)
    assert parse_time("2024-01-01 03:00:00") == utc(2023, 12, 31, 19, 0, 0)
    assert parse_time("") is None
    with pytest.raises(MappingError):
        parse_time("18/06/2024")


def test_yuan_become_fen_exactly() -> None:
    assert fen("200.07") == 20007
    assert fen("0.1") == 10
    assert fen("16900.00") == 1690000
    assert fen(12) == 1200
    assert fen("0.29") == 29  # a float would make this 28.999…
    assert fen("") is None
    assert yuan(20007) == "200.07"
    assert yuan(5) == "0.05"
    with pytest.raises(MappingError):
        fen("12元")


# --- trades --------------------------------------------------------------------------------------


def test_full_trade() -> None:
    trade = fixture("trade_fullinfo_get")["trade_fullinfo_get_response"]["trade"]
    order = map_trade(trade, shop_external_id=SHOP)
    assert order.platform == "taobao"
    assert order.shop_external_id == SHOP
    assert order.external_id == TID
    assert order.complete
    assert order.status is OrderStatus.SHIPPED
    assert order.platform_status == "WAIT_BUYER_CONFIRM_GOODS"
    assert order.refund_state is RefundState.PARTIAL_REFUNDED
    assert order.version == ms(utc(2024, 6, 20, 1, 30, 45))
    assert order.created_at == utc(2024, 6, 18, 12, 15, 3)
    assert order.paid_at == utc(2024, 6, 18, 12, 16, 10)
    assert order.shipped_at == utc(2024, 6, 19, 2, 2, 0)
    assert order.received_at is None and order.closed_at is None
    assert order.updated_at == utc(2024, 6, 20, 1, 30, 45)
    assert (order.payment_fen, order.total_fen, order.discount_fen, order.post_fee_fen) == (
        52700,
        53700,
        1000,
        0,
    )
    assert order.buyer is not None
    assert order.buyer.account_id == "AAHd5d-HAAeGwJedwSnHktBI"
    assert order.buyer.nick == "张**"
    assert order.buyer.name_masked == "张**"
    assert order.buyer.phone_masked == "138********"
    assert order.buyer.phone is None
    assert order.buyer.oaid == "1dDSWxZqibx1rgQ4Ydyu2HhtHuUdTpkkKQsRKTAQ"
    assert (order.receiver_province, order.receiver_city) == ("浙江省", "杭州市")
    assert order.is_presale is False
    assert order.promotions[0]["promotion_name"] == "店铺满减"
    assert order.raw == trade

    lipstick, sunscreen, bag = order.lines
    assert lipstick.external_id == "2345678901234568"
    assert (lipstick.quantity, lipstick.price_fen, lipstick.total_fen) == (2, 16900, 33800)
    assert (lipstick.payment_fen, lipstick.discount_fen) == (32800, 1000)
    assert (lipstick.item_id, lipstick.sku_id, lipstick.outer_sku_id) == (
        "650123456789",
        "5012345678901",
        "SKU-LIP-01",
    )
    assert lipstick.sku_description == "颜色:正红"
    assert not lipstick.is_gift
    assert sunscreen.payment_fen == 19900
    assert bag.is_gift and bag.payment_fen == 0

    sf, zto = order.logistics
    assert (sf.company, sf.tracking_no, sf.shipped_at) == ("顺丰速运", "SF1234567890", utc(2024, 6, 19, 2, 2))
    assert sf.line_external_ids == ("2345678901234568", "2345678901234569")
    assert zto.line_external_ids == ("2345678901234570",)
    assert zto.shipped_at == utc(2024, 6, 19, 2, 5)


def test_refunds_shown_on_trade_lines() -> None:
    trade = fixture("trade_fullinfo_get")["trade_fullinfo_get_response"]["trade"]
    (refund,) = map_trade_refunds(trade, shop_external_id=SHOP)
    assert refund.external_id == "150123456789012345"
    assert refund.order_external_id == TID
    assert refund.status is RefundStatus.SUCCEEDED
    assert refund.platform_status == "SUCCESS"
    assert refund.line_external_ids == ("2345678901234568",)
    assert refund.amount_fen is None  # trade APIs do not carry refund_fee
    assert refund.version == ms(utc(2024, 6, 20, 1, 30, 45))


def test_presale_step_trade() -> None:
    trade = fixture("trade_fullinfo_get_step")["trade_fullinfo_get_response"]["trade"]
    order = map_trade(trade, shop_external_id=SHOP)
    assert order.external_id == "4012345678901234"  # no tid_str: tid as text
    assert order.status is OrderStatus.CREATED  # deposit paid, final payment not yet
    assert order.platform_status == "WAIT_BUYER_PAY"
    assert order.is_presale is True
    assert order.presale_ship_at == utc(2024, 11, 11, 16, 0)
    assert order.payment_fen == 45900
    assert order.receiver_city == "琼海市"  # a county-level city lives in receiver_district
    assert order.lines[0].is_presale
    assert order.refund_state is RefundState.NONE
    assert order.buyer is not None and order.buyer.phone_masked is None
    assert map_trade_refunds(trade, shop_external_id=SHOP) == []


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        ("TRADE_NO_CREATE_PAY", OrderStatus.CREATED),
        ("WAIT_BUYER_PAY", OrderStatus.CREATED),
        ("PAY_PENDING", OrderStatus.CREATED),
        ("WAIT_PRE_AUTH_CONFIRM", OrderStatus.CREATED),
        ("WAIT_SELLER_SEND_GOODS", OrderStatus.PAID),
        ("PAID_FORBID_CONSIGN", OrderStatus.PAID),
        ("SELLER_CONSIGNED_PART", OrderStatus.PAID),
        ("WAIT_BUYER_CONFIRM_GOODS", OrderStatus.SHIPPED),
        ("TRADE_BUYER_SIGNED", OrderStatus.COMPLETED),
        ("TRADE_FINISHED", OrderStatus.COMPLETED),
        ("TRADE_CLOSED", OrderStatus.CLOSED),
        ("TRADE_CLOSED_BY_TAOBAO", OrderStatus.CLOSED),
    ],
)
def test_every_trade_status(status: str, expected: OrderStatus) -> None:
    trade = {"tid": 1, "status": status, "modified": "2024-06-01 00:00:00", "end_time": "2024-06-01 00:00:00"}
    order = map_trade(trade, shop_external_id=SHOP)
    assert order.status is expected
    assert order.platform_status == status
    assert (order.received_at is not None) == (expected is OrderStatus.COMPLETED)
    assert (order.closed_at is not None) == (expected is OrderStatus.CLOSED)


def test_status_table_is_complete() -> None:
    assert len(TRADE_STATUS) == 12


def test_unknown_status_and_missing_tid_are_mapping_errors() -> None:
    with pytest.raises(MappingError):
        map_trade(
            {"tid": 1, "status": "ALL_WAIT_PAY", "modified": "2024-06-01 00:00:00"}, shop_external_id=SHOP
        )
    with pytest.raises(MappingError):
        map_trade({"status": "WAIT_BUYER_PAY", "modified": "2024-06-01 00:00:00"}, shop_external_id=SHOP)


@pytest.mark.parametrize(
    ("statuses", "expected"),
    [
        ([None, "NO_REFUND"], RefundState.NONE),
        (["CLOSED", "SELLER_REFUSE_BUYER"], RefundState.NONE),
        (["WAIT_SELLER_AGREE", "NO_REFUND"], RefundState.PARTIAL_REFUNDING),
        (["SUCCESS", "NO_REFUND"], RefundState.PARTIAL_REFUNDED),
        (["SUCCESS", "WAIT_SELLER_CONFIRM_GOODS"], RefundState.FULL_REFUNDING),
        (["SUCCESS", "SUCCESS"], RefundState.FULL_REFUNDED),
    ],
)
def test_refund_state_from_lines(statuses: list[str | None], expected: RefundState) -> None:
    assert refund_state([{"refund_status": status} for status in statuses]) is expected


# --- TMC messages --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("topic", "status", "platform_status", "pub_time"),
    [
        ("taobao_trade_TradeCreate", OrderStatus.CREATED, "WAIT_BUYER_PAY", utc(2024, 6, 18, 12, 15, 3)),
        (
            "taobao_trade_TradeBuyerPay",
            OrderStatus.PAID,
            "WAIT_SELLER_SEND_GOODS",
            utc(2024, 6, 18, 12, 16, 10),
        ),
        (
            "taobao_trade_TradeSellerShip",
            OrderStatus.SHIPPED,
            "WAIT_BUYER_CONFIRM_GOODS",
            utc(2024, 6, 19, 2, 2),
        ),
        ("taobao_trade_TradeSuccess", OrderStatus.COMPLETED, "TRADE_FINISHED", utc(2024, 6, 25, 3, 0)),
        (
            "taobao_trade_TradeClose",
            OrderStatus.CLOSED,
            "TRADE_CLOSED_BY_TAOBAO",
            utc(2024, 6, 18, 13, 15, 3),
        ),
    ],
)
def test_trade_topics_give_partial_snapshots_and_a_fetch(
    topic: str, status: OrderStatus, platform_status: str, pub_time: datetime
) -> None:
    mapped = map_message(raw_message(topic), SHOP)
    (order,) = mapped.orders
    assert mapped.fetch_orders == [TID]
    assert mapped.refunds == [] and mapped.ignored_reason is None
    assert not order.complete
    assert order.external_id == TID
    assert order.status is status
    assert order.platform_status == platform_status
    assert order.version == ms(pub_time)
    assert order.updated_at == pub_time
    assert order.payment_fen == 52700 and order.post_fee_fen == 0
    assert order.buyer is not None and order.buyer.account_id == "AAHd5d-HAAeGwJedwSnHktBI"
    assert order.lines == ()
    assert order.raw["topic"] == topic


def test_partly_refund_asks_for_the_trade() -> None:
    mapped = map_message(raw_message("taobao_trade_TradePartlyRefund"), SHOP)
    assert mapped.fetch_orders == [TID]
    assert mapped.orders == [] and mapped.refunds == []


@pytest.mark.parametrize(
    ("topic", "status", "refund_id", "amount", "line", "version"),
    [
        (
            "taobao_refund_RefundCreated",
            RefundStatus.REQUESTED,
            "150123456789012345",
            32800,
            "2345678901234568",
            utc(2024, 6, 19, 0, 0, 0),  # content modified, not pub_time
        ),
        (
            "taobao_refund_RefundSuccess",
            RefundStatus.SUCCEEDED,
            "150123456789012345",
            32800,
            "2345678901234568",
            utc(2024, 6, 20, 1, 30, 45),
        ),
        (
            "taobao_refund_RefundClosed",
            RefundStatus.CLOSED,
            "150123456789099999",
            19900,
            "2345678901234569",
            utc(2024, 6, 21, 4, 0, 0),  # no modified: pub_time
        ),
    ],
)
def test_refund_topics(
    topic: str, status: RefundStatus, refund_id: str, amount: int, line: str, version: datetime
) -> None:
    mapped = map_message(raw_message(topic), SHOP)
    (refund,) = mapped.refunds
    assert mapped.fetch_orders == [TID]
    assert mapped.orders == []
    assert refund.external_id == refund_id
    assert refund.order_external_id == TID
    assert refund.status is status
    assert refund.amount_fen == amount
    assert refund.line_external_ids == (line,)
    assert refund.version == ms(version)


def test_platform_entry_maps_positionally() -> None:
    assert PLATFORM.map_message(raw_message("taobao_trade_TradeBuyerPay"), SHOP).fetch_orders == [TID]


def test_other_sellers_and_unknown_topics_are_ignored() -> None:
    assert map_message(raw_message("taobao_trade_TradeBuyerPay"), "999").ignored_reason
    message = json.loads(raw_message("taobao_trade_TradeBuyerPay"))
    message["topic"] = "taobao_item_ItemAdd"
    mapped = map_message(json.dumps(message), SHOP)
    assert mapped.ignored_reason and not mapped.orders and not mapped.fetch_orders


def test_content_may_already_be_an_object() -> None:
    message = json.loads(raw_message("taobao_trade_TradeSuccess"))
    message["content"] = json.loads(message["content"])
    assert map_message(json.dumps(message), SHOP).orders[0].status is OrderStatus.COMPLETED


@pytest.mark.parametrize(
    "raw",
    [
        "not json",
        "[]",
        json.dumps(
            {"topic": "taobao_trade_TradeBuyerPay", "content": "{broken", "pub_time": "2024-06-01 00:00:00"}
        ),
        json.dumps(
            {"topic": "taobao_trade_TradeBuyerPay", "content": "{}", "pub_time": "2024-06-01 00:00:00"}
        ),
        json.dumps({"topic": "taobao_trade_TradeBuyerPay", "content": json.dumps({"tid": 1})}),
        json.dumps(
            {"topic": "taobao_refund_RefundSuccess", "content": json.dumps({"tid": 1}), "pub_time": "x"}
        ),
    ],
)
def test_malformed_messages_are_mapping_errors(raw: str) -> None:
    with pytest.raises(MappingError):
        map_message(raw, SHOP)
