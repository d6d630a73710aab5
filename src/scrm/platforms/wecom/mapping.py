"""WeCom callbacks -> canonical events. Pure: no I/O, no clock, no database.

`map_callback` returns [] for callbacks we deliberately do not act on (unknown events and change
types); the handler marks those inbox rows ignored. A known event missing a field it cannot do
without raises `MappingError`; the handler marks that row failed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from scrm.core.events import Event
from scrm.platforms.canonical import (
    AppMessageReceived,
    CorpTagChanged,
    ExternalContactAdded,
    ExternalContactDeletedByCustomer,
    ExternalContactDeletedByStaff,
    ExternalContactEdited,
    ExternalContactHalfAdded,
    ExternalContactTransferFailed,
    GroupChatChanged,
    StaffChanged,
)
from scrm.platforms.wecom.payloads import WeComCallback

# Envelope fields, repeated in every callback; not part of `StaffChanged.fields`.
_COMMON_FIELDS = frozenset({"ToUserName", "FromUserName", "CreateTime", "MsgType", "Event", "ChangeType"})
_MESSAGE_COMMON_FIELDS = frozenset(
    {"ToUserName", "FromUserName", "CreateTime", "MsgType", "MsgId", "AgentID"}
)
MESSAGE_TYPES = frozenset({"text", "image", "voice", "video", "location", "link", "file"})
TAG_CHANGE_TYPES = frozenset({"create", "update", "delete", "shuffle"})
CHAT_CHANGE_TYPES = frozenset({"create", "update", "dismiss"})
CONTACT_CHANGE_TYPES = frozenset(
    {
        "create_user",
        "update_user",
        "delete_user",
        "create_party",
        "update_party",
        "delete_party",
        "update_tag",
    }
)


class MappingError(ValueError):
    """A known callback lacks a field its canonical event needs."""


@dataclass(frozen=True)
class MappingContext:
    """Where the callback came from: its tenant, connection and inbox row."""

    tenant_id: int
    connection_id: int
    inbound_message_id: int


def _required(callback: WeComCallback, attribute: str, tag: str) -> str:
    value = getattr(callback, attribute)
    if not value:
        raise MappingError(f"{callback.event}/{callback.change_type} without <{tag}>")
    return str(value)


def _common(callback: WeComCallback, context: MappingContext) -> dict[str, Any]:
    return {
        "tenant_id": context.tenant_id,
        "connection_id": context.connection_id,
        "inbound_message_id": context.inbound_message_id,
        "corp_id": callback.corp_id or "",
        "occurred_at": datetime.fromtimestamp(callback.create_time, UTC),
    }


def _contact_people(callback: WeComCallback) -> dict[str, Any]:
    return {
        "userid": _required(callback, "user_id", "UserID"),
        "external_userid": _required(callback, "external_user_id", "ExternalUserID"),
    }


def _external_contact(callback: WeComCallback, common: dict[str, Any]) -> list[Event]:
    change = callback.change_type
    if change == "add_external_contact":
        return [
            ExternalContactAdded(
                **common,
                **_contact_people(callback),
                state=callback.state,
                welcome_code=callback.welcome_code,
            )
        ]
    if change == "add_half_external_contact":
        return [
            ExternalContactHalfAdded(
                **common,
                **_contact_people(callback),
                state=callback.state,
                welcome_code=callback.welcome_code,
            )
        ]
    if change == "edit_external_contact":
        return [ExternalContactEdited(**common, **_contact_people(callback))]
    if change == "del_external_contact":
        return [ExternalContactDeletedByStaff(**common, **_contact_people(callback), source=callback.source)]
    if change == "del_follow_user":
        return [ExternalContactDeletedByCustomer(**common, **_contact_people(callback))]
    if change == "transfer_fail":
        return [
            ExternalContactTransferFailed(
                **common, **_contact_people(callback), fail_reason=callback.fail_reason
            )
        ]
    return []


def _external_tag(callback: WeComCallback, common: dict[str, Any]) -> list[Event]:
    if callback.change_type not in TAG_CHANGE_TYPES:
        return []
    return [
        CorpTagChanged(
            **common,
            change_type=callback.change_type,
            tag_id=callback.id,
            tag_type=callback.tag_type,
            strategy_id=callback.strategy_id,
        )
    ]


def _external_chat(callback: WeComCallback, common: dict[str, Any]) -> list[Event]:
    if callback.change_type not in CHAT_CHANGE_TYPES:
        return []
    return [
        GroupChatChanged(
            **common,
            change_type=callback.change_type,
            chat_id=_required(callback, "chat_id", "ChatId"),
            update_detail=callback.update_detail,
            join_scene=callback.join_scene,
            quit_scene=callback.quit_scene,
            member_change_count=callback.mem_change_cnt,
            member_changes=list(callback.mem_change_list),
            last_member_version=callback.last_mem_ver,
            current_member_version=callback.cur_mem_ver,
        )
    ]


def _contact(callback: WeComCallback, common: dict[str, Any]) -> list[Event]:
    change = callback.change_type
    if change not in CONTACT_CHANGE_TYPES:
        return []
    if change.endswith("_user"):
        _required(callback, "user_id", "UserID")
    elif change.endswith("_party"):
        _required(callback, "id", "Id")
    else:
        _required(callback, "tag_id", "TagId")
    return [
        StaffChanged(
            **common,
            change_type=change,
            userid=callback.user_id,
            new_userid=callback.new_user_id,
            party_id=callback.id if change.endswith("_party") else None,
            tag_id=callback.tag_id,
            fields={key: value for key, value in callback.fields.items() if key not in _COMMON_FIELDS},
        )
    ]


_EVENT_MAPPERS: dict[str, Callable[[WeComCallback, dict[str, Any]], list[Event]]] = {
    "change_external_contact": _external_contact,
    "change_external_tag": _external_tag,
    "change_external_chat": _external_chat,
    "change_contact": _contact,
}


def map_callback(callback: WeComCallback, context: MappingContext) -> list[Event]:
    """The canonical events `callback` means ([] when we do not act on it)."""
    common = _common(callback, context)
    if callback.msg_type == "event":
        mapper = _EVENT_MAPPERS.get(callback.event or "")
        return mapper(callback, common) if mapper else []
    if callback.msg_type in MESSAGE_TYPES and callback.msg_id:
        return [
            AppMessageReceived(
                **common,
                msg_id=callback.msg_id,
                msg_type=callback.msg_type,
                from_userid=callback.from_user_name,
                agent_id=callback.agent_id,
                content=callback.content if callback.msg_type == "text" else None,
                fields={
                    key: value
                    for key, value in callback.fields.items()
                    if key not in _MESSAGE_COMMON_FIELDS and key != "Content"
                },
            )
        ]
    return []


def describe(callback: WeComCallback) -> str:
    """A short label for logs and the inbox row's note: ``event/change_type`` or the message type."""
    if callback.msg_type == "event":
        return f"{callback.event}/{callback.change_type}" if callback.change_type else str(callback.event)
    return str(callback.msg_type or callback.info_type)
