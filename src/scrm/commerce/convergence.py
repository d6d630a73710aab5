"""How observations of one order converge, whatever order they arrive in (pure: no database).

Platforms repeat and reorder their messages (Youzan says so outright; retries and pulls overlap
pushes), so the order row must end in the same state for any arrival order of the same observations,
and that state must be the platform's latest:

- **status** only moves forward in `STATUS_RANK` (created < paid < shipped < completed < closed): a
  late "paid" never overwrites "shipped". Platforms do not move orders backwards, so the highest rank
  seen *is* the latest status.
- **platform_status** and **refund_state** are last-writer-wins by `version` (the platform's own
  ordering: Youzan's message version, otherwise the update time).
- **the body** (amounts, lines, buyer, receiver, flags, raw) comes from the complete snapshot with the
  highest version; a partial snapshot only fills what is still unknown.
- **shipments** (logistics) are the union of all seen, by company and tracking number.
- **milestone times** (placed, paid, shipped, received, closed) are filled once, when first known:
  the platform never changes them.

Each rule is commutative and idempotent, so applying any permutation of a set of snapshots, with
repeats, yields one state (the property tests check this).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from scrm.platforms.shops.canonical import STATUS_RANK, OrderSnapshot, OrderStatus, RefundState

#: (row attribute, snapshot attribute) of the milestone times.
MILESTONES: tuple[tuple[str, str], ...] = (
    ("placed_at", "created_at"),
    ("paid_at", "paid_at"),
    ("shipped_at", "shipped_at"),
    ("received_at", "received_at"),
    ("closed_at", "closed_at"),
)
#: Body fields copied as they are from a complete snapshot (row attribute = snapshot attribute).
_AMOUNTS = ("payment_fen", "total_fen", "discount_fen", "post_fee_fen")


class OrderState(Protocol):
    """The order row's fields this module reads and writes (the ORM row satisfies it)."""

    status: str
    platform_status: str
    refund_state: str
    version: int
    body_version: int
    complete: bool
    placed_at: datetime | None
    paid_at: datetime | None
    shipped_at: datetime | None
    received_at: datetime | None
    closed_at: datetime | None
    platform_updated_at: datetime | None
    payment_fen: int
    total_fen: int
    discount_fen: int
    post_fee_fen: int
    platform_fee_fen: int | None
    buyer_account_id: str | None
    buyer_nick: str | None
    buyer_phone_masked: str | None
    receiver_name_masked: str | None
    receiver_province: str | None
    receiver_city: str | None
    is_presale: bool
    presale_ship_at: datetime | None
    is_gift: bool
    promotions: list[dict[str, Any]]
    logistics: list[dict[str, Any]]
    raw: dict[str, Any]


@dataclass(frozen=True)
class Applied:
    """What applying one snapshot changed."""

    previous_status: OrderStatus | None  # None: the order was new
    status_changed: bool
    refund_state_changed: bool
    body_replaced: bool
    changed: bool


def new_order_defaults() -> dict[str, Any]:
    """Field values of an order no snapshot has touched yet (`version` 0 is older than any)."""
    return {
        "status": OrderStatus.CREATED.value,
        "platform_status": "",
        "refund_state": RefundState.NONE.value,
        "version": 0,
        "body_version": -1,
        "complete": False,
        "payment_fen": 0,
        "total_fen": 0,
        "discount_fen": 0,
        "post_fee_fen": 0,
        "is_presale": False,
        "is_gift": False,
        "promotions": [],
        "logistics": [],
        "raw": {},
    }


def _merge_logistics(order: OrderState, snapshot: OrderSnapshot) -> bool:
    """Union of the shipments seen, keyed by (company, tracking number): any snapshot may carry one
    (ship pushes do), so this is independent of which snapshot holds the body."""
    known = {(item.get("company"), item.get("tracking_no")) for item in order.logistics}
    added = [
        item.model_dump(mode="json")
        for item in snapshot.logistics
        if (item.company, item.tracking_no) not in known
    ]
    if not added:
        return False
    order.logistics = sorted(
        [*order.logistics, *added], key=lambda item: (str(item.get("company")), str(item.get("tracking_no")))
    )
    return True


def _fill_partial(order: OrderState, snapshot: OrderSnapshot) -> bool:
    """Fill body fields still unknown (no complete snapshot yet) from a partial snapshot."""
    changed = False
    if order.body_version >= 0:
        return False
    for name in _AMOUNTS:
        value = getattr(snapshot, name)
        if value is not None and getattr(order, name) == 0:
            setattr(order, name, value)
            changed = True
    if snapshot.buyer is not None and order.buyer_account_id is None and snapshot.buyer.account_id:
        order.buyer_account_id = snapshot.buyer.account_id
        order.buyer_nick = snapshot.buyer.nick
        changed = True
    return changed


def _replace_body(order: OrderState, snapshot: OrderSnapshot) -> None:
    for name in _AMOUNTS:
        value = getattr(snapshot, name)
        setattr(order, name, value if value is not None else 0)
    order.platform_fee_fen = snapshot.platform_fee_fen
    buyer = snapshot.buyer
    order.buyer_account_id = buyer.account_id if buyer else None
    order.buyer_nick = buyer.nick if buyer else None
    order.buyer_phone_masked = (buyer.phone_masked if buyer else None) or None
    order.receiver_name_masked = buyer.name_masked if buyer else None
    order.receiver_province = snapshot.receiver_province
    order.receiver_city = snapshot.receiver_city
    order.is_presale = bool(snapshot.is_presale) or any(line.is_presale for line in snapshot.lines)
    order.presale_ship_at = snapshot.presale_ship_at
    order.is_gift = bool(snapshot.is_gift)
    order.promotions = [dict(item) for item in snapshot.promotions]
    order.raw = dict(snapshot.raw)
    order.body_version = snapshot.version
    order.complete = True


def apply_snapshot(order: OrderState, snapshot: OrderSnapshot, *, is_new: bool) -> Applied:
    """Apply one observation to the order's state in place; what changed. Lines are the caller's
    (replace them when `body_replaced`)."""
    previous = None if is_new else OrderStatus(order.status)
    changed = is_new
    status_changed = False
    if previous is None or STATUS_RANK[snapshot.status] > STATUS_RANK[previous]:
        status_changed = previous is None or snapshot.status != previous
        order.status = snapshot.status.value
        changed = True
    refund_changed = False
    if snapshot.version >= order.version:
        if order.platform_status != snapshot.platform_status:
            order.platform_status = snapshot.platform_status
            changed = True
        if snapshot.refund_state is not None and order.refund_state != snapshot.refund_state:
            order.refund_state = snapshot.refund_state.value
            refund_changed = changed = True
    for row_name, snapshot_name in MILESTONES:
        value = getattr(snapshot, snapshot_name)
        if value is not None and getattr(order, row_name) is None:
            setattr(order, row_name, value)
            changed = True
    if snapshot.updated_at is not None and (
        order.platform_updated_at is None or snapshot.updated_at > order.platform_updated_at
    ):
        order.platform_updated_at = snapshot.updated_at
        changed = True
    body_replaced = False
    if snapshot.complete and snapshot.version > order.body_version:
        _replace_body(order, snapshot)
        body_replaced = changed = True
    elif not snapshot.complete:
        changed = _fill_partial(order, snapshot) or changed
    changed = _merge_logistics(order, snapshot) or changed
    if snapshot.version > order.version:
        order.version = snapshot.version
        changed = True
    return Applied(previous, status_changed, refund_changed, body_replaced, changed)
