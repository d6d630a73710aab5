"""Simulated external-contact APIs: customer reads, remark, unionid, welcome message, mass messages
and transfers (platform-protocols.md §3.2-3.9). Tag APIs are in `api_tags`, contact ways and group
chats in `api_ways`. API-initiated changes fire no callback, as the doc notes."""

from __future__ import annotations

from typing import Any

from scrm.platforms.wecom.errors import ErrCode
from scrm.platforms.wecom.simulator.apis import (
    ApiSpec,
    Call,
    decode_cursor,
    encode_cursor,
    int_field,
    string_list,
)
from scrm.platforms.wecom.simulator.corp import Corp, SimError, Transfer
from scrm.platforms.wecom.simulator.customers import Contact, Follow

ATTACHMENT_TYPES = frozenset({"image", "link", "miniprogram", "video", "file"})


def follow_view(corp: Corp, follow: Follow, *, batch: bool = False) -> dict[str, Any]:
    """`follow_user` items of `get` (tags with names), `follow_info` of batch (tag ids only)."""
    view: dict[str, Any] = {
        "userid": follow.userid,
        "remark": follow.remark,
        "description": follow.description,
        "createtime": follow.createtime,
        "remark_corp_name": follow.remark_corp_name,
        "remark_mobiles": list(follow.remark_mobiles),
        "oper_userid": follow.oper_userid,
        "add_way": follow.add_way,
    }
    if follow.state:
        view["state"] = follow.state
    if batch:
        view["tag_id"] = [tag_id for tag_id in follow.tag_ids if corp.tag(tag_id) is not None]
    else:
        view["tags"] = corp.tag_views(follow.tag_ids)
    return view


def require_contact(corp: Corp, external_userid: Any) -> Contact:
    if not external_userid:
        raise SimError(ErrCode.MISSING_EXTERNAL_USERID)
    contact = corp.customers.contact(str(external_userid))
    if contact is None:
        raise SimError(ErrCode.INVALID_EXTERNAL_USERID)
    return contact


def require_follow(corp: Corp, external_userid: Any, userid: Any) -> Follow:
    """The stored (editable) relation; 40003 unknown member, 40096 unknown customer, 84061 none."""
    corp.require_staff(userid)
    require_contact(corp, external_userid)
    corp.customers.editable(str(external_userid))
    follow = corp.customers.follow(str(external_userid), str(userid))
    if follow is None:
        raise SimError(ErrCode.NO_RELATIONSHIP)
    return follow


def get_follow_user_list(corp: Corp, call: Call) -> dict[str, Any]:
    return {"follow_user": corp.follow_users()}


def list_external_contacts(corp: Corp, call: Call) -> dict[str, Any]:
    """84061 when the member has no customer (WeCom's answer for an empty list)."""
    member = corp.require_staff(call.param("userid"))
    external_userids = corp.customers.external_userids_of(member.userid)
    if not external_userids:
        raise SimError(ErrCode.NO_RELATIONSHIP)
    return {"external_userid": external_userids}


def get_external_contact(corp: Corp, call: Call) -> dict[str, Any]:
    """follow_user pages of `follow_user_page_size` (500) with `next_cursor` while more remain."""
    contact = require_contact(corp, call.param("external_userid"))
    follows = corp.customers.follows(contact.external_userid)
    if not follows:
        raise SimError(ErrCode.NO_RELATIONSHIP)
    (offset,) = decode_cursor(call.param("cursor"), 1)
    size = corp.config.follow_user_page_size
    answer: dict[str, Any] = {
        "external_contact": contact.to_api(),
        "follow_user": [follow_view(corp, item) for item in follows[offset : offset + size]],
    }
    if offset + size < len(follows):
        answer["next_cursor"] = encode_cursor(offset + size)
    return answer


def batch_get_by_user(corp: Corp, call: Call) -> dict[str, Any]:
    """Customers of ≤100 members in member order; the cursor is (member index, position)."""
    userids = string_list(call, "userid_list")
    if not userids:
        raise SimError(ErrCode.EMPTY_PARAMETER, "userid_list missing")
    if len(userids) > 100:
        raise SimError(ErrCode.INVALID_PARAMETER, "userid_list exceeds 100")
    limit = int_field(call, "limit", 50, low=1, high=100)
    member, position = decode_cursor(call.field("cursor"), 2)
    items: list[dict[str, Any]] = []
    while member < len(userids) and len(items) < limit:
        userid = corp.require_staff(userids[member]).userid
        found, following = corp.customers.page_of(userid, position, limit - len(items))
        for external_userid in found:
            contact = corp.customers.contact(external_userid)
            follow = corp.customers.follow(external_userid, userid)
            if contact is not None and follow is not None:
                items.append(
                    {
                        "external_contact": contact.to_api(),
                        "follow_info": follow_view(corp, follow, batch=True),
                    }
                )
        if following is None:
            member, position = member + 1, 0
        else:
            position = following
    answer: dict[str, Any] = {"external_contact_list": items}
    if member < len(userids):
        answer["next_cursor"] = encode_cursor(member, position)
    return answer


