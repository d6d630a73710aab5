"""Long-running jobs: progress for the console's progress bars, and cancellation."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel

from scrm.core.actors import Actor
from scrm.core.jobs import Job, cancel_job, progress_percent
from scrm.core.pagination import Page, PageRequest, paginate
from scrm.core.tenancy import require_in_tenant, tenant_select
from scrm.identity.audit import record_audit
from scrm.identity.deps import CurrentActor, DbSession, require_permission
from scrm.system.permissions import SystemPermission

router = APIRouter(prefix="/api/v1/jobs", tags=["jobs"])


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


@router.get("", response_model=Page[JobOut])
def list_jobs(
    actor: CurrentActor,
    session: DbSession,
    kind: str | None = None,
    connection_id: int | None = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 20,
    cursor: str | None = None,
) -> Page[JobOut]:
    """The workspace's jobs, newest first (any member may watch progress)."""
    stmt = tenant_select(Job, actor.tenant_id)
    if kind:
        stmt = stmt.where(Job.kind == kind)
    if connection_id is not None:
        stmt = stmt.where(Job.connection_id == connection_id)
    items, next_cursor = paginate(session, stmt, Job.id, PageRequest(limit, cursor))
    return Page(items=[JobOut.of(job) for job in items], next_cursor=next_cursor)


@router.get("/{job_id}", response_model=JobOut)
def get_job(job_id: int, actor: CurrentActor, session: DbSession) -> JobOut:
    return JobOut.of(require_in_tenant(session, Job, actor.tenant_id, job_id))


@router.post("/{job_id}/cancel", response_model=JobOut)
def cancel(
    job_id: int,
    actor: Annotated[Actor, Depends(require_permission(SystemPermission.MANAGE))],
    session: DbSession,
) -> JobOut:
    """Stop the job at its next step; work already committed stays."""
    job = cancel_job(session, require_in_tenant(session, Job, actor.tenant_id, job_id))
    record_audit(session, actor=actor, action="job.cancelled", target_type="job", target_id=job.id)
    return JobOut.of(job)
