"""Tables of ticket classification: rules, trained models (versioned), agents' corrections, and the
tenant's settings (the triage threshold)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Float, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from scrm.core.clock import utcnow
from scrm.core.db import Base, BigId, IdMixin, TenantMixin, TimestampMixin, UtcDateTime


class ClassificationRule(IdMixin, TenantMixin, TimestampMixin, Base):
    """A keyword/phrase rule (分类规则); evaluated by `rules.evaluate`."""

    __tablename__ = "ticket_classification_rules"
    __table_args__ = (UniqueConstraint("tenant_id", "name"), Index(None, "tenant_id", "position", "id"))

    name: Mapped[str] = mapped_column(String(100), nullable=False)
    phrases: Mapped[list[str]] = mapped_column(JSON, nullable=False)
    # "any": one phrase is enough; "all": every phrase must occur.
    match_mode: Mapped[str] = mapped_column(String(3), default="any", nullable=False)
    category: Mapped[str | None] = mapped_column(String(64))
    # Raise the priority to at least this (None: leave it).
    priority: Mapped[str | None] = mapped_column(String(10))
    urgent: Mapped[bool] = mapped_column(Boolean, default=False, nullable=False)
    creates_ticket_from_chat: Mapped[bool] = mapped_column(Boolean, default=False, nullable=False)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True, nullable=False)
    position: Mapped[int] = mapped_column(Integer, default=0, nullable=False)


class ClassifierModel(IdMixin, TenantMixin, Base):
    """A trained classifier version. Rows are never changed after training except `active`: the newest
    successful training is the active one."""

    __tablename__ = "ticket_classifier_models"
    __table_args__ = (UniqueConstraint("tenant_id", "version"), Index(None, "tenant_id", "active"))

    version: Mapped[int] = mapped_column(Integer, nullable=False)
    active: Mapped[bool] = mapped_column(Boolean, default=False, nullable=False)
    # What it learnt from: "tickets" (the tenant's resolved tickets and corrections) or "seed".
    source: Mapped[str] = mapped_column(String(20), nullable=False)
    # {"category": NaiveBayes.to_json(), "urgency": NaiveBayes.to_json() | None}
    params: Mapped[dict[str, Any]] = mapped_column(JSON, nullable=False)
    labels: Mapped[list[str]] = mapped_column(JSON, nullable=False)
    vocabulary_size: Mapped[int] = mapped_column(Integer, nullable=False)
    sample_count: Mapped[int] = mapped_column(Integer, nullable=False)
    held_out_count: Mapped[int] = mapped_column(Integer, nullable=False)
    # On the held-out part, by the model trained without it (None: no held-out samples).
    accuracy: Mapped[float | None] = mapped_column(Float)
    macro_f1: Mapped[float | None] = mapped_column(Float)
    baseline_accuracy: Mapped[float | None] = mapped_column(Float)
    urgency_accuracy: Mapped[float | None] = mapped_column(Float)
    training_seconds: Mapped[float] = mapped_column(Float, nullable=False)
    job_id: Mapped[int | None] = mapped_column(BigId)
    trained_by: Mapped[str] = mapped_column(String(100), nullable=False)
    trained_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, nullable=False)


class ClassificationCorrection(IdMixin, TenantMixin, Base):
    """An agent's confirmation or correction (纠正) of a ticket's classification; the next training
    learns the corrected category."""

    __tablename__ = "ticket_classification_corrections"
    __table_args__ = (Index(None, "tenant_id", "ticket_id", "id"),)

    ticket_id: Mapped[int] = mapped_column(BigId, ForeignKey("tickets.id"), nullable=False)
    predicted_category: Mapped[str | None] = mapped_column(String(64))
    predicted_by: Mapped[str] = mapped_column(String(10), nullable=False)
    predicted_confidence: Mapped[float | None] = mapped_column(Float)
    corrected_category: Mapped[str] = mapped_column(String(64), nullable=False)
    previous_priority: Mapped[str] = mapped_column(String(10), nullable=False)
    corrected_priority: Mapped[str | None] = mapped_column(String(10))
    by_user_id: Mapped[int | None] = mapped_column(BigId)
    by_label: Mapped[str] = mapped_column(String(100), nullable=False)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, nullable=False)


class ClassifierSettings(IdMixin, TenantMixin, TimestampMixin, Base):
    """Per tenant: below `triage_threshold` a classification goes to triage; the model raises a
    ticket to high priority when it says urgent with at least `urgency_threshold`."""

    __tablename__ = "ticket_classifier_settings"
    __table_args__ = (UniqueConstraint("tenant_id"),)

    triage_threshold: Mapped[float] = mapped_column(Float, default=0.6, nullable=False)
    urgency_threshold: Mapped[float] = mapped_column(Float, default=0.7, nullable=False)
