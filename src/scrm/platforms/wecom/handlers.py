"""The worker side of WeCom callbacks: inbox row -> parsed callback -> canonical events.

The receiver (`callbacks.py`) stored the decrypted plaintext and `inbox.received` was published in the
same transaction. Here, in a worker, the row is parsed, mapped (pure) and its canonical events are
published in the handler's transaction together with the row's new state, so the events exist if and
only if the row is marked processed.
"""

from __future__ import annotations

import logging

from sqlalchemy.orm import Session

from scrm.core.errors import NotFound
from scrm.core.events import Delivery, EventHandler, publish_many
from scrm.core.inbox import InboxReceived, mark_failed, mark_ignored, mark_processed, require_inbound
from scrm.core.outbox_models import InboundState
from scrm.platforms.models import PlatformKind
from scrm.platforms.wecom.mapping import MappingContext, MappingError, describe, map_callback
from scrm.platforms.wecom.payloads import PayloadError, parse_callback

log = logging.getLogger(__name__)

HANDLER_NAME = "platforms.wecom.process_inbound"


def process_inbound(session: Session, delivery: Delivery) -> None:
    """Turn one stored WeCom callback into canonical events.

    Idempotent: a row already processed or ignored is left alone, so a re-delivery publishes nothing.
    Unknown events are marked ignored; unreadable rows (which validation at the receiver should have
    refused) are marked failed and the handler returns normally, so the worker does not retry them.
    Database errors propagate and are retried by the worker.
    """
    received = delivery.load(InboxReceived)
    if received.platform != PlatformKind.WECOM:
        return
    try:
        message = require_inbound(session, received.tenant_id, received.inbound_message_id)
    except NotFound:
        log.warning("inbound message %s is gone; nothing to process", received.inbound_message_id)
        return
    if message.state in (InboundState.PROCESSED, InboundState.IGNORED):
        return
    try:
        callback = parse_callback(message.raw_payload)
        context = MappingContext(
            tenant_id=message.tenant_id,
            connection_id=int(message.connection_id),
            inbound_message_id=message.id,
        )
        events = map_callback(callback, context)
    except (PayloadError, MappingError, ValueError) as error:
        log.error("wecom inbound message %s failed: %s", message.id, error)
        mark_failed(message, f"{type(error).__name__}: {error}")
        return
    if not events:
        mark_ignored(message, f"not acted on: {describe(callback)}")
        return
    publish_many(session, events)
    mark_processed(message)


HANDLERS = [
    EventHandler(
        InboxReceived.event_type,
        HANDLER_NAME,
        process_inbound,
        accepts=lambda event: event.platform == PlatformKind.WECOM,
    )
]
