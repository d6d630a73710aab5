"""The Douyin shop simulator: its own errors for wrong signatures, tokens, parameters and rate
limits, and push batches of the real tags that our push protocol verifies and maps."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar

import httpx
import pytest

from scrm.platforms.shops.canonical import OrderStatus, RefundStatus
from scrm.platforms.shops.douyin.push import PUSH
from scrm.platforms.shops.douyin.signing import api_sign, param_json
from scrm.platforms.shops.douyin.simulator import accepted, state_of
from scrm.platforms.shops.simulator.app import RunningShopSimulator
from scrm.platforms.shops.simulator.runtime import ShopSimulator, SimShop
from scrm.platforms.shops.simulator.world import Step
from tests.platforms.shops.douyin.conftest import APP_KEY, APP_SECRET, SHOP_ID

PUSH_SHOP = "4463800"
SECRETS = {"app_key": APP_KEY, "app_secret": APP_SECRET, "shop_id": PUSH_SHOP}


def call(
    running: RunningShopSimulator,
    method: str,
    params: dict[str, Any],
    *,
    token: str | None = None,
    secret: str = APP_SECRET,
    **query: str,
) -> dict[str, Any]:
    body = param_json(params)
    timestamp = str(int(time.time()))
    signed = {
        "app_key": APP_KEY,
        "method": method,
        "timestamp": timestamp,
        "v": "2",
        "sign_method": "hmac-sha256",
        "sign": api_sign(APP_KEY, secret, method, body, timestamp),
        **({"access_token": token} if token else {}),
        **query,
    }
    url = f"{running.base_url}/{method.replace('.', '/')}"
    answer: dict[str, Any] = httpx.post(url, params=signed, content=body.encode()).json()
    return answer


def new_token(running: RunningShopSimulator) -> str:
    answer = call(
        running, "token.create", {"code": "", "grant_type": "authorization_self", "shop_id": int(SHOP_ID)}
    )
    assert answer["code"] == 10000 and answer["data"]["expires_in"] > 0 and answer["data"]["refresh_token"]
    token: str = answer["data"]["access_token"]
    return token


def test_wrong_signature_is_refused(running: RunningShopSimulator) -> None:
    answer = call(
        running, "token.create", {"grant_type": "authorization_self", "shop_id": SHOP_ID}, secret="wrong"
    )
    assert (answer["code"], answer["sub_code"]) == (40003, "isv.signature-invalid")
    # A body other than the signed one fails the same way.
    token = new_token(running)
    timestamp = str(int(time.time()))
    sign = api_sign(APP_KEY, APP_SECRET, "order.orderDetail", '{"shop_order_id":"1"}', timestamp)
    query = {
        "app_key": APP_KEY,
        "method": "order.orderDetail",
        "timestamp": timestamp,
        "v": "2",
        "sign_method": "hmac-sha256",
        "sign": sign,
        "access_token": token,
    }
    tampered = httpx.post(
        f"{running.base_url}/order/orderDetail", params=query, content=b'{"shop_order_id":"2"}'
    )
    assert tampered.json()["sub_code"] == "isv.signature-invalid"


def test_method_must_match_the_path(running: RunningShopSimulator) -> None:
    timestamp = str(int(time.time()))
    sign = api_sign(APP_KEY, APP_SECRET, "order.searchList", "{}", timestamp)
    query = {
        "app_key": APP_KEY,
        "method": "order.searchList",
        "timestamp": timestamp,
        "v": "2",
        "sign_method": "hmac-sha256",
        "sign": sign,
    }
    answer = httpx.post(f"{running.base_url}/token/create", params=query, content=b"{}").json()
    assert answer["code"] == 40003 and answer["sub_code"] == "isv.method-invalid"


def test_token_errors(running: RunningShopSimulator, sim: ShopSimulator) -> None:
    assert call(running, "order.searchList", {"page": 0, "size": 1})["sub_code"] == "isv.access-token-missing"
    assert call(running, "order.searchList", {}, token="forged")["sub_code"] == "isv.access-token-no-existed"
    refused = call(running, "token.create", {"grant_type": "authorization_self", "shop_id": 1})
    assert (refused["code"], refused["sub_code"]) == (50001, "dop.token-generate-failed:no-authorization")
    token = new_token(running)
    state_of(sim).expire(SHOP_ID)
    assert call(running, "order.searchList", {}, token=token)["sub_code"] == "isv.access-token-expired"
    bad_refresh = call(running, "token.refresh", {"grant_type": "refresh_token", "refresh_token": "nope"})
    assert bad_refresh["code"] == 50001


def test_search_parameters(running: RunningShopSimulator) -> None:
    token = new_token(running)
    assert call(running, "order.searchList", {"page": 0, "size": 101}, token=token)["code"] == 40004
    answer = call(running, "order.searchList", {"page": 0, "size": 5}, token=token)
    assert answer["code"] == 10000 and set(answer["data"]) == {"shop_order_list", "page", "size", "total"}


def test_per_app_rate_limit(running: RunningShopSimulator, sim: ShopSimulator) -> None:
    token = new_token(running)
    state = state_of(sim)
    state.rate_per_second, state.burst = 0.001, 1.0
    state.buckets.clear()
    try:
        codes = [
            call(running, "order.searchList", {"page": 0, "size": 1}, token=token)["code"] for _ in range(3)
        ]
        assert codes == [10000, 60000, 60000]
    finally:
        state.rate_per_second, state.burst = 100.0, 100.0
        state.buckets.clear()


class _Receiver(BaseHTTPRequestHandler):
    received: ClassVar[list[tuple[dict[str, str], bytes]]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        self.received.append((dict(self.headers.items()), body))
        answer = PUSH.success_body
        self.send_response(200)
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def receiver() -> Iterator[tuple[str, list[tuple[dict[str, str], bytes]]]]:
    _Receiver.received = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Receiver)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/hooks/douyin", _Receiver.received
    finally:
        server.shutdown()
        server.server_close()


def wait_for(condition: Any, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.02)


def test_pushes_are_signed_tagged_and_mappable(
    sim: ShopSimulator, receiver: tuple[str, list[tuple[dict[str, str], bytes]]]
) -> None:
    url, received = receiver
    shop = sim.add_shop(
        SimShop("douyin", PUSH_SHOP, "推送店", {"app_key": APP_KEY, "app_secret": APP_SECRET}, url)
    )
    order = sim.world.create_order("douyin", shop.shop_id, sim.world.person("d-pusher"))
    for step in (Step.PAY, Step.SHIP, Step.RECEIVE, Step.REFUND_PARTIAL):
        sim.world.advance(order, step)
    unpaid = sim.world.create_order("douyin", shop.shop_id, sim.world.person("d-pusher"))
    sim.world.advance(unpaid, Step.CLOSE)
    wait_for(lambda: len(received) >= 7)
    tags: list[str] = []
    statuses, refunds = [], []
    for headers, body in received:
        messages = PUSH.verify(headers, body, SECRETS)
        tags += [json.loads(message.raw)["tag"] for message in messages]
        for message in messages:
            mapped = PUSH.map_message(message.raw, shop_external_id=PUSH_SHOP)
            statuses += [(snapshot.external_id, snapshot.status) for snapshot in mapped.orders]
            refunds += mapped.refunds
    assert sorted(tags) == sorted(["100", "101", "102", "103", "200", "206", "100", "106"])
    assert (order.order_id, OrderStatus.COMPLETED) in statuses and (
        unpaid.order_id,
        OrderStatus.CLOSED,
    ) in statuses
    assert [refund.status for refund in refunds] == [RefundStatus.REQUESTED, RefundStatus.SUCCEEDED]
    assert refunds[1].amount_fen == order.refunds[0].amount_fen
    # The refund's two tags came in one batch.
    assert any(len(json.loads(body)) == 2 for _, body in received)


def test_acceptance_rule() -> None:
    assert accepted(200, b'{"code":0,"msg":"success"}')
    assert not accepted(200, b'{"code":1,"msg":"failed"}')
    assert not accepted(200, b"success")
    assert not accepted(502, b'{"code":0}')
