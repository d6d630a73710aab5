"""The simulated world's orders in Youzan's JSON: `full_order_info` and push messages.

Shapes follow platform-protocols.md §6.2-6.3. Where the world has no equivalent (pay channel,
fans ids, addresses) plausible constants stand in. Sensitive fields are rendered masked, as a shop
without decryption rights sees them; `phone_mode="clear"` renders the buyer's phone in clear.
"""

from __future__ import annotations

import json
import uuid
import zlib
from typing import Any
from urllib.parse import quote

from scrm.platforms.shops.simulator.runtime import SimShop
from scrm.platforms.shops.simulator.world import SimOrder, SimRefund, SimStatus
from scrm.platforms.shops.youzan.signing import event_sign, legacy_sign
from scrm.platforms.shops.youzan.values import china_text, yuan

STATUS: dict[str, str] = {
    SimStatus.CREATED: "WAIT_BUYER_PAY",
    SimStatus.PAID: "WAIT_SELLER_SEND_GOODS",
    SimStatus.SHIPPED: "WAIT_BUYER_CONFIRM_GOODS",
    SimStatus.RECEIVED: "TRADE_SUCCESS",
    SimStatus.CLOSED: "TRADE_CLOSED",
}
STATUS_STR: dict[str, str] = {
    "WAIT_BUYER_PAY": "待付款",
    "WAIT_SELLER_SEND_GOODS": "待发货",
    "WAIT_BUYER_CONFIRM_GOODS": "已发货",
    "TRADE_SUCCESS": "已完成",
    "TRADE_CLOSED": "已关闭",
}
#: What encodeURI leaves alone: Youzan's published msg example encodes `{` `"` and spaces only.
_URI_SAFE = ";,/?:@&=+$!*'()#"


def number_or_text(value: str) -> int | str:
    """Youzan ids (kdt_id, oid) are numbers on the wire; world ids that are not stay strings."""
    return int(value) if value.isdigit() and len(value) < 19 else value


def mask_phone(phone: str) -> str:
    return f"{phone[:3]}****{phone[-4:]}" if len(phone) >= 7 else "****"


def mask_name(name: str) -> str:
    return name[:1] + "*" * max(1, len(name) - 1)


def refund_state(order: SimOrder) -> int:
    """0 none, 2 partly refunded, 12 fully refunded (the world's refunds succeed at once)."""
    refunded = order.refunded_fen
    if refunded <= 0:
        return 0
    return 12 if refunded >= order.payment_fen else 2


def _time(value: Any) -> str:
    return china_text(value) if value is not None else ""


