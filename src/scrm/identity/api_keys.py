"""API keys for integrations: created with a role, shown once, stored hashed, revocable."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from scrm.core.actors import Actor
from scrm.core.clock import utcnow
from scrm.core.errors import Conflict, PermissionDenied
from scrm.core.pagination import PageRequest, paginate
from scrm.core.tenancy import require_in_tenant
from scrm.identity.audit import record_audit
from scrm.identity.auth import hash_api_key, new_api_key
from scrm.identity.models import ApiKey, Role
from scrm.identity.permissions import IdentityPermission
from scrm.identity.schemas import ApiKeyCreate, ApiKeyCreated, ApiKeyOut


def _out(api_key: ApiKey, role: Role) -> ApiKeyOut:
    return ApiKeyOut(
        id=api_key.id,
        name=api_key.name,
        prefix=api_key.prefix,
        role_id=role.id,
        role_name=role.name,
        created_at=api_key.created_at,
        last_used_at=api_key.last_used_at,
        revoked_at=api_key.revoked_at,
    )


def create_api_key(session: Session, *, actor: Actor, data: ApiKeyCreate) -> ApiKeyCreated:
    """A new key acting with `data.role_id`'s permissions. The returned `secret` is not kept."""
    actor.require(IdentityPermission.API_KEYS_MANAGE)
    role = require_in_tenant(session, Role, actor.tenant_id, data.role_id)
    if role.key == "owner" and not actor.can("*"):
        raise PermissionDenied("only an owner can create a key with the owner role")
    secret, prefix = new_api_key()
    api_key = ApiKey(
        tenant_id=actor.tenant_id,
        name=data.name,
        prefix=prefix,
        secret_hash=hash_api_key(secret),
        role_id=role.id,
        created_by_user_id=actor.user_id,
    )
    session.add(api_key)
    session.flush()
    record_audit(
        session,
        actor=actor,
        action="api_key.created",
        target_type="api_key",
        target_id=api_key.id,
        detail={"name": data.name, "prefix": prefix, "role": role.key},
    )
    return ApiKeyCreated(**_out(api_key, role).model_dump(), secret=secret)


def list_api_keys(session: Session, *, actor: Actor, page: PageRequest) -> tuple[list[ApiKeyOut], str | None]:
    actor.require(IdentityPermission.API_KEYS_MANAGE)
    stmt = (
        select(ApiKey, Role).join(Role, Role.id == ApiKey.role_id).where(ApiKey.tenant_id == actor.tenant_id)
    )
    rows, next_cursor = paginate(session, stmt, ApiKey.id, page, rows=True)
    return [_out(api_key, role) for api_key, role in rows], next_cursor


def revoke_api_key(session: Session, *, actor: Actor, api_key_id: int) -> ApiKeyOut:
    actor.require(IdentityPermission.API_KEYS_MANAGE)
    api_key = require_in_tenant(session, ApiKey, actor.tenant_id, api_key_id)
    if api_key.revoked_at is not None:
        raise Conflict("the key is already revoked")
    api_key.revoked_at = utcnow()
    session.flush()
    record_audit(
        session,
        actor=actor,
        action="api_key.revoked",
        target_type="api_key",
        target_id=api_key.id,
        detail={"name": api_key.name, "prefix": api_key.prefix},
    )
    role = session.get_one(Role, api_key.role_id)
    return _out(api_key, role)
