"""Customers and corp tags for the console: lists with data scopes, the profile, tag management.

Tag edits are made locally and published as events; the WeCom adapter pushes them to the corp
(`scrm.platforms.wecom.tag_push`) and records WeCom's ids. Never commits.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

from sqlalchemy import Select, Text, cast, exists, or_, select
from sqlalchemy.orm import Session

from scrm.core.actors import Actor, DataScope
from scrm.core.errors import Conflict, NotFound
from scrm.core.events import publish
from scrm.core.pagination import PageRequest, paginate
from scrm.core.tenancy import require_in_tenant, tenant_select
from scrm.customers.events import TagCreated, TagDeleted, TagGroupCreated, TagRenamed
from scrm.customers.models import (
    Customer,
    CustomerIdentity,
    FollowRelation,
    FollowStatus,
    Tag,
    TagGroup,
    TimelineEntry,
)
from scrm.customers.permissions import CustomerPermission
from scrm.customers.schemas import (
    CustomerDetailOut,
    CustomerOut,
    FollowOut,
    IdentityOut,
    TagBrief,
    TagGroupCreate,
    TagGroupOut,
    TagOut,
    TimelineOut,
)
from scrm.identity.audit import record_audit
from scrm.identity.service import user_ids_in_departments
from scrm.staff.service import names_by_userid, userids_of_users


def _visible_staff_userids(session: Session, actor: Actor) -> set[str] | None:
    """The staff whose customers the actor sees; None means every customer."""
    if actor.data_scope == DataScope.ALL:
        return None
    if actor.data_scope == DataScope.OWN:
        user_ids = {actor.user_id} if actor.user_id is not None else set()
    else:
        user_ids = user_ids_in_departments(
            session, tenant_id=actor.tenant_id, department_ids=actor.department_ids
        )
        if actor.user_id is not None:
            user_ids.add(actor.user_id)
    return userids_of_users(session, tenant_id=actor.tenant_id, user_ids=user_ids)


def _scoped(session: Session, actor: Actor, stmt: Select) -> Select:
    userids = _visible_staff_userids(session, actor)
    if userids is None:
        return stmt
    return stmt.where(
        exists().where(
            FollowRelation.customer_id == Customer.id,
            FollowRelation.tenant_id == actor.tenant_id,
            FollowRelation.staff_userid.in_(userids),
        )
    )


def _tag_briefs(session: Session, tenant_id: int, wecom_tag_ids: set[str]) -> dict[str, TagBrief]:
    if not wecom_tag_ids:
        return {}
    rows = session.execute(
        select(Tag, TagGroup)
        .join(TagGroup, TagGroup.id == Tag.group_id)
        .where(Tag.tenant_id == tenant_id, Tag.wecom_tag_id.in_(wecom_tag_ids), Tag.is_deleted.is_(False))
    ).all()
    return {
        str(tag.wecom_tag_id): TagBrief(id=tag.id, name=tag.name, group_name=group.name)
        for tag, group in rows
    }


def _render(session: Session, tenant_id: int, customers: Sequence[Customer]) -> list[CustomerOut]:
    ids = [customer.id for customer in customers]
    identities: dict[int, list[IdentityOut]] = defaultdict(list)
    for identity in session.scalars(
        select(CustomerIdentity).where(
            CustomerIdentity.tenant_id == tenant_id, CustomerIdentity.customer_id.in_(ids)
        )
    ):
        # Phone identities are keyed hashes: show that one exists, never the hash.
        value = "••••" if identity.kind == "phone" else identity.value
        identities[identity.customer_id].append(
            IdentityOut(kind=identity.kind, namespace=identity.namespace, value=value)
        )
    relations = list(
        session.scalars(
            select(FollowRelation)
            .where(FollowRelation.tenant_id == tenant_id, FollowRelation.customer_id.in_(ids))
            .order_by(FollowRelation.followed_at)
        )
    )
    tags = _tag_briefs(session, tenant_id, {tag for relation in relations for tag in relation.tag_ids})
    staff_names = names_by_userid(session, tenant_id=tenant_id, userids={r.staff_userid for r in relations})
    follows: dict[int, list[FollowOut]] = defaultdict(list)
    for relation in relations:
        follows[relation.customer_id].append(
            FollowOut(
                connection_id=relation.connection_id,
                staff_userid=relation.staff_userid,
                staff_name=staff_names.get(relation.staff_userid),
                remark=relation.remark,
                description=relation.description,
                state=relation.state,
                add_way=relation.add_way,
                status=relation.status,
                followed_at=relation.followed_at,
                deleted_at=relation.deleted_at,
                tags=[tags[tag] for tag in relation.tag_ids if tag in tags],
            )
        )
    result = []
    for customer in customers:
        customer_follows = follows.get(customer.id, [])
        unique_tags = {
            tag.id: tag
            for follow in customer_follows
            if follow.status == FollowStatus.ACTIVE
            for tag in follow.tags
        }
        result.append(
            CustomerOut(
                id=customer.id,
                name=customer.name,
                avatar_url=customer.avatar_url,
                gender=customer.gender,
                corp_name=customer.corp_name,
                identities=identities.get(customer.id, []),
                follow_staff=customer_follows,
                tags=list(unique_tags.values()),
                created_at=customer.created_at,
            )
        )
    return result


def list_customers(
    session: Session,
    *,
    actor: Actor,
    page: PageRequest,
    q: str | None = None,
    staff_userid: str | None = None,
    tag_id: int | None = None,
    connection_id: int | None = None,
) -> tuple[list[CustomerOut], str | None]:
    """Customers the actor may see, newest first, with identities and follow staff."""
    actor.require(CustomerPermission.VIEW)
    stmt = _scoped(
        session, actor, tenant_select(Customer, actor.tenant_id).where(Customer.merged_into_id.is_(None))
    )
    relation_filters = []
    if staff_userid:
        relation_filters.append(FollowRelation.staff_userid == staff_userid)
    if connection_id is not None:
        relation_filters.append(FollowRelation.connection_id == connection_id)
    if tag_id is not None:
        tag = require_in_tenant(session, Tag, actor.tenant_id, tag_id)
        # tag_ids is a JSON list; matching its serialised form keeps one query for both databases.
        relation_filters.append(cast(FollowRelation.tag_ids, Text).like(f'%"{tag.wecom_tag_id}"%'))
    if relation_filters:
        stmt = stmt.where(
            exists().where(
                FollowRelation.customer_id == Customer.id,
                FollowRelation.tenant_id == actor.tenant_id,
                *relation_filters,
            )
        )
    if q:
        pattern = f"%{q.strip()}%"
        stmt = stmt.where(
            or_(
                Customer.name.ilike(pattern),
                exists().where(
                    FollowRelation.customer_id == Customer.id, FollowRelation.remark.ilike(pattern)
                ),
                exists().where(
                    CustomerIdentity.customer_id == Customer.id, CustomerIdentity.value == q.strip()
                ),
            )
        )
    customers, next_cursor = paginate(session, stmt, Customer.id, page)
    return _render(session, actor.tenant_id, customers), next_cursor


def get_customer(session: Session, *, actor: Actor, customer_id: int) -> CustomerDetailOut:
    """The customer 360 profile; 404 if outside the tenant or the actor's data scope."""
    actor.require(CustomerPermission.VIEW)
    customer = session.scalars(
        _scoped(session, actor, tenant_select(Customer, actor.tenant_id).where(Customer.id == customer_id))
    ).one_or_none()
    if customer is None:
        raise NotFound(f"customer {customer_id} not found")
    base = _render(session, actor.tenant_id, [customer])[0]
    timeline = session.scalars(
        select(TimelineEntry)
        .where(TimelineEntry.tenant_id == actor.tenant_id, TimelineEntry.customer_id == customer.id)
        .order_by(TimelineEntry.occurred_at.desc(), TimelineEntry.id.desc())
        .limit(200)
    )
    return CustomerDetailOut(
        **base.model_dump(),
        timeline=[
            TimelineOut(occurred_at=e.occurred_at, kind=e.kind, summary=e.summary, detail=e.detail)
            for e in timeline
        ],
    )


