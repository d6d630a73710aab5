"""Tenants, console users, memberships, departments, roles, API keys, audit log and login attempts."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from scrm.core.clock import utcnow
from scrm.core.db import Base, BigId, IdMixin, TenantMixin, TimestampMixin, UtcDateTime


class Tenant(IdMixin, TimestampMixin, Base):
    """A workspace (租户/工作区): one brand; owns every other record."""

    __tablename__ = "tenants"

    name: Mapped[str] = mapped_column(String(100), nullable=False)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True, nullable=False)


class User(IdMixin, TimestampMixin, Base):
    """A console login. Global: one person may belong to several tenants through memberships."""

    __tablename__ = "users"

    email: Mapped[str] = mapped_column(String(254), unique=True, nullable=False)
    display_name: Mapped[str] = mapped_column(String(100), nullable=False)
    password_hash: Mapped[str | None] = mapped_column(String(255))
    is_active: Mapped[bool] = mapped_column(Boolean, default=True, nullable=False)
    last_login_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    # Bumped on password change: tokens issued before carry the old value and stop working.
    token_generation: Mapped[int] = mapped_column(default=0, nullable=False)


class Department(IdMixin, TenantMixin, TimestampMixin, Base):
    """An organisational unit (部门); data scopes cover a department and everything below it."""

    __tablename__ = "departments"
    __table_args__ = (UniqueConstraint("tenant_id", "parent_id", "name"),)

    name: Mapped[str] = mapped_column(String(100), nullable=False)
    parent_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("departments.id", ondelete="SET NULL"))


class Role(IdMixin, TenantMixin, TimestampMixin, Base):
    """A named set of permissions plus a data scope. Built-in roles cannot be deleted."""

    __tablename__ = "roles"
    __table_args__ = (UniqueConstraint("tenant_id", "key"),)

    key: Mapped[str] = mapped_column(String(50), nullable=False)
    name: Mapped[str] = mapped_column(String(100), nullable=False)
    permissions: Mapped[list[str]] = mapped_column(JSON, default=list, nullable=False)
    data_scope: Mapped[str] = mapped_column(String(20), default="all", nullable=False)
    is_builtin: Mapped[bool] = mapped_column(Boolean, default=False, nullable=False)


class Membership(IdMixin, TenantMixin, TimestampMixin, Base):
    """A user's place in one tenant: role, department, and whether the seat is active."""

    __tablename__ = "memberships"
    __table_args__ = (UniqueConstraint("tenant_id", "user_id"), Index(None, "user_id"))

    user_id: Mapped[int] = mapped_column(BigId, ForeignKey("users.id", ondelete="CASCADE"), nullable=False)
    role_id: Mapped[int] = mapped_column(BigId, ForeignKey("roles.id"), nullable=False)
    department_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("departments.id", ondelete="SET NULL")
    )
    is_active: Mapped[bool] = mapped_column(Boolean, default=True, nullable=False)


class ApiKey(IdMixin, TenantMixin, TimestampMixin, Base):
    """A key for integrations. The secret is shown once; only its SHA-256 is kept."""

    __tablename__ = "api_keys"

    name: Mapped[str] = mapped_column(String(100), nullable=False)
    prefix: Mapped[str] = mapped_column(String(16), unique=True, nullable=False)
    secret_hash: Mapped[str] = mapped_column(String(64), nullable=False)
    role_id: Mapped[int] = mapped_column(BigId, ForeignKey("roles.id"), nullable=False)
    created_by_user_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("users.id", ondelete="SET NULL"))
    last_used_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class AuditEntry(IdMixin, TenantMixin, Base):
    """Who did what, from where, to which record. Append-only."""

    __tablename__ = "audit_log"
    __table_args__ = (Index(None, "tenant_id", "created_at"),)

    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, nullable=False)
    actor: Mapped[str] = mapped_column(String(50), nullable=False)
    actor_name: Mapped[str | None] = mapped_column(String(254))
    action: Mapped[str] = mapped_column(String(100), nullable=False)
    target_type: Mapped[str | None] = mapped_column(String(50))
    target_id: Mapped[str | None] = mapped_column(String(64))
    ip: Mapped[str | None] = mapped_column(String(64))
    user_agent: Mapped[str | None] = mapped_column(Text)
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict, nullable=False)


class LoginAttempt(IdMixin, Base):
    """Failed logins, counted per account and per IP to rate-limit guessing across processes."""

    __tablename__ = "login_attempts"
    __table_args__ = (Index(None, "email", "created_at"), Index(None, "ip", "created_at"))

    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, nullable=False)
    email: Mapped[str] = mapped_column(String(254), nullable=False)
    ip: Mapped[str] = mapped_column(String(64), nullable=False)
