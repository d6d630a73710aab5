"""The JOS simulator answers like JOS: signature, token, parameters, paid orders only, no push."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from scrm.platforms.shops.jd import signing
from scrm.platforms.shops.jd.client import window_text
from scrm.platforms.shops.simulator.gateway import FaultSpec
from scrm.platforms.shops.simulator.world import Step

from .conftest import JdShop

SEARCH = "jingdong.pop.order.enSearch"


def post(
    jd: JdShop, method: str, business: dict[str, Any], *, secret: str | None = None, **overrides: str
) -> Any:
    params = {
        "method": method,
        "app_key": jd.config["app_key"],
        "access_token": jd.config["access_token"],
        "timestamp": signing.timestamp(),
        "v": "2.0",
        "360buy_param_json": signing.param_json(business),
    }
    params.update(overrides)
    params["sign"] = signing.sign(params, secret or jd.config["app_secret"])
    return jd.http.post(f"{jd.base_url}/routerjson", data=params).json()


def error_code(body: Any) -> str:
    return str(body["error_response"]["code"])


def window(minutes: float = 5) -> dict[str, str]:
    now = datetime.now(UTC)
    return {
        "start_date": window_text(now - timedelta(minutes=minutes)),
        "end_date": window_text(now, round_up=True),
    }


def test_a_wrong_signature_gets_jos_invalid_signature(jd: JdShop) -> None:
    body = post(jd, SEARCH, window(), secret="not-the-secret")
    assert body == {"error_response": {"code": "12", "zh_desc": "无效签名", "en_desc": "Invalid Signature"}}


def test_a_correct_signature_is_accepted(jd: JdShop) -> None:
    body = post(jd, SEARCH, window())
    assert body["jingdong_pop_order_enSearch_responce"]["code"] == "0"


def test_gateway_checks(jd: JdShop) -> None:
    stale = signing.timestamp(datetime.now(UTC) - timedelta(hours=1))
    assert error_code(post(jd, SEARCH, window(), access_token="nope")) == "19"
    assert error_code(post(jd, SEARCH, window(), access_token="")) == "18"
    assert error_code(post(jd, "jingdong.nothing", window())) == "15"
    assert error_code(post(jd, SEARCH, window(), app_key="unknown")) == "21"
    assert error_code(post(jd, SEARCH, window(), timestamp=stale)) == "8"
    assert error_code(post(jd, SEARCH, window(), v="3.0")) == "5"
    assert error_code(post(jd, SEARCH, {**window(), "page_size": "101"})) == "61"
    assert error_code(post(jd, SEARCH, {**window(minutes=60 * 24 * 40)})) == "61"


def test_a_get_request_works_too(jd: JdShop) -> None:
    params = {
        "method": SEARCH,
        "app_key": jd.config["app_key"],
        "access_token": jd.config["access_token"],
        "timestamp": signing.timestamp(),
        "v": "2.0",
        "360buy_param_json": signing.param_json(window()),
    }
    params["sign"] = signing.sign(params, jd.config["app_secret"])
    body = jd.http.get(f"{jd.base_url}/routerjson", params=params).json()
    assert body["jingdong_pop_order_enSearch_responce"]["code"] == "0"


def test_only_paid_orders_are_listed_with_their_state(jd: JdShop) -> None:
    unpaid = jd.order([])
    closed_unpaid = jd.order([Step.CLOSE])
    paid = jd.order([Step.PAY])
    cancelled = jd.order([Step.PAY, Step.REFUND_FULL])
    body = post(jd, SEARCH, {**window(), "page_size": "100"})
    result = body["jingdong_pop_order_enSearch_responce"]["searchorderinfo_result"]
    states = {info["orderId"]: info["orderState"] for info in result["orderInfoList"]}
    assert states == {paid.order_id: "WAIT_SELLER_STOCK_OUT", cancelled.order_id: "TRADE_CANCELED"}
    assert unpaid.order_id not in states and closed_unpaid.order_id not in states
    assert result["orderTotal"] == 2
    assert result["apiResult"]["success"] is True


def test_order_state_filter_and_descending_sort(jd: JdShop) -> None:
    first = jd.order([Step.PAY])
    second = jd.order([Step.PAY])
    jd.order([Step.PAY, Step.SHIP])
    business = {**window(), "order_state": "WAIT_SELLER_STOCK_OUT", "sortType": "1"}
    result = post(jd, SEARCH, business)["jingdong_pop_order_enSearch_responce"]["searchorderinfo_result"]
    assert [info["orderId"] for info in result["orderInfoList"]] == [second.order_id, first.order_id]


def test_world_changes_push_nothing(jd: JdShop) -> None:
    before = len(jd.sim.pushes("jd"))
    jd.order([Step.PAY, Step.SHIP, Step.RECEIVE])
    assert len(jd.sim.pushes("jd")) == before
    assert len(jd.sim.channel("jd", jd.shop.shop_id)) == 0


def test_requests_are_logged_without_secrets(jd: JdShop) -> None:
    jd.sim.gateway.clear_requests()
    post(jd, SEARCH, window())
    (entry,) = jd.sim.gateway.requests("jd", SEARCH)
    assert entry["params"]["access_token"] == "***"
    assert entry["params"]["sign"] == "***"
    assert entry["outcome"] == "ok"
    assert json.loads(entry["params"]["360buy_param_json"])["start_date"]


def test_a_timeout_fault_holds_the_answer(jd: JdShop) -> None:
    jd.sim.gateway.add_fault(FaultSpec(platform="jd", api=SEARCH, timeout=True, timeout_seconds=2, count=1))
    try:
        with httpx.Client(timeout=0.3) as impatient:
            impatient.post(f"{jd.base_url}/routerjson", data={"method": SEARCH})
    except httpx.TimeoutException:
        timed_out = True
    else:
        timed_out = False
    assert timed_out
