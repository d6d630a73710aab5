"""The JD client against the simulator: check, fetch, paged pulls, errors, retries, the breaker."""

from __future__ import annotations

import itertools
import json
from datetime import UTC, datetime, timedelta

import pytest

from scrm.platforms.base import PlatformError, PlatformUnavailable
from scrm.platforms.shops.canonical import OrderStatus
from scrm.platforms.shops.jd.simulator import FRONT_END
from scrm.platforms.shops.simulator.gateway import FaultSpec
from scrm.platforms.shops.simulator.world import SimOrder, SimStatus, Step
from scrm.platforms.shops.transport import CircuitOpen, TransportPolicy

from .conftest import JdShop

SEARCH = "jingdong.pop.order.enSearch"
GET = "jingdong.pop.order.get"
LIFECYCLES = [
    [Step.PAY],
    [Step.PAY, Step.SHIP],
    [Step.PAY, Step.SHIP, Step.RECEIVE],
    [Step.PAY, Step.REFUND_FULL],
    [Step.PAY, Step.SHIP, Step.RECEIVE, Step.REFUND_PARTIAL],
    [Step.CLOSE],
    [],
]


def expected_status(order: SimOrder) -> OrderStatus:
    if order.received_at is not None:
        return OrderStatus.COMPLETED
    if order.status == SimStatus.CLOSED:
        return OrderStatus.CLOSED
    return OrderStatus.SHIPPED if order.status == SimStatus.SHIPPED else OrderStatus.PAID


def searched_pages(jd: JdShop) -> list[str]:
    return [
        json.loads(entry["params"]["360buy_param_json"])["page"]
        for entry in jd.sim.gateway.requests("jd", SEARCH)
    ]


def test_check_reports_the_vender(jd: JdShop) -> None:
    assert jd.shop.shop_id in jd.client().check()


def test_fetch_order_as_the_world_has_it(jd: JdShop) -> None:
    order = jd.order([Step.PAY, Step.SHIP], skus=[("SKU-LIP-01", 2), ("SKU-MASK", 1)], post_fee_fen=800)
    snapshot = jd.client().fetch_order(order.order_id)
    assert snapshot.status is OrderStatus.SHIPPED
    assert snapshot.payment_fen == order.payment_fen == 16900 * 2 + 9900 + 800
    assert snapshot.post_fee_fen == 800
    assert [(line.outer_sku_id, line.quantity) for line in snapshot.lines] == [
        ("SKU-LIP-01", 2),
        ("SKU-MASK", 1),
    ]
    assert snapshot.buyer is not None and snapshot.buyer.account_id == order.buyer_account
    assert snapshot.logistics[0].tracking_no == order.tracking_no
    assert snapshot.version == int(order.updated_at.timestamp()) * 1000


def test_fetch_unknown_or_unpaid_order_is_a_business_error(jd: JdShop) -> None:
    unpaid = jd.order([])
    client = jd.client()
    for order_id in (unpaid.order_id, "no-such-order"):
        with pytest.raises(PlatformError) as raised:
            client.fetch_order(order_id)
        assert raised.value.retryable is False
        assert raised.value.code == 10100003


