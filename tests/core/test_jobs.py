"""Resumable jobs: steps with progress, retries that show on the job, cancellation, dedupe, isolation."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.orm import Session, sessionmaker

from scrm.core.clock import utcnow
from scrm.core.errors import PermanentError, RetryableError
from scrm.core.events import HandlerRegistry, set_active_registry
from scrm.core.jobs import Job, JobKind, JobStatus, StepOutcome, job_step_timer_handler, start_job
from scrm.core.leases import RetryPolicy
from scrm.core.timers import run_timer_batch
from scrm.identity.models import Tenant

TOTAL = 25
PAGE = 10
failures_left = {"count": 0, "permanent": False}


def count_step(session: Session, job: Job) -> StepOutcome:
    """Counts to TOTAL in pages of PAGE, keeping its cursor in job.state."""
    if failures_left["count"]:
        failures_left["count"] -= 1
        if failures_left["permanent"]:
            raise PermanentError("the platform refused the credentials")
        error = RetryableError("platform busy")
        error.retry_after = 0  # type: ignore[attr-defined]
        raise error
    cursor = int(job.state.get("cursor", 0))
    cursor = min(cursor + PAGE, TOTAL)
    job.state = {**job.state, "cursor": cursor}
    return StepOutcome(
        done=cursor >= TOTAL, progress_done=cursor, progress_total=TOTAL, message=f"{cursor}/{TOTAL}"
    )


def registry() -> HandlerRegistry:
    registry = HandlerRegistry()
    registry.add(job_step_timer_handler([JobKind("test.count", count_step)]))
    set_active_registry(registry)
    return registry


def drain(factory: sessionmaker[Session], registry: HandlerRegistry, rounds: int = 20) -> None:
    policy = RetryPolicy(max_attempts=3, backoff_base_seconds=0, backoff_cap_seconds=0)
    for _ in range(rounds):
        run_timer_batch(
            factory,
            registry,
            worker_id="test",
            batch_size=10,
            lease_seconds=30,
            policy=policy,
            clock=lambda: utcnow() + timedelta(seconds=120),
        )


def _tenant(factory: sessionmaker[Session]) -> int:
    with factory.begin() as session:
        tenant = Tenant(name="Jobs")
        session.add(tenant)
        session.flush()
        return tenant.id


def test_a_job_runs_step_by_step_to_completion(committing_factory: sessionmaker[Session]) -> None:
    reg = registry()
    tenant_id = _tenant(committing_factory)
    with committing_factory.begin() as session:
        job, created = start_job(session, tenant_id=tenant_id, kind="test.count", title="count")
        job_id = job.id
    assert created
    drain(committing_factory, reg, rounds=1)
    with committing_factory() as session:
        partial = session.get_one(Job, job_id)
        assert partial.status == JobStatus.RUNNING and partial.progress_done == PAGE
    drain(committing_factory, reg)
    with committing_factory() as session:
        finished = session.get_one(Job, job_id)
        assert finished.status == JobStatus.SUCCEEDED
        assert (finished.progress_done, finished.progress_total, finished.state) == (
            TOTAL,
            TOTAL,
            {"cursor": TOTAL},
        )
    set_active_registry(None)


def test_retryable_failures_show_on_the_job_and_then_resume(
    committing_factory: sessionmaker[Session],
) -> None:
    reg = registry()
    tenant_id = _tenant(committing_factory)
    with committing_factory.begin() as session:
        job_id = start_job(session, tenant_id=tenant_id, kind="test.count", title="count")[0].id
    failures_left.update(count=2, permanent=False)
    drain(committing_factory, reg, rounds=1)
    with committing_factory() as session:
        job = session.get_one(Job, job_id)
        assert job.status == JobStatus.RUNNING and "platform busy" in (job.message or "")
    drain(committing_factory, reg)
    with committing_factory() as session:
        assert session.get_one(Job, job_id).status == JobStatus.SUCCEEDED
    set_active_registry(None)


def test_permanent_failures_fail_the_job_with_the_error(committing_factory: sessionmaker[Session]) -> None:
    reg = registry()
    tenant_id = _tenant(committing_factory)
    with committing_factory.begin() as session:
        job_id = start_job(session, tenant_id=tenant_id, kind="test.count", title="count")[0].id
    failures_left.update(count=1, permanent=True)
    drain(committing_factory, reg)
    with committing_factory() as session:
        job = session.get_one(Job, job_id)
        assert job.status == JobStatus.FAILED
        assert "refused the credentials" in (job.error or "")
        assert job.progress_done == 0
    failures_left.update(count=0, permanent=False)
    set_active_registry(None)


def test_a_second_start_with_the_same_key_returns_the_running_job(
    committing_factory: sessionmaker[Session],
) -> None:
    registry()
    tenant_id = _tenant(committing_factory)
    with committing_factory.begin() as session:
        first, _ = start_job(session, tenant_id=tenant_id, kind="test.count", title="a", dedupe_key="sync:1")
        second, created = start_job(
            session, tenant_id=tenant_id, kind="test.count", title="b", dedupe_key="sync:1"
        )
    assert not created and second.id == first.id
    set_active_registry(None)


def test_jobs_api_shows_progress_cancels_and_isolates_tenants(
    client, owner, other_tenant, committing_factory
) -> None:
    registry()
    with committing_factory.begin() as session:
        job_id = start_job(session, tenant_id=owner.tenant_id, kind="test.count", title="同步客户")[0].id
    body = client.get(f"/api/v1/jobs/{job_id}", headers=owner.headers).json()
    assert body["status"] == "queued" and body["title"] == "同步客户" and body["percent"] is None
    assert client.get(f"/api/v1/jobs/{job_id}", headers=other_tenant.headers).status_code == 404
    assert client.post(f"/api/v1/jobs/{job_id}/cancel", headers=other_tenant.headers).status_code == 404
    cancelled = client.post(f"/api/v1/jobs/{job_id}/cancel", headers=owner.headers).json()
    assert cancelled["status"] == "cancelled"
    assert [job["id"] for job in client.get("/api/v1/jobs", headers=owner.headers).json()["items"]] == [
        job_id
    ]
    assert client.get("/api/v1/jobs", headers=other_tenant.headers).json()["items"] == []
    set_active_registry(None)
