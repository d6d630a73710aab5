"""Pinduoduo order JSON (pdd.order.information.get `order_info`, and the rows of
pdd.order.number.list.increment.get) → `OrderSnapshot`. Pure: no I/O, no clock.

Money is yuan, as strings or JSON numbers ("19.90", 19.9): converted through `Decimal(str(x))`.
Times are `yyyy-MM-dd HH:mm:ss` China Standard Time (epoch seconds accepted too). `version` is
`updated_at` in epoch milliseconds (PDD's resolution is the second).

Status: PDD lists paid orders only. `order_status` 1 待发货 → paid, 2 已发货待签收 → shipped,
3 已签收 → completed. `refund_status` (1 none or closed, 2 after-sales in progress, 3 refunding,
4 refunded) gives `refund_state`; the order JSON carries no refunded amount, so whether a refund is
the whole order is inferred [U]: before shipment PDD refunds the whole order (single-goods orders,
"未发货仅退款"), after shipment a refund may be partial. Hence:
- refund_status 4 on an unshipped order → closed, full_refunded (closed is terminal: only inferred
  where a partial refund cannot happen);
- refund_status 4 after shipment → status kept, partial_refunded (a full after-shipment refund is
  under-reported rather than an order wrongly closed; the refund messages carry the amounts);
- refund_status 2/3 → full_refunding before shipment, partial_refunding after;
- confirm_status 2 (已取消, e.g. a failed group buy, refunded by PDD) → closed, full_refunded.
`platform_status` keeps both raw fields: "order_status=2;refund_status=4".
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal, InvalidOperation
from typing import Any

from scrm.platforms.shops.canonical import (
    BuyerIdentity,
    LogisticsSnapshot,
    OrderLineSnapshot,
    OrderSnapshot,
    OrderStatus,
    RefundState,
)

PLATFORM = "pdd"
#: China Standard Time (no daylight saving since 1991).
CST = timezone(timedelta(hours=8), "Asia/Shanghai")

ORDER_STATUSES: dict[int, OrderStatus] = {
    1: OrderStatus.PAID,
    2: OrderStatus.SHIPPED,
    3: OrderStatus.COMPLETED,
}
_CLEAR_MOBILE = re.compile(r"^1\d{10}$")


class PddMappingError(ValueError):
    """A payload lacks what its snapshot cannot do without (order_sn, updated_at, tid…)."""


def yuan_to_fen(value: Any) -> int | None:
    """19.9 / "19.90" / 0 → fen; None or "" → None. `str()` first: a float's shortest repr is
    the decimal PDD meant."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    try:
        return int((Decimal(str(value).strip()) * 100).to_integral_value())
    except InvalidOperation as error:
        raise PddMappingError(f"not an amount: {value!r}") from error


def parse_time(value: Any) -> datetime | None:
    """CST string or epoch seconds → aware UTC; blanks and zero → None."""
    if value is None or value == "" or value == 0:
        return None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return datetime.fromtimestamp(value, UTC)
    text = str(value).strip()
    if text.isdigit():
        return datetime.fromtimestamp(int(text), UTC)
    try:
        return datetime.strptime(text[:19], "%Y-%m-%d %H:%M:%S").replace(tzinfo=CST).astimezone(UTC)
    except ValueError as error:
        raise PddMappingError(f"not a PDD time: {value!r}") from error


def epoch_ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def _text(value: Any) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def _int(value: Any, default: int = 0) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


def _buyer(order: Mapping[str, Any]) -> BuyerIdentity | None:
    """PDD gives no documented buyer id; `open_buyer_id` / `buyer_open_id` are used when present
    [U]. Receiver name and phone come masked or as ciphertext (kept out); clear only when a
    clear mobile number is given."""
    name = _text(order.get("receiver_name_mask")) or _text(order.get("receiver_name"))
    phone = _text(order.get("receiver_phone"))
    masked_phone = _text(order.get("receiver_phone_mask")) or (phone if phone and "*" in phone else None)
    buyer = BuyerIdentity(
        account_id=_text(order.get("open_buyer_id")) or _text(order.get("buyer_open_id")),
        phone=phone if phone and _CLEAR_MOBILE.match(phone) else None,
        phone_masked=masked_phone,
        name_masked=name if name and "*" in name else None,
    )
    return buyer if buyer != BuyerIdentity() else None


