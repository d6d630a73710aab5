"""Channel codes and code groups for the console and the API: create, read, change, delete. Never
commits.

Each code is backed by a WeCom contact way (「联系我」, type 2 so its user list can change without a
new QR code, scene 2 = QR). Creating calls `add_contact_way` before anything is stored, so a WeCom
failure answers 502 (WeCom refused) or 503 (WeCom unreachable or busy) and stores nothing; if storing
fails after WeCom created the way, the way is deleted again. Edits that touch routing push the new
plan with `update_contact_way` inside the request; deleting calls `del_contact_way`. Disabling keeps
the way (printed codes still add someone) but stops routing, tags and welcome messages.
"""

from __future__ import annotations

import contextlib
import secrets
import string
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from scrm.channels.models import (
    ChannelAdd,
    ChannelCode,
    ChannelCodeGroup,
    CodeStatus,
    StaffPresence,
)
from scrm.channels.permissions import ChannelPermission
from scrm.channels.routing import PlanMode
from scrm.channels.schemas import ChannelCreate, ChannelUpdate, GroupCreate, GroupUpdate, StaffEntryIn
from scrm.channels.ways import (
    cancel_refreshes,
    desired_way,
    lacks_customer_contact,
    record_decision,
    refresh_way,
    request_refresh,
    schedule_next_refresh,
    wecom_client,
)
from scrm.core.actors import Actor
from scrm.core.clock import utcnow
from scrm.core.errors import Conflict, DomainError, NotFound, ValidationFailed
from scrm.core.pagination import PageRequest, paginate
from scrm.core.tenancy import require_in_tenant, tenant_select
from scrm.customers.channel_support import TagInfo, find_tags
from scrm.identity.audit import record_audit
from scrm.platforms.base import PlatformError
from scrm.platforms.service import require_connection
from scrm.platforms.wecom.errors import ErrCode, WeComError
from scrm.staff.service import find_member

WAY_TYPE_MULTI = 2
SCENE_QR = 2
STATE_ALPHABET = string.ascii_lowercase + string.digits
#: WeCom answers these when the staff list is at fault: a 422 on `staff`, not a 502.
STAFF_ERRCODES = {
    ErrCode.INVALID_USERID: "a member is not in the corp",
    ErrCode.NO_EXTERNAL_CONTACT_PERMISSION: "a member has no 客户联系 permission",
    ErrCode.CONTACT_WAY_USER_LIMIT: "more than 100 members",
    60011: "no permission for a member",
    81013: "no member is valid",
}


class WeComRefused(DomainError):
    status = 502
    title = "WeCom refused the request"
    type_slug = "platform-refused"


class WeComUnavailable(DomainError):
    status = 503
    title = "WeCom is unavailable"
    type_slug = "platform-unavailable"


def platform_problem(error: PlatformError, action: str) -> DomainError:
    """The API's answer to a WeCom failure during `action`."""
    errcode = error.errcode if isinstance(error, WeComError) else None
    if errcode in STAFF_ERRCODES:
        return ValidationFailed(
            f"WeCom refused the staff list ({errcode}): {STAFF_ERRCODES[errcode]}",
            field_errors=[{"field": "staff", "message": f"{STAFF_ERRCODES[errcode]} (WeCom {errcode})"}],
        )
    if error.retryable:
        return WeComUnavailable(
            f"{action}: WeCom is busy or unreachable ({error}); nothing was stored, retry"
        )
    return WeComRefused(f"{action}: {error}; nothing was stored")


def generate_state() -> str:
    """A fresh `state`: "ch-" and 12 random letters or digits (15 of WeCom's 30 characters)."""
    return "ch-" + "".join(secrets.choice(STATE_ALPHABET) for _ in range(12))


# --- validation -----------------------------------------------------------------------------------


