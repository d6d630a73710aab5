"""The control API under /_sim/: what customers do (scan, delete, edit), the simulator's knobs
(faults, rate limits, clock, tokens) and what it observed (requests, callbacks, welcome messages).

Choices where WeCom's behaviour is not documented:
- A multi-member way assigns the scan to a random member among the way's users (departments
  expanded) who have 客户联系, from the seeded generator; `userid` in the scan forces one.
- A `state` scan picks the most recently created way with that state.
- A unionid seen before is the same WeChat user: the same external_userid in this corp. If that
  person already follows the chosen member, nothing changes and no callback is sent (WeCom fires
  add_external_contact only for a new relation, e.g. after a deletion); the answer says
  `"already_following": true` and carries no welcome_code.
- Editing only a customer's name (WeChat nickname) fires nothing; remark/description/tag edits fire
  edit_external_contact for each affected member.
"""

from __future__ import annotations

from typing import Any

import pydantic
from fastapi import APIRouter, HTTPException, Request

from scrm.platforms.wecom.simulator.api_ways import way_users
from scrm.platforms.wecom.simulator.corp import Corp, WelcomeCode
from scrm.platforms.wecom.simulator.customers import Contact, Follow, random_id, random_name
from scrm.platforms.wecom.simulator.gateway import FaultSpec
from scrm.platforms.wecom.simulator.runtime import Simulator

router = APIRouter(prefix="/_sim")


def sim_of(request: Request) -> Simulator:
    simulator: Simulator = request.app.state.simulator
    return simulator


class ScanRequest(pydantic.BaseModel):
    state: str | None = None
    config_id: str | None = None
    name: str | None = None
    unionid: str | None = None
    gender: int | None = None
    userid: str | None = None
    issue_welcome_code: bool = True
    customer_chatted: bool = False
    half: bool = False


def _find_way(corp: Corp, body: ScanRequest) -> dict[str, Any]:
    if body.config_id:
        way = corp.contact_ways.get(body.config_id)
    elif body.state is not None:
        matching = [way for way in corp.contact_ways.values() if way.get("state") == body.state]
        way = max(matching, key=lambda item: item["_create_time"]) if matching else None
    else:
        raise HTTPException(422, "state or config_id is required")
    if way is None:
        raise HTTPException(404, "no contact way with that config_id/state")
    return way


def new_contact(corp: Corp, name: str | None, unionid: str | None, gender: int | None = None) -> Contact:
    external_userid = random_id("wm", 32)
    return Contact(
        external_userid=external_userid,
        name=name or random_name(corp.rng),
        unionid=unionid or random_id("ow", 28),
        gender=gender if gender is not None else corp.rng.choice((0, 1, 2)),
        avatar=f"https://wework.qpic.cn/sim/{external_userid}/0",
    )


def person(corp: Corp, name: str | None, unionid: str | None, gender: int | None = None) -> Contact:
    """The stored contact for this WeChat user (by unionid), or a new one."""
    found = corp.customers.find_by_unionid(unionid) if unionid else None
    contact = corp.customers.editable(found) if found else None
    if contact is None:
        contact = new_contact(corp, name, unionid, gender)
        corp.customers.add_contact(contact)
    return contact


