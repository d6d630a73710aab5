"""Customer profiles, their identities, their WeCom follow relations, corp tags, the tag index, the
timeline, merges and the merge review queue, saved segments and custom attribute definitions."""

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
    __table_args__ = (
        Index(None, "tenant_id", "created_at"),
        Index(None, "tenant_id", "first_seen_at"),
        Index(None, "tenant_id", "source_channel_id"),
        Index(None, "merged_into_id"),
        Index(None, "tenant_id", "last_order_at"),
    )

    name: Mapped[str] = mapped_column(String(200), default="", nullable=False)
    avatar_url: Mapped[str | None] = mapped_column(String(500))
    gender: Mapped[int] = mapped_column(Integer, default=0, nullable=False)  # 0 unknown, 1 male, 2 female
    customer_type: Mapped[int | None] = mapped_column(Integer)  # WeCom: 1 WeChat user, 2 WeCom user
    corp_name: Mapped[str | None] = mapped_column(String(200))
    # Set when this profile was merged into another one (the survivor); it then answers with a pointer.
    merged_into_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("customers.id"))
    # When the brand first met the person (earliest add or order): the `added_at` of lists and segments.
    first_seen_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, nullable=False)
    # Custom attributes, typed by `CustomerAttributeDefinition` (key → str | number | bool | "YYYY-MM-DD").
    attributes: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict, nullable=False)
    # Acquisition: the channel code (渠道活码) the person first came through, filled by the channels
    # module (customers/channel_support.py); `source_label` is what to show ("unknown channel" too).
    source_channel_id: Mapped[int | None] = mapped_column(BigId)
    source_label: Mapped[str | None] = mapped_column(String(100))
    # The store and region the customer belongs to (from the store code they scanned, or set by staff).
    store: Mapped[str | None] = mapped_column(String(100))
    region: Mapped[str | None] = mapped_column(String(100))
    # Order aggregates over every shop (kept by the commerce module through `order_stats.py`): paid
    # orders only, spend net of refunds, in fen. `rfm_*` are 1-5 scores (0: no orders yet).
    order_count: Mapped[int] = mapped_column(Integer, default=0, server_default="0", nullable=False)
    total_spent_fen: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0", nullable=False)
    avg_order_fen: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0", nullable=False)
    first_order_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    last_order_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    platform_count: Mapped[int] = mapped_column(Integer, default=0, server_default="0", nullable=False)
    rfm_r: Mapped[int] = mapped_column(Integer, default=0, server_default="0", nullable=False)
    rfm_f: Mapped[int] = mapped_column(Integer, default=0, server_default="0", nullable=False)
    rfm_m: Mapped[int] = mapped_column(Integer, default=0, server_default="0", nullable=False)
    # Per platform and shop: [{platform, shop_id, shop_name, order_count, spent_fen, first/last_order_at}]
    orders_by_shop: Mapped[list[dict[str, Any]]] = mapped_column(
        JSON, default=list, server_default="[]", nullable=False
    )


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
    # For phones: the keyed hash (HMAC-SHA256); the number itself is in `value_encrypted`.
    value: Mapped[str] = mapped_column(String(200), nullable=False)
    value_encrypted: Mapped[str | None] = mapped_column(Text)
    # Where we learnt it: "wecom", "manual", "order:<platform>", "import"...
    source: Mapped[str | None] = mapped_column(String(60))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, nullable=False)


class FollowRelation(IdMixin, TenantMixin, TimestampMixin, Base):
    """A staff member following a customer in WeCom (跟进关系), with WeCom's remark, tags and state."""

    __tablename__ = "follow_relations"
    __table_args__ = (
        # One relation per (member, external contact): a profile may hold several external_userids of
        # one corp after an operator merged two WeChat accounts of the same person.
        UniqueConstraint("tenant_id", "connection_id", "external_userid", "staff_userid"),
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


class CustomerTag(Base):
    """The tag index (one row per customer carrying a tag): derived from the tags of the customer's
    active follow relations and from local tags, maintained on every write path by
    `scrm.customers.tag_index.refresh_customer_tags`. Merged-away profiles have no rows.

    `customer_added_at` copies `Customer.first_seen_at` so that "has tag T and was added between A
    and B" is one covering index range; segments intersect these postings (see `segments`).
    """

    __tablename__ = "customer_tags"
    __table_args__ = (
        PrimaryKeyConstraint("tenant_id", "tag_id", "customer_id"),
        Index(None, "tenant_id", "tag_id", "customer_added_at", "customer_id"),
        Index(None, "tenant_id", "customer_id"),
        {"sqlite_with_rowid": False},
    )

    tenant_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False
    )
    tag_id: Mapped[int] = mapped_column(BigId, ForeignKey("tags.id", ondelete="CASCADE"), nullable=False)
    customer_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("customers.id", ondelete="CASCADE"), nullable=False
    )
    customer_added_at: Mapped[datetime] = mapped_column(UtcDateTime, nullable=False)


