"""The PMC stand-in: world changes become PMC frames, consumed by polling, redelivered until acked."""

from __future__ import annotations

import json

import pytest

from scrm.platforms.base import PlatformError
from scrm.platforms.shops.canonical import OrderStatus, RefundStatus
from scrm.platforms.shops.pdd import PLATFORM
from scrm.platforms.shops.pdd.simulator import FRONT_END
from scrm.platforms.shops.simulator.runtime import SimShop
from scrm.platforms.shops.simulator.world import Step

from .conftest import PddMall


def topics(frames: list[tuple[str, str]]) -> list[str]:
    return [json.loads(text)["message"]["type"] for _, text in frames]


def test_world_changes_become_frames_with_the_real_topics(pdd: PddMall) -> None:
    pdd.order([])  # created only: PDD says nothing
    pdd.order([Step.CLOSE])  # closed unpaid: nothing either
    order = pdd.order([Step.PAY, Step.SHIP, Step.RECEIVE, Step.REFUND_PARTIAL])
    frames = pdd.channel().consume(50)
    assert topics(frames) == [
        "pdd_trade_TradeConfirmed",
        "pdd_trade_TradeSellerShip",
        "pdd_trade_TradeSuccess",
        "pdd_refund_RefundCreated",
        "pdd_refund_RefundAgreeAgreement",
    ]
    for _, text in frames:
        frame = json.loads(text)
        assert frame["commandType"] == "Common"
        assert frame["message"]["mallID"] == int(pdd.shop.shop_id)
        assert json.loads(frame["message"]["content"])["tid"] == order.order_id


def test_frames_map_to_snapshots_of_the_world(pdd: PddMall) -> None:
    order = pdd.order([Step.PAY, Step.SHIP, Step.RECEIVE, Step.REFUND_PARTIAL])
    mapped = [PLATFORM.map_message(text, pdd.shop.shop_id) for _, text in pdd.channel().consume(50)]
    assert [m.orders[0].status for m in mapped[:3]] == [
        OrderStatus.PAID,
        OrderStatus.SHIPPED,
        OrderStatus.COMPLETED,
    ]
    assert all(m.fetch_orders == [order.order_id] for m in mapped)
    created, agreed = mapped[3].refunds[0], mapped[4].refunds[0]
    assert (created.status, agreed.status) == (RefundStatus.REQUESTED, RefundStatus.AGREED)
    assert created.amount_fen == agreed.amount_fen == order.refunds[0].amount_fen
    assert created.external_id == agreed.external_id
    assert created.version < agreed.version


def test_ids_beyond_2_53_are_kept_exact_and_acked_exactly(pdd: PddMall) -> None:
    pdd.order([Step.PAY])
    channel = pdd.channel()
    ((message_id, text),) = channel.consume(10)
    assert int(message_id) > 2**53
    assert message_id == str(json.loads(text)["id"])
    pdd.sim.gateway.clear_requests()
    channel.confirm([message_id])
    (entry,) = pdd.sim.gateway.requests("pdd", "pmc.ack")
    (ack,) = json.loads(entry["params"]["acks"])
    assert ack["id"] == int(message_id)
    assert (ack["commandType"], ack["type"], ack["mallID"]) == (
        "Ack",
        "pdd_trade_TradeConfirmed",
        int(pdd.shop.shop_id),
    )
    assert f'"id":{message_id}' in entry["params"]["acks"]  # the digits as sent, no float in between
    assert channel.consume(10) == []
    assert len(pdd.sim.channel("pdd", pdd.shop.shop_id)) == 0


def test_unacked_frames_are_redelivered_after_the_visibility_timeout(pdd: PddMall) -> None:
    pdd.order([Step.PAY, Step.SHIP])
    channel = pdd.channel()
    first = channel.consume(10)
    assert len(first) == 2
    assert channel.consume(10) == []  # invisible while being handled
    FRONT_END.state(pdd.sim).pmc_visibility_seconds = 0.0
    for entry in pdd.sim.channel("pdd", pdd.shop.shop_id):
        entry["visible_at"] = 0.0  # the timeout has passed
    again = channel.consume(10)
    assert again == first
    channel.confirm([message_id for message_id, _ in again[:1]])
    assert [message_id for message_id, _ in channel.consume(10)] == [again[1][0]]


def test_consume_respects_quantity(pdd: PddMall) -> None:
    pdd.order([Step.PAY, Step.SHIP, Step.RECEIVE])
    channel = pdd.channel()
    assert len(channel.consume(2)) == 2
    assert len(channel.consume(2)) == 1


def test_frames_are_per_mall(pdd: PddMall) -> None:
    """Same app, another mall (its own token): each consumes its own frames."""
    other_token = f"{pdd.config['access_token']}-b"
    other_mall = f"{pdd.shop.shop_id}9"
    pdd.sim.add_shop(
        SimShop(
            "pdd",
            other_mall,
            "另一家店",
            {**pdd.shop.credentials, "access_token": other_token, "mall_id": other_mall},
        )
    )
    mine = pdd.order([Step.PAY])
    theirs = pdd.sim.world.create_order("pdd", other_mall, pdd.sim.world.person("someone-else"))
    pdd.sim.world.advance(theirs, Step.PAY)
    assert [json.loads(text)["message"]["content"] for _, text in pdd.channel().consume(10)] == [
        json.dumps({"mall_id": int(pdd.shop.shop_id), "tid": mine.order_id}, separators=(",", ":"))
    ]
    other = pdd.channel(config={"access_token": other_token, "mall_id": other_mall}).consume(10)
    assert [json.loads(json.loads(text)["message"]["content"])["tid"] for _, text in other] == [
        theirs.order_id
    ]


def test_a_wrong_token_cannot_consume(pdd: PddMall) -> None:
    pdd.order([Step.PAY])
    with pytest.raises(PlatformError) as raised:
        pdd.channel(config={"access_token": "other"}).consume(10)
    assert raised.value.code == 10019


def test_permit_is_accepted(pdd: PddMall) -> None:
    pdd.channel().permit(["pdd_trade_TradeConfirmed", "pdd_refund_RefundCreated"])
    assert FRONT_END.state(pdd.sim).permits[pdd.shop.shop_id] == [
        "pdd_trade_TradeConfirmed",
        "pdd_refund_RefundCreated",
    ]


def test_the_polling_channel_refuses_the_real_gateway(pdd: PddMall) -> None:
    with pytest.raises(PlatformError) as raised:
        pdd.channel(config={"api_base_url": None}).consume(10)
    assert (raised.value.code, raised.value.retryable) == ("pmc_websocket_only", False)
