"""The simulator's FastAPI app and the ways to run it (CLI, or a thread in tests and the demo).

`/cgi-bin/<api>` answers like WeCom: always HTTP 200 with `errcode`/`errmsg` (HTTP 404 only for a
path WeCom does not have), the token checked on every API (41001, 40014, 42001), per-API rate
limits (45009), injected faults, every request logged.
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response

from scrm.platforms.simulator_http import DroppedConnection, serve_in_thread
from scrm.platforms.wecom.errors import ErrCode
from scrm.platforms.wecom.simulator import (
    api_contacts,
    api_directory,
    api_tags,
    api_ways,
    control,
    control_console,
    pages,
)
from scrm.platforms.wecom.simulator.apis import ApiSpec, Call
from scrm.platforms.wecom.simulator.config import SimulatorConfig
from scrm.platforms.wecom.simulator.corp import SimClock, SimError
from scrm.platforms.wecom.simulator.gateway import RequestLog
from scrm.platforms.wecom.simulator.runtime import Simulator

API_SPECS: dict[str, ApiSpec] = {**api_directory.APIS, **api_contacts.APIS, **api_tags.APIS, **api_ways.APIS}


def _parse_body(raw: bytes) -> dict[str, Any]:
    if not raw.strip():
        return {}
    try:
        body = json.loads(raw)
    except ValueError as exc:
        raise SimError(ErrCode.INVALID_JSON, "Warning: wrong json format.") from exc
    if not isinstance(body, dict):
        raise SimError(ErrCode.INVALID_JSON, "Warning: wrong json format.")
    return body


async def cgi_bin(api: str, request: Request) -> Response:
    simulator: Simulator = request.app.state.simulator
    corp = simulator.corp
    query = dict(request.query_params)
    raw = await request.body()
    entry: dict[str, Any] = {
        "time": corp.now(),
        "method": request.method,
        "path": request.url.path,
        "api": api,
        "query": RequestLog.redact(query),
        "body": None,
        "errcode": None,
    }
    simulator.requests.add(entry)
    spec = API_SPECS.get(api)
    if spec is None:
        simulator.requests.answered(entry, 404)
        return JSONResponse({"errcode": 404, "errmsg": f"no such api {api}"}, status_code=404)
    fault = simulator.faults.pick(api)
    if fault is not None:
        if fault.latency_ms:
            await asyncio.sleep(fault.latency_ms / 1000)
        if fault.timeout:
            await asyncio.sleep(simulator.config.fault_timeout_seconds)
    try:
        body = _parse_body(raw) if spec.method == "POST" else {}
        entry["body"] = body if raw else None
        if fault is not None and fault.errcode is not None:
            raise SimError(fault.errcode)
        if spec.method == "POST" and request.method != "POST":
            raise SimError(ErrCode.EMPTY_PARAMETER, "this api only supports POST")
        with corp.lock:
            kind = corp.check_token(query.get("access_token")) if spec.needs_token else None
            if spec.rate_limited and not simulator.limiter.allow(api, corp.now()):
                raise SimError(ErrCode.FREQUENCY_LIMIT)
            result = spec.handler(
                corp, Call(query=query, body=body, kind=kind, base_url=str(request.base_url))
            )
        answer: dict[str, Any] = {"errcode": 0, "errmsg": "ok", **result}
    except SimError as error:
        answer = error.body()
    simulator.requests.answered(entry, int(answer["errcode"]))
    if fault is not None and fault.drop:
        return DroppedConnection()
    return JSONResponse(answer)


def create_simulator_app(config: SimulatorConfig, *, clock: SimClock | None = None) -> FastAPI:
    """The simulator as an ASGI app; `app.state.simulator` is the live `Simulator`."""
    simulator = Simulator(config, clock=clock)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        yield
        simulator.close()

    app = FastAPI(
        title="WeCom simulator",
        lifespan=lifespan,
        docs_url="/_sim/docs",
        openapi_url="/_sim/openapi.json",
        redoc_url=None,
    )
    app.state.simulator = simulator
    app.include_router(control.router)
    app.include_router(control_console.router)
    app.include_router(pages.router)
    app.add_api_route("/cgi-bin/{api:path}", cgi_bin, methods=["GET", "POST"], include_in_schema=False)
    return app


def run_simulator(config: SimulatorConfig, host: str = "127.0.0.1", port: int = 8700) -> None:
    """Serve until interrupted (what `scrm simulate wecom` runs)."""
    uvicorn.run(create_simulator_app(config), host=host, port=port, log_level="warning", access_log=False)


class RunningSimulator:
    """A simulator served by uvicorn in a daemon thread; `base_url` is where WeCom's hosts map to."""

    def __init__(self, app: FastAPI, server: uvicorn.Server, thread: threading.Thread, base_url: str) -> None:
        self.app = app
        self.server = server
        self.thread = thread
        self.base_url = base_url

    @property
    def simulator(self) -> Simulator:
        simulator: Simulator = self.app.state.simulator
        return simulator

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)

    def __enter__(self) -> RunningSimulator:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


def start_simulator(
    config: SimulatorConfig, *, host: str = "127.0.0.1", port: int = 0, clock: SimClock | None = None
) -> RunningSimulator:
    """Start the simulator in a thread (port 0: a free port) and return once it accepts requests."""
    app = create_simulator_app(config, clock=clock)
    server, thread, base_url = serve_in_thread(app, host=host, port=port, name="wecom-simulator")
    return RunningSimulator(app, server, thread, base_url)
