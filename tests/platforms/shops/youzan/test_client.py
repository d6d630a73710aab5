"""The Youzan client against the simulator over loopback HTTP: tokens, orders, pull windows,
retries of 20001 / 503 / dropped connections, typed errors and the circuit breaker."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest

from scrm.core.shared_state import MemorySharedState
from scrm.platforms.base import PlatformUnavailable
from scrm.platforms.shops.canonical import OrderStatus
from scrm.platforms.shops.simulator.app import RunningShopSimulator
from scrm.platforms.shops.simulator.gateway import FaultSpec
from scrm.platforms.shops.simulator.runtime import ShopSimulator, SimShop
from scrm.platforms.shops.simulator.world import SimOrder, Step
from scrm.platforms.shops.transport import CircuitOpen, TransportPolicy
from scrm.platforms.shops.youzan.client import split_window
from scrm.platforms.shops.youzan.errors import YouzanError, YouzanTokenError
from scrm.platforms.shops.youzan.simulator import state_of
from tests.platforms.shops.youzan.conftest import CLIENT_ID, CLIENT_SECRET, KDT_ID, make_client

TRADE_GET = "youzan.trade.get"


def new_order(sim: ShopSimulator, *steps: str, shop: str = KDT_ID) -> SimOrder:
    order = sim.world.create_order("youzan", shop, sim.world.person(f"p-{shop}-{len(sim.world.orders())}"))
    for step in steps:
        sim.world.advance(order, step)
    return order


def requests(sim: ShopSimulator, api: str) -> int:
    return len(sim.gateway.requests("youzan", api))


def fault(sim: ShopSimulator, **spec: object) -> None:
    sim.gateway.add_fault(FaultSpec(platform="youzan", **spec))  # type: ignore[arg-type]


def test_check_fetches_a_token_and_reads(
    running: RunningShopSimulator, sim: ShopSimulator, http: httpx.Client
) -> None:
    client = make_client(running, http)
    assert KDT_ID in client.check()
    assert requests(sim, "auth.token") == 1
    assert requests(sim, "youzan.trades.sold.get") == 1


def test_one_token_for_many_calls(
    running: RunningShopSimulator, sim: ShopSimulator, http: httpx.Client
) -> None:
    order = new_order(sim, Step.PAY)
    client = make_client(running, http)
    for _ in range(3):
        client.fetch_order(order.order_id)
    assert requests(sim, "auth.token") == 1
    assert requests(sim, TRADE_GET) == 3


def test_fetch_order_is_the_world_order(
    running: RunningShopSimulator, sim: ShopSimulator, http: httpx.Client
) -> None:
    order = new_order(sim, Step.PAY, Step.SHIP)
    snapshot = make_client(running, http).fetch_order(order.order_id)
    assert snapshot.external_id == order.order_id and snapshot.shop_external_id == KDT_ID
    assert snapshot.status is OrderStatus.SHIPPED and snapshot.complete
    assert snapshot.payment_fen == order.payment_fen and snapshot.total_fen == order.goods_fen
    assert snapshot.buyer is not None and snapshot.buyer.account_id == order.buyer_account
    assert [line.external_id for line in snapshot.lines] == [line.line_id for line in order.lines]
    assert [line.outer_sku_id for line in snapshot.lines] == [line.sku_id for line in order.lines]
    assert snapshot.paid_at is not None and order.paid_at is not None
    assert abs((snapshot.paid_at - order.paid_at).total_seconds()) < 1  # Youzan times are to the second
    assert (snapshot.receiver_province, snapshot.receiver_city) == (order.province, order.city)


def test_unknown_order_is_not_retried(
    running: RunningShopSimulator, sim: ShopSimulator, http: httpx.Client
) -> None:
    with pytest.raises(YouzanError) as raised:
        make_client(running, http).fetch_order("E-NO-SUCH-ORDER")
    assert raised.value.retryable is False and raised.value.code == 50000
    assert requests(sim, TRADE_GET) == 1


def test_pull_window_reads_every_page(
    running: RunningShopSimulator, sim: ShopSimulator, http: httpx.Client
) -> None:
    shop = "63099"
    sim.add_shop(SimShop("youzan", shop, "分店", {"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET}))
    start = datetime.now(UTC) - timedelta(seconds=1)
    orders = [new_order(sim, *([Step.PAY] * (index % 2)), shop=shop) for index in range(47)]
    for order in orders[:5]:
        sim.world.advance(order, Step.CLOSE if order.status == "created" else Step.SHIP)
    end = datetime.now(UTC) + timedelta(seconds=1)
    client = make_client(running, http, kdt_id=shop, page_size=10)
    seen = {}
    for page in client.pull_window(start, end):
        for snapshot in page.orders:
            seen[snapshot.external_id] = snapshot
    assert set(seen) == {order.order_id for order in orders}
    expected = {"created": OrderStatus.CREATED, "paid": OrderStatus.PAID, "shipped": OrderStatus.SHIPPED}
    expected["closed"] = OrderStatus.CLOSED
    for order in orders:
        assert seen[order.order_id].status is expected[order.status]
        assert seen[order.order_id].payment_fen == order.payment_fen
    # 47 orders in pages of 10: the first page, then pages 5..1 backwards.
    assert requests(sim, "youzan.trades.sold.get") == 6


def test_pull_window_outside_the_orders_is_empty(
    running: RunningShopSimulator, sim: ShopSimulator, http: httpx.Client
) -> None:
    new_order(sim)
    long_ago = datetime(2020, 1, 1, tzinfo=UTC)
    pages = list(make_client(running, http).pull_window(long_ago, long_ago + timedelta(days=2, hours=1)))
    assert sum(len(page.orders) for page in pages) == 0
    assert requests(sim, "youzan.trades.sold.get") == 3  # one request per chunk of at most a day


def test_split_window_is_half_open_and_bounded() -> None:
    start = datetime(2024, 5, 1, tzinfo=UTC)
    chunks = split_window(start, start + timedelta(days=2, hours=3), timedelta(days=1))
    assert [b - a for a, b in chunks] == [timedelta(days=1), timedelta(days=1), timedelta(hours=3)]
    assert all(chunks[i][1] == chunks[i + 1][0] for i in range(len(chunks) - 1))
    assert split_window(start, start, timedelta(days=1)) == []


def test_revoked_token_is_replaced_once(
    running: RunningShopSimulator, sim: ShopSimulator, http: httpx.Client
) -> None:
    order = new_order(sim)
    client = make_client(running, http)
    client.fetch_order(order.order_id)
    state_of(sim).revoke(KDT_ID)
    assert client.fetch_order(order.order_id).external_id == order.order_id
    assert requests(sim, "auth.token") == 2
    assert requests(sim, TRADE_GET) == 3


def test_token_refused_twice_is_raised(
    running: RunningShopSimulator, sim: ShopSimulator, http: httpx.Client
) -> None:
    order = new_order(sim)
    fault(sim, api=TRADE_GET, code="10003", count=2)
    with pytest.raises(YouzanTokenError) as raised:
        make_client(running, http).fetch_order(order.order_id)
    assert raised.value.code == 10003 and raised.value.retryable is False
    assert requests(sim, "auth.token") == 2


@pytest.mark.parametrize(
    "spec", [{"code": "20001"}, {"http_status": 503}, {"drop": True}], ids=["rate-limited", "503", "dropped"]
)
def test_transient_failures_are_retried(
    running: RunningShopSimulator, sim: ShopSimulator, http: httpx.Client, spec: dict[str, object]
) -> None:
    order = new_order(sim, Step.PAY)
    fault(sim, api=TRADE_GET, count=2, **spec)
    assert make_client(running, http).fetch_order(order.order_id).status is OrderStatus.PAID
    assert requests(sim, TRADE_GET) == 3


def test_rate_limit_answer_is_retryable_with_a_wait(
    running: RunningShopSimulator, sim: ShopSimulator, http: httpx.Client
) -> None:
    order = new_order(sim)
    fault(sim, api=TRADE_GET, code="20001")
    with pytest.raises(YouzanError) as raised:
        make_client(running, http).fetch_order(order.order_id)
    assert raised.value.code == 20001 and raised.value.retryable and raised.value.retry_after is not None
    assert requests(sim, TRADE_GET) == 4  # max_attempts


@pytest.mark.parametrize(("code", "retryable"), [("10004", False), ("20002", True)])
def test_refusals_are_raised_at_once(
    running: RunningShopSimulator, sim: ShopSimulator, http: httpx.Client, code: str, retryable: bool
) -> None:
    order = new_order(sim)
    fault(sim, api=TRADE_GET, code=code)
    with pytest.raises(YouzanError) as raised:
        make_client(running, http).fetch_order(order.order_id)
    assert raised.value.code == int(code) and raised.value.retryable is retryable
    # 20002 (daily quota) waits until the quota resets: far longer than a call may wait.
    assert requests(sim, TRADE_GET) == 1


def test_breaker_opens_after_repeated_failures(
    running: RunningShopSimulator, sim: ShopSimulator, http: httpx.Client
) -> None:
    order = new_order(sim)
    state = MemorySharedState()
    policy = TransportPolicy(
        rate_per_second=10_000,
        burst=100,
        max_attempts=2,
        base_backoff_seconds=0.01,
        max_wait_seconds=2.0,
        failure_threshold=3,
        open_seconds=60.0,
    )
    client = make_client(running, http, policy=policy, state=state)
    client.access_token()
    fault(sim, api=TRADE_GET, http_status=503)
    with pytest.raises(PlatformUnavailable):
        client.fetch_order(order.order_id)
    with pytest.raises(CircuitOpen) as opened:
        client.fetch_order(order.order_id)
    assert opened.value.retryable and opened.value.retry_after is not None
    assert requests(sim, TRADE_GET) == 3  # 2 attempts, then 1 more before the breaker opened
    assert client._transport.breaker().state == "open"
