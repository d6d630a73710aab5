"""The TOP client against the simulated gateway: check, fetch, pull windows (chunked, paged
backwards), error codes, retries and the circuit breaker."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

import pytest

from scrm.platforms.base import PlatformUnavailable
from scrm.platforms.shops.canonical import OrderStatus
from scrm.platforms.shops.simulator.gateway import FaultSpec
from scrm.platforms.shops.simulator.world import SimOrder, Step
from scrm.platforms.shops.taobao.errors import TaobaoError
from scrm.platforms.shops.taobao.mapping import SHANGHAI, TIME_FORMAT, epoch_ms
from scrm.platforms.shops.transport import CircuitOpen, TransportPolicy
from tests.platforms.shops.taobao.conftest import SELLER, TopEnv

WORLD_STATUS = {
    "created": OrderStatus.CREATED,
    "paid": OrderStatus.PAID,
    "shipped": OrderStatus.SHIPPED,
    "received": OrderStatus.COMPLETED,
    "closed": OrderStatus.CLOSED,
}


def order(top: TopEnv, person: str, *steps: str) -> SimOrder:
    created = top.sim.world.create_order("taobao", SELLER, top.sim.world.person(person))
    for step in steps:
        top.sim.world.advance(created, step)
    return created


def shanghai(text: str) -> datetime:
    return datetime.strptime(text, TIME_FORMAT).replace(tzinfo=SHANGHAI)


def test_check_proves_the_session(top: TopEnv) -> None:
    assert SELLER in top.client().check()
    (call,) = top.requests("taobao.trades.sold.increment.get")
    assert call["params"]["page_size"] == "1"
    assert call["params"]["session"] == "***"  # sent (and kept out of the log)


def test_fetch_order_is_the_world_order(top: TopEnv) -> None:
    sim_order = order(top, "alice", Step.PAY, Step.SHIP)
    snapshot = top.client().fetch_order(sim_order.order_id)
    assert snapshot.external_id == sim_order.order_id
    assert snapshot.status is OrderStatus.SHIPPED
    assert snapshot.payment_fen == sim_order.payment_fen
    assert snapshot.total_fen == sim_order.goods_fen
    assert snapshot.buyer is not None and snapshot.buyer.account_id == sim_order.buyer_account
    assert snapshot.buyer.nick == sim_order.person.name[0] + "**"
    assert [line.outer_sku_id for line in snapshot.lines] == [line.sku_id for line in sim_order.lines]
    assert [line.quantity for line in snapshot.lines] == [line.quantity for line in sim_order.lines]
    assert snapshot.logistics[0].tracking_no == sim_order.tracking_no
    assert snapshot.shipped_at == sim_order.shipped_at
    assert snapshot.version == epoch_ms(sim_order.updated_at)


def test_pull_window_pages_backwards_and_finds_every_order_once(top: TopEnv) -> None:
    start = top.world_clock()
    world = top.sim.world
    for index in range(137):
        created = order(top, f"buyer-{index % 40}")
        for step in world.random_lifecycle(created):
            world.advance(created, step)
    pages = list(top.client().pull_window(start, start + timedelta(seconds=1)))

    found = [snapshot for page in pages for snapshot in page.orders]
    assert sorted(snapshot.external_id for snapshot in found) == sorted(
        o.order_id for o in world.orders("taobao")
    )
    for snapshot in found:
        sim_order = world.get("taobao", snapshot.external_id)
        assert sim_order is not None
        assert snapshot.status is WORLD_STATUS[sim_order.status]
        assert snapshot.payment_fen == sim_order.payment_fen
        assert snapshot.version == epoch_ms(sim_order.updated_at)
    refunded = {o.order_id for o in world.orders("taobao") if o.refunds}
    assert refunded and {refund.order_external_id for page in pages for refund in page.refunds} == refunded

    pages_asked = [
        int(call["params"]["page_no"]) for call in top.requests("taobao.trades.sold.increment.get")
    ]
    assert pages_asked == [1, 3, 2, 1]  # page 1 for the total, then last to first
    sizes = {call["params"]["page_size"] for call in top.requests("taobao.trades.sold.increment.get")}
    assert sizes == {"50"}


def test_pull_window_chunks_are_half_open_and_contiguous(top: TopEnv) -> None:
    start = top.world_clock()
    # orders on and around the 30-minute chunk edges of [start, start + 2h)
    offsets = [
        timedelta(0),
        timedelta(minutes=30) - timedelta(seconds=1),
        timedelta(minutes=30),
        timedelta(minutes=30, milliseconds=400),
        timedelta(hours=1, minutes=59, seconds=59, milliseconds=999),
        timedelta(hours=2),  # the window's end: outside
        -timedelta(seconds=1),  # before the window: outside
    ]
    placed = {}
    for index, offset in enumerate(offsets):
        top.world_clock.set(start + offset)
        placed[offset] = order(top, f"edge-{index}").order_id
    pages = list(top.client().pull_window(start, start + timedelta(hours=2)))
    found = sorted(snapshot.external_id for page in pages for snapshot in page.orders)
    assert found == sorted(placed[offset] for offset in offsets[:5])

    calls = top.requests("taobao.trades.sold.increment.get")
    spans = [(shanghai(c["params"]["start_modified"]), shanghai(c["params"]["end_modified"])) for c in calls]
    assert len(spans) == 4
    assert spans[0][0] == start
    for (_, end), (following, _) in itertools.pairwise(spans):
        assert following == end + timedelta(seconds=1)  # end_modified is inclusive on TOP
    assert spans[-1][1] == start + timedelta(hours=2) - timedelta(seconds=1)
    assert all(end - begin < timedelta(minutes=30) for begin, end in spans)


def test_a_window_longer_than_a_day_is_split(top: TopEnv) -> None:
    end = datetime.now(UTC)
    pages = list(top.client(chunk=timedelta(days=1)).pull_window(end - timedelta(days=2, hours=3), end))
    assert pages == []
    calls = top.requests("taobao.trades.sold.increment.get")
    assert len(calls) == 3
    assert all(call["outcome"] == "ok" for call in calls)


def test_a_window_with_a_fraction_ends_after_it(top: TopEnv) -> None:
    start = top.world_clock()
    top.world_clock.set(start + timedelta(seconds=10, milliseconds=600))
    late = order(top, "late")
    pages = list(top.client().pull_window(start, start + timedelta(seconds=10, milliseconds=700)))
    assert [snapshot.external_id for page in pages for snapshot in page.orders] == [late.order_id]


def test_invalid_session_is_raised_at_once(top: TopEnv) -> None:
    with pytest.raises(TaobaoError) as raised:
        top.client(session="expired-session").fetch_order("1")
    assert raised.value.code == 27
    assert raised.value.sub_code == "invalid-sessionkey"
    assert not raised.value.retryable
    assert raised.value.needs_reauthorization
    assert len(top.requests()) == 1


def test_wrong_secret_is_an_invalid_signature(top: TopEnv) -> None:
    with pytest.raises(TaobaoError) as raised:
        top.client(app_secret="not-the-secret").check()
    assert raised.value.code == 25 and not raised.value.retryable


@pytest.mark.parametrize("sign_method", ["md5", "hmac", "hmac-sha256"])
def test_every_sign_method_is_accepted(top: TopEnv, sign_method: str) -> None:
    assert SELLER in top.client(sign_method=sign_method).check()


def test_a_skewed_clock_gets_invalid_timestamp(top: TopEnv) -> None:
    skewed = top.client(clock=lambda: datetime.now(UTC) + timedelta(minutes=20))
    with pytest.raises(TaobaoError) as raised:
        skewed.check()
    assert raised.value.code == 31


def test_unknown_trade_is_an_isv_error_not_retried(top: TopEnv) -> None:
    with pytest.raises(TaobaoError) as raised:
        top.client().fetch_order("999999")
    assert (raised.value.code, raised.value.sub_code) == (15, "isv.trade-not-exist")
    assert not raised.value.retryable
    assert len(top.requests()) == 1


def test_rate_limit_is_retried_after_the_ban(top: TopEnv) -> None:
    sim_order = order(top, "bob", Step.PAY)
    top.sim.gateway.add_fault(FaultSpec(platform="taobao", code="7", count=1))
    assert top.client().fetch_order(sim_order.order_id).status is OrderStatus.PAID
    assert 1.0 in top.sleeps  # retry_after from "This ban will last for 1 more seconds"
    assert [call["outcome"] for call in top.requests()] == ["accesscontrol.limited-by-app-access-count", "ok"]


@pytest.mark.parametrize(
    "fault",
    [
        FaultSpec(platform="taobao", http_status=503, count=2),
        FaultSpec(platform="taobao", code="10", count=2),
        FaultSpec(platform="taobao", code="isp.top-remote-connection-timeout", count=2),
        FaultSpec(platform="taobao", drop=True, count=1),
    ],
)
def test_platform_failures_are_retried(top: TopEnv, fault: FaultSpec) -> None:
    sim_order = order(top, "carol")
    top.sim.gateway.add_fault(fault)
    assert top.client().fetch_order(sim_order.order_id).external_id == sim_order.order_id
    assert len(top.requests()) == (fault.count or 0) + 1


def test_circuit_breaker_opens_after_repeated_failures(top: TopEnv) -> None:
    top.sim.gateway.add_fault(FaultSpec(platform="taobao", http_status=503))
    policy = TransportPolicy(
        rate_per_second=10_000,
        burst=1000,
        max_attempts=2,
        base_backoff_seconds=0.01,
        failure_threshold=3,
        open_seconds=60,
    )
    client = top.client(policy)
    with pytest.raises(PlatformUnavailable):
        client.fetch_order("1")  # failures 1 and 2
    with pytest.raises(CircuitOpen):
        client.fetch_order("1")  # failure 3 opens the breaker
    sent = len(top.requests())
    with pytest.raises(CircuitOpen) as raised:
        client.fetch_order("1")
    assert raised.value.retryable and raised.value.retry_after is not None
    assert len(top.requests()) == sent  # not sent while open
