"""Events of the customers domain."""

from __future__ import annotations

from scrm.core.events import Event


class TagGroupCreated(Event):
    event_type = "customers.tag_group_created"
    group_id: int


class TagCreated(Event):
    event_type = "customers.tag_created"
    tag_id: int


class TagRenamed(Event):
    event_type = "customers.tag_renamed"
    tag_id: int


class TagDeleted(Event):
    event_type = "customers.tag_deleted"
    tag_id: int