def _check_length(call: Call, name: str, limit: int) -> str | None:
    value = call.field(name)
    if value is not None and len(str(value)) > limit:
        raise SimError(ErrCode.INVALID_PARAMETER, f"{name} longer than {limit} characters")
    return None if value is None else str(value)


def remark(corp: Corp, call: Call) -> dict[str, Any]:
    follow = require_follow(corp, call.field("external_userid"), call.field("userid"))
    values = {
        name: _check_length(call, name, limit)
        for name, limit in (("remark", 20), ("description", 150), ("remark_company", 20))
    }
    if values["remark"] is not None:
        follow.remark = values["remark"]
    if values["description"] is not None:
        follow.description = values["description"]
    if values["remark_company"] is not None:
        follow.remark_corp_name = values["remark_company"]
    if call.field("remark_mobiles") is not None:
        follow.remark_mobiles = string_list(call, "remark_mobiles")
    return {}


def unionid_to_external_userid(corp: Corp, call: Call) -> dict[str, Any]:
    """84061 when no member of the corp has this WeChat user as a customer (our choice)."""
    unionid = call.require("unionid")
    external_userid = corp.customers.find_by_unionid(str(unionid))
    if external_userid is None:
        raise SimError(ErrCode.NO_RELATIONSHIP)
    return {"external_userid": external_userid}


def _check_message(call: Call) -> tuple[dict[str, Any] | None, list[dict[str, Any]]]:
    text = call.field("text")
    attachments = call.field("attachments") or []
    if not isinstance(attachments, list) or len(attachments) > 9:
        raise SimError(ErrCode.INVALID_PARAMETER, "at most 9 attachments")
    if any(not isinstance(item, dict) or item.get("msgtype") not in ATTACHMENT_TYPES for item in attachments):
        raise SimError(ErrCode.INVALID_PARAMETER, "invalid attachment msgtype")
    if text is not None and (not isinstance(text, dict) or len(str(text.get("content", "")).encode()) > 4000):
        raise SimError(ErrCode.INVALID_PARAMETER, "text.content longer than 4000 bytes")
    if not (text and text.get("content")) and not attachments:
        raise SimError(ErrCode.EMPTY_PARAMETER, "text and attachments are both empty")
    return text, attachments


def send_welcome_msg(corp: Corp, call: Call) -> dict[str, Any]:
    """41049 missing code; 41050 unknown, used or older than 20 s; 41051 customer chatted first."""
    code = call.field("welcome_code")
    if not code:
        raise SimError(ErrCode.MISSING_WELCOME_CODE)
    welcome = corp.welcome_codes.get(str(code))
    now = corp.now()
    if welcome is None or welcome.used or welcome.expires_at <= now:
        raise SimError(ErrCode.INVALID_WELCOME_CODE)
    if welcome.chatted:
        raise SimError(ErrCode.CUSTOMER_ALREADY_CHATTING)
    text, attachments = _check_message(call)
    welcome.used = True
    corp.welcome_messages.append(
        {
            "welcome_code": welcome.code,
            "userid": welcome.userid,
            "external_userid": welcome.external_userid,
            "text": text,
            "attachments": attachments,
            "issued_at": welcome.issued_at,
            "received_at": now,
            "latency_seconds": round(now - welcome.issued_at, 6),
        }
    )
    return {}


def add_msg_template(corp: Corp, call: Call) -> dict[str, Any]:
    """Targets: the listed customers (those without a relation to `sender` go to fail_list), or all
    of the sender's customers; `tag_filter` keeps customers carrying any listed tag. 41048 when
    nobody is left. Results stay "unsent" until `POST /_sim/groupmsg/confirm`."""
    chat_type = call.field("chat_type") or "single"
    if chat_type not in ("single", "group"):
        raise SimError(ErrCode.INVALID_PARAMETER, "invalid chat_type")
    sender = call.field("sender")
    if sender:
        corp.require_staff(sender)
    text, attachments = _check_message(call)
    wanted = string_list(call, "external_userid")
    if len(wanted) > 10000:
        raise SimError(ErrCode.INVALID_PARAMETER, "external_userid exceeds 10000")
    tag_filter = call.field("tag_filter") or {}
    tags = {str(tag) for group in tag_filter.get("group_list", []) for tag in group.get("tag_list", [])}
    targets: list[tuple[str, str]] = []
    fail_list: list[str] = []
    if chat_type == "group":
        chats = [chat for chat in corp.group_chats.values() if not sender or chat.owner == sender]
        wanted_chats = set(string_list(call, "chat_id_list"))
        targets = [
            (chat.owner, chat.chat_id) for chat in chats if not wanted_chats or chat.chat_id in wanted_chats
        ]
    elif wanted:
        for external_userid in wanted:
            follows = [
                item
                for item in corp.customers.follows(external_userid)
                if not sender or item.userid == sender
            ]
            if follows:
                targets.append((follows[0].userid, external_userid))
            else:
                fail_list.append(external_userid)
    elif sender:
        targets = [(str(sender), item) for item in corp.customers.external_userids_of(str(sender))]
    else:
        raise SimError(ErrCode.EMPTY_PARAMETER, "external_userid and sender are both empty")
    if tags and chat_type == "single":
        targets = [
            (userid, external_userid)
            for userid, external_userid in targets
            if tags.intersection((corp.customers.follow(external_userid, userid) or Follow("", 0)).tag_ids)
        ]
    if not targets:
        raise SimError(ErrCode.NO_SENDABLE_CUSTOMER)
    msgid = corp.new_id("msg", 32)
    corp.msg_templates[msgid] = {
        "msgid": msgid,
        "chat_type": chat_type,
        "sender": sender,
        "text": text,
        "attachments": attachments,
        "create_time": corp.now_int(),
        "results": {target: {"status": 0, "send_time": 0} for target in targets},
    }
    return {"msgid": msgid, "fail_list": fail_list}


