"""Youzan `full_order_info` (youzan.trade.get 4.0.0, youzan.trades.sold.get 4.0.x, and the `msg` of
trade_TradeCreate / TradePaid / TradeBuyerPay) → `OrderSnapshot`. Pure: no I/O, no clock.

Field names follow platform-protocols.md §6.3. Money fields are decimal yuan strings in the 4.0 DTOs
([S]); they become integer fen through Decimal. Times are China-time strings; they become aware UTC.
`version` is the push message's `version` (seconds) × 1000 when the snapshot comes from a push,
otherwise `update_time` in epoch milliseconds, so both kinds of observation order the same way.
"""

from __future__ import annotations

import json
from typing import Any

from scrm.platforms.shops.canonical import (
    BuyerIdentity,
    OrderLineSnapshot,
    OrderSnapshot,
    OrderStatus,
    RefundState,
)
from scrm.platforms.shops.youzan.values import china_time, clear_phone, epoch_ms, fen, text, truthy

PLATFORM = "youzan"

STATUS_MAP: dict[str, OrderStatus] = {
    "WAIT_BUYER_PAY": OrderStatus.CREATED,
    "TRADE_PAID": OrderStatus.PAID,  # transient: may become WAIT_CONFIRM or WAIT_SELLER_SEND_GOODS
    "WAIT_CONFIRM": OrderStatus.PAID,  # group buying / takeaway waiting for confirmation
    "WAIT_SELLER_SEND_GOODS": OrderStatus.PAID,
    "WAIT_BUYER_CONFIRM_GOODS": OrderStatus.SHIPPED,
    "TRADE_BUYER_SIGNED": OrderStatus.COMPLETED,
    "TRADE_SUCCESS": OrderStatus.COMPLETED,
    "TRADE_CLOSED": OrderStatus.CLOSED,
}

REFUND_STATE_MAP: dict[int, RefundState] = {
    0: RefundState.NONE,
    1: RefundState.PARTIAL_REFUNDING,
    2: RefundState.PARTIAL_REFUNDED,
    11: RefundState.FULL_REFUNDING,
    12: RefundState.FULL_REFUNDED,
}

#: `order_info.type` 1 is a gift order (送礼订单).
GIFT_ORDER_TYPE = 1


class MappingError(ValueError):
    """A Youzan payload lacks what a snapshot cannot do without (the tid, a known status)."""


def map_status(raw: Any) -> OrderStatus:
    status = STATUS_MAP.get(str(raw or "").strip().upper())
    if status is None:
        raise MappingError(f"unknown Youzan trade status {raw!r}")
    return status


def map_refund_state(raw: Any) -> RefundState | None:
    try:
        return REFUND_STATE_MAP.get(int(raw))
    except (TypeError, ValueError):
        return None


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _sku_description(raw: Any) -> str | None:
    """`sku_properties_name` is a JSON string of [{"k": "颜色", "v": "红"}, …] (older: "颜色:红;…")."""
    if not raw:
        return None
    if isinstance(raw, str):
        try:
            parsed = json.loads(raw)
        except ValueError:
            return raw.strip() or None
    else:
        parsed = raw
    if isinstance(parsed, list):
        parts = [
            f"{item.get('k', '')}:{item.get('v', '')}".strip(":")
            for item in parsed
            if isinstance(item, dict) and (item.get("k") or item.get("v"))
        ]
        return ";".join(parts) or None
    return text(parsed)


def map_line(item: dict[str, Any]) -> OrderLineSnapshot:
    quantity = int(item.get("num") or 1)
    price = fen(item.get("price")) or 0
    total = fen(item.get("total_fee"))
    total = price * quantity if total is None else total
    payment = fen(item.get("payment"))
    payment = total if payment is None else payment
    return OrderLineSnapshot(
        external_id=text(item.get("oid")) or "",
        title=str(item.get("title") or ""),
        item_id=text(item.get("item_id")),
        sku_id=text(item.get("sku_id")),
        outer_sku_id=text(item.get("outer_sku_id")) or text(item.get("outer_item_id")),
        sku_description=_sku_description(item.get("sku_properties_name")),
        quantity=quantity,
        price_fen=price,
        total_fen=total,
        payment_fen=payment,
        discount_fen=max(0, total - payment),
        is_gift=truthy(item.get("is_present")),
        is_presale=truthy(item.get("is_pre_sale")),
    )


