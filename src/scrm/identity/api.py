"""HTTP endpoints of the identity domain: parse, call the service, shape the answer."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request

from scrm.core.actors import ActorKind
from scrm.core.errors import NotFound, Unauthenticated
from scrm.core.pagination import Page, PageRequest
from scrm.core.permissions import all_permissions
from scrm.core.tenancy import require_in_tenant
from scrm.identity import api_keys, audit, service
from scrm.identity.auth import (
    active_memberships,
    authenticate,
    issue_access_token,
    record_login_failure,
    user_actor,
)
from scrm.identity.deps import CurrentActor, DbSession, client_ip, get_settings
from scrm.identity.models import Role, Tenant, User
from scrm.identity.permissions import IdentityPermission
from scrm.identity.schemas import (
    ApiKeyCreate,
    ApiKeyCreated,
    ApiKeyOut,
    AuditEntryOut,
    DepartmentCreate,
    DepartmentOut,
    LoginIn,
    MeOut,
    PermissionOut,
    RoleBrief,
    RoleCreate,
    RoleOut,
    RoleUpdate,
    SwitchTenantIn,
    TenantBrief,
    TenantChoice,
    TokenOut,
    UserBrief,
    UserCreate,
    UserOut,
    UserUpdate,
)

router = APIRouter(prefix="/api/v1", tags=["identity"])

Limit = Annotated[int, Query(ge=1, le=200)]


@router.post("/auth/login", response_model=TokenOut)
def login(body: LoginIn, request: Request, session: DbSession) -> TokenOut:
    """Exchange email and password for an access token in the user's first workspace."""
    settings = get_settings(request)
    ip = client_ip(request)
    try:
        user = authenticate(
            session,
            email=body.email,
            password=body.password,
            ip=ip,
            max_failures=settings.login_max_failures,
            window_seconds=settings.login_failure_window_seconds,
        )
    except Unauthenticated:
        session.rollback()
        record_login_failure(session, email=body.email, ip=ip)
        session.commit()
        raise
    memberships = active_memberships(session, user.id)
    if not memberships:
        raise Unauthenticated("this account has no active workspace")
    tenant_id = memberships[0][1].id
    actor = user_actor(
        session, user=user, tenant_id=tenant_id, ip=ip, user_agent=request.headers.get("user-agent")
    )
    audit.record_audit(session, actor=actor, action="auth.login", target_type="user", target_id=user.id)
    token = issue_access_token(
        user=user,
        tenant_id=tenant_id,
        secret_key=settings.resolved_secret_key,
        ttl_seconds=settings.access_token_ttl_seconds,
    )
    return TokenOut(access_token=token)


@router.post("/auth/switch-tenant", response_model=TokenOut)
def switch_tenant(
    body: SwitchTenantIn, request: Request, actor: CurrentActor, session: DbSession
) -> TokenOut:
    """A new access token acting in another workspace the user belongs to (404 otherwise)."""
    if actor.kind != ActorKind.USER or actor.user_id is None:
        raise Unauthenticated("only people log in to workspaces; API keys belong to one")
    user = session.get_one(User, actor.user_id)
    if body.tenant_id not in {tenant.id for _, tenant, _ in active_memberships(session, user.id)}:
        raise NotFound(f"workspace {body.tenant_id} not found")
    settings = get_settings(request)
    new_actor = user_actor(
        session, user=user, tenant_id=body.tenant_id, ip=actor.ip, user_agent=actor.user_agent
    )
    audit.record_audit(
        session, actor=new_actor, action="auth.switch_tenant", target_type="tenant", target_id=body.tenant_id
    )
    return TokenOut(
        access_token=issue_access_token(
            user=user,
            tenant_id=body.tenant_id,
            secret_key=settings.resolved_secret_key,
            ttl_seconds=settings.access_token_ttl_seconds,
        )
    )


@router.get("/me", response_model=MeOut)
def me(actor: CurrentActor, session: DbSession) -> MeOut:
    """Who is calling, in which workspace, with which permissions."""
    tenant = session.get_one(Tenant, actor.tenant_id)
    if actor.user_id is None:
        return MeOut(
            user=None,
            tenant=TenantBrief(id=tenant.id, name=tenant.name),
            tenants=[],
            role=None,
            permissions=sorted(actor.permissions),
            data_scope=actor.data_scope,
        )
    user = session.get_one(User, actor.user_id)
    memberships = active_memberships(session, user.id)
    current_role = next(
        role for membership, _, role in memberships if membership.tenant_id == actor.tenant_id
    )
    return MeOut(
        user=UserBrief(id=user.id, email=user.email, display_name=user.display_name),
        tenant=TenantBrief(id=tenant.id, name=tenant.name),
        tenants=[TenantChoice(id=t.id, name=t.name, role_name=role.name) for _, t, role in memberships],
        role=RoleBrief(id=current_role.id, key=current_role.key, name=current_role.name),
        permissions=sorted(actor.permissions),
        data_scope=actor.data_scope,
    )