def _connection(session: Session, actor: Actor, connection_id: int) -> Any:
    try:
        connection = require_connection(session, actor.tenant_id, connection_id)
    except NotFound:
        raise ValidationFailed(
            "no such WeCom connection",
            field_errors=[{"field": "connection_id", "message": "no WeCom connection with this id"}],
        ) from None
    if connection.platform != "wecom":
        raise ValidationFailed(
            "channel codes need a WeCom connection",
            field_errors=[{"field": "connection_id", "message": "not a WeCom connection"}],
        )
    if connection.status == "disabled":
        raise Conflict("the WeCom connection is disabled; enable it first")
    return connection


def _check_group(session: Session, actor: Actor, group_id: int | None) -> None:
    if group_id is None:
        return
    found = session.scalar(
        select(ChannelCodeGroup.id).where(
            ChannelCodeGroup.tenant_id == actor.tenant_id, ChannelCodeGroup.id == group_id
        )
    )
    if found is None:
        raise ValidationFailed(
            "no such code group",
            field_errors=[{"field": "group_id", "message": "no code group with this id"}],
        )


def _check_staff(session: Session, actor: Actor, connection_id: int, staff: list[StaffEntryIn]) -> None:
    """Members our mirror of the corp knows without 客户联系 are refused here; members it does not know
    (no sync yet) are left to WeCom, which refuses unknown ones (422 as well)."""
    errors = []
    for index, entry in enumerate(staff):
        if lacks_customer_contact(
            session, tenant_id=actor.tenant_id, connection_id=connection_id, userid=entry.userid
        ):
            errors.append(
                {"field": f"staff.{index}.userid", "message": "this member has no 客户联系 permission"}
            )
    if errors:
        raise ValidationFailed("some members cannot take customers", field_errors=errors)
    if all(entry.backup for entry in staff):
        raise ValidationFailed(
            "a code needs at least one member who is not a backup",
            field_errors=[{"field": "staff", "message": "every member is a backup"}],
        )


def _resolve_tags(session: Session, actor: Actor, connection_id: int, refs: list[int | str]) -> list[TagInfo]:
    found, missing = find_tags(session, tenant_id=actor.tenant_id, connection_id=connection_id, refs=refs)
    if missing:
        raise ValidationFailed(
            "some tags do not exist in this corp",
            field_errors=[
                {
                    "field": f"tags.{refs.index(ref)}",
                    "message": f"no tag {ref!r} in this corp (or the name is ambiguous)",
                }
                for ref in missing
            ],
        )
    return found


def _staff_json(staff: list[StaffEntryIn]) -> list[dict[str, Any]]:
    return [entry.model_dump(mode="json") for entry in staff]


# --- codes ----------------------------------------------------------------------------------------


def require_code(session: Session, actor: Actor, code_id: int) -> ChannelCode:
    return require_in_tenant(session, ChannelCode, actor.tenant_id, code_id)


