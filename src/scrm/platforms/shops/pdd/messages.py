"""PMC message frames → `MappedMessage`. Pure.

A stored message is one PMC data frame as received (§8.3 [S]):
`{"id": <int64>, "commandType": "Common", "time": <ms>, "sendTime": <ms>,
  "message": {"type": "pdd_trade_TradeConfirmed", "mallID": <int>, "content": "<JSON string>"}}`.

- Trade topics carry only the order number (`tid`) and mall: a partial snapshot with the status the
  topic implies (TradeConfirmed → paid, TradeSellerShip → shipped, TradeSuccess → completed) and the
  order listed in `fetch_orders` for its details. Their `version` is the message's `modified`, else
  its `time`, floored to the second so that it compares equal to the order's own `updated_at`
  (second resolution) instead of looking newer than the full order fetched after it.
- Refund topics (RefundCreated → requested, RefundAgreeAgreement → agreed, RefundClosed → closed) give
  a `RefundSnapshot`: `refund_id`, `tid`, `refund_fee` (taken as fen: the example's 1990 is a
  plausible ¥19.90 and PMC amounts are integers [S]), `modified` (ms) as version; the order is
  fetched too, its `refund_status` says whether money went back.
- TradeLogisticsAddressChanged / TradeRiskChanged: only a fetch. Heartbeats and other topics are
  ignored with a reason. A message of another mall is ignored too.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from scrm.platforms.shops.adapter import MappedMessage
from scrm.platforms.shops.canonical import OrderSnapshot, OrderStatus, RefundSnapshot, RefundStatus
from scrm.platforms.shops.pdd.mapping import PLATFORM, PddMappingError

TRADE_TOPICS: dict[str, OrderStatus] = {
    "pdd_trade_TradeConfirmed": OrderStatus.PAID,
    "pdd_trade_TradeSellerShip": OrderStatus.SHIPPED,
    "pdd_trade_TradeSuccess": OrderStatus.COMPLETED,
}
REFUND_TOPICS: dict[str, RefundStatus] = {
    "pdd_refund_RefundCreated": RefundStatus.REQUESTED,
    "pdd_refund_RefundAgreeAgreement": RefundStatus.AGREED,
    "pdd_refund_RefundClosed": RefundStatus.CLOSED,
}
FETCH_ONLY_TOPICS = frozenset({"pdd_trade_TradeLogisticsAddressChanged", "pdd_trade_TradeRiskChanged"})


def parse_frame(raw: str) -> dict[str, Any]:
    try:
        frame = json.loads(raw)
    except ValueError as error:
        raise PddMappingError("the message is not JSON") from error
    if not isinstance(frame, dict):
        raise PddMappingError("the message is not a JSON object")
    return frame


def _content(message: dict[str, Any]) -> dict[str, Any]:
    content = message.get("content")
    if isinstance(content, str):
        try:
            content = json.loads(content) if content.strip() else {}
        except ValueError as error:
            raise PddMappingError("message content is not JSON") from error
    if not isinstance(content, dict):
        raise PddMappingError("message content is not a JSON object")
    return content


def _ms(*candidates: Any) -> int | None:
    for value in candidates:
        try:
            number = int(value)
        except (TypeError, ValueError):
            continue
        if number > 0:
            return number
    return None


def map_message(raw: str, shop_external_id: str) -> MappedMessage:
    """One stored PMC frame → snapshots and orders to fetch; raises `PddMappingError` when a
    known topic lacks its order number (or the frame is not JSON)."""
    frame = parse_frame(raw)
    if frame.get("commandType") not in (None, "Common"):
        return MappedMessage(ignored_reason=f"pmc {frame.get('commandType')} frame")
    message = frame.get("message")
    if not isinstance(message, dict):
        raise PddMappingError("frame without message")
    topic = str(message.get("type") or "")
    if topic not in TRADE_TOPICS and topic not in REFUND_TOPICS and topic not in FETCH_ONLY_TOPICS:
        return MappedMessage(ignored_reason=f"pdd topic {topic or '?'} is not used")
    content = _content(message)
    mall = message.get("mallID", content.get("mall_id"))
    if mall is not None and str(mall) != str(shop_external_id):
        return MappedMessage(ignored_reason=f"message of mall {mall}, not {shop_external_id}")
    tid = str(content.get("tid") or "").strip()
    if not tid:
        raise PddMappingError(f"{topic} without tid")
    if topic in FETCH_ONLY_TOPICS:
        return MappedMessage(fetch_orders=[tid])
    if topic in REFUND_TOPICS:
        return MappedMessage(
            refunds=[_refund(frame, topic, content, tid, shop_external_id)], fetch_orders=[tid]
        )
    stamp = _ms(content.get("modified"), frame.get("time"), frame.get("sendTime"))
    if stamp is None:
        raise PddMappingError(f"{topic} for {tid} carries no time")
    version = stamp // 1000 * 1000
    snapshot = OrderSnapshot(
        platform=PLATFORM,
        shop_external_id=shop_external_id,
        external_id=tid,
        version=version,
        complete=False,
        status=TRADE_TOPICS[topic],
        platform_status=topic,
        updated_at=datetime.fromtimestamp(version / 1000, UTC),
        raw=frame,
    )
    return MappedMessage(orders=[snapshot], fetch_orders=[tid])


def _refund(
    frame: dict[str, Any], topic: str, content: dict[str, Any], tid: str, shop_external_id: str
) -> RefundSnapshot:
    refund_id = str(content.get("refund_id") or "").strip()
    if not refund_id:
        raise PddMappingError(f"{topic} for {tid} without refund_id")
    stamp = _ms(content.get("modified"), frame.get("time"), frame.get("sendTime")) or 0
    fee = content.get("refund_fee")
    return RefundSnapshot(
        platform=PLATFORM,
        shop_external_id=shop_external_id,
        external_id=refund_id,
        order_external_id=tid,
        version=stamp,
        status=REFUND_TOPICS[topic],
        platform_status=topic,
        amount_fen=int(fee) if fee not in (None, "") else None,
        updated_at=datetime.fromtimestamp(stamp / 1000, UTC) if stamp else None,
        raw=frame,
    )
