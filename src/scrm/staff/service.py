"""Staff: upserts from WeCom (sync and callbacks) and reads for the console. Never commits."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import Text, cast, or_, select, update
from sqlalchemy.orm import Session

from scrm.core.actors import Actor
from scrm.core.clock import utcnow
from scrm.core.pagination import PageRequest, paginate
from scrm.core.tenancy import require_in_tenant, tenant_select
from scrm.identity.audit import record_audit
from scrm.identity.permissions import IdentityPermission
from scrm.identity.service import get_user
from scrm.staff.models import StaffDepartment, StaffMember, StaffStatus

# WeCom's numeric member status → ours.
_WECOM_STATUS = {1: StaffStatus.ACTIVE, 2: StaffStatus.DISABLED, 4: StaffStatus.INACTIVE, 5: StaffStatus.LEFT}


def find_member(session: Session, *, tenant_id: int, connection_id: int, userid: str) -> StaffMember | None:
    return session.scalars(
        tenant_select(StaffMember, tenant_id).where(
            StaffMember.connection_id == connection_id, StaffMember.userid == userid
        )
    ).one_or_none()


def upsert_departments(
    session: Session, *, tenant_id: int, connection_id: int, departments: Iterable[dict[str, Any]]
) -> int:
    """Mirror WeCom departments (`{id, name, parentid, order}`); returns how many were written."""
    existing = {
        department.wecom_id: department
        for department in session.scalars(
            tenant_select(StaffDepartment, tenant_id).where(StaffDepartment.connection_id == connection_id)
        )
    }
    count = 0
    for raw in departments:
        department = existing.get(int(raw["id"]))
        if department is None:
            department = StaffDepartment(
                tenant_id=tenant_id, connection_id=connection_id, wecom_id=int(raw["id"])
            )
            session.add(department)
        department.name = str(raw.get("name") or raw["id"])
        department.parent_wecom_id = int(raw["parentid"]) if raw.get("parentid") not in (None, "") else None
        department.order = int(raw.get("order") or 0)
        count += 1
    return count


def upsert_member(
    session: Session, *, tenant_id: int, connection_id: int, member: dict[str, Any]
) -> StaffMember:
    """Mirror one WeCom member (the `user/list` or callback shape); unknown fields are kept in `extra`."""
    userid = str(member["userid"])
    staff = find_member(session, tenant_id=tenant_id, connection_id=connection_id, userid=userid)
    if staff is None:
        staff = StaffMember(tenant_id=tenant_id, connection_id=connection_id, userid=userid, name=userid)
        session.add(staff)
    if member.get("name"):
        staff.name = str(member["name"])
    if "position" in member:
        staff.position = member.get("position") or None
    if member.get("avatar"):
        staff.avatar_url = str(member["avatar"])
    if "department" in member:
        staff.department_ids = [int(value) for value in member.get("department") or []]
    if member.get("status") is not None:
        staff.status = _WECOM_STATUS.get(int(member["status"]), StaffStatus.ACTIVE)
    staff.extra = {
        key: value for key, value in member.items() if key in ("alias", "gender", "main_department")
    }
    staff.synced_at = utcnow()
    session.flush()
    return staff


def set_customer_contact_members(
    session: Session, *, tenant_id: int, connection_id: int, userids: set[str]
) -> None:
    """Record which members have 客户联系 enabled (`get_follow_user_list`)."""
    members = tenant_select(StaffMember, tenant_id).where(StaffMember.connection_id == connection_id)
    for staff in session.scalars(members):
        staff.has_customer_contact = staff.userid in userids


def mark_left(session: Session, *, tenant_id: int, connection_id: int, userid: str) -> None:
    session.execute(
        update(StaffMember)
        .where(
            StaffMember.tenant_id == tenant_id,
            StaffMember.connection_id == connection_id,
            StaffMember.userid == userid,
        )
        .values(status=StaffStatus.LEFT, has_customer_contact=False)
    )


def _in_json_int_list(column: Any, value: int) -> Any:
    """`value` is an element of the JSON integer list in `column`. The list is written by this module
    with Python's json (`[1, 3]`), so matching its text form works alike on SQLite and PostgreSQL."""
    text = cast(column, Text)
    return or_(
        text == f"[{value}]",
        text.like(f"[{value},%"),
        text.like(f"%, {value},%"),
        text.like(f"%, {value}]"),
    )


