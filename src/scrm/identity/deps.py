"""FastAPI dependencies: the request's database session (its unit of work) and its actor.

`DbSession` commits once after the endpoint returns and rolls back if it raises, before the
response is sent (dependency scope "function"), so a client never sees a success that did not commit.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from scrm.core.actors import Actor
from scrm.core.db import mark_read_only, session_scope
from scrm.core.errors import Unauthenticated
from scrm.identity.auth import actor_from_bearer, touch_api_key
from scrm.settings import Settings


def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def _is_read_only(request: Request) -> bool:
    """GET requests read; on SQLite they then never wait behind a writer such as the worker. The
    redirect endpoints of external logins are GETs that write (the login is audited)."""
    return request.method in ("GET", "HEAD") and not request.url.path.startswith("/api/v1/auth/")


def db_session(request: Request) -> Iterator[Session]:
    session: Session = request.app.state.session_factory()
    if _is_read_only(request):
        mark_read_only(session)
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


DbSession = Annotated[Session, Depends(db_session, scope="function")]


def client_ip(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def current_actor(request: Request, session: DbSession) -> Actor:
    """The actor behind the request's bearer credential; 401 without a valid one."""
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthenticated("send Authorization: Bearer <access token or API key>")
    actor = actor_from_bearer(
        session,
        token=token.strip(),
        secret_key=get_settings(request).resolved_secret_key,
        ip=client_ip(request),
        user_agent=request.headers.get("user-agent"),
    )
    if actor.api_key_id is not None:
        if _is_read_only(request):
            with session_scope(request.app.state.session_factory) as writer:
                touch_api_key(writer, actor.api_key_id)
        else:
            touch_api_key(session, actor.api_key_id)
    return actor


CurrentActor = Annotated[Actor, Depends(current_actor)]


def require_permission(permission: str) -> Callable[[Actor], Actor]:
    """A dependency returning the actor after checking `permission` (403 otherwise)."""

    def dependency(actor: CurrentActor) -> Actor:
        actor.require(permission)
        return actor

    return dependency
