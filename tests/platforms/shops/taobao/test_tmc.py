"""TMC through the poll API: world changes become messages with TOP's topics; consume hands them
out, unconfirmed ones come back after the visibility timeout, confirmed ones are gone."""

from __future__ import annotations

import json

from scrm.platforms.shops.canonical import OrderStatus, RefundStatus
from scrm.platforms.shops.simulator.runtime import SimShop
from scrm.platforms.shops.simulator.world import SimOrder, Step
from scrm.platforms.shops.taobao import PLATFORM
from scrm.platforms.shops.taobao.channel import TmcChannel
from tests.platforms.shops.taobao.conftest import APP_KEY, APP_SECRET, SELLER, TopEnv


def channel(top: TopEnv, **overrides: str) -> TmcChannel:
    built = PLATFORM.build_channel
    assert built is not None
    result = built(top.config(**overrides), top.transport(), top.http)
    assert isinstance(result, TmcChannel)
    return result


def lifecycle(top: TopEnv, *steps: str) -> SimOrder:
    order = top.sim.world.create_order("taobao", SELLER, top.sim.world.person("erin"))
    for step in steps:
        top.sim.world.advance(order, step)
    return order


def topics(messages: list[tuple[str, str]]) -> list[str]:
    return [json.loads(raw)["topic"] for _, raw in messages]


def test_lifecycle_topics_and_their_mapping(top: TopEnv) -> None:
    order = lifecycle(top, Step.PAY, Step.SHIP, Step.RECEIVE, Step.REFUND_PARTIAL)
    messages = channel(top).consume(50)
    assert topics(messages) == [
        "taobao_trade_TradeCreate",
        "taobao_trade_TradeBuyerPay",
        "taobao_trade_TradeSellerShip",
        "taobao_trade_TradeSuccess",
        "taobao_refund_RefundSuccess",
        "taobao_trade_TradePartlyRefund",
    ]
    mapped = [PLATFORM.map_message(raw, SELLER) for _, raw in messages]
    assert [m.orders[0].status for m in mapped[:4]] == [
        OrderStatus.CREATED,
        OrderStatus.PAID,
        OrderStatus.SHIPPED,
        OrderStatus.COMPLETED,
    ]
    assert all(m.fetch_orders == [order.order_id] for m in mapped)
    (refund,) = mapped[4].refunds
    assert refund.status is RefundStatus.SUCCEEDED
    assert refund.external_id == order.refunds[0].refund_id
    assert refund.amount_fen == order.refunds[0].amount_fen
    first = json.loads(messages[0][1])
    assert str(first["user_id"]) == SELLER and first["pub_app_key"]
    assert json.loads(first["content"])["buyer_open_uid"] == order.buyer_account
    # the channel permitted the seller once, before its first consume
    assert [call["api"] for call in top.requests()][:2] == [
        "taobao.tmc.user.permit",
        "taobao.tmc.messages.consume",
    ]
    assert top.state.permits == {SELLER: "*"}


def test_full_refund_closes_and_unpaid_close_is_by_taobao(top: TopEnv) -> None:
    lifecycle(top, Step.PAY, Step.REFUND_FULL)
    unpaid = lifecycle(top, Step.CLOSE)
    messages = channel(top).consume(50)
    assert topics(messages)[-4:] == [
        "taobao_refund_RefundSuccess",
        "taobao_trade_TradeClose",
        "taobao_trade_TradeCreate",
        "taobao_trade_TradeClose",
    ]
    closed = PLATFORM.map_message(messages[-1][1], SELLER).orders[0]
    assert closed.external_id == unpaid.order_id
    assert (closed.status, closed.platform_status) == (OrderStatus.CLOSED, "TRADE_CLOSED_BY_TAOBAO")
    refunded = PLATFORM.map_message(messages[-3][1], SELLER).orders[0]
    assert refunded.platform_status == "TRADE_CLOSED"


def test_unconfirmed_messages_come_back_after_the_visibility_timeout(top: TopEnv) -> None:
    now = [1000.0]
    top.state.clock = lambda: now[0]
    top.state.settings.visibility_timeout_seconds = 10
    top.state.settings.timestamp_tolerance_seconds = 10**10  # the frozen clock is far from the client's
    lifecycle(top, Step.PAY)
    tmc = channel(top)
    first = tmc.consume(10)
    assert len(first) == 2
    assert tmc.consume(10) == []  # handed out: invisible
    now[0] += 9.9
    assert tmc.consume(10) == []
    now[0] += 0.2
    again = tmc.consume(10)
    assert again == first  # same ids, same messages
    tmc.confirm([first[0][0]])
    now[0] += 11
    (left,) = tmc.consume(10)
    assert left == first[1]
    tmc.confirm([left[0]])
    now[0] += 11
    assert tmc.consume(10) == []
    assert len(top.sim.channel("taobao", SELLER)) == 0


def test_failed_confirmation_redelivers_at_once(top: TopEnv) -> None:
    lifecycle(top)
    tmc = channel(top)
    ((message_id, _),) = tmc.consume(10)
    tmc.api.call("taobao.tmc.messages.confirm", {"f_message_ids": message_id}, session=False)
    assert [mid for mid, _ in tmc.consume(10)] == [message_id]


def test_quantity_bounds_a_consume(top: TopEnv) -> None:
    lifecycle(top, Step.PAY, Step.SHIP)
    tmc = channel(top)
    assert len(tmc.consume(2)) == 2
    assert len(tmc.consume(2)) == 1


def test_groups_separate_sellers(top: TopEnv) -> None:
    top.sim.add_shop(
        SimShop(
            "taobao",
            "2200999999",
            "另一家店",
            {"app_key": APP_KEY, "app_secret": APP_SECRET, "session": "other-session", "tmc_group": "vip"},
        )
    )
    top.sim.world.create_order("taobao", "2200999999", top.sim.world.person("frank"))
    lifecycle(top)
    default = channel(top).consume(10)
    vip = channel(top, session="other-session", seller_id="2200999999", tmc_group="vip").consume(10)
    assert [json.loads(raw)["user_id"] for _, raw in default] == [int(SELLER)]
    assert [json.loads(raw)["user_id"] for _, raw in vip] == [2200999999]
    # a message of another seller reaching this connection is ignored, not mapped
    assert PLATFORM.map_message(vip[0][1], SELLER).ignored_reason
