"""How the simulated world's orders look through JOS (`orderInfo` objects), and the order searches.

JD shows sellers paid orders only: an order never paid (open, or closed unpaid) is not listed.
World statuses render as: paid → WAIT_SELLER_STOCK_OUT, shipped → WAIT_GOODS_RECEIVE_CONFIRM,
received → FINISHED_L, closed after payment → TRADE_CANCELED (FINISHED_L when it had been
received: a refund after receipt is an after-sales matter that does not reopen the order).
Partial refunds are after-sales records JD keeps apart from the order, so they do not show here.
"""

from __future__ import annotations

import zlib
from datetime import datetime

from scrm.platforms.shops.jd.signing import CST
from scrm.platforms.shops.simulator.world import SimOrder, SimStatus

NOT_YET = "0001-01-01 00:00:00"
#: World carrier codes → JOS logistics company ids (illustrative values) [U].
LOGISTICS_IDS = {"SF": "467", "ZTO": "463", "YTO": "465", "JD": "2087"}
STATE_REMARKS = {
    "WAIT_SELLER_STOCK_OUT": "等待出库",
    "WAIT_GOODS_RECEIVE_CONFIRM": "等待确认收货",
    "FINISHED_L": "完成",
    "TRADE_CANCELED": "取消",
}


def yuan(fen: int) -> str:
    return f"{fen // 100}.{fen % 100:02d}"


def cst(moment: datetime | None) -> str:
    return moment.astimezone(CST).strftime("%Y-%m-%d %H:%M:%S") if moment else NOT_YET


def numeric_id(text: str, base: int) -> str:
    """JD's SKU and ware ids are numbers; the world's are codes. A stable number per code."""
    return str(base + zlib.crc32(text.encode()) % 1_000_000_000)


def mask_name(name: str) -> str:
    return name[:1] + "*" * max(1, len(name) - 1)


def mask_pin(pin: str) -> str:
    return f"{pin[:2]}***{pin[-2:]}" if len(pin) > 4 else "***"


def mask_phone(phone: str) -> str:
    return f"{phone[:3]}****{phone[-4:]}" if len(phone) >= 7 else "****"


def order_state(order: SimOrder) -> str | None:
    """The JOS state of a world order; None while JD would not show it (never paid)."""
    if order.paid_at is None:
        return None
    if order.status == SimStatus.RECEIVED or (order.status == SimStatus.CLOSED and order.received_at):
        return "FINISHED_L"
    if order.status == SimStatus.CLOSED:
        return "TRADE_CANCELED"
    if order.status == SimStatus.SHIPPED:
        return "WAIT_GOODS_RECEIVE_CONFIRM"
    return "WAIT_SELLER_STOCK_OUT"


def modified_second(order: SimOrder) -> datetime:
    """JOS compares `modified` to whole seconds."""
    return order.updated_at.replace(microsecond=0)


def render(order: SimOrder, vender_id: str) -> dict[str, object] | None:
    """`orderInfo` with every optional field filled; None for orders JD does not show."""
    state = order_state(order)
    if state is None:
        return None
    ended = order.received_at if state == "FINISHED_L" else order.closed_at
    person = order.person
    return {
        "orderId": order.order_id,
        "venderId": vender_id,
        "orderType": "22",  # SOP
        "payType": "4-在线支付",
        "orderTotalPrice": yuan(order.goods_fen),
        "orderSellerPrice": yuan(order.goods_fen - order.discount_fen),
        "orderPayment": yuan(order.payment_fen),
        "freightPrice": yuan(order.post_fee_fen),
        "sellerDiscount": yuan(order.discount_fen),
        "orderState": state,
        "orderStateRemark": STATE_REMARKS.get(state, ""),
        "orderStartTime": cst(order.created_at),
        "paymentConfirmTime": cst(order.paid_at),
        "orderEndTime": cst(ended),
        "modified": cst(order.updated_at),
        "pin": mask_pin(order.buyer_account),  # pins are masked since JD's privacy changes [S]
        "open_id_buyer": order.buyer_account,
        "consigneeInfo": {
            "fullname": mask_name(person.name),
            "mobile": person.phone if order.reveal_phone else mask_phone(person.phone),
            "telephone": "",
            "province": order.province,
            "city": order.city,
            "county": "",
            "fullAddress": f"{order.province}{order.city}****",
        },
        "itemInfoList": [
            {
                "skuId": numeric_id(line.sku_id, 10_000_000_000),
                "outerSkuId": line.sku_id,
                "skuName": line.title,
                "jdPrice": yuan(line.price_fen),
                "itemTotal": str(line.quantity),
                "wareId": numeric_id(line.item_id, 20_000_000_000),
                "giftPoint": "0",
            }
            for line in order.lines
        ],
        "couponDetailList": [],
        "waybill": order.tracking_no or "",
        "logisticsId": LOGISTICS_IDS.get(order.express_company or "", "") if order.tracking_no else "",
    }


def api_result(
    success: bool = True, *, code: int = 10100000, zh: str = "成功", en: str = "success"
) -> dict[str, object]:
    return {"success": success, "numberCode": code, "chineseErrCode": zh, "englishErrCode": en}


NOT_FOUND = api_result(False, code=10100003, zh="订单不存在", en="order not exist")  # [U]
