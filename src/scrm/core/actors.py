"""Who is acting, in which tenant. Passed explicitly to every service; never a thread-local."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from scrm.core.errors import PermissionDenied


class ActorKind(StrEnum):
    USER = "user"
    API_KEY = "api_key"
    SYSTEM = "system"


class DataScope(StrEnum):
    """How much of the tenant's owned records an actor sees (全部 / 本部门及下级 / 仅本人)."""

    ALL = "all"
    DEPARTMENT = "department"
    OWN = "own"


@dataclass(frozen=True)
class Actor:
    kind: ActorKind
    tenant_id: int
    permissions: frozenset[str]
    user_id: int | None = None
    api_key_id: int | None = None
    data_scope: DataScope = DataScope.ALL
    # The actor's departments and all departments below them, for DataScope.DEPARTMENT.
    department_ids: frozenset[int] = field(default_factory=frozenset)
    ip: str | None = None
    user_agent: str | None = None
    # What people read in the audit log: the user's email or the API key's name.
    name: str | None = None

    @classmethod
    def system(cls, tenant_id: int) -> Actor:
        """The worker acting on the tenant's behalf (handlers, timers): every permission."""
        return cls(kind=ActorKind.SYSTEM, tenant_id=tenant_id, permissions=frozenset({"*"}), name="system")

    def can(self, permission: str) -> bool:
        return "*" in self.permissions or permission in self.permissions

    def require(self, permission: str) -> None:
        """Raise PermissionDenied unless the actor holds `permission`."""
        if not self.can(permission):
            raise PermissionDenied(f"missing permission {permission!r}")

    def require_any(self, *permissions: str) -> None:
        """Raise PermissionDenied unless the actor holds at least one of `permissions`."""
        if not any(self.can(permission) for permission in permissions):
            raise PermissionDenied(f"missing one of the permissions {', '.join(map(repr, permissions))}")

    @property
    def label(self) -> str:
        if self.kind == ActorKind.USER:
            return f"user:{self.user_id}"
        if self.kind == ActorKind.API_KEY:
            return f"api_key:{self.api_key_id}"
        return "system"
