"""Tenants, staff users, departments and roles. Functions flush, never commit.

Every function takes the acting `Actor` (and so its tenant) explicitly, checks the permission it
needs, filters by tenant, and writes an audit row beside the change.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable

from sqlalchemy import Select, or_, select
from sqlalchemy.orm import Session

from scrm.core.actors import Actor, ActorKind, DataScope
from scrm.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from scrm.core.pagination import PageRequest, paginate
from scrm.core.permissions import is_known_permission
from scrm.core.tenancy import require_in_tenant, tenant_select
from scrm.identity.audit import record_audit
from scrm.identity.auth import hash_password
from scrm.identity.models import Department, Membership, Role, Tenant, User
from scrm.identity.permissions import BUILTIN_ROLES, IdentityPermission
from scrm.identity.schemas import (
    DepartmentCreate,
    RoleCreate,
    RoleUpdate,
    UserCreate,
    UserOut,
    UserUpdate,
)


def create_tenant(
    session: Session, *, name: str, admin_email: str, admin_password: str, admin_name: str | None = None
) -> Tenant:
    """A new workspace with the built-in roles and its first owner.

    An existing user with that email joins as owner and keeps their password.
    """
    if not name.strip():
        raise ValidationFailed(
            "tenant name is required", field_errors=[{"field": "name", "message": "required"}]
        )
    tenant = Tenant(name=name.strip())
    session.add(tenant)
    session.flush()
    roles = {
        key: Role(
            tenant_id=tenant.id,
            key=key,
            name=label,
            permissions=[str(code) for code in codes],
            data_scope=scope.value,
            is_builtin=True,
        )
        for key, (label, codes, scope) in BUILTIN_ROLES.items()
    }
    session.add_all(roles.values())
    email = admin_email.strip().lower()
    user = session.scalars(select(User).where(User.email == email)).one_or_none()
    if user is None:
        if len(admin_password) < 8:
            raise ValidationFailed(
                "password must be at least 8 characters",
                field_errors=[{"field": "admin_password", "message": "at least 8 characters"}],
            )
        user = User(
            email=email,
            display_name=admin_name or email.split("@")[0],
            password_hash=hash_password(admin_password),
        )
        session.add(user)
    session.flush()
    session.add(Membership(tenant_id=tenant.id, user_id=user.id, role_id=roles["owner"].id))
    system = Actor(kind=ActorKind.SYSTEM, tenant_id=tenant.id, permissions=frozenset({"*"}), name="system")
    record_audit(
        session,
        actor=system,
        action="tenant.created",
        target_type="tenant",
        target_id=tenant.id,
        detail={"name": tenant.name, "owner": email},
    )
    session.flush()
    return tenant


# --- users -----------------------------------------------------------------------------------------


def _user_rows_select(tenant_id: int) -> Select:
    return (
        select(Membership, User, Role, Department)
        .join(User, User.id == Membership.user_id)
        .join(Role, Role.id == Membership.role_id)
        .outerjoin(Department, Department.id == Membership.department_id)
        .where(Membership.tenant_id == tenant_id)
    )


def _user_out(membership: Membership, user: User, role: Role, department: Department | None) -> UserOut:
    return UserOut(
        id=user.id,
        email=user.email,
        display_name=user.display_name,
        role_id=role.id,
        role_name=role.name,
        department_id=department.id if department else None,
        department_name=department.name if department else None,
        is_active=membership.is_active and user.is_active,
        last_login_at=user.last_login_at,
        created_at=membership.created_at,
    )


def list_users(
    session: Session, *, actor: Actor, page: PageRequest, q: str | None = None
) -> tuple[list[UserOut], str | None]:
    """Staff of the actor's tenant, within the actor's data scope, newest first."""
    actor.require(IdentityPermission.USERS_VIEW)
    stmt = _user_rows_select(actor.tenant_id)
    if actor.data_scope == DataScope.DEPARTMENT:
        stmt = stmt.where(or_(Membership.department_id.in_(actor.department_ids), User.id == actor.user_id))
    elif actor.data_scope == DataScope.OWN:
        stmt = stmt.where(User.id == actor.user_id)
    if q:
        pattern = f"%{q.strip()}%"
        stmt = stmt.where(or_(User.email.ilike(pattern), User.display_name.ilike(pattern)))
    rows, next_cursor = paginate(session, stmt, Membership.id, page, rows=True)
    return [_user_out(*row) for row in rows], next_cursor


def _membership_row(
    session: Session, tenant_id: int, user_id: int
) -> tuple[Membership, User, Role, Department | None]:
    row = session.execute(_user_rows_select(tenant_id).where(Membership.user_id == user_id)).one_or_none()
    if row is None:
        raise NotFound(f"user {user_id} not found")
    return row[0], row[1], row[2], row[3]


def get_user(session: Session, *, actor: Actor, user_id: int) -> UserOut:
    actor.require(IdentityPermission.USERS_VIEW)
    return _user_out(*_membership_row(session, actor.tenant_id, user_id))


def _check_role_assignable(session: Session, actor: Actor, role_id: int) -> Role:
    role = require_in_tenant(session, Role, actor.tenant_id, role_id)
    if role.key == "owner" and not actor.can("*"):
        raise PermissionDenied("only an owner can make someone an owner")
    return role


def create_user(session: Session, *, actor: Actor, data: UserCreate) -> UserOut:
    """Give a person a seat in the tenant. An email already known elsewhere joins with its password."""
    actor.require(IdentityPermission.USERS_MANAGE)
    _check_role_assignable(session, actor, data.role_id)
    if data.department_id is not None:
        require_in_tenant(session, Department, actor.tenant_id, data.department_id)
    email = data.email.strip().lower()
    user = session.scalars(select(User).where(User.email == email)).one_or_none()
    if user is None:
        user = User(email=email, display_name=data.display_name, password_hash=hash_password(data.password))
        session.add(user)
        session.flush()
    elif session.scalars(
        tenant_select(Membership, actor.tenant_id).where(Membership.user_id == user.id)
    ).one_or_none():
        raise Conflict(
            f"{email} is already a member of this workspace",
            field_errors=[{"field": "email", "message": "already a member of this workspace"}],
        )
    session.add(
        Membership(
            tenant_id=actor.tenant_id, user_id=user.id, role_id=data.role_id, department_id=data.department_id
        )
    )
    session.flush()
    record_audit(
        session,
        actor=actor,
        action="user.created",
        target_type="user",
        target_id=user.id,
        detail={"email": email, "role_id": data.role_id},
    )
    return get_user(session, actor=actor, user_id=user.id)


def update_user(session: Session, *, actor: Actor, user_id: int, data: UserUpdate) -> UserOut:
    actor.require(IdentityPermission.USERS_MANAGE)
    membership, user, role, _ = _membership_row(session, actor.tenant_id, user_id)
    changes = data.model_dump(exclude_unset=True)
    if role.key == "owner" and not actor.can("*") and changes:
        raise PermissionDenied("only an owner can change an owner")
    role_changes = changes.get("role_id") not in (None, membership.role_id)
    if user.id == actor.user_id and (role_changes or changes.get("is_active") is False):
        raise Conflict("you cannot change your own role or deactivate yourself")
    if "role_id" in changes and changes["role_id"] is not None:
        membership.role_id = _check_role_assignable(session, actor, changes["role_id"]).id
    if "department_id" in changes:
        if changes["department_id"] is not None:
            require_in_tenant(session, Department, actor.tenant_id, changes["department_id"])
        membership.department_id = changes["department_id"]
    if changes.get("display_name"):
        user.display_name = changes["display_name"]
    if changes.get("is_active") is not None:
        membership.is_active = changes["is_active"]
    session.flush()
    record_audit(
        session,
        actor=actor,
        action="user.updated",
        target_type="user",
        target_id=user.id,
        detail={key: value for key, value in changes.items()},
    )
    return get_user(session, actor=actor, user_id=user.id)


def user_ids_in_departments(session: Session, *, tenant_id: int, department_ids: frozenset[int]) -> set[int]:
    """Users whose seat is in one of these departments (data scope "department and below")."""
    if not department_ids:
        return set()
    return set(
        session.scalars(
            select(Membership.user_id).where(
                Membership.tenant_id == tenant_id, Membership.department_id.in_(department_ids)
            )
        )
    )


def member_names(session: Session, *, tenant_id: int, user_ids: Iterable[int]) -> dict[int, str]:
    """Display names of those of `user_ids` who hold an active seat in the tenant (others are left
    out: callers use this to check that ids belong to the tenant)."""
    wanted = list(set(user_ids))
    if not wanted:
        return {}
    rows = session.execute(
        select(User.id, User.display_name)
        .join(Membership, Membership.user_id == User.id)
        .where(
            Membership.tenant_id == tenant_id,
            Membership.is_active.is_(True),
            User.is_active.is_(True),
            User.id.in_(wanted),
        )
    ).all()
    return {user_id: name for user_id, name in rows}


# --- departments ----------------------------------------------------------------------------------


def list_departments(session: Session, *, actor: Actor) -> list[Department]:
    actor.require(IdentityPermission.USERS_VIEW)
    return list(session.scalars(tenant_select(Department, actor.tenant_id).order_by(Department.id)))


def create_department(session: Session, *, actor: Actor, data: DepartmentCreate) -> Department:
    actor.require(IdentityPermission.USERS_MANAGE)
    if data.parent_id is not None:
        require_in_tenant(session, Department, actor.tenant_id, data.parent_id)
    same_parent = (
        Department.parent_id.is_(None) if data.parent_id is None else Department.parent_id == data.parent_id
    )
    duplicate = session.scalars(
        tenant_select(Department, actor.tenant_id).where(Department.name == data.name, same_parent)
    ).first()
    if duplicate is not None:
        raise Conflict(f"department {data.name!r} already exists here")
    department = Department(tenant_id=actor.tenant_id, name=data.name, parent_id=data.parent_id)
    session.add(department)
    session.flush()
    record_audit(
        session,
        actor=actor,
        action="department.created",
        target_type="department",
        target_id=department.id,
        detail={"name": data.name, "parent_id": data.parent_id},
    )
    return department


# --- roles -----------------------------------------------------------------------------------------


def _validate_permissions(codes: list[str]) -> list[str]:
    unknown = [code for code in codes if not is_known_permission(code)]
    if unknown:
        raise ValidationFailed(
            f"unknown permissions: {', '.join(unknown)}",
            field_errors=[{"field": "permissions", "message": f"unknown: {code}"} for code in unknown],
        )
    return sorted(set(codes))


def list_roles(session: Session, *, actor: Actor) -> list[Role]:
    """Every role of the tenant: needed to view staff, to manage roles, and to pick a key's role."""
    if not any(
        actor.can(code)
        for code in (
            IdentityPermission.USERS_VIEW,
            IdentityPermission.ROLES_MANAGE,
            IdentityPermission.API_KEYS_MANAGE,
        )
    ):
        actor.require(IdentityPermission.USERS_VIEW)
    return list(session.scalars(tenant_select(Role, actor.tenant_id).order_by(Role.id)))


