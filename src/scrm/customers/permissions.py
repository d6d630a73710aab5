"""Permissions of the customers domain."""

from __future__ import annotations

from enum import StrEnum

from scrm.core.permissions import PermissionInfo, register_permissions


class CustomerPermission(StrEnum):
    VIEW = "customers.view"
    TAGS_MANAGE = "customers.tags.manage"
    # Tag customers, edit their attributes and identities (in the actor's data scope).
    EDIT = "customers.edit"
    # See phone numbers in full; without it they are masked (138****0000).
    PII_VIEW = "customers.pii.view"
    MERGE = "customers.merge"
    SEGMENTS_MANAGE = "customers.segments.manage"
    EXPORT = "customers.export"


register_permissions(
    PermissionInfo(CustomerPermission.VIEW, "查看客户", "View customers"),
    PermissionInfo(CustomerPermission.TAGS_MANAGE, "管理客户标签", "Manage customer tags"),
    PermissionInfo(CustomerPermission.EDIT, "编辑客户（打标签、属性）", "Edit customers (tags, attributes)"),
    PermissionInfo(CustomerPermission.PII_VIEW, "查看客户手机号", "View customers' phone numbers"),
    PermissionInfo(CustomerPermission.MERGE, "合并与拆分客户", "Merge and unmerge customers"),
    PermissionInfo(CustomerPermission.SEGMENTS_MANAGE, "管理客户分群", "Manage customer segments"),
    PermissionInfo(CustomerPermission.EXPORT, "导出客户", "Export customers"),
)