def full_order_info(
    order: SimOrder, *, legacy_buyer_id: bool = False, phone_mode: str = "masked"
) -> dict[str, Any]:
    status = STATUS[order.status]
    refunded_full = order.status == SimStatus.CLOSED and order.paid_at is not None
    buyer: dict[str, Any] = {
        "yz_open_id": order.buyer_account,
        "buyer_phone": order.person.phone
        if phone_mode == "clear" or order.reveal_phone
        else mask_phone(order.person.phone),
        "fans_type": 1,
        "fans_id": zlib.crc32(order.buyer_account.encode()),
        "fans_nickname": order.person.name,
        "outer_user_id": "",
    }
    if legacy_buyer_id:
        buyer["buyer_id"] = zlib.crc32(order.buyer_account.encode())
    return {
        "order_info": {
            "tid": order.order_id,
            "status": status,
            "status_str": STATUS_STR[status],
            "type": 0,
            "pay_type": 10 if order.paid_at else 0,
            "pay_type_str": "WEIXIN_DAIXIAO" if order.paid_at else "",
            "team_type": 0,
            "close_type": (2 if refunded_full else 1) if order.status == SimStatus.CLOSED else 0,
            "express_type": 0,
            "refund_state": refund_state(order),
            "created": _time(order.created_at),
            "update_time": _time(order.updated_at),
            "expired_time": "",
            "pay_time": _time(order.paid_at),
            "consign_time": _time(order.shipped_at),
            "confirm_time": _time(order.received_at),
            "success_time": _time(order.received_at),
            "is_retail_order": False,
            "offline_id": 0,
            "order_tags": {
                "is_virtual": False,
                "is_preorder": order.is_presale,
                "is_payed": order.paid_at is not None,
                "is_secured_transactions": True,
                "is_postage_free": order.post_fee_fen == 0,
                "is_refund": bool(order.refunds),
                "is_member": False,
            },
            "order_extra": {},
        },
        "buyer_info": buyer,
        "pay_info": {
            "total_fee": yuan(order.goods_fen),
            "post_fee": yuan(order.post_fee_fen),
            "payment": yuan(order.payment_fen),
            "transaction": [],
            "outer_transactions": [],
        },
        "address_info": {
            "receiver_name": mask_name(order.person.name),
            "receiver_tel": mask_phone(order.person.phone),
            "delivery_province": order.province,
            "delivery_city": order.city,
            "delivery_district": "",
            "delivery_address": "****",
            "delivery_postal_code": "",
            "address_extra": "{}",
        },
        "remark_info": {"buyer_message": "", "star": 0, "trade_memo": ""},
        "source_info": {
            "is_offline_order": False,
            "source": {"platform": "wx", "wx_entrance": "direct_buy"},
            "order_mark": "",
            "book_key": uuid.uuid5(uuid.NAMESPACE_URL, order.order_id).hex,
        },
        "orders": [
            {
                "oid": number_or_text(line.line_id),
                "item_type": 0,
                "title": line.title,
                "num": line.quantity,
                "price": yuan(line.price_fen),
                "total_fee": yuan(line.price_fen * line.quantity),
                "payment": yuan(line.payment_fen),
                "discount_price": yuan(line.price_fen - line.discount_fen // max(1, line.quantity)),
                "item_id": zlib.crc32(line.item_id.encode()),
                "sku_id": zlib.crc32(line.sku_id.encode()),
                "sku_properties_name": "[]",
                "outer_item_id": line.item_id,
                "outer_sku_id": line.sku_id,
                "pic_path": "",
                "goods_url": "",
                "is_present": line.is_gift,
                "is_pre_sale": "1" if line.is_presale else "0",
                "pre_sale_type": "1" if line.is_presale else "",
            }
            for line in order.lines
        ],
    }


def encode_msg(msg: dict[str, Any]) -> str:
    """The URL-encoded JSON string trade_* messages carry in `msg`."""
    return quote(json.dumps(msg, ensure_ascii=False, separators=(",", ":")), safe=_URI_SAFE)


def push_request(
    shop: SimShop,
    order: SimOrder,
    kind: str,
    msg: dict[str, Any],
    *,
    business_id: str | None = None,
    status: str | None = None,
    msg_as_object: bool = False,
) -> tuple[bytes, dict[str, str]]:
    """One signed push: the body bytes and the headers Youzan sends with them."""
    client_id = shop.credentials["client_id"]
    secret = shop.credentials["client_secret"]
    encoded: dict[str, Any] | str = msg if msg_as_object else encode_msg(msg)
    envelope: dict[str, Any] = {
        "client_id": client_id,
        "kdt_id": number_or_text(shop.shop_id),
        "kdt_name": shop.name,
        "root_kdt_id": number_or_text(shop.shop_id),
        "id": business_id or order.order_id,
        "type": kind,
        "status": status or STATUS[order.status],
        "msg": encoded,
        "msg_id": str(uuid.uuid4()),
        "version": int(order.updated_at.timestamp()),
        "sendCount": 0,
        "test": False,
        "mode": 1,
    }
    if isinstance(encoded, str):
        envelope["sign"] = legacy_sign(client_id, encoded, secret)
    body = json.dumps(envelope, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    headers = {
        "Content-Type": "application/json",
        "Event-Sign": event_sign(client_id, body, secret),
        "Event-Type": kind,
        "Client-Id": client_id,
    }
    return body, headers


def refund_msg(order: SimOrder, refund: SimRefund) -> dict[str, Any]:
    """The msg object of youzan_trade_Refund* messages (refunded_fee in yuan)."""
    return {
        "tid": order.order_id,
        "oids": ",".join(refund.line_ids),
        "refund_id": refund.refund_id,
        "refunded_fee": yuan(refund.amount_fen),
        "refund_type": "REFUND_ONLY" if refund.refund_type == "refund_only" else "REFUND_AND_RETURN",
        "refund_reason": refund.reason,
        "update_time": china_text(refund.updated_at),
        "version": refund.version,
    }


def pushes_for(
    shop: SimShop, kind: str, order: SimOrder, refund: SimRefund | None, *, phone_mode: str = "masked"
) -> list[tuple[bytes, dict[str, str]]]:
    """The Youzan pushes a world change causes, in the order Youzan would send them."""
    full = {"full_order_info": full_order_info(order, phone_mode=phone_mode)}
    at = china_text(order.updated_at)
    if kind == "created":
        return [push_request(shop, order, "trade_TradeCreate", full)]
    if kind == "paid":
        return [push_request(shop, order, name, full) for name in ("trade_TradePaid", "trade_TradeBuyerPay")]
    if kind == "shipped":
        msg = {"tid": order.order_id, "status": "WAIT_BUYER_CONFIRM_GOODS", "update_time": at}
        return [push_request(shop, order, "trade_TradeSellerShip", msg)]
    if kind == "received":
        msg = {"tid": order.order_id, "status": "TRADE_SUCCESS", "update_time": at}
        return [push_request(shop, order, "trade_TradeSuccess", msg)]
    if kind == "closed":
        return [push_request(shop, order, "trade_TradeClose", _close_msg(order, close_type=1))]
    if kind == "refund_succeeded" and refund is not None:
        requests = [
            push_request(
                shop,
                order,
                "youzan_trade_RefundSuccess",
                refund_msg(order, refund),
                business_id=refund.refund_id,
                status="SUCCESS",
                msg_as_object=True,
            )
        ]
        if order.status == SimStatus.CLOSED:  # a full refund closes the trade: Youzan says so too
            requests.append(push_request(shop, order, "trade_TradeClose", _close_msg(order, close_type=2)))
        return requests
    return []


def _close_msg(order: SimOrder, *, close_type: int) -> dict[str, Any]:
    return {
        "tid": order.order_id,
        "close_type": close_type,
        "close_reason": "NONE" if close_type == 1 else "REFUND",
        "update_time": china_text(order.updated_at),
    }
