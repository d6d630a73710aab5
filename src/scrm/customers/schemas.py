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
    identities: list[IdentityOut]
    follow_staff: list[FollowOut]
    tags: list[TagBrief]
    created_at: datetime


class TimelineOut(BaseModel):
    occurred_at: datetime
    kind: str
    summary: str
    detail: dict[str, Any]


class CustomerDetailOut(CustomerOut):
    timeline: list[TimelineOut]


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
    connection_id: int
    name: str = Field(min_length=1, max_length=30)
    tags: list[str] = Field(min_length=1, max_length=100)


class TagCreate(BaseModel):
    name: str = Field(min_length=1, max_length=30)


class TagRename(BaseModel):
    name: str = Field(min_length=1, max_length=30)
