"""The simulated Taobao/Tmall TOP gateway over the shared shop world (`FRONT_END`).

`/router/rest` answers `taobao.time.get`, `taobao.trades.sold.increment.get`,
`taobao.trade.fullinfo.get`, `taobao.tmc.messages.consume` / `confirm` and `taobao.tmc.user.permit`
for the shops in `sim.shops` (credentials: app_key, app_secret, session, optional tmc_group). World
changes become TMC messages with TOP's topics in `sim.channel("taobao", shop_id)`.

Settings (timestamp tolerance, TMC visibility timeout, rate limit) and the clock are per simulator:
`FRONT_END.state(sim).settings.visibility_timeout_seconds = 0.5`.
"""

from __future__ import annotations

import weakref
from typing import Any

from fastapi import APIRouter

from scrm.platforms.shops.simulator.runtime import ShopSimulator, SimShop
from scrm.platforms.shops.simulator.world import Change, SimStatus
from scrm.platforms.shops.taobao.simulator.render import refund_content, tmc_message, trade_content
from scrm.platforms.shops.taobao.simulator.router import build_router
from scrm.platforms.shops.taobao.simulator.state import TaobaoSimSettings, TaobaoSimState

#: World change → the TMC trade topic TOP publishes for it.
TRADE_TOPICS = {
    "created": "taobao_trade_TradeCreate",
    "paid": "taobao_trade_TradeBuyerPay",
    "shipped": "taobao_trade_TradeSellerShip",
    "received": "taobao_trade_TradeSuccess",
    "closed": "taobao_trade_TradeClose",
}


class TaobaoFrontEnd:
    platform = "taobao"

    def __init__(self) -> None:
        self._states: weakref.WeakKeyDictionary[ShopSimulator, TaobaoSimState] = weakref.WeakKeyDictionary()

    def state(self, sim: ShopSimulator) -> TaobaoSimState:
        """This simulator's Taobao state (settings, clock, TMC visibility, permits)."""
        state = self._states.get(sim)
        if state is None:
            state = self._states.setdefault(sim, TaobaoSimState())
        return state

    def router(self, sim: ShopSimulator) -> APIRouter:
        return build_router(sim, self.state(sim))

    def on_change(self, sim: ShopSimulator, shop: SimShop, change: Change) -> None:
        """Queue the TMC messages TOP publishes for this change (a refund that closes the trade
        also publishes TradeClose; one that does not, TradePartlyRefund)."""
        order = change.order
        messages: list[tuple[str, dict[str, Any]]] = []
        if change.kind in TRADE_TOPICS:
            messages.append((TRADE_TOPICS[change.kind], trade_content(order, shop)))
        elif change.refund is not None and change.kind == "refund_requested":
            messages.append(("taobao_refund_RefundCreated", refund_content(order, change.refund, shop)))
        elif change.refund is not None and change.kind == "refund_succeeded":
            content = refund_content(order, change.refund, shop)
            messages.append(("taobao_refund_RefundSuccess", content))
            if order.status == SimStatus.CLOSED:
                messages.append(("taobao_trade_TradeClose", trade_content(order, shop)))
            else:
                messages.append(("taobao_trade_TradePartlyRefund", content))
        state = self.state(sim)
        with state.lock:
            queue = sim.channel("taobao", shop.shop_id)
            for topic, body in messages:
                queue.append(tmc_message(state.next_message_id(), topic, body, shop, order.updated_at))


FRONT_END = TaobaoFrontEnd()

__all__ = ["FRONT_END", "TaobaoFrontEnd", "TaobaoSimSettings", "TaobaoSimState"]
