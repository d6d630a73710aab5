"""Permissions of the system (operations) page."""

from __future__ import annotations

from enum import StrEnum

from scrm.core.permissions import PermissionInfo, register_permissions


class SystemPermission(StrEnum):
    VIEW = "system.view"
    MANAGE = "system.manage"


register_permissions(
    PermissionInfo(SystemPermission.VIEW, "查看系统运行状态", "View system status"),
    PermissionInfo(SystemPermission.MANAGE, "重放死信任务", "Replay dead letters"),
)
