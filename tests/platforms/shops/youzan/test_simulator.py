"""The Youzan simulator: its own errors for bad credentials, tokens, parameters and rate limits, and
pushes of the real message types that our push protocol verifies and maps."""

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
from scrm.platforms.shops.simulator.app import RunningShopSimulator
from scrm.platforms.shops.simulator.runtime import ShopSimulator, SimShop
from scrm.platforms.shops.simulator.world import Step
from scrm.platforms.shops.youzan.push import PUSH
from scrm.platforms.shops.youzan.signing import legacy_sign
from scrm.platforms.shops.youzan.simulator import accepted, state_of
from tests.platforms.shops.youzan.conftest import CLIENT_ID, CLIENT_SECRET, KDT_ID

PUSH_SHOP = "63100"
SECRETS = {"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET, "kdt_id": PUSH_SHOP}


def token(running: RunningShopSimulator, **changes: Any) -> dict[str, Any]:
    body = {
        "client_id": CLIENT_ID,
        "client_secret": CLIENT_SECRET,
        "authorize_type": "silent",
        "grant_id": KDT_ID,
        "refresh": False,
        **changes,
    }
    answer: dict[str, Any] = httpx.post(f"{running.base_url}/auth/token", json=body).json()
    return answer


def test_token_for_a_wrong_secret_or_shop(running: RunningShopSimulator) -> None:
    good = token(running)
    assert good["success"] is True and good["code"] == 200 and good["data"]["access_token"]
    assert good["data"]["expires"] > time.time() * 1000
    assert token(running, client_secret="wrong")["code"] == 40010
    refused = token(running, grant_id="12345")
    assert refused["success"] is False and refused["code"] == 40011


def test_api_without_a_valid_token(running: RunningShopSimulator) -> None:
    url = f"{running.base_url}/api/youzan.trade.get/4.0.0"
    answer = httpx.post(url, params={"access_token": "forged"}, json={"tid": "E1"}).json()
    assert answer == {"gw_err_resp": {"err_code": 10003, "err_msg": answer["gw_err_resp"]["err_msg"]}}


def test_parameters_and_unknown_apis(running: RunningShopSimulator) -> None:
    access = token(running)["data"]["access_token"]
    sold = f"{running.base_url}/api/youzan.trades.sold.get/4.0.2"
    assert httpx.post(sold, params={"access_token": access}, json={"page_size": 101}).json()["code"] == 53002
    legacy = httpx.post(sold, params={"access_token": access}, json={"page_size": 5}).json()
    assert legacy["success"] is True and "total_results" in legacy["data"]
    unknown = httpx.post(
        f"{running.base_url}/api/youzan.item.get/3.0.0", params={"access_token": access}, json={}
    )
    assert unknown.json()["gw_err_resp"]["err_code"] == 10001


def test_per_app_rate_limit(running: RunningShopSimulator, sim: ShopSimulator) -> None:
    access = token(running)["data"]["access_token"]
    state = state_of(sim)
    state.rate_per_second, state.burst = 0.001, 1.0
    state.buckets.clear()
    try:
        url = f"{running.base_url}/api/youzan.trade.get/4.0.0"
        codes = [
            httpx.post(url, params={"access_token": access}, json={"tid": "E1"}).json() for _ in range(3)
        ]
        assert codes[0].get("code") == 50000
        assert [answer.get("gw_err_resp", {}).get("err_code") for answer in codes[1:]] == [20001, 20001]
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
        yield f"http://127.0.0.1:{server.server_address[1]}/hooks/youzan", _Receiver.received
    finally:
        server.shutdown()
        server.server_close()


def wait_for(condition: Any, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.02)


def test_pushes_are_signed_typed_and_mappable(
    sim: ShopSimulator, receiver: tuple[str, list[tuple[dict[str, str], bytes]]]
) -> None:
    url, received = receiver
    shop = sim.add_shop(SimShop("youzan", PUSH_SHOP, "推送店", dict(SECRETS), push_url=url))
    order = sim.world.create_order("youzan", shop.shop_id, sim.world.person("pusher"))
    for step in (Step.PAY, Step.SHIP, Step.RECEIVE, Step.REFUND_PARTIAL):
        sim.world.advance(order, step)
    expected_types = [
        "trade_TradeCreate",
        "trade_TradePaid",
        "trade_TradeBuyerPay",
        "trade_TradeSellerShip",
        "trade_TradeSuccess",
        "youzan_trade_RefundSuccess",
    ]
    wait_for(lambda: len(received) >= len(expected_types))
    types, statuses, refunds = [], [], []
    for headers, body in received:
        (message,) = PUSH.verify(headers, body, SECRETS)
        envelope = json.loads(body)
        types.append(headers["Event-Type"])
        assert envelope["type"] == headers["Event-Type"] and envelope["msg_id"] == message.dedupe_key
        if isinstance(envelope["msg"], str):
            assert envelope["sign"] == legacy_sign(CLIENT_ID, envelope["msg"], CLIENT_SECRET)
        mapped = PUSH.map_message(message.raw, shop_external_id=PUSH_SHOP)
        statuses += [(snapshot.status, snapshot.complete) for snapshot in mapped.orders]
        refunds += mapped.refunds
    assert sorted(types) == sorted(expected_types)
    assert (OrderStatus.CREATED, True) in statuses and (OrderStatus.PAID, True) in statuses
    assert (OrderStatus.SHIPPED, False) in statuses and (OrderStatus.COMPLETED, False) in statuses
    (refund,) = refunds
    assert refund.status is RefundStatus.SUCCEEDED and refund.amount_fen == order.refunds[0].amount_fen
    assert all(record["delivered"] for record in sim.pushes("youzan") if record["shop_id"] == PUSH_SHOP)


def test_full_refund_also_closes_the_trade(
    sim: ShopSimulator, receiver: tuple[str, list[tuple[dict[str, str], bytes]]]
) -> None:
    url, received = receiver
    shop = sim.add_shop(SimShop("youzan", PUSH_SHOP, "推送店", dict(SECRETS), push_url=url))
    order = sim.world.create_order("youzan", shop.shop_id, sim.world.person("refunder"))
    sim.world.advance(order, Step.PAY)
    sim.world.advance(order, Step.REFUND_FULL)
    wait_for(lambda: len(received) >= 5)
    kinds = [headers["Event-Type"] for headers, _ in received]
    assert kinds[-2:] == ["youzan_trade_RefundSuccess", "trade_TradeClose"]


def test_acceptance_rule() -> None:
    assert accepted(200, b'{"code":0,"msg":"success"}')
    assert not accepted(200, b'{"code":0,"msg":"failed"}')
    assert not accepted(500, b"success")
