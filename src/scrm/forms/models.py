"""Tables of the forms domain: forms, their immutable versions, and submissions."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from scrm.core.clock import utcnow
from scrm.core.db import Base, BigId, IdMixin, TenantMixin, TimestampMixin, UtcDateTime


class Form(IdMixin, TenantMixin, TimestampMixin, Base):
    """A form (表单). `kind` "ticket": the fields of tickets of `ticket_type` (one form per type);
    "public": a standalone form anyone with `public_key` may fill in, whose submissions run
    `on_submit` actions. Its definition lives in `FormVersion` rows; `current_version` is the one
    new submissions and tickets use."""

    __tablename__ = "forms"
    __table_args__ = (
        UniqueConstraint("tenant_id", "name"),
        # NULLs never collide, so public forms (no ticket type) are not limited by it.
        UniqueConstraint("tenant_id", "ticket_type"),
    )

    name: Mapped[str] = mapped_column(String(100), nullable=False)
    description: Mapped[str] = mapped_column(String(1000), default="", nullable=False)
    kind: Mapped[str] = mapped_column(String(10), nullable=False)
    ticket_type: Mapped[str | None] = mapped_column(String(64))
    # Unguessable: the only thing an anonymous visitor needs (and gets) to reach the form.
    public_key: Mapped[str | None] = mapped_column(String(40), unique=True)
    current_version: Mapped[int] = mapped_column(Integer, nullable=False)
    # [{"type": "create_ticket", ...}, {"type": "tag_customer", ...}] (schemas.SubmitAction)
    on_submit: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list, nullable=False)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True, nullable=False)


class FormVersion(IdMixin, TenantMixin, Base):
    """One definition of a form (表单版本), never changed once written: tickets and submissions
    point at the version they were validated against."""

    __tablename__ = "form_versions"
    __table_args__ = (UniqueConstraint("tenant_id", "form_id", "version"),)

    form_id: Mapped[int] = mapped_column(BigId, ForeignKey("forms.id"), nullable=False)
    version: Mapped[int] = mapped_column(Integer, nullable=False)
    # JSON Schema of the data, and the UI hints (see `fields.py`).
    schema: Mapped[dict[str, Any]] = mapped_column(JSON, nullable=False)
    ui: Mapped[dict[str, Any]] = mapped_column(JSON, nullable=False)
    created_by: Mapped[str] = mapped_column(String(100), nullable=False)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, nullable=False)


class FormSubmission(IdMixin, TenantMixin, Base):
    """A filled-in public form (提交), as validated, and what its actions did."""

    __tablename__ = "form_submissions"
    __table_args__ = (
        Index(None, "tenant_id", "form_id", "id"),
        # Counting a visitor's recent submissions (the abuse limit) reads this.
        Index(None, "ip", "created_at"),
    )

    form_id: Mapped[int] = mapped_column(BigId, ForeignKey("forms.id"), nullable=False)
    form_version_id: Mapped[int] = mapped_column(BigId, ForeignKey("form_versions.id"), nullable=False)
    data: Mapped[dict[str, Any]] = mapped_column(JSON, nullable=False)
    # Other domains' ids, kept as plain ids (no cross-domain foreign keys).
    customer_id: Mapped[int | None] = mapped_column(BigId)
    ticket_id: Mapped[int | None] = mapped_column(BigId)
    # What each on_submit action did: [{"type": "tag_customer", "status": "no_customer", ...}]
    outcome: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list, nullable=False)
    ip: Mapped[str] = mapped_column(String(64), nullable=False)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, nullable=False)
