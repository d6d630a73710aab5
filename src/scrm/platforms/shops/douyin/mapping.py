"""Douyin shop order detail (`shop_order_detail` of order.orderDetail, the items of order.searchList)
→ `OrderSnapshot`. Pure: no I/O, no clock.

Field names follow the platform's order.orderDetail response as mirrored by the official Go SDK [S].
Amounts are already integer fen; times are epoch seconds (0 = not happened). `version` is
`update_time` in milliseconds. The receiver's name, phone and address come encrypted
(`encrypt_post_*`, or ciphertext in `post_*`) with masked copies (`mask_post_*`): masked values
stay masked, a phone counts only when it is in clear.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from scrm.platforms.shops.canonical import (
    BuyerIdentity,
    LogisticsSnapshot,
    OrderLineSnapshot,
    OrderSnapshot,
    OrderStatus,
    RefundState,
)

PLATFORM = "douyin"

STATUS_MAP: dict[int, OrderStatus] = {
    1: OrderStatus.CREATED,  # 待确认/待支付
    103: OrderStatus.CREATED,  # 部分支付 (main_status only)
    105: OrderStatus.PAID,  # 已支付
    2: OrderStatus.PAID,  # 备货中
    101: OrderStatus.SHIPPED,  # 部分发货
    3: OrderStatus.SHIPPED,  # 已发货
    5: OrderStatus.COMPLETED,  # 已完成
    4: OrderStatus.CLOSED,  # 已取消
    21: OrderStatus.CLOSED,  # main_status: refunded before shipping
    22: OrderStatus.CLOSED,  # refunded after shipping
    39: OrderStatus.CLOSED,  # refunded after receipt
}
#: after_sale_info.refund_status: 1 waiting for refund, 3 refunded, 4 refund failed.
REFUNDING, REFUNDED = 1, 3
#: pre_sale_type: 0 in stock, 1 full-payment presale, 2 staged shipping.
PRESALE_TYPES = frozenset({1, 2})
_CLEAR_PHONE = re.compile(r"^1\d{10}$")


class MappingError(ValueError):
    """A Douyin payload lacks what a snapshot cannot do without (the order id, a known status)."""


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _int(value: Any) -> int | None:
    if value is None or value == "" or isinstance(value, bool):
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def text(value: Any) -> str | None:
    if value is None or isinstance(value, bool):
        return None
    result = str(value).strip()
    return result or None


def epoch(value: Any) -> datetime | None:
    """Epoch seconds → aware UTC; None for absent or 0 (Douyin's "not yet")."""
    seconds = _int(value)
    if not seconds or seconds <= 0:
        return None
    return datetime.fromtimestamp(seconds, UTC)


def clear_phone(value: Any) -> str | None:
    candidate = text(value)
    return candidate if candidate and _CLEAR_PHONE.fullmatch(candidate) else None


def map_status(raw: Any) -> OrderStatus:
    status = STATUS_MAP.get(_int(raw) or -1)
    if status is None:
        raise MappingError(f"unknown Douyin order_status {raw!r}")
    return status


def _region(address: dict[str, Any], level: str) -> str | None:
    value = address.get(level)
    return text(value.get("name")) if isinstance(value, dict) else text(value)


def _spec(items: Any) -> str | None:
    if not isinstance(items, list):
        return None
    parts = [
        f"{item.get('name', '')}:{item.get('value', '')}".strip(":")
        for item in items
        if isinstance(item, dict) and (item.get("name") or item.get("value"))
    ]
    return ";".join(parts) or None


def map_line(item: dict[str, Any]) -> OrderLineSnapshot:
    quantity = _int(item.get("item_num")) or 1
    price = _int(item.get("origin_amount")) or 0
    total = _int(item.get("sum_amount"))
    total = price * quantity if total is None else total
    payment = _int(item.get("pay_amount"))
    payment = total if payment is None else payment
    promotion = _int(item.get("promotion_amount"))
    return OrderLineSnapshot(
        external_id=text(item.get("order_id")) or "",
        title=str(item.get("product_name") or ""),
        item_id=text(item.get("product_id_str")) or text(item.get("product_id")),
        sku_id=text(item.get("sku_id")),
        outer_sku_id=text(item.get("out_sku_id")) or text(item.get("code")),
        sku_description=_spec(item.get("spec")),
        quantity=quantity,
        price_fen=price,
        total_fen=total,
        payment_fen=payment,
        discount_fen=promotion if promotion is not None else max(0, total - payment),
        is_gift=str(item.get("given_product_type") or "").upper() == "FREE",
        is_presale=_int(item.get("pre_sale_type")) in PRESALE_TYPES,
    )


def refund_state(items: list[dict[str, Any]]) -> RefundState:
    """The order's refund summary from its lines' `after_sale_info.refund_status`."""
    states = [_int(_dict(item.get("after_sale_info")).get("refund_status")) for item in items]
    refunded = sum(1 for state in states if state == REFUNDED)
    refunding = sum(1 for state in states if state == REFUNDING)
    if not states or refunded + refunding == 0:
        return RefundState.NONE
    full = refunded + refunding == len(states)
    if refunding:
        return RefundState.FULL_REFUNDING if full else RefundState.PARTIAL_REFUNDING
    return RefundState.FULL_REFUNDED if full else RefundState.PARTIAL_REFUNDED


def map_buyer(detail: dict[str, Any]) -> BuyerIdentity | None:
    phone = clear_phone(detail.get("post_tel"))
    masked_phone = text(detail.get("mask_post_tel"))
    masked_name = text(detail.get("mask_post_receiver"))
    identity = BuyerIdentity(
        account_id=text(detail.get("doudian_open_id")),
        phone=phone,
        phone_masked=masked_phone if phone is None else None,
        name_masked=masked_name,
    )
    return identity if identity != BuyerIdentity() else None


def map_logistics(detail: dict[str, Any]) -> tuple[LogisticsSnapshot, ...]:
    parcels = []
    for parcel in detail.get("logistics_info") or []:
        if not isinstance(parcel, dict):
            continue
        products = [item for item in parcel.get("product_info") or [] if isinstance(item, dict)]
        parcels.append(
            LogisticsSnapshot(
                company=text(parcel.get("company_name")) or text(parcel.get("company")),
                tracking_no=text(parcel.get("tracking_no")),
                shipped_at=epoch(parcel.get("ship_time")),
                line_external_ids=tuple(
                    sku for sku in (text(item.get("sku_order_id")) for item in products) if sku
                ),
            )
        )
    return tuple(parcels)


def map_order_detail(detail: dict[str, Any], *, shop_external_id: str) -> OrderSnapshot:
    """A complete snapshot of one `shop_order_detail`."""
    order_id = text(detail.get("order_id"))
    if order_id is None:
        raise MappingError("shop_order_detail without order_id")
    status = map_status(detail.get("order_status"))
    items = [item for item in detail.get("sku_order_list") or [] if isinstance(item, dict)]
    lines = tuple(map_line(item) for item in items)
    updated_at = epoch(detail.get("update_time"))
    created_at = epoch(detail.get("create_time"))
    version_at = updated_at or created_at
    address = _dict(detail.get("post_addr")) or _dict(detail.get("mask_post_addr"))
    order_amount = _int(detail.get("order_amount"))
    post_amount = _int(detail.get("post_amount"))
    is_presale = any(line.is_presale for line in lines)
    return OrderSnapshot(
        platform=PLATFORM,
        shop_external_id=shop_external_id,
        external_id=order_id,
        version=int(version_at.timestamp() * 1000) if version_at else 0,
        complete=True,
        status=status,
        platform_status=str(detail.get("order_status")),
        refund_state=refund_state(items),
        created_at=created_at,
        paid_at=epoch(detail.get("pay_time")),
        shipped_at=epoch(detail.get("ship_time")),
        received_at=epoch(detail.get("finish_time")) if status is OrderStatus.COMPLETED else None,
        # A cancelled order's last update is its cancellation.
        closed_at=updated_at if status is OrderStatus.CLOSED else None,
        updated_at=updated_at,
        payment_fen=_int(detail.get("pay_amount")),
        # order_amount includes the post fee; the goods total is what remains [S].
        total_fen=order_amount - (post_amount or 0) if order_amount is not None else None,
        discount_fen=_int(detail.get("promotion_amount")),
        post_fee_fen=post_amount,
        buyer=map_buyer(detail),
        receiver_province=_region(address, "province"),
        receiver_city=_region(address, "city"),
        is_presale=is_presale,
        presale_ship_at=epoch(detail.get("exp_ship_time")) if is_presale else None,
        is_gift=False,  # Douyin has gift lines (given_product_type FREE), not gift orders
        lines=lines,
        logistics=map_logistics(detail),
        raw=detail,
    )