def create_code(session: Session, *, actor: Actor, data: ChannelCreate) -> ChannelCode:
    """A new active code and its contact way. Raises ValidationFailed (422, naming fields), Conflict
    (409: state taken, connection disabled), WeComRefused (502) or WeComUnavailable (503)."""
    actor.require(ChannelPermission.MANAGE)
    _connection(session, actor, data.connection_id)
    _check_group(session, actor, data.group_id)
    _check_staff(session, actor, data.connection_id, data.staff)
    tags = _resolve_tags(session, actor, data.connection_id, data.tags)
    state = data.state or generate_state()
    taken = session.scalar(
        select(ChannelCode.id).where(
            ChannelCode.tenant_id == actor.tenant_id,
            ChannelCode.connection_id == data.connection_id,
            ChannelCode.state == state,
        )
    )
    if taken is not None:
        raise Conflict(
            f"state {state!r} is already used by a code",
            field_errors=[{"field": "state", "message": "already used by another code"}],
        )
    code = ChannelCode(
        tenant_id=actor.tenant_id,
        connection_id=data.connection_id,
        group_id=data.group_id,
        name=data.name,
        description=data.description,
        status=CodeStatus.ACTIVE,
        state=state,
        way_type=WAY_TYPE_MULTI,
        store=data.store,
        region=data.region,
        timezone=data.routing.timezone,
        staff=_staff_json(data.staff),
        routing=data.routing.model_dump(mode="json"),
        tag_ids=[tag.id for tag in tags],
        welcome=data.welcome.model_dump(mode="json") if data.welcome else {},
        skip_verify=data.skip_verify,
        skip_verify_windows=[window.model_dump(mode="json") for window in data.skip_verify_windows],
        remark_template=data.remark_template,
        description_template=data.description_template,
        way_users=[],
        created_by=actor.label,
    )
    desired = desired_way(session, code, utcnow())
    if desired.plan.mode == PlanMode.EMPTY:
        raise ValidationFailed(
            "no member of this code can take customers",
            field_errors=[{"field": "staff", "message": "no member has 客户联系"}],
        )
    client = wecom_client(session, code)
    try:
        answer = client.add_contact_way(
            type=WAY_TYPE_MULTI,
            scene=SCENE_QR,
            remark=data.name[:30],
            skip_verify=desired.skip_verify,
            state=state,
            user=list(desired.plan.users),
        )
    except PlatformError as error:
        raise platform_problem(error, "add_contact_way") from error
    try:
        code.config_id = str(answer["config_id"])
        code.qr_url = answer.get("qr_code")
        session.add(code)
        session.flush()
        record_decision(session, code, desired, trigger="created", pushed=True)
        schedule_next_refresh(session, code, desired.next_change_at)
        record_audit(
            session,
            actor=actor,
            action="channel_code.created",
            target_type="channel_code",
            target_id=code.id,
            detail={
                "name": code.name,
                "state": state,
                "config_id": code.config_id,
                "staff": [e.userid for e in data.staff],
            },
        )
        session.flush()
    except BaseException:
        # Nothing is stored: do not leave a contact way nobody knows about.
        with contextlib.suppress(PlatformError):
            client.del_contact_way(str(answer["config_id"]))
        raise
    return code


def update_code(session: Session, *, actor: Actor, code_id: int, data: ChannelUpdate) -> ChannelCode:
    """Change the fields given. Routing-related changes are pushed to the contact way at once (a WeCom
    failure answers 502/503 and changes nothing)."""
    actor.require(ChannelPermission.MANAGE)
    code = require_code(session, actor, code_id)
    if code.status == CodeStatus.DELETED:
        raise Conflict("the code is deleted")
    given = data.model_fields_set
    changed: dict[str, Any] = {}

    def change(field: str, value: Any) -> None:
        if getattr(code, field) != value:
            changed[field] = value
            setattr(code, field, value)

    if "name" in given and data.name is not None:
        change("name", data.name)
    if "description" in given:
        change("description", data.description)
    if "staff" in given and data.staff is not None:
        _check_staff(session, actor, code.connection_id, data.staff)
        change("staff", _staff_json(data.staff))
    if "routing" in given and data.routing is not None:
        change("routing", data.routing.model_dump(mode="json"))
        change("timezone", data.routing.timezone)
    if "tags" in given and data.tags is not None:
        change("tag_ids", [tag.id for tag in _resolve_tags(session, actor, code.connection_id, data.tags)])
    if "welcome" in given:
        change("welcome", data.welcome.model_dump(mode="json") if data.welcome else {})
    if "group_id" in given:
        _check_group(session, actor, data.group_id)
        change("group_id", data.group_id)
    for field in ("store", "region", "remark_template", "description_template"):
        if field in given:
            change(field, getattr(data, field))
    if "skip_verify" in given and data.skip_verify is not None:
        change("skip_verify", data.skip_verify)
    if "skip_verify_windows" in given and data.skip_verify_windows is not None:
        change("skip_verify_windows", [window.model_dump(mode="json") for window in data.skip_verify_windows])
    if "status" in given and data.status is not None:
        change("status", data.status)
    way_fields = {
        "name",
        "staff",
        "routing",
        "timezone",
        "store",
        "region",
        "skip_verify",
        "skip_verify_windows",
    }
    if code.status == CodeStatus.ACTIVE and (way_fields & changed.keys() or "status" in changed):
        if desired_way(session, code, utcnow()).plan.mode == PlanMode.EMPTY:
            raise ValidationFailed(
                "no member of this code can take customers",
                field_errors=[{"field": "staff", "message": "no member has 客户联系"}],
            )
        try:
            refresh_way(session, code, trigger="updated", force=True, extra_fields={"remark": code.name[:30]})
        except PlatformError as error:
            raise platform_problem(error, "update_contact_way") from error
    if changed:
        code.updated_at = utcnow()
        session.flush()
        record_audit(
            session,
            actor=actor,
            action="channel_code.updated",
            target_type="channel_code",
            target_id=code.id,
            detail={"changed": sorted(changed)},
        )
    return code