def create_role(session: Session, *, actor: Actor, data: RoleCreate) -> Role:
    actor.require(IdentityPermission.ROLES_MANAGE)
    permissions = _validate_permissions(data.permissions)
    if "*" in permissions and not actor.can("*"):
        raise PermissionDenied("only an owner can grant every permission")
    existing = session.scalars(tenant_select(Role, actor.tenant_id).where(Role.name == data.name)).first()
    if existing is not None:
        raise Conflict(f"a role named {data.name!r} already exists")
    role = Role(
        tenant_id=actor.tenant_id,
        key=f"custom-{uuid.uuid4().hex[:12]}",
        name=data.name,
        permissions=permissions,
        data_scope=data.data_scope.value,
        is_builtin=False,
    )
    session.add(role)
    session.flush()
    record_audit(
        session,
        actor=actor,
        action="role.created",
        target_type="role",
        target_id=role.id,
        detail={"name": role.name, "permissions": permissions, "data_scope": role.data_scope},
    )
    return role


def update_role(session: Session, *, actor: Actor, role_id: int, data: RoleUpdate) -> Role:
    actor.require(IdentityPermission.ROLES_MANAGE)
    role = require_in_tenant(session, Role, actor.tenant_id, role_id)
    if role.key == "owner":
        raise Conflict("the owner role always holds every permission")
    changes = data.model_dump(exclude_unset=True)
    if changes.get("permissions") is not None:
        permissions = _validate_permissions(changes["permissions"])
        if "*" in permissions and not actor.can("*"):
            raise PermissionDenied("only an owner can grant every permission")
        role.permissions = permissions
    if changes.get("name"):
        role.name = changes["name"]
    if changes.get("data_scope") is not None:
        role.data_scope = DataScope(changes["data_scope"]).value
    session.flush()
    record_audit(
        session,
        actor=actor,
        action="role.updated",
        target_type="role",
        target_id=role.id,
        detail={key: value for key, value in changes.items()},
    )
    return role


def delete_role(session: Session, *, actor: Actor, role_id: int) -> None:
    actor.require(IdentityPermission.ROLES_MANAGE)
    role = require_in_tenant(session, Role, actor.tenant_id, role_id)
    if role.is_builtin:
        raise Conflict("built-in roles cannot be deleted")
    in_use = session.scalars(
        tenant_select(Membership, actor.tenant_id).where(Membership.role_id == role.id)
    ).first()
    if in_use is not None:
        raise Conflict("the role is still assigned to staff; reassign them first")
    session.delete(role)
    session.flush()
    record_audit(
        session,
        actor=actor,
        action="role.deleted",
        target_type="role",
        target_id=role_id,
        detail={"name": role.name},
    )
