"""HTTP endpoints for customers and corp tags."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from scrm.core.pagination import Page, PageRequest
from scrm.customers import service
from scrm.customers.schemas import (
    CustomerDetailOut,
    CustomerOut,
    TagCreate,
    TagGroupCreate,
    TagGroupOut,
    TagOut,
    TagRename,
)
from scrm.identity.deps import CurrentActor, DbSession

router = APIRouter(prefix="/api/v1", tags=["customers"])


@router.get("/customers", response_model=Page[CustomerOut])
def list_customers(
    actor: CurrentActor,
    session: DbSession,
    q: str | None = None,
    staff: Annotated[str | None, Query(description="WeCom userid of a follow staff member")] = None,
    tag_id: int | None = None,
    connection_id: int | None = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: str | None = None,
) -> Page[CustomerOut]:
    items, next_cursor = service.list_customers(
        session,
        actor=actor,
        page=PageRequest(limit, cursor),
        q=q,
        staff_userid=staff,
        tag_id=tag_id,
        connection_id=connection_id,
    )
    return Page(items=items, next_cursor=next_cursor)


@router.get("/customers/{customer_id}", response_model=CustomerDetailOut)
def get_customer(customer_id: int, actor: CurrentActor, session: DbSession) -> CustomerDetailOut:
    return service.get_customer(session, actor=actor, customer_id=customer_id)


@router.get("/tags", response_model=list[TagGroupOut])
def list_tags(actor: CurrentActor, session: DbSession, connection_id: int | None = None) -> list[TagGroupOut]:
    """Corp tag groups with their tags."""
    return service.list_tag_groups(session, actor=actor, connection_id=connection_id)


@router.post("/tags/groups", response_model=TagGroupOut, status_code=201)
def create_tag_group(body: TagGroupCreate, actor: CurrentActor, session: DbSession) -> TagGroupOut:
    """Create a group with its tags; it is pushed to WeCom within seconds."""
    group = service.create_tag_group(session, actor=actor, data=body)
    return next(g for g in service.list_tag_groups(session, actor=actor) if g.id == group.id)


@router.post("/tags/groups/{group_id}/tags", response_model=TagOut, status_code=201)
def add_tag(group_id: int, body: TagCreate, actor: CurrentActor, session: DbSession) -> TagOut:
    tag = service.add_tag(session, actor=actor, group_id=group_id, name=body.name)
    return TagOut(id=tag.id, name=tag.name, order=tag.order, wecom_tag_id=tag.wecom_tag_id)


@router.patch("/tags/{tag_id}", response_model=TagOut)
def rename_tag(tag_id: int, body: TagRename, actor: CurrentActor, session: DbSession) -> TagOut:
    tag = service.rename_tag(session, actor=actor, tag_id=tag_id, name=body.name)
    return TagOut(id=tag.id, name=tag.name, order=tag.order, wecom_tag_id=tag.wecom_tag_id)


@router.delete("/tags/{tag_id}", status_code=204)
def delete_tag(tag_id: int, actor: CurrentActor, session: DbSession) -> None:
    service.delete_tag(session, actor=actor, tag_id=tag_id)
