"""Answers of the system API."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel


class DeadLetterKind(StrEnum):
    EVENT = "event"
    TIMER = "timer"


class OutboxCounts(BaseModel):
    pending: int
    processing: int
    dead: int
    done_last_hour: int


class TimerCounts(BaseModel):
    scheduled: int
    overdue: int
    next_due_at: datetime | None


class InboxCounts(BaseModel):
    received: int
    failed: int


class WorkerOut(BaseModel):
    worker_id: str
    hostname: str
    pid: int
    mode: str
    started_at: datetime
    last_beat_at: datetime
    alive: bool
    processed_total: int


class OverviewOut(BaseModel):
    """Queue counts are the caller's tenant's; workers are shared by all tenants."""

    outbox: OutboxCounts
    timers: TimerCounts
    inbox: InboxCounts
    workers: list[WorkerOut]


class DeadLetterOut(BaseModel):
    """A dead-lettered outbox row (kind "event") or timer (kind "timer")."""

    id: int
    kind: DeadLetterKind
    name: str  # the event type, or the timer kind
    handler: str | None  # the outbox handler; None for timers (one handler per kind)
    status: str
    attempts: int
    last_error: str | None
    created_at: datetime
    failed_at: datetime | None
    payload: dict[str, Any]


class TimerOut(BaseModel):
    id: int
    kind: str
    key: str
    due_at: datetime
    status: str
    attempts: int
    created_at: datetime
    payload: dict[str, Any]
