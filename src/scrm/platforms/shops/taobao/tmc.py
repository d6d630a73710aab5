"""TMC (消息服务) messages → `MappedMessage`. Pure.

A message is `{id, topic, content, pub_time, pub_app_key, user_id, user_nick}` with `content` a JSON
string (platform-protocols.md §7.4). Trade topics carry only the trade's id, status and a few amounts,
so they give a partial snapshot (`complete=False`) and ask for the trade (`fetch_orders`). Refund
topics give a `RefundSnapshot` (status from the topic, `refund_fee`) and ask for the trade too, since
a refund changes the order's refund state. The version is `content.modified` when present, else
`pub_time`, in epoch milliseconds.
"""

from __future__ import annotations

import json
from typing import Any

from scrm.platforms.shops.adapter import MappedMessage
from scrm.platforms.shops.canonical import OrderSnapshot, OrderStatus, RefundSnapshot, RefundStatus
from scrm.platforms.shops.taobao.mapping import (
    PLATFORM,
    TRADE_STATUS,
    MappingError,
    buyer_identity,
    epoch_ms,
    fen,
    parse_time,
)

#: Topic → (canonical status, the TOP status it implies when the content has none).
TRADE_TOPICS: dict[str, tuple[OrderStatus, str]] = {
    "taobao_trade_TradeCreate": (OrderStatus.CREATED, "WAIT_BUYER_PAY"),
    "taobao_trade_TradeBuyerPay": (OrderStatus.PAID, "WAIT_SELLER_SEND_GOODS"),
    "taobao_trade_TradeSellerShip": (OrderStatus.SHIPPED, "WAIT_BUYER_CONFIRM_GOODS"),
    "taobao_trade_TradeSuccess": (OrderStatus.COMPLETED, "TRADE_FINISHED"),
    "taobao_trade_TradeClose": (OrderStatus.CLOSED, "TRADE_CLOSED"),
}
#: Trade topics that change the trade without a status of their own: fetch it.
FETCH_TRADE_TOPICS = frozenset(
    {
        "taobao_trade_TradePartlyRefund",
        "taobao_trade_TradePartlySellerShip",
        "taobao_trade_TradeChanged",
        "taobao_trade_TradeModifyFee",
        "taobao_trade_TradeCloseAndModifyDetailOrder",
        "taobao_trade_TradeLogisticsAddressChanged",
    }
)
REFUND_TOPICS: dict[str, tuple[RefundStatus, str]] = {
    "taobao_refund_RefundCreated": (RefundStatus.REQUESTED, "WAIT_SELLER_AGREE"),
    "taobao_refund_RefundSellerAgreeAgreement": (RefundStatus.AGREED, "WAIT_BUYER_RETURN_GOODS"),
    "taobao_refund_RefundBuyerReturnGoods": (RefundStatus.RETURNING, "WAIT_SELLER_CONFIRM_GOODS"),
    "taobao_refund_RefundSellerRefuseAgreement": (RefundStatus.REFUSED, "SELLER_REFUSE_BUYER"),
    "taobao_refund_RefundSuccess": (RefundStatus.SUCCEEDED, "SUCCESS"),
    "taobao_refund_RefundClosed": (RefundStatus.CLOSED, "CLOSED"),
}
#: What `taobao.tmc.user.permit` asks for: every topic mapped here.
TOPICS = (*TRADE_TOPICS, *sorted(FETCH_TRADE_TOPICS), *REFUND_TOPICS)


def _load(raw: str) -> tuple[dict[str, Any], dict[str, Any]]:
    try:
        message = json.loads(raw)
    except ValueError as error:
        raise MappingError("TMC message is not JSON") from error
    if not isinstance(message, dict):
        raise MappingError("TMC message is not an object")
    content: Any = message.get("content") or {}
    if isinstance(content, str):
        try:
            content = json.loads(content)
        except ValueError as error:
            raise MappingError("TMC message content is not JSON") from error
    if not isinstance(content, dict):
        raise MappingError("TMC message content is not an object")
    return message, content


def _version(message: dict[str, Any], content: dict[str, Any]) -> int:
    moment = parse_time(content.get("modified")) or parse_time(message.get("pub_time"))
    if moment is None:
        raise MappingError(f"TMC message {message.get('id')} has neither modified nor pub_time")
    return epoch_ms(moment)


def _tid(content: dict[str, Any]) -> str:
    tid = content.get("tid_str") or content.get("tid")
    if tid is None or tid == "":
        raise MappingError("TMC message without tid")
    return str(tid)


def map_message(raw: str, shop_external_id: str) -> MappedMessage:
    """One TMC message (as consumed) → snapshots; ignored (with the reason) for other sellers'
    messages and topics this adapter does not handle. Raises `MappingError` on a malformed one."""
    message, content = _load(raw)
    topic = str(message.get("topic") or "")
    user_id = message.get("user_id")
    if user_id not in (None, "") and str(user_id) != shop_external_id:
        return MappedMessage(ignored_reason=f"message for seller {user_id}, not {shop_external_id}")
    if topic in TRADE_TOPICS:
        return _trade_message(topic, message, content, shop_external_id)
    if topic in FETCH_TRADE_TOPICS:
        return MappedMessage(fetch_orders=[_tid(content)])
    if topic in REFUND_TOPICS:
        return _refund_message(topic, message, content, shop_external_id)
    return MappedMessage(ignored_reason=f"topic {topic or '?'} not handled")


def _trade_message(
    topic: str, message: dict[str, Any], content: dict[str, Any], shop_external_id: str
) -> MappedMessage:
    tid = _tid(content)
    status, implied = TRADE_TOPICS[topic]
    raw_status = str(content.get("status") or implied)
    # the content's own status is the more precise one (e.g. TRADE_CLOSED_BY_TAOBAO)
    status = TRADE_STATUS.get(raw_status, status)
    snapshot = OrderSnapshot(
        platform=PLATFORM,
        shop_external_id=shop_external_id,
        external_id=tid,
        version=_version(message, content),
        complete=False,
        status=status,
        platform_status=raw_status,
        updated_at=parse_time(content.get("modified")) or parse_time(message.get("pub_time")),
        payment_fen=fen(content.get("payment")),
        post_fee_fen=fen(content.get("post_fee")),
        buyer=buyer_identity(content),
        is_presale=(content.get("type") == "step") if content.get("type") else None,
        raw=message,
    )
    return MappedMessage(orders=[snapshot], fetch_orders=[tid])


def _refund_message(
    topic: str, message: dict[str, Any], content: dict[str, Any], shop_external_id: str
) -> MappedMessage:
    tid = _tid(content)
    refund_id = content.get("refund_id")
    if refund_id is None or refund_id == "":
        raise MappingError(f"{topic} without refund_id")
    status, raw_status = REFUND_TOPICS[topic]
    oid = content.get("oid")
    refund = RefundSnapshot(
        platform=PLATFORM,
        shop_external_id=shop_external_id,
        external_id=str(refund_id),
        order_external_id=tid,
        version=_version(message, content),
        status=status,
        platform_status=raw_status,
        amount_fen=fen(content.get("refund_fee")),
        line_external_ids=(str(oid),) if oid not in (None, "") else (),
        reason=str(content["reason"]) if content.get("reason") else None,
        updated_at=parse_time(content.get("modified")) or parse_time(message.get("pub_time")),
        raw=message,
    )
    return MappedMessage(refunds=[refund], fetch_orders=[tid])
