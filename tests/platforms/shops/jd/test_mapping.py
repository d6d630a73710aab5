"""JD orderInfo → OrderSnapshot (pure mapping over fixture payloads)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from scrm.platforms.shops.canonical import OrderStatus, RefundState
from scrm.platforms.shops.jd.mapping import ORDER_STATES, JdMappingError, map_message, map_order

FIXTURES = Path(__file__).parent / "fixtures"


def fixture(name: str) -> dict[str, Any]:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


def detail_order() -> dict[str, Any]:
    return fixture("jingdong.pop.order.get.json")["jingdong_pop_order_get_responce"]["orderDetailInfo"][
        "orderInfo"
    ]


def search_orders() -> list[dict[str, Any]]:
    result = fixture("jingdong.pop.order.enSearch.json")["jingdong_pop_order_enSearch_responce"]
    return list(result["searchorderinfo_result"]["orderInfoList"])


def test_detail_order_maps_every_canonical_field() -> None:
    snapshot = map_order(detail_order(), "10086")
    assert (snapshot.platform, snapshot.shop_external_id, snapshot.external_id) == (
        "jd",
        "10086",
        "239583298472",
    )
    assert snapshot.complete is True
    assert snapshot.status is OrderStatus.COMPLETED
    assert snapshot.platform_status == "FINISHED_L"
    # CST → UTC: 8 hours earlier.
    assert snapshot.created_at == datetime(2021, 5, 7, 1, 20, 39, tzinfo=UTC)
    assert snapshot.paid_at == datetime(2021, 5, 7, 1, 21, 5, tzinfo=UTC)
    assert snapshot.received_at == datetime(2021, 5, 10, 10, 0, 0, tzinfo=UTC)
    assert snapshot.closed_at is None
    assert snapshot.updated_at == datetime(2021, 5, 10, 10, 0, 1, tzinfo=UTC)
    assert snapshot.version == int(datetime(2021, 5, 10, 10, 0, 1, tzinfo=UTC).timestamp()) * 1000
    assert (snapshot.total_fen, snapshot.discount_fen, snapshot.post_fee_fen, snapshot.payment_fen) == (
        50700,
        2000,
        1000,
        49700,
    )
    assert snapshot.receiver_province == "北京"
    assert snapshot.receiver_city == "朝阳区"
    assert snapshot.promotions == ({"type": "100-店铺优惠", "amount_fen": 2000, "sku_id": None},)
    assert snapshot.raw["orderId"] == "239583298472"


def test_detail_order_buyer_prefers_open_id_and_keeps_masks() -> None:
    buyer = map_order(detail_order(), "10086").buyer
    assert buyer is not None
    assert buyer.account_id == "o5Gx-AbCdEf123"
    assert buyer.nick == "jd_4f***9a"
    assert buyer.phone is None
    assert buyer.phone_masked == "138****5678"
    assert buyer.name_masked == "张*"


def test_detail_order_lines_and_logistics() -> None:
    snapshot = map_order(detail_order(), "10086")
    lipstick, serum, gift = snapshot.lines
    assert (lipstick.external_id, lipstick.sku_id, lipstick.outer_sku_id, lipstick.item_id) == (
        "100012043978",
        "100012043978",
        "SKU-LIP-01",
        "100005432",
    )
    assert (lipstick.quantity, lipstick.price_fen, lipstick.total_fen, lipstick.payment_fen) == (
        2,
        16900,
        33800,
        33800,
    )
    assert lipstick.is_gift is False
    assert serum.title == "修护精华 30ml"
    assert (gift.price_fen, gift.is_gift) == (0, True)
    assert [(item.company, item.tracking_no) for item in snapshot.logistics] == [
        ("2087", "JDVA00012345678"),
        ("2087", "SF1234567890"),
        ("2087", "SF1234567891"),
    ]


def test_search_rows_paid_cancelled_and_locked() -> None:
    waiting, cancelled, locked = (map_order(order, "10086") for order in search_orders())

    assert waiting.status is OrderStatus.PAID
    assert waiting.received_at is None  # the 0001-01-01 sentinel is "not yet"
    assert waiting.refund_state is None
    assert waiting.logistics == ()
    assert waiting.created_at == datetime(2021, 5, 7, 15, 59, 58, tzinfo=UTC)
    assert waiting.buyer is not None
    assert waiting.buyer.account_id == "jd_buyer01"  # a clear pin is the id when there is no open id
    assert waiting.buyer.phone == "13912345678"  # clear mobile
    assert waiting.buyer.name_masked is None  # ciphertext is neither clear nor masked

    assert cancelled.status is OrderStatus.CLOSED
    assert cancelled.closed_at == datetime(2021, 5, 7, 4, 0, 0, tzinfo=UTC)
    assert cancelled.refund_state is RefundState.FULL_REFUNDED
    assert cancelled.buyer is not None
    assert (cancelled.buyer.account_id, cancelled.buyer.phone, cancelled.buyer.phone_masked) == (
        "o5Gx-Zz9",
        None,
        None,
    )

    assert locked.status is OrderStatus.PAID
    assert locked.platform_status == "LOCKED"
    assert locked.received_at is None  # the 1970 sentinel
    assert locked.buyer is not None
    assert locked.buyer.account_id is None  # a masked pin is no id
    assert locked.buyer.nick == "j***1"


@pytest.mark.parametrize(
    ("state", "expected"),
    [
        ("WAIT_SELLER_STOCK_OUT", OrderStatus.PAID),
        ("WAIT_SELLER_DELIVERY", OrderStatus.PAID),
        ("WAIT_SEND_CODE", OrderStatus.PAID),
        ("LOCKED", OrderStatus.PAID),
        ("PAUSE", OrderStatus.PAID),
        ("POP_ORDER_PAUSE", OrderStatus.PAID),
        ("WAIT_GOODS_RECEIVE_CONFIRM", OrderStatus.SHIPPED),
        ("SEND_TO_DISTRIBUTION_CENER", OrderStatus.SHIPPED),
        ("DISTRIBUTION_CENTER_RECEIVED", OrderStatus.SHIPPED),
        ("FINISHED_L", OrderStatus.COMPLETED),
        ("RECEIPTS_CONFIRM", OrderStatus.COMPLETED),
        ("TRADE_CANCELED", OrderStatus.CLOSED),
        ("SOMETHING_NEW", OrderStatus.PAID),
    ],
)
def test_state_table(state: str, expected: OrderStatus) -> None:
    order = {**detail_order(), "orderState": state}
    snapshot = map_order(order, "10086")
    assert snapshot.status is expected
    assert snapshot.platform_status == state


def test_every_known_state_is_in_the_table() -> None:
    assert len(ORDER_STATES) == 12


def test_version_falls_back_to_the_newest_time_without_modified() -> None:
    order = {key: value for key, value in detail_order().items() if key != "modified"}
    snapshot = map_order(order, "10086")
    assert snapshot.version == int(datetime(2021, 5, 10, 10, 0, 0, tzinfo=UTC).timestamp()) * 1000


@pytest.mark.parametrize("broken", [{"orderId": None}, {"orderPayment": "12,00"}, {"modified": "10/05/2021"}])
def test_broken_orders_raise(broken: dict[str, Any]) -> None:
    with pytest.raises(JdMappingError):
        map_order({**detail_order(), **broken}, "10086")


def test_map_message_ignores_everything() -> None:
    mapped = map_message('{"anything": 1}', "10086")
    assert mapped.ignored_reason is not None
    assert (mapped.orders, mapped.refunds, mapped.fetch_orders) == ([], [], [])
