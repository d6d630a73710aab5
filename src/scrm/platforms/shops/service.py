"""Shop connections as the rest of the application uses them: who the shop is, and its client.

`build_shop_connection` decrypts the connection's secrets and builds the platform's client over a
`ShopTransport` keyed by the connection id, so every process shares the connection's pacing and
circuit breaker (`breaker_state` reads it for the console).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx
from sqlalchemy import select
from sqlalchemy.orm import Session

from scrm.core.errors import NotFound
from scrm.core.secrets import SecretBox
from scrm.core.shared_state import SharedState
from scrm.platforms.models import ConnectionStatus, PlatformConnection, PlatformKind
from scrm.platforms.schemas import SHOP_ID_FIELDS
from scrm.platforms.service import full_config, require_connection
from scrm.platforms.shops.adapter import MessageChannel, ShopClient, ShopPlatform
from scrm.platforms.shops.registry import is_shop_platform, shop_platform
from scrm.platforms.shops.transport import BreakerState, ShopTransport, TransportPolicy, breaker_state

DEFAULT_RATE_PER_SECOND = 10.0


@dataclass(frozen=True)
class ShopIdentity:
    connection_id: int
    tenant_id: int
    platform: str
    external_id: str
    name: str
    active: bool


def shop_identity(connection: PlatformConnection) -> ShopIdentity:
    """Who the connection's shop is (raises NotFound when it is not a shop connection)."""
    if not is_shop_platform(connection.platform):
        raise NotFound(f"platform_connection {connection.id} is not a shop")
    field = SHOP_ID_FIELDS[PlatformKind(connection.platform)]
    return ShopIdentity(
        connection_id=connection.id,
        tenant_id=connection.tenant_id,
        platform=connection.platform,
        external_id=str(connection.config.get(field, "")),
        name=connection.name,
        active=connection.status != ConnectionStatus.DISABLED,
    )


def require_shop(session: Session, tenant_id: int, connection_id: int) -> ShopIdentity:
    return shop_identity(require_connection(session, tenant_id, connection_id))


@dataclass
class ShopConnection:
    identity: ShopIdentity
    platform: ShopPlatform
    client: ShopClient
    channel: MessageChannel | None
    transport: ShopTransport
    config: dict[str, Any]


def connection_key(connection_id: int) -> str:
    return f"connection:{connection_id}"


def shop_breaker(shared_state: SharedState, connection_id: int) -> BreakerState:
    return breaker_state(shared_state, connection_key(connection_id))


def build_shop_connection(
    session: Session,
    connection: PlatformConnection,
    *,
    box: SecretBox,
    shared_state: SharedState,
    http: httpx.Client,
    max_wait_seconds: float = 5.0,
) -> ShopConnection:
    """The connection's client (and channel) with its secrets decrypted; NotFound if not a shop."""
    identity = shop_identity(connection)
    config = full_config(session, connection, box=box)
    entry = shop_platform(connection.platform)
    transport = ShopTransport(
        platform=connection.platform,
        connection_key=connection_key(connection.id),
        shared_state=shared_state,
        policy=TransportPolicy(
            rate_per_second=float(config.get("rate_limit_per_second") or DEFAULT_RATE_PER_SECOND),
            max_wait_seconds=max_wait_seconds,
        ),
    )
    return ShopConnection(
        identity=identity,
        platform=entry,
        client=entry.build_client(config, transport, http),
        channel=entry.build_channel(config, transport, http) if entry.build_channel else None,
        transport=transport,
        config=config,
    )


def list_shop_identities(session: Session, tenant_id: int) -> list[ShopIdentity]:
    """Every shop connection of the tenant (disabled ones included), oldest first."""
    connections = session.scalars(
        select(PlatformConnection)
        .where(
            PlatformConnection.tenant_id == tenant_id,
            PlatformConnection.platform.in_(list(SHOP_ID_FIELDS)),
        )
        .order_by(PlatformConnection.id)
    )
    return [shop_identity(connection) for connection in connections]
