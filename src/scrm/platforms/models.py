"""Platform connections (平台连接): one row per WeCom corp or shop a tenant connects.

Public configuration (ids, base URLs, limits) is plain JSON; credentials live only in
`secrets_encrypted`, sealed by `scrm.core.secrets.SecretBox` with the purpose ``connection:<id>``, so a
value copied into another row or tenant does not decrypt.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from scrm.core.db import Base, IdMixin, TenantMixin, TimestampMixin, UtcDateTime


class PlatformKind(StrEnum):
    WECOM = "wecom"
    YOUZAN = "youzan"
    TAOBAO = "taobao"
    DOUYIN = "douyin"
    JD = "jd"
    PDD = "pdd"


class ConnectionStatus(StrEnum):
    """`active` works; `error` works but its last check or call failed; `disabled` is switched off
    (callbacks are refused, nothing syncs)."""

    ACTIVE = "active"
    DISABLED = "disabled"
    ERROR = "error"


class PlatformConnection(IdMixin, TenantMixin, TimestampMixin, Base):
    __tablename__ = "platform_connections"
    __table_args__ = (Index(None, "tenant_id", "platform", "status"),)

    platform: Mapped[str] = mapped_column(String(20), nullable=False)
    name: Mapped[str] = mapped_column(String(100), nullable=False)
    config: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict, nullable=False)
    # Written right after the first flush: the purpose binds the row id, which the flush assigns.
    secrets_encrypted: Mapped[str] = mapped_column(Text, default="", nullable=False)
    status: Mapped[str] = mapped_column(String(20), default=ConnectionStatus.ACTIVE, nullable=False)
    last_error: Mapped[str | None] = mapped_column(Text)
    last_error_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


def secret_purpose(connection_id: int) -> str:
    """The SecretBox purpose of a connection's secrets."""
    return f"connection:{connection_id}"
