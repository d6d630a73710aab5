"""Staff log in to the console with WeCom (企业微信扫码登录 / OAuth), beside password login.

1. The login page lists WeCom connections that have a self-built app (`GET /api/v1/auth/wecom/providers`).
2. `GET /api/v1/auth/wecom/{connection_id}/authorize` redirects to WeCom's QR login page (or the
   in-WeCom OAuth page with `?mode=oauth`), with a signed, short-lived `state`.
3. WeCom redirects back to `GET /api/v1/auth/wecom/{connection_id}/callback?code&state`; we check the
   state, exchange the code for the member's userid (`auth/getuserinfo`), find the staff member and
   the console user linked to them, and redirect to the console with an access token in the URL
   fragment (never sent to servers or logged by proxies).

A member not linked to a console user, or whose seat is inactive, is sent back to the login page
with an error code the console explains.
"""

from __future__ import annotations

import logging
import secrets
from datetime import timedelta
from typing import Literal
from urllib.parse import quote

import jwt
from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse
from pydantic import BaseModel

from scrm.core.clock import utcnow
from scrm.core.errors import Unauthenticated
from scrm.identity.audit import record_audit
from scrm.identity.auth import issue_access_token, load_login_user, user_actor
from scrm.identity.deps import DbSession, get_settings
from scrm.platforms.models import PlatformConnection
from scrm.platforms.runtime import platform_runtime
from scrm.platforms.service import list_login_connections
from scrm.platforms.wecom.errors import WeComError
from scrm.staff.service import staff_for_login

log = logging.getLogger(__name__)

router = APIRouter(prefix="/api/v1/auth/wecom", tags=["auth"])
STATE_TTL = timedelta(minutes=10)
STATE_AUDIENCE = "scrm:wecom-login"


class LoginProvider(BaseModel):
    connection_id: int
    name: str


@router.get("/providers", response_model=list[LoginProvider])
def providers(session: DbSession) -> list[LoginProvider]:
    """WeCom corps staff can log in with (active connections with a self-built app). Public."""
    return [LoginProvider(connection_id=c.id, name=c.name) for c in list_login_connections(session)]


def _login_connection(session: DbSession, connection_id: int) -> PlatformConnection | None:
    return next((c for c in list_login_connections(session) if c.id == connection_id), None)


def _redirect_uri(request: Request, connection_id: int) -> str:
    return f"{get_settings(request).public_base_url.rstrip('/')}/api/v1/auth/wecom/{connection_id}/callback"


@router.get(
    "/{connection_id}/authorize", include_in_schema=True, response_class=RedirectResponse, status_code=302
)
def authorize(
    connection_id: int, request: Request, session: DbSession, mode: Literal["qr", "oauth"] = "qr"
) -> RedirectResponse:
    """Redirect to WeCom's login page for this corp."""
    connection = _login_connection(session, connection_id)
    if connection is None:
        raise Unauthenticated("WeCom login is not available for this connection")
    state = jwt.encode(
        {
            "cid": connection_id,
            "nonce": secrets.token_urlsafe(8),
            "aud": STATE_AUDIENCE,
            "exp": int((utcnow() + STATE_TTL).timestamp()),
        },
        get_settings(request).resolved_secret_key,
        algorithm="HS256",
    )
    client = platform_runtime().wecom_client(
        session, tenant_id=connection.tenant_id, connection_id=connection_id
    )
    redirect_uri = _redirect_uri(request, connection_id)
    target = (
        client.oauth_authorize_url(redirect_uri, state)
        if mode == "oauth"
        else client.sso_login_url(redirect_uri, state)
    )
    return RedirectResponse(target, status_code=302)


def _back_to_login(error: str) -> RedirectResponse:
    return RedirectResponse(f"/login?wecom_error={quote(error)}", status_code=302)


@router.get(
    "/{connection_id}/callback", include_in_schema=True, response_class=RedirectResponse, status_code=302
)
def callback(
    connection_id: int, code: str, state: str, request: Request, session: DbSession
) -> RedirectResponse:
    """Finish the login: the console receives `#access_token=...` at `/login/wecom`."""
    settings = get_settings(request)
    try:
        claims = jwt.decode(
            state, settings.resolved_secret_key, algorithms=["HS256"], audience=STATE_AUDIENCE
        )
    except jwt.PyJWTError:
        log.info("WeCom login with a bad or expired state for connection %s", connection_id)
        return _back_to_login("state")
    if claims.get("cid") != connection_id:
        return _back_to_login("state")
    connection = _login_connection(session, connection_id)
    if connection is None:
        return _back_to_login("disabled")
    client = platform_runtime().wecom_client(
        session, tenant_id=connection.tenant_id, connection_id=connection_id
    )
    try:
        identity = client.get_user_info_by_code(code)
    except WeComError as error:
        log.info("WeCom login code rejected: %s", error)
        return _back_to_login("code")
    userid = identity.get("userid") or identity.get("UserId")
    if not userid:
        return _back_to_login("not_member")
    staff = staff_for_login(
        session, tenant_id=connection.tenant_id, connection_id=connection_id, userid=str(userid)
    )
    if staff is None or staff.user_id is None:
        return _back_to_login("not_linked")
    user = load_login_user(session, staff.user_id)
    if user is None:
        return _back_to_login("inactive")
    try:
        actor = user_actor(
            session,
            user=user,
            tenant_id=connection.tenant_id,
            ip=request.client.host if request.client else None,
            user_agent=request.headers.get("user-agent"),
        )
    except Unauthenticated:
        return _back_to_login("inactive")
    user.last_login_at = utcnow()
    record_audit(
        session,
        actor=actor,
        action="auth.login_wecom",
        target_type="user",
        target_id=user.id,
        detail={"userid": str(userid), "connection_id": connection_id},
    )
    token = issue_access_token(
        user=user,
        tenant_id=connection.tenant_id,
        secret_key=settings.resolved_secret_key,
        ttl_seconds=settings.access_token_ttl_seconds,
    )
    return RedirectResponse(f"/login/wecom#access_token={token}", status_code=302)
