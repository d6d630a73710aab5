"""PMC frames → MappedMessage: partial order snapshots, refunds, fetches (fixtures by topic)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from scrm.platforms.shops.canonical import OrderStatus, RefundStatus
from scrm.platforms.shops.pdd.mapping import PddMappingError
from scrm.platforms.shops.pdd.messages import map_message

FIXTURES = Path(__file__).parent / "fixtures"
MALL = "171504183"
TID = "210707-339507978993455"


def raw(topic: str) -> str:
    return (FIXTURES / f"{topic}.json").read_text(encoding="utf-8")


@pytest.mark.parametrize(
    ("topic", "status", "version"),
    [
        ("pdd_trade_TradeConfirmed", OrderStatus.PAID, 1625637309000),  # frame time, floored to the second
        ("pdd_trade_TradeSellerShip", OrderStatus.SHIPPED, 1625706000000),
        ("pdd_trade_TradeSuccess", OrderStatus.COMPLETED, 1625965200000),  # content.modified wins
    ],
)
def test_trade_topics_give_a_partial_snapshot_and_a_fetch(
    topic: str, status: OrderStatus, version: int
) -> None:
    mapped = map_message(raw(topic), MALL)
    (snapshot,) = mapped.orders
    assert mapped.fetch_orders == [TID]
    assert mapped.refunds == []
    assert snapshot.complete is False
    assert (snapshot.external_id, snapshot.shop_external_id, snapshot.platform) == (TID, MALL, "pdd")
    assert snapshot.status is status
    assert snapshot.platform_status == topic
    assert snapshot.version == version
    assert snapshot.updated_at == datetime.fromtimestamp(version / 1000, UTC)
    assert snapshot.raw == json.loads(raw(topic))


@pytest.mark.parametrize(
    ("topic", "status", "version"),
    [
        ("pdd_refund_RefundCreated", RefundStatus.REQUESTED, 1625637300000),
        ("pdd_refund_RefundAgreeAgreement", RefundStatus.AGREED, 1625637425016),
        ("pdd_refund_RefundClosed", RefundStatus.CLOSED, 1625640000000),
    ],
)
def test_refund_topics_give_a_refund_and_a_fetch(topic: str, status: RefundStatus, version: int) -> None:
    mapped = map_message(raw(topic), MALL)
    (refund,) = mapped.refunds
    assert mapped.orders == []
    assert mapped.fetch_orders == [TID]
    assert (refund.external_id, refund.order_external_id) == ("7381745730", TID)
    assert refund.status is status
    assert refund.platform_status == topic
    assert refund.amount_fen == 1990
    assert refund.version == version
    assert refund.updated_at == datetime.fromtimestamp(version / 1000, UTC)


def test_frame_ids_beyond_2_53_stay_exact() -> None:
    mapped = map_message(raw("pdd_refund_RefundAgreeAgreement"), MALL)
    assert mapped.refunds[0].raw["id"] == 7300000000000000015
    assert float(7300000000000000015) != 7300000000000000015  # what a float would have lost


def test_fetch_only_topics() -> None:
    frame = json.loads(raw("pdd_trade_TradeConfirmed"))
    frame["message"]["type"] = "pdd_trade_TradeLogisticsAddressChanged"
    mapped = map_message(json.dumps(frame), MALL)
    assert (mapped.orders, mapped.refunds, mapped.fetch_orders) == ([], [], [TID])


def test_ignored_frames() -> None:
    assert map_message('{"commandType":"HeartBeat","time":1}', MALL).ignored_reason
    frame = json.loads(raw("pdd_trade_TradeConfirmed"))
    frame["message"]["type"] = "pdd_goods_GoodsAdd"
    assert map_message(json.dumps(frame), MALL).ignored_reason
    other_mall = map_message(raw("pdd_trade_TradeConfirmed"), "999")
    assert other_mall.ignored_reason is not None and other_mall.orders == []


@pytest.mark.parametrize("text", ["not json", "[]", '{"commandType":"Common"}'])
def test_malformed_frames_raise(text: str) -> None:
    with pytest.raises(PddMappingError):
        map_message(text, MALL)


def test_a_known_topic_without_tid_raises() -> None:
    frame = json.loads(raw("pdd_trade_TradeConfirmed"))
    frame["message"]["content"] = json.dumps({"mall_id": 171504183})
    with pytest.raises(PddMappingError):
        map_message(json.dumps(frame), MALL)
