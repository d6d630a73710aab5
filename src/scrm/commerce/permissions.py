"""Permissions of the commerce domain."""

from __future__ import annotations

from enum import StrEnum

from scrm.core.permissions import PermissionInfo, register_permissions


class CommercePermission(StrEnum):
    ORDERS_VIEW = "commerce.orders.view"
    # Start backfills and syncs, change the shop-related settings (risk threshold, alerts).
    SHOPS_MANAGE = "commerce.shops.manage"


register_permissions(
    PermissionInfo(CommercePermission.ORDERS_VIEW, "查看订单", "View orders"),
    PermissionInfo(
        CommercePermission.SHOPS_MANAGE, "管理店铺同步与订单规则", "Manage shop sync and order rules"
    ),
)
