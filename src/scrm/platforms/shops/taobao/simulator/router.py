"""`/router/rest` of the simulated TOP gateway: the gateway's checks in TOP's terms, then the API.

Both GET (query) and POST (form, optionally plus query) are accepted, as on TOP. Checks: method
(21/22), app key (28/29), version (32/34), format (23: this simulator speaks JSON only), timestamp
(30/31, ±`timestamp_tolerance_seconds`), signature with the request's own sign_method (24/25), the
per-app rate limit (7, "This ban will last for N more seconds"), the seller's session where the API
needs one (26/27). Injected faults come first: a `code` is answered as TOP would (numeric codes as
themselves, `isp.*`/`isv.*` as code 15 with that sub code).
"""

from __future__ import annotations

import asyncio
import uuid
from datetime import datetime
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from scrm.platforms.shops.simulator.gateway import Fault
from scrm.platforms.shops.simulator.runtime import ShopSimulator
from scrm.platforms.shops.taobao.client import response_key
from scrm.platforms.shops.taobao.errors import MESSAGES
from scrm.platforms.shops.taobao.mapping import SHANGHAI, TIME_FORMAT
from scrm.platforms.shops.taobao.signing import SIGN_METHODS, verify
from scrm.platforms.shops.taobao.simulator.apis import APIS, Call, SimError
from scrm.platforms.shops.taobao.simulator.state import TaobaoSimState
from scrm.platforms.simulator_http import DroppedConnection


def ban_error(seconds: float) -> SimError:
    return SimError(
        7,
        sub_code="accesscontrol.limited-by-app-access-count",
        sub_msg=f"This ban will last for {int(seconds)} more seconds",
    )


def fault_error(code: str) -> SimError:
    if code.lstrip("-").isdigit():
        number = int(code)
        if number == 7:
            return ban_error(1)
        if number == 27:
            return SimError(27, sub_code="invalid-sessionkey", sub_msg="SessionKey非法")
        return SimError(number)
    return SimError(15, sub_code=code, sub_msg=f"simulated {code}")


def error_body(error: SimError) -> dict[str, Any]:
    body: dict[str, Any] = {"code": error.code, "msg": error.detail or MESSAGES.get(error.code, "Error")}
    if error.sub_code:
        body["sub_code"] = error.sub_code
    if error.sub_msg:
        body["sub_msg"] = error.sub_msg
    body["request_id"] = uuid.uuid4().hex[:13]
    return {"error_response": body}


def _check_timestamp(state: TaobaoSimState, text: str | None) -> None:
    if not text:
        raise SimError(30)
    try:
        moment = datetime.strptime(text, TIME_FORMAT).replace(tzinfo=SHANGHAI)
    except ValueError:
        raise SimError(31, sub_msg="timestamp must be yyyy-MM-dd HH:mm:ss (GMT+8)") from None
    skew = abs(moment.timestamp() - state.clock())
    if skew > state.settings.timestamp_tolerance_seconds:
        raise SimError(31, sub_msg=f"timestamp {text} is {skew:.0f} s away from the server's time")


def answer(sim: ShopSimulator, state: TaobaoSimState, params: dict[str, str]) -> dict[str, Any]:
    """The JSON answer to one router call (raises `SimError` for the error answers)."""
    method = params.get("method", "")
    if not method:
        raise SimError(21)
    spec = APIS.get(method)
    if spec is None:
        raise SimError(22, sub_msg=f"{method} is not served by this simulator")
    handler, needs_session = spec
    app_key = params.get("app_key", "")
    if not app_key:
        raise SimError(28)
    shops = [shop for shop in sim.shops_of("taobao") if shop.credentials.get("app_key") == app_key]
    if not shops:
        raise SimError(29)
    if not params.get("v"):
        raise SimError(32)
    if params["v"] != "2.0":
        raise SimError(34)
    if params.get("format", "xml") != "json":
        raise SimError(23, sub_msg="this simulator answers format=json only")
    _check_timestamp(state, params.get("timestamp"))
    if not params.get("sign"):
        raise SimError(24)
    if params.get("sign_method", "md5") not in SIGN_METHODS:
        raise SimError(25, sub_msg="unknown sign_method")
    if not verify(params, shops[0].credentials.get("app_secret", "")):
        raise SimError(25)
    ban = state.admit_call(app_key)
    if ban is not None:
        raise ban_error(ban)
    seller = None
    if needs_session:
        session = params.get("session", "")
        if not session:
            raise SimError(26)
        seller = next((shop for shop in shops if shop.credentials.get("session") == session), None)
        if seller is None:
            raise SimError(27, sub_code="invalid-sessionkey", sub_msg="SessionKey非法")
    result = handler(Call(sim=sim, state=state, params=params, app_key=app_key, shop=seller))
    return {response_key(method): {**result, "request_id": uuid.uuid4().hex[:13]}}


def _outcome(body: dict[str, Any]) -> str:
    error = body.get("error_response")
    if isinstance(error, dict):
        return str(error.get("sub_code") or error.get("code"))
    return "ok"


def build_router(sim: ShopSimulator, state: TaobaoSimState) -> APIRouter:
    router = APIRouter(tags=["taobao"])

    async def rest(request: Request) -> Response:
        params = dict(request.query_params)
        if request.method == "POST":
            form = await request.form()
            params.update({name: value for name, value in form.items() if isinstance(value, str)})
        entry, fault = sim.gateway.admit("taobao", params.get("method") or "?", params)
        fault_answer = await _apply_fault(fault)
        if fault_answer is not None:
            entry["outcome"] = f"http_{fault_answer.status_code}"
            return fault_answer
        try:
            if fault is not None and fault.code is not None:
                raise fault_error(fault.code)
            body = answer(sim, state, params)
        except SimError as error:
            body = error_body(error)
        entry["outcome"] = _outcome(body)
        if fault is not None and fault.drop:
            return DroppedConnection()
        return JSONResponse(body)

    router.add_api_route("/router/rest", rest, methods=["GET", "POST"], include_in_schema=False)
    return router


async def _apply_fault(fault: Fault | None) -> Response | None:
    if fault is None:
        return None
    if fault.timeout:
        await asyncio.sleep(fault.timeout_seconds)
    if fault.http_status is not None:
        return Response(status_code=fault.http_status, content=b"<html>service unavailable</html>")
    return None
