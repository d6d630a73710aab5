"""Platform connections: create, read, change, disable, test. Functions flush, never commit.

Every function takes the acting `Actor`, checks `platforms.connections.view` or `.manage`, filters by
the actor's tenant (another tenant's id is a 404) and writes an audit row beside each change. Secrets
are sealed with the SecretBox under the purpose ``connection:<id>``; audit rows and answers name the
secret fields that changed, never their values.
"""

from __future__ import annotations

import functools
import secrets
import string
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from scrm.core.actors import Actor
from scrm.core.clock import utcnow
from scrm.core.errors import Conflict, NotFound, ValidationFailed
from scrm.core.events import publish
from scrm.core.pagination import PageRequest, paginate
from scrm.core.secrets import SecretBox
from scrm.core.tenancy import require_in_tenant, tenant_select
from scrm.identity.audit import record_audit
from scrm.platforms.connection_cache import invalidate_on_commit
from scrm.platforms.events import ConnectionActivated
from scrm.platforms.models import ConnectionStatus, PlatformConnection, PlatformKind, secret_purpose
from scrm.platforms.permissions import PlatformPermission
from scrm.platforms.schemas import (
    CONFIG_SPECS,
    ConfigSpec,
    ConnectionCreate,
    ConnectionOut,
    ConnectionUpdate,
    PlatformTypeOut,
)
from scrm.platforms.wecom.crypto import generate_encoding_aes_key

if TYPE_CHECKING:
    from scrm.platforms.wecom.config import WeComConfig

_TOKEN_ALPHABET = string.ascii_letters + string.digits
MAX_ERROR_CHARS = 2000


@functools.lru_cache(maxsize=8)
def secret_box(secret_key: str) -> SecretBox:
    """The SecretBox for `secret_key` (key derivation done once per key)."""
    return SecretBox(secret_key)


def generate_callback_token() -> str:
    """32 random letters and digits: URL-safe, and what the WeCom console accepts (3-32 alphanumerics)."""
    return "".join(secrets.choice(_TOKEN_ALPHABET) for _ in range(32))


def callback_url(public_base_url: str, connection: PlatformConnection) -> str | None:
    """Where the platform posts callbacks for this connection (None for platforms without any yet)."""
    return callback_url_of(public_base_url, connection.platform, connection.id)


def callback_url_of(public_base_url: str, platform: str, connection_id: int) -> str | None:
    """`callback_url` by platform and id: WeCom callbacks and the Youzan and Douyin pushes."""
    if platform in (PlatformKind.WECOM, PlatformKind.YOUZAN, PlatformKind.DOUYIN):
        return f"{public_base_url.rstrip('/')}/hooks/{platform}/{connection_id}"
    return None


def list_platform_types(*, actor: Actor) -> list[PlatformTypeOut]:
    actor.require(PlatformPermission.CONNECTIONS_VIEW)
    return [
        PlatformTypeOut(
            platform=platform,
            config_schema=spec.model.model_json_schema(),
            write_only_fields=sorted(spec.write_only),
            credential_fields=sorted(spec.credentials),
        )
        for platform, spec in CONFIG_SPECS.items()
    ]


# --- validation and storage of config ------------------------------------------------------------


def _spec(platform: str) -> ConfigSpec:
    spec = CONFIG_SPECS.get(PlatformKind(platform))
    if spec is None:
        raise ValidationFailed(
            f"connections to {platform} are not supported yet",
            field_errors=[{"field": "platform", "message": "not supported yet"}],
        )
    return spec


def _validate_config(spec: ConfigSpec, values: dict[str, Any]) -> dict[str, Any]:
    """The validated config (all fields, secrets included); raises ValidationFailed naming fields."""
    try:
        model = spec.model.model_validate(values)
    except ValidationError as error:
        field_errors = [
            {
                "field": ".".join(["config", *(str(part) for part in item["loc"])]),
                "message": item["msg"],
            }
            for item in error.errors(include_url=False, include_input=False)
        ]
        raise ValidationFailed(
            "the connection config has invalid fields", field_errors=field_errors
        ) from None
    return model.model_dump(mode="json", exclude_none=True)