# --- corp tags --------------------------------------------------------------------------------------------


def list_tag_groups(session: Session, *, actor: Actor, connection_id: int | None = None) -> list[TagGroupOut]:
    actor.require(CustomerPermission.VIEW)
    groups_stmt = tenant_select(TagGroup, actor.tenant_id).where(TagGroup.is_deleted.is_(False))
    if connection_id is not None:
        groups_stmt = groups_stmt.where(TagGroup.connection_id == connection_id)
    groups = list(session.scalars(groups_stmt.order_by(TagGroup.order.desc(), TagGroup.id)))
    tags: dict[int, list[TagOut]] = defaultdict(list)
    for tag in session.scalars(
        tenant_select(Tag, actor.tenant_id)
        .where(Tag.group_id.in_([group.id for group in groups]), Tag.is_deleted.is_(False))
        .order_by(Tag.order.desc(), Tag.id)
    ):
        tags[tag.group_id].append(
            TagOut(id=tag.id, name=tag.name, order=tag.order, wecom_tag_id=tag.wecom_tag_id)
        )
    return [
        TagGroupOut(
            id=g.id,
            name=g.name,
            order=g.order,
            connection_id=g.connection_id,
            wecom_group_id=g.wecom_group_id,
            tags=tags.get(g.id, []),
        )
        for g in groups
    ]


