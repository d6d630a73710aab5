"""The worker side of shop pushes: inbox row → the platform's pure mapping → canonical events.

Stored push messages (`inbox.received` for a shop platform) become `shop.order.observed` /
`shop.refund.observed` events, published in the same transaction that marks the row processed, and
`shop.order.detail_wanted` for orders the message only named; that event's handler fetches the order
from the platform and publishes the complete snapshot. (For orders the message gave a partial
snapshot of, commerce asks for the details itself, once, if it does not have them yet.)
"""

from __future__ import annotations

import logging
from functools import partial

from sqlalchemy import select
from sqlalchemy.orm import Session

from scrm.core.errors import NotFound
from scrm.core.events import Delivery, Event, EventHandler, prepared_or, publish_many
from scrm.core.inbox import InboxReceived, mark_failed, mark_ignored, mark_processed
from scrm.core.outbox_models import InboundMessage, InboundState
from scrm.platforms.base import PlatformError
from scrm.platforms.runtime import platform_runtime
from scrm.platforms.shops.adapter import MappedMessage
from scrm.platforms.shops.canonical import (
    ObservationSource,
    OrderSnapshot,
    ShopOrderDetailWanted,
    ShopOrderObserved,
    ShopRefundObserved,
)
from scrm.platforms.shops.registry import is_shop_platform, shop_platform
from scrm.platforms.shops.service import ShopIdentity, require_shop

log = logging.getLogger(__name__)

#: Attempts at fetching an order's details before giving up (the next pull brings the order anyway).
FETCH_ATTEMPTS = 5


def mapped_events(
    mapped: MappedMessage,
    *,
    tenant_id: int,
    connection_id: int,
    source: ObservationSource,
    inbound_message_id: int | None,
) -> list[Event]:
    """The canonical events of one mapped message (shared with the message-channel consumer)."""
    events: list[Event] = [
        ShopOrderObserved(
            tenant_id=tenant_id,
            connection_id=connection_id,
            source=source,
            inbound_message_id=inbound_message_id,
            order=order,
        )
        for order in mapped.orders
    ]
    events.extend(
        ShopRefundObserved(
            tenant_id=tenant_id,
            connection_id=connection_id,
            source=source,
            inbound_message_id=inbound_message_id,
            refund=refund,
        )
        for refund in mapped.refunds
    )
    # Orders the message also gave a (partial) snapshot of are fetched only if commerce still lacks
    # their details after ingesting it; the others (messages that only name an order) right away.
    observed = {order.external_id for order in mapped.orders}
    events.extend(
        ShopOrderDetailWanted(
            tenant_id=tenant_id,
            connection_id=connection_id,
            external_id=external_id,
            inbound_message_id=inbound_message_id,
        )
        for external_id in dict.fromkeys(mapped.fetch_orders)
        if external_id not in observed
    )
    return events


def process_inbound(session: Session, deliveries: list[Delivery]) -> None:
    """Map stored shop pushes (a batch: one query for the messages, one insert for the events).
    Idempotent: a processed or ignored row is left alone. Unreadable rows are marked failed (the
    receiver validated them, so this means a mapping bug) and not retried."""
    received = [
        item
        for item in (delivery.load(InboxReceived) for delivery in deliveries)
        if is_shop_platform(item.platform)
    ]
    messages = {
        message.id: message
        for message in session.scalars(
            select(InboundMessage).where(
                InboundMessage.id.in_([item.inbound_message_id for item in received])
            )
        )
    }
    shops: dict[tuple[int, int], ShopIdentity | None] = {}
    events: list[Event] = []
    for item in received:
        message = messages.get(item.inbound_message_id)
        key = (item.tenant_id, int(item.connection_id))
        if key not in shops:
            try:
                shops[key] = require_shop(session, *key)
            except NotFound:
                shops[key] = None
        shop = shops[key]
        if message is None or message.tenant_id != item.tenant_id or shop is None:
            log.warning("shop inbound message %s: message or connection gone", item.inbound_message_id)
            continue
        if message.state in (InboundState.PROCESSED, InboundState.IGNORED):
            continue
        events.extend(_map_inbound(message, shop))
    publish_many(session, events)


def _map_inbound(message: InboundMessage, shop: ShopIdentity) -> list[Event]:
    """The events of one stored push, with the message marked as it deserves."""
    try:
        mapped = shop_platform(shop.platform).map_message(message.raw_payload, shop.external_id)
    except (ValueError, KeyError, TypeError) as error:
        log.error("%s inbound message %s failed: %r", shop.platform, message.id, error)
        mark_failed(message, f"{type(error).__name__}: {error}")
        return []
    events = mapped_events(
        mapped,
        tenant_id=shop.tenant_id,
        connection_id=shop.connection_id,
        source=ObservationSource.PUSH,
        inbound_message_id=message.id,
    )
    if events:
        mark_processed(message)
    else:
        mark_ignored(message, mapped.ignored_reason or "nothing to act on")
    return events


def _fetch(session: Session, wanted: ShopOrderDetailWanted) -> OrderSnapshot | None:
    """The order from its platform; None when the connection is gone or disabled."""
    try:
        shop = platform_runtime().shop_connection(
            session, tenant_id=wanted.tenant_id, connection_id=wanted.connection_id
        )
    except NotFound:
        return None
    if not shop.identity.active:
        return None
    return shop.client.fetch_order(wanted.external_id)


def prepare_fetch(session: Session, delivery: Delivery) -> OrderSnapshot | None:
    """Before the transaction: the platform call (see `scrm.core.events.EventPrepareFn`)."""
    return _fetch(session, delivery.load(ShopOrderDetailWanted))


def fetch_order_details(session: Session, deliveries: list[Delivery]) -> None:
    """Publish the complete snapshots of named orders, fetched by `prepare_fetch`. Retryable platform
    errors are retried by the outbox up to `FETCH_ATTEMPTS`; after that, or for a permanent error,
    the fetch is logged and dropped: the shop's next incremental pull brings the order anyway."""
    observed: list[Event] = []
    for delivery in deliveries:
        wanted = delivery.load(ShopOrderDetailWanted)
        try:
            snapshot = prepared_or(delivery.prepared, partial(_fetch, session, wanted))
        except PlatformError as error:
            if delivery.retries(error, give_up_after=FETCH_ATTEMPTS):
                raise
            log.warning(
                "order %s on connection %s: detail not fetched (%s); the next pull brings it",
                wanted.external_id,
                wanted.connection_id,
                error,
            )
            continue
        if snapshot is not None:
            observed.append(
                ShopOrderObserved(
                    tenant_id=wanted.tenant_id,
                    connection_id=wanted.connection_id,
                    source=ObservationSource.PULL,
                    inbound_message_id=wanted.inbound_message_id,
                    order=snapshot,
                )
            )
    publish_many(session, observed)


HANDLERS = [
    EventHandler.batched(
        InboxReceived.event_type,
        "platforms.shops.process_inbound",
        process_inbound,
        accepts=lambda event: is_shop_platform(event.platform),
    ),
    EventHandler.batched(
        ShopOrderDetailWanted.event_type,
        "platforms.shops.fetch_order_detail",
        fetch_order_details,
        prepare=prepare_fetch,
    ),
]