def _fill_generated(platform: PlatformKind, values: dict[str, Any]) -> None:
    if platform == PlatformKind.WECOM:
        values.setdefault("token", generate_callback_token())
        values.setdefault("encoding_aes_key", generate_encoding_aes_key())


def _store(box: SecretBox, connection: PlatformConnection, spec: ConfigSpec, values: dict[str, Any]) -> None:
    connection.config = {key: value for key, value in values.items() if key not in spec.secret_fields}
    sealed = {key: value for key, value in values.items() if key in spec.secret_fields}
    connection.secrets_encrypted = box.encrypt(
        sealed, tenant_id=connection.tenant_id, purpose=secret_purpose(connection.id)
    )


def get_connection_secrets(
    session: Session, connection: PlatformConnection, *, box: SecretBox
) -> dict[str, Any]:
    """The connection's decrypted secret fields. Raises SecretDecryptionError on a wrong key or a
    tampered or moved value."""
    if not connection.secrets_encrypted:
        return {}
    return box.decrypt(
        connection.secrets_encrypted, tenant_id=connection.tenant_id, purpose=secret_purpose(connection.id)
    )


def full_config(session: Session, connection: PlatformConnection, *, box: SecretBox) -> dict[str, Any]:
    """Public config and secrets merged: what the platform client is built from."""
    return {**connection.config, **get_connection_secrets(session, connection, box=box)}


def require_connection(
    session: Session, tenant_id: int, connection_id: int, *, platform: PlatformKind | None = None
) -> PlatformConnection:
    """The tenant's connection; NotFound if absent, another tenant's, or of another platform."""
    connection = require_in_tenant(session, PlatformConnection, tenant_id, connection_id)
    if platform is not None and connection.platform != platform:
        raise NotFound(f"platform_connection {connection_id} not found")
    return connection


def load_wecom_config(session: Session, tenant_id: int, connection_id: int, *, box: SecretBox) -> WeComConfig:
    """The WeComConfig of a tenant's WeCom connection, secrets decrypted, whatever its status (callers
    that act on the platform check `status`). Raises NotFound if absent or not a WeCom connection."""
    from scrm.platforms.wecom.config import WeComConfig

    connection = require_connection(session, tenant_id, connection_id, platform=PlatformKind.WECOM)
    return WeComConfig(**full_config(session, connection, box=box))


# --- answers --------------------------------------------------------------------------------------


def connection_out(
    session: Session,
    connection: PlatformConnection,
    *,
    actor: Actor,
    box: SecretBox,
    public_base_url: str,
    with_credentials: bool = True,
) -> ConnectionOut:
    """The console's view: public config, ``has_<secret>`` flags, and the callback credentials only
    when `with_credentials` and the actor may manage connections."""
    spec = CONFIG_SPECS.get(PlatformKind(connection.platform))
    shown: dict[str, Any] = dict(connection.config)
    credentials: dict[str, Any] = {}
    if spec is not None:
        stored = get_connection_secrets(session, connection, box=box)
        for field in sorted(spec.secret_fields):
            shown[f"has_{field}"] = bool(stored.get(field))
        if with_credentials and actor.can(PlatformPermission.CONNECTIONS_MANAGE):
            credentials = {field: stored.get(field) for field in spec.credentials}
    return ConnectionOut(
        id=connection.id,
        platform=PlatformKind(connection.platform),
        name=connection.name,
        status=ConnectionStatus(connection.status),
        config=shown,
        callback_url=callback_url(public_base_url, connection),
        token=credentials.get("token"),
        encoding_aes_key=credentials.get("encoding_aes_key"),
        last_error=connection.last_error,
        last_error_at=connection.last_error_at,
        created_at=connection.created_at,
        updated_at=connection.updated_at,
    )


# --- commands -------------------------------------------------------------------------------------


