"""The PDD simulator answers like PDD: signature, token, window limits, paid orders only."""

from __future__ import annotations

import time
from typing import Any

from scrm.platforms.shops.pdd import signing
from scrm.platforms.shops.pdd.client import DETAIL_API, INCREMENT_API
from scrm.platforms.shops.simulator.world import Step

from .conftest import PddMall


def call(
    pdd: PddMall, api: str, params: dict[str, Any], *, secret: str | None = None, json_body: bool = False
) -> Any:
    request = {
        "type": api,
        "client_id": pdd.config["client_id"],
        "access_token": pdd.config["access_token"],
        "timestamp": int(time.time()),
        "data_type": "JSON",
        "version": "V1",
        **params,
    }
    request["sign"] = signing.sign(request, secret or pdd.config["client_secret"])
    url = f"{pdd.base_url}/api/router"
    if json_body:
        return pdd.http.post(url, json=request).json()
    return pdd.http.post(url, data=signing.wire_params(request)).json()


def error_code(body: Any) -> int:
    return int(body["error_response"]["error_code"])


def window(seconds: int = 300) -> dict[str, Any]:
    now = int(time.time()) + 1
    return {"start_updated_at": now - seconds, "end_updated_at": now, "page": 1, "page_size": 100}


def test_a_wrong_signature_gets_pdd_sign_error(pdd: PddMall) -> None:
    body = call(pdd, INCREMENT_API, window(), secret="not-the-secret")
    assert body["error_response"]["error_code"] == 20004
    assert body["error_response"]["error_msg"] == "签名验证失败"
    assert set(body["error_response"]) == {"error_code", "error_msg", "sub_code", "sub_msg", "request_id"}


def test_a_correct_signature_is_accepted_as_form_or_json(pdd: PddMall) -> None:
    assert "order_sn_increment_get_response" in call(pdd, INCREMENT_API, window())
    assert "order_sn_increment_get_response" in call(pdd, INCREMENT_API, window(), json_body=True)


def test_gateway_checks(pdd: PddMall) -> None:
    assert error_code(call(pdd, INCREMENT_API, {**window(), "access_token": "nope"})) == 10019
    assert error_code(call(pdd, INCREMENT_API, {**window(), "client_id": "unknown"})) == 10016
    assert error_code(call(pdd, INCREMENT_API, window(seconds=1801))) == 10000
    assert error_code(call(pdd, INCREMENT_API, {**window(), "page_size": 101})) == 10000
    assert error_code(call(pdd, "pdd.no.such.api", {})) == 10000


def test_only_paid_orders_are_listed(pdd: PddMall) -> None:
    unpaid = pdd.order([])
    closed_unpaid = pdd.order([Step.CLOSE])
    paid = pdd.order([Step.PAY])
    refunded = pdd.order([Step.PAY, Step.REFUND_FULL])
    response = call(pdd, INCREMENT_API, window())["order_sn_increment_get_response"]
    statuses = {
        row["order_sn"]: (row["order_status"], row["refund_status"]) for row in response["order_sn_list"]
    }
    assert statuses == {paid.order_id: (1, 1), refunded.order_id: (1, 4)}
    assert unpaid.order_id not in statuses and closed_unpaid.order_id not in statuses
    assert (response["total_count"], response["has_next"]) == (2, False)
    assert error_code(call(pdd, DETAIL_API, {"order_sn": unpaid.order_id})) == 10000


def test_status_filters_and_has_next(pdd: PddMall) -> None:
    pdd.order([Step.PAY])
    shipped = pdd.order([Step.PAY, Step.SHIP])
    pdd.order([Step.PAY, Step.SHIP, Step.RECEIVE])
    only_shipped = call(pdd, INCREMENT_API, {**window(), "order_status": 2})[
        "order_sn_increment_get_response"
    ]
    assert [row["order_sn"] for row in only_shipped["order_sn_list"]] == [shipped.order_id]
    first_page = call(pdd, INCREMENT_API, {**window(), "page_size": 2})["order_sn_increment_get_response"]
    assert (len(first_page["order_sn_list"]), first_page["total_count"], first_page["has_next"]) == (
        2,
        3,
        True,
    )


def test_amounts_are_yuan_numbers(pdd: PddMall) -> None:
    order = pdd.order([Step.PAY], skus=[("SKU-LIP-01", 1)], post_fee_fen=990)
    info = call(pdd, DETAIL_API, {"order_sn": order.order_id})["order_info_get_response"]["order_info"]
    assert (info["pay_amount"], info["goods_amount"], info["postage"]) == (178.9, 169.0, 9.9)
    assert info["item_list"][0]["goods_price"] == 169.0


def test_pmc_consume_is_signed_like_the_api(pdd: PddMall) -> None:
    pdd.order([Step.PAY])
    request = {
        "client_id": pdd.config["client_id"],
        "access_token": pdd.config["access_token"],
        "timestamp": int(time.time()),
        "quantity": 10,
    }
    bad = {**request, "sign": signing.sign(request, "wrong")}
    body = pdd.http.post(f"{pdd.base_url}/pmc/consume", data=signing.wire_params(bad)).json()
    assert body["error_response"]["error_code"] == 20004
    good = {**request, "sign": signing.sign(request, pdd.config["client_secret"])}
    body = pdd.http.post(f"{pdd.base_url}/pmc/consume", data=signing.wire_params(good)).json()
    assert len(body["frames"]) == 1
