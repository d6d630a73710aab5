"""The shop simulator app: each installed platform's API routes plus the control API under /_sim/.

    sim = ShopSimulator(seed=7)
    with start_shop_simulator(sim, platforms=["youzan", "taobao"]) as running:
        sim.add_shop(SimShop("youzan", "63077", "旗舰店", {"client_id": ..., "client_secret": ...},
                             push_url="http://127.0.0.1:8000/hooks/youzan/1"))
        base_url = running.base_url                   # every platform's API base URL

Control API: `GET /_sim/state`; `POST /_sim/shops`, `PATCH /_sim/shops/{platform}/{shop_id}`;
`POST /_sim/orders` (optionally with lifecycle `steps`), `POST /_sim/orders/{platform}/{id}/advance`,
`GET /_sim/orders`; `POST|GET|DELETE /_sim/faults`; `GET|DELETE /_sim/requests`; `GET /_sim/pushes`.
"""

from __future__ import annotations

import importlib
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pydantic
import uvicorn
from fastapi import APIRouter, FastAPI, HTTPException, Request

from scrm.platforms.shops.simulator.gateway import FaultSpec
from scrm.platforms.shops.simulator.runtime import FrontEnd, ShopSimulator, SimShop
from scrm.platforms.shops.simulator.world import SimOrder
from scrm.platforms.simulator_http import serve_in_thread

#: Platform → module exposing `FRONT_END` (a `FrontEnd`).
FRONT_END_MODULES = {
    "youzan": "scrm.platforms.shops.youzan.simulator",
    "taobao": "scrm.platforms.shops.taobao.simulator",
    "douyin": "scrm.platforms.shops.douyin.simulator",
    "jd": "scrm.platforms.shops.jd.simulator",
    "pdd": "scrm.platforms.shops.pdd.simulator",
}


def load_front_end(platform: str) -> FrontEnd:
    front_end: FrontEnd = importlib.import_module(FRONT_END_MODULES[platform]).FRONT_END
    return front_end


def _sim(request: Request) -> ShopSimulator:
    sim: ShopSimulator = request.app.state.shop_simulator
    return sim


class ShopIn(pydantic.BaseModel):
    platform: str
    shop_id: str
    name: str = "模拟店铺"
    credentials: dict[str, str] = pydantic.Field(default_factory=dict)
    push_url: str | None = None


class ShopPatch(pydantic.BaseModel):
    push_url: str | None = None
    pushes_enabled: bool | None = None


class OrderIn(pydantic.BaseModel):
    platform: str
    shop_id: str
    person: str = pydantic.Field(
        description="the buyer's person key; the same key on several platforms is one human"
    )
    name: str | None = None
    phone: str | None = None
    unionid: str | None = None
    skus: list[tuple[str, int]] | None = None
    post_fee_fen: int = 0
    presale_days: int | None = None
    reveal_phone: bool = False
    steps: list[str] = pydantic.Field(default_factory=list)


class AdvanceIn(pydantic.BaseModel):
    step: str
    amount_fen: int | None = None


def order_record(order: SimOrder) -> dict[str, Any]:
    return {
        "platform": order.platform,
        "shop_id": order.shop_id,
        "order_id": order.order_id,
        "person": order.person.key,
        "buyer_account": order.buyer_account,
        "status": order.status,
        "version": order.version,
        "payment_fen": order.payment_fen,
        "refunded_fen": order.refunded_fen,
        "updated_at": order.updated_at.isoformat(),
    }


control = APIRouter(prefix="/_sim", tags=["control"])


@control.get("/state")
def state(request: Request) -> dict[str, Any]:
    return _sim(request).state()


@control.post("/shops")
def add_shop(body: ShopIn, request: Request) -> dict[str, Any]:
    sim = _sim(request)
    if body.platform not in sim.front_ends:
        raise HTTPException(422, f"platform {body.platform} is not served here")
    sim.add_shop(SimShop(body.platform, body.shop_id, body.name, body.credentials, body.push_url))
    return {"ok": True}


@control.patch("/shops/{platform}/{shop_id}")
def patch_shop(platform: str, shop_id: str, body: ShopPatch, request: Request) -> dict[str, Any]:
    shop = _sim(request).shop(platform, shop_id)
    if shop is None:
        raise HTTPException(404, "no such shop")
    if "push_url" in body.model_fields_set:
        shop.push_url = body.push_url
    if body.pushes_enabled is not None:
        shop.pushes_enabled = body.pushes_enabled
    return {"ok": True}


