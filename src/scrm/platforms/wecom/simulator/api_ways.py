"""Simulated 「联系我」 contact ways (platform-protocols.md §3.1) and customer groups (§3.7)."""

from __future__ import annotations

import uuid
from typing import Any

from scrm.platforms.wecom.errors import ErrCode
from scrm.platforms.wecom.simulator.apis import ApiSpec, Call, decode_cursor, encode_cursor, int_field
from scrm.platforms.wecom.simulator.corp import Corp, GroupChat, SimError

MAX_WAY_USERS = 100
MAX_API_CONTACT_WAYS = 500_000
#: The fields a contact way stores and get_contact_way answers (config_id and qr_code aside).
WAY_FIELDS = (
    "type",
    "scene",
    "style",
    "remark",
    "skip_verify",
    "state",
    "user",
    "party",
    "is_temp",
    "expires_in",
    "chat_expires_in",
    "unionid",
    "is_exclusive",
    "conclusions",
)


def way_users(corp: Corp, way: dict[str, Any]) -> list[str]:
    """The way's members, departments expanded, in order and without duplicates."""
    users = list(way.get("user") or [])
    parties = set(way.get("party") or [])
    users.extend(member.userid for member in corp.staff.values() if parties.intersection(member.department))
    return list(dict.fromkeys(users))


def _validate(corp: Corp, call: Call, way: dict[str, Any]) -> None:
    """Check the merged way; raises the documented contact-way codes."""
    style = way.get("style")
    if style is not None and int(style) not in ((1, 2, 3) if way["type"] == 1 else (1, 2)):
        raise SimError(ErrCode.INVALID_CONTACT_WAY_STYLE)
    for name in ("remark", "state"):
        if len(str(way.get(name) or "")) > 30:
            raise SimError(ErrCode.INVALID_PARAMETER, f"{name} longer than 30 characters")
    users, parties = way.get("user") or [], way.get("party") or []
    if way["type"] == 1 and (len(users) != 1 or parties):
        raise SimError(ErrCode.INVALID_PARAMETER, "a single-member way needs exactly one user")
    if way["type"] == 2 and not users and not parties:
        raise SimError(ErrCode.EMPTY_PARAMETER, "user or party missing")
    for userid in users:
        if not corp.require_staff(userid).customer_contact:
            raise SimError(ErrCode.NO_EXTERNAL_CONTACT_PERMISSION, f"{userid} has no 客户联系 permission")
    if any(int(party) not in corp.departments for party in parties):
        raise SimError(60123, "invalid party id")
    if len(way_users(corp, way)) > MAX_WAY_USERS:
        raise SimError(ErrCode.CONTACT_WAY_USER_LIMIT)
    if way.get("is_temp") and way["type"] != 1:
        raise SimError(ErrCode.INVALID_PARAMETER, "temporary ways are single-member only")
    if int(way.get("expires_in") or 0) > 14 * 86400 or int(way.get("chat_expires_in") or 0) > 14 * 86400:
        raise SimError(ErrCode.INVALID_PARAMETER, "expires_in longer than 14 days")


def _merge(call: Call, way: dict[str, Any]) -> dict[str, Any]:
    merged = dict(way)
    for name in WAY_FIELDS:
        if name in ("type", "scene"):
            continue
        if call.field(name) is not None:
            merged[name] = call.field(name)
    merged["user"] = [str(item) for item in merged.get("user") or []]
    merged["party"] = [int(item) for item in merged.get("party") or []]
    return merged


def add_contact_way(corp: Corp, call: Call) -> dict[str, Any]:
    way_type, scene = call.field("type"), call.field("scene")
    if way_type is None:
        raise SimError(ErrCode.MISSING_CONTACT_WAY_TYPE)
    if way_type not in (1, 2):
        raise SimError(ErrCode.INVALID_CONTACT_WAY_TYPE)
    if scene is None:
        raise SimError(ErrCode.MISSING_CONTACT_WAY_SCENE)
    if scene not in (1, 2):
        raise SimError(ErrCode.INVALID_CONTACT_WAY_SCENE)
    if len(corp.contact_ways) >= MAX_API_CONTACT_WAYS:
        raise SimError(ErrCode.CONTACT_WAY_QUOTA)
    way = _merge(
        call,
        {"type": way_type, "scene": scene, "skip_verify": True, "state": "", "remark": "", "is_temp": False},
    )
    if way.get("is_temp"):
        way.setdefault("expires_in", 7 * 86400)
        way.setdefault("chat_expires_in", 86400)
    _validate(corp, call, way)
    config_id = uuid.uuid4().hex
    way.update(config_id=config_id, _create_time=corp.now_int())
    if scene == 2:
        way["qr_code"] = f"{call.base_url.rstrip('/')}/_sim/qr/{config_id}.png"
    corp.contact_ways[config_id] = way
    answer = {"config_id": config_id}
    if scene == 2:
        answer["qr_code"] = way["qr_code"]
    return answer


