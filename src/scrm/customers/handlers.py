"""Reactions of the customers domain to WeCom's canonical events (database only, no platform calls)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from scrm.core.events import Delivery, EventHandler
from scrm.customers.wecom_ingest import WeComScope, record_follow_added, record_follow_removed
from scrm.platforms.canonical import (
    ExternalContactAdded,
    ExternalContactDeletedByCustomer,
    ExternalContactDeletedByStaff,
    ExternalContactHalfAdded,
)


def _scope(
    event: ExternalContactAdded
    | ExternalContactHalfAdded
    | ExternalContactDeletedByStaff
    | ExternalContactDeletedByCustomer,
) -> WeComScope:
    return WeComScope(tenant_id=event.tenant_id, connection_id=event.connection_id, corp_id=event.corp_id)


def on_added(session: Session, delivery: Delivery) -> None:
    event = delivery.load(ExternalContactAdded)
    record_follow_added(
        session,
        _scope(event),
        userid=event.userid,
        external_userid=event.external_userid,
        state=event.state,
        occurred_at=event.occurred_at,
    )


def on_half_added(session: Session, delivery: Delivery) -> None:
    event = delivery.load(ExternalContactHalfAdded)
    record_follow_added(
        session,
        _scope(event),
        userid=event.userid,
        external_userid=event.external_userid,
        state=event.state,
        occurred_at=event.occurred_at,
        half=True,
    )


def on_deleted_by_staff(session: Session, delivery: Delivery) -> None:
    event = delivery.load(ExternalContactDeletedByStaff)
    record_follow_removed(
        session,
        _scope(event),
        userid=event.userid,
        external_userid=event.external_userid,
        by_customer=False,
        source=event.source,
        occurred_at=event.occurred_at,
    )


def on_deleted_by_customer(session: Session, delivery: Delivery) -> None:
    event = delivery.load(ExternalContactDeletedByCustomer)
    record_follow_removed(
        session,
        _scope(event),
        userid=event.userid,
        external_userid=event.external_userid,
        by_customer=True,
        source=None,
        occurred_at=event.occurred_at,
    )


HANDLERS = [
    EventHandler(ExternalContactAdded.event_type, "customers.record_follow_added", on_added),
    EventHandler(ExternalContactHalfAdded.event_type, "customers.record_follow_half_added", on_half_added),
    EventHandler(
        ExternalContactDeletedByStaff.event_type, "customers.record_deleted_by_staff", on_deleted_by_staff
    ),
    EventHandler(
        ExternalContactDeletedByCustomer.event_type,
        "customers.record_deleted_by_customer",
        on_deleted_by_customer,
    ),
]
