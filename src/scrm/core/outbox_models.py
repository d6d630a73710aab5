"""Tables of the background-work kernel: outbox, timers, inbound messages and worker heartbeats.

The outbox and the timers are work queues leased by workers (see `scrm.core.leases`): a worker flips a
row to `processing` with `claimed_by` and `lease_until`, runs its handler, and marks it finished only if
it still holds the lease. The indexes below lead with `status` because every claim and every
"when is the next piece of work due" query filters on one status and orders by one time column.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from scrm.core.clock import utcnow
from scrm.core.db import Base, BigId, IdMixin, UtcDateTime


class OutboxStatus(StrEnum):
    PENDING = "pending"
    PROCESSING = "processing"
    DONE = "done"
    DEAD = "dead"


class TimerStatus(StrEnum):
    SCHEDULED = "scheduled"
    PROCESSING = "processing"
    FIRED = "fired"
    CANCELLED = "cancelled"
    DEAD = "dead"


class InboundState(StrEnum):
    RECEIVED = "received"
    PROCESSED = "processed"
    IGNORED = "ignored"
    FAILED = "failed"


class WorkerMode(StrEnum):
    EMBEDDED = "embedded"
    PROCESS = "process"


def _tenant_reference(*, nullable: bool) -> Mapped[Any]:
    return mapped_column(BigId, ForeignKey("tenants.id", ondelete="CASCADE"), nullable=nullable)


# Unfinished rows, the only ones a claim looks at. A partial index over them, in claim order, keeps a
# claim O(batch) however many finished rows accumulate or however deep the backlog is (ordering by
# available_at across an OR of two statuses otherwise sorts every pending row on each claim). The
# claim repeats this exact text: SQLite uses a partial index only when the query carries its predicate.
LIVE_OUTBOX_PREDICATE = "status IN ('pending', 'processing')"
LIVE_TIMER_PREDICATE = "status IN ('scheduled', 'processing')"


# Every row of a queue table is updated twice on its way through (claimed, finished), leaving dead
# versions whose index entries each claim walks past until VACUUM removes them. The default autovacuum
# trigger (20% of the table dead) lets them pile up by the hundred thousand on a busy queue; vacuum
# after about 1% instead. (Table storage parameters: `ALTER TABLE ... SET (...)` in a migration.)
QUEUE_TABLE_STORAGE = {
    "autovacuum_vacuum_scale_factor": "0.01",
    "autovacuum_vacuum_threshold": "1000",
    "autovacuum_analyze_scale_factor": "0.02",
}


def _claim_order_index(predicate: str) -> Index:
    return Index(None, "available_at", "id", postgresql_where=text(predicate), sqlite_where=text(predicate))


class OutboxEvent(IdMixin, Base):
    """One delivery of one published event to one handler.

    `publish` writes one row per registered handler, all stamped with the same `event_id`, so a handler
    that keeps failing is retried and dead-lettered on its own without re-running the others.
    """

    __tablename__ = "outbox"
    __table_args__ = (
        UniqueConstraint("event_id", "handler"),
        _claim_order_index(LIVE_OUTBOX_PREDICATE),
        Index(None, "status", "available_at"),
        Index(None, "status", "lease_until"),
        Index(None, "tenant_id", "status"),
        {"postgresql_with": QUEUE_TABLE_STORAGE},
    )

    tenant_id: Mapped[int | None] = _tenant_reference(nullable=True)
    event_id: Mapped[str] = mapped_column(String(36), nullable=False)
    event_type: Mapped[str] = mapped_column(String(100), nullable=False)
    handler: Mapped[str] = mapped_column(String(150), nullable=False)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, nullable=False)
    status: Mapped[str] = mapped_column(String(20), default=OutboxStatus.PENDING, nullable=False)
    attempts: Mapped[int] = mapped_column(Integer, default=0, nullable=False)
    available_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, nullable=False)
    lease_until: Mapped[datetime | None] = mapped_column(UtcDateTime)
    claimed_by: Mapped[str | None] = mapped_column(String(200))
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, nullable=False)
    # When the row finished: done, or dead-lettered.
    processed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class Timer(IdMixin, Base):
    """Work due at a time, named by (kind, key) so scheduling the same thing twice is a no-op.

    `due_at` is the contract ("fire at"); `available_at` is when the next attempt may run, equal to
    `due_at` until a failed attempt pushes it back with backoff. Lateness is measured against `due_at`.
    """

    __tablename__ = "timers"
    __table_args__ = (
        UniqueConstraint("kind", "key"),
        _claim_order_index(LIVE_TIMER_PREDICATE),
        Index(None, "status", "available_at"),
        Index(None, "status", "lease_until"),
        Index(None, "tenant_id", "status", "due_at"),
        {"postgresql_with": QUEUE_TABLE_STORAGE},
    )

    tenant_id: Mapped[int | None] = _tenant_reference(nullable=True)
    kind: Mapped[str] = mapped_column(String(100), nullable=False)
    key: Mapped[str] = mapped_column(String(200), nullable=False)
    due_at: Mapped[datetime] = mapped_column(UtcDateTime, nullable=False)
    available_at: Mapped[datetime] = mapped_column(UtcDateTime, nullable=False)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, nullable=False)
    status: Mapped[str] = mapped_column(String(20), default=TimerStatus.SCHEDULED, nullable=False)
    attempts: Mapped[int] = mapped_column(Integer, default=0, nullable=False)
    lease_until: Mapped[datetime | None] = mapped_column(UtcDateTime)
    claimed_by: Mapped[str | None] = mapped_column(String(200))
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, nullable=False)
    # When the timer last fired: successfully, or for the last time before it was dead-lettered.
    fired_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class InboundMessage(IdMixin, Base):
    """A platform callback exactly as received, stored before any parsing so nothing is lost.

    The unique key leads with `tenant_id` like every tenant key; a connection belongs to one tenant, so
    it deduplicates exactly as (platform, connection_id, dedupe_key) would.
    """

    __tablename__ = "inbound_messages"
    __table_args__ = (
        UniqueConstraint("tenant_id", "platform", "connection_id", "dedupe_key"),
        Index(None, "tenant_id", "state"),
    )

    tenant_id: Mapped[int] = _tenant_reference(nullable=False)
    platform: Mapped[str] = mapped_column(String(50), nullable=False)
    connection_id: Mapped[str] = mapped_column(String(100), nullable=False)
    dedupe_key: Mapped[str] = mapped_column(String(200), nullable=False)
    headers: Mapped[dict[str, Any]] = mapped_column(JSON, nullable=False)
    raw_payload: Mapped[str] = mapped_column(Text, nullable=False)
    received_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, nullable=False)
    state: Mapped[str] = mapped_column(String(20), default=InboundState.RECEIVED, nullable=False)
    processed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    error: Mapped[str | None] = mapped_column(Text)


class WorkerHeartbeat(Base):
    """A worker's liveness, upserted every few seconds; the row is removed on a graceful stop."""

    __tablename__ = "worker_heartbeats"

    worker_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    hostname: Mapped[str] = mapped_column(String(255), nullable=False)
    pid: Mapped[int] = mapped_column(Integer, nullable=False)
    started_at: Mapped[datetime] = mapped_column(UtcDateTime, nullable=False)
    last_beat_at: Mapped[datetime] = mapped_column(UtcDateTime, nullable=False, index=True)
    processed_total: Mapped[int] = mapped_column(BigId, default=0, nullable=False)
    mode: Mapped[str] = mapped_column(String(20), nullable=False)
