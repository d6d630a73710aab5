"""Permissions of the identity domain and the built-in roles every tenant starts with."""

from __future__ import annotations

from enum import StrEnum

from scrm.core.actors import DataScope
from scrm.core.permissions import PermissionInfo, register_permissions


class IdentityPermission(StrEnum):
    USERS_VIEW = "identity.users.view"
    USERS_MANAGE = "identity.users.manage"
    ROLES_MANAGE = "identity.roles.manage"
    API_KEYS_MANAGE = "identity.api_keys.manage"
    AUDIT_VIEW = "identity.audit.view"


register_permissions(
    PermissionInfo(IdentityPermission.USERS_VIEW, "查看员工", "View staff"),
    PermissionInfo(IdentityPermission.USERS_MANAGE, "管理员工与部门", "Manage staff and departments"),
    PermissionInfo(IdentityPermission.ROLES_MANAGE, "管理角色与权限", "Manage roles and permissions"),
    PermissionInfo(IdentityPermission.API_KEYS_MANAGE, "管理 API 密钥", "Manage API keys"),
    PermissionInfo(IdentityPermission.AUDIT_VIEW, "查看审计日志", "View the audit log"),
)

# The built-in roles. Their permission lists name codes from several domains; a code registered by
# no domain yet is simply not granted anything until that domain exists.
BUILTIN_ROLES: dict[str, tuple[str, list[str], DataScope]] = {
    "owner": ("所有者", ["*"], DataScope.ALL),
    "admin": (
        "管理员",
        [
            IdentityPermission.USERS_VIEW,
            IdentityPermission.USERS_MANAGE,
            IdentityPermission.ROLES_MANAGE,
            IdentityPermission.API_KEYS_MANAGE,
            IdentityPermission.AUDIT_VIEW,
            "system.view",
            "system.manage",
            "platforms.connections.view",
            "platforms.connections.manage",
            "channels.view",
            "channels.manage",
            "channels.analytics.view",
            "customers.view",
            "customers.tags.manage",
            "customers.edit",
            "customers.pii.view",
            "customers.merge",
            "customers.segments.manage",
            "customers.export",
            "commerce.orders.view",
            "commerce.shops.manage",
            "tickets.view",
            "tickets.edit",
            "tickets.settings.manage",
            "forms.view",
            "forms.manage",
        ],
        DataScope.ALL,
    ),
    "operator": (
        "运营",
        [
            IdentityPermission.USERS_VIEW,
            "channels.view",
            "channels.manage",
            "channels.analytics.view",
            "customers.view",
            "customers.tags.manage",
            "customers.edit",
            "customers.segments.manage",
            "customers.export",
            "commerce.orders.view",
            "tickets.view",
            "tickets.edit",
            "forms.view",
            "forms.manage",
        ],
        DataScope.DEPARTMENT,
    ),
    "agent": (
        "客服/导购",
        [
            "customers.view",
            "channels.view",
            "customers.edit",
            "commerce.orders.view",
            "tickets.view",
            "tickets.edit",
            "forms.view",
        ],
        DataScope.OWN,
    ),
    "finance": (
        "财务",
        [IdentityPermission.USERS_VIEW, IdentityPermission.AUDIT_VIEW, "commerce.orders.view"],
        DataScope.ALL,
    ),
}