@router.post("/scan")
async def scan(body: ScanRequest, request: Request) -> dict[str, Any]:
    """A WeChat user scans a contact way's QR code: relation, welcome code, callback."""
    simulator = sim_of(request)
    corp = simulator.corp
    with corp.lock:
        way = _find_way(corp, body)
        if way.get("is_temp") and way.get("_used"):
            raise HTTPException(409, "a temporary contact way is used once")
        candidates = [
            userid
            for userid in way_users(corp, way)
            if userid in corp.staff and corp.staff[userid].customer_contact
        ]
        if not candidates:
            raise HTTPException(409, "no member of this way has 客户联系")
        if body.userid is not None:
            if body.userid not in candidates:
                raise HTTPException(422, "userid is not a member of this way")
            userid = body.userid
        else:
            userid = candidates[0] if way["type"] == 1 else corp.rng.choice(candidates)
        contact = person(corp, body.name, body.unionid, body.gender)
        external_userid = contact.external_userid
        if corp.customers.follow(external_userid, userid) is not None:
            return {
                "external_userid": external_userid,
                "userid": userid,
                "welcome_code": None,
                "already_following": True,
                "callback_id": None,
            }
        now = corp.now()
        state = str(way.get("state") or "")
        corp.customers.add_follow(
            external_userid,
            Follow(userid=userid, createtime=int(now), state=state, add_way=1, oper_userid=external_userid),
        )
        way["_used"] = True
        code = None
        if body.issue_welcome_code:
            code = random_id("", 43)
            corp.welcome_codes[code] = WelcomeCode(
                code,
                userid,
                external_userid,
                now,
                now + corp.config.welcome_code_ttl_seconds,
                chatted=body.customer_chatted,
            )
            corp.count("welcome_codes_issued")
        extra: list[tuple[str, Any]] = [("State", state)]
        if code:
            extra.append(("WelcomeCode", code))
        change = "add_half_external_contact" if body.half else "add_external_contact"
        record = simulator.emit_contact(change, userid, external_userid, *extra)
        corp.scans.append(
            {
                "time": now,
                "config_id": way["config_id"],
                "state": state,
                "userid": userid,
                "external_userid": external_userid,
                "welcome_code": code,
            }
        )
    return {
        "external_userid": external_userid,
        "userid": userid,
        "welcome_code": code,
        "already_following": False,
        "callback_id": record["id"],
    }


class RelationRequest(pydantic.BaseModel):
    external_userid: str
    userid: str


def _remove(simulator: Simulator, body: RelationRequest, change_type: str) -> dict[str, Any]:
    with simulator.corp.lock:
        if simulator.corp.customers.remove_follow(body.external_userid, body.userid) is None:
            raise HTTPException(404, "no such relation")
        record = simulator.emit_contact(change_type, body.userid, body.external_userid)
    return {"callback_id": record["id"]}


@router.post("/customer/delete_staff")
async def customer_deletes_staff(body: RelationRequest, request: Request) -> dict[str, Any]:
    """The customer deletes the member (del_follow_user)."""
    return _remove(sim_of(request), body, "del_follow_user")


@router.post("/staff/delete_customer")
async def staff_deletes_customer(body: RelationRequest, request: Request) -> dict[str, Any]:
    """The member deletes the customer (del_external_contact)."""
    return _remove(sim_of(request), body, "del_external_contact")


class EditRequest(pydantic.BaseModel):
    external_userid: str
    userid: str | None = None
    name: str | None = None
    remark: str | None = None
    description: str | None = None
    add_tag: list[str] = pydantic.Field(default_factory=list)
    remove_tag: list[str] = pydantic.Field(default_factory=list)


@router.post("/customer/edit")
async def edit_customer(body: EditRequest, request: Request) -> dict[str, Any]:
    """A member edits remark/description/tags in the client (edit_external_contact per member)."""
    simulator = sim_of(request)
    corp = simulator.corp
    with corp.lock:
        contact = corp.customers.editable(body.external_userid)
        if contact is None:
            raise HTTPException(404, "no such customer")
        if any(corp.tag(tag_id) is None for tag_id in body.add_tag + body.remove_tag):
            raise HTTPException(422, "unknown tag id")
        if body.name is not None:
            contact.name = body.name
        follows = [
            item
            for item in corp.customers.follows(body.external_userid)
            if body.userid is None or item.userid == body.userid
        ]
        if body.userid is not None and not follows:
            raise HTTPException(404, "no such relation")
        changes_follow = (
            body.remark is not None or body.description is not None or body.add_tag or body.remove_tag
        )
        records = []
        for follow in follows if changes_follow else []:
            if body.remark is not None:
                follow.remark = body.remark
            if body.description is not None:
                follow.description = body.description
            follow.tag_ids = [tag for tag in follow.tag_ids if tag not in body.remove_tag]
            follow.tag_ids += [tag for tag in dict.fromkeys(body.add_tag) if tag not in follow.tag_ids]
            records.append(
                simulator.emit_contact("edit_external_contact", follow.userid, body.external_userid)
            )
    return {"callback_ids": [record["id"] for record in records]}


class ChatRequest(pydantic.BaseModel):
    welcome_code: str | None = None
    external_userid: str | None = None
    userid: str | None = None


