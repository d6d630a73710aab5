"""The simulated Youzan open platform over the shared shop world (platform-protocols.md §6).

Routes: `POST /auth/token` (silent authorization of a kdt_id with client_id/client_secret),
`POST /api/youzan.trade.get/4.0.0` and `POST /api/youzan.trades.sold.get/4.0.x`, answered from
`sim.world` for the Youzan shops in `sim.shops` (credentials `client_id`, `client_secret`). Tokens
are checked on every API call (gateway 10003), a per-app rate limit answers gateway 20001, injected
faults are rendered in Youzan's shapes. World changes become signed pushes of the real types.

Error codes the notes do not give (bad client secret, unknown order, unknown API) are the
simulator's own choice; they are listed in `SIM_CODES` and the README.
"""

from __future__ import annotations

import asyncio
import json
import secrets
import threading
import time
import weakref
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from scrm.platforms.shops.simulator.gateway import Fault
from scrm.platforms.shops.simulator.runtime import ShopSimulator, SimShop
from scrm.platforms.shops.simulator.world import Change
from scrm.platforms.shops.youzan.errors import NO_PERMISSION, QUOTA_EXHAUSTED, RATE_LIMITED, TOKEN_INVALID
from scrm.platforms.shops.youzan.sim_render import full_order_info, pushes_for
from scrm.platforms.shops.youzan.values import china_time
from scrm.platforms.simulator_http import DroppedConnection

PLATFORM = "youzan"
GATEWAY_CODES = frozenset({10001, TOKEN_INVALID, NO_PERMISSION, RATE_LIMITED, QUOTA_EXHAUSTED})
#: Codes the protocol notes do not name; the simulator's choice.
SIM_CODES = {
    "bad_credentials": 40010,  # /auth/token: unknown client_id or wrong client_secret
    "not_authorized": 40011,  # /auth/token: the app is not authorized by that kdt_id
    "unknown_api": 10001,  # gateway: no such API or version
    "not_found": 50000,  # 4.x: no such trade in this shop
    "bad_parameter": 53002,  # 4.x: page_size / page_no out of range (seen on refund.search)
}
MESSAGES = {
    10001: "API 不存在",
    TOKEN_INVALID: "access_token 无效或已过期",
    NO_PERMISSION: "没有权限",
    RATE_LIMITED: "调用频率超限",
    QUOTA_EXHAUSTED: "调用次数已用完",
}


@dataclass
class YouzanSimState:
    """Per-simulator Youzan state: issued tokens and the per-app rate limit."""

    token_lifetime_seconds: float = 7 * 86400
    rate_per_second: float = 100.0
    burst: float = 100.0
    phone_mode: str = "masked"  # "clear": buyer_phone in clear (a shop with decryption rights)
    tokens: dict[str, tuple[str, float]] = field(default_factory=dict)  # token → (kdt_id, expires)
    buckets: dict[str, tuple[float, float]] = field(default_factory=dict)  # client_id → (level, at)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def issue(self, kdt_id: str) -> tuple[str, float]:
        token = secrets.token_hex(16)
        expires = time.time() + self.token_lifetime_seconds
        with self.lock:
            self.tokens[token] = (kdt_id, expires)
        return token, expires

    def shop_of(self, token: str | None) -> str | None:
        with self.lock:
            entry = self.tokens.get(token or "")
        if entry is None or entry[1] <= time.time():
            return None
        return entry[0]

    def revoke(self, kdt_id: str | None = None) -> None:
        """Invalidate issued tokens (all, or one shop's): the next call answers 10003."""
        with self.lock:
            for token, (shop, _) in list(self.tokens.items()):
                if kdt_id is None or shop == kdt_id:
                    del self.tokens[token]

    def allow(self, client_id: str) -> bool:
        now = time.monotonic()
        with self.lock:
            level, at = self.buckets.get(client_id, (self.burst, now))
            level = min(self.burst, level + (now - at) * self.rate_per_second)
            if level < 1:
                self.buckets[client_id] = (level, now)
                return False
            self.buckets[client_id] = (level - 1, now)
            return True


_STATES: weakref.WeakKeyDictionary[ShopSimulator, YouzanSimState] = weakref.WeakKeyDictionary()