def _announce_activation(session: Session, connection: PlatformConnection) -> None:
    publish(
        session,
        ConnectionActivated(
            tenant_id=connection.tenant_id, connection_id=connection.id, platform=connection.platform
        ),
    )


def _refuse_duplicate_account(
    session: Session, tenant_id: int, platform: PlatformKind, values: dict[str, Any]
) -> None:
    """One live connection per WeCom corp in a workspace: two would sync the same people twice."""
    if platform != PlatformKind.WECOM:
        return
    live = session.scalars(
        tenant_select(PlatformConnection, tenant_id).where(
            PlatformConnection.platform == PlatformKind.WECOM,
            PlatformConnection.status != ConnectionStatus.DISABLED,
        )
    )
    if any(connection.config.get("corp_id") == values.get("corp_id") for connection in live):
        raise Conflict(
            f"corp {values.get('corp_id')} is already connected in this workspace",
            field_errors=[{"field": "config.corp_id", "message": "already connected"}],
        )


def create_connection(
    session: Session, *, actor: Actor, data: ConnectionCreate, box: SecretBox
) -> PlatformConnection:
    """A new active connection. Generates the callback credentials the request leaves out."""
    actor.require(PlatformPermission.CONNECTIONS_MANAGE)
    spec = _spec(data.platform)
    values = _validate_config(spec, data.config)
    _refuse_duplicate_account(session, actor.tenant_id, data.platform, values)
    _fill_generated(data.platform, values)
    connection = PlatformConnection(
        tenant_id=actor.tenant_id,
        platform=data.platform.value,
        name=data.name,
        config={},
        status=ConnectionStatus.ACTIVE,
    )
    session.add(connection)
    session.flush()  # the id is part of the secrets' purpose
    _store(box, connection, spec, values)
    session.flush()
    _announce_activation(session, connection)
    record_audit(
        session,
        actor=actor,
        action="platform_connection.created",
        target_type="platform_connection",
        target_id=connection.id,
        detail={
            "platform": connection.platform,
            "name": connection.name,
            "config": connection.config,
            "secrets_set": sorted(key for key in values if key in spec.secret_fields),
        },
    )
    return connection


def list_connections(
    session: Session, *, actor: Actor, page: PageRequest, platform: PlatformKind | None = None
) -> tuple[list[PlatformConnection], str | None]:
    actor.require(PlatformPermission.CONNECTIONS_VIEW)
    stmt = tenant_select(PlatformConnection, actor.tenant_id)
    if platform is not None:
        stmt = stmt.where(PlatformConnection.platform == platform.value)
    return paginate(session, stmt, PlatformConnection.id, page)


def get_connection(session: Session, *, actor: Actor, connection_id: int) -> PlatformConnection:
    actor.require(PlatformPermission.CONNECTIONS_VIEW)
    return require_connection(session, actor.tenant_id, connection_id)


def update_connection(
    session: Session, *, actor: Actor, connection_id: int, data: ConnectionUpdate, box: SecretBox
) -> PlatformConnection:
    """Rename, change config fields (secrets given are rotated), enable/disable, or rotate the callback
    credentials. The merged config is validated as a whole and re-encrypted."""
    actor.require(PlatformPermission.CONNECTIONS_MANAGE)
    connection = require_connection(session, actor.tenant_id, connection_id)
    changed: list[str] = []
    detail: dict[str, Any] = {}
    if data.name is not None and data.name != connection.name:
        detail["name"] = {"from": connection.name, "to": data.name}
        connection.name = data.name
        changed.append("name")
    if data.config is not None or data.rotate_callback_credentials:
        spec = _spec(connection.platform)
        current = full_config(session, connection, box=box)
        merged = {**current, **(data.config or {})}
        merged = {key: value for key, value in merged.items() if value is not None}
        if data.rotate_callback_credentials:
            for field in spec.credentials - (data.config or {}).keys():
                merged.pop(field, None)
        values = _validate_config(spec, merged)
        _fill_generated(PlatformKind(connection.platform), values)
        changed_fields = sorted(
            key for key in values.keys() | current.keys() if values.get(key) != current.get(key)
        )
        if changed_fields:
            _store(box, connection, spec, values)
            changed.extend(f"config.{key}" for key in changed_fields)
            detail["secrets_changed"] = [key for key in changed_fields if key in spec.secret_fields]
            detail["config"] = {
                key: {"from": current.get(key), "to": values.get(key)}
                for key in changed_fields
                if key not in spec.secret_fields
            }
    if data.status is not None and data.status != connection.status:
        detail["status"] = {"from": connection.status, "to": data.status.value}
        connection.status = data.status.value
        changed.append("status")
        if data.status == ConnectionStatus.ACTIVE:
            _announce_activation(session, connection)
    if changed:
        connection.updated_at = utcnow()
        session.flush()
        invalidate_on_commit(session, connection.id)
        record_audit(
            session,
            actor=actor,
            action="platform_connection.updated",
            target_type="platform_connection",
            target_id=connection.id,
            detail={"changed": changed, **detail},
        )
    return connection


