"""The simulated Douyin shop open platform (抖店) over the shared shop world (§8.1).

Routes: `POST /token/create`, `/token/refresh`, `/order/orderDetail`, `/order/searchList`, each
checking the query signature exactly as Douyin does (hmac-sha256 or md5 over the raw body as
`param_json`), tokens (40001/40003 `isv.access-token-*`), a per-app rate limit (60000), and
answering from `sim.world` for the Douyin shops in `sim.shops` (credentials `app_key`,
`app_secret`). Injected faults: `code` renders `{"code": …}`; "CODE:SUB_CODE" (e.g.
"40003:isv.access-token-expired") sets the sub code too. World changes become signed push batches.
"""

from __future__ import annotations

import asyncio
import json
import secrets
import threading
import time
import weakref
from dataclasses import dataclass, field
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from scrm.platforms.shops.douyin.signing import SignMethod, api_sign
from scrm.platforms.shops.douyin.sim_http import parse_timestamp
from scrm.platforms.shops.douyin.sim_render import elements_for, push_request, shop_order_detail
from scrm.platforms.shops.simulator.runtime import ShopSimulator, SimShop
from scrm.platforms.shops.simulator.world import Change
from scrm.platforms.simulator_http import DroppedConnection

PLATFORM = "douyin"
MESSAGES = {
    10000: "success",
    20000: "服务不可用",
    20001: "内部服务超时",
    30001: "操作权限不足",
    40001: "缺少必选参数（平台校验）",
    40002: "缺少必选参数（业务校验）",
    40003: "非法的参数（平台校验）",
    40004: "非法的参数（业务校验）",
    50001: "平台处理失败",
    50002: "业务处理失败",
    60000: "触发限流，请稍后重试",
    70000: "接口服务已下线",
    90000: "其他异常",
}
METHODS = ("token.create", "token.refresh", "order.orderDetail", "order.searchList")


class DouyinAnswer(Exception):
    """An error answer: code, sub code and sub message."""

    def __init__(self, code: int, sub_code: str = "", sub_msg: str = "") -> None:
        super().__init__(f"{code} {sub_code}")
        self.code, self.sub_code, self.sub_msg = code, sub_code, sub_msg

    def body(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "msg": MESSAGES.get(self.code, "error"),
            "sub_code": self.sub_code,
            "sub_msg": self.sub_msg,
            "data": None,
            "log_id": secrets.token_hex(16),
        }


def ok(data: Any) -> dict[str, Any]:
    return {
        "code": 10000,
        "msg": "success",
        "sub_code": "",
        "sub_msg": "",
        "data": data,
        "log_id": secrets.token_hex(16),
    }