def recreate_way(session: Session, *, actor: Actor, code_id: int) -> ChannelCode:
    """Give the code a new contact way with the same `state` (after its way was deleted in WeCom, or
    a WeCom sandbox was reset): new `config_id` and QR link; adds through the old QR keep being
    attributed, since they carry the same state. 502/503 when WeCom fails (nothing changes)."""
    actor.require(ChannelPermission.MANAGE)
    code = require_code(session, actor, code_id)
    if code.status == CodeStatus.DELETED:
        raise Conflict("the code is deleted")
    desired = desired_way(session, code, utcnow())
    if desired.plan.mode == PlanMode.EMPTY:
        raise Conflict("no member of this code can take customers")
    try:
        answer = wecom_client(session, code).add_contact_way(
            type=WAY_TYPE_MULTI,
            scene=SCENE_QR,
            remark=code.name[:30],
            skip_verify=desired.skip_verify,
            state=code.state,
            user=list(desired.plan.users),
        )
    except PlatformError as error:
        raise platform_problem(error, "add_contact_way") from error
    previous = code.config_id
    code.config_id = str(answer["config_id"])
    code.qr_url = answer.get("qr_code")
    record_decision(session, code, desired, trigger="recreated", pushed=True)
    record_audit(
        session,
        actor=actor,
        action="channel_code.way_recreated",
        target_type="channel_code",
        target_id=code.id,
        detail={"from": previous, "to": code.config_id},
    )
    session.flush()
    return code


def delete_code(session: Session, *, actor: Actor, code_id: int) -> None:
    """Delete the contact way in WeCom, then mark the code deleted (its rows stay for analytics and
    its page keeps showing problems). Idempotent."""
    actor.require(ChannelPermission.MANAGE)
    code = require_code(session, actor, code_id)
    if code.status == CodeStatus.DELETED:
        return
    if code.config_id:
        try:
            wecom_client(session, code).del_contact_way(code.config_id)
        except PlatformError as error:
            gone = isinstance(error, WeComError) and error.errcode == ErrCode.INVALID_CONFIG_ID
            if not gone:
                raise platform_problem(error, "del_contact_way") from error
    code.status = CodeStatus.DELETED
    code.deleted_at = utcnow()
    cancel_refreshes(session, code)
    session.flush()
    record_audit(
        session,
        actor=actor,
        action="channel_code.deleted",
        target_type="channel_code",
        target_id=code.id,
        detail={"name": code.name, "state": code.state, "config_id": code.config_id},
    )


def get_code(session: Session, *, actor: Actor, code_id: int) -> ChannelCode:
    actor.require(ChannelPermission.VIEW)
    return require_code(session, actor, code_id)


