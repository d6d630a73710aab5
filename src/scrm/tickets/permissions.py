"""Permissions of the tickets domain."""

from __future__ import annotations

from enum import StrEnum

from scrm.core.permissions import PermissionInfo, register_permissions


class TicketPermission(StrEnum):
    VIEW = "tickets.view"
    # Create tickets, move them through their statuses, comment.
    EDIT = "tickets.edit"
    # Calendars, SLA policies (and, later, teams, routing and forms).
    SETTINGS_MANAGE = "tickets.settings.manage"


register_permissions(
    PermissionInfo(TicketPermission.VIEW, "查看工单", "View tickets"),
    PermissionInfo(TicketPermission.EDIT, "处理工单", "Handle tickets"),
    PermissionInfo(
        TicketPermission.SETTINGS_MANAGE,
        "管理工单设置（日历、SLA）",
        "Manage ticket settings (calendars, SLA)",
    ),
)
