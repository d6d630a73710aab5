"""JD `orderInfo` (jingdong.pop.order.get / enSearch) → `OrderSnapshot`. Pure: no I/O, no clock.

Field names follow the JOS order DTO [S]: money is yuan strings ("169.00"), times are
`yyyy-MM-dd HH:mm:ss` in China Standard Time with `0001-01-01 00:00:00` / `1970-01-01 00:00:00`
meaning "not yet". `version` is `modified` in epoch milliseconds.

Status (`orderState`) → canonical:
- WAIT_SELLER_STOCK_OUT, WAIT_SELLER_DELIVERY, WAIT_SEND_CODE → paid. JD shows sellers only orders
  that can be fulfilled, i.e. paid ones (cash-on-delivery orders included).
- LOCKED, PAUSE, POP_ORDER_PAUSE → paid: the order is held (a cancellation or risk review is
  pending), neither shipped nor closed; `platform_status` keeps the hold for whoever needs it, and a
  later observation moves it on (forward to shipped, or to closed when cancelled).
- WAIT_GOODS_RECEIVE_CONFIRM, SEND_TO_DISTRIBUTION_CENER, DISTRIBUTION_CENTER_RECEIVED → shipped.
- FINISHED_L, RECEIPTS_CONFIRM → completed; TRADE_CANCELED → closed.
- An unknown state is counted as paid (the least a listed order is) and kept in `platform_status`.

JD has no HTTP push (platform-protocols.md §8.2 [U]): `map_message` ignores whatever it is given.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from scrm.platforms.shops.adapter import MappedMessage
from scrm.platforms.shops.canonical import (
    BuyerIdentity,
    LogisticsSnapshot,
    OrderLineSnapshot,
    OrderSnapshot,
    OrderStatus,
    RefundState,
)
from scrm.platforms.shops.jd.signing import CST

PLATFORM = "jd"

ORDER_STATES: dict[str, OrderStatus] = {
    "WAIT_SELLER_STOCK_OUT": OrderStatus.PAID,
    "WAIT_SELLER_DELIVERY": OrderStatus.PAID,
    "WAIT_SEND_CODE": OrderStatus.PAID,
    "LOCKED": OrderStatus.PAID,
    "PAUSE": OrderStatus.PAID,
    "POP_ORDER_PAUSE": OrderStatus.PAID,
    "WAIT_GOODS_RECEIVE_CONFIRM": OrderStatus.SHIPPED,
    "SEND_TO_DISTRIBUTION_CENER": OrderStatus.SHIPPED,  # sic: JD's spelling
    "DISTRIBUTION_CENTER_RECEIVED": OrderStatus.SHIPPED,
    "FINISHED_L": OrderStatus.COMPLETED,
    "RECEIPTS_CONFIRM": OrderStatus.COMPLETED,
    "TRADE_CANCELED": OrderStatus.CLOSED,
}
#: Every state, for `order_state` filters that must list them.
ALL_ORDER_STATES: tuple[str, ...] = tuple(ORDER_STATES)

_NOT_YET = frozenset({"0001-01-01 00:00:00", "1970-01-01 00:00:00"})
_CLEAR_MOBILE = re.compile(r"^1\d{10}$")


class JdMappingError(ValueError):
    """An order lacks what a snapshot cannot do without (its id, or any time to version it by)."""


def yuan_to_fen(value: Any) -> int | None:
    """ "169.00" / 169 / "0" → fen; None or "" → None. Decimal, never float arithmetic."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    try:
        return int((Decimal(str(value).strip()) * 100).to_integral_value())
    except InvalidOperation as error:
        raise JdMappingError(f"not an amount: {value!r}") from error


def parse_time(value: Any) -> datetime | None:
    """A JOS CST time string → aware UTC; JD's "not yet" sentinels and blanks → None."""
    if not isinstance(value, str) or not value.strip() or value.strip() in _NOT_YET:
        return None
    text = value.strip()[:19]
    try:
        parsed = datetime.strptime(text, "%Y-%m-%d %H:%M:%S")
    except ValueError as error:
        raise JdMappingError(f"not a JOS time: {value!r}") from error
    return parsed.replace(tzinfo=CST).astimezone(UTC)


def epoch_ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def _text(value: Any) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def _buyer(order: Mapping[str, Any]) -> BuyerIdentity | None:
    consignee = order.get("consigneeInfo") or {}
    pin = _text(order.get("pin"))
    # `open_id_buyer` is the stable per-app buyer id of the newer APIs; a pin is only usable as an
    # id while it is not masked.
    account = _text(order.get("open_id_buyer")) or (pin if pin and "*" not in pin else None)
    mobile = _text(consignee.get("mobile"))
    fullname = _text(consignee.get("fullname"))
    buyer = BuyerIdentity(
        account_id=account,
        nick=pin,
        phone=mobile if mobile and _CLEAR_MOBILE.match(mobile) else None,
        # Ciphertexts (TDE) are neither clear nor masked: dropped.
        phone_masked=mobile if mobile and "*" in mobile else None,
        name_masked=fullname if fullname and "*" in fullname else None,
    )
    return buyer if buyer != BuyerIdentity() else None


