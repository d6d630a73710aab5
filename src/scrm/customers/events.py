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


class CustomerMerged(Event):
    """`merged_id` was merged into `survivor_id`: re-point your rows (remember which, keyed by
    `merge_id`, to move them back on `customer.unmerged`)."""

    event_type = "customer.merged"
    survivor_id: int
    merged_id: int
    merge_id: int


class CustomerUnmerged(Event):
    """The merge `merge_id` was undone: `restored_id` lives again beside `survivor_id`."""

    event_type = "customer.unmerged"
    survivor_id: int
    restored_id: int
    merge_id: int


class CustomerTagsChanged(Event):
    """Staff added / removed these tags on the customer (locally already): push the change to WeCom
    (`mark_tag`) for every active follow relation in each tag's corp."""

    event_type = "customers.tags_changed"
    customer_id: int
    added: list[int]
    removed: list[int]
