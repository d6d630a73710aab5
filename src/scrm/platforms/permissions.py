"""Permissions of platform connections."""

from __future__ import annotations

from enum import StrEnum

from scrm.core.permissions import PermissionInfo, register_permissions


class PlatformPermission(StrEnum):
    CONNECTIONS_VIEW = "platforms.connections.view"
    CONNECTIONS_MANAGE = "platforms.connections.manage"


register_permissions(
    PermissionInfo(PlatformPermission.CONNECTIONS_VIEW, "查看平台连接", "View platform connections"),
    PermissionInfo(
        PlatformPermission.CONNECTIONS_MANAGE,
        "管理平台连接（含回调凭据）",
        "Manage platform connections (incl. callback credentials)",
    ),
)
