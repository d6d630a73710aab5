"""The canonical order vocabulary shop adapters produce and the commerce domain consumes.

An adapter never decides what an order means for the business; it only says what the platform
showed, as an `OrderSnapshot` (or `RefundSnapshot`) with a `version` that orders observations of the
same order: Youzan's message `version`, otherwise the platform's update time in milliseconds. A
snapshot may be partial (`complete=False`): a push that carries only a status and a time. Amounts are
integers in fen (分); times are timezone-aware UTC.

`ShopOrderObserved` / `ShopRefundObserved` carry snapshots to the commerce domain through the outbox.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field

from scrm.core.events import Event


class OrderStatus(StrEnum):
    """Canonical order status. Orders only move forward in `STATUS_RANK`; `closed` is terminal
    (closed before payment, or fully refunded after it)."""

    CREATED = "created"
    PAID = "paid"
    SHIPPED = "shipped"
    COMPLETED = "completed"  # received / 已签收 / 交易成功
    CLOSED = "closed"


STATUS_RANK: dict[OrderStatus, int] = {
    OrderStatus.CREATED: 0,
    OrderStatus.PAID: 1,
    OrderStatus.SHIPPED: 2,
    OrderStatus.COMPLETED: 3,
    OrderStatus.CLOSED: 4,
}


class RefundState(StrEnum):
    """The order's refund summary, as the platform reports it."""

    NONE = "none"
    PARTIAL_REFUNDING = "partial_refunding"
    PARTIAL_REFUNDED = "partial_refunded"
    FULL_REFUNDING = "full_refunding"
    FULL_REFUNDED = "full_refunded"


class RefundStatus(StrEnum):
    """Canonical status of one refund / after-sales request (售后单)."""

    REQUESTED = "requested"
    AGREED = "agreed"  # seller agreed (refund, or return of goods)
    RETURNING = "returning"  # buyer sent the goods back
    REFUSED = "refused"
    SUCCEEDED = "succeeded"
    CLOSED = "closed"


REFUND_STATUS_RANK: dict[RefundStatus, int] = {
    RefundStatus.REQUESTED: 0,
    RefundStatus.AGREED: 1,
    RefundStatus.RETURNING: 2,
    RefundStatus.REFUSED: 3,
    RefundStatus.SUCCEEDED: 4,
    RefundStatus.CLOSED: 4,
}


class _Snapshot(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class BuyerIdentity(_Snapshot):
    """Who bought, as far as the platform tells. `account_id` is the platform's stable buyer id
    (Youzan yz_open_id, Taobao buyer_open_uid, Douyin/JD/PDD buyer ids or pins); `phone` only when
    the platform gives it in clear; masked values stay masked (`phone_masked`, `name_masked`)."""

    account_id: str | None = None
    nick: str | None = None
    phone: str | None = None
    phone_masked: str | None = None
    name_masked: str | None = None
    unionid: str | None = None
    oaid: str | None = None


class OrderLineSnapshot(_Snapshot):
    external_id: str
    title: str = ""
    item_id: str | None = None
    sku_id: str | None = None
    outer_sku_id: str | None = None
    sku_description: str | None = None
    quantity: int = 1
    price_fen: int = 0  # unit price
    total_fen: int = 0  # price x quantity before discounts
    payment_fen: int = 0  # what the buyer paid for the line
    discount_fen: int = 0
    is_gift: bool = False
    is_presale: bool = False


class LogisticsSnapshot(_Snapshot):
    company: str | None = None
    tracking_no: str | None = None
    shipped_at: datetime | None = None
    line_external_ids: tuple[str, ...] = ()


class OrderSnapshot(_Snapshot):
    """One observation of an order. Fields left None are unknown in this observation (not cleared)."""

    platform: str
    shop_external_id: str
    external_id: str
    version: int = Field(ge=0)
    complete: bool = True
    status: OrderStatus
    platform_status: str
    refund_state: RefundState | None = None
    created_at: datetime | None = None
    paid_at: datetime | None = None
    shipped_at: datetime | None = None
    received_at: datetime | None = None
    closed_at: datetime | None = None
    updated_at: datetime | None = None
    payment_fen: int | None = None  # what the buyer paid, post fee included
    total_fen: int | None = None  # goods total before discounts
    discount_fen: int | None = None
    post_fee_fen: int | None = None
    platform_fee_fen: int | None = None
    buyer: BuyerIdentity | None = None
    receiver_province: str | None = None
    receiver_city: str | None = None
    is_presale: bool | None = None
    presale_ship_at: datetime | None = None
    is_gift: bool | None = None
    promotions: tuple[dict[str, Any], ...] = ()
    lines: tuple[OrderLineSnapshot, ...] = ()
    logistics: tuple[LogisticsSnapshot, ...] = ()
    raw: dict[str, Any] = Field(default_factory=dict)


class RefundSnapshot(_Snapshot):
    """One observation of a refund / after-sales request on an order."""

    platform: str
    shop_external_id: str
    external_id: str
    order_external_id: str
    version: int = Field(ge=0)
    status: RefundStatus
    platform_status: str
    amount_fen: int | None = None
    line_external_ids: tuple[str, ...] = ()
    refund_type: str | None = None  # refund_only | return_and_refund | exchange
    reason: str | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None
    raw: dict[str, Any] = Field(default_factory=dict)


class ObservationSource(StrEnum):
    PUSH = "push"
    PULL = "pull"
    BACKFILL = "backfill"


class ShopOrderObserved(Event, frozen=True):
    """A shop platform showed this state of an order (a push, a pull page, a backfill)."""

    event_type: ClassVar[str] = "shop.order.observed"
    connection_id: int
    source: ObservationSource
    inbound_message_id: int | None = None
    order: OrderSnapshot


class ShopRefundObserved(Event, frozen=True):
    """A shop platform showed this state of a refund."""

    event_type: ClassVar[str] = "shop.refund.observed"
    connection_id: int
    source: ObservationSource
    inbound_message_id: int | None = None
    refund: RefundSnapshot


class ShopOrderDetailWanted(Event, frozen=True):
    """A message named an order without its details: fetch them from the platform (the handler in
    `scrm.platforms.shops.handlers` does, and publishes the complete snapshot it gets)."""

    event_type: ClassVar[str] = "shop.order.detail_wanted"
    connection_id: int
    external_id: str
    inbound_message_id: int | None = None