def list_codes(
    session: Session,
    *,
    actor: Actor,
    page: PageRequest,
    connection_id: int | None = None,
    group_id: int | None = None,
    store: str | None = None,
    region: str | None = None,
    status: str | None = None,
    q: str | None = None,
) -> tuple[list[ChannelCode], str | None]:
    """Codes newest first; deleted ones only when `status=deleted` is asked for."""
    actor.require(ChannelPermission.VIEW)
    stmt = tenant_select(ChannelCode, actor.tenant_id)
    stmt = (
        stmt.where(ChannelCode.status == status)
        if status
        else stmt.where(ChannelCode.status != CodeStatus.DELETED)
    )
    if connection_id is not None:
        stmt = stmt.where(ChannelCode.connection_id == connection_id)
    if group_id is not None:
        stmt = stmt.where(ChannelCode.group_id == group_id)
    if store:
        stmt = stmt.where(ChannelCode.store == store)
    if region:
        stmt = stmt.where(ChannelCode.region == region)
    if q:
        pattern = f"%{q.strip()}%"
        stmt = stmt.where(ChannelCode.name.ilike(pattern) | (ChannelCode.state == q.strip()))
    return paginate(session, stmt, ChannelCode.id, page)


# --- groups ---------------------------------------------------------------------------------------


def _group_name_taken(session: Session, actor: Actor, name: str, exclude_id: int | None = None) -> None:
    stmt = select(ChannelCodeGroup.id).where(
        ChannelCodeGroup.tenant_id == actor.tenant_id, ChannelCodeGroup.name == name
    )
    if exclude_id is not None:
        stmt = stmt.where(ChannelCodeGroup.id != exclude_id)
    if session.scalar(stmt) is not None:
        raise Conflict(
            f"a group named {name!r} exists", field_errors=[{"field": "name", "message": "already exists"}]
        )


def create_group(session: Session, *, actor: Actor, data: GroupCreate) -> ChannelCodeGroup:
    actor.require(ChannelPermission.MANAGE)
    _group_name_taken(session, actor, data.name)
    group = ChannelCodeGroup(tenant_id=actor.tenant_id, name=data.name, description=data.description)
    session.add(group)
    session.flush()
    record_audit(
        session, actor=actor, action="channel_group.created", target_type="channel_group", target_id=group.id,
        detail={"name": data.name},
    )  # fmt: skip
    return group


def list_groups(session: Session, *, actor: Actor) -> list[tuple[ChannelCodeGroup, int]]:
    """Groups with how many live codes each holds, by name."""
    actor.require(ChannelPermission.VIEW)
    counts = dict(
        session.execute(
            select(ChannelCode.group_id, func.count())
            .where(ChannelCode.tenant_id == actor.tenant_id, ChannelCode.status != CodeStatus.DELETED)
            .group_by(ChannelCode.group_id)
        ).all()
    )
    groups = session.scalars(tenant_select(ChannelCodeGroup, actor.tenant_id).order_by(ChannelCodeGroup.name))
    return [(group, int(counts.get(group.id, 0))) for group in groups]


def update_group(session: Session, *, actor: Actor, group_id: int, data: GroupUpdate) -> ChannelCodeGroup:
    actor.require(ChannelPermission.MANAGE)
    group = require_in_tenant(session, ChannelCodeGroup, actor.tenant_id, group_id)
    if data.name is not None and data.name != group.name:
        _group_name_taken(session, actor, data.name, exclude_id=group.id)
        group.name = data.name
    if "description" in data.model_fields_set:
        group.description = data.description
    session.flush()
    record_audit(
        session, actor=actor, action="channel_group.updated", target_type="channel_group", target_id=group.id,
        detail={"name": group.name},
    )  # fmt: skip
    return group


def delete_group(session: Session, *, actor: Actor, group_id: int) -> None:
    """Delete a group; its codes stay, ungrouped."""
    actor.require(ChannelPermission.MANAGE)
    group = require_in_tenant(session, ChannelCodeGroup, actor.tenant_id, group_id)
    session.execute(
        update(ChannelCode)
        .where(ChannelCode.tenant_id == actor.tenant_id, ChannelCode.group_id == group.id)
        .values(group_id=None),
        execution_options={"synchronize_session": "fetch"},
    )
    session.delete(group)
    session.flush()
    record_audit(
        session, actor=actor, action="channel_group.deleted", target_type="channel_group", target_id=group_id,
        detail={"name": group.name},
    )  # fmt: skip