def get_groupmsg_send_result(corp: Corp, call: Call) -> dict[str, Any]:
    msgid = call.field("msgid")
    if not msgid:
        raise SimError(ErrCode.MISSING_MSGID)
    template = corp.msg_templates.get(str(msgid))
    if template is None:
        raise SimError(ErrCode.INVALID_MSGID)
    userid = corp.require_staff(call.field("userid")).userid
    limit = int_field(call, "limit", 500, low=1, high=1000)
    (offset,) = decode_cursor(call.field("cursor"), 1)
    rows = []
    for (sender, target), result in template["results"].items():
        if sender == userid:
            key = "chat_id" if template["chat_type"] == "group" else "external_userid"
            rows.append({key: target, "userid": sender, **result})
    answer: dict[str, Any] = {"send_list": rows[offset : offset + limit]}
    if offset + limit < len(rows):
        answer["next_cursor"] = encode_cursor(offset + limit)
    return answer


def transfer_customer(corp: Corp, call: Call) -> dict[str, Any]:
    """Per customer: 40131 handover is not following them, 40129 already being transferred,
    40130 handover == takeover, else 0 (scheduled; finish with `POST /_sim/transfers/complete`)."""
    handover = corp.require_staff(call.field("handover_userid")).userid
    takeover = corp.require_staff(call.field("takeover_userid")).userid
    external_userids = string_list(call, "external_userid")
    if not external_userids:
        raise SimError(ErrCode.EMPTY_PARAMETER, "external_userid missing")
    if len(external_userids) > 100:
        raise SimError(ErrCode.INVALID_PARAMETER, "external_userid exceeds 100")
    _check_length(call, "transfer_success_msg", 200)
    results = []
    for external_userid in external_userids:
        current = corp.transfers.get(external_userid)
        if handover == takeover:
            errcode = ErrCode.HANDOVER_EQUALS_TAKEOVER
        elif corp.customers.follow(external_userid, handover) is None:
            errcode = ErrCode.HANDOVER_NOT_FOLLOWER
        elif current is not None and current.status == 2:
            errcode = ErrCode.CUSTOMER_IN_TRANSFER
        else:
            errcode = ErrCode.OK
            corp.transfers[external_userid] = Transfer(handover, takeover, external_userid, 2, corp.now_int())
        results.append({"external_userid": external_userid, "errcode": int(errcode)})
    return {"customer": results}


def transfer_result(corp: Corp, call: Call) -> dict[str, Any]:
    handover = corp.require_staff(call.field("handover_userid")).userid
    takeover = corp.require_staff(call.field("takeover_userid")).userid
    (offset,) = decode_cursor(call.field("cursor"), 1)
    rows = [
        {"external_userid": item.external_userid, "status": item.status, "takeover_time": item.takeover_time}
        for item in corp.transfers.values()
        if item.handover_userid == handover and item.takeover_userid == takeover
    ]
    answer: dict[str, Any] = {"customer": rows[offset : offset + 1000]}
    if offset + 1000 < len(rows):
        answer["next_cursor"] = encode_cursor(offset + 1000)
    return answer


APIS: dict[str, ApiSpec] = {
    "externalcontact/get_follow_user_list": ApiSpec("GET", get_follow_user_list),
    "externalcontact/list": ApiSpec("GET", list_external_contacts),
    "externalcontact/get": ApiSpec("GET", get_external_contact),
    "externalcontact/batch/get_by_user": ApiSpec("POST", batch_get_by_user),
    "externalcontact/remark": ApiSpec("POST", remark),
    "externalcontact/unionid_to_external_userid": ApiSpec("POST", unionid_to_external_userid),
    "externalcontact/send_welcome_msg": ApiSpec("POST", send_welcome_msg),
    "externalcontact/add_msg_template": ApiSpec("POST", add_msg_template),
    "externalcontact/get_groupmsg_send_result": ApiSpec("POST", get_groupmsg_send_result),
    "externalcontact/transfer_customer": ApiSpec("POST", transfer_customer),
    "externalcontact/transfer_result": ApiSpec("POST", transfer_result),
}
