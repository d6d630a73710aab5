"""The Douyin shop client against the simulator over loopback HTTP: signed requests, tokens and
their renewal, orders, pull windows, retries of 60000 / 503 / dropped connections, typed errors and
the circuit breaker."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from scrm.core.shared_state import MemorySharedState
from scrm.platforms.base import PlatformUnavailable
from scrm.platforms.shops.canonical import OrderStatus, RefundState
from scrm.platforms.shops.douyin.errors import DouyinError, DouyinTokenError
from scrm.platforms.shops.douyin.simulator import state_of
from scrm.platforms.shops.simulator.app import RunningShopSimulator
from scrm.platforms.shops.simulator.gateway import FaultSpec
from scrm.platforms.shops.simulator.runtime import ShopSimulator, SimShop
from scrm.platforms.shops.simulator.world import SimOrder, Step
from scrm.platforms.shops.transport import CircuitOpen, TransportPolicy
from tests.platforms.shops.douyin.conftest import APP_KEY, APP_SECRET, SHOP_ID, make_client

DETAIL = "order.orderDetail"
SEARCH = "order.searchList"


def new_order(sim: ShopSimulator, *steps: str, shop: str = SHOP_ID) -> SimOrder:
    order = sim.world.create_order("douyin", shop, sim.world.person(f"d-{shop}-{len(sim.world.orders())}"))
    for step in steps:
        sim.world.advance(order, step)
    return order


def requests(sim: ShopSimulator, api: str) -> int:
    return len(sim.gateway.requests("douyin", api))


def fault(sim: ShopSimulator, **spec: object) -> None:
    sim.gateway.add_fault(FaultSpec(platform="douyin", **spec))  # type: ignore[arg-type]


def test_check_creates_a_token_and_reads(
    running: RunningShopSimulator, sim: ShopSimulator, http: httpx.Client
) -> None:
    assert SHOP_ID in make_client(running, http).check()
    assert requests(sim, "token.create") == 1 and requests(sim, SEARCH) == 1


def test_md5_signed_requests_are_accepted(
    running: RunningShopSimulator, sim: ShopSimulator, http: httpx.Client
) -> None:
    order = new_order(sim, Step.PAY)
    client = make_client(running, http, sign_method="md5")
    assert client.fetch_order(order.order_id).status is OrderStatus.PAID
    assert sim.gateway.requests("douyin", DETAIL)[-1]["params"]["sign_method"] == "md5"


def test_fetch_order_is_the_world_order(
    running: RunningShopSimulator, sim: ShopSimulator, http: httpx.Client
) -> None:
    order = new_order(sim, Step.PAY, Step.SHIP, Step.RECEIVE, Step.REFUND_PARTIAL)
    client = make_client(running, http)
    snapshot = client.fetch_order(order.order_id)
    assert snapshot.external_id == order.order_id and snapshot.shop_external_id == SHOP_ID
    assert snapshot.status is OrderStatus.COMPLETED and snapshot.complete
    assert snapshot.payment_fen == order.payment_fen and snapshot.total_fen == order.goods_fen
    assert snapshot.buyer is not None and snapshot.buyer.account_id == order.buyer_account
    assert snapshot.buyer.phone is None and snapshot.buyer.phone_masked is not None
    expected = RefundState.PARTIAL_REFUNDED if len(order.lines) > 1 else RefundState.FULL_REFUNDED
    assert snapshot.refund_state is expected
    assert [line.external_id for line in snapshot.lines] == [line.line_id for line in order.lines]
    assert [line.outer_sku_id for line in snapshot.lines] == [line.sku_id for line in order.lines]
    (parcel,) = snapshot.logistics
    assert parcel.tracking_no == order.tracking_no
    assert requests(sim, "token.create") == 1


def test_unknown_order_is_a_business_error(
    running: RunningShopSimulator, sim: ShopSimulator, http: httpx.Client
) -> None:
    with pytest.raises(DouyinError) as raised:
        make_client(running, http).fetch_order("6999999999999999999")
    assert raised.value.code == 50002 and raised.value.retryable is False
    assert requests(sim, DETAIL) == 1


def test_pull_window_reads_every_page(
    running: RunningShopSimulator, sim: ShopSimulator, http: httpx.Client
) -> None:
    shop = "4463799"
    sim.add_shop(SimShop("douyin", shop, "分店", {"app_key": APP_KEY, "app_secret": APP_SECRET}))
    start = datetime.now(UTC) - timedelta(seconds=1)
    orders = [new_order(sim, *([Step.PAY, Step.SHIP][: index % 3]), shop=shop) for index in range(53)]
    end = datetime.now(UTC) + timedelta(seconds=1)
    seen = {}
    for page in make_client(running, http, shop_id=shop, page_size=10).pull_window(start, end):
        for snapshot in page.orders:
            seen[snapshot.external_id] = snapshot
    assert set(seen) == {order.order_id for order in orders}
    statuses = {"created": OrderStatus.CREATED, "paid": OrderStatus.PAID, "shipped": OrderStatus.SHIPPED}
    for order in orders:
        assert seen[order.order_id].status is statuses[order.status]
        assert seen[order.order_id].payment_fen == order.payment_fen
    # 53 orders in pages of 10: page 0, then pages 5..0 backwards.
    assert requests(sim, SEARCH) == 7


def test_pull_window_is_cut_into_days(
    running: RunningShopSimulator, sim: ShopSimulator, http: httpx.Client
) -> None:
    long_ago = datetime(2021, 3, 1, tzinfo=UTC)
    pages = list(make_client(running, http).pull_window(long_ago, long_ago + timedelta(days=3)))
    assert sum(len(page.orders) for page in pages) == 0
    assert requests(sim, SEARCH) == 3
    windows = [entry["params"] for entry in sim.gateway.requests("douyin", SEARCH)]
    assert windows[0]["update_time_start"] == int(long_ago.timestamp())
    assert all(a["update_time_end"] == b["update_time_start"] for a, b in itertools.pairwise(windows))


def test_expired_token_is_refreshed_once(
    running: RunningShopSimulator, sim: ShopSimulator, http: httpx.Client
) -> None:
    order = new_order(sim)
    client = make_client(running, http)
    client.fetch_order(order.order_id)
    state_of(sim).expire(SHOP_ID)
    assert client.fetch_order(order.order_id).external_id == order.order_id
    assert requests(sim, "token.refresh") == 1 and requests(sim, "token.create") == 1
    assert requests(sim, DETAIL) == 3


def test_failed_refresh_falls_back_to_a_new_token(
    running: RunningShopSimulator, sim: ShopSimulator, http: httpx.Client
) -> None:
    order = new_order(sim)
    client = make_client(running, http)
    client.fetch_order(order.order_id)
    fault(sim, api="token.refresh", code="50001:dop.token-generate-failed:token-invalid", count=1)
    fault(sim, api=DETAIL, code="40003:isv.access-token-expired", count=1)
    assert client.fetch_order(order.order_id).external_id == order.order_id
    assert requests(sim, "token.create") == 2


def test_token_refused_twice_is_raised(
    running: RunningShopSimulator, sim: ShopSimulator, http: httpx.Client
) -> None:
    order = new_order(sim)
    fault(sim, api=DETAIL, code="40003:isv.access-token-no-existed", count=2)
    with pytest.raises(DouyinTokenError) as raised:
        make_client(running, http).fetch_order(order.order_id)
    assert raised.value.sub_code == "isv.access-token-no-existed" and not raised.value.retryable


@pytest.mark.parametrize(
    "spec",
    [{"code": "60000"}, {"code": "20000"}, {"http_status": 503}, {"drop": True}],
    ids=["rate-limited", "unavailable", "503", "dropped"],
)
def test_transient_failures_are_retried(
    running: RunningShopSimulator, sim: ShopSimulator, http: httpx.Client, spec: dict[str, object]
) -> None:
    order = new_order(sim, Step.PAY)
    fault(sim, api=DETAIL, count=2, **spec)
    assert make_client(running, http).fetch_order(order.order_id).status is OrderStatus.PAID
    assert requests(sim, DETAIL) == 3


@pytest.mark.parametrize("code", ["30001", "40004", "50002"])
def test_refusals_are_raised_at_once(
    running: RunningShopSimulator, sim: ShopSimulator, http: httpx.Client, code: str
) -> None:
    order = new_order(sim)
    fault(sim, api=DETAIL, code=code)
    with pytest.raises(DouyinError) as raised:
        make_client(running, http).fetch_order(order.order_id)
    assert raised.value.code == int(code) and raised.value.retryable is False
    assert requests(sim, DETAIL) == 1


def test_breaker_opens_after_repeated_failures(
    running: RunningShopSimulator, sim: ShopSimulator, http: httpx.Client
) -> None:
    order = new_order(sim)
    policy = TransportPolicy(
        rate_per_second=10_000,
        burst=100,
        max_attempts=2,
        base_backoff_seconds=0.01,
        max_wait_seconds=2.0,
        failure_threshold=3,
        open_seconds=60.0,
    )
    client = make_client(running, http, policy=policy, state=MemorySharedState())
    client.access_token()
    fault(sim, api=DETAIL, code="60000")
    with pytest.raises(DouyinError):
        client.fetch_order(order.order_id)
    with pytest.raises(CircuitOpen):
        client.fetch_order(order.order_id)
    assert requests(sim, DETAIL) == 3
    assert client._transport.breaker().state == "open"
    with pytest.raises(PlatformUnavailable):  # CircuitOpen is a PlatformUnavailable: retryable
        client.fetch_order(order.order_id)
