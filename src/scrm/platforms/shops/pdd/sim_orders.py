"""How the simulated world's orders look through Pinduoduo: order JSON and PMC frames.

PDD lists paid orders only: an order never paid (open, or closed unpaid) is not shown and sends no
message. `order_status` follows shipping (1 unshipped, 2 shipped, 3 received) and `refund_status` is 4
once any refund succeeded. Amounts are rendered as JSON numbers in yuan (19.9), as PDD does in
places. Receiver name and phone come as ciphertext plus `*_mask` fields [S]; the buyer id field is
`open_buyer_id` by default [U: PDD documents none], configurable (None: no buyer id at all).
"""

from __future__ import annotations

import json
import zlib
from datetime import datetime
from typing import Any

from scrm.platforms.shops.pdd.mapping import CST
from scrm.platforms.shops.simulator.world import SimOrder, SimRefund

#: World carrier codes → PDD logistics company ids (illustrative values) [U].
LOGISTICS_IDS = {"SF": 44, "ZTO": 115, "YTO": 85, "JD": 120}
#: PMC frame ids are int64 beyond 2^53 (JavaScript-unsafe), as on PDD.
FRAME_ID_BASE = 7_300_000_000_000_000_000


def yuan(fen: int) -> float:
    return round(fen / 100, 2)


def cst(moment: datetime | None) -> str:
    return moment.astimezone(CST).strftime("%Y-%m-%d %H:%M:%S") if moment else ""


def ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def numeric_id(text: str, base: int) -> int:
    """PDD goods and SKU ids are numbers; the world's are codes. A stable number per code."""
    return base + zlib.crc32(text.encode()) % 1_000_000_000


def refund_id(refund: SimRefund) -> int:
    """PDD after-sales ids are numbers."""
    return numeric_id(refund.refund_id, 7_000_000_000)


def _cipher(text: str) -> str:
    """What PDD's encrypted receiver fields look like (opaque to the adapter)."""
    return f"~AgAAAA{zlib.crc32(text.encode()):08x}~"


def order_statuses(order: SimOrder) -> tuple[int, int] | None:
    """(order_status, refund_status), or None while PDD would not show the order (never paid)."""
    if order.paid_at is None:
        return None
    shipping = 3 if order.received_at else 2 if order.shipped_at else 1
    refunded = any(refund.status == "succeeded" for refund in order.refunds)
    return shipping, 4 if refunded else 1


def render(order: SimOrder, buyer_id_field: str | None = "open_buyer_id") -> dict[str, Any] | None:
    statuses = order_statuses(order)
    if statuses is None:
        return None
    order_status, refund_status = statuses
    person = order.person
    rendered: dict[str, Any] = {
        "order_sn": order.order_id,
        "order_status": order_status,
        "refund_status": refund_status,
        "after_sales_status": 10 if refund_status == 4 else 0,
        "confirm_status": 1,
        "group_status": 1,
        "is_lucky_flag": 1,
        "trade_type": 0,
        "risk_control_status": 0,
        "created_time": cst(order.created_at),
        "confirm_time": cst(order.paid_at),
        "pay_time": cst(order.paid_at),
        "shipping_time": cst(order.shipped_at),
        "receive_time": cst(order.received_at),
        "updated_at": cst(order.updated_at),
        "pay_amount": yuan(order.payment_fen),
        "goods_amount": yuan(order.goods_fen),
        "discount_amount": yuan(order.discount_fen),
        "platform_discount": 0,
        "seller_discount": yuan(order.discount_fen),
        "capital_free_discount": 0,
        "postage": yuan(order.post_fee_fen),
        "province": order.province,
        "city": order.city,
        "town": "",
        "receiver_name": _cipher(person.name),
        "receiver_name_mask": person.name[:1] + "*" * max(1, len(person.name) - 1),
        "receiver_phone": person.phone if order.reveal_phone else _cipher(person.phone),
        "receiver_phone_mask": f"{person.phone[:3]}****{person.phone[-4:]}",
        "receiver_address": _cipher(order.city),
        "tracking_number": order.tracking_no or "",
        "logistics_id": LOGISTICS_IDS.get(order.express_company or "", 0) if order.tracking_no else 0,
        "is_pre_sale": 1 if order.is_presale else 0,
        "pre_sale_time": cst(order.presale_ship_at),
        "item_list": [
            {
                "goods_id": numeric_id(line.item_id, 100_000_000_000),
                "goods_name": line.title,
                "sku_id": numeric_id(line.sku_id, 1_000_000_000_000),
                "outer_id": line.sku_id,
                "outer_goods_id": line.item_id,
                "goods_count": line.quantity,
                "goods_price": yuan(line.price_fen),
                "goods_spec": "默认",
            }
            for line in order.lines
        ],
    }
    if buyer_id_field:
        rendered[buyer_id_field] = order.buyer_account
    return rendered


def mall_number(mall_id: str) -> int | str:
    return int(mall_id) if mall_id.isdigit() else mall_id


def frame(frame_id: int, topic: str, mall_id: str, content: dict[str, Any], at: datetime, now_ms: int) -> str:
    """One PMC data frame as the WebSocket sends it (text)."""
    body = {
        "id": frame_id,
        "commandType": "Common",
        "time": ms(at),
        "sendTime": now_ms,
        "message": {
            "type": topic,
            "mallID": mall_number(mall_id),
            "content": json.dumps(content, ensure_ascii=False, separators=(",", ":")),
        },
    }
    return json.dumps(body, ensure_ascii=False, separators=(",", ":"))


def trade_content(order: SimOrder, mall_id: str) -> dict[str, Any]:
    return {"mall_id": mall_number(mall_id), "tid": order.order_id}


def refund_content(order: SimOrder, refund: SimRefund, mall_id: str) -> dict[str, Any]:
    return {
        "mall_id": mall_number(mall_id),
        "tid": order.order_id,
        "refund_id": refund_id(refund),
        "refund_fee": refund.amount_fen,  # fen [S]
        "bill_type": 1,
        "operation": 1000,
        "modified": ms(refund.updated_at),
    }
