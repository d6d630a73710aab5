"""The simulated TOP gateway speaks TOP: its checks and error codes, increment semantics, faults."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from scrm.platforms.shops.simulator.gateway import FaultSpec
from scrm.platforms.shops.taobao.errors import TaobaoError
from scrm.platforms.shops.taobao.mapping import TRADE_FIELDS, format_time
from scrm.platforms.shops.taobao.signing import sign
from tests.platforms.shops.taobao.conftest import APP_KEY, APP_SECRET, SELLER, SESSION, TopEnv


def form(method: str, *, secret: str = APP_SECRET, sign_method: str = "md5", **params: Any) -> dict[str, str]:
    request = {
        "method": method,
        "app_key": APP_KEY,
        "session": SESSION,
        "timestamp": format_time(datetime.now(UTC)),
        "format": "json",
        "v": "2.0",
        "sign_method": sign_method,
        **{name: str(value) for name, value in params.items()},
    }
    request["sign"] = sign(request, secret, sign_method)
    return request


def post(top: TopEnv, data: dict[str, str]) -> dict[str, Any]:
    response = top.http.post(f"{top.base_url}/router/rest", data=data)
    assert response.status_code == 200
    body: dict[str, Any] = response.json()
    return body


def error_of(body: dict[str, Any]) -> tuple[int, str | None]:
    error = body["error_response"]
    return error["code"], error.get("sub_code")


def test_a_wrong_signature_gets_code_25(top: TopEnv) -> None:
    body = post(top, form("taobao.time.get", secret="someone-elses"))
    assert error_of(body) == (25, None)
    assert body["error_response"]["msg"] == "Invalid Signature"
    tampered = form("taobao.time.get")
    tampered["timestamp"] = format_time(datetime.now(UTC) - timedelta(seconds=5))
    assert error_of(post(top, tampered))[0] == 25


@pytest.mark.parametrize("sign_method", ["md5", "hmac", "hmac-sha256"])
def test_requests_signed_with_our_code_are_accepted_by_get_and_post(top: TopEnv, sign_method: str) -> None:
    data = form("taobao.time.get", sign_method=sign_method)
    assert "time" in post(top, data)["time_get_response"]
    answer = top.http.get(f"{top.base_url}/router/rest", params=data).json()
    assert "request_id" in answer["time_get_response"]


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"method": ""}, 21),
        ({"method": "taobao.item.seller.get"}, 22),
        ({"app_key": ""}, 28),
        ({"app_key": "87654321"}, 29),
        ({"v": ""}, 32),
        ({"v": "1.0"}, 34),
        ({"format": "xml"}, 23),
        ({"timestamp": ""}, 30),
        ({"timestamp": "2024/01/01 00:00:00"}, 31),
        ({"timestamp": format_time(datetime.now(UTC) - timedelta(minutes=11))}, 31),
        ({"session": ""}, 26),
        ({"session": "another-sellers-session"}, 27),
        ({"sign_method": "sha1"}, 25),
    ],
)
def test_gateway_checks(top: TopEnv, change: dict[str, str], code: int) -> None:
    method = change.get("method", "taobao.trade.fullinfo.get")
    data = form("taobao.trade.fullinfo.get", tid="1", fields="tid")
    data.update(change)
    data["method"] = method
    data["sign"] = sign(data, APP_SECRET, "md5")  # signed as sent: only the change is wrong
    assert error_of(post(top, data))[0] == code


def test_missing_signature_is_24(top: TopEnv) -> None:
    data = form("taobao.time.get")
    del data["sign"]
    assert error_of(post(top, data))[0] == 24


def test_timestamp_tolerance_is_configurable(top: TopEnv) -> None:
    top.state.settings.timestamp_tolerance_seconds = 30
    data = form("taobao.time.get")
    data["timestamp"] = format_time(datetime.now(UTC) - timedelta(minutes=2))
    data["sign"] = sign(data, APP_SECRET, "md5")
    assert error_of(post(top, data))[0] == 31


def test_rate_limit_answers_code_7_with_the_ban(top: TopEnv) -> None:
    top.state.settings.calls_per_second_per_app = 2
    top.state.clock = lambda: 1_900_000_000.25  # one frozen second
    client = top.client(clock=lambda: datetime.fromtimestamp(1_900_000_000.25, UTC))
    for _ in range(2):
        client.api.call("taobao.time.get", session=False)
    with pytest.raises(TaobaoError) as raised:
        client.api.call("taobao.time.get", session=False)
    assert raised.value.code == 7
    assert raised.value.sub_code == "accesscontrol.limited-by-app-access-count"
    assert raised.value.retryable and raised.value.retry_after == 1.0


def _increment(top: TopEnv, start: datetime, end: datetime, **params: Any) -> dict[str, Any]:
    return post(
        top,
        form(
            "taobao.trades.sold.increment.get",
            fields=params.pop("fields", TRADE_FIELDS),
            start_modified=format_time(start),
            end_modified=format_time(end),
            **params,
        ),
    )


def test_increment_window_is_at_most_a_day(top: TopEnv) -> None:
    now = datetime.now(UTC)
    body = _increment(top, now - timedelta(days=1, seconds=1), now)
    assert error_of(body) == (15, "isv.invalid-parameter")
    assert "trades_sold_increment_get_response" in _increment(top, now - timedelta(days=1), now)
    assert error_of(_increment(top, now - timedelta(days=91), now - timedelta(days=90, hours=23)))[0] == 15


def test_increment_end_is_inclusive_to_the_second(top: TopEnv) -> None:
    moment = top.world_clock() + timedelta(milliseconds=700)
    top.world_clock.set(moment)
    top.sim.world.create_order("taobao", SELLER, top.sim.world.person("dora"))
    second = moment.replace(microsecond=0)
    answer = _increment(top, second - timedelta(minutes=5), second)["trades_sold_increment_get_response"]
    assert answer["total_results"] == 1
    answer = _increment(top, second - timedelta(minutes=5), second - timedelta(seconds=1))
    assert answer["trades_sold_increment_get_response"]["total_results"] == 0
    assert "trades" not in answer["trades_sold_increment_get_response"]


def test_increment_returns_only_the_fields_asked_and_has_next(top: TopEnv) -> None:
    start = top.world_clock()
    for index in range(3):
        top.sim.world.create_order("taobao", SELLER, top.sim.world.person(f"p{index}"))
    answer = _increment(top, start, start, fields="tid,status", page_size=2, use_has_next="true")
    inner = answer["trades_sold_increment_get_response"]
    assert inner["has_next"] is True and "total_results" not in inner
    assert all(set(trade) == {"tid", "status"} for trade in inner["trades"]["trade"])
    answer = _increment(top, start, start, fields="tid,orders.oid", page_size=2, page_no=2)
    inner = answer["trades_sold_increment_get_response"]
    assert inner["total_results"] == 3 and inner["has_next"] is False
    (trade,) = inner["trades"]["trade"]
    assert set(trade) == {"tid", "orders"}


def test_increment_page_size_is_bounded(top: TopEnv) -> None:
    now = datetime.now(UTC)
    assert error_of(_increment(top, now - timedelta(hours=1), now, page_size=101))[0] == 41


@pytest.mark.parametrize(
    ("code", "expected"),
    [("27", (27, "invalid-sessionkey")), ("isp.top-mapping-timeout", (15, "isp.top-mapping-timeout"))],
)
def test_faults_are_rendered_as_top_errors(top: TopEnv, code: str, expected: tuple[int, str]) -> None:
    top.sim.gateway.add_fault(FaultSpec(platform="taobao", code=code, count=1))
    assert error_of(post(top, form("taobao.time.get"))) == expected


def test_http_status_fault(top: TopEnv) -> None:
    top.sim.gateway.add_fault(FaultSpec(platform="taobao", api="taobao.time.get", http_status=503, count=1))
    response = top.http.post(f"{top.base_url}/router/rest", data=form("taobao.time.get"))
    assert response.status_code == 503


def test_dropped_connection_fault(top: TopEnv) -> None:
    top.sim.gateway.add_fault(FaultSpec(platform="taobao", drop=True, count=1))
    with pytest.raises(httpx.TransportError):
        top.http.post(f"{top.base_url}/router/rest", data=form("taobao.time.get"))


def test_secrets_stay_out_of_the_request_log(top: TopEnv) -> None:
    post(top, form("taobao.time.get"))
    (entry,) = top.requests()
    assert entry["params"]["session"] == "***" and entry["params"]["sign"] == "***"
    assert APP_SECRET not in str(entry)