# Listing members (and their departments) is also what a code editor's staff picker needs: whoever
# manages channel codes may list them without seeing console users. Named by code, as the built-in
# roles name other domains' permissions, since channels builds on this domain and not the reverse.
PICK_STAFF = (IdentityPermission.USERS_VIEW, "channels.manage")


def list_staff(
    session: Session,
    *,
    actor: Actor,
    page: PageRequest,
    connection_id: int | None = None,
    q: str | None = None,
    has_customer_contact: bool | None = None,
    department_wecom_id: int | None = None,
) -> tuple[list[StaffMember], str | None]:
    actor.require_any(*PICK_STAFF)
    stmt = tenant_select(StaffMember, actor.tenant_id)
    if connection_id is not None:
        stmt = stmt.where(StaffMember.connection_id == connection_id)
    if q:
        pattern = f"%{q.strip()}%"
        stmt = stmt.where(or_(StaffMember.name.ilike(pattern), StaffMember.userid.ilike(pattern)))
    if has_customer_contact is not None:
        stmt = stmt.where(StaffMember.has_customer_contact.is_(has_customer_contact))
    if department_wecom_id is not None:
        stmt = stmt.where(_in_json_int_list(StaffMember.department_ids, department_wecom_id))
    return paginate(session, stmt, StaffMember.id, page)


def list_departments(
    session: Session, *, actor: Actor, connection_id: int | None = None
) -> list[StaffDepartment]:
    actor.require_any(*PICK_STAFF)
    stmt = tenant_select(StaffDepartment, actor.tenant_id)
    if connection_id is not None:
        stmt = stmt.where(StaffDepartment.connection_id == connection_id)
    return list(session.scalars(stmt.order_by(StaffDepartment.wecom_id)))


def get_staff(session: Session, *, actor: Actor, staff_id: int) -> StaffMember:
    actor.require(IdentityPermission.USERS_VIEW)
    return require_in_tenant(session, StaffMember, actor.tenant_id, staff_id)


def link_user(session: Session, *, actor: Actor, staff_id: int, user_id: int | None) -> StaffMember:
    """Tie a WeCom member to a console user, so they can log in with WeCom (None unlinks)."""
    actor.require(IdentityPermission.USERS_MANAGE)
    staff = require_in_tenant(session, StaffMember, actor.tenant_id, staff_id)
    if user_id is not None:
        get_user(session, actor=actor, user_id=user_id)  # 404 unless the user has a seat here
    staff.user_id = user_id
    record_audit(
        session,
        actor=actor,
        action="staff.linked",
        target_type="staff",
        target_id=staff.id,
        detail={"userid": staff.userid, "user_id": user_id},
    )
    return staff


def staff_for_login(
    session: Session, *, tenant_id: int, connection_id: int, userid: str
) -> StaffMember | None:
    staff = find_member(session, tenant_id=tenant_id, connection_id=connection_id, userid=userid)
    if staff is None or staff.status == StaffStatus.LEFT:
        return None
    return staff


def user_ids_for_staff(session: Session, *, tenant_id: int, userids: Iterable[str]) -> dict[str, int]:
    rows = session.execute(
        select(StaffMember.userid, StaffMember.user_id).where(
            StaffMember.tenant_id == tenant_id,
            StaffMember.userid.in_(list(userids)),
            StaffMember.user_id.is_not(None),
        )
    ).all()
    return {userid: user_id for userid, user_id in rows if user_id is not None}


def userids_of_users(session: Session, *, tenant_id: int, user_ids: Iterable[int]) -> set[str]:
    """The WeCom userids of the members linked to these console users (for data scopes)."""
    ids = list(user_ids)
    if not ids:
        return set()
    return set(
        session.scalars(
            select(StaffMember.userid).where(StaffMember.tenant_id == tenant_id, StaffMember.user_id.in_(ids))
        )
    )


def names_by_userid(session: Session, *, tenant_id: int, userids: Iterable[str]) -> dict[str, str]:
    ids = list(set(userids))
    if not ids:
        return {}
    rows = session.execute(
        select(StaffMember.userid, StaffMember.name).where(
            StaffMember.tenant_id == tenant_id, StaffMember.userid.in_(ids)
        )
    ).all()
    return {userid: name for userid, name in rows}
