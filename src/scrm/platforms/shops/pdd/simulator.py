"""The simulated Pinduoduo gateway: `/api/router` plus the PMC stand-in `/pmc/consume`, `/pmc/ack`.

`/api/router` (form, JSON or query) checks `type` (10000), `client_id` (10016 [U]), `sign` (20004),
`timestamp`, `access_token` (10019: it must belong to a PDD shop of that client), a per-app rate limit
(70031), then answers `pdd.order.number.list.increment.get` (≤ 30-minute window, both ends inclusive
to the second, page/page_size ≤ 100, `total_count`, `has_next`), `pdd.order.information.get` and
`pdd.pmc.user.permit`. Paid orders only. Injected faults come first, rendered as `error_response`
(`code`), HTTP statuses, timeouts or dropped connections.

World changes become PMC frames in the shop's channel (paid → pdd_trade_TradeConfirmed, shipped →
pdd_trade_TradeSellerShip, received → pdd_trade_TradeSuccess, refund_succeeded →
pdd_refund_RefundCreated then pdd_refund_RefundAgreeAgreement). The real PMC is a WebSocket; here the
frames are polled (see `channel.py`), each invisible for `pmc_visibility_seconds` after delivery and
delivered again unless acked. Tune per simulator: `FRONT_END.state(sim).pmc_visibility_seconds = 1`.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import threading
import time
import weakref
from dataclasses import dataclass, field
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from starlette.concurrency import run_in_threadpool

from scrm.platforms.shops.pdd import errors, signing, sim_orders
from scrm.platforms.shops.pdd.client import DETAIL_API, INCREMENT_API, MAX_WINDOW_SECONDS, PAGE_SIZE
from scrm.platforms.shops.simulator.gateway import Fault
from scrm.platforms.shops.simulator.runtime import ShopSimulator, SimShop
from scrm.platforms.shops.simulator.world import Change
from scrm.platforms.simulator_http import DroppedConnection

PERMIT_API = "pdd.pmc.user.permit"
TRADE_TOPICS = {
    "paid": "pdd_trade_TradeConfirmed",
    "shipped": "pdd_trade_TradeSellerShip",
    "received": "pdd_trade_TradeSuccess",
}


class PddSimError(Exception):
    def __init__(self, code: int, detail: str | None = None) -> None:
        super().__init__(code)
        self.code = code
        self.detail = detail


@dataclass
class PddSimState:
    """Per-simulator knobs, the rate limiter's buckets and the PMC bookkeeping."""

    rate_limit_per_second: float = 100.0
    rate_burst: float = 100.0
    pmc_visibility_seconds: float = 10.0
    buyer_id_field: str | None = "open_buyer_id"
    permits: dict[str, list[str]] = field(default_factory=dict)
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(sim_orders.FRAME_ID_BASE + 1))
    _buckets: dict[str, tuple[float, float]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def allow(self, client_id: str) -> bool:
        now = time.monotonic()
        with self.lock:
            tokens, last = self._buckets.get(client_id, (self.rate_burst, now))
            tokens = min(self.rate_burst, tokens + (now - last) * self.rate_limit_per_second)
            allowed = tokens >= 1
            self._buckets[client_id] = (tokens - 1 if allowed else tokens, now)
        return allowed

    def next_id(self) -> int:
        with self.lock:
            return next(self._ids)


def _authenticate(sim: ShopSimulator, state: PddSimState, params: dict[str, Any]) -> SimShop:
    client_id = str(params.get("client_id") or "")
    shops = [shop for shop in sim.shops_of("pdd") if shop.credentials.get("client_id") == client_id]
    if not shops:
        raise PddSimError(errors.CLIENT_ID_INVALID)
    sent = str(params.get("sign") or "")
    if not sent or sent.upper() != signing.sign(params, shops[0].credentials.get("client_secret", "")):
        raise PddSimError(errors.SIGN_INVALID)
    if not str(params.get("timestamp") or "").isdigit():
        raise PddSimError(errors.PARAMETER_ERROR, "timestamp不合法")
    shop = next((s for s in shops if s.credentials.get("access_token") == params.get("access_token")), None)
    if shop is None:
        raise PddSimError(errors.ACCESS_TOKEN_INVALID)
    if not state.allow(client_id):
        raise PddSimError(errors.CALL_LIMITED)
    return shop


def _int(params: dict[str, Any], name: str, default: int | None = None) -> int:
    value = params.get(name, default)
    try:
        return int(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise PddSimError(errors.PARAMETER_ERROR, f"{name}不合法") from None


def increment(
    sim: ShopSimulator, state: PddSimState, shop: SimShop, params: dict[str, Any]
) -> dict[str, Any]:
    start = _int(params, "start_updated_at")
    end = _int(params, "end_updated_at")
    if end < start or end - start > MAX_WINDOW_SECONDS:
        raise PddSimError(errors.PARAMETER_ERROR, "开始时间和结束时间间距不能超过30分钟")
    page, page_size = _int(params, "page", 1), _int(params, "page_size", PAGE_SIZE)
    if page < 1 or not 1 <= page_size <= PAGE_SIZE:
        raise PddSimError(errors.PARAMETER_ERROR, "page/page_size不合法")
    wanted_status, wanted_refund = _int(params, "order_status", 5), _int(params, "refund_status", 5)
    rows = []
    for order in sim.world.orders("pdd", shop.shop_id):
        statuses = sim_orders.order_statuses(order)
        second = int(order.updated_at.timestamp())
        if statuses is None or not start <= second <= end:
            continue
        if wanted_status != 5 and statuses[0] != wanted_status:
            continue
        if wanted_refund != 5 and statuses[1] != wanted_refund:
            continue
        rows.append(order)
    rows.sort(key=lambda order: (order.updated_at, order.order_id), reverse=True)
    chosen = rows[(page - 1) * page_size : page * page_size]
    return {
        "order_sn_increment_get_response": {
            "total_count": len(rows),
            "has_next": page * page_size < len(rows),
            "order_sn_list": [sim_orders.render(order, state.buyer_id_field) for order in chosen],
        }
    }


def information(
    sim: ShopSimulator, state: PddSimState, shop: SimShop, params: dict[str, Any]
) -> dict[str, Any]:
    order = sim.world.get("pdd", str(params.get("order_sn") or ""))
    rendered = None
    if order is not None and order.shop_id == shop.shop_id:
        rendered = sim_orders.render(order, state.buyer_id_field)
    if rendered is None:
        raise PddSimError(errors.PARAMETER_ERROR, "订单不存在")  # [U]
    return {"order_info_get_response": {"order_info": rendered}}


def consume(sim: ShopSimulator, state: PddSimState, shop: SimShop, params: dict[str, Any]) -> dict[str, Any]:
    quantity = max(1, min(_int(params, "quantity", 100), 200))
    now = time.time()
    frames: list[str] = []
    with state.lock:
        for entry in sim.channel("pdd", shop.shop_id):
            if len(frames) >= quantity:
                break
            if entry["visible_at"] <= now:
                entry["visible_at"] = now + state.pmc_visibility_seconds
                entry["deliveries"] += 1
                frames.append(entry["frame"])
    return {"frames": frames}


def ack(sim: ShopSimulator, state: PddSimState, shop: SimShop, params: dict[str, Any]) -> dict[str, Any]:
    try:
        acks = json.loads(str(params.get("acks") or "[]"))
        ids = {int(item["id"]) for item in acks if item.get("commandType", "Ack") == "Ack"}
    except (ValueError, TypeError, KeyError, AttributeError):
        raise PddSimError(errors.PARAMETER_ERROR, "acks不合法") from None
    channel = sim.channel("pdd", shop.shop_id)
    with state.lock:
        kept = [entry for entry in channel if entry["id"] not in ids]
        acked = len(channel) - len(kept)
        channel.clear()
        channel.extend(kept)
    return {"acked": acked}


def answer(
    sim: ShopSimulator, state: PddSimState, api: str, params: dict[str, Any]
) -> tuple[Any, Fault | None]:
    """(JSON body, or an int HTTP status; the fault that fired). Runs in a worker thread."""
    entry, fault = sim.gateway.admit("pdd", api or "-", params)
    if fault is not None and fault.http_status:
        entry["outcome"] = f"http {fault.http_status}"
        return fault.http_status, fault
    try:
        if fault is not None and fault.code:
            raise PddSimError(int(fault.code) if fault.code.isdigit() else errors.PARAMETER_ERROR)
        if not api:
            raise PddSimError(errors.PARAMETER_ERROR, "type不能为空")
        shop = _authenticate(sim, state, params)
        if api == INCREMENT_API:
            body = increment(sim, state, shop, params)
        elif api == DETAIL_API:
            body = information(sim, state, shop, params)
        elif api == PERMIT_API:
            state.permits[shop.shop_id] = str(params.get("topics") or "").split(",")
            body = {"pmc_user_permit_response": {"success": True}}
        elif api == "pmc.consume":
            body = consume(sim, state, shop, params)
        elif api == "pmc.ack":
            body = ack(sim, state, shop, params)
        else:
            raise PddSimError(errors.PARAMETER_ERROR, "type不存在")
        entry["outcome"] = "ok"
    except PddSimError as error:
        body = errors.error_body(error.code, error.detail)
        entry["outcome"] = error.code
    return body, fault


async def _params(request: Request) -> dict[str, Any]:
    params: dict[str, Any] = dict(request.query_params)
    if request.method == "POST":
        if "json" in request.headers.get("content-type", ""):
            body = await request.json()
            if isinstance(body, dict):
                params.update(body)
        else:
            form = await request.form()
            params.update({key: str(value) for key, value in form.items()})
    return params


class PddFrontEnd:
    platform = "pdd"

    def __init__(self) -> None:
        self._states: weakref.WeakKeyDictionary[ShopSimulator, PddSimState] = weakref.WeakKeyDictionary()

    def state(self, sim: ShopSimulator) -> PddSimState:
        if sim not in self._states:
            self._states[sim] = PddSimState()
        return self._states[sim]

    def router(self, sim: ShopSimulator) -> APIRouter:
        router = APIRouter(tags=["pdd"])
        state = self.state(sim)

        async def serve(api: str, params: dict[str, Any]) -> Response:
            body, fault = await run_in_threadpool(answer, sim, state, api, params)
            if fault is not None and fault.timeout:
                await asyncio.sleep(fault.timeout_seconds)
            if fault is not None and fault.drop:
                return DroppedConnection()
            if isinstance(body, int):
                return PlainTextResponse("Service Unavailable", status_code=body)
            return JSONResponse(body)

        @router.api_route("/api/router", methods=["GET", "POST"], include_in_schema=False)
        async def api_router(request: Request) -> Response:
            params = await _params(request)
            return await serve(str(params.get("type") or ""), params)

        @router.post("/pmc/consume", include_in_schema=False)
        async def pmc_consume(request: Request) -> Response:
            return await serve("pmc.consume", await _params(request))

        @router.post("/pmc/ack", include_in_schema=False)
        async def pmc_ack(request: Request) -> Response:
            return await serve("pmc.ack", await _params(request))

        return router

    def on_change(self, sim: ShopSimulator, shop: SimShop, change: Change) -> None:
        order = change.order
        if order.paid_at is None:  # PDD says nothing about orders never paid
            return
        state = self.state(sim)
        topics: list[tuple[str, dict[str, Any]]] = []
        if change.kind in TRADE_TOPICS:
            topics.append((TRADE_TOPICS[change.kind], sim_orders.trade_content(order, shop.shop_id)))
        elif change.kind == "refund_succeeded" and change.refund is not None:
            agreed = sim_orders.refund_content(order, change.refund, shop.shop_id)
            # The world refunds at once; the request is dated a millisecond before the agreement
            # so the two observations of the refund keep a strict order.
            created = {**agreed, "modified": agreed["modified"] - 1}
            topics += [("pdd_refund_RefundCreated", created), ("pdd_refund_RefundAgreeAgreement", agreed)]
        now_ms = int(time.time() * 1000)
        channel = sim.channel("pdd", shop.shop_id)
        for topic, content in topics:
            frame_id = state.next_id()
            text = sim_orders.frame(frame_id, topic, shop.shop_id, content, order.updated_at, now_ms)
            with state.lock:
                channel.append({"id": frame_id, "frame": text, "visible_at": 0.0, "deliveries": 0})


FRONT_END = PddFrontEnd()
