"""Permissions of the forms domain."""

from __future__ import annotations

from enum import StrEnum

from scrm.core.permissions import PermissionInfo, register_permissions


class FormPermission(StrEnum):
    # Forms, their versions and submissions.
    VIEW = "forms.view"
    # Create and change forms (each change of fields is a new version).
    MANAGE = "forms.manage"


register_permissions(
    PermissionInfo(FormPermission.VIEW, "查看表单与提交", "View forms and submissions"),
    PermissionInfo(FormPermission.MANAGE, "管理表单", "Manage forms"),
)
