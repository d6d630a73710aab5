"""Control API for what admins and members do in WeCom's own apps, each firing its callback:
corp tags (change_external_tag), customer groups (change_external_chat), members (change_contact)."""

from __future__ import annotations

from typing import Any

import pydantic
from fastapi import APIRouter, HTTPException, Request

from scrm.platforms.wecom.simulator.api_tags import create_tags, delete_tags, edit_tag
from scrm.platforms.wecom.simulator.callbacks import FieldValue
from scrm.platforms.wecom.simulator.config import StaffSeed
from scrm.platforms.wecom.simulator.control import sim_of
from scrm.platforms.wecom.simulator.corp import Corp, GroupChat, SimError, Staff
from scrm.platforms.wecom.simulator.customers import random_id

router = APIRouter(prefix="/_sim")


def _unprocessable(error: SimError) -> HTTPException:
    return HTTPException(422, {"errcode": error.errcode, "detail": error.detail})


class TagCreate(pydantic.BaseModel):
    group_id: str | None = None
    group_name: str | None = None
    order: int | None = None
    tags: list[str | dict[str, Any]]


@router.post("/tags/create")
async def console_create_tags(body: TagCreate, request: Request) -> dict[str, Any]:
    """Events: create/tag_group for a new group, then create/tag for each tag."""
    simulator = sim_of(request)
    tags = [item if isinstance(item, dict) else {"name": item} for item in body.tags]
    with simulator.corp.lock:
        try:
            group, new_tags, group_is_new = create_tags(
                simulator.corp,
                group_id=body.group_id,
                group_name=body.group_name,
                tags=tags,
                order=body.order,
            )
        except SimError as error:
            raise _unprocessable(error) from error
        if group_is_new:
            simulator.emit_tag("create", group.group_id, "tag_group")
        for tag in new_tags:
            simulator.emit_tag("create", tag.id, "tag")
    return {"group_id": group.group_id, "tag_ids": [tag.id for tag in new_tags]}


class TagUpdate(pydantic.BaseModel):
    id: str
    name: str | None = None
    order: int | None = None


@router.post("/tags/update")
async def console_update_tag(body: TagUpdate, request: Request) -> dict[str, Any]:
    simulator = sim_of(request)
    with simulator.corp.lock:
        try:
            tag_type = edit_tag(simulator.corp, body.id, body.name, body.order)
        except SimError as error:
            raise _unprocessable(error) from error
        record = simulator.emit_tag("update", body.id, tag_type)
    return {"callback_id": record["id"], "tag_type": tag_type}


class TagDelete(pydantic.BaseModel):
    tag_ids: list[str] = pydantic.Field(default_factory=list)
    group_ids: list[str] = pydantic.Field(default_factory=list)


@router.post("/tags/delete")
async def console_delete_tags(body: TagDelete, request: Request) -> dict[str, Any]:
    simulator = sim_of(request)
    with simulator.corp.lock:
        try:
            deleted = delete_tags(simulator.corp, body.tag_ids, body.group_ids)
        except SimError as error:
            raise _unprocessable(error) from error
        for tag_id, tag_type in deleted:
            simulator.emit_tag("delete", tag_id, tag_type)
    return {"deleted": [{"id": tag_id, "tag_type": tag_type} for tag_id, tag_type in deleted]}


class TagShuffle(pydantic.BaseModel):
    group_id: str = ""


@router.post("/tags/shuffle")
async def console_shuffle_tags(body: TagShuffle, request: Request) -> dict[str, Any]:
    """Reordering in the console: shuffle with the group's id (empty: the groups themselves)."""
    simulator = sim_of(request)
    record = simulator.emit("change_external_tag", "shuffle", [("Id", body.group_id)])
    return {"callback_id": record["id"]}


# --- customer groups ------------------------------------------------------------------------------


def _member(corp: Corp, member_id: str, invitor: str, join_scene: int) -> dict[str, Any]:
    if member_id in corp.staff:
        return {
            "userid": member_id,
            "type": 1,
            "join_time": corp.now_int(),
            "join_scene": join_scene,
            "invitor": {"userid": invitor},
            "group_nickname": "",
            "name": corp.staff[member_id].name,
        }
    contact = corp.customers.contact(member_id)
    if contact is None:
        raise HTTPException(404, f"unknown member {member_id}")
    return {
        "userid": member_id,
        "type": 2,
        "unionid": contact.unionid,
        "join_time": corp.now_int(),
        "join_scene": join_scene,
        "invitor": {"userid": invitor},
        "group_nickname": "",
        "name": contact.name,
    }


class ChatCreate(pydantic.BaseModel):
    owner: str
    name: str = ""
    notice: str = ""
    members: list[str] = pydantic.Field(default_factory=list)


