"""API shapes of staff."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict


class StaffOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    connection_id: int
    userid: str
    name: str
    position: str | None
    avatar_url: str | None
    department_ids: list[int]
    status: str
    has_customer_contact: bool
    user_id: int | None
    synced_at: datetime | None


class StaffLink(BaseModel):
    user_id: int | None


class StaffDepartmentOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    connection_id: int
    wecom_id: int
    name: str
    parent_wecom_id: int | None
