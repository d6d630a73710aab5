"""The PDD client against the simulator: check, fetch, 30-minute spans paged backwards, errors,
retries, the breaker."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

import pytest

from scrm.platforms.base import PlatformError, PlatformUnavailable
from scrm.platforms.shops.canonical import OrderStatus, RefundState
from scrm.platforms.shops.pdd.client import DETAIL_API, INCREMENT_API
from scrm.platforms.shops.pdd.simulator import FRONT_END
from scrm.platforms.shops.simulator.gateway import FaultSpec
from scrm.platforms.shops.simulator.world import SimOrder, Step
from scrm.platforms.shops.transport import CircuitOpen, TransportPolicy

from .conftest import PddMall

LIFECYCLES = [
    [Step.PAY],
    [Step.PAY, Step.SHIP],
    [Step.PAY, Step.SHIP, Step.RECEIVE],
    [Step.PAY, Step.REFUND_FULL],
    [Step.PAY, Step.SHIP, Step.RECEIVE, Step.REFUND_PARTIAL],
    [Step.CLOSE],
    [],
]


def expected(order: SimOrder) -> tuple[OrderStatus, RefundState]:
    """What PDD shows of a world order, through the mapping's rule (refunded before shipment: the
    whole order; after: partial)."""
    refunded = bool(order.refunds)
    if order.received_at:
        return OrderStatus.COMPLETED, RefundState.PARTIAL_REFUNDED if refunded else RefundState.NONE
    if order.shipped_at:
        return OrderStatus.SHIPPED, RefundState.PARTIAL_REFUNDED if refunded else RefundState.NONE
    return (
        (OrderStatus.CLOSED, RefundState.FULL_REFUNDED) if refunded else (OrderStatus.PAID, RefundState.NONE)
    )


def increments(pdd: PddMall) -> list[dict[str, str]]:
    return [entry["params"] for entry in pdd.sim.gateway.requests("pdd", INCREMENT_API)]


def test_check_reports_the_mall(pdd: PddMall) -> None:
    assert pdd.shop.shop_id in pdd.client().check()


def test_fetch_order_as_the_world_has_it(pdd: PddMall) -> None:
    order = pdd.order(
        [Step.PAY, Step.SHIP, Step.RECEIVE], skus=[("SKU-SUN", 3)], post_fee_fen=600, presale_days=5
    )
    snapshot = pdd.client().fetch_order(order.order_id)
    assert (snapshot.status, snapshot.refund_state) == (OrderStatus.COMPLETED, RefundState.NONE)
    assert snapshot.payment_fen == order.payment_fen == 19900 * 3 + 600
    assert snapshot.post_fee_fen == 600
    assert [(line.outer_sku_id, line.quantity, line.price_fen) for line in snapshot.lines] == [
        ("SKU-SUN", 3, 19900)
    ]
    assert snapshot.buyer is not None and snapshot.buyer.account_id == order.buyer_account
    assert snapshot.is_presale is True
    assert snapshot.presale_ship_at == order.presale_ship_at.replace(microsecond=0)  # type: ignore[union-attr]
    assert snapshot.logistics[0].tracking_no == order.tracking_no
    assert snapshot.version == int(order.updated_at.timestamp()) * 1000


def test_fetch_of_an_unpaid_order_is_refused(pdd: PddMall) -> None:
    unpaid = pdd.order([])
    with pytest.raises(PlatformError) as raised:
        pdd.client().fetch_order(unpaid.order_id)
    assert (raised.value.code, raised.value.retryable) == (10000, False)


def test_pull_window_pages_backwards_and_finds_every_paid_order(pdd: PddMall) -> None:
    start = datetime.now(UTC) - timedelta(seconds=1)
    world = [pdd.order(LIFECYCLES[index % len(LIFECYCLES)]) for index in range(53)]
    end = datetime.now(UTC) + timedelta(seconds=1)
    pdd.sim.gateway.clear_requests()

    found = {}
    for page in pdd.client(page_size=10).pull_window(start, end):
        for snapshot in page.orders:
            found[snapshot.external_id] = snapshot

    # PDD lists paid orders only.
    visible = {order.order_id: order for order in world if order.paid_at is not None}
    assert set(found) == set(visible)
    for order_id, order in visible.items():
        snapshot = found[order_id]
        assert (snapshot.status, snapshot.refund_state) == expected(order), order_id
        assert snapshot.payment_fen == order.payment_fen
        assert snapshot.buyer is not None and snapshot.buyer.account_id == order.buyer_account
        assert snapshot.version == int(order.updated_at.timestamp()) * 1000
    last_page = -(-len(visible) // 10)
    assert [params["page"] for params in increments(pdd)] == ["1", *[str(p) for p in range(last_page, 0, -1)]]


def test_windows_are_split_into_30_minute_spans_without_gaps(pdd: PddMall) -> None:
    order = pdd.order([Step.PAY])
    start = datetime.now(UTC) - timedelta(minutes=70)
    pdd.sim.gateway.clear_requests()
    found = {
        s.external_id for page in pdd.client().pull_window(start, datetime.now(UTC)) for s in page.orders
    }
    assert order.order_id in found
    spans = [(int(p["start_updated_at"]), int(p["end_updated_at"])) for p in increments(pdd)]
    assert len(spans) == 3
    assert all(0 < end - begin <= 1800 for begin, end in spans)
    assert spans[0][0] <= int(start.timestamp())
    assert all(later[0] <= earlier[1] for earlier, later in itertools.pairwise(spans))


def test_token_error_is_not_retried_and_does_not_trip_the_breaker(pdd: PddMall) -> None:
    client = pdd.client(config={"access_token": "revoked"})
    pdd.sim.gateway.clear_requests()
    with pytest.raises(PlatformError) as raised:
        client.fetch_order("1")
    assert (raised.value.code, raised.value.retryable) == (10019, False)
    assert len(pdd.sim.gateway.requests("pdd", DETAIL_API)) == 1
    assert client.transport.breaker().consecutive_failures == 0


def test_wrong_secret_is_a_sign_error(pdd: PddMall) -> None:
    with pytest.raises(PlatformError) as raised:
        pdd.client(config={"client_secret": "wrong"}).check()
    assert (raised.value.code, raised.value.retryable) == (20004, False)


@pytest.mark.parametrize("code", ["70031", "52101"])
def test_rate_limit_and_busy_codes_are_retried(pdd: PddMall, code: str) -> None:
    order = pdd.order([Step.PAY])
    pdd.sim.gateway.add_fault(FaultSpec(platform="pdd", api=DETAIL_API, code=code, count=2))
    pdd.sim.gateway.clear_requests()
    assert pdd.client().fetch_order(order.order_id).external_id == order.order_id
    assert [entry["outcome"] for entry in pdd.sim.gateway.requests("pdd", DETAIL_API)] == [
        int(code),
        int(code),
        "ok",
    ]


def test_the_simulator_rate_limit_is_answered_and_retried(pdd: PddMall) -> None:
    order = pdd.order([Step.PAY])
    state = FRONT_END.state(pdd.sim)
    state.rate_limit_per_second, state.rate_burst = 50.0, 1.0
    pdd.sim.gateway.clear_requests()
    client = pdd.client()
    for _ in range(3):
        client.fetch_order(order.order_id)
    outcomes = [entry["outcome"] for entry in pdd.sim.gateway.requests("pdd", DETAIL_API)]
    assert 70031 in outcomes
    assert outcomes.count("ok") == 3


def test_http_503_and_dropped_connections_are_retried(pdd: PddMall) -> None:
    order = pdd.order([Step.PAY])
    pdd.sim.gateway.add_fault(FaultSpec(platform="pdd", api=DETAIL_API, http_status=503, count=1))
    assert pdd.client().fetch_order(order.order_id).status is OrderStatus.PAID
    pdd.sim.gateway.add_fault(FaultSpec(platform="pdd", api=DETAIL_API, drop=True, count=1))
    assert pdd.client().fetch_order(order.order_id).status is OrderStatus.PAID


def test_the_breaker_opens_after_repeated_failures(pdd: PddMall) -> None:
    pdd.sim.gateway.add_fault(FaultSpec(platform="pdd", api=DETAIL_API, http_status=503))
    policy = TransportPolicy(
        rate_per_second=10_000, burst=10_000, max_attempts=2, base_backoff_seconds=0.01, failure_threshold=3
    )
    client = pdd.client(policy=policy)
    for _ in range(2):
        with pytest.raises(PlatformUnavailable):
            client.fetch_order("1")
    before = len(pdd.sim.gateway.requests("pdd", DETAIL_API))
    with pytest.raises(CircuitOpen):
        client.fetch_order("1")
    assert len(pdd.sim.gateway.requests("pdd", DETAIL_API)) == before
    assert client.transport.breaker().state == "open"