# --- staff ------------------------------------------------------------------------------------------


@router.get("/users", response_model=Page[UserOut])
def list_users(
    actor: CurrentActor,
    session: DbSession,
    limit: Limit = 50,
    cursor: str | None = None,
    q: str | None = None,
) -> Page[UserOut]:
    items, next_cursor = service.list_users(session, actor=actor, page=PageRequest(limit, cursor), q=q)
    return Page(items=items, next_cursor=next_cursor)


@router.post("/users", response_model=UserOut, status_code=201)
def create_user(body: UserCreate, actor: CurrentActor, session: DbSession) -> UserOut:
    return service.create_user(session, actor=actor, data=body)


@router.get("/users/{user_id}", response_model=UserOut)
def get_user(user_id: int, actor: CurrentActor, session: DbSession) -> UserOut:
    return service.get_user(session, actor=actor, user_id=user_id)


@router.patch("/users/{user_id}", response_model=UserOut)
def update_user(user_id: int, body: UserUpdate, actor: CurrentActor, session: DbSession) -> UserOut:
    return service.update_user(session, actor=actor, user_id=user_id, data=body)


@router.get("/departments", response_model=list[DepartmentOut])
def list_departments(actor: CurrentActor, session: DbSession) -> list[DepartmentOut]:
    return [DepartmentOut.model_validate(d) for d in service.list_departments(session, actor=actor)]


@router.post("/departments", response_model=DepartmentOut, status_code=201)
def create_department(body: DepartmentCreate, actor: CurrentActor, session: DbSession) -> DepartmentOut:
    return DepartmentOut.model_validate(service.create_department(session, actor=actor, data=body))


# --- roles and permissions -------------------------------------------------------------------------


@router.get("/roles", response_model=list[RoleOut])
def list_roles(actor: CurrentActor, session: DbSession) -> list[RoleOut]:
    return [RoleOut.model_validate(role) for role in service.list_roles(session, actor=actor)]


@router.post("/roles", response_model=RoleOut, status_code=201)
def create_role(body: RoleCreate, actor: CurrentActor, session: DbSession) -> RoleOut:
    return RoleOut.model_validate(service.create_role(session, actor=actor, data=body))


@router.get("/roles/{role_id}", response_model=RoleOut)
def get_role(role_id: int, actor: CurrentActor, session: DbSession) -> RoleOut:
    actor.require(IdentityPermission.USERS_VIEW)
    return RoleOut.model_validate(require_in_tenant(session, Role, actor.tenant_id, role_id))


@router.patch("/roles/{role_id}", response_model=RoleOut)
def update_role(role_id: int, body: RoleUpdate, actor: CurrentActor, session: DbSession) -> RoleOut:
    return RoleOut.model_validate(service.update_role(session, actor=actor, role_id=role_id, data=body))


@router.delete("/roles/{role_id}", status_code=204)
def delete_role(role_id: int, actor: CurrentActor, session: DbSession) -> None:
    service.delete_role(session, actor=actor, role_id=role_id)


@router.get("/permissions", response_model=list[PermissionOut])
def list_permissions(actor: CurrentActor) -> list[PermissionOut]:
    return [PermissionOut(code=p.code, label_zh=p.label_zh, label_en=p.label_en) for p in all_permissions()]


# --- API keys -----------------------------------------------------------------------------------------


@router.get("/api-keys", response_model=Page[ApiKeyOut])
def list_api_keys(
    actor: CurrentActor, session: DbSession, limit: Limit = 50, cursor: str | None = None
) -> Page[ApiKeyOut]:
    items, next_cursor = api_keys.list_api_keys(session, actor=actor, page=PageRequest(limit, cursor))
    return Page(items=items, next_cursor=next_cursor)


@router.post("/api-keys", response_model=ApiKeyCreated, status_code=201)
def create_api_key(body: ApiKeyCreate, actor: CurrentActor, session: DbSession) -> ApiKeyCreated:
    return api_keys.create_api_key(session, actor=actor, data=body)


@router.delete("/api-keys/{api_key_id}", response_model=ApiKeyOut)
def revoke_api_key(api_key_id: int, actor: CurrentActor, session: DbSession) -> ApiKeyOut:
    return api_keys.revoke_api_key(session, actor=actor, api_key_id=api_key_id)


# --- audit log ---------------------------------------------------------------------------------------


@router.get("/audit-log", response_model=Page[AuditEntryOut])
def list_audit_log(
    actor: CurrentActor,
    session: DbSession,
    limit: Limit = 50,
    cursor: str | None = None,
    action: str | None = None,
    actor_filter: Annotated[str | None, Query(alias="actor")] = None,
) -> Page[AuditEntryOut]:
    actor.require(IdentityPermission.AUDIT_VIEW)
    items, next_cursor = audit.list_audit(
        session, actor=actor, page=PageRequest(limit, cursor), action=action, actor_filter=actor_filter
    )
    return Page(items=[AuditEntryOut.model_validate(item) for item in items], next_cursor=next_cursor)
