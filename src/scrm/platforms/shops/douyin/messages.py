"""One stored Douyin push element `{"tag", "msg_id", "data"}` → `MappedMessage` (§8.1). Pure.

- Order tags (100 created, 101 paid, 102 shipped, 103 finished, 106 cancelled) carry ids, a status
  and a time: a partial snapshot and the order id (`p_id`) in `fetch_orders`.
- After-sales tags 200-207 carry the after-sales request: a `RefundSnapshot`; a refund that
  succeeded (206) also lists the order, whose amounts and status changed.
- Tag 0 (the console's verification message) and every other tag: `ignored_reason`.

`version` is the event's own time (update/pay/ship/complete/cancel/apply time) in milliseconds.
"""

from __future__ import annotations

import json
from typing import Any

from scrm.platforms.shops.adapter import MappedMessage
from scrm.platforms.shops.canonical import OrderSnapshot, OrderStatus, RefundSnapshot, RefundStatus
from scrm.platforms.shops.douyin.mapping import PLATFORM, STATUS_MAP, MappingError, epoch, text

TEST_TAG = "0"
ORDER_TAGS: dict[str, tuple[OrderStatus, str]] = {
    "100": (OrderStatus.CREATED, "created_at"),
    "101": (OrderStatus.PAID, "paid_at"),
    "102": (OrderStatus.SHIPPED, "shipped_at"),
    "103": (OrderStatus.COMPLETED, "received_at"),
    "106": (OrderStatus.CLOSED, "closed_at"),
}
#: The time field each order tag's data carries, best first.
ORDER_TIME_FIELDS: dict[str, tuple[str, ...]] = {
    "100": ("create_time", "update_time"),
    "101": ("pay_time", "update_time"),
    "102": ("update_time", "ship_time"),
    "103": ("complete_time", "update_time", "finish_time"),
    "106": ("cancel_time", "update_time"),
}
REFUND_TAGS: dict[str, RefundStatus] = {
    "200": RefundStatus.REQUESTED,  # 买家发起售后
    "201": RefundStatus.AGREED,  # 同意退款
    "202": RefundStatus.AGREED,  # 同意退货申请
    "203": RefundStatus.RETURNING,  # 买家退货给卖家
    "204": RefundStatus.REFUSED,  # 拒绝退款
    "205": RefundStatus.REFUSED,  # 拒绝退货申请
    "206": RefundStatus.SUCCEEDED,  # 退款成功
    "207": RefundStatus.CLOSED,  # 售后关闭
}
#: aftersale_type: 0 return and refund, 1 refund only (shipped), 2 refund only (not shipped), 3 exchange.
REFUND_TYPES = {0: "return_and_refund", 1: "refund_only", 2: "refund_only", 3: "exchange"}


def decode_data(value: Any) -> dict[str, Any]:
    """`data` is a JSON string (an object is accepted too). Raises MappingError otherwise."""
    if isinstance(value, dict):
        return value
    if isinstance(value, str):
        try:
            decoded = json.loads(value)
        except ValueError as exc:
            raise MappingError("data is not JSON") from exc
        if isinstance(decoded, dict):
            return decoded
    raise MappingError("data is not a JSON object")


def _ms(data: dict[str, Any], fields: tuple[str, ...]) -> int:
    for name in fields:
        moment = epoch(data.get(name))
        if moment is not None:
            return int(moment.timestamp() * 1000)
    return 0


def _int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _order(tag: str, element: dict[str, Any], data: dict[str, Any], shop: str) -> MappedMessage:
    order_id = text(data.get("p_id"))
    if order_id is None:
        raise MappingError(f"tag {tag} without p_id")
    status, time_field = ORDER_TAGS[tag]
    raw_status = _int(data.get("order_status"))
    # The order's own status wins over the tag's meaning when it is one we know.
    known = STATUS_MAP.get(raw_status) if raw_status is not None else None
    at = epoch(next((data[name] for name in ORDER_TIME_FIELDS[tag] if data.get(name)), None))
    times = {time_field: at} if at is not None else {}
    snapshot = OrderSnapshot(
        platform=PLATFORM,
        shop_external_id=shop,
        external_id=order_id,
        version=_ms(data, ORDER_TIME_FIELDS[tag]),
        complete=False,
        status=known or status,
        platform_status=str(raw_status) if raw_status is not None else f"tag:{tag}",
        updated_at=epoch(data.get("update_time")) or at,
        payment_fen=_int(data.get("pay_amount")),
        raw=element,
        **times,
    )
    return MappedMessage(orders=[snapshot], fetch_orders=[order_id])


def _refund(tag: str, element: dict[str, Any], data: dict[str, Any], shop: str) -> MappedMessage:
    refund_id = text(data.get("aftersale_id"))
    order_id = text(data.get("p_id"))
    if refund_id is None or order_id is None:
        raise MappingError(f"tag {tag} without aftersale_id or p_id")
    amount = _int(data.get("refund_amount"))
    post = _int(data.get("refund_post_amount"))
    line = text(data.get("s_id"))
    status = REFUND_TAGS[tag]
    aftersale_type = _int(data.get("aftersale_type"))
    times = ("update_time", "success_time", "apply_time", "create_time")
    refund = RefundSnapshot(
        platform=PLATFORM,
        shop_external_id=shop,
        external_id=refund_id,
        order_external_id=order_id,
        version=_ms(data, times),
        status=status,
        platform_status=text(data.get("aftersale_status")) or f"tag:{tag}",
        amount_fen=None if amount is None else amount + (post or 0),
        line_external_ids=(line,) if line else (),
        refund_type=REFUND_TYPES.get(aftersale_type) if aftersale_type is not None else None,
        reason=text(data.get("reason")) or text(data.get("reason_code")),
        created_at=epoch(data.get("apply_time")),
        updated_at=epoch(data.get("update_time")) or epoch(data.get("success_time")),
        raw=element,
    )
    return MappedMessage(
        refunds=[refund], fetch_orders=[order_id] if status is RefundStatus.SUCCEEDED else []
    )


def map_message(raw: str, shop_external_id: str) -> MappedMessage:
    """What one stored push element means. Raises MappingError for a known tag that lacks what it
    needs; unknown tags and the verification message are ignored, not errors."""
    try:
        element = json.loads(raw)
    except ValueError as exc:
        raise MappingError("message is not JSON") from exc
    if not isinstance(element, dict):
        raise MappingError("message is not a JSON object")
    tag = str(element.get("tag", "")).strip()
    if tag == TEST_TAG:
        return MappedMessage(ignored_reason="verification message")
    if tag in ORDER_TAGS:
        return _order(tag, element, decode_data(element.get("data")), shop_external_id)
    if tag in REFUND_TAGS:
        return _refund(tag, element, decode_data(element.get("data")), shop_external_id)
    return MappedMessage(ignored_reason=f"tag {tag or '(none)'} is not handled")
