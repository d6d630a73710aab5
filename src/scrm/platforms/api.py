"""HTTP endpoints of platform connections: parse, call the service, shape the answer."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from scrm.core.pagination import Page, PageRequest
from scrm.core.secrets import SecretBox
from scrm.identity.deps import CurrentActor, DbSession, get_settings
from scrm.platforms import probe, service
from scrm.platforms.models import PlatformKind
from scrm.platforms.schemas import (
    ConnectionCreate,
    ConnectionOut,
    ConnectionTestOut,
    ConnectionUpdate,
    PlatformTypeOut,
)
from scrm.settings import Settings

router = APIRouter(prefix="/api/v1/platforms", tags=["platforms"])

Limit = Annotated[int, Query(ge=1, le=200)]
AppSettings = Annotated[Settings, Depends(get_settings)]


def _box(settings: Settings) -> SecretBox:
    return service.secret_box(settings.resolved_secret_key)


@router.get("/types", response_model=list[PlatformTypeOut])
def list_platform_types(actor: CurrentActor) -> list[PlatformTypeOut]:
    """The platforms a connection can be made to, with their config forms (JSON Schema)."""
    return service.list_platform_types(actor=actor)


@router.get("/connections", response_model=Page[ConnectionOut])
def list_connections(
    actor: CurrentActor,
    session: DbSession,
    settings: AppSettings,
    limit: Limit = 50,
    cursor: str | None = None,
    platform: PlatformKind | None = None,
) -> Page[ConnectionOut]:
    """The workspace's connections, newest first. Callback credentials are not listed; read one
    connection to see them."""
    items, next_cursor = service.list_connections(
        session, actor=actor, page=PageRequest(limit, cursor), platform=platform
    )
    box = _box(settings)
    return Page(
        items=[
            service.connection_out(
                session,
                item,
                actor=actor,
                box=box,
                public_base_url=settings.public_base_url,
                with_credentials=False,
            )
            for item in items
        ],
        next_cursor=next_cursor,
    )


@router.post("/connections", response_model=ConnectionOut, status_code=201)
def create_connection(
    body: ConnectionCreate, actor: CurrentActor, session: DbSession, settings: AppSettings
) -> ConnectionOut:
    """Connect a platform account. For WeCom the callback URL, token and EncodingAESKey in the answer
    go into the WeCom admin console (token and key are generated unless given)."""
    box = _box(settings)
    connection = service.create_connection(session, actor=actor, data=body, box=box)
    return service.connection_out(
        session, connection, actor=actor, box=box, public_base_url=settings.public_base_url
    )


@router.get("/connections/{connection_id}", response_model=ConnectionOut)
def get_connection(
    connection_id: int, actor: CurrentActor, session: DbSession, settings: AppSettings
) -> ConnectionOut:
    connection = service.get_connection(session, actor=actor, connection_id=connection_id)
    return service.connection_out(
        session, connection, actor=actor, box=_box(settings), public_base_url=settings.public_base_url
    )


@router.patch("/connections/{connection_id}", response_model=ConnectionOut)
def update_connection(
    connection_id: int,
    body: ConnectionUpdate,
    actor: CurrentActor,
    session: DbSession,
    settings: AppSettings,
) -> ConnectionOut:
    box = _box(settings)
    connection = service.update_connection(
        session, actor=actor, connection_id=connection_id, data=body, box=box
    )
    return service.connection_out(
        session, connection, actor=actor, box=box, public_base_url=settings.public_base_url
    )


@router.delete("/connections/{connection_id}", response_model=ConnectionOut)
def disable_connection(
    connection_id: int, actor: CurrentActor, session: DbSession, settings: AppSettings
) -> ConnectionOut:
    """Disable (never delete: inbox rows and history refer to it). PATCH status=active re-enables."""
    connection = service.disable_connection(session, actor=actor, connection_id=connection_id)
    return service.connection_out(
        session, connection, actor=actor, box=_box(settings), public_base_url=settings.public_base_url
    )


@router.post("/connections/{connection_id}/test", response_model=ConnectionTestOut)
def test_connection(
    connection_id: int, actor: CurrentActor, session: DbSession, settings: AppSettings
) -> ConnectionTestOut:
    """Try the credentials against the platform (WeCom: fetch an access token). A failure is still a
    200, with ok=false and the reason; it is recorded as the connection's last error."""
    request = probe.prepare_probe(session, actor=actor, connection_id=connection_id, box=_box(settings))
    # End the read transaction before waiting on the network: on SQLite every transaction holds the
    # write lock, and a probe may take seconds. The result is written in a fresh transaction.
    session.rollback()
    result = probe.run_probe(request)
    service.record_test_result(
        session,
        actor=actor,
        connection_id=connection_id,
        ok=result.ok,
        detail=result.detail,
        latency_ms=result.latency_ms,
    )
    return ConnectionTestOut(ok=result.ok, detail=result.detail, latency_ms=result.latency_ms)