def state_of(sim: ShopSimulator) -> YouzanSimState:
    state = _STATES.get(sim)
    if state is None:
        state = _STATES[sim] = YouzanSimState()
    return state


class _Answer(Exception):
    def __init__(self, body: dict[str, Any]) -> None:
        super().__init__(str(body))
        self.body = body


def gateway_error(code: int, message: str | None = None) -> dict[str, Any]:
    return {"gw_err_resp": {"err_code": code, "err_msg": message or MESSAGES.get(code, "error")}}


def v4_error(code: int, message: str) -> dict[str, Any]:
    return {"success": False, "code": code, "message": message, "data": None}


def v4_ok(data: Any) -> dict[str, Any]:
    return {"success": True, "code": 200, "message": "successful", "data": data}


def _fault_answer(fault: Fault) -> dict[str, Any]:
    try:
        code = int(fault.code or 0)
    except ValueError:
        code = 0
    if code in GATEWAY_CODES:
        return gateway_error(code)
    return v4_error(code, f"injected fault {fault.code}")


def _parse(raw: bytes) -> dict[str, Any]:
    if not raw.strip():
        return {}
    try:
        body = json.loads(raw)
    except ValueError:
        raise _Answer(v4_error(SIM_CODES["bad_parameter"], "请求体不是合法的 JSON")) from None
    if not isinstance(body, dict):
        raise _Answer(v4_error(SIM_CODES["bad_parameter"], "请求体不是 JSON 对象"))
    return body


