"""Long-running jobs: progress for the console's progress bars, and cancellation."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from scrm.core.jobs import Job, JobOut, cancel_job
from scrm.core.pagination import Page, PageRequest, paginate
from scrm.core.tenancy import require_in_tenant, tenant_select
from scrm.identity.audit import record_audit
from scrm.identity.deps import CurrentActor, DbSession
from scrm.system.permissions import SystemPermission

router = APIRouter(prefix="/api/v1/jobs", tags=["jobs"])
# Named here rather than imported: the system domain does not depend on platforms.
CONNECTIONS_MANAGE = "platforms.connections.manage"


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
def cancel(job_id: int, actor: CurrentActor, session: DbSession) -> JobOut:
    """Stop the job at its next step; work already committed stays. Allowed to system managers and,
    for a connection's jobs (syncs), to whoever may manage connections (who could start it)."""
    job = require_in_tenant(session, Job, actor.tenant_id, job_id)
    if not (job.connection_id is not None and actor.can(CONNECTIONS_MANAGE)):
        actor.require(SystemPermission.MANAGE)
    job = cancel_job(session, job)
    record_audit(session, actor=actor, action="job.cancelled", target_type="job", target_id=job.id)
    return JobOut.of(job)
