"""Channel codes (渠道活码), their groups, and the rows routing and analytics are counted from.

Counts are never stored as counters: adds today per member, the latest receiver, adds and deletions
per day and hour all come from `channel_adds` and `channel_deletions` rows.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from scrm.core.clock import utcnow
from scrm.core.db import Base, BigId, IdMixin, TenantMixin, TimestampMixin, UtcDateTime


class CodeStatus(StrEnum):
    ACTIVE = "active"
    DISABLED = (
        "disabled"  # the contact way stays (printed codes still add someone); no routing, tags, welcome
    )
    DELETED = "deleted"  # the contact way is deleted in WeCom


class ProblemKind(StrEnum):
    UNKNOWN_STATE = "unknown_state"  # an add whose state matches no code (code_id is NULL)
    DELETED_CODE = "deleted_code"
    DISABLED_CODE = "disabled_code"
    NO_CUSTOMER_CONTACT = "no_customer_contact"  # the add's member lacks 客户联系
    NOT_ON_CODE = "not_on_code"  # the add's member is not among the code's staff
    WAY_UPDATE_FAILED = "way_update_failed"
    TAGS_FAILED = "tags_failed"
    REMARK_FAILED = "remark_failed"
    WELCOME_FAILED = "welcome_failed"
    STICKY_TRANSFER_FAILED = "sticky_transfer_failed"
    NOBODY_ELIGIBLE = "nobody_eligible"


class WelcomeStatus(StrEnum):
    SENT = "sent"
    PROBABLY_SENT = "probably_sent"  # 41050 after an earlier attempt whose answer was lost
    EXPIRED = "expired"  # 41050 on a first attempt, or the 20 s passed before we could send
    CUSTOMER_CHATTING = "customer_chatting"  # 41051
    FAILED = "failed"
    SKIPPED = "skipped"  # no welcome configured, or nothing to send


class ChannelCodeGroup(IdMixin, TenantMixin, TimestampMixin, Base):
    """A folder of codes (活码分组), e.g. "门店" or "达人"."""

    __tablename__ = "channel_code_groups"
    __table_args__ = (UniqueConstraint("tenant_id", "name"),)

    name: Mapped[str] = mapped_column(String(100), nullable=False)
    description: Mapped[str | None] = mapped_column(String(500))


class ChannelCode(IdMixin, TenantMixin, TimestampMixin, Base):
    """A channel code backed by one WeCom contact way (`config_id`) carrying a unique `state`."""

    __tablename__ = "channel_codes"
    __table_args__ = (
        UniqueConstraint("tenant_id", "connection_id", "state"),
        Index(None, "tenant_id", "group_id"),
        Index(None, "tenant_id", "status"),
    )

    connection_id: Mapped[int] = mapped_column(BigId, nullable=False)
    group_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("channel_code_groups.id", ondelete="SET NULL")
    )
    name: Mapped[str] = mapped_column(String(100), nullable=False)
    description: Mapped[str | None] = mapped_column(String(500))
    status: Mapped[str] = mapped_column(String(20), default=CodeStatus.ACTIVE, nullable=False)
    state: Mapped[str] = mapped_column(String(30), nullable=False)
    config_id: Mapped[str | None] = mapped_column(String(100))
    qr_url: Mapped[str | None] = mapped_column(String(500))
    way_type: Mapped[int] = mapped_column(Integer, default=2, nullable=False)
    store: Mapped[str | None] = mapped_column(String(100))
    region: Mapped[str | None] = mapped_column(String(100))
    timezone: Mapped[str] = mapped_column(String(64), default="Asia/Shanghai", nullable=False)
    # [{userid, weight, daily_cap, backup, store, region, schedule}] in routing order.
    staff: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list, nullable=False)
    # {strategy, schedule, special_dates, match_location, sticky}
    routing: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict, nullable=False)
    tag_ids: Mapped[list[int]] = mapped_column(JSON, default=list, nullable=False)
    welcome: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict, nullable=False)
    skip_verify: Mapped[bool] = mapped_column(Boolean, default=True, nullable=False)
    skip_verify_windows: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list, nullable=False)
    remark_template: Mapped[str | None] = mapped_column(String(100))
    description_template: Mapped[str | None] = mapped_column(String(300))
    # What the contact way has in WeCom, as last pushed.
    way_users: Mapped[list[str]] = mapped_column(JSON, default=list, nullable=False)
    way_skip_verify: Mapped[bool | None] = mapped_column(Boolean)
    way_synced_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    way_error: Mapped[str | None] = mapped_column(Text)
    decision_id: Mapped[int | None] = mapped_column(BigId)
    created_by: Mapped[str | None] = mapped_column(String(100))
    deleted_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class ChannelAdd(IdMixin, TenantMixin, Base):
    """One customer added through a code (a successful scan), with the member WeCom picked."""

    __tablename__ = "channel_adds"
    __table_args__ = (
        UniqueConstraint("tenant_id", "event_id"),
        Index(None, "tenant_id", "code_id", "local_day", "staff_userid"),
        Index(None, "tenant_id", "code_id", "id"),
        Index(None, "tenant_id", "local_day"),
        Index(None, "tenant_id", "recorded_at"),
        Index(None, "tenant_id", "customer_id"),
        Index(None, "tenant_id", "connection_id", "external_userid", "staff_userid"),
    )

    code_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("channel_codes.id", ondelete="CASCADE"), nullable=False
    )
    connection_id: Mapped[int] = mapped_column(BigId, nullable=False)
    event_id: Mapped[str] = mapped_column(String(64), nullable=False)
    staff_userid: Mapped[str] = mapped_column(String(64), nullable=False)
    external_userid: Mapped[str] = mapped_column(String(100), nullable=False)
    customer_id: Mapped[int | None] = mapped_column(BigId)
    store: Mapped[str | None] = mapped_column(String(100))
    region: Mapped[str | None] = mapped_column(String(100))
    occurred_at: Mapped[datetime] = mapped_column(UtcDateTime, nullable=False)
    recorded_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, nullable=False)
    local_day: Mapped[str] = mapped_column(String(10), nullable=False)  # YYYY-MM-DD in the code's zone
    local_hour: Mapped[int] = mapped_column(Integer, nullable=False)
    is_returning: Mapped[bool] = mapped_column(Boolean, default=False, nullable=False)
    is_half: Mapped[bool] = mapped_column(Boolean, default=False, nullable=False)
    # Whether the member was on the way's list as we had pushed it (False: WeCom's pick raced a rotation).
    was_listed: Mapped[bool] = mapped_column(Boolean, default=True, nullable=False)
    decision_id: Mapped[int | None] = mapped_column(BigId)
    # Sticky routing: the previous guide this returning customer is handed back to.
    routed_to: Mapped[str | None] = mapped_column(String(64))


class ChannelDeletion(IdMixin, TenantMixin, Base):
    """A relation that came through a code ended: the member deleted the customer or the other way."""

    __tablename__ = "channel_deletions"
    __table_args__ = (
        UniqueConstraint("tenant_id", "event_id"),
        Index(None, "tenant_id", "code_id", "local_day"),
        Index(None, "tenant_id", "local_day"),
    )

    code_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("channel_codes.id", ondelete="CASCADE"), nullable=False
    )
    add_id: Mapped[int | None] = mapped_column(BigId)
    connection_id: Mapped[int] = mapped_column(BigId, nullable=False)
    event_id: Mapped[str] = mapped_column(String(64), nullable=False)
    staff_userid: Mapped[str] = mapped_column(String(64), nullable=False)
    external_userid: Mapped[str] = mapped_column(String(100), nullable=False)
    customer_id: Mapped[int | None] = mapped_column(BigId)
    by_customer: Mapped[bool] = mapped_column(Boolean, nullable=False)
    source: Mapped[str | None] = mapped_column(String(50))
    store: Mapped[str | None] = mapped_column(String(100))
    region: Mapped[str | None] = mapped_column(String(100))
    occurred_at: Mapped[datetime] = mapped_column(UtcDateTime, nullable=False)
    recorded_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, nullable=False)
    local_day: Mapped[str] = mapped_column(String(10), nullable=False)
    local_hour: Mapped[int] = mapped_column(Integer, nullable=False)


class ChannelDecision(IdMixin, TenantMixin, Base):
    """A routing decision: the user list (and skip-verify) the engine chose for a code's way, and why."""

    __tablename__ = "channel_decisions"
    __table_args__ = (Index(None, "tenant_id", "code_id", "id"),)

    code_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("channel_codes.id", ondelete="CASCADE"), nullable=False
    )
    decided_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, nullable=False)
    trigger: Mapped[str] = mapped_column(String(30), nullable=False)
    users: Mapped[list[str]] = mapped_column(JSON, default=list, nullable=False)
    skip_verify: Mapped[bool] = mapped_column(Boolean, nullable=False)
    mode: Mapped[str] = mapped_column(String(20), nullable=False)
    reason: Mapped[str] = mapped_column(String(500), nullable=False)
    excluded: Mapped[dict[str, str]] = mapped_column(JSON, default=dict, nullable=False)
    is_pushed: Mapped[bool] = mapped_column(Boolean, default=False, nullable=False)
    error: Mapped[str | None] = mapped_column(Text)