class CustomerLocalTag(IdMixin, TenantMixin, Base):
    """A local tag (its group has no WeCom connection) put on a customer by staff or automation."""

    __tablename__ = "customer_local_tags"
    __table_args__ = (UniqueConstraint("tenant_id", "customer_id", "tag_id"),)

    customer_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("customers.id", ondelete="CASCADE"), nullable=False
    )
    tag_id: Mapped[int] = mapped_column(BigId, ForeignKey("tags.id", ondelete="CASCADE"), nullable=False)
    created_by: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, nullable=False)


class MergeStatus(StrEnum):
    ACTIVE = "active"
    UNDONE = "undone"


class CustomerMerge(IdMixin, TenantMixin, Base):
    """One merge of `merged_id` into `survivor_id`, with exactly what moved, so that it can be undone.

    `moved` lists the ids of the identities, follow relations, timeline entries and local tags that
    moved from the merged profile to the survivor, the local tags dropped as duplicates, and the
    survivor's fields as they were before the merge filled them (`survivor_before`).
    """

    __tablename__ = "customer_merges"
    __table_args__ = (
        Index(None, "tenant_id", "survivor_id"),
        Index(None, "tenant_id", "merged_id"),
    )

    survivor_id: Mapped[int] = mapped_column(BigId, ForeignKey("customers.id"), nullable=False)
    merged_id: Mapped[int] = mapped_column(BigId, ForeignKey("customers.id"), nullable=False)
    status: Mapped[str] = mapped_column(String(20), default=MergeStatus.ACTIVE, nullable=False)
    # "manual" or the rule that decided it ("same_unionid", "same_phone", ...).
    rule: Mapped[str] = mapped_column(String(60), nullable=False)
    reason: Mapped[str | None] = mapped_column(String(500))
    explanation: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list, nullable=False)
    moved: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict, nullable=False)
    actor: Mapped[str] = mapped_column(String(100), nullable=False)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, nullable=False)
    undone_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    undone_by: Mapped[str | None] = mapped_column(String(100))
    undo_reason: Mapped[str | None] = mapped_column(String(500))


class SuggestionStatus(StrEnum):
    OPEN = "open"
    MERGED = "merged"
    DISMISSED = "dismissed"


class MergeSuggestion(IdMixin, TenantMixin, Base):
    """A merge identity resolution refused (a stronger identifier disagrees): queued for review."""

    __tablename__ = "customer_merge_suggestions"
    __table_args__ = (
        Index(None, "tenant_id", "status", "id"),
        Index(None, "tenant_id", "customer_id"),
    )

    customer_id: Mapped[int] = mapped_column(BigId, ForeignKey("customers.id"), nullable=False)
    other_customer_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("customers.id"))
    status: Mapped[str] = mapped_column(String(20), default=SuggestionStatus.OPEN, nullable=False)
    # The rule that matched ("same_phone"...) and the conflicts that stopped it, as resolution explains.
    rule: Mapped[str] = mapped_column(String(60), nullable=False)
    explanation: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list, nullable=False)
    # The identities that could not be attached (kind, namespace, value: hashes for phones).
    identities: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list, nullable=False)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, nullable=False)
    decided_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    decided_by: Mapped[str | None] = mapped_column(String(100))


class AttributeType(StrEnum):
    STRING = "string"
    NUMBER = "number"
    BOOLEAN = "boolean"
    DATE = "date"


class CustomerAttributeDefinition(IdMixin, TenantMixin, TimestampMixin, Base):
    """A custom customer attribute (自定义属性): its key in `Customer.attributes` and its type."""

    __tablename__ = "customer_attribute_definitions"
    __table_args__ = (UniqueConstraint("tenant_id", "key"),)

    key: Mapped[str] = mapped_column(String(40), nullable=False)
    label: Mapped[str] = mapped_column(String(100), nullable=False)
    type: Mapped[str] = mapped_column(String(20), nullable=False)


class Segment(IdMixin, TenantMixin, TimestampMixin, Base):
    """A saved segment (客户分群): a condition over customers, counted and listed live."""

    __tablename__ = "segments"
    __table_args__ = (Index(None, "tenant_id", "id"),)

    name: Mapped[str] = mapped_column(String(100), nullable=False)
    description: Mapped[str | None] = mapped_column(String(500))
    condition: Mapped[dict[str, Any]] = mapped_column(JSON, nullable=False)
    created_by: Mapped[str | None] = mapped_column(String(100))
    last_count: Mapped[int | None] = mapped_column(Integer)
    last_counted_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