@control.post("/orders")
def create_order(body: OrderIn, request: Request) -> dict[str, Any]:
    sim = _sim(request)
    if sim.shop(body.platform, body.shop_id) is None:
        raise HTTPException(404, "no such shop")
    person = sim.world.person(body.person, name=body.name, phone=body.phone, unionid=body.unionid)
    try:
        order = sim.world.create_order(
            body.platform,
            body.shop_id,
            person,
            skus=body.skus,
            post_fee_fen=body.post_fee_fen,
            presale_days=body.presale_days,
            reveal_phone=body.reveal_phone,
        )
        for step in body.steps:
            sim.world.advance(order, step)
    except (ValueError, KeyError) as error:
        raise HTTPException(422, str(error)) from None
    return order_record(order)


@control.post("/orders/{platform}/{order_id}/advance")
def advance(platform: str, order_id: str, body: AdvanceIn, request: Request) -> dict[str, Any]:
    sim = _sim(request)
    order = sim.world.get(platform, order_id)
    if order is None:
        raise HTTPException(404, "no such order")
    try:
        sim.world.advance(order, body.step, amount_fen=body.amount_fen)
    except ValueError as error:
        raise HTTPException(409, str(error)) from None
    return order_record(order)


@control.get("/orders")
def list_orders(
    request: Request, platform: str | None = None, shop_id: str | None = None
) -> list[dict[str, Any]]:
    return [order_record(order) for order in _sim(request).world.orders(platform, shop_id)]


@control.post("/faults")
def add_fault(spec: FaultSpec, request: Request) -> dict[str, Any]:
    return {"id": _sim(request).gateway.add_fault(spec).id}


@control.get("/faults")
def list_faults(request: Request) -> list[dict[str, Any]]:
    return _sim(request).gateway.faults()


@control.delete("/faults")
def clear_faults(request: Request) -> dict[str, Any]:
    _sim(request).gateway.clear_faults()
    return {"ok": True}


@control.get("/requests")
def list_requests(
    request: Request, platform: str | None = None, api: str | None = None, limit: int = 200
) -> list[dict[str, Any]]:
    return _sim(request).gateway.requests(platform, api, limit)


@control.delete("/requests")
def clear_requests(request: Request) -> dict[str, Any]:
    _sim(request).gateway.clear_requests()
    return {"ok": True}


@control.get("/pushes")
def list_pushes(request: Request, platform: str | None = None, limit: int = 200) -> list[dict[str, Any]]:
    return _sim(request).pushes(platform, limit)


def create_shop_simulator_app(sim: ShopSimulator, platforms: list[str]) -> FastAPI:
    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        yield
        sim.close()

    app = FastAPI(
        title="Shop simulator", lifespan=lifespan, docs_url="/_sim/docs", openapi_url="/_sim/openapi.json"
    )
    app.state.shop_simulator = sim
    app.include_router(control)
    for platform in platforms:
        front_end = load_front_end(platform)
        sim.install(front_end)
        app.include_router(front_end.router(sim))
    return app


class RunningShopSimulator:
    def __init__(self, app: FastAPI, server: uvicorn.Server, thread: threading.Thread, base_url: str) -> None:
        self.app = app
        self.server = server
        self.thread = thread
        self.base_url = base_url

    @property
    def simulator(self) -> ShopSimulator:
        sim: ShopSimulator = self.app.state.shop_simulator
        return sim

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)

    def __enter__(self) -> RunningShopSimulator:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


def start_shop_simulator(
    sim: ShopSimulator, *, platforms: list[str], host: str = "127.0.0.1", port: int = 0
) -> RunningShopSimulator:
    """Serve `sim` with uvicorn in a daemon thread (port 0: a free port); returns once it accepts."""
    app = create_shop_simulator_app(sim, platforms)
    server, thread, base_url = serve_in_thread(app, host=host, port=port, name="shop-simulator")
    return RunningShopSimulator(app, server, thread, base_url)


def run_shop_simulator(
    sim: ShopSimulator, platforms: list[str], host: str = "127.0.0.1", port: int = 8710
) -> None:
    uvicorn.run(
        create_shop_simulator_app(sim, platforms), host=host, port=port, log_level="warning", access_log=False
    )
