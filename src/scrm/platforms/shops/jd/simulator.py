"""The simulated JOS gateway: `/routerjson` (GET query or POST form), answering from the shared world.

Checks in JOS's order: method (14/15), app_key (20/21), sign (11/12), timestamp (7/8, ±6 min [S]),
v (4/5), access_token (18/19: it must belong to a JD shop of that app), a per-app rate limit (2, App
Call Limited [S]), then the method: `jingdong.pop.order.enSearch` / `.search` (modified or created
time window, `order_state` filter, page/page_size ≤ 100, `orderTotal`) and `jingdong.pop.order.get` /
`.enGet`. Injected faults come first, rendered as JOS errors (`code`), HTTP statuses, timeouts or
dropped connections. JD has no push, so world changes produce nothing here.

Tune per simulator: `FRONT_END.state(sim).rate_limit_per_second = 2`.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
import weakref
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from starlette.concurrency import run_in_threadpool

from scrm.platforms.shops.jd import errors, signing, sim_orders
from scrm.platforms.shops.simulator.gateway import Fault
from scrm.platforms.shops.simulator.runtime import ShopSimulator, SimShop
from scrm.platforms.shops.simulator.world import Change
from scrm.platforms.simulator_http import DroppedConnection

SEARCH_METHODS = frozenset({"jingdong.pop.order.enSearch", "jingdong.pop.order.search"})
GET_METHODS = frozenset({"jingdong.pop.order.get", "jingdong.pop.order.enGet"})
MAX_PAGE_SIZE = 100
MAX_WINDOW = timedelta(days=31)  # "one month per window" [S]


class JdSimError(Exception):
    def __init__(self, code: str, detail: str | None = None) -> None:
        super().__init__(code)
        self.code = code
        self.detail = detail


@dataclass
class JdSimState:
    """Per-simulator knobs and the rate limiter's buckets."""

    rate_limit_per_second: float = 100.0
    rate_burst: float = 100.0
    timestamp_tolerance: timedelta = timedelta(minutes=6)
    _buckets: dict[str, tuple[float, float]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def allow(self, app_key: str) -> bool:
        """A token bucket per app: `rate_burst` calls at once, `rate_limit_per_second` after."""
        now = time.monotonic()
        with self._lock:
            tokens, last = self._buckets.get(app_key, (self.rate_burst, now))
            tokens = min(self.rate_burst, tokens + (now - last) * self.rate_limit_per_second)
            allowed = tokens >= 1
            self._buckets[app_key] = (tokens - 1 if allowed else tokens, now)
        return allowed


def _shops_of_app(sim: ShopSimulator, app_key: str) -> list[SimShop]:
    shops = [shop for shop in sim.shops_of("jd") if shop.credentials.get("app_key") == app_key]
    if not shops:
        raise JdSimError(errors.INVALID_APP_KEY)
    return shops


def _authenticate(sim: ShopSimulator, state: JdSimState, params: dict[str, str]) -> SimShop:
    method = params.get("method")
    if not method:
        raise JdSimError(errors.MISSING_METHOD)
    if method not in SEARCH_METHODS | GET_METHODS:
        raise JdSimError(errors.INVALID_METHOD)
    app_key = params.get("app_key")
    if not app_key:
        raise JdSimError(errors.MISSING_APP_KEY)
    shops = _shops_of_app(sim, app_key)
    if not params.get("sign"):
        raise JdSimError(errors.MISSING_SIGNATURE)
    if params["sign"].upper() != signing.sign(params, shops[0].credentials.get("app_secret", "")):
        raise JdSimError(errors.INVALID_SIGNATURE)
    if not params.get("timestamp"):
        raise JdSimError(errors.MISSING_TIMESTAMP)
    try:
        sent = signing.parse_timestamp(params["timestamp"])
    except ValueError:
        raise JdSimError(errors.INVALID_TIMESTAMP) from None
    if abs(datetime.now(UTC) - sent) > state.timestamp_tolerance:
        raise JdSimError(errors.INVALID_TIMESTAMP)
    if not params.get("v"):
        raise JdSimError(errors.MISSING_VERSION)
    if params["v"] != "2.0":
        raise JdSimError(errors.UNSUPPORTED_VERSION)
    token = params.get("access_token")
    if not token:
        raise JdSimError(errors.MISSING_ACCESS_TOKEN)
    # The token names the seller: it must belong to one of this app's shops.
    shop = next((s for s in shops if s.credentials.get("access_token") == token), None)
    if shop is None:
        raise JdSimError(errors.INVALID_ACCESS_TOKEN)
    if not state.allow(app_key):
        raise JdSimError(errors.APP_CALL_LIMITED)
    return shop


def _business(params: dict[str, str]) -> dict[str, Any]:
    raw = params.get("360buy_param_json") or "{}"
    try:
        business = json.loads(raw)
    except ValueError:
        raise JdSimError(errors.INVALID_JSON) from None
    if not isinstance(business, dict):
        raise JdSimError(errors.INVALID_JSON)
    return business


def _int(business: dict[str, Any], name: str, default: int) -> int:
    value = business.get(name)
    if value in (None, ""):
        return default
    try:
        return int(value)
    except (TypeError, ValueError):
        raise JdSimError(errors.INVALID_PARAMETER_VALUE, f"参数{name}值不合法") from None


def _window_time(business: dict[str, Any], name: str) -> datetime | None:
    value = business.get(name)
    if not value:
        return None
    try:
        return datetime.strptime(str(value), "%Y-%m-%d %H:%M:%S").replace(tzinfo=signing.CST)
    except ValueError:
        raise JdSimError(errors.INVALID_PARAMETER_VALUE, f"参数{name}值不合法") from None


def search(sim: ShopSimulator, shop: SimShop, business: dict[str, Any]) -> dict[str, Any]:
    start = _window_time(business, "start_date")
    end = _window_time(business, "end_date")
    if start and end and end - start > MAX_WINDOW:
        raise JdSimError(errors.INVALID_PARAMETER_VALUE, "查询时间跨度不能超过一个月")
    page = _int(business, "page", 1)
    page_size = _int(business, "page_size", MAX_PAGE_SIZE)
    if page < 1 or not 1 <= page_size <= MAX_PAGE_SIZE:
        raise JdSimError(errors.INVALID_PARAMETER_VALUE, "page/page_size值不合法")
    by_created = str(business.get("dateType", business.get("date_type", "0"))) == "1"
    states = {s for s in str(business.get("order_state") or "").split(",") if s}
    vender_id = shop.credentials.get("vender_id", shop.shop_id)
    rows = []
    for order in sim.world.orders("jd", shop.shop_id):
        info = sim_orders.render(order, vender_id)
        if info is None or (states and info["orderState"] not in states):
            continue
        moment = order.created_at.replace(microsecond=0) if by_created else sim_orders.modified_second(order)
        if (start is None or start <= moment) and (end is None or moment <= end):
            rows.append((moment, order.order_id, info))
    rows.sort(key=lambda row: (row[0], row[1]), reverse=str(business.get("sortType")) == "1")
    chosen = [info for _, _, info in rows[(page - 1) * page_size : page * page_size]]
    return {
        "code": "0",
        "searchorderinfo_result": {
            "apiResult": sim_orders.api_result(),
            "orderInfoList": chosen,
            "orderTotal": len(rows),
        },
    }


def get(sim: ShopSimulator, shop: SimShop, business: dict[str, Any]) -> dict[str, Any]:
    order = sim.world.get("jd", str(business.get("order_id") or ""))
    info = None
    if order is not None and order.shop_id == shop.shop_id:
        info = sim_orders.render(order, shop.credentials.get("vender_id", shop.shop_id))
    if info is None:
        return {"code": "0", "orderDetailInfo": {"apiResult": sim_orders.NOT_FOUND}}
    return {"code": "0", "orderDetailInfo": {"apiResult": sim_orders.api_result(), "orderInfo": info}}


def answer(sim: ShopSimulator, state: JdSimState, params: dict[str, str]) -> tuple[Any, Fault | None]:
    """(JSON body, or an int HTTP status; the fault that fired). Runs in a worker thread: the
    gateway sleeps out injected latency."""
    method = params.get("method") or ""
    entry, fault = sim.gateway.admit("jd", method or "-", params)
    if fault is not None and fault.http_status:
        entry["outcome"] = f"http {fault.http_status}"
        return fault.http_status, fault
    try:
        if fault is not None and fault.code:
            raise JdSimError(fault.code)
        shop = _authenticate(sim, state, params)
        business = _business(params)
        data = search(sim, shop, business) if method in SEARCH_METHODS else get(sim, shop, business)
        body: dict[str, Any] = {method.replace(".", "_") + "_responce": data}
        entry["outcome"] = "ok"
    except JdSimError as error:
        body = errors.error_body(error.code, error.detail)
        entry["outcome"] = error.code
    return body, fault


class JdFrontEnd:
    platform = "jd"

    def __init__(self) -> None:
        self._states: weakref.WeakKeyDictionary[ShopSimulator, JdSimState] = weakref.WeakKeyDictionary()

    def state(self, sim: ShopSimulator) -> JdSimState:
        if sim not in self._states:
            self._states[sim] = JdSimState()
        return self._states[sim]

    def router(self, sim: ShopSimulator) -> APIRouter:
        router = APIRouter(tags=["jd"])
        state = self.state(sim)

        @router.api_route("/routerjson", methods=["GET", "POST"], include_in_schema=False)
        async def routerjson(request: Request) -> Response:
            params = {key: str(value) for key, value in request.query_params.items()}
            if request.method == "POST":
                form = await request.form()
                params.update({key: str(value) for key, value in form.items()})
            body, fault = await run_in_threadpool(answer, sim, state, params)
            if fault is not None and fault.timeout:
                await asyncio.sleep(fault.timeout_seconds)
            if fault is not None and fault.drop:
                return DroppedConnection()
            if isinstance(body, int):
                return PlainTextResponse("Service Unavailable", status_code=body)
            return JSONResponse(body)

        return router

    def on_change(self, sim: ShopSimulator, shop: SimShop, change: Change) -> None:
        """JD pushes nothing over HTTP (§8.2 [U]); sellers pull."""


FRONT_END = JdFrontEnd()
