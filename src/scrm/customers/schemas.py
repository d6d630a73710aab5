"""API shapes of customers and tags."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field


class IdentityOut(BaseModel):
    kind: str
    namespace: str
    value: str


class TagBrief(BaseModel):
    id: int
    name: str
    group_name: str
    local: bool = Field(default=False, description="A local tag (not in WeCom)")


class FollowOut(BaseModel):
    connection_id: int
    staff_userid: str
    staff_name: str | None
    remark: str | None
    description: str | None
    state: str | None
    add_way: int | None
    status: str
    followed_at: datetime | None
    deleted_at: datetime | None
    tags: list[TagBrief]


class CustomerOut(BaseModel):
    id: int
    name: str
    avatar_url: str | None
    gender: int
    corp_name: str | None
    identities: list[IdentityOut] = Field(
        description="Phones are masked (138****0000) unless the caller holds customers.pii.view"
    )
    follow_staff: list[FollowOut]
    tags: list[TagBrief]
    created_at: datetime
    added_at: datetime = Field(description="When the brand first met the customer (earliest add)")
    source_channel_id: int | None = None
    source_label: str | None = None
    store: str | None = None
    region: str | None = None
    attributes: dict[str, Any] = Field(default_factory=dict)
    orders: OrderStatsOut | None = Field(default=None, description="Order aggregates over every shop")


class ShopOrderStatsOut(BaseModel):
    platform: str
    shop_id: int
    shop_name: str
    order_count: int
    spent_fen: int
    first_order_at: datetime | None
    last_order_at: datetime | None


class OrderStatsOut(BaseModel):
    """Paid orders over every shop, spend net of refunds (fen); RFM scores 1-5 (0: no orders)."""

    order_count: int
    total_spent_fen: int
    avg_order_fen: int
    first_order_at: datetime | None
    last_order_at: datetime | None
    platform_count: int
    rfm_r: int
    rfm_f: int
    rfm_m: int
    by_shop: list[ShopOrderStatsOut]


class TimelineOut(BaseModel):
    occurred_at: datetime
    kind: str
    summary: str
    detail: dict[str, Any]


class MergeOut(BaseModel):
    id: int
    survivor_id: int
    merged_id: int
    status: str
    rule: str
    reason: str | None
    explanation: list[dict[str, Any]]
    actor: str
    created_at: datetime
    undone_at: datetime | None
    undo_reason: str | None


class CustomerDetailOut(CustomerOut):
    timeline: list[TimelineOut]
    merges: list[MergeOut] = Field(default_factory=list, description="Merges into or out of this profile")


class TagOut(BaseModel):
    id: int
    name: str
    order: int
    wecom_tag_id: str | None


class TagGroupOut(BaseModel):
    id: int
    name: str
    order: int
    connection_id: int | None
    wecom_group_id: str | None
    tags: list[TagOut]


class TagGroupCreate(BaseModel):
    connection_id: int | None = Field(
        default=None, description="The WeCom connection to push the group to; none for a local group"
    )
    name: str = Field(min_length=1, max_length=30)
    tags: list[str] = Field(min_length=1, max_length=100)


class TagCreate(BaseModel):
    name: str = Field(min_length=1, max_length=30)


class TagRename(BaseModel):
    name: str = Field(min_length=1, max_length=30)


class TagChange(BaseModel):
    add: list[int] = Field(default_factory=list, max_length=100)
    remove: list[int] = Field(default_factory=list, max_length=100)


class TagChangeOut(BaseModel):
    customer_id: int
    changed: bool
    tags: list[TagBrief]


class CustomerFilter(BaseModel):
    """The customer list's filters, as a body (bulk actions) — the list takes them as query params."""

    q: str | None = None
    tags_all: list[int] = Field(default_factory=list)
    tags_any: list[int] = Field(default_factory=list)
    tags_none: list[int] = Field(default_factory=list)
    channel_id: int | None = None
    staff: str | None = None
    store: str | None = None
    region: str | None = None
    connection_id: int | None = None
    added_from: str | None = Field(default=None, description='A date "2026-03-01", an instant, or "30d"')
    added_to: str | None = None


class BulkTagRequest(BaseModel):
    """Tag the customers of a segment, of a condition, of the list filters, or the given ids."""

    add: list[int] = Field(default_factory=list, max_length=100)
    remove: list[int] = Field(default_factory=list, max_length=100)
    segment_id: int | None = None
    condition: dict[str, Any] | None = None
    filter: CustomerFilter | None = None
    customer_ids: list[int] | None = Field(default=None, max_length=10000)


class IdentityClaimIn(BaseModel):
    kind: str = Field(
        description="wechat_unionid, wecom_external_userid, wechat_openid, member_id, platform_buyer or phone"
    )
    namespace: str = ""
    value: str = Field(description="Phones in clear: they are hashed and encrypted before storage")


class ResolveRequest(BaseModel):
    identities: list[IdentityClaimIn] = Field(min_length=1, max_length=20)
    create: bool = True
    dry_run: bool = False
    name: str | None = None
    source: str = "api"


class ResolveOut(BaseModel):
    outcome: str
    customer_id: int | None
    created: bool
    merged: list[int]
    attached: list[dict[str, str]]
    suggestions: list[int]
    explanation: list[dict[str, Any]]


class MergeRequest(BaseModel):
    other_id: int
    reason: str = Field(min_length=1, max_length=500)
    force: bool = Field(default=False, description="Merge although an exclusive identifier disagrees")


class UnmergeRequest(BaseModel):
    other_id: int = Field(description="The profile that was merged into this one")
    reason: str = Field(min_length=1, max_length=500)


class MergeSuggestionOut(BaseModel):
    id: int
    customer_id: int
    other_customer_id: int | None
    status: str
    rule: str
    explanation: list[dict[str, Any]]
    identities: list[dict[str, Any]]
    created_at: datetime
    decided_at: datetime | None


class AttributeDefinitionIn(BaseModel):
    key: str = Field(pattern=r"^[a-z][a-z0-9_]{0,39}$")
    label: str = Field(min_length=1, max_length=100)
    type: str = Field(pattern=r"^(string|number|boolean|date)$")


class AttributeDefinitionOut(BaseModel):
    id: int
    key: str
    label: str
    type: str


class AttributeValues(BaseModel):
    values: dict[str, Any] = Field(description="key → value; null removes the attribute")


class FieldOut(BaseModel):
    name: str
    type: str
    label_zh: str
    label_en: str
    operators: list[str]
    available: bool
    unavailable_reason: str | None
    group: str


class SegmentIn(BaseModel):
    name: str = Field(min_length=1, max_length=100)
    description: str | None = Field(default=None, max_length=500)
    condition: dict[str, Any] = Field(description="The condition language's JSON (see README)")


class SegmentPatch(BaseModel):
    name: str | None = Field(default=None, min_length=1, max_length=100)
    description: str | None = Field(default=None, max_length=500)
    condition: dict[str, Any] | None = None


class SegmentOut(BaseModel):
    id: int
    name: str
    description: str | None
    condition: dict[str, Any]
    created_by: str | None
    created_at: datetime
    updated_at: datetime
    last_count: int | None
    last_counted_at: datetime | None


class SegmentCountOut(BaseModel):
    count: int
    counted_at: datetime
    took_ms: float


class PreviewIn(BaseModel):
    condition: dict[str, Any]
    limit: int = Field(default=20, ge=1, le=200)


class PreviewOut(BaseModel):
    count: int
    took_ms: float
    items: list[CustomerOut]
    next_cursor: str | None