def _lines(order: Mapping[str, Any], presale: bool) -> tuple[OrderLineSnapshot, ...]:
    lines: list[OrderLineSnapshot] = []
    seen: set[str] = set()
    for index, item in enumerate(order.get("item_list") or [], start=1):
        sku = _text(item.get("sku_id"))
        # PDD has no line id; a SKU appears once per order.
        external_id = sku or str(index)
        if external_id in seen:
            external_id = f"{external_id}-{index}"
        seen.add(external_id)
        quantity = _int(item.get("goods_count"), 1)
        price = yuan_to_fen(item.get("goods_price")) or 0
        lines.append(
            OrderLineSnapshot(
                external_id=external_id,
                title=str(item.get("goods_name") or ""),
                item_id=_text(item.get("goods_id")),
                sku_id=sku,
                outer_sku_id=_text(item.get("outer_id")),
                sku_description=_text(item.get("goods_spec")),
                quantity=quantity,
                price_fen=price,
                total_fen=price * quantity,
                payment_fen=price * quantity,  # PDD gives no per-line payment
                is_gift=price == 0,
                is_presale=presale,
            )
        )
    return tuple(lines)


def _status(order: Mapping[str, Any]) -> tuple[OrderStatus, RefundState]:
    order_status = _int(order.get("order_status"), 1)
    refund_status = _int(order.get("refund_status"), 1)
    status = ORDER_STATUSES.get(order_status, OrderStatus.PAID)
    unshipped = status is OrderStatus.PAID
    if _int(order.get("confirm_status"), 1) == 2:
        return OrderStatus.CLOSED, RefundState.FULL_REFUNDED
    if refund_status == 4:
        if unshipped:
            return OrderStatus.CLOSED, RefundState.FULL_REFUNDED
        return status, RefundState.PARTIAL_REFUNDED
    if refund_status in (2, 3):
        return status, RefundState.FULL_REFUNDING if unshipped else RefundState.PARTIAL_REFUNDING
    return status, RefundState.NONE


def _promotions(order: Mapping[str, Any]) -> tuple[dict[str, Any], ...]:
    found = []
    for field in ("platform_discount", "seller_discount", "capital_free_discount"):
        amount = yuan_to_fen(order.get(field))
        if amount:
            found.append({"type": field, "amount_fen": amount})
    return tuple(found)


def map_order(order: Mapping[str, Any], shop_external_id: str) -> OrderSnapshot:
    """One order object → a complete snapshot. Raises `PddMappingError` without order_sn or
    updated_at."""
    order_sn = _text(order.get("order_sn"))
    if order_sn is None:
        raise PddMappingError("order without order_sn")
    updated = parse_time(order.get("updated_at"))
    if updated is None:
        raise PddMappingError(f"order {order_sn} without updated_at")
    status, refund_state = _status(order)
    presale = _int(order.get("is_pre_sale")) == 1 or _int(order.get("trade_type")) == 1
    shipped = parse_time(order.get("shipping_time"))
    tracking = _text(order.get("tracking_number"))
    logistics: tuple[LogisticsSnapshot, ...] = ()
    if tracking:
        company = _text(order.get("logistics_id"))
        logistics = (LogisticsSnapshot(company=company, tracking_no=tracking, shipped_at=shipped),)
    return OrderSnapshot(
        platform=PLATFORM,
        shop_external_id=shop_external_id,
        external_id=order_sn,
        version=epoch_ms(updated),
        status=status,
        platform_status=f"order_status={order.get('order_status')};refund_status={order.get('refund_status')}",
        refund_state=refund_state,
        created_at=parse_time(order.get("created_time")),
        paid_at=parse_time(order.get("pay_time")) or parse_time(order.get("confirm_time")),
        shipped_at=shipped,
        received_at=parse_time(order.get("receive_time")),
        # PDD gives no close time; the last update is when the refund closed it.
        closed_at=updated if status is OrderStatus.CLOSED else None,
        updated_at=updated,
        payment_fen=yuan_to_fen(order.get("pay_amount")),
        total_fen=yuan_to_fen(order.get("goods_amount")),
        discount_fen=yuan_to_fen(order.get("discount_amount")),
        post_fee_fen=yuan_to_fen(order.get("postage")),
        buyer=_buyer(order),
        receiver_province=_text(order.get("province")),
        receiver_city=_text(order.get("city")),
        is_presale=presale,
        presale_ship_at=parse_time(order.get("pre_sale_time")) if presale else None,
        promotions=_promotions(order),
        lines=_lines(order, presale),
        logistics=logistics,
        raw=dict(order),
    )
