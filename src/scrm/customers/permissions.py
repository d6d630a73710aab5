"""Permissions of the customers domain."""

from __future__ import annotations

from enum import StrEnum

from scrm.core.permissions import PermissionInfo, register_permissions


class CustomerPermission(StrEnum):
    VIEW = "customers.view"
    TAGS_MANAGE = "customers.tags.manage"


register_permissions(
    PermissionInfo(CustomerPermission.VIEW, "查看客户", "View customers"),
    PermissionInfo(CustomerPermission.TAGS_MANAGE, "管理客户标签", "Manage customer tags"),
)
