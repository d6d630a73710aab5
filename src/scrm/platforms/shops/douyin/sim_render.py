"""The simulated world's orders in Douyin shop JSON: `shop_order_detail` and push batches.

Shapes follow order.orderDetail as mirrored by the official Go SDK [S] and the push tags of
platform-protocols.md §8.1. Ids Douyin gives as int64 are numbers when the world's ids are numeric;
product and SKU ids are derived numbers (the world's SKU codes appear as `out_sku_id`/`code`).
Receiver fields are rendered the way a shop without decryption rights sees them: ciphertext in
`post_*`/`encrypt_post_*` and masked copies in `mask_post_*`.
"""

from __future__ import annotations

import hashlib
import json
import uuid
import zlib
from typing import Any

from scrm.platforms.shops.douyin.signing import event_sign
from scrm.platforms.shops.simulator.runtime import SimShop
from scrm.platforms.shops.simulator.world import SimOrder, SimRefund, SimStatus

STATUS: dict[str, int] = {
    SimStatus.CREATED: 1,
    SimStatus.PAID: 2,
    SimStatus.SHIPPED: 3,
    SimStatus.RECEIVED: 5,
    SimStatus.CLOSED: 4,
}
STATUS_DESC = {
    1: "待支付",
    105: "已支付",
    2: "备货中",
    101: "部分发货",
    3: "已发货",
    4: "已取消",
    5: "已完成",
}
EXPRESS = {
    "SF": ("shunfeng", "顺丰速运"),
    "ZTO": ("zhongtong", "中通快递"),
    "YTO": ("yuantong", "圆通速递"),
    "JD": ("jingdong", "京东物流"),
}


def number_or_text(value: str) -> int | str:
    return int(value) if value.isdigit() and len(value) < 19 else value


def derived_id(text: str) -> int:
    """A stable int64-looking id for a world code (product, SKU)."""
    return 3_000_000_000_000_000_000 + zlib.crc32(text.encode())


def cipher(kind: str, value: str) -> str:
    """A stand-in for Douyin's ciphertext: stable per value, never the value itself."""
    digest = hashlib.sha256(f"{kind}:{value}".encode()).hexdigest()[:40]
    return f"#{digest}#"


def mask_phone(phone: str) -> str:
    return f"{phone[:3]}****{phone[-4:]}" if len(phone) >= 7 else "****"


def mask_name(name: str) -> str:
    return name[:1] + "*" * max(1, len(name) - 1)


def _epoch(value: Any) -> int:
    return int(value.timestamp()) if value is not None else 0


def _main_status(order: SimOrder) -> int:
    if order.status == SimStatus.CLOSED and order.paid_at is not None:  # refunded in full
        if order.received_at is not None:
            return 39
        return 22 if order.shipped_at is not None else 21
    return STATUS[order.status]


def _refund_of(order: SimOrder, line_id: str) -> SimRefund | None:
    return next((refund for refund in order.refunds if line_id in refund.line_ids), None)


def _region(code: str, name: str) -> dict[str, str]:
    return {"name": name, "id": str(zlib.crc32(f"{code}:{name}".encode()) % 1_000_000)}


def shop_order_detail(order: SimOrder, shop: SimShop) -> dict[str, Any]:
    status = STATUS[order.status]
    person = order.person
    address = {
        "province": _region("p", order.province),
        "city": _region("c", order.city),
        "town": {"name": "", "id": ""},
        "street": {"name": "", "id": ""},
        "detail": cipher("addr", order.order_id),
        "encrypt_detail": cipher("addr", order.order_id),
    }
    lines = []
    for line in order.lines:
        refund = _refund_of(order, line.line_id)
        after_sale = {"after_sale_status": 0, "after_sale_type": 0, "refund_status": 0}
        if refund is not None:
            shipped = order.shipped_at is not None and order.shipped_at <= refund.created_at
            after_sale = {"after_sale_status": 12, "after_sale_type": 1 if shipped else 2, "refund_status": 3}
        lines.append(
            {
                "order_id": line.line_id,
                "parent_order_id": order.order_id,
                "order_level": 3,
                "order_status": status,
                "order_status_desc": STATUS_DESC[status],
                "product_id": derived_id(line.item_id),
                "product_id_str": str(derived_id(line.item_id)),
                "product_name": line.title,
                "sku_id": derived_id(line.sku_id),
                "out_sku_id": line.sku_id,
                "code": line.sku_id,
                "spec": [{"name": "规格", "value": line.title}],
                "item_num": line.quantity,
                "origin_amount": line.price_fen,
                "sum_amount": line.price_fen * line.quantity,
                "pay_amount": line.payment_fen,
                "promotion_amount": line.discount_fen,
                "post_amount": 0,
                "pre_sale_type": 1 if line.is_presale else 0,
                "given_product_type": "FREE" if line.is_gift else "",
                "after_sale_info": after_sale,
                "create_time": _epoch(order.created_at),
                "pay_time": _epoch(order.paid_at),
                "update_time": _epoch(order.updated_at),
            }
        )
    logistics = []
    if order.tracking_no:
        code, name = EXPRESS.get(order.express_company or "", ("other", order.express_company or ""))
        logistics.append(
            {
                "tracking_no": order.tracking_no,
                "company": code,
                "company_name": name,
                "ship_time": _epoch(order.shipped_at),
                "delivery_id": f"D{order.order_id}",
                "product_info": [
                    {"sku_order_id": line.line_id, "product_name": line.title, "product_count": line.quantity}
                    for line in order.lines
                ],
            }
        )
    expected_ship = order.presale_ship_at or (order.paid_at or order.created_at)
    return {
        "shop_id": number_or_text(shop.shop_id),
        "shop_name": shop.name,
        "order_id": order.order_id,
        "order_level": 2,
        "biz": 2,
        "order_type": 0,
        "order_status": status,
        "order_status_desc": STATUS_DESC[status],
        "main_status": _main_status(order),
        "create_time": _epoch(order.created_at),
        "pay_time": _epoch(order.paid_at),
        "ship_time": _epoch(order.shipped_at),
        "finish_time": _epoch(order.received_at or order.closed_at),
        "update_time": _epoch(order.updated_at),
        "exp_ship_time": _epoch(expected_ship) + (0 if order.presale_ship_at else 2 * 86400),
        "pay_type": 1 if order.paid_at else 0,
        "order_amount": order.goods_fen + order.post_fee_fen,
        "pay_amount": order.payment_fen,
        "post_amount": order.post_fee_fen,
        "promotion_amount": order.goods_fen + order.post_fee_fen - order.payment_fen,
        "doudian_open_id": order.buyer_account,
        "post_receiver": cipher("name", person.name),
        "encrypt_post_receiver": cipher("name", person.name),
        "post_tel": person.phone if order.reveal_phone else cipher("tel", person.phone),
        "encrypt_post_tel": cipher("tel", person.phone),
        "post_addr": address,
        "mask_post_receiver": mask_name(person.name),
        "mask_post_tel": mask_phone(person.phone),
        "mask_post_addr": {**address, "detail": "****"},
        "buyer_words": "",
        "seller_words": "",
        "logistics_info": logistics,
        "sku_order_list": lines,
    }


