"""The inbound-message inbox: platform callbacks stored raw, once, before anything interprets them.

A callback endpoint verifies the signature, calls `store_inbound`, and answers at once. The first store
of a dedupe key publishes `inbox.received`; the platform's handler (in a worker) parses the raw payload
and marks the message processed, ignored or failed. Platforms retry callbacks they think were lost, so
a repeated dedupe key is normal: it returns the stored row and publishes nothing.
"""

from __future__ import annotations

from typing import ClassVar

from sqlalchemy import select
from sqlalchemy.orm import Session

from scrm.core import metrics
from scrm.core.clock import utcnow
from scrm.core.errors import Conflict
from scrm.core.events import Event, publish
from scrm.core.leases import dialect_insert
from scrm.core.outbox_models import InboundMessage, InboundState
from scrm.core.tenancy import require_in_tenant


class InboxReceived(Event):
    """A new inbound message awaits processing by its platform's handler."""

    event_type: ClassVar[str] = "inbox.received"
    inbound_message_id: int
    platform: str
    connection_id: str


def store_inbound(
    session: Session,
    *,
    tenant_id: int,
    platform: str,
    connection_id: str,
    dedupe_key: str,
    raw_payload: str,
    headers: dict[str, str],
) -> tuple[InboundMessage, bool]:
    """Store an inbound message unless its dedupe key is already stored, in the caller's transaction.

    Returns (message, True) and publishes `inbox.received` on the first store; (existing message,
    False) for a duplicate, without raising and without publishing. Safe under concurrent deliveries
    of the same key: the unique constraint decides, the loser gets the winner's row.
    """
    statement = (
        dialect_insert(session, InboundMessage)
        .values(
            tenant_id=tenant_id,
            platform=platform,
            connection_id=connection_id,
            dedupe_key=dedupe_key,
            headers=dict(headers),
            raw_payload=raw_payload,
            received_at=utcnow(),
            state=InboundState.RECEIVED,
        )
        .on_conflict_do_nothing(index_elements=["tenant_id", "platform", "connection_id", "dedupe_key"])
        .returning(InboundMessage.id)
    )
    inserted_id = session.execute(statement).scalar_one_or_none()
    if inserted_id is None:
        metrics.INBOX_DUPLICATES.labels(platform).inc()
        existing = session.scalars(
            select(InboundMessage).where(
                InboundMessage.tenant_id == tenant_id,
                InboundMessage.platform == platform,
                InboundMessage.connection_id == connection_id,
                InboundMessage.dedupe_key == dedupe_key,
            )
        ).one()
        return existing, False
    metrics.INBOX_STORED.labels(platform).inc()
    publish(
        session,
        InboxReceived(
            tenant_id=tenant_id,
            inbound_message_id=inserted_id,
            platform=platform,
            connection_id=connection_id,
        ),
    )
    message = session.get(InboundMessage, inserted_id)
    assert message is not None
    return message, True


def require_inbound(session: Session, tenant_id: int, message_id: int) -> InboundMessage:
    """The tenant's inbound message; raises NotFound if absent or another tenant's."""
    return require_in_tenant(session, InboundMessage, tenant_id, message_id)


def _transition(
    message: InboundMessage, target: InboundState, allowed_from: tuple[InboundState, ...], error: str | None
) -> None:
    if message.state == target and target != InboundState.FAILED:
        return  # idempotent: a handler rerun after a lost lease may mark twice
    if message.state not in allowed_from:
        raise Conflict(f"inbound message {message.id} is {message.state}, cannot become {target}")
    message.state = target
    message.processed_at = utcnow()
    message.error = error


def mark_processed(message: InboundMessage) -> None:
    """received/failed -> processed. Raises Conflict from ignored."""
    _transition(message, InboundState.PROCESSED, (InboundState.RECEIVED, InboundState.FAILED), None)


def mark_ignored(message: InboundMessage, reason: str | None = None) -> None:
    """received/failed -> ignored (a callback deliberately not acted on). Raises Conflict if processed."""
    _transition(message, InboundState.IGNORED, (InboundState.RECEIVED, InboundState.FAILED), reason)


def mark_failed(message: InboundMessage, error: str) -> None:
    """received/failed -> failed with `error`. Raises Conflict once processed or ignored.

    A handler that raises after this call rolls its savepoint back, mark included; call it only when
    the handler gives up on the message and returns normally.
    """
    _transition(message, InboundState.FAILED, (InboundState.RECEIVED, InboundState.FAILED), error)
