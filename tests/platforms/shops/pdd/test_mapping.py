"""Pinduoduo order JSON → OrderSnapshot (pure mapping over fixture payloads)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from scrm.platforms.shops.canonical import OrderStatus, RefundState
from scrm.platforms.shops.pdd.mapping import PddMappingError, map_order, yuan_to_fen

FIXTURES = Path(__file__).parent / "fixtures"
MALL = "171504183"


def fixture(name: str) -> dict[str, Any]:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


def detail() -> dict[str, Any]:
    return dict(fixture("pdd.order.information.get.json")["order_info_get_response"]["order_info"])


def increment_rows() -> list[dict[str, Any]]:
    return list(
        fixture("pdd.order.number.list.increment.get.json")["order_sn_increment_get_response"][
            "order_sn_list"
        ]
    )


def test_detail_maps_every_canonical_field() -> None:
    snapshot = map_order(detail(), MALL)
    assert (snapshot.platform, snapshot.shop_external_id, snapshot.external_id) == (
        "pdd",
        MALL,
        "210707-339507978993455",
    )
    assert snapshot.status is OrderStatus.SHIPPED
    assert snapshot.refund_state is RefundState.NONE
    assert snapshot.platform_status == "order_status=2;refund_status=1"
    assert snapshot.created_at == datetime(2021, 7, 7, 5, 55, 2, tzinfo=UTC)
    assert snapshot.paid_at == datetime(2021, 7, 7, 5, 55, 9, tzinfo=UTC)  # pay_time wins over confirm_time
    assert snapshot.shipped_at == datetime(2021, 7, 8, 1, 0, 0, tzinfo=UTC)
    assert snapshot.received_at is None
    assert snapshot.updated_at == datetime(2021, 7, 8, 1, 0, 1, tzinfo=UTC)
    assert snapshot.version == int(datetime(2021, 7, 8, 1, 0, 1, tzinfo=UTC).timestamp()) * 1000
    # floats and strings in yuan, exactly
    assert (snapshot.payment_fen, snapshot.total_fen, snapshot.discount_fen, snapshot.post_fee_fen) == (
        3519,
        3980,
        561,
        100,
    )
    assert snapshot.promotions == (
        {"type": "platform_discount", "amount_fen": 261},
        {"type": "seller_discount", "amount_fen": 300},
    )
    assert (snapshot.receiver_province, snapshot.receiver_city) == ("浙江省", "杭州市")
    assert snapshot.is_presale is False
    assert snapshot.raw["order_sn"] == "210707-339507978993455"


def test_detail_buyer_lines_logistics() -> None:
    snapshot = map_order(detail(), MALL)
    assert snapshot.buyer is not None
    assert snapshot.buyer.account_id == "pdd-open-7f3a"
    assert (snapshot.buyer.name_masked, snapshot.buyer.phone_masked, snapshot.buyer.phone) == (
        "周**",
        "138****5678",
        None,
    )
    (line,) = snapshot.lines
    assert (line.external_id, line.item_id, line.outer_sku_id, line.sku_description) == (
        "1083925812345",
        "273049870123",
        "SKU-LIP-01",
        "正红,3.5g",
    )
    assert (line.quantity, line.price_fen, line.total_fen) == (2, 1990, 3980)
    (parcel,) = snapshot.logistics
    assert (parcel.company, parcel.tracking_no, parcel.shipped_at) == (
        "85",
        "YT1234567890123",
        snapshot.shipped_at,
    )


def test_increment_rows_refund_states() -> None:
    unshipped_refunded, received_refunded, presale_refunding, cancelled = (
        map_order(row, MALL) for row in increment_rows()
    )

    # Refunded before shipment: PDD refunds the whole order.
    assert unshipped_refunded.status is OrderStatus.CLOSED
    assert unshipped_refunded.refund_state is RefundState.FULL_REFUNDED
    assert unshipped_refunded.closed_at == unshipped_refunded.updated_at
    assert unshipped_refunded.payment_fen == 29  # "0.29", not 28 through a float
    assert unshipped_refunded.paid_at == datetime(2021, 7, 7, 2, 0, 5, tzinfo=UTC)  # confirm_time
    assert unshipped_refunded.buyer is None  # ciphertext gone, nothing masked, no id

    # Refunded after receipt: maybe partial, never closed on a guess.
    assert received_refunded.status is OrderStatus.COMPLETED
    assert received_refunded.refund_state is RefundState.PARTIAL_REFUNDED
    assert received_refunded.buyer is not None
    assert (received_refunded.buyer.name_masked, received_refunded.buyer.phone_masked) == (
        "王**",
        "1387677****",
    )

    assert presale_refunding.status is OrderStatus.PAID
    assert presale_refunding.refund_state is RefundState.FULL_REFUNDING
    assert presale_refunding.is_presale is True
    assert presale_refunding.presale_ship_at == datetime(2021, 7, 19, 16, 0, tzinfo=UTC)
    assert all(line.is_presale for line in presale_refunding.lines)
    assert presale_refunding.buyer is not None
    assert presale_refunding.buyer.phone == "13500001111"  # clear mobile
    assert presale_refunding.buyer.name_masked is None  # a clear name is not a masked one

    assert cancelled.status is OrderStatus.CLOSED  # confirm_status 2: cancelled (failed group)
    assert cancelled.refund_state is RefundState.FULL_REFUNDED


@pytest.mark.parametrize(
    ("order_status", "refund_status", "status", "refund_state"),
    [
        (1, 1, OrderStatus.PAID, RefundState.NONE),
        (2, 1, OrderStatus.SHIPPED, RefundState.NONE),
        (3, 1, OrderStatus.COMPLETED, RefundState.NONE),
        (1, 2, OrderStatus.PAID, RefundState.FULL_REFUNDING),
        (1, 3, OrderStatus.PAID, RefundState.FULL_REFUNDING),
        (2, 3, OrderStatus.SHIPPED, RefundState.PARTIAL_REFUNDING),
        (1, 4, OrderStatus.CLOSED, RefundState.FULL_REFUNDED),
        (2, 4, OrderStatus.SHIPPED, RefundState.PARTIAL_REFUNDED),
        (3, 4, OrderStatus.COMPLETED, RefundState.PARTIAL_REFUNDED),
    ],
)
def test_status_table(
    order_status: int, refund_status: int, status: OrderStatus, refund_state: RefundState
) -> None:
    snapshot = map_order({**detail(), "order_status": order_status, "refund_status": refund_status}, MALL)
    assert (snapshot.status, snapshot.refund_state) == (status, refund_state)


@pytest.mark.parametrize(
    ("value", "fen"),
    [(19.9, 1990), ("19.90", 1990), (0.29, 29), (0.07, 7), (1234567.89, 123456789), (0, 0), ("", None)],
)
def test_yuan_to_fen_never_goes_through_float_arithmetic(value: Any, fen: int | None) -> None:
    assert yuan_to_fen(value) == fen


def test_epoch_second_times_are_accepted() -> None:
    snapshot = map_order({**detail(), "updated_at": 1625706001}, MALL)
    assert snapshot.updated_at == datetime(2021, 7, 8, 1, 0, 1, tzinfo=UTC)


@pytest.mark.parametrize(
    "broken", [{"order_sn": ""}, {"updated_at": ""}, {"pay_amount": "abc"}, {"created_time": "7/7"}]
)
def test_broken_orders_raise(broken: dict[str, Any]) -> None:
    with pytest.raises(PddMappingError):
        map_order({**detail(), **broken}, MALL)