def create_tag_group(session: Session, *, actor: Actor, data: TagGroupCreate) -> TagGroup:
    """A new group with its tags, pushed to the WeCom corp of `data.connection_id`."""
    actor.require(CustomerPermission.TAGS_MANAGE)
    duplicate = session.scalars(
        tenant_select(TagGroup, actor.tenant_id).where(
            TagGroup.connection_id == data.connection_id,
            TagGroup.name == data.name,
            TagGroup.is_deleted.is_(False),
        )
    ).first()
    if duplicate is not None:
        raise Conflict(
            f"tag group {data.name!r} already exists",
            field_errors=[{"field": "name", "message": "already exists"}],
        )
    if len(set(data.tags)) != len(data.tags):
        raise Conflict(
            "tag names in a group must differ", field_errors=[{"field": "tags", "message": "duplicates"}]
        )
    group = TagGroup(tenant_id=actor.tenant_id, connection_id=data.connection_id, name=data.name)
    session.add(group)
    session.flush()
    for name in data.tags:
        session.add(
            Tag(tenant_id=actor.tenant_id, connection_id=data.connection_id, group_id=group.id, name=name)
        )
    session.flush()
    publish(session, TagGroupCreated(tenant_id=actor.tenant_id, group_id=group.id))
    record_audit(
        session,
        actor=actor,
        action="tag_group.created",
        target_type="tag_group",
        target_id=group.id,
        detail={"name": data.name, "tags": data.tags},
    )
    return group


def add_tag(session: Session, *, actor: Actor, group_id: int, name: str) -> Tag:
    actor.require(CustomerPermission.TAGS_MANAGE)
    group = require_in_tenant(session, TagGroup, actor.tenant_id, group_id)
    duplicate = session.scalars(
        tenant_select(Tag, actor.tenant_id).where(
            Tag.group_id == group.id, Tag.name == name, Tag.is_deleted.is_(False)
        )
    ).first()
    if duplicate is not None:
        raise Conflict(
            f"tag {name!r} already exists in this group",
            field_errors=[{"field": "name", "message": "already exists"}],
        )
    tag = Tag(tenant_id=actor.tenant_id, connection_id=group.connection_id, group_id=group.id, name=name)
    session.add(tag)
    session.flush()
    publish(session, TagCreated(tenant_id=actor.tenant_id, tag_id=tag.id))
    record_audit(
        session,
        actor=actor,
        action="tag.created",
        target_type="tag",
        target_id=tag.id,
        detail={"name": name, "group": group.name},
    )
    return tag


def rename_tag(session: Session, *, actor: Actor, tag_id: int, name: str) -> Tag:
    actor.require(CustomerPermission.TAGS_MANAGE)
    tag = require_in_tenant(session, Tag, actor.tenant_id, tag_id)
    old = tag.name
    tag.name = name
    session.flush()
    publish(session, TagRenamed(tenant_id=actor.tenant_id, tag_id=tag.id))
    record_audit(
        session,
        actor=actor,
        action="tag.renamed",
        target_type="tag",
        target_id=tag.id,
        detail={"from": old, "to": name},
    )
    return tag


def delete_tag(session: Session, *, actor: Actor, tag_id: int) -> None:
    actor.require(CustomerPermission.TAGS_MANAGE)
    tag = require_in_tenant(session, Tag, actor.tenant_id, tag_id)
    tag.is_deleted = True
    session.flush()
    publish(session, TagDeleted(tenant_id=actor.tenant_id, tag_id=tag.id))
    record_audit(
        session,
        actor=actor,
        action="tag.deleted",
        target_type="tag",
        target_id=tag.id,
        detail={"name": tag.name},
    )


def get_tag(session: Session, *, tenant_id: int, tag_id: int) -> Tag | None:
    return session.scalars(tenant_select(Tag, tenant_id).where(Tag.id == tag_id)).one_or_none()


def get_tag_group(session: Session, *, tenant_id: int, group_id: int) -> TagGroup | None:
    return session.scalars(tenant_select(TagGroup, tenant_id).where(TagGroup.id == group_id)).one_or_none()


def tags_of_group(session: Session, *, tenant_id: int, group_id: int) -> list[Tag]:
    return list(
        session.scalars(
            tenant_select(Tag, tenant_id).where(Tag.group_id == group_id, Tag.is_deleted.is_(False))
        )
    )
