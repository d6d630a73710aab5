"""The simulated TOP APIs, answered from the shared world for the calling seller.

Each handler gets a `Call` (checked params, the app key, the seller of the session when the API
needs one) and returns the inner dict of `<name>_response`, or raises `SimError` with TOP's code
and sub code.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from scrm.platforms.shops.simulator.runtime import ShopSimulator, SimShop
from scrm.platforms.shops.taobao.mapping import SHANGHAI, TIME_FORMAT, format_time
from scrm.platforms.shops.taobao.simulator.render import select_fields, trade_json, trade_status
from scrm.platforms.shops.taobao.simulator.state import TaobaoSimState

MAX_SPAN = timedelta(days=1)
HISTORY = timedelta(days=90)


class SimError(Exception):
    """An error answer: TOP `code`, optional detail for msg, `sub_code`, `sub_msg`."""

    def __init__(
        self, code: int, detail: str | None = None, *, sub_code: str | None = None, sub_msg: str | None = None
    ) -> None:
        super().__init__(code)
        self.code = code
        self.detail = detail
        self.sub_code = sub_code
        self.sub_msg = sub_msg


@dataclass
class Call:
    sim: ShopSimulator
    state: TaobaoSimState
    params: dict[str, str]
    app_key: str
    shop: SimShop | None

    def now(self) -> datetime:
        return datetime.fromtimestamp(self.state.clock(), UTC)

    def required(self, name: str) -> str:
        value = self.params.get(name, "")
        if value == "":
            raise SimError(40, f"Missing required arguments:{name}", sub_code="isv.missing-parameter")
        return value

    def integer(self, name: str, default: int, low: int, high: int) -> int:
        text = self.params.get(name, "")
        if text == "":
            return default
        try:
            value = int(text)
        except ValueError:
            raise SimError(41, f"Invalid arguments:{name}", sub_code="isv.invalid-parameter") from None
        if not low <= value <= high:
            raise SimError(41, f"Invalid arguments:{name}", sub_code="isv.invalid-parameter")
        return value

    def moment(self, name: str) -> datetime:
        text = self.required(name)
        try:
            return datetime.strptime(text, TIME_FORMAT).replace(tzinfo=SHANGHAI).astimezone(UTC)
        except ValueError:
            raise SimError(41, f"Invalid arguments:{name}", sub_code="isv.invalid-parameter") from None

    def seller(self) -> SimShop:
        if self.shop is None:  # the router checks sessions first; a guard, not a path
            raise SimError(26)
        return self.shop


def time_get(call: Call) -> dict[str, Any]:
    return {"time": format_time(call.now())}


def trades_sold_increment_get(call: Call) -> dict[str, Any]:
    """Trades of the seller whose `modified` (to the second) lies in [start_modified, end_modified],
    both inclusive as on TOP; newest first; span ≤ 1 day; only the last 3 months."""
    shop = call.seller()
    fields = call.required("fields")
    start = call.moment("start_modified")
    end = call.moment("end_modified")
    if end < start:
        raise SimError(
            15, sub_code="isv.invalid-parameter", sub_msg="start_modified must not be after end_modified"
        )
    if end - start > MAX_SPAN:
        raise SimError(
            15, sub_code="isv.invalid-parameter", sub_msg="start_modified与end_modified的间隔不能超过一天"
        )
    if start < call.now() - HISTORY:
        raise SimError(15, sub_code="isv.invalid-parameter", sub_msg="只能查询三个月内的交易")
    page_no = call.integer("page_no", 1, 1, 1_000_000)
    page_size = call.integer("page_size", 40, 1, 100)
    status = call.params.get("status") or None
    # inclusive end to the second: everything before the next second
    found = call.sim.world.orders_modified("taobao", shop.shop_id, start, end + timedelta(seconds=1))
    if status is not None:
        found = [order for order in found if trade_status(order) == status]
    page = found[(page_no - 1) * page_size : page_no * page_size]
    answer: dict[str, Any] = {"has_next": page_no * page_size < len(found)}
    if call.params.get("use_has_next", "false").lower() != "true":
        answer["total_results"] = len(found)
    if page:
        answer["trades"] = {"trade": [select_fields(trade_json(order, shop), fields) for order in page]}
    return answer


def trade_fullinfo_get(call: Call) -> dict[str, Any]:
    shop = call.seller()
    fields = call.required("fields")
    tid = call.required("tid")
    order = call.sim.world.get("taobao", tid)
    if order is None or order.shop_id != shop.shop_id:
        raise SimError(15, sub_code="isv.trade-not-exist", sub_msg=f"交易{tid}不存在")
    return {"trade": select_fields(trade_json(order, shop), fields)}


def _group_shops(call: Call, group: str) -> list[SimShop]:
    return [
        shop
        for shop in call.sim.shops_of("taobao")
        if shop.credentials.get("app_key") == call.app_key
        and (shop.credentials.get("tmc_group") or "default") == group
    ]


def tmc_messages_consume(call: Call) -> dict[str, Any]:
    """Visible messages of the group's sellers; each handed out becomes invisible for the
    visibility timeout and comes back unless confirmed."""
    quantity = call.integer("quantity", 100, 1, 200)
    group = call.params.get("group_name") or "default"
    now = call.state.clock()
    until = now + call.state.settings.visibility_timeout_seconds
    handed: list[dict[str, Any]] = []
    with call.state.lock:
        for shop in _group_shops(call, group):
            for message in call.sim.channel("taobao", shop.shop_id):
                if len(handed) >= quantity:
                    break
                if call.state.invisible_until.get(message["id"], 0.0) <= now:
                    call.state.invisible_until[message["id"]] = until
                    handed.append(dict(message))
    return {"messages": {"tmc_message": handed}} if handed else {}


def _ids(text: str, name: str) -> set[int]:
    try:
        return {int(part) for part in text.split(",") if part.strip()}
    except ValueError:
        raise SimError(41, f"Invalid arguments:{name}", sub_code="isv.invalid-parameter") from None


def tmc_messages_confirm(call: Call) -> dict[str, Any]:
    """`s_message_ids` are done (removed); `f_message_ids` failed (handed out again at once)."""
    succeeded = _ids(call.params.get("s_message_ids", ""), "s_message_ids")
    failed = _ids(call.params.get("f_message_ids", ""), "f_message_ids")
    group = call.params.get("group_name") or "default"
    with call.state.lock:
        for shop in _group_shops(call, group):
            queue = call.sim.channel("taobao", shop.shop_id)
            kept = [message for message in queue if message["id"] not in succeeded]
            queue.clear()
            queue.extend(kept)
        for message_id in succeeded:
            call.state.invisible_until.pop(message_id, None)
        for message_id in failed:
            call.state.invisible_until[message_id] = 0.0
    return {"is_success": True}


def tmc_user_permit(call: Call) -> dict[str, Any]:
    shop = call.seller()
    with call.state.lock:
        call.state.permits[shop.shop_id] = call.params.get("topics") or "*"
    return {"is_success": True}


#: method → (handler, whether it needs the seller's session).
APIS: dict[str, tuple[Callable[[Call], dict[str, Any]], bool]] = {
    "taobao.time.get": (time_get, False),
    "taobao.trades.sold.increment.get": (trades_sold_increment_get, True),
    "taobao.trade.fullinfo.get": (trade_fullinfo_get, True),
    "taobao.tmc.messages.consume": (tmc_messages_consume, False),
    "taobao.tmc.messages.confirm": (tmc_messages_confirm, False),
    "taobao.tmc.user.permit": (tmc_user_permit, True),
}