@router.post("/customer/chat")
async def customer_chats(body: ChatRequest, request: Request) -> dict[str, Any]:
    """The customer sends a message first: pending welcome codes for them answer 41051."""
    corp = sim_of(request).corp
    with corp.lock:
        codes = [
            code
            for code in corp.welcome_codes.values()
            if code.code == body.welcome_code
            or (code.external_userid == body.external_userid and body.userid in (None, code.userid))
        ]
        for code in codes:
            code.chatted = True
    return {"welcome_codes": [code.code for code in codes]}


class CustomersRequest(pydantic.BaseModel):
    """Customers added silently (no callback), e.g. to prepare a sync test."""

    userids: list[str]
    count: int = pydantic.Field(default=1, ge=1, le=100_000)
    name: str | None = None
    unionid: str | None = None
    state: str = ""


@router.post("/customers")
async def add_customers(body: CustomersRequest, request: Request) -> dict[str, Any]:
    corp = sim_of(request).corp
    with corp.lock:
        if any(userid not in corp.staff for userid in body.userids):
            raise HTTPException(404, "unknown userid")
        created = []
        for _ in range(body.count):
            contact = person(corp, body.name, body.unionid)
            for userid in body.userids:
                corp.customers.add_follow(
                    contact.external_userid,
                    Follow(
                        userid=userid,
                        createtime=corp.now_int(),
                        state=body.state,
                        oper_userid=contact.external_userid,
                    ),
                )
            created.append(contact.external_userid)
    return {"external_userids": created}


@router.get("/welcome_messages")
async def welcome_messages(request: Request) -> list[dict[str, Any]]:
    """What send_welcome_msg accepted, with the issue and receive times (simulator clock)."""
    corp = sim_of(request).corp
    with corp.lock:
        return list(corp.welcome_messages)


@router.get("/scans")
async def scans(request: Request) -> list[dict[str, Any]]:
    return list(sim_of(request).corp.scans)


class TransferCompletion(pydantic.BaseModel):
    external_userid: str | None = None
    accept: bool = True


@router.post("/transfers/complete")
async def complete_transfers(body: TransferCompletion, request: Request) -> dict[str, Any]:
    """Waiting transfers end: accepted (relation moves; del_external_contact with Source
    DELETE_BY_TRANSFER to the handover member and add_external_contact without WelcomeCode to the
    takeover member, our reading) or refused (transfer_fail, FailReason customer_refused)."""
    simulator = sim_of(request)
    corp = simulator.corp
    done = []
    with corp.lock:
        for transfer in list(corp.transfers.values()):
            if transfer.status != 2 or body.external_userid not in (None, transfer.external_userid):
                continue
            external_userid = transfer.external_userid
            if not body.accept:
                transfer.status = 3
                simulator.emit_contact(
                    "transfer_fail",
                    transfer.takeover_userid,
                    external_userid,
                    ("FailReason", "customer_refused"),
                )
            else:
                old = corp.customers.remove_follow(external_userid, transfer.handover_userid)
                transfer.status, transfer.takeover_time = 1, corp.now_int()
                follow = Follow(
                    userid=transfer.takeover_userid,
                    createtime=corp.now_int(),
                    state=old.state if old else "",
                    add_way=202,
                    oper_userid=transfer.takeover_userid,
                    remark=old.remark if old else "",
                    tag_ids=list(old.tag_ids) if old else [],
                )
                corp.customers.add_follow(external_userid, follow)
                simulator.emit_contact(
                    "del_external_contact",
                    transfer.handover_userid,
                    external_userid,
                    ("Source", "DELETE_BY_TRANSFER"),
                )
                simulator.emit_contact(
                    "add_external_contact", transfer.takeover_userid, external_userid, ("State", follow.state)
                )
            done.append({"external_userid": external_userid, "status": transfer.status})
    return {"transfers": done}


class GroupMsgConfirm(pydantic.BaseModel):
    msgid: str
    userid: str | None = None


