"""Starting syncs of a connection: `POST /api/v1/platforms/connections/{id}/sync` answers the job,
whose progress `GET /api/v1/jobs/{id}` reports."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter
from pydantic import BaseModel

from scrm.core.errors import Conflict
from scrm.core.jobs import JobOut
from scrm.identity.audit import record_audit
from scrm.identity.deps import CurrentActor, DbSession
from scrm.platforms.models import ConnectionStatus, PlatformKind
from scrm.platforms.permissions import PlatformPermission
from scrm.platforms.service import get_connection, list_connection_names
from scrm.platforms.wecom.sync import start_sync

router = APIRouter(prefix="/api/v1/platforms/connections", tags=["platforms"])


class SyncRequest(BaseModel):
    mode: Literal["full", "incremental"] = "full"


@router.post("/{connection_id}/sync", response_model=JobOut, status_code=202)
def start_connection_sync(
    connection_id: int, body: SyncRequest, actor: CurrentActor, session: DbSession
) -> JobOut:
    """Queue a full or incremental sync; while one runs for this connection, that one is answered."""
    actor.require(PlatformPermission.CONNECTIONS_MANAGE)
    connection = get_connection(session, actor=actor, connection_id=connection_id)
    if connection.platform != PlatformKind.WECOM:
        raise Conflict(f"{connection.platform} connections sync orders, not contacts")
    if connection.status == ConnectionStatus.DISABLED:
        raise Conflict("the connection is disabled; enable it before syncing")
    job, created = start_sync(
        session, tenant_id=actor.tenant_id, connection_id=connection.id, mode=body.mode, created_by=actor.name
    )
    if created:
        record_audit(
            session,
            actor=actor,
            action="connection.sync_started",
            target_type="platform_connection",
            target_id=connection.id,
            detail={"mode": body.mode, "job_id": job.id},
        )
    return JobOut.of(job)


class ConnectionName(BaseModel):
    id: int
    name: str
    platform: str
    status: str


names_router = APIRouter(prefix="/api/v1/platforms", tags=["platforms"])


@names_router.get("/connection-names", response_model=list[ConnectionName])
def connection_names(actor: CurrentActor, session: DbSession) -> list[ConnectionName]:
    """Ids and names of the workspace's connections, for pickers (any member; no configuration)."""
    return [
        ConnectionName(id=c.id, name=c.name, platform=c.platform, status=c.status)
        for c in list_connection_names(session, tenant_id=actor.tenant_id)
    ]
