"""Events of the platforms domain."""

from __future__ import annotations

from typing import ClassVar

from scrm.core.events import Event


class ConnectionActivated(Event, frozen=True):
    """A connection was created, or re-enabled: domains that work per connection start (shops: the
    pull loop)."""

    event_type: ClassVar[str] = "platform.connection.activated"
    connection_id: int
    platform: str
