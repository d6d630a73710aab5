"""Tables of the commerce domain. Amounts are integers in fen (分); times are UTC.

`Shop` is one per shop connection and holds the sync state (the pull cursor and health). `Order`
keeps the canonical fields beside the platform's raw status and payload; its `version` is the newest
platform observation applied (see `ingest.py` for how observations converge).
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    PrimaryKeyConstraint,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from scrm.core.clock import utcnow
from scrm.core.db import Base, BigId, IdMixin, TenantMixin, TimestampMixin, UtcDateTime


class Shop(IdMixin, TenantMixin, TimestampMixin, Base):
    """A shop on a platform, one per shop connection, with its pull cursor and sync health."""

    __tablename__ = "commerce_shops"
    __table_args__ = (UniqueConstraint("tenant_id", "connection_id"),)

    connection_id: Mapped[int] = mapped_column(BigId, nullable=False)
    platform: Mapped[str] = mapped_column(String(20), nullable=False)
    external_id: Mapped[str] = mapped_column(String(64), nullable=False)
    name: Mapped[str] = mapped_column(String(100), nullable=False)
    # Everything the platform changed before this instant has been pulled (the incremental cursor).
    cursor_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    last_pull_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    last_pull_ok_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    last_pull_error: Mapped[str | None] = mapped_column(Text)
    consecutive_failures: Mapped[int] = mapped_column(Integer, default=0, nullable=False)
    # The last message-channel message consumed (HTTP pushes are counted from the inbox instead: an
    # update of this row per push would make it the hottest row of the database).
    last_push_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    # Message-channel ids ingested by the last pull tick, confirmed by the next one (after commit).
    channel_unconfirmed: Mapped[list[str]] = mapped_column(JSON, default=list, nullable=False)


class Order(IdMixin, TenantMixin, TimestampMixin, Base):
    __tablename__ = "commerce_orders"
    __table_args__ = (
        UniqueConstraint("tenant_id", "shop_id", "external_id"),
        Index(None, "tenant_id", "placed_at"),
        Index(None, "tenant_id", "customer_id", "placed_at"),
        Index(None, "tenant_id", "status", "placed_at"),
        Index(None, "tenant_id", "platform", "placed_at"),
    )

    shop_id: Mapped[int] = mapped_column(BigId, ForeignKey("commerce_shops.id"), nullable=False)
    platform: Mapped[str] = mapped_column(String(20), nullable=False)
    external_id: Mapped[str] = mapped_column(String(64), nullable=False)
    customer_id: Mapped[int | None] = mapped_column(BigId)
    status: Mapped[str] = mapped_column(String(20), nullable=False)
    platform_status: Mapped[str] = mapped_column(String(64), nullable=False)
    refund_state: Mapped[str] = mapped_column(String(24), default="none", nullable=False)
    # Newest observation applied, and the newest complete one (whose body the row holds).
    version: Mapped[int] = mapped_column(BigInteger, default=0, nullable=False)
    body_version: Mapped[int] = mapped_column(BigInteger, default=-1, nullable=False)
    complete: Mapped[bool] = mapped_column(Boolean, default=False, nullable=False)
    # When the order's details were asked of the platform (a partial message named it); once only.
    detail_requested_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    placed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    paid_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    shipped_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    received_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    platform_updated_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    payment_fen: Mapped[int] = mapped_column(BigInteger, default=0, nullable=False)
    total_fen: Mapped[int] = mapped_column(BigInteger, default=0, nullable=False)
    discount_fen: Mapped[int] = mapped_column(BigInteger, default=0, nullable=False)
    post_fee_fen: Mapped[int] = mapped_column(BigInteger, default=0, nullable=False)
    platform_fee_fen: Mapped[int | None] = mapped_column(BigInteger)
    refunded_fen: Mapped[int] = mapped_column(BigInteger, default=0, nullable=False)
    buyer_account_id: Mapped[str | None] = mapped_column(String(128))
    buyer_nick: Mapped[str | None] = mapped_column(String(128))
    buyer_phone_masked: Mapped[str | None] = mapped_column(String(32))
    receiver_name_masked: Mapped[str | None] = mapped_column(String(64))
    receiver_province: Mapped[str | None] = mapped_column(String(32))
    receiver_city: Mapped[str | None] = mapped_column(String(32))
    is_presale: Mapped[bool] = mapped_column(Boolean, default=False, nullable=False)
    presale_ship_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    is_gift: Mapped[bool] = mapped_column(Boolean, default=False, nullable=False)
    promotions: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list, nullable=False)
    # Labels the special-order rules put on the order ("预售 12-20 发货", "大额订单", "赠品：礼盒").
    labels: Mapped[list[str]] = mapped_column(JSON, default=list, nullable=False)
    logistics: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list, nullable=False)
    raw: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict, nullable=False)


class OrderLine(IdMixin, TenantMixin, Base):
    __tablename__ = "commerce_order_lines"
    __table_args__ = (
        UniqueConstraint("order_id", "external_id"),
        Index(None, "tenant_id", "sku_id"),
    )

    order_id: Mapped[int] = mapped_column(BigId, ForeignKey("commerce_orders.id"), nullable=False)
    external_id: Mapped[str] = mapped_column(String(64), nullable=False)
    title: Mapped[str] = mapped_column(String(300), default="", nullable=False)
    item_id: Mapped[str | None] = mapped_column(String(64))
    sku_id: Mapped[str | None] = mapped_column(String(64))
    outer_sku_id: Mapped[str | None] = mapped_column(String(64))
    sku_description: Mapped[str | None] = mapped_column(String(300))
    quantity: Mapped[int] = mapped_column(Integer, default=1, nullable=False)
    price_fen: Mapped[int] = mapped_column(BigInteger, default=0, nullable=False)
    total_fen: Mapped[int] = mapped_column(BigInteger, default=0, nullable=False)
    payment_fen: Mapped[int] = mapped_column(BigInteger, default=0, nullable=False)
    discount_fen: Mapped[int] = mapped_column(BigInteger, default=0, nullable=False)
    is_gift: Mapped[bool] = mapped_column(Boolean, default=False, nullable=False)
    is_presale: Mapped[bool] = mapped_column(Boolean, default=False, nullable=False)


class Refund(IdMixin, TenantMixin, TimestampMixin, Base):
    """A refund / after-sales request (售后单) on an order, linked to its lines by their external ids."""

    __tablename__ = "commerce_refunds"
    __table_args__ = (UniqueConstraint("tenant_id", "order_id", "external_id"),)

    order_id: Mapped[int] = mapped_column(BigId, ForeignKey("commerce_orders.id"), nullable=False)
    external_id: Mapped[str] = mapped_column(String(64), nullable=False)
    status: Mapped[str] = mapped_column(String(20), nullable=False)
    platform_status: Mapped[str] = mapped_column(String(64), nullable=False)
    amount_fen: Mapped[int] = mapped_column(BigInteger, default=0, nullable=False)
    line_external_ids: Mapped[list[str]] = mapped_column(JSON, default=list, nullable=False)
    refund_type: Mapped[str | None] = mapped_column(String(32))
    reason: Mapped[str | None] = mapped_column(String(300))
    requested_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    platform_updated_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    version: Mapped[int] = mapped_column(BigInteger, default=0, nullable=False)
    raw: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict, nullable=False)


class OrderTimelineEntry(IdMixin, TenantMixin, Base):
    """What happened to an order, in the order it was learnt (status changes, refunds, alerts)."""

    __tablename__ = "commerce_order_timeline"
    __table_args__ = (Index(None, "tenant_id", "order_id", "id"),)

    order_id: Mapped[int] = mapped_column(BigId, ForeignKey("commerce_orders.id"), nullable=False)
    kind: Mapped[str] = mapped_column(String(40), nullable=False)
    summary: Mapped[str] = mapped_column(String(300), nullable=False)
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict, nullable=False)
    source: Mapped[str] = mapped_column(String(20), nullable=False)
    occurred_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    recorded_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, nullable=False)


class CommerceSettings(TenantMixin, Base):
    """A workspace's special-order rules (seed 000: presale ship dates, big-order risk alerts, gifts
    by customer level, cross-platform product sales alerts)."""

    __tablename__ = "commerce_settings"
    __table_args__ = (PrimaryKeyConstraint("tenant_id"),)

    # Orders paying at least this much raise a risk alert (None: off).
    big_order_threshold_fen: Mapped[int | None] = mapped_column(BigInteger)
    alert_user_ids: Mapped[list[int]] = mapped_column(JSON, default=list, nullable=False)
    # [{"name": "VIP 礼盒", "min_total_spent_fen": 500000, "min_order_fen": 0}], first match wins.
    gift_rules: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list, nullable=False)
    # [{"sku_id": "SKU-SERUM", "monthly_units": 100, "user_ids": [3]}]
    product_alerts: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list, nullable=False)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, onupdate=utcnow, nullable=False)


class AlertStatus(StrEnum):
    OPEN = "open"
    ACKNOWLEDGED = "acknowledged"


class OrderAlert(IdMixin, TenantMixin, Base):
    """A fired special-order rule: a big order, or a product passing its monthly sales threshold.
    `dedupe_key` makes each fire once (per order, or per product and month)."""

    __tablename__ = "commerce_alerts"
    __table_args__ = (UniqueConstraint("tenant_id", "dedupe_key"), Index(None, "tenant_id", "status", "id"))

    kind: Mapped[str] = mapped_column(String(30), nullable=False)
    dedupe_key: Mapped[str] = mapped_column(String(200), nullable=False)
    order_id: Mapped[int | None] = mapped_column(BigId)
    title: Mapped[str] = mapped_column(String(300), nullable=False)
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict, nullable=False)
    notify_user_ids: Mapped[list[int]] = mapped_column(JSON, default=list, nullable=False)
    status: Mapped[str] = mapped_column(String(20), default=AlertStatus.OPEN, nullable=False)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, nullable=False)
    acknowledged_by: Mapped[str | None] = mapped_column(String(200))


class OrderMove(TenantMixin, Base):
    """Orders re-pointed to a survivor by a customer merge, to move back if the merge is undone."""

    __tablename__ = "commerce_order_moves"
    __table_args__ = (PrimaryKeyConstraint("merge_id", "order_id"),)

    merge_id: Mapped[int] = mapped_column(BigId, nullable=False)
    order_id: Mapped[int] = mapped_column(BigId, nullable=False)
    from_customer_id: Mapped[int] = mapped_column(BigId, nullable=False)