def _element(tag: int, data: dict[str, Any]) -> dict[str, Any]:
    return {
        "tag": str(tag),
        "msg_id": uuid.uuid4().hex,
        "data": json.dumps(data, ensure_ascii=False, separators=(",", ":")),
    }


def _order_data(order: SimOrder, shop: SimShop, status: int) -> dict[str, Any]:
    return {
        "p_id": number_or_text(order.order_id),
        "s_ids": [number_or_text(line.line_id) for line in order.lines],
        "shop_id": number_or_text(shop.shop_id),
        "order_status": status,
        "order_type": 0,
        "biz": 2,
    }


def _refund_data(order: SimOrder, shop: SimShop, refund: SimRefund, status: int) -> dict[str, Any]:
    shipped = order.shipped_at is not None and order.shipped_at <= refund.created_at
    line = refund.line_ids[0] if len(refund.line_ids) == 1 else order.order_id
    return {
        "aftersale_id": number_or_text(refund.refund_id),
        "aftersale_status": status,
        "aftersale_type": 1 if shipped else 2,
        "refund_amount": refund.amount_fen,
        "refund_post_amount": 0,
        "p_id": number_or_text(order.order_id),
        "s_id": number_or_text(line),
        "shop_id": number_or_text(shop.shop_id),
        "reason_code": 1,
        "apply_time": _epoch(refund.created_at),
        "update_time": _epoch(refund.updated_at),
    }


def elements_for(kind: str, order: SimOrder, shop: SimShop, refund: SimRefund | None) -> list[dict[str, Any]]:
    """The push elements (one batch) a world change causes."""
    at = _epoch(order.updated_at)
    if kind == "created":
        return [_element(100, {**_order_data(order, shop, 1), "create_time": _epoch(order.created_at)})]
    if kind == "paid":
        data = {
            **_order_data(order, shop, 105),
            "pay_amount": order.payment_fen,
            "pay_time": at,
            "pay_type": 1,
        }
        return [_element(101, data)]
    if kind == "shipped":
        company, _ = EXPRESS.get(order.express_company or "", ("other", ""))
        logistics = {"express_company_id": company, "logistics_code": order.tracking_no}
        return [_element(102, {**_order_data(order, shop, 3), "logistics_msg": logistics, "update_time": at})]
    if kind == "received":
        return [_element(103, {**_order_data(order, shop, 5), "complete_time": at})]
    if kind == "closed":
        data = {**_order_data(order, shop, 4), "cancel_reason": "超时未支付", "cancel_time": at}
        return [_element(106, data)]
    if kind == "refund_succeeded" and refund is not None:
        # The world's refunds succeed at once: Douyin would have said "requested" first.
        success = {**_refund_data(order, shop, refund, 12), "success_time": at}
        return [_element(200, _refund_data(order, shop, refund, 6)), _element(206, success)]
    return []


def push_request(shop: SimShop, elements: list[dict[str, Any]]) -> tuple[bytes, dict[str, str]]:
    """One signed push of `elements`: body bytes and headers."""
    app_key, secret = shop.credentials["app_key"], shop.credentials["app_secret"]
    body = json.dumps(elements, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    headers = {
        "Content-Type": "application/json",
        "app-id": app_key,
        "event-sign": event_sign(app_key, body, secret),
    }
    return body, headers
