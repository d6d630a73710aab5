"""WeCom members and departments of each connected corp, kept current by sync and callbacks."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from scrm.core.db import Base, BigId, IdMixin, TenantMixin, TimestampMixin, UtcDateTime


class StaffStatus(StrEnum):
    """WeCom's member status: 1 activated, 2 disabled, 4 not activated, 5 left (our name: left)."""

    ACTIVE = "active"
    DISABLED = "disabled"
    INACTIVE = "inactive"
    LEFT = "left"


class StaffMember(IdMixin, TenantMixin, TimestampMixin, Base):
    __tablename__ = "staff_members"
    __table_args__ = (UniqueConstraint("tenant_id", "connection_id", "userid"),)

    connection_id: Mapped[int] = mapped_column(BigId, nullable=False)
    userid: Mapped[str] = mapped_column(String(64), nullable=False)
    name: Mapped[str] = mapped_column(String(100), nullable=False)
    position: Mapped[str | None] = mapped_column(String(100))
    avatar_url: Mapped[str | None] = mapped_column(String(500))
    department_ids: Mapped[list[int]] = mapped_column(JSON, default=list, nullable=False)
    status: Mapped[str] = mapped_column(String(20), default=StaffStatus.ACTIVE, nullable=False)
    # Whether the member may serve external contacts (客户联系 enabled): only these can be on codes.
    has_customer_contact: Mapped[bool] = mapped_column(Boolean, default=False, nullable=False)
    user_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("users.id", ondelete="SET NULL"))
    extra: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict, nullable=False)
    synced_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class StaffDepartment(IdMixin, TenantMixin, TimestampMixin, Base):
    __tablename__ = "staff_departments"
    __table_args__ = (UniqueConstraint("tenant_id", "connection_id", "wecom_id"),)

    connection_id: Mapped[int] = mapped_column(BigId, nullable=False)
    wecom_id: Mapped[int] = mapped_column(Integer, nullable=False)
    name: Mapped[str] = mapped_column(String(100), nullable=False)
    parent_wecom_id: Mapped[int | None] = mapped_column(Integer)
    order: Mapped[int] = mapped_column(Integer, default=0, nullable=False)