class ChannelProblem(IdMixin, TenantMixin, Base):
    """Something wrong seen on a code (or, for unknown states, on no code), shown on its page."""

    __tablename__ = "channel_problems"
    __table_args__ = (
        Index(None, "tenant_id", "code_id", "id"),
        Index(None, "tenant_id", "connection_id", "kind", "state"),
    )

    code_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("channel_codes.id", ondelete="CASCADE"))
    connection_id: Mapped[int] = mapped_column(BigId, nullable=False)
    kind: Mapped[str] = mapped_column(String(40), nullable=False)
    state: Mapped[str | None] = mapped_column(String(64))
    message: Mapped[str] = mapped_column(String(500), nullable=False)
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict, nullable=False)
    occurred_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, nullable=False)


class ChannelWelcome(IdMixin, TenantMixin, Base):
    """The outcome of one add's welcome message (one row per add event, written once)."""

    __tablename__ = "channel_welcomes"
    __table_args__ = (UniqueConstraint("tenant_id", "event_id"), Index(None, "tenant_id", "code_id", "id"))

    code_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("channel_codes.id", ondelete="CASCADE"), nullable=False
    )
    event_id: Mapped[str] = mapped_column(String(64), nullable=False)
    customer_id: Mapped[int | None] = mapped_column(BigId)
    staff_userid: Mapped[str] = mapped_column(String(64), nullable=False)
    external_userid: Mapped[str] = mapped_column(String(100), nullable=False)
    welcome_code: Mapped[str] = mapped_column(String(128), nullable=False)
    variant: Mapped[str | None] = mapped_column(String(60))
    status: Mapped[str] = mapped_column(String(30), nullable=False)
    attempts: Mapped[int] = mapped_column(Integer, default=1, nullable=False)
    text: Mapped[str | None] = mapped_column(String(500))
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, nullable=False)


class StaffPresence(IdMixin, TenantMixin, Base):
    """Whether a member takes new customers right now (在线/离线); absent means online."""

    __tablename__ = "channel_staff_presence"
    __table_args__ = (UniqueConstraint("tenant_id", "connection_id", "userid"),)

    connection_id: Mapped[int] = mapped_column(BigId, nullable=False)
    userid: Mapped[str] = mapped_column(String(64), nullable=False)
    is_online: Mapped[bool] = mapped_column(Boolean, default=True, nullable=False)
    changed_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, nullable=False)
    changed_by: Mapped[str | None] = mapped_column(String(100))