def test_pull_window_pages_backwards_and_finds_every_paid_order(jd: JdShop) -> None:
    start = datetime.now(UTC) - timedelta(seconds=1)
    world = [jd.order(LIFECYCLES[index % len(LIFECYCLES)]) for index in range(47)]
    end = datetime.now(UTC) + timedelta(seconds=1)
    jd.sim.gateway.clear_requests()

    found = {}
    for page in jd.client(page_size=10).pull_window(start, end):
        for snapshot in page.orders:
            found[snapshot.external_id] = snapshot

    # JD shows paid orders only: never-paid ones (open or closed unpaid) are not listed.
    visible = {order.order_id: order for order in world if order.paid_at is not None}
    assert set(found) == set(visible)
    for order_id, order in visible.items():
        snapshot = found[order_id]
        assert snapshot.status is expected_status(order), order_id
        assert snapshot.payment_fen == order.payment_fen
        assert snapshot.buyer is not None and snapshot.buyer.account_id == order.buyer_account
        assert snapshot.version == int(order.updated_at.timestamp()) * 1000
    last_page = -(-len(visible) // 10)
    assert searched_pages(jd) == ["1", *[str(page) for page in range(last_page, 0, -1)]]


def test_long_windows_are_split(jd: JdShop) -> None:
    order = jd.order([Step.PAY])
    start = datetime.now(UTC) - timedelta(minutes=3)
    jd.sim.gateway.clear_requests()
    found = [
        snapshot.external_id
        for page in jd.client(max_window=timedelta(minutes=1)).pull_window(
            start, start + timedelta(minutes=4)
        )
        for snapshot in page.orders
    ]
    assert set(found) == {order.order_id}  # possibly twice: spans share their edge second
    windows = [
        json.loads(entry["params"]["360buy_param_json"]) for entry in jd.sim.gateway.requests("jd", SEARCH)
    ]
    assert len(windows) == 4
    for earlier, later in itertools.pairwise(windows):
        assert later["start_date"] <= earlier["end_date"]  # spans touch or overlap: no gap


def test_token_error_is_not_retried_and_does_not_trip_the_breaker(jd: JdShop) -> None:
    client = jd.client(config={"access_token": "revoked"})
    with pytest.raises(PlatformError) as raised:
        client.fetch_order("1")
    assert (raised.value.code, raised.value.retryable) == ("19", False)
    assert len(jd.sim.gateway.requests("jd", GET)) >= 1
    assert client.transport.breaker().consecutive_failures == 0


def test_wrong_secret_is_an_invalid_signature(jd: JdShop) -> None:
    with pytest.raises(PlatformError) as raised:
        jd.client(config={"app_secret": "wrong"}).check()
    assert (raised.value.code, raised.value.retryable) == ("12", False)


@pytest.mark.parametrize("code", ["2", "66"])
def test_rate_limit_and_busy_codes_are_retried(jd: JdShop, code: str) -> None:
    order = jd.order([Step.PAY])
    jd.sim.gateway.add_fault(FaultSpec(platform="jd", api=GET, code=code, count=2))
    jd.sim.gateway.clear_requests()
    assert jd.client().fetch_order(order.order_id).external_id == order.order_id
    assert [entry["outcome"] for entry in jd.sim.gateway.requests("jd", GET)] == [code, code, "ok"]


def test_the_simulator_rate_limit_is_answered_and_retried(jd: JdShop) -> None:
    order = jd.order([Step.PAY])
    state = FRONT_END.state(jd.sim)
    state.rate_limit_per_second, state.rate_burst = 50.0, 1.0
    jd.sim.gateway.clear_requests()
    client = jd.client()
    for _ in range(3):
        client.fetch_order(order.order_id)
    outcomes = [entry["outcome"] for entry in jd.sim.gateway.requests("jd", GET)]
    assert "2" in outcomes
    assert outcomes.count("ok") == 3


def test_http_503_is_retried(jd: JdShop) -> None:
    order = jd.order([Step.PAY])
    jd.sim.gateway.add_fault(FaultSpec(platform="jd", api=GET, http_status=503, count=1))
    assert jd.client().fetch_order(order.order_id).status is OrderStatus.PAID


def test_a_dropped_connection_is_retried(jd: JdShop) -> None:
    order = jd.order([Step.PAY])
    jd.sim.gateway.add_fault(FaultSpec(platform="jd", api=GET, drop=True, count=1))
    assert jd.client().fetch_order(order.order_id).status is OrderStatus.PAID


def test_the_breaker_opens_after_repeated_failures(jd: JdShop) -> None:
    jd.sim.gateway.add_fault(FaultSpec(platform="jd", api=GET, http_status=503))
    policy = TransportPolicy(
        rate_per_second=10_000, burst=10_000, max_attempts=2, base_backoff_seconds=0.01, failure_threshold=3
    )
    client = jd.client(policy=policy)
    with pytest.raises(PlatformUnavailable):
        client.fetch_order("1")  # failures 1 and 2
    with pytest.raises(PlatformUnavailable):
        client.fetch_order("1")  # failure 3 opens the breaker
    before = len(jd.sim.gateway.requests("jd", GET))
    with pytest.raises(CircuitOpen):
        client.fetch_order("1")
    assert len(jd.sim.gateway.requests("jd", GET)) == before  # not called while open
    assert client.transport.breaker().state == "open"
