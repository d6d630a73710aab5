"""Permissions of the channels domain."""

from __future__ import annotations

from enum import StrEnum

from scrm.core.permissions import PermissionInfo, register_permissions


class ChannelPermission(StrEnum):
    VIEW = "channels.view"
    MANAGE = "channels.manage"
    ANALYTICS_VIEW = "channels.analytics.view"


register_permissions(
    PermissionInfo(ChannelPermission.VIEW, "查看渠道活码", "View channel codes"),
    PermissionInfo(ChannelPermission.MANAGE, "管理渠道活码", "Manage channel codes"),
    PermissionInfo(ChannelPermission.ANALYTICS_VIEW, "查看渠道数据", "View channel analytics"),
)