@dataclass
class DouyinSimState:
    """Per-simulator Douyin state: issued tokens and the per-app rate limit."""

    token_lifetime_seconds: float = 7 * 86400
    refresh_lifetime_seconds: float = 14 * 86400
    rate_per_second: float = 100.0
    burst: float = 100.0
    tokens: dict[str, tuple[str, str, float]] = field(default_factory=dict)  # → (shop, app, expires)
    refresh_tokens: dict[str, tuple[str, str, float]] = field(default_factory=dict)
    buckets: dict[str, tuple[float, float]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def issue(self, shop_id: str, app_key: str) -> dict[str, Any]:
        access, refresh = secrets.token_hex(16), secrets.token_hex(16)
        now = time.time()
        with self.lock:
            self.tokens[access] = (shop_id, app_key, now + self.token_lifetime_seconds)
            self.refresh_tokens[refresh] = (shop_id, app_key, now + self.refresh_lifetime_seconds)
        return {
            "access_token": access,
            "expires_in": int(self.token_lifetime_seconds),
            "refresh_token": refresh,
            "scope": "SCOPE",
            "shop_id": shop_id,
            "shop_name": "",
            "authority_id": shop_id,
            "auth_subject_type": "MiniApp",
        }

    def expire(self, shop_id: str | None = None) -> None:
        """Let issued access tokens expire now (refresh tokens stay valid)."""
        with self.lock:
            for token, (shop, app, _) in list(self.tokens.items()):
                if shop_id is None or shop == shop_id:
                    self.tokens[token] = (shop, app, 0.0)

    def allow(self, app_key: str) -> bool:
        now = time.monotonic()
        with self.lock:
            level, at = self.buckets.get(app_key, (self.burst, now))
            level = min(self.burst, level + (now - at) * self.rate_per_second)
            if level < 1:
                self.buckets[app_key] = (level, now)
                return False
            self.buckets[app_key] = (level - 1, now)
            return True


_STATES: weakref.WeakKeyDictionary[ShopSimulator, DouyinSimState] = weakref.WeakKeyDictionary()


def state_of(sim: ShopSimulator) -> DouyinSimState:
    state = _STATES.get(sim)
    if state is None:
        state = _STATES[sim] = DouyinSimState()
    return state


def _fault_error(code: str) -> DouyinAnswer:
    number, _, sub_code = code.partition(":")
    try:
        value = int(number)
    except ValueError:
        value = 90000
    return DouyinAnswer(value, sub_code, f"injected fault {code}")


class DouyinFrontEnd:
    platform = PLATFORM

    def _serve(self, sim: ShopSimulator, method: str, raw: bytes, query: dict[str, str]) -> Response:
        """Runs in a worker thread: fault latencies and timeouts sleep without blocking the loop."""
        text = raw.decode("utf-8", "replace")
        try:
            params = json.loads(text) if text.strip() else {}
        except ValueError:
            params = None
        entry, fault = sim.gateway.admit(
            PLATFORM, method, {**query, **(params if isinstance(params, dict) else {})}
        )
        if fault is not None and fault.timeout:
            time.sleep(fault.timeout_seconds)
        if fault is not None and fault.http_status:
            entry["outcome"] = fault.http_status
            return Response(b"upstream error", status_code=fault.http_status, media_type="text/plain")
        try:
            if fault is not None and fault.code:
                raise _fault_error(fault.code)
            answer = self._dispatch(sim, state_of(sim), method, text, params, query)
        except DouyinAnswer as error:
            answer = error.body()
        entry["outcome"] = (
            answer["code"] if not answer.get("sub_code") else f"{answer['code']}:{answer['sub_code']}"
        )
        if fault is not None and fault.drop:
            return DroppedConnection()
        return JSONResponse(answer)

    def _app_secret(self, sim: ShopSimulator, app_key: str) -> str:
        for shop in sim.shops_of(PLATFORM):
            if shop.credentials.get("app_key") == app_key and shop.credentials.get("app_secret"):
                return shop.credentials["app_secret"]
        raise DouyinAnswer(40003, "isv.app-id-invalid", "认证失败，app_key不存在")

    def _check_signature(self, sim: ShopSimulator, method: str, text: str, query: dict[str, str]) -> str:
        """The request's app_key once its signature checks; DouyinAnswer otherwise."""
        app_key = query.get("app_key") or ""
        if not app_key:
            raise DouyinAnswer(40001, "isv.app-id-missing", "认证失败，app_key不存在")
        if query.get("method") != method:
            raise DouyinAnswer(40003, "isv.method-invalid", "method 与请求路径不符")
        if not query.get("sign"):
            raise DouyinAnswer(40001, "isv.signature-missing", "获取签名失败")
        timestamp = query.get("timestamp") or ""
        if parse_timestamp(timestamp) is None:
            raise DouyinAnswer(40003, "isv.timestamp-format-error", "时间戳格式错误")
        secret = self._app_secret(sim, app_key)
        # Without sign_method Douyin assumes md5, the older scheme.
        requested = query.get("sign_method") or "md5"
        if requested not in ("hmac-sha256", "md5"):
            raise DouyinAnswer(40003, "isv.sign-method-invalid", "sign_method 不合法")
        sign_method: SignMethod = "md5" if requested == "md5" else "hmac-sha256"
        expected = api_sign(app_key, secret, method, text, timestamp, query.get("v") or "", sign_method)
        if query["sign"].lower() != expected:
            raise DouyinAnswer(40003, "isv.signature-invalid", "签名校验失败")
        return app_key

    def _dispatch(
        self,
        sim: ShopSimulator,
        state: DouyinSimState,
        method: str,
        text: str,
        params: Any,
        query: dict[str, str],
    ) -> dict[str, Any]:
        app_key = self._check_signature(sim, method, text, query)
        if not isinstance(params, dict):
            raise DouyinAnswer(40003, "isv.parameter-format-invalid", "业务参数json解析失败")
        if not state.allow(app_key):
            raise DouyinAnswer(60000, "isv.flow-limit", "触发限流")
        if method == "token.create":
            return self._create(sim, state, app_key, params)
        if method == "token.refresh":
            return self._refresh(state, app_key, params)
        shop = self._shop_of_token(sim, state, app_key, query.get("access_token"))
        if method == "order.orderDetail":
            order = sim.world.get(PLATFORM, str(params.get("shop_order_id") or ""))
            if order is None or order.shop_id != shop.shop_id:
                raise DouyinAnswer(50002, "isv.business-failed", "订单不存在")
            return ok({"shop_order_detail": shop_order_detail(order, shop)})
        return self._search(sim, shop, params)

    def _create(
        self, sim: ShopSimulator, state: DouyinSimState, app_key: str, params: dict[str, Any]
    ) -> dict[str, Any]:
        if params.get("grant_type") != "authorization_self":
            raise DouyinAnswer(
                50001, "dop.token-generate-failed:grant-type-invalid", "grant_type参数取值不正确"
            )
        shop = sim.shop(PLATFORM, str(params.get("shop_id") or ""))
        if shop is None or shop.credentials.get("app_key") != app_key:
            raise DouyinAnswer(50001, "dop.token-generate-failed:no-authorization", "店铺授权已失效")
        return ok(state.issue(shop.shop_id, app_key))

    def _refresh(self, state: DouyinSimState, app_key: str, params: dict[str, Any]) -> dict[str, Any]:
        with state.lock:
            entry = state.refresh_tokens.pop(str(params.get("refresh_token") or ""), None)
        if params.get("grant_type") != "refresh_token" or entry is None or entry[1] != app_key:
            raise DouyinAnswer(50001, "dop.token-generate-failed:token-invalid", "生成token失败，token不存在")
        if entry[2] <= time.time():
            raise DouyinAnswer(50001, "dop.token-generate-failed:token-expired", "生成token失败，token已过期")
        return ok(state.issue(entry[0], app_key))

    def _shop_of_token(
        self, sim: ShopSimulator, state: DouyinSimState, app_key: str, token: str | None
    ) -> SimShop:
        if not token:
            raise DouyinAnswer(40001, "isv.access-token-missing", "认证失败，access_token不能为空")
        with state.lock:
            entry = state.tokens.get(token)
        if entry is None:
            raise DouyinAnswer(40003, "isv.access-token-no-existed", "access_token不存在")
        if entry[1] != app_key:
            raise DouyinAnswer(40003, "isv.access-token-invalid", "app_key和access_token不匹配")
        if entry[2] <= time.time():
            raise DouyinAnswer(40003, "isv.access-token-expired", "access_token已过期")
        shop = sim.shop(PLATFORM, entry[0])
        if shop is None:
            raise DouyinAnswer(30001, "dop.authorization-no-existed", "店铺授权已失效")
        return shop

    def _search(self, sim: ShopSimulator, shop: SimShop, params: dict[str, Any]) -> dict[str, Any]:
        try:
            page = int(params.get("page", 0))
            size = int(params.get("size", 10))
            start = params.get("update_time_start")
            end = params.get("update_time_end")
            start, end = (int(start) if start is not None else None), (int(end) if end is not None else None)
        except (TypeError, ValueError):
            raise DouyinAnswer(40004, "isv.parameter-invalid", "page/size/时间参数不合法") from None
        if page < 0 or not 1 <= size <= 100:
            raise DouyinAnswer(40004, "isv.parameter-invalid", "size 限制100以内, page 从0开始")
        key = "created_at" if params.get("order_by") == "create_time" else "updated_at"
        orders = [
            order
            for order in sim.world.orders(PLATFORM, shop.shop_id)
            # Bounds are inclusive, to the second [U].
            if (start is None or int(order.updated_at.timestamp()) >= start)
            and (end is None or int(order.updated_at.timestamp()) <= end)
        ]
        orders.sort(
            key=lambda order: (getattr(order, key), order.order_id), reverse=not params.get("order_asc")
        )
        chunk = orders[page * size : (page + 1) * size]
        return ok(
            {
                "shop_order_list": [shop_order_detail(order, shop) for order in chunk],
                "page": page,
                "size": size,
                "total": len(orders),
            }
        )

    # --- FrontEnd --------------------------------------------------------------------------------

    def router(self, sim: ShopSimulator) -> APIRouter:
        state_of(sim)
        router = APIRouter(tags=["douyin"])
        for method in METHODS:
            router.add_api_route(
                "/" + method.replace(".", "/"),
                self._endpoint(sim, method),
                methods=["POST"],
                include_in_schema=False,
            )
        return router

    def _endpoint(self, sim: ShopSimulator, method: str) -> Any:
        async def endpoint(request: Request) -> Response:
            raw = await request.body()
            return await asyncio.to_thread(self._serve, sim, method, raw, dict(request.query_params))

        return endpoint

    def on_change(self, sim: ShopSimulator, shop: SimShop, change: Change) -> None:
        if "app_key" not in shop.credentials or "app_secret" not in shop.credentials:
            return
        elements = elements_for(change.kind, change.order, shop, change.refund)
        if elements:
            body, headers = push_request(shop, elements)
            sim.deliver(shop, body, headers, accepted)


def accepted(status: int, body: bytes) -> bool:
    """Douyin's rule: HTTP 200 and a JSON answer whose code is 0."""
    if status != 200:
        return False
    try:
        answer = json.loads(body)
    except ValueError:
        return False
    return isinstance(answer, dict) and answer.get("code") in (0, "0")


FRONT_END = DouyinFrontEnd()
