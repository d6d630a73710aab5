"""The simulated world's orders as TOP renders them: trades (fullinfo / increment), TMC messages.

What is real: field names, wrappers (`orders.order[]`), yuan strings, Asia/Shanghai times, masked
buyer fields, numeric ids for items and SKUs with the merchant codes in `outer_*`. What is
simplified: one refund id is shown on every line a world refund covers (TOP has one refund per
sub-order), and trade types are `fixed` or `step` (presale).
"""

from __future__ import annotations

import hashlib
import json
import zlib
from datetime import datetime
from typing import Any

from scrm.platforms.shops.simulator.runtime import SimShop
from scrm.platforms.shops.simulator.world import SimLine, SimOrder, SimRefund, SimStatus
from scrm.platforms.shops.taobao.mapping import format_time, yuan

TRADE_STATUS = {
    SimStatus.CREATED: "WAIT_BUYER_PAY",
    SimStatus.PAID: "WAIT_SELLER_SEND_GOODS",
    SimStatus.SHIPPED: "WAIT_BUYER_CONFIRM_GOODS",
    SimStatus.RECEIVED: "TRADE_FINISHED",
}
REFUND_STATUS = {
    "requested": "WAIT_SELLER_AGREE",
    "agreed": "WAIT_BUYER_RETURN_GOODS",
    "succeeded": "SUCCESS",
    "closed": "CLOSED",
}
COMPANIES = {"SF": "顺丰速运", "ZTO": "中通快递", "YTO": "圆通速递", "JD": "京东快递"}
#: TOP's own app key, which publishes trade and refund messages.
PUB_APP_KEY = "12497914"


def numeric(text: str) -> int | str:
    """Ids TOP gives as JSON numbers, when the world's id is all digits."""
    return int(text) if text.isdigit() else text


def num_id(text: str) -> int:
    """A stable numeric id for a world code (TOP's num_iid / sku_id are numbers)."""
    return 500_000_000_000 + zlib.crc32(text.encode())


def mask_name(name: str) -> str:
    return name[:1] + "**"


def mask_mobile(phone: str) -> str:
    return phone[:3] + "*" * max(0, len(phone) - 3)


def trade_status(order: SimOrder) -> str:
    if order.status == SimStatus.CLOSED:
        return "TRADE_CLOSED" if order.paid_at else "TRADE_CLOSED_BY_TAOBAO"
    return TRADE_STATUS[order.status]


def oaid(order: SimOrder) -> str:
    """OAID identifies (buyer, receiver address) for the seller: stable per account and city."""
    return hashlib.sha1(f"{order.shop_id}|{order.buyer_account}|{order.city}".encode()).hexdigest()


def _line_refund(order: SimOrder, line: SimLine) -> SimRefund | None:
    covering = [refund for refund in order.refunds if line.line_id in refund.line_ids]
    return covering[-1] if covering else None


def _times(**moments: datetime | None) -> dict[str, str]:
    return {name: format_time(moment) for name, moment in moments.items() if moment is not None}


def line_json(order: SimOrder, line: SimLine) -> dict[str, Any]:
    refund = _line_refund(order, line)
    status = trade_status(order)
    if refund is not None and refund.status == "succeeded":
        status = "TRADE_CLOSED"
    data: dict[str, Any] = {
        "oid": numeric(line.line_id),
        "oid_str": line.line_id,
        "title": line.title,
        "num": line.quantity,
        "price": yuan(line.price_fen),
        "total_fee": yuan(line.price_fen * line.quantity - line.discount_fen),
        "payment": yuan(line.payment_fen),
        "discount_fee": yuan(line.discount_fen),
        "adjust_fee": "0.00",
        "num_iid": num_id(line.item_id),
        "outer_iid": line.item_id,
        "sku_id": str(num_id(line.sku_id)),
        "outer_sku_id": line.sku_id,
        "status": status,
        "refund_status": REFUND_STATUS.get(refund.status, "NO_REFUND") if refund else "NO_REFUND",
    }
    if refund is not None:
        data["refund_id"] = refund.refund_id
    if order.shipped_at is not None:
        data["consign_time"] = format_time(order.shipped_at)
        data["logistics_company"] = COMPANIES.get(order.express_company or "", order.express_company)
        data["invoice_no"] = order.tracking_no
    if order.presale_ship_at is not None:
        data["estimate_con_time"] = format_time(order.presale_ship_at)
    return data