def disable_connection(session: Session, *, actor: Actor, connection_id: int) -> PlatformConnection:
    """Switch a connection off: its callbacks are refused and nothing syncs. Idempotent."""
    actor.require(PlatformPermission.CONNECTIONS_MANAGE)
    connection = require_connection(session, actor.tenant_id, connection_id)
    if connection.status != ConnectionStatus.DISABLED:
        previous = connection.status
        connection.status = ConnectionStatus.DISABLED
        connection.updated_at = utcnow()
        session.flush()
        invalidate_on_commit(session, connection.id)
        record_audit(
            session,
            actor=actor,
            action="platform_connection.disabled",
            target_type="platform_connection",
            target_id=connection.id,
            detail={"status": {"from": previous, "to": ConnectionStatus.DISABLED.value}},
        )
    return connection


def redact(text: str, values: dict[str, Any]) -> str:
    """`text` with every secret value in `values` replaced by ••••, bounded for storage."""
    for value in values.values():
        if isinstance(value, str) and len(value) >= 3:
            text = text.replace(value, "••••")
    return text[:MAX_ERROR_CHARS]


def record_test_result(
    session: Session, *, actor: Actor, connection_id: int, ok: bool, detail: str, latency_ms: float
) -> PlatformConnection:
    """Store a connection test's outcome: a failure sets `error` and `last_error`; a success turns an
    `error` connection active again (the last error stays as history). Disabled stays disabled."""
    actor.require(PlatformPermission.CONNECTIONS_MANAGE)
    connection = require_connection(session, actor.tenant_id, connection_id)
    if ok:
        if connection.status == ConnectionStatus.ERROR:
            connection.status = ConnectionStatus.ACTIVE
    else:
        connection.last_error = detail[:MAX_ERROR_CHARS]
        connection.last_error_at = utcnow()
        if connection.status == ConnectionStatus.ACTIVE:
            connection.status = ConnectionStatus.ERROR
    connection.updated_at = utcnow()
    session.flush()
    record_audit(
        session,
        actor=actor,
        action="platform_connection.tested",
        target_type="platform_connection",
        target_id=connection.id,
        detail={"ok": ok, "detail": detail[:500], "latency_ms": round(latency_ms, 1)},
    )
    return connection


def list_login_connections(session: Session) -> list[PlatformConnection]:
    """Active WeCom connections with a self-built app (agent id), across tenants: the corps whose
    staff may log in with WeCom. Only ids and names leave this function's callers."""
    connections = session.scalars(
        select(PlatformConnection)
        .where(
            PlatformConnection.platform == PlatformKind.WECOM,
            PlatformConnection.status == ConnectionStatus.ACTIVE,
        )
        .order_by(PlatformConnection.id)
    )
    return [connection for connection in connections if connection.config.get("agent_id") is not None]


def list_connection_names(session: Session, *, tenant_id: int) -> list[PlatformConnection]:
    return list(session.scalars(tenant_select(PlatformConnection, tenant_id).order_by(PlatformConnection.id)))