# --- presence (在线/离线) -----------------------------------------------------------------------------


def codes_with_member(
    session: Session, *, tenant_id: int, connection_id: int, userid: str
) -> list[ChannelCode]:
    codes = session.scalars(
        tenant_select(ChannelCode, tenant_id).where(
            ChannelCode.connection_id == connection_id, ChannelCode.status == CodeStatus.ACTIVE
        )
    )
    return [code for code in codes if any(item["userid"] == userid for item in code.staff)]


def set_presence(
    session: Session, *, actor: Actor, connection_id: int, userid: str, is_online: bool
) -> StaffPresence:
    """Mark a member online or offline; every active code listing them is re-planned by a worker."""
    actor.require(ChannelPermission.MANAGE)
    require_connection(session, actor.tenant_id, connection_id)
    presence = session.scalars(
        tenant_select(StaffPresence, actor.tenant_id).where(
            StaffPresence.connection_id == connection_id, StaffPresence.userid == userid
        )
    ).one_or_none()
    if presence is None:
        if find_member(
            session, tenant_id=actor.tenant_id, connection_id=connection_id, userid=userid
        ) is None and not (
            codes_with_member(session, tenant_id=actor.tenant_id, connection_id=connection_id, userid=userid)
        ):
            raise NotFound(f"member {userid} not found")
        presence = StaffPresence(tenant_id=actor.tenant_id, connection_id=connection_id, userid=userid)
        session.add(presence)
    if presence.is_online != is_online or presence.id is None:
        presence.is_online = is_online
        presence.changed_at = utcnow()
        presence.changed_by = actor.label
        for code in codes_with_member(
            session, tenant_id=actor.tenant_id, connection_id=connection_id, userid=userid
        ):
            request_refresh(session, code, trigger="presence")
        record_audit(
            session, actor=actor, action="channel_staff.presence", target_type="staff", target_id=userid,
            detail={"connection_id": connection_id, "is_online": is_online},
        )  # fmt: skip
    session.flush()
    return presence


def presence_rows(session: Session, *, actor: Actor, connection_id: int | None) -> list[dict[str, Any]]:
    """Every member on a live code (and every member with a presence row), with presence and codes."""
    actor.require(ChannelPermission.VIEW)
    stmt = tenant_select(ChannelCode, actor.tenant_id).where(ChannelCode.status == CodeStatus.ACTIVE)
    if connection_id is not None:
        stmt = stmt.where(ChannelCode.connection_id == connection_id)
    members: dict[tuple[int, str], dict[str, Any]] = {}
    for code in session.scalars(stmt.order_by(ChannelCode.id)):
        for item in code.staff:
            row = members.setdefault(
                (code.connection_id, item["userid"]),
                {
                    "connection_id": code.connection_id,
                    "userid": item["userid"],
                    "is_online": True,
                    "code_ids": [],
                    "changed_at": None,
                },
            )
            row["code_ids"].append(code.id)
    presence_stmt = tenant_select(StaffPresence, actor.tenant_id)
    if connection_id is not None:
        presence_stmt = presence_stmt.where(StaffPresence.connection_id == connection_id)
    for presence in session.scalars(presence_stmt):
        row = members.setdefault(
            (presence.connection_id, presence.userid),
            {"connection_id": presence.connection_id, "userid": presence.userid, "code_ids": []},
        )
        row.update(is_online=presence.is_online, changed_at=presence.changed_at)
    return sorted(members.values(), key=lambda row: (row["connection_id"], row["userid"]))


def adds_total(session: Session, *, tenant_id: int, code_ids: list[int]) -> dict[int, int]:
    if not code_ids:
        return {}
    rows = session.execute(
        select(ChannelAdd.code_id, func.count())
        .where(ChannelAdd.tenant_id == tenant_id, ChannelAdd.code_id.in_(code_ids))
        .group_by(ChannelAdd.code_id)
    ).all()
    return {code_id: int(count) for code_id, count in rows}
