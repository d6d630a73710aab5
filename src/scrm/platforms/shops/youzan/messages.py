"""One stored Youzan push message → `MappedMessage` (platform-protocols.md §6.2). Pure.

- trade_TradeCreate / TradePaid / TradeBuyerPay carry `full_order_info` in the URL-encoded `msg`:
  a complete snapshot, `version` = message version × 1000.
- trade_TradeSellerShip / TradePartlySellerShip / TradeSuccess / TradeClose and the legacy
  TRADE_ORDER_STATE carry a status and a time only: a partial snapshot, and the tid in
  `fetch_orders` so the full order is read (Youzan asks to wait ≥30 s; the caller schedules it).
- refund messages, legacy `trade_refund_*` (URL-encoded msg) and new `youzan_trade_Refund*` (msg
  object): a `RefundSnapshot`; a refund that succeeded also lists the tid (the order changed).
- test messages and every other type: `ignored_reason`.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import unquote

from scrm.platforms.shops.adapter import MappedMessage
from scrm.platforms.shops.canonical import OrderSnapshot, OrderStatus, RefundSnapshot, RefundStatus
from scrm.platforms.shops.youzan.mapping import (
    PLATFORM,
    STATUS_MAP,
    MappingError,
    map_full_order_info,
)
from scrm.platforms.shops.youzan.values import china_time, epoch_ms, fen, text

FULL_ORDER_TYPES = frozenset({"trade_TradeCreate", "trade_TradePaid", "trade_TradeBuyerPay"})
#: Partial trade messages: the canonical status and the Youzan status they stand for.
PARTIAL_TYPES: dict[str, tuple[OrderStatus, str]] = {
    "trade_TradeSellerShip": (OrderStatus.SHIPPED, "WAIT_BUYER_CONFIRM_GOODS"),
    # Part of the goods left: the trade itself still waits for the rest to be sent.
    "trade_TradePartlySellerShip": (OrderStatus.PAID, "WAIT_SELLER_SEND_GOODS"),
    "trade_TradeSuccess": (OrderStatus.COMPLETED, "TRADE_SUCCESS"),
    "trade_TradeClose": (OrderStatus.CLOSED, "TRADE_CLOSED"),
}
LEGACY_STATE_TYPE = "TRADE_ORDER_STATE"

REFUND_STATUS_BY_TYPE: dict[str, RefundStatus] = {
    "trade_refund_BuyerCreated": RefundStatus.REQUESTED,
    "trade_refund_RefundAgain": RefundStatus.REQUESTED,
    "trade_refund_RefundSellerCreated": RefundStatus.REQUESTED,
    "trade_refund_RefundSellerAgree": RefundStatus.AGREED,
    "trade_refund_RefundSellerAgreeReturnGoods": RefundStatus.AGREED,
    "trade_refund_RefundSuccess": RefundStatus.SUCCEEDED,
    "trade_refund_SysRefund": RefundStatus.SUCCEEDED,
    "trade_refund_RefundClosed": RefundStatus.CLOSED,
    "youzan_trade_RefundCreated": RefundStatus.REQUESTED,
    "youzan_trade_RefundSellerAgree": RefundStatus.AGREED,
    "youzan_trade_RefundSuccess": RefundStatus.SUCCEEDED,
    "youzan_trade_RefundClosed": RefundStatus.CLOSED,
}
REFUND_TYPES: dict[str, str] = {
    "REFUND_ONLY": "refund_only",
    "REFUND_AND_RETURN": "return_and_refund",
    "EXCHANGE_GOODS_FLOW": "exchange",
    "EXCHANGE_GOODS": "exchange",
}


def decode_msg(value: Any) -> dict[str, Any]:
    """`msg` as an object: trade_* messages URL-encode a JSON string (UTF-8), new refund messages
    send the object itself. Raises MappingError when it is neither."""
    if isinstance(value, dict):
        return value
    if not isinstance(value, str) or not value.strip():
        return {}
    for candidate in (unquote(value), value):
        try:
            decoded = json.loads(candidate)
        except ValueError:
            continue
        if isinstance(decoded, dict):
            return decoded
    raise MappingError("msg is neither a JSON object nor URL-encoded JSON")


def _version_seconds(envelope: dict[str, Any]) -> int | None:
    try:
        return int(envelope["version"])
    except (KeyError, TypeError, ValueError):
        return None


def _version_ms(envelope: dict[str, Any], *fallbacks: Any) -> int:
    seconds = _version_seconds(envelope)
    if seconds is not None:
        return max(0, seconds * 1000)
    for value in fallbacks:
        ms = epoch_ms(china_time(value))
        if ms is not None:
            return ms
    return 0


def _partial(
    envelope: dict[str, Any], msg: dict[str, Any], shop: str, status: OrderStatus, platform_status: str
) -> MappedMessage:
    tid = text(msg.get("tid")) or text(envelope.get("id"))
    if tid is None:
        raise MappingError(f"{envelope.get('type')} without a tid")
    at = china_time(msg.get("update_time"))
    snapshot = OrderSnapshot(
        platform=PLATFORM,
        shop_external_id=shop,
        external_id=tid,
        version=_version_ms(envelope, msg.get("update_time")),
        complete=False,
        status=status,
        platform_status=platform_status,
        updated_at=at,
        shipped_at=at if status is OrderStatus.SHIPPED else None,
        received_at=at if status is OrderStatus.COMPLETED else None,
        closed_at=at if status is OrderStatus.CLOSED else None,
        payment_fen=fen(msg.get("payment")),
        raw=envelope,
    )
    return MappedMessage(orders=[snapshot], fetch_orders=[tid])


def _refund(envelope: dict[str, Any], msg: dict[str, Any], shop: str, status: RefundStatus) -> MappedMessage:
    # The envelope's `id` of a refund message is not reliably the tid: only msg.tid counts.
    tid = text(msg.get("tid"))
    refund_id = text(msg.get("refund_id"))
    if tid is None or refund_id is None:
        return MappedMessage(ignored_reason=f"{envelope.get('type')} without tid or refund_id")
    oids = msg.get("oids") if msg.get("oids") is not None else msg.get("oid")
    if isinstance(oids, list):
        line_ids = tuple(str(oid) for oid in oids if text(oid))
    else:
        line_ids = tuple(part.strip() for part in str(oids or "").split(",") if part.strip())
    refund_type = text(msg.get("refund_type"))
    refund = RefundSnapshot(
        platform=PLATFORM,
        shop_external_id=shop,
        external_id=refund_id,
        order_external_id=tid,
        version=_version_ms(envelope, msg.get("update_time")),
        status=status,
        platform_status=str(envelope.get("type")),
        amount_fen=fen(msg.get("refunded_fee")),
        line_external_ids=line_ids,
        refund_type=REFUND_TYPES.get(refund_type.upper(), refund_type.lower()) if refund_type else None,
        reason=text(msg.get("refund_reason")),
        created_at=china_time(msg.get("created")),
        updated_at=china_time(msg.get("update_time")),
        raw=envelope,
    )
    fetch = [tid] if status is RefundStatus.SUCCEEDED else []
    return MappedMessage(refunds=[refund], fetch_orders=fetch)


def map_message(raw: str, shop_external_id: str) -> MappedMessage:
    """What one stored Youzan push means. Raises MappingError for a known type that lacks what it
    needs (a tid, a parseable msg); unknown types and test messages are ignored, not errors."""
    try:
        envelope = json.loads(raw)
    except ValueError as exc:
        raise MappingError("message is not JSON") from exc
    if not isinstance(envelope, dict):
        raise MappingError("message is not a JSON object")
    kind = str(envelope.get("type") or "")
    if envelope.get("test") is True:
        return MappedMessage(ignored_reason="test message")
    if kind in FULL_ORDER_TYPES:
        msg = decode_msg(envelope.get("msg"))
        nested = msg.get("full_order_info")
        info: dict[str, Any] = nested if isinstance(nested, dict) else msg
        if not isinstance(info.get("order_info"), dict):
            tid = text(msg.get("tid")) or text(envelope.get("id"))
            if tid is None:
                raise MappingError(f"{kind} without full_order_info or tid")
            return MappedMessage(fetch_orders=[tid])
        snapshot = map_full_order_info(
            info, shop_external_id=shop_external_id, message_version=_version_seconds(envelope)
        )
        return MappedMessage(orders=[snapshot.model_copy(update={"raw": envelope})])
    if kind in PARTIAL_TYPES:
        status, platform_status = PARTIAL_TYPES[kind]
        return _partial(envelope, decode_msg(envelope.get("msg")), shop_external_id, status, platform_status)
    if kind == LEGACY_STATE_TYPE:
        msg = decode_msg(envelope.get("msg"))
        raw_status = str(msg.get("status") or envelope.get("status") or "")
        legacy_status = STATUS_MAP.get(raw_status)
        if legacy_status is None:
            return MappedMessage(ignored_reason=f"{kind} with unknown status {raw_status!r}")
        return _partial(envelope, msg, shop_external_id, legacy_status, raw_status)
    if kind in REFUND_STATUS_BY_TYPE:
        return _refund(
            envelope, decode_msg(envelope.get("msg")), shop_external_id, REFUND_STATUS_BY_TYPE[kind]
        )
    return MappedMessage(ignored_reason=f"message type {kind or '(none)'} is not handled")
