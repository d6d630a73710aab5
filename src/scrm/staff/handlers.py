"""Reactions of the staff domain to WeCom address-book callbacks (change_contact)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from scrm.core.events import Delivery, EventHandler
from scrm.platforms.canonical import StaffChanged
from scrm.staff.service import find_member, mark_left, upsert_member


def on_staff_changed(session: Session, delivery: Delivery) -> None:
    """create_user/update_user carry the changed attributes; delete_user marks the member as left."""
    event = delivery.load(StaffChanged)
    if event.userid is None or event.change_type not in ("create_user", "update_user", "delete_user"):
        return
    if event.change_type == "delete_user":
        mark_left(session, tenant_id=event.tenant_id, connection_id=event.connection_id, userid=event.userid)
        return
    fields = event.fields
    member: dict[str, object] = {"userid": event.userid}
    if fields.get("Name"):
        member["name"] = fields["Name"]
    if "Position" in fields:
        member["position"] = fields["Position"]
    if fields.get("Department"):
        member["department"] = [
            int(part) for part in fields["Department"].split(",") if part.strip().isdigit()
        ]
    if fields.get("Status"):
        member["status"] = int(fields["Status"])
    if fields.get("Avatar"):
        member["avatar"] = fields["Avatar"]
    staff = upsert_member(
        session, tenant_id=event.tenant_id, connection_id=event.connection_id, member=member
    )
    if (
        event.new_userid
        and event.new_userid != event.userid
        and (
            find_member(
                session, tenant_id=event.tenant_id, connection_id=event.connection_id, userid=event.new_userid
            )
            is None
        )
    ):
        staff.userid = event.new_userid


HANDLERS = [EventHandler(StaffChanged.event_type, "staff.apply_address_book_change", on_staff_changed)]
