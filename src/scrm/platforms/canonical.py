"""Canonical inbound events: what platform callbacks mean, in the platform-neutral event vocabulary.

Platform mappings (`scrm.platforms.<name>.mapping`) turn raw callbacks into these; domains react to
them through their handlers and never see platform payloads. Every event names its tenant, the
connection it arrived on, the inbox row it came from (a stable idempotency key for reactions) and when
it happened on the platform (`occurred_at`, UTC).
"""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar

from pydantic import Field

from scrm.core.events import Event


class WeComInboundEvent(Event, frozen=True):
    """Base of events from one WeCom connection (one corp)."""

    connection_id: int
    corp_id: str
    inbound_message_id: int
    occurred_at: datetime


class _ExternalContactEvent(WeComInboundEvent, frozen=True):
    userid: str
    external_userid: str


class ExternalContactAdded(_ExternalContactEvent, frozen=True):
    """A staff member (userid) added a customer, or accepted their request (add_external_contact).
    `state` is the contact way's channel tag; `welcome_code` is valid for 20 s."""

    event_type: ClassVar[str] = "wecom.external_contact.added"
    state: str | None = None
    welcome_code: str | None = None


class ExternalContactHalfAdded(_ExternalContactEvent, frozen=True):
    """A customer added a staff member without verification; the staff side has not accepted yet."""

    event_type: ClassVar[str] = "wecom.external_contact.half_added"
    state: str | None = None
    welcome_code: str | None = None


class ExternalContactEdited(_ExternalContactEvent, frozen=True):
    """A staff member edited the customer's remark, description or tags."""

    event_type: ClassVar[str] = "wecom.external_contact.edited"


class ExternalContactDeletedByStaff(_ExternalContactEvent, frozen=True):
    """A staff member removed the customer (del_external_contact). `source` is `DELETE_BY_TRANSFER`
    when the removal came from an in-service transfer."""

    event_type: ClassVar[str] = "wecom.external_contact.deleted_by_staff"
    source: str | None = None


class ExternalContactDeletedByCustomer(_ExternalContactEvent, frozen=True):
    """The customer deleted the staff member (del_follow_user)."""

    event_type: ClassVar[str] = "wecom.external_contact.deleted_by_customer"


class ExternalContactTransferFailed(_ExternalContactEvent, frozen=True):
    """A transfer of the customer to `userid` failed: `customer_refused` or `customer_limit_exceed`."""

    event_type: ClassVar[str] = "wecom.external_contact.transfer_failed"
    fail_reason: str | None = None


class CorpTagChanged(WeComInboundEvent, frozen=True):
    """Corp tags changed (change_external_tag): `change_type` create/update/delete/shuffle; `tag_id` is
    a tag or group id (`tag_type` tag | tag_group; empty for a whole-library shuffle); `strategy_id`
    for rule-group tags."""

    event_type: ClassVar[str] = "wecom.corp_tag.changed"
    change_type: str
    tag_id: str | None = None
    tag_type: str | None = None
    strategy_id: int | None = None


class GroupChatChanged(WeComInboundEvent, frozen=True):
    """A customer group changed (change_external_chat): `change_type` create/update/dismiss. For
    updates, `update_detail` is add_member/del_member/change_owner/change_name/change_notice;
    `join_scene` (0 invited, 3 QR) and `quit_scene` (0 left, 1 removed) describe member changes."""

    event_type: ClassVar[str] = "wecom.group_chat.changed"
    change_type: str
    chat_id: str
    update_detail: str | None = None
    join_scene: int | None = None
    quit_scene: int | None = None
    member_change_count: int | None = None
    member_changes: list[str] = Field(default_factory=list)
    last_member_version: str | None = None
    current_member_version: str | None = None


class StaffChanged(WeComInboundEvent, frozen=True):
    """The corp's address book changed (change_contact): `change_type` create_user/update_user/
    delete_user/create_party/update_party/delete_party/update_tag. `userid` (and `new_userid` when a
    userid was renamed), `party_id` or `tag_id` say what changed; `fields` holds the changed
    attributes as WeCom sent them (Name, Department, Mobile, Position, ...)."""

    event_type: ClassVar[str] = "wecom.staff.changed"
    change_type: str
    userid: str | None = None
    new_userid: str | None = None
    party_id: str | None = None
    tag_id: str | None = None
    fields: dict[str, str] = Field(default_factory=dict)


class AppMessageReceived(WeComInboundEvent, frozen=True):
    """A staff member sent a message to the self-built app. `content` is the text of text messages;
    `fields` holds the rest (MediaId, PicUrl, ...)."""

    event_type: ClassVar[str] = "wecom.app_message.received"
    msg_id: str
    msg_type: str
    from_userid: str | None = None
    agent_id: str | None = None
    content: str | None = None
    fields: dict[str, str] = Field(default_factory=dict)


WECOM_EVENT_TYPES: tuple[type[WeComInboundEvent], ...] = (
    ExternalContactAdded,
    ExternalContactHalfAdded,
    ExternalContactEdited,
    ExternalContactDeletedByStaff,
    ExternalContactDeletedByCustomer,
    ExternalContactTransferFailed,
    CorpTagChanged,
    GroupChatChanged,
    StaffChanged,
    AppMessageReceived,
)