def _lines(order: Mapping[str, Any]) -> tuple[OrderLineSnapshot, ...]:
    lines: list[OrderLineSnapshot] = []
    seen: set[str] = set()
    for index, item in enumerate(order.get("itemInfoList") or [], start=1):
        sku = _text(item.get("skuId"))
        # JD has no line id: the SKU is unique within an order except for repeated gift SKUs.
        external_id = sku or str(index)
        if external_id in seen:
            external_id = f"{external_id}-{index}"
        seen.add(external_id)
        quantity = int(item.get("itemTotal") or 1)
        price = yuan_to_fen(item.get("jdPrice")) or 0
        lines.append(
            OrderLineSnapshot(
                external_id=external_id,
                title=str(item.get("skuName") or ""),
                item_id=_text(item.get("wareId")),
                sku_id=sku,
                outer_sku_id=_text(item.get("outerSkuId")),
                quantity=quantity,
                price_fen=price,
                total_fen=price * quantity,
                # JD gives no per-line payment: the line's list total stands in for it.
                payment_fen=price * quantity,
                is_gift=price == 0,
            )
        )
    return tuple(lines)


def _logistics(order: Mapping[str, Any]) -> tuple[LogisticsSnapshot, ...]:
    waybill = _text(order.get("waybill"))
    if not waybill:
        return ()
    company = _text(order.get("logisticsId"))
    # "Different carriers' numbers are separated by |, one carrier's several numbers by commas."
    numbers = [number.strip() for group in waybill.split("|") for number in group.split(",")]
    return tuple(LogisticsSnapshot(company=company, tracking_no=number) for number in numbers if number)


def _promotions(order: Mapping[str, Any]) -> tuple[dict[str, Any], ...]:
    return tuple(
        {
            "type": _text(coupon.get("couponType")),
            "amount_fen": yuan_to_fen(coupon.get("couponPrice")),
            "sku_id": _text(coupon.get("skuId")),
        }
        for coupon in order.get("couponDetailList") or []
    )


def map_order(order: Mapping[str, Any], shop_external_id: str) -> OrderSnapshot:
    """One `orderInfo` object → a complete snapshot. Raises `JdMappingError` without `orderId`."""
    order_id = _text(order.get("orderId"))
    if order_id is None:
        raise JdMappingError("orderInfo without orderId")
    state = str(order.get("orderState") or "")
    status = ORDER_STATES.get(state, OrderStatus.PAID)
    created = parse_time(order.get("orderStartTime"))
    paid = parse_time(order.get("paymentConfirmTime"))
    ended = parse_time(order.get("orderEndTime"))
    modified = parse_time(order.get("modified"))
    newest = modified or max((t for t in (ended, paid, created) if t is not None), default=None)
    if newest is None:
        raise JdMappingError(f"order {order_id} has no time to version it by")
    refund_state = None
    if status is OrderStatus.CLOSED and paid is not None:
        # A paid order JD cancels is refunded in full [U: inferred, JD's order JSON has no refund summary].
        refund_state = RefundState.FULL_REFUNDED
    consignee = order.get("consigneeInfo") or {}
    return OrderSnapshot(
        platform=PLATFORM,
        shop_external_id=shop_external_id,
        external_id=order_id,
        version=epoch_ms(newest),
        status=status,
        platform_status=state,
        refund_state=refund_state,
        created_at=created,
        paid_at=paid,
        received_at=ended if status is OrderStatus.COMPLETED else None,
        closed_at=ended if status is OrderStatus.CLOSED else None,
        updated_at=modified,
        payment_fen=yuan_to_fen(order.get("orderPayment")),
        total_fen=yuan_to_fen(order.get("orderTotalPrice")),
        discount_fen=yuan_to_fen(order.get("sellerDiscount")),
        post_fee_fen=yuan_to_fen(order.get("freightPrice")),
        buyer=_buyer(order),
        receiver_province=_text(consignee.get("province")),
        receiver_city=_text(consignee.get("city")),
        promotions=_promotions(order),
        lines=_lines(order),
        logistics=_logistics(order),
        raw=dict(order),
    )


def map_message(raw: str, shop_external_id: str) -> MappedMessage:
    """JD delivers order messages through its message-queue subscription (JMQ inside the 云鼎
    environment), not as an HTTP push with a documented signature (§8.2 [U]); the adapter is
    pull-only, so any stored message is ignored with this reason."""
    return MappedMessage(ignored_reason="jd has no push channel in this adapter (pull only)")
