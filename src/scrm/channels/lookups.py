"""Small reads the channel handlers share: the code of a `state`, when a callback arrived, names."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from scrm.channels.models import ChannelCode
from scrm.core.events import Delivery
from scrm.core.outbox_models import InboundMessage
from scrm.customers.wecom_ingest import WeComScope
from scrm.platforms.canonical import ExternalContactAdded, ExternalContactHalfAdded, WeComInboundEvent
from scrm.staff.service import find_member, names_by_userid

AddedEvent = ExternalContactAdded | ExternalContactHalfAdded


def added_event(delivery: Delivery) -> AddedEvent:
    if delivery.event_type == ExternalContactHalfAdded.event_type:
        return delivery.load(ExternalContactHalfAdded)
    return delivery.load(ExternalContactAdded)


def scope_of(event: WeComInboundEvent) -> WeComScope:
    return WeComScope(tenant_id=event.tenant_id, connection_id=event.connection_id, corp_id=event.corp_id)


def unit_cache(session: Session) -> dict[Any, Any]:
    """Values read once per unit of work (a worker's batch, a request) and reused by the handlers of
    that batch: which code has a state, a connection's API client. Nothing here is written by the
    handlers that read it, so a rolled-back savepoint leaves it true; a batch lasts a second or so."""
    cache: dict[Any, Any] = session.info.setdefault("scrm.channels.unit_cache", {})
    return cache


def code_by_state(session: Session, *, tenant_id: int, connection_id: int, state: str) -> ChannelCode | None:
    """The code with this state on this connection, whatever its status."""
    cache = unit_cache(session)
    key = ("code_by_state", tenant_id, connection_id, state)
    if key in cache:
        return None if cache[key] is None else code_by_id(session, tenant_id=tenant_id, code_id=cache[key])
    code = session.scalars(
        select(ChannelCode).where(
            ChannelCode.tenant_id == tenant_id,
            ChannelCode.connection_id == connection_id,
            ChannelCode.state == state,
        )
    ).one_or_none()
    cache[key] = None if code is None else code.id
    return code


def code_by_id(session: Session, *, tenant_id: int, code_id: int) -> ChannelCode | None:
    """The tenant's code (from the session's identity map when it is loaded already)."""
    code = session.get(ChannelCode, code_id)
    return code if code is not None and code.tenant_id == tenant_id else None


def received_at(session: Session, event: WeComInboundEvent) -> datetime:
    """When the event's callback reached us (our clock); the event's own time if the row is gone."""
    stored = session.scalar(
        select(InboundMessage.received_at).where(
            InboundMessage.tenant_id == event.tenant_id, InboundMessage.id == event.inbound_message_id
        )
    )
    return stored if stored is not None else event.occurred_at


@dataclass(frozen=True)
class Member:
    """What the handlers need of a WeCom member: a name to show and whether 客户联系 is known off."""

    userid: str
    name: str
    lacks_customer_contact: bool


def member(session: Session, *, tenant_id: int, connection_id: int, userid: str) -> Member:
    found = find_member(session, tenant_id=tenant_id, connection_id=connection_id, userid=userid)
    if found is None:
        return Member(userid=userid, name=userid, lacks_customer_contact=False)
    return Member(
        userid=userid, name=found.name or userid, lacks_customer_contact=not found.has_customer_contact
    )


def staff_name(session: Session, *, tenant_id: int, userid: str) -> str:
    return names_by_userid(session, tenant_id=tenant_id, userids=[userid]).get(userid) or userid