def map_buyer(buyer_info: dict[str, Any], address_info: dict[str, Any]) -> BuyerIdentity | None:
    """yz_open_id (or the legacy buyer_id) is the stable id. `buyer_phone` is encrypted or masked
    nowadays: it counts as a phone only when it is a clear mobile number, else it stays masked."""
    account = text(buyer_info.get("yz_open_id")) or text(buyer_info.get("buyer_id"))
    raw_phone = text(buyer_info.get("buyer_phone"))
    phone = clear_phone(raw_phone)
    receiver = text(address_info.get("receiver_name"))
    identity = BuyerIdentity(
        account_id=account,
        nick=text(buyer_info.get("fans_nickname")),
        phone=phone,
        phone_masked=raw_phone if raw_phone and phone is None else None,
        name_masked=receiver if receiver and "*" in receiver else None,
        unionid=text(buyer_info.get("union_id")),
    )
    return identity if identity != BuyerIdentity() else None


def map_full_order_info(
    info: dict[str, Any], *, shop_external_id: str, message_version: int | None = None
) -> OrderSnapshot:
    """A complete snapshot of one `full_order_info`. `message_version` is the push's `version` in
    seconds (None for API answers: the version is then `update_time` in milliseconds)."""
    order = _dict(info.get("order_info"))
    tid = text(order.get("tid"))
    if tid is None:
        raise MappingError("full_order_info without order_info.tid")
    status = map_status(order.get("status"))
    buyer_info = _dict(info.get("buyer_info"))
    pay = _dict(info.get("pay_info"))
    address = _dict(info.get("address_info"))
    tags = _dict(order.get("order_tags"))
    items = [item for item in info.get("orders") or [] if isinstance(item, dict)]
    lines = tuple(map_line(item) for item in items)

    updated_at = china_time(order.get("update_time"))
    if message_version is not None:
        version = int(message_version) * 1000
    else:
        version = epoch_ms(updated_at) or epoch_ms(china_time(order.get("created"))) or 0

    total = fen(pay.get("total_fee"))
    post_fee = fen(pay.get("post_fee"))
    payment = fen(pay.get("payment"))
    discount = None
    if total is not None and payment is not None:
        discount = max(0, total + (post_fee or 0) - payment)
    success_at = china_time(order.get("success_time"))
    return OrderSnapshot(
        platform=PLATFORM,
        shop_external_id=shop_external_id,
        external_id=tid,
        version=max(0, version),
        complete=True,
        status=status,
        platform_status=str(order.get("status")),
        refund_state=map_refund_state(order.get("refund_state")),
        created_at=china_time(order.get("created")),
        paid_at=china_time(order.get("pay_time")),
        shipped_at=china_time(order.get("consign_time")),
        received_at=china_time(order.get("confirm_time")) or success_at,
        # full_order_info has no close time; a closed trade's last update is its closing.
        closed_at=updated_at if status is OrderStatus.CLOSED else None,
        updated_at=updated_at,
        payment_fen=payment,
        total_fen=total,
        discount_fen=discount,
        post_fee_fen=post_fee,
        buyer=map_buyer(buyer_info, address),
        receiver_province=text(address.get("delivery_province")),
        receiver_city=text(address.get("delivery_city")),
        is_presale=truthy(tags.get("is_preorder")) or any(line.is_presale for line in lines),
        is_gift=_int(order.get("type")) == GIFT_ORDER_TYPE,
        lines=lines,
        raw=info,
    )


def _int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None