class YouzanFrontEnd:
    platform = PLATFORM

    # --- requests --------------------------------------------------------------------------------

    def _serve(
        self, sim: ShopSimulator, api: str, raw: bytes, query: dict[str, str], version: str
    ) -> Response:
        """Runs in a worker thread: fault latencies and timeouts sleep without blocking the loop."""
        state = state_of(sim)
        refused: _Answer | None = None
        try:
            body = _parse(raw)
        except _Answer as error:
            body, refused = {}, error
        entry, fault = sim.gateway.admit(PLATFORM, api, {**query, **body})
        if fault is not None and fault.timeout:
            time.sleep(fault.timeout_seconds)
        if fault is not None and fault.http_status:
            entry["outcome"] = fault.http_status
            return Response(
                b"<html>upstream error</html>", status_code=fault.http_status, media_type="text/html"
            )
        try:
            if fault is not None and fault.code:
                raise _Answer(_fault_answer(fault))
            if refused is not None:
                raise refused
            answer = self._dispatch(sim, state, api, version, query, body)
        except _Answer as error:
            answer = error.body
        entry["outcome"] = (answer.get("gw_err_resp") or {}).get("err_code") or answer.get("code")
        if fault is not None and fault.drop:
            return DroppedConnection()
        return JSONResponse(answer)

    def _dispatch(
        self,
        sim: ShopSimulator,
        state: YouzanSimState,
        api: str,
        version: str,
        query: dict[str, str],
        body: dict[str, Any],
    ) -> dict[str, Any]:
        if api == "auth.token":
            return self._token(sim, state, body)
        kdt_id = state.shop_of(query.get("access_token"))
        shop = sim.shop(PLATFORM, kdt_id) if kdt_id else None
        if shop is None:
            return gateway_error(TOKEN_INVALID)
        if not state.allow(shop.credentials.get("client_id", "")):
            return gateway_error(RATE_LIMITED)
        if api == "youzan.trade.get" and version.startswith("4.0"):
            return self._trade_get(sim, shop, body)
        if api == "youzan.trades.sold.get" and version.startswith("4.0."):
            return self._sold_get(sim, state, shop, body, version)
        return gateway_error(SIM_CODES["unknown_api"], f"API {api}/{version} 不存在")

    def _token(self, sim: ShopSimulator, state: YouzanSimState, body: dict[str, Any]) -> dict[str, Any]:
        client_id, secret = str(body.get("client_id") or ""), str(body.get("client_secret") or "")
        apps = [
            shop
            for shop in sim.shops_of(PLATFORM)
            if shop.credentials.get("client_id") == client_id
            and shop.credentials.get("client_secret") == secret
        ]
        if not apps or body.get("authorize_type") != "silent":
            return v4_error(SIM_CODES["bad_credentials"], "client_id 或 client_secret 错误")
        grant = str(body.get("grant_id") or "")
        if not any(shop.shop_id == grant for shop in apps):
            return v4_error(SIM_CODES["not_authorized"], f"店铺 {grant} 未授权该应用")
        token, expires = state.issue(grant)
        return v4_ok(
            {
                "access_token": token,
                "expires": int(expires * 1000),
                "scope": "trade user item",
                "authority_id": grant,
            }
        )

    def _trade_get(self, sim: ShopSimulator, shop: SimShop, body: dict[str, Any]) -> dict[str, Any]:
        order = sim.world.get(PLATFORM, str(body.get("tid") or ""))
        if order is None or order.shop_id != shop.shop_id:
            return v4_error(SIM_CODES["not_found"], "订单不存在")
        info = full_order_info(order, phone_mode=state_of(sim).phone_mode)
        return v4_ok(
            {"full_order_info": info, "refund_order": [], "order_promotion": {}, "delivery_order": []}
        )

    def _sold_get(
        self, sim: ShopSimulator, state: YouzanSimState, shop: SimShop, body: dict[str, Any], version: str
    ) -> dict[str, Any]:
        try:
            page_no = int(body.get("page_no") or 1)
            page_size = int(body.get("page_size") or 20)
        except (TypeError, ValueError):
            return v4_error(SIM_CODES["bad_parameter"], "page_no / page_size type error")
        if page_no < 1 or not 1 <= page_size <= 100:
            return v4_error(SIM_CODES["bad_parameter"], "page_size type error")
        start, end = china_time(body.get("start_update")), china_time(body.get("end_update"))
        if start is not None and end is not None:  # an unpaired bound is ignored, as Youzan does
            # The end is inclusive to the second [U]: [start, end + 1 s) in world terms.
            orders = sim.world.orders_modified(PLATFORM, shop.shop_id, start, end + timedelta(seconds=1))
        else:
            orders = sorted(
                sim.world.orders(PLATFORM, shop.shop_id),
                key=lambda order: (order.updated_at, order.order_id),
                reverse=True,
            )
        legacy = _patch(version) < 4  # 4.0.4 replaced buyer_id with yz_open_id
        page = orders[(page_no - 1) * page_size : page_no * page_size]
        return v4_ok(
            {
                "full_order_info_list": [
                    {
                        "full_order_info": full_order_info(
                            order, legacy_buyer_id=legacy, phone_mode=state.phone_mode
                        )
                    }
                    for order in page
                ],
                "total_results": len(orders),
            }
        )

    # --- FrontEnd --------------------------------------------------------------------------------

    def router(self, sim: ShopSimulator) -> APIRouter:
        state_of(sim)
        router = APIRouter(tags=["youzan"])

        @router.post("/auth/token", include_in_schema=False)
        async def auth_token(request: Request) -> Response:
            raw = await request.body()
            return await asyncio.to_thread(
                self._serve, sim, "auth.token", raw, dict(request.query_params), ""
            )

        @router.post("/api/{api_name}/{version}", include_in_schema=False)
        async def api(api_name: str, version: str, request: Request) -> Response:
            raw = await request.body()
            return await asyncio.to_thread(
                self._serve, sim, api_name, raw, dict(request.query_params), version
            )

        return router

    def on_change(self, sim: ShopSimulator, shop: SimShop, change: Change) -> None:
        if "client_id" not in shop.credentials or "client_secret" not in shop.credentials:
            return
        phone_mode = state_of(sim).phone_mode
        for body, headers in pushes_for(
            shop, change.kind, change.order, change.refund, phone_mode=phone_mode
        ):
            sim.deliver(shop, body, headers, accepted)


def _patch(version: str) -> int:
    try:
        return int(version.split(".")[2])
    except (IndexError, ValueError):
        return 0


def accepted(status: int, body: bytes) -> bool:
    """Youzan's rule: HTTP 200 and a body that contains "success"."""
    return status == 200 and b"success" in body


FRONT_END = YouzanFrontEnd()

__all__ = ["FRONT_END", "YouzanFrontEnd", "YouzanSimState", "accepted", "state_of"]