@router.post("/groupmsg/confirm")
async def confirm_group_message(body: GroupMsgConfirm, request: Request) -> dict[str, Any]:
    """The sender confirms a mass message in the client: its targets become "sent" (status 1)."""
    corp = sim_of(request).corp
    with corp.lock:
        template = corp.msg_templates.get(body.msgid)
        if template is None:
            raise HTTPException(404, "no such msgid")
        sent = 0
        for (sender, _), result in template["results"].items():
            if body.userid in (None, sender) and result["status"] == 0:
                result.update(status=1, send_time=corp.now_int())
                sent += 1
    return {"sent": sent}


# --- knobs --------------------------------------------------------------------------------------------


@router.post("/faults")
async def add_fault(body: FaultSpec, request: Request) -> dict[str, Any]:
    fault = sim_of(request).faults.add(body)
    return {"id": fault.id}


@router.get("/faults")
async def list_faults(request: Request) -> list[dict[str, Any]]:
    return sim_of(request).faults.list()


@router.delete("/faults")
async def clear_faults(request: Request) -> dict[str, Any]:
    sim_of(request).faults.clear()
    return {"ok": True}


class RateLimits(pydantic.BaseModel):
    per_minute: int | None = pydantic.Field(default=None, gt=0)
    per_hour: int | None = pydantic.Field(default=None, gt=0)
    block_seconds: float | None = None


@router.put("/rate_limits")
async def set_rate_limits(body: RateLimits, request: Request) -> dict[str, Any]:
    """Change the limits at run time; the counters and blocks start afresh."""
    limiter = sim_of(request).limiter
    per_minute = body.per_minute or limiter.limits[0][1]
    per_hour = body.per_hour or limiter.limits[1][1]
    limiter.limits = ((60, per_minute), (3600, per_hour))
    limiter.block_seconds = body.block_seconds
    limiter.reset()
    return {"per_minute": per_minute, "per_hour": per_hour, "block_seconds": body.block_seconds}


@router.delete("/rate_limits")
async def reset_rate_limits(request: Request) -> dict[str, Any]:
    sim_of(request).limiter.reset()
    return {"ok": True}


class Advance(pydantic.BaseModel):
    seconds: float = pydantic.Field(ge=0)


@router.post("/clock/advance")
async def advance_clock(body: Advance, request: Request) -> dict[str, Any]:
    """Move the simulator's clock forward (tokens, codes and rate-limit windows expire)."""
    corp = sim_of(request).corp
    with corp.lock:
        corp.clock.advance(body.seconds)
        return {"now": corp.now(), "offset": corp.clock.offset}


@router.post("/tokens/expire")
async def expire_tokens(request: Request) -> dict[str, Any]:
    """Every issued access token answers 42001 from now on."""
    corp = sim_of(request).corp
    with corp.lock:
        return {"tokens": corp.expire_tokens()}


@router.post("/tokens/revoke")
async def revoke_tokens(request: Request) -> dict[str, Any]:
    """Every issued access token answers 40014 from now on."""
    corp = sim_of(request).corp
    with corp.lock:
        return {"tokens": corp.revoke_tokens()}


# --- observations ---------------------------------------------------------------------------------


@router.get("/requests")
async def requests(
    request: Request, api: str | None = None, limit: int | None = None
) -> list[dict[str, Any]]:
    return sim_of(request).requests.query(api, limit)


@router.delete("/requests")
async def clear_requests(request: Request) -> dict[str, Any]:
    sim_of(request).requests.clear()
    return {"ok": True}


@router.get("/state")
async def state(request: Request) -> dict[str, Any]:
    return sim_of(request).state()


@router.get("/callbacks")
async def callbacks(request: Request, limit: int | None = None) -> list[dict[str, Any]]:
    records = [dict(record, errors=list(record["errors"])) for record in sim_of(request).callbacks.records]
    return records[-limit:] if limit else records


class CallbackTarget(pydantic.BaseModel):
    url: str | None


@router.put("/callback")
async def set_callback_url(body: CallbackTarget, request: Request) -> dict[str, Any]:
    sim_of(request).callbacks.url = body.url
    return {"url": body.url}


@router.post("/callback/verify")
async def verify_callback_url(request: Request, body: CallbackTarget | None = None) -> dict[str, Any]:
    """WeCom's URL verification (GET with echostr) against the receiver, as the admin console does."""
    import anyio.to_thread

    dispatcher = sim_of(request).callbacks
    return await anyio.to_thread.run_sync(dispatcher.verify_url, body.url if body else None)
