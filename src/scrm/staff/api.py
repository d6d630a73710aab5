"""HTTP endpoints for staff (WeCom members)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from scrm.core.pagination import Page, PageRequest
from scrm.identity.deps import CurrentActor, DbSession
from scrm.staff import service
from scrm.staff.schemas import StaffDepartmentOut, StaffLink, StaffOut

router = APIRouter(prefix="/api/v1/staff", tags=["staff"])


@router.get("", response_model=Page[StaffOut])
def list_staff(
    actor: CurrentActor,
    session: DbSession,
    connection_id: int | None = None,
    q: str | None = None,
    has_customer_contact: bool | None = None,
    department: int | None = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: str | None = None,
) -> Page[StaffOut]:
    """WeCom members of the workspace's corps, newest first."""
    items, next_cursor = service.list_staff(
        session,
        actor=actor,
        page=PageRequest(limit, cursor),
        connection_id=connection_id,
        q=q,
        has_customer_contact=has_customer_contact,
        department_wecom_id=department,
    )
    return Page(items=[StaffOut.model_validate(item) for item in items], next_cursor=next_cursor)


@router.get("/departments", response_model=list[StaffDepartmentOut])
def list_departments(
    actor: CurrentActor, session: DbSession, connection_id: int | None = None
) -> list[StaffDepartmentOut]:
    return [
        StaffDepartmentOut.model_validate(d)
        for d in service.list_departments(session, actor=actor, connection_id=connection_id)
    ]


@router.get("/{staff_id}", response_model=StaffOut)
def get_staff(staff_id: int, actor: CurrentActor, session: DbSession) -> StaffOut:
    return StaffOut.model_validate(service.get_staff(session, actor=actor, staff_id=staff_id))


@router.put("/{staff_id}/user", response_model=StaffOut)
def link_user(staff_id: int, body: StaffLink, actor: CurrentActor, session: DbSession) -> StaffOut:
    """Link the member to a console user (enables WeCom login for them)."""
    return StaffOut.model_validate(
        service.link_user(session, actor=actor, staff_id=staff_id, user_id=body.user_id)
    )
