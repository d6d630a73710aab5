"""Keeping the channels domain's customer references right when profiles are merged and unmerged.

Adds, deletions and welcomes name the customer they were recorded for. On `customer.merged` the
merged profile's rows point at the survivor (so sticky routing, the add history and the welcome log
follow the person); on `customer.unmerged` the rows whose WeCom contact came back to the restored
profile point at it again. Both are plain UPDATEs, so a rerun changes nothing more.
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, and_, or_, select, update
from sqlalchemy.orm import Session

from scrm.channels.models import ChannelAdd, ChannelDeletion, ChannelWelcome
from scrm.core.events import Delivery, EventHandler
from scrm.customers.channel_support import merge_is_active, relations_of
from scrm.customers.events import CustomerMerged, CustomerUnmerged

_ROWS = (ChannelAdd, ChannelDeletion, ChannelWelcome)


def on_customer_merged(session: Session, delivery: Delivery) -> None:
    event = delivery.load(CustomerMerged)
    if not merge_is_active(session, tenant_id=event.tenant_id, merge_id=event.merge_id):
        return  # undone before we got here: the rows already point where they belong
    for model in _ROWS:
        session.execute(
            update(model)
            .where(model.tenant_id == event.tenant_id, model.customer_id == event.merged_id)
            .values(customer_id=event.survivor_id)
        )


def on_customer_unmerged(session: Session, delivery: Delivery) -> None:
    event = delivery.load(CustomerUnmerged)
    contacts = sorted(relations_of(session, tenant_id=event.tenant_id, customer_id=event.restored_id))
    if not contacts:
        return

    def restored_contact(model: type[ChannelAdd] | type[ChannelDeletion]) -> ColumnElement[bool]:
        return or_(
            *(
                and_(model.connection_id == connection_id, model.external_userid == external_userid)
                for connection_id, external_userid in contacts
            )
        )

    conditions: list[tuple[type[ChannelAdd | ChannelDeletion | ChannelWelcome], ColumnElement[bool]]] = [
        (ChannelAdd, restored_contact(ChannelAdd)),
        (ChannelDeletion, restored_contact(ChannelDeletion)),
        # A welcome has no connection column; it shares its add's event id.
        (
            ChannelWelcome,
            ChannelWelcome.event_id.in_(
                select(ChannelAdd.event_id).where(
                    ChannelAdd.tenant_id == event.tenant_id, restored_contact(ChannelAdd)
                )
            ),
        ),
    ]
    for model, condition in conditions:
        session.execute(
            update(model)
            .where(model.tenant_id == event.tenant_id, model.customer_id == event.survivor_id, condition)
            .values(customer_id=event.restored_id)
        )


HANDLERS = [
    EventHandler(CustomerMerged.event_type, "channels.on_customer_merged", on_customer_merged),
    EventHandler(CustomerUnmerged.event_type, "channels.on_customer_unmerged", on_customer_unmerged),
]
