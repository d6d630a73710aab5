"""Order convergence (pure): any arrival order of the same observations, with repeats, ends in one
state, and that state is the platform's latest."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from scrm.commerce.convergence import MILESTONES, apply_snapshot, new_order_defaults
from scrm.commerce.models import Shop
from scrm.platforms.shops.canonical import OrderSnapshot, OrderStatus, RefundState
from tests.commerce.conftest import SHIPPED_LOGISTICS, snapshot

SHOP = Shop(platform="youzan", external_id="63077")
FIELDS = (
    "status",
    "platform_status",
    "refund_state",
    "version",
    "body_version",
    "complete",
    "payment_fen",
    "buyer_account_id",
    "logistics",
    "raw",
    *(name for name, _ in MILESTONES),
)


def blank() -> SimpleNamespace:
    state = SimpleNamespace(**new_order_defaults())
    for name in (
        *(row for row, _ in MILESTONES),
        "platform_updated_at",
        "platform_fee_fen",
        "buyer_account_id",
        "buyer_nick",
        "buyer_phone_masked",
        "receiver_name_masked",
        "receiver_province",
        "receiver_city",
        "presale_ship_at",
    ):
        setattr(state, name, None)
    return state


def fold(snapshots: list[OrderSnapshot]) -> dict[str, Any]:
    state = blank()
    for index, item in enumerate(snapshots):
        apply_snapshot(state, item, is_new=index == 0)
    return {name: getattr(state, name) for name in FIELDS}


LIFECYCLE = [
    snapshot(SHOP, "E1", OrderStatus.CREATED, version=1000, payment_fen=0),
    snapshot(SHOP, "E1", OrderStatus.PAID, version=2000),
    snapshot(SHOP, "E1", OrderStatus.SHIPPED, version=3000, complete=False, logistics=SHIPPED_LOGISTICS),
    snapshot(SHOP, "E1", OrderStatus.COMPLETED, version=4000, refund_state=RefundState.PARTIAL_REFUNDED),
    snapshot(SHOP, "E1", OrderStatus.SHIPPED, version=3500, complete=False),
]


@settings(max_examples=300, deadline=None)
@given(st.permutations(LIFECYCLE), st.lists(st.sampled_from(LIFECYCLE), max_size=6))
def test_any_arrival_order_with_repeats_converges_to_the_latest(
    order: list[OrderSnapshot], repeats: list[OrderSnapshot]
) -> None:
    expected = fold(LIFECYCLE)
    assert fold([*order, *repeats]) == expected
    assert expected["status"] == OrderStatus.COMPLETED
    assert expected["platform_status"] == "COMPLETED@4000"
    assert expected["refund_state"] == RefundState.PARTIAL_REFUNDED
    assert expected["body_version"] == 4000 and expected["raw"] == {"tid": "E1", "v": 4000}
    assert [item["tracking_no"] for item in expected["logistics"]] == ["SF123"]


def test_a_late_paid_never_overwrites_shipped() -> None:
    state = blank()
    apply_snapshot(state, LIFECYCLE[2], is_new=True)
    applied = apply_snapshot(state, LIFECYCLE[1], is_new=False)
    assert state.status == OrderStatus.SHIPPED and not applied.status_changed
    # ...but the body it carries (the only complete one so far) is taken.
    assert applied.body_replaced and state.payment_fen == 16900 and state.paid_at is not None


def test_a_repeat_changes_nothing() -> None:
    state = blank()
    apply_snapshot(state, LIFECYCLE[1], is_new=True)
    again = apply_snapshot(state, LIFECYCLE[1], is_new=False)
    assert not again.changed and not again.status_changed and not again.body_replaced


def test_a_partial_snapshot_fills_only_what_is_unknown() -> None:
    state = blank()
    apply_snapshot(
        state, snapshot(SHOP, "E2", OrderStatus.PAID, version=5, complete=False, payment_fen=1), is_new=True
    )
    assert state.complete is False and state.payment_fen == 0
    apply_snapshot(
        state,
        OrderSnapshot(
            **{
                **snapshot(SHOP, "E2", OrderStatus.PAID, version=6, complete=False).model_dump(),
                "payment_fen": 990,
            }
        ),
        is_new=False,
    )
    assert state.payment_fen == 990 and state.body_version == -1
