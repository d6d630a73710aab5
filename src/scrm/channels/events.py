"""Events of the channels domain."""

from __future__ import annotations

from typing import ClassVar

from scrm.core.events import Event


class ChannelCustomerAdded(Event, frozen=True):
    """A customer was added through a channel code and attributed to it (after the add callback)."""

    event_type: ClassVar[str] = "channels.customer_added"
    code_id: int
    add_id: int
    connection_id: int
    corp_id: str
    customer_id: int
    staff_userid: str
    external_userid: str
    is_returning: bool


class ChannelHandBackRequested(Event, frozen=True):
    """Sticky routing: a returning customer was added by `staff_userid` and goes back to their previous
    guide `to_userid` (an in-service transfer is requested)."""

    event_type: ClassVar[str] = "channels.hand_back_requested"
    code_id: int
    add_id: int
    connection_id: int
    customer_id: int
    staff_userid: str
    external_userid: str
    to_userid: str
