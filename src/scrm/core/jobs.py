"""Long operations (full syncs, backfills, bulk tagging) as resumable jobs with progress.

A job is a row with a kind, parameters, a resume `state` and progress counters. It runs as a chain of
steps, each fired by a durable timer (`job.step`, key ``<job id>:<step>``): a step does one bounded
piece of work (one page of an API, one batch of rows), updates `state` and progress, and the next step
is scheduled in the same transaction. A step's effects, its cursor and the next step therefore commit
together: a crash repeats at most the uncommitted step, and a restarted worker resumes where the last
committed step left off.

Job kinds are declared by domains as `JobKind` entries in their handlers module's `JOB_KINDS`; the
application registry routes `job.step` timers to them.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from pydantic import BaseModel
from sqlalchemy import JSON, Index, Integer, String, Text, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from scrm.core.clock import utcnow
from scrm.core.db import Base, BigId, IdMixin, TenantMixin, UtcDateTime
from scrm.core.events import TimerDelivery, TimerHandler
from scrm.core.leases import describe_error
from scrm.core.timers import schedule

log = logging.getLogger(__name__)

STEP_TIMER_KIND = "job.step"
MAX_STEP_FAILURES = 5


class JobStatus(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"


FINISHED = (JobStatus.SUCCEEDED, JobStatus.FAILED, JobStatus.CANCELLED)


class Job(IdMixin, TenantMixin, Base):
    __tablename__ = "jobs"
    __table_args__ = (Index(None, "tenant_id", "dedupe_key", "status"),)

    kind: Mapped[str] = mapped_column(String(80), nullable=False)
    title: Mapped[str] = mapped_column(String(200), nullable=False)
    status: Mapped[str] = mapped_column(String(20), default=JobStatus.QUEUED, nullable=False)
    dedupe_key: Mapped[str | None] = mapped_column(String(200))
    params: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict, nullable=False)
    state: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict, nullable=False)
    progress_done: Mapped[int] = mapped_column(Integer, default=0, nullable=False)
    progress_total: Mapped[int | None] = mapped_column(Integer)
    step: Mapped[int] = mapped_column(Integer, default=0, nullable=False)
    consecutive_failures: Mapped[int] = mapped_column(Integer, default=0, nullable=False)
    message: Mapped[str | None] = mapped_column(Text)
    error: Mapped[str | None] = mapped_column(Text)
    result: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    created_by: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, nullable=False)
    started_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, onupdate=utcnow, nullable=False)
    connection_id: Mapped[int | None] = mapped_column(BigId)


@dataclass
class StepOutcome:
    """What a step reports. Not done: the next step runs after `next_delay_seconds`."""

    done: bool = False
    progress_done: int | None = None
    progress_total: int | None = None
    message: str | None = None
    next_delay_seconds: float = 0.0
    result: dict[str, Any] | None = None


StepFn = Callable[[Session, Job], StepOutcome]


@dataclass(frozen=True)
class JobKind:
    """A kind of job and its step function. The step mutates `job.state` (reassign it, it is JSON)."""

    kind: str
    step: StepFn


def start_job(
    session: Session,
    *,
    tenant_id: int,
    kind: str,
    title: str,
    params: dict[str, Any] | None = None,
    dedupe_key: str | None = None,
    created_by: str | None = None,
    connection_id: int | None = None,
) -> tuple[Job, bool]:
    """Queue a job and its first step, in the caller's transaction. Returns (job, created).

    With `dedupe_key`, an unfinished job with the same key is returned instead of a second one
    (two operators pressing "sync" get one sync).
    """
    if dedupe_key is not None:
        existing = session.scalars(
            select(Job)
            .where(Job.tenant_id == tenant_id, Job.dedupe_key == dedupe_key, Job.status.notin_(FINISHED))
            .limit(1)
        ).first()
        if existing is not None:
            return existing, False
    job = Job(
        tenant_id=tenant_id,
        kind=kind,
        title=title,
        params=params or {},
        state={},
        dedupe_key=dedupe_key,
        created_by=created_by,
        connection_id=connection_id,
    )
    session.add(job)
    session.flush()
    _schedule_step(session, job, utcnow())
    return job, True


def cancel_job(session: Session, job: Job) -> Job:
    """Stop a job at its next step boundary; a finished job is left as it is."""
    if job.status not in FINISHED:
        job.status = JobStatus.CANCELLED
        job.finished_at = utcnow()
        job.message = "cancelled"
    return job


def _schedule_step(session: Session, job: Job, due_at: datetime) -> None:
    schedule(
        session,
        STEP_TIMER_KIND,
        due_at,
        {"job_id": job.id},
        f"{job.id}:{job.step}",
        tenant_id=job.tenant_id,
    )


def run_step(session: Session, job: Job, step: StepFn) -> None:
    """Run one step of `job` and record its outcome (never raises for a failing step)."""
    if job.status in FINISHED:
        return
    now = utcnow()
    if job.status == JobStatus.QUEUED:
        job.status = JobStatus.RUNNING
        job.started_at = now
    try:
        with session.begin_nested():
            outcome = step(session, job)
            session.flush()
    except Exception as error:
        # The step's own writes rolled back with its savepoint; record the failure on the job so
        # operators see it, and retry with backoff unless it is permanent or keeps failing.
        session.refresh(job)
        job.consecutive_failures += 1
        permanent = getattr(error, "retryable", True) is False
        job.message = f"{type(error).__name__}: {error}"
        if permanent or job.consecutive_failures >= MAX_STEP_FAILURES:
            job.status = JobStatus.FAILED
            job.error = describe_error(error)
            job.finished_at = utcnow()
            log.warning("job %s (%s) failed: %s", job.id, job.kind, job.message)
            return
        retry_after = getattr(error, "retry_after", None) or min(2.0**job.consecutive_failures, 60.0)
        job.step += 1
        _schedule_step(session, job, utcnow() + timedelta(seconds=float(retry_after)))
        return
    job.consecutive_failures = 0
    if outcome.progress_done is not None:
        job.progress_done = outcome.progress_done
    if outcome.progress_total is not None:
        job.progress_total = outcome.progress_total
    if outcome.message is not None:
        job.message = outcome.message
    if job.status == JobStatus.CANCELLED:
        return
    if outcome.done:
        job.status = JobStatus.SUCCEEDED
        job.finished_at = utcnow()
        job.result = outcome.result
        if job.progress_total is not None:
            job.progress_done = job.progress_total
        return
    job.step += 1
    _schedule_step(session, job, utcnow() + timedelta(seconds=outcome.next_delay_seconds))


def job_step_timer_handler(kinds: Iterable[JobKind]) -> TimerHandler:
    """The `job.step` timer handler dispatching to the registered job kinds."""
    steps = {kind.kind: kind.step for kind in kinds}

    def on_step(session: Session, timer: TimerDelivery) -> None:
        job = session.get(Job, int(timer.payload["job_id"]))
        if job is None:
            return
        step = steps.get(job.kind)
        if step is None:
            raise LookupError(f"no job kind {job.kind!r} registered in this worker")
        run_step(session, job, step)

    return TimerHandler(STEP_TIMER_KIND, on_step)


def progress_percent(job: Job) -> float | None:
    if job.status == JobStatus.SUCCEEDED:
        return 100.0
    if not job.progress_total:
        return None
    return round(min(job.progress_done / job.progress_total, 1.0) * 100, 1)


class JobOut(BaseModel):
    id: int
    kind: str
    title: str
    status: str
    progress_done: int
    progress_total: int | None
    percent: float | None
    message: str | None
    error: str | None
    result: dict[str, Any] | None
    connection_id: int | None
    created_by: str | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None

    @classmethod
    def of(cls, job: Job) -> JobOut:
        return cls(
            id=job.id,
            kind=job.kind,
            title=job.title,
            status=job.status,
            progress_done=job.progress_done,
            progress_total=job.progress_total,
            percent=progress_percent(job),
            message=job.message,
            error=job.error,
            result=job.result,
            connection_id=job.connection_id,
            created_by=job.created_by,
            created_at=job.created_at,
            started_at=job.started_at,
            finished_at=job.finished_at,
        )