def require_way(corp: Corp, config_id: Any) -> dict[str, Any]:
    if not config_id:
        raise SimError(ErrCode.MISSING_CONFIG_ID)
    way = corp.contact_ways.get(str(config_id))
    if way is None:
        raise SimError(ErrCode.INVALID_CONFIG_ID)
    return way


def way_view(way: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in way.items() if not key.startswith("_")}


def get_contact_way(corp: Corp, call: Call) -> dict[str, Any]:
    return {"contact_way": way_view(require_way(corp, call.field("config_id")))}


def update_contact_way(corp: Corp, call: Call) -> dict[str, Any]:
    """Only the given fields change; `user`/`party` given replace the lists."""
    way = require_way(corp, call.field("config_id"))
    merged = _merge(call, way)
    _validate(corp, call, merged)
    way.update(merged)
    return {}


def del_contact_way(corp: Corp, call: Call) -> dict[str, Any]:
    way = require_way(corp, call.field("config_id"))
    del corp.contact_ways[way["config_id"]]
    return {}


def list_contact_way(corp: Corp, call: Call) -> dict[str, Any]:
    """Ways created in [start_time, end_time] (default the last 90 days), oldest first."""
    now = corp.now_int()
    start = int_field(call, "start_time", now - 90 * 86400, low=0, high=1 << 40)
    end = int_field(call, "end_time", now, low=0, high=1 << 40)
    limit = int_field(call, "limit", 100, low=1, high=1000)
    (offset,) = decode_cursor(call.field("cursor"), 1)
    ways = [way["config_id"] for way in corp.contact_ways.values() if start <= way["_create_time"] <= end]
    answer: dict[str, Any] = {"contact_way": [{"config_id": item} for item in ways[offset : offset + limit]]}
    if offset + limit < len(ways):
        answer["next_cursor"] = encode_cursor(offset + limit)
    return answer


def chat_view(chat: GroupChat, *, need_name: bool) -> dict[str, Any]:
    members = []
    for member in chat.members:
        view = {key: value for key, value in member.items() if key not in ("name", "group_nickname")}
        if need_name:
            view.update(name=member.get("name", ""), group_nickname=member.get("group_nickname", ""))
        members.append(view)
    return {
        "chat_id": chat.chat_id,
        "name": chat.name,
        "owner": chat.owner,
        "create_time": chat.create_time,
        "notice": chat.notice,
        "member_list": members,
        "admin_list": [{"userid": userid} for userid in chat.admin_list],
        "member_version": str(chat.member_version),
    }


def groupchat_list(corp: Corp, call: Call) -> dict[str, Any]:
    """`limit` is required (1..1000); owner_filter.userid_list ≤100."""
    if call.field("limit") is None:
        raise SimError(ErrCode.EMPTY_PARAMETER, "limit missing")
    limit = int_field(call, "limit", 100, low=1, high=1000)
    status = int_field(call, "status_filter", 0, low=0, high=3)
    owner_filter = call.field("owner_filter") or {}
    owners = set(owner_filter.get("userid_list") or [])
    if len(owners) > 100:
        raise SimError(ErrCode.INVALID_PARAMETER, "userid_list exceeds 100")
    (offset,) = decode_cursor(call.field("cursor"), 1)
    chats = [
        chat
        for chat in corp.group_chats.values()
        if (not owners or chat.owner in owners) and (status == 0 or chat.status == status)
    ]
    answer: dict[str, Any] = {
        "group_chat_list": [
            {"chat_id": chat.chat_id, "status": chat.status} for chat in chats[offset : offset + limit]
        ]
    }
    if offset + limit < len(chats):
        answer["next_cursor"] = encode_cursor(offset + limit)
    return answer


def groupchat_get(corp: Corp, call: Call) -> dict[str, Any]:
    chat_id = call.field("chat_id")
    if not chat_id:
        raise SimError(ErrCode.EMPTY_PARAMETER, "chat_id missing")
    chat = corp.group_chats.get(str(chat_id))
    if chat is None:
        raise SimError(40050, "invalid chatid")
    return {"group_chat": chat_view(chat, need_name=bool(call.field("need_name", 0)))}


APIS: dict[str, ApiSpec] = {
    "externalcontact/add_contact_way": ApiSpec("POST", add_contact_way),
    "externalcontact/get_contact_way": ApiSpec("POST", get_contact_way),
    "externalcontact/update_contact_way": ApiSpec("POST", update_contact_way),
    "externalcontact/del_contact_way": ApiSpec("POST", del_contact_way),
    "externalcontact/list_contact_way": ApiSpec("POST", list_contact_way),
    "externalcontact/groupchat/list": ApiSpec("POST", groupchat_list),
    "externalcontact/groupchat/get": ApiSpec("POST", groupchat_get),
}