def trade_json(order: SimOrder, shop: SimShop) -> dict[str, Any]:
    """The trade as `taobao.trade.fullinfo.get` returns it with every field asked for."""
    person = order.person
    trade: dict[str, Any] = {
        "tid": numeric(order.order_id),
        "tid_str": order.order_id,
        "status": trade_status(order),
        "type": "step" if order.is_presale else "fixed",
        "seller_nick": shop.name,
        "buyer_open_uid": order.buyer_account,
        "buyer_nick": mask_name(person.name),
        "receiver_name": mask_name(person.name),
        "receiver_mobile": person.phone if order.reveal_phone else mask_mobile(person.phone),
        "receiver_state": order.province,
        "receiver_city": order.city,
        "oaid": oaid(order),
        "payment": yuan(order.payment_fen),
        "total_fee": yuan(order.goods_fen),
        "post_fee": yuan(order.post_fee_fen),
        "discount_fee": yuan(order.discount_fen + sum(line.discount_fen for line in order.lines)),
        "adjust_fee": "0.00",
        **_times(
            created=order.created_at,
            modified=order.updated_at,
            pay_time=order.paid_at,
            consign_time=order.shipped_at,
            end_time=order.received_at or order.closed_at,
        ),
        "orders": {"order": [line_json(order, line) for line in order.lines]},
    }
    if order.is_presale:
        paid = order.paid_at is not None
        trade["step_trade_status"] = "FRONT_PAID_FINAL_PAID" if paid else "FRONT_NOPAID_FINAL_NOPAID"
        trade["step_paid_fee"] = yuan(order.payment_fen if paid else 0)
        if order.presale_ship_at is not None:
            trade["send_time"] = format_time(order.presale_ship_at)
    return trade


def select_fields(trade: dict[str, Any], fields: str) -> dict[str, Any]:
    """Only the fields asked for, as TOP does (`orders` or any `orders.x` brings the lines)."""
    wanted = {name.strip() for name in fields.split(",") if name.strip()}
    if any(name.startswith("orders.") for name in wanted):
        wanted.add("orders")
    return {name: value for name, value in trade.items() if name in wanted}


def trade_content(order: SimOrder, shop: SimShop) -> dict[str, Any]:
    """What trade topics carry (e.g. TradeBuyerPay: tid, oid, buyer, seller, payment, status, type)."""
    return {
        "tid": numeric(order.order_id),
        "oid": numeric(order.lines[0].line_id) if order.lines else numeric(order.order_id),
        "buyer_nick": mask_name(order.person.name),
        "buyer_open_uid": order.buyer_account,
        "seller_nick": shop.name,
        "payment": yuan(order.payment_fen),
        "post_fee": yuan(order.post_fee_fen),
        "status": trade_status(order),
        "type": "step" if order.is_presale else "fixed",
    }


def refund_content(order: SimOrder, refund: SimRefund, shop: SimShop) -> dict[str, Any]:
    """What refund topics carry: refund id, trade and line, amount, phase and modified."""
    line_id = refund.line_ids[0] if refund.line_ids else order.order_id
    return {
        "refund_id": refund.refund_id,
        "tid": numeric(order.order_id),
        "oid": numeric(line_id),
        "refund_fee": yuan(refund.amount_fen),
        "refund_phase": "aftersale" if order.status == SimStatus.RECEIVED else "onsale",
        "bill_type": "refund_bill",
        "buyer_nick": mask_name(order.person.name),
        "buyer_open_uid": order.buyer_account,
        "seller_nick": shop.name,
        "modified": format_time(refund.updated_at),
    }


def tmc_message(
    message_id: int, topic: str, content: dict[str, Any], shop: SimShop, published: datetime
) -> dict[str, Any]:
    """One `tmc_message` as consume returns it (content is a JSON string)."""
    return {
        "id": message_id,
        "topic": topic,
        "content": json.dumps(content, ensure_ascii=False, separators=(",", ":")),
        "pub_time": format_time(published),
        "pub_app_key": PUB_APP_KEY,
        "user_id": numeric(shop.shop_id),
        "user_nick": shop.name,
    }
