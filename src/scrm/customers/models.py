"""Customer profiles, their identities, their WeCom follow relations, corp tags and the timeline."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from scrm.core.clock import utcnow
from scrm.core.db import Base, BigId, IdMixin, TenantMixin, TimestampMixin, UtcDateTime


class IdentityKind(StrEnum):
    WECOM_EXTERNAL_USERID = "wecom_external_userid"  # namespace: the corp id
    WECHAT_UNIONID = "wechat_unionid"
    WECHAT_OPENID = "wechat_openid"  # namespace: the app id
    PHONE = "phone"  # value: keyed hash; the number itself is kept encrypted
    PLATFORM_BUYER = "platform_buyer"  # namespace: "<platform>:<shop>"
    MEMBER_ID = "member_id"


class FollowStatus(StrEnum):
    ACTIVE = "active"
    DELETED_BY_STAFF = "deleted_by_staff"  # del_external_contact
    DELETED_BY_CUSTOMER = "deleted_by_customer"  # del_follow_user
    GONE = "gone"  # absent from WeCom at a sync although no callback said so (missed callback)


class Customer(IdMixin, TenantMixin, TimestampMixin, Base):
    __tablename__ = "customers"
    __table_args__ = (Index(None, "tenant_id", "created_at"),)

    name: Mapped[str] = mapped_column(String(200), default="", nullable=False)
    avatar_url: Mapped[str | None] = mapped_column(String(500))
    gender: Mapped[int] = mapped_column(Integer, default=0, nullable=False)  # 0 unknown, 1 male, 2 female
    customer_type: Mapped[int | None] = mapped_column(Integer)  # WeCom: 1 WeChat user, 2 WeCom user
    corp_name: Mapped[str | None] = mapped_column(String(200))
    merged_into_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("customers.id"))
    first_seen_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, nullable=False)
    attributes: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict, nullable=False)


class CustomerIdentity(IdMixin, TenantMixin, Base):
    """One way to recognise a customer. (kind, namespace, value) is unique within the tenant."""

    __tablename__ = "customer_identities"
    __table_args__ = (
        UniqueConstraint("tenant_id", "kind", "namespace", "value"),
        Index(None, "tenant_id", "customer_id"),
    )

    customer_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("customers.id", ondelete="CASCADE"), nullable=False
    )
    kind: Mapped[str] = mapped_column(String(40), nullable=False)
    namespace: Mapped[str] = mapped_column(String(100), default="", nullable=False)
    value: Mapped[str] = mapped_column(String(200), nullable=False)
    value_encrypted: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, nullable=False)


class FollowRelation(IdMixin, TenantMixin, TimestampMixin, Base):
    """A staff member following a customer in WeCom (跟进关系), with WeCom's remark, tags and state."""

    __tablename__ = "follow_relations"
    __table_args__ = (
        UniqueConstraint("tenant_id", "connection_id", "staff_userid", "customer_id"),
        Index(None, "tenant_id", "customer_id"),
        Index(None, "tenant_id", "staff_userid"),
    )

    customer_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("customers.id", ondelete="CASCADE"), nullable=False
    )
    connection_id: Mapped[int] = mapped_column(BigId, nullable=False)
    staff_userid: Mapped[str] = mapped_column(String(64), nullable=False)
    external_userid: Mapped[str] = mapped_column(String(100), nullable=False)
    remark: Mapped[str | None] = mapped_column(String(100))
    description: Mapped[str | None] = mapped_column(String(300))
    add_way: Mapped[int | None] = mapped_column(Integer)
    state: Mapped[str | None] = mapped_column(String(64))
    oper_userid: Mapped[str | None] = mapped_column(String(100))
    followed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    tag_ids: Mapped[list[str]] = mapped_column(JSON, default=list, nullable=False)
    status: Mapped[str] = mapped_column(String(30), default=FollowStatus.ACTIVE, nullable=False)
    deleted_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    delete_source: Mapped[str | None] = mapped_column(String(50))


class TagGroup(IdMixin, TenantMixin, TimestampMixin, Base):
    """A corp tag group (标签组), mirrored from WeCom when `wecom_group_id` is set."""

    __tablename__ = "tag_groups"
    __table_args__ = (UniqueConstraint("tenant_id", "connection_id", "wecom_group_id"),)

    connection_id: Mapped[int | None] = mapped_column(BigId)
    wecom_group_id: Mapped[str | None] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(100), nullable=False)
    order: Mapped[int] = mapped_column(BigId, default=0, nullable=False)
    is_deleted: Mapped[bool] = mapped_column(Boolean, default=False, nullable=False)


class Tag(IdMixin, TenantMixin, TimestampMixin, Base):
    """A corp tag (企业标签)."""

    __tablename__ = "tags"
    __table_args__ = (
        UniqueConstraint("tenant_id", "connection_id", "wecom_tag_id"),
        Index(None, "tenant_id", "group_id"),
    )

    group_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("tag_groups.id", ondelete="CASCADE"), nullable=False
    )
    connection_id: Mapped[int | None] = mapped_column(BigId)
    wecom_tag_id: Mapped[str | None] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(100), nullable=False)
    order: Mapped[int] = mapped_column(BigId, default=0, nullable=False)
    is_deleted: Mapped[bool] = mapped_column(Boolean, default=False, nullable=False)


class TimelineEntry(IdMixin, TenantMixin, Base):
    """One thing that happened to a customer, for the 360 timeline (append-only)."""

    __tablename__ = "customer_timeline"
    __table_args__ = (Index(None, "tenant_id", "customer_id", "occurred_at"),)

    customer_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("customers.id", ondelete="CASCADE"), nullable=False
    )
    occurred_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, nullable=False)
    kind: Mapped[str] = mapped_column(String(60), nullable=False)
    summary: Mapped[str] = mapped_column(String(300), nullable=False)
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict, nullable=False)
