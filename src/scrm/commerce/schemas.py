"""API shapes of the commerce domain. Amounts are integers in fen (`*_fen`); the console formats yuan."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field, model_validator

from scrm.core.jobs import JobOut


class OrderLineOut(BaseModel):
    external_id: str
    title: str
    item_id: str | None
    sku_id: str | None
    outer_sku_id: str | None
    sku_description: str | None
    quantity: int
    price_fen: int
    total_fen: int
    payment_fen: int
    discount_fen: int
    is_gift: bool
    is_presale: bool


class RefundOut(BaseModel):
    id: int
    external_id: str
    status: str
    platform_status: str
    amount_fen: int
    line_external_ids: list[str]
    refund_type: str | None
    reason: str | None
    requested_at: datetime | None
    platform_updated_at: datetime | None


class OrderTimelineOut(BaseModel):
    id: int
    kind: str
    summary: str
    detail: dict[str, Any]
    source: str
    occurred_at: datetime | None
    recorded_at: datetime


class OrderOut(BaseModel):
    """An order in lists. `status` is canonical (created, paid, shipped, completed, closed);
    `platform_status` is the platform's own."""

    id: int
    platform: str
    shop_id: int
    shop_name: str
    connection_id: int
    external_id: str
    status: str
    platform_status: str
    refund_state: str
    customer_id: int | None
    customer_name: str | None
    buyer_nick: str | None
    buyer_phone_masked: str | None
    payment_fen: int
    total_fen: int
    discount_fen: int
    post_fee_fen: int
    platform_fee_fen: int | None
    refunded_fen: int
    receiver_province: str | None
    receiver_city: str | None
    placed_at: datetime | None
    paid_at: datetime | None
    shipped_at: datetime | None
    received_at: datetime | None
    closed_at: datetime | None
    platform_updated_at: datetime | None
    is_presale: bool
    presale_ship_at: datetime | None
    is_gift: bool
    labels: list[str]
    complete: bool
    item_count: int
    first_item_title: str | None


class OrderDetailOut(OrderOut):
    items: list[OrderLineOut]
    refunds: list[RefundOut]
    logistics: list[dict[str, Any]]
    promotions: list[dict[str, Any]]
    timeline: list[OrderTimelineOut]
    raw: dict[str, Any]


class ShopHealthOut(BaseModel):
    """A shop connection and how its sync is doing. `lag_seconds`: how far behind now the pull cursor
    is (None before the first pull); `breaker`: closed | open | half_open."""

    connection_id: int
    shop_id: int | None
    platform: str
    external_id: str
    name: str
    connection_status: str
    callback_url: str | None
    cursor_at: datetime | None
    lag_seconds: float | None
    last_pull_at: datetime | None
    last_pull_ok_at: datetime | None
    last_pull_error: str | None
    consecutive_failures: int
    last_push_at: datetime | None
    breaker: str
    breaker_open_until: datetime | None
    order_count: int
    backfill: JobOut | None
    health: str  # ok | lagging | failing | never_synced | disabled


class BackfillRequest(BaseModel):
    start: datetime
    end: datetime | None = None

    @model_validator(mode="after")
    def _order(self) -> BackfillRequest:
        if self.start.tzinfo is None or (self.end is not None and self.end.tzinfo is None):
            raise ValueError("start and end need a time zone (ISO-8601 with offset)")
        if self.end is not None and self.end <= self.start:
            raise ValueError("end must be after start")
        return self


class PlatformComboOut(BaseModel):
    platforms: list[str]
    customers: int


class CrossPlatformCustomerOut(BaseModel):
    customer_id: int
    name: str
    platforms: list[str]
    order_count: int
    total_spent_fen: int
    last_order_at: datetime | None


class CrossPlatformReportOut(BaseModel):
    """Buyers who bought on several platforms (seed: "26% of users buy on several platforms")."""

    buyers: int
    multi_platform_buyers: int
    multi_platform_share: float
    by_platform: dict[str, int]
    combinations: list[PlatformComboOut]
    top_customers: list[CrossPlatformCustomerOut]


class GiftRule(BaseModel):
    name: str = Field(min_length=1, max_length=60)
    min_total_spent_fen: int = Field(default=0, ge=0)
    min_order_fen: int = Field(default=0, ge=0)


class ProductAlertRule(BaseModel):
    sku_id: str = Field(min_length=1, max_length=64)
    monthly_units: int = Field(ge=1, le=10_000_000)
    user_ids: list[int] = Field(default_factory=list)


class CommerceSettingsIn(BaseModel):
    big_order_threshold_fen: int | None = Field(default=None, ge=1)
    alert_user_ids: list[int] = Field(default_factory=list)
    gift_rules: list[GiftRule] = Field(default_factory=list, max_length=20)
    product_alerts: list[ProductAlertRule] = Field(default_factory=list, max_length=100)


class CommerceSettingsOut(CommerceSettingsIn):
    updated_at: datetime | None = None


class AlertOut(BaseModel):
    id: int
    kind: str
    title: str
    order_id: int | None
    detail: dict[str, Any]
    notify_user_ids: list[int]
    status: str
    created_at: datetime
    acknowledged_by: str | None