@router.post("/groupchat/create")
async def create_group_chat(body: ChatCreate, request: Request) -> dict[str, Any]:
    simulator = sim_of(request)
    corp = simulator.corp
    with corp.lock:
        if body.owner not in corp.staff:
            raise HTTPException(404, "unknown owner")
        chat = GroupChat(
            chat_id=random_id("wr", 30),
            name=body.name,
            owner=body.owner,
            create_time=corp.now_int(),
            notice=body.notice,
        )
        chat.members = [
            _member(corp, member_id, body.owner, 1)
            for member_id in dict.fromkeys([body.owner, *body.members])
        ]
        corp.group_chats[chat.chat_id] = chat
        record = simulator.emit_chat("create", chat.chat_id)
    return {"chat_id": chat.chat_id, "callback_id": record["id"]}


class ChatUpdate(pydantic.BaseModel):
    chat_id: str
    add_member: list[str] = pydantic.Field(default_factory=list)
    del_member: list[str] = pydantic.Field(default_factory=list)
    join_scene: int = 3
    quit_scene: int = 0
    name: str | None = None
    notice: str | None = None
    owner: str | None = None


@router.post("/groupchat/update")
async def update_group_chat(body: ChatUpdate, request: Request) -> dict[str, Any]:
    """One update event per kind of change (UpdateDetail add_member, del_member, change_owner,
    change_name, change_notice); member changes carry counts, the list and member versions."""
    simulator = sim_of(request)
    corp = simulator.corp
    records = []
    with corp.lock:
        chat = corp.group_chats.get(body.chat_id)
        if chat is None:
            raise HTTPException(404, "unknown chat_id")
        for detail, ids in (("add_member", body.add_member), ("del_member", body.del_member)):
            if not ids:
                continue
            last = chat.member_version
            if detail == "add_member":
                chat.members += [_member(corp, member_id, chat.owner, body.join_scene) for member_id in ids]
                scene: tuple[str, FieldValue] = ("JoinScene", body.join_scene)
            else:
                chat.members = [member for member in chat.members if member["userid"] not in ids]
                scene = ("QuitScene", body.quit_scene)
            chat.member_version += 1
            records.append(
                simulator.emit_chat(
                    "update",
                    chat.chat_id,
                    ("UpdateDetail", detail),
                    scene,
                    ("MemChangeCnt", len(ids)),
                    ("MemChangeList", list(ids)),
                    ("LastMemVer", str(last)),
                    ("CurMemVer", str(chat.member_version)),
                )
            )
        if body.owner is not None:
            if body.owner not in corp.staff:
                raise HTTPException(404, "unknown owner")
            chat.owner = body.owner
            records.append(simulator.emit_chat("update", chat.chat_id, ("UpdateDetail", "change_owner")))
        if body.name is not None:
            chat.name = body.name
            records.append(simulator.emit_chat("update", chat.chat_id, ("UpdateDetail", "change_name")))
        if body.notice is not None:
            chat.notice = body.notice
            records.append(simulator.emit_chat("update", chat.chat_id, ("UpdateDetail", "change_notice")))
    return {"callback_ids": [record["id"] for record in records]}


class ChatDismiss(pydantic.BaseModel):
    chat_id: str


@router.post("/groupchat/dismiss")
async def dismiss_group_chat(body: ChatDismiss, request: Request) -> dict[str, Any]:
    simulator = sim_of(request)
    with simulator.corp.lock:
        if simulator.corp.group_chats.pop(body.chat_id, None) is None:
            raise HTTPException(404, "unknown chat_id")
        record = simulator.emit_chat("dismiss", body.chat_id)
    return {"callback_id": record["id"]}


# --- members --------------------------------------------------------------------------------------


@router.post("/staff/create")
async def create_staff(body: StaffSeed, request: Request) -> dict[str, Any]:
    simulator = sim_of(request)
    with simulator.corp.lock:
        if body.userid in simulator.corp.staff:
            raise HTTPException(409, "userid exists")
        member = Staff.from_seed(body)
        simulator.corp.staff[member.userid] = member
        record = simulator.emit_staff("create_user", member)
    return {"callback_id": record["id"]}


class StaffUpdate(pydantic.BaseModel):
    userid: str
    name: str | None = None
    department: list[int] | None = None
    customer_contact: bool | None = None
    position: str | None = None
    mobile: str | None = None


@router.post("/staff/update")
async def update_staff(body: StaffUpdate, request: Request) -> dict[str, Any]:
    simulator = sim_of(request)
    with simulator.corp.lock:
        member = simulator.corp.staff.get(body.userid)
        if member is None:
            raise HTTPException(404, "unknown userid")
        for name, value in body.model_dump(exclude={"userid"}, exclude_none=True).items():
            setattr(member, name, value)
        record = simulator.emit_staff("update_user", member)
    return {"callback_id": record["id"]}


class StaffDelete(pydantic.BaseModel):
    userid: str


@router.post("/staff/delete")
async def delete_staff(body: StaffDelete, request: Request) -> dict[str, Any]:
    """The member leaves; their customer relations stay (WeCom keeps them for reassignment)."""
    simulator = sim_of(request)
    with simulator.corp.lock:
        member = simulator.corp.staff.pop(body.userid, None)
        if member is None:
            raise HTTPException(404, "unknown userid")
        record = simulator.emit_staff("delete_user", member)
    return {"callback_id": record["id"]}
