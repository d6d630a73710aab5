"""Customers and corp tags for the console: lists with filters and data scopes, the 360 profile,
tagging, merges, identity resolution, custom attributes and tag management.

Tag edits are made locally and published as events; the WeCom reactions push them to the corp
(`scrm.platforms.wecom.reactions`) and record WeCom's ids. Never commits.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Select, or_, select
from sqlalchemy.orm import Session

from scrm.core.actors import Actor
from scrm.core.conditions import ConditionError, Node, parse_condition
from scrm.core.errors import Conflict, NotFound, ValidationFailed
from scrm.core.events import publish
from scrm.core.jobs import Job, start_job
from scrm.core.pagination import PageRequest, paginate
from scrm.core.tenancy import require_in_tenant, tenant_select
from scrm.customers import merging, tagging
from scrm.customers.events import TagCreated, TagDeleted, TagGroupCreated, TagRenamed
from scrm.customers.fields import customer_fields
from scrm.customers.models import (
    Customer,
    CustomerIdentity,
    CustomerMerge,
    CustomerTag,
    FollowRelation,
    IdentityKind,
    Segment,
    Tag,
    TagGroup,
    TimelineEntry,
)
from scrm.customers.permissions import CustomerPermission
from scrm.customers.phones import mask_phone, phone_vault
from scrm.customers.query import customer_select, parse_customer_condition, visible_staff_userids
from scrm.customers.schemas import (
    BulkTagRequest,
    CustomerDetailOut,
    CustomerFilter,
    CustomerOut,
    FollowOut,
    IdentityOut,
    MergeOut,
    OrderStatsOut,
    ShopOrderStatsOut,
    TagBrief,
    TagChangeOut,
    TagGroupCreate,
    TagGroupOut,
    TagOut,
    TimelineOut,
)
from scrm.customers.tag_index import drop_tags_from_index
from scrm.customers.tagging import TagPush, record_tag_push, tag_push_plan
from scrm.identity.audit import record_audit
from scrm.staff.service import names_by_userid

__all__ = ["TagPush", "record_tag_push", "tag_push_plan"]

BULK_TAG_JOB = "customers.bulk_tag"


# --- reading customers ------------------------------------------------------------------------------


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


def _customer_tags(session: Session, tenant_id: int, ids: Sequence[int]) -> dict[int, list[TagBrief]]:
    """Each customer's tags, from the tag index (WeCom tags of active relations and local tags)."""
    result: dict[int, list[TagBrief]] = defaultdict(list)
    for customer_id, tag, group in session.execute(
        select(CustomerTag.customer_id, Tag, TagGroup)
        .join(Tag, Tag.id == CustomerTag.tag_id)
        .join(TagGroup, TagGroup.id == Tag.group_id)
        .where(CustomerTag.tenant_id == tenant_id, CustomerTag.customer_id.in_(list(ids)))
        .order_by(TagGroup.id, Tag.order.desc(), Tag.id)
    ):
        result[customer_id].append(
            TagBrief(id=tag.id, name=tag.name, group_name=group.name, local=tag.connection_id is None)
        )
    return result


def _identity_value(identity: CustomerIdentity, tenant_id: int, full_pii: bool) -> str:
    if identity.kind != IdentityKind.PHONE:
        return identity.value
    number = phone_vault().open(tenant_id, identity.value_encrypted) if identity.value_encrypted else None
    if number is None:
        return "••••"
    return number if full_pii else mask_phone(number)


def _render(
    session: Session, tenant_id: int, customers: Sequence[Customer], *, full_pii: bool = False
) -> list[CustomerOut]:
    ids = [customer.id for customer in customers]
    identities: dict[int, list[IdentityOut]] = defaultdict(list)
    for identity in session.scalars(
        select(CustomerIdentity)
        .where(CustomerIdentity.tenant_id == tenant_id, CustomerIdentity.customer_id.in_(ids))
        .order_by(CustomerIdentity.id)
    ):
        identities[identity.customer_id].append(
            IdentityOut(
                kind=identity.kind,
                namespace=identity.namespace,
                value=_identity_value(identity, tenant_id, full_pii),
            )
        )
    relations = list(
        session.scalars(
            select(FollowRelation)
            .where(FollowRelation.tenant_id == tenant_id, FollowRelation.customer_id.in_(ids))
            .order_by(FollowRelation.followed_at, FollowRelation.id)
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
    customer_tags = _customer_tags(session, tenant_id, ids)
    return [
        CustomerOut(
            id=customer.id,
            name=customer.name,
            avatar_url=customer.avatar_url,
            gender=customer.gender,
            corp_name=customer.corp_name,
            identities=identities.get(customer.id, []),
            follow_staff=follows.get(customer.id, []),
            tags=customer_tags.get(customer.id, []),
            created_at=customer.created_at,
            added_at=customer.first_seen_at,
            source_channel_id=customer.source_channel_id,
            source_label=customer.source_label,
            store=customer.store,
            region=customer.region,
            attributes=dict(customer.attributes or {}),
            orders=OrderStatsOut(
                order_count=customer.order_count,
                total_spent_fen=customer.total_spent_fen,
                avg_order_fen=customer.avg_order_fen,
                first_order_at=customer.first_order_at,
                last_order_at=customer.last_order_at,
                platform_count=customer.platform_count,
                rfm_r=customer.rfm_r,
                rfm_f=customer.rfm_f,
                rfm_m=customer.rfm_m,
                by_shop=[ShopOrderStatsOut.model_validate(item) for item in customer.orders_by_shop or []],
            ),
        )
        for customer in customers
    ]


def render_customers(session: Session, *, actor: Actor, customers: Sequence[Customer]) -> list[CustomerOut]:
    return _render(session, actor.tenant_id, customers, full_pii=actor.can(CustomerPermission.PII_VIEW))


def filter_condition(session: Session, tenant_id: int, data: CustomerFilter) -> Node | None:
    """The list filters as one condition (`all` of a clause per filter); ValidationFailed names the
    filter (query parameter) at fault."""
    clauses: list[tuple[str, dict[str, Any]]] = []
    for param, op in (
        ("tags_all", "contains_all"),
        ("tags_any", "contains_any"),
        ("tags_none", "contains_none"),
    ):
        values = getattr(data, param)
        if values:
            clauses.append((param, {"field": "tags", "op": op, "value": list(values)}))
    if data.channel_id is not None:
        clauses.append(("channel_id", {"field": "channel", "op": "eq", "value": data.channel_id}))
    if data.staff:
        clauses.append(("staff", {"field": "staff", "op": "contains_any", "value": [data.staff]}))
    if data.connection_id is not None:
        clauses.append(
            ("connection_id", {"field": "connection", "op": "contains_any", "value": [data.connection_id]})
        )
    if data.store:
        clauses.append(("store", {"field": "store", "op": "eq", "value": data.store}))
    if data.region:
        clauses.append(("region", {"field": "region", "op": "eq", "value": data.region}))
    if data.added_from:
        clauses.append(("added_from", {"field": "added_at", "op": "gte", "value": data.added_from}))
    if data.added_to:
        clauses.append(("added_to", {"field": "added_at", "op": "lte", "value": data.added_to}))
    if not clauses:
        return None
    registry = customer_fields(session, tenant_id)
    errors: list[dict[str, str]] = []
    for param, clause in clauses:
        try:
            parse_condition(clause, registry)
        except ConditionError as error:
            errors.extend({"field": param, "message": issue.message} for issue in error.issues)
    if errors:
        raise ValidationFailed("some filters are not valid", field_errors=errors)
    return parse_condition({"all": [clause for _, clause in clauses]}, registry)


def list_customers(
    session: Session,
    *,
    actor: Actor,
    page: PageRequest,
    filters: CustomerFilter | None = None,
) -> tuple[list[CustomerOut], str | None]:
    """Customers the actor may see, newest first, filtered (see `CustomerFilter`)."""
    actor.require(CustomerPermission.VIEW)
    filters = filters or CustomerFilter()
    stmt = customer_select(
        session,
        tenant_id=actor.tenant_id,
        scope_userids=visible_staff_userids(session, actor),
        condition=filter_condition(session, actor.tenant_id, filters),
        q=filters.q,
    )
    customers, next_cursor = paginate(session, stmt, Customer.id, page)
    return render_customers(session, actor=actor, customers=customers), next_cursor


def access_customer(session: Session, *, actor: Actor, customer_id: int) -> Customer:
    """The live customer if the actor may see it: NotFound outside the tenant or the data scope,
    CustomerMergedAway (404 with `merged_into_id`) for a merged profile."""
    actor.require(CustomerPermission.VIEW)
    customer = merging.require_live_customer(session, actor.tenant_id, customer_id)
    scope = visible_staff_userids(session, actor)
    if scope is not None:
        visible = session.scalar(
            customer_select(
                session, tenant_id=actor.tenant_id, scope_userids=scope, columns=(Customer.id,)
            ).where(Customer.id == customer.id)
        )
        if visible is None:
            raise NotFound(f"customer {customer_id} not found")
    return customer


def merge_out(record: CustomerMerge) -> MergeOut:
    return MergeOut(
        id=record.id,
        survivor_id=record.survivor_id,
        merged_id=record.merged_id,
        status=record.status,
        rule=record.rule,
        reason=record.reason,
        explanation=record.explanation,
        actor=record.actor,
        created_at=record.created_at,
        undone_at=record.undone_at,
        undo_reason=record.undo_reason,
    )


def get_customer(session: Session, *, actor: Actor, customer_id: int) -> CustomerDetailOut:
    """The customer 360 profile (identities, tags, channel, follow staff, timeline, merges)."""
    customer = access_customer(session, actor=actor, customer_id=customer_id)
    base = render_customers(session, actor=actor, customers=[customer])[0]
    timeline = session.scalars(
        select(TimelineEntry)
        .where(TimelineEntry.tenant_id == actor.tenant_id, TimelineEntry.customer_id == customer.id)
        .order_by(TimelineEntry.occurred_at.desc(), TimelineEntry.id.desc())
        .limit(200)
    )
    merges = session.scalars(
        select(CustomerMerge)
        .where(
            CustomerMerge.tenant_id == actor.tenant_id,
            or_(CustomerMerge.survivor_id == customer.id, CustomerMerge.merged_id == customer.id),
        )
        .order_by(CustomerMerge.id.desc())
    )
    return CustomerDetailOut(
        **base.model_dump(),
        timeline=[
            TimelineOut(occurred_at=e.occurred_at, kind=e.kind, summary=e.summary, detail=e.detail)
            for e in timeline
        ],
        merges=[merge_out(record) for record in merges],
    )


# --- tagging customers -----------------------------------------------------------------------------


def change_customer_tags(
    session: Session, *, actor: Actor, customer_id: int, add: Sequence[int], remove: Sequence[int]
) -> TagChangeOut:
    """Add/remove tags on one customer now; WeCom tags are pushed by the reaction within seconds.

    Raises ValidationFailed when a WeCom tag is added to a customer without an active follow
    relation in that tag's corp (WeCom keeps tags per relation)."""
    actor.require(CustomerPermission.EDIT)
    customer = access_customer(session, actor=actor, customer_id=customer_id)
    tags = tagging.load_tags(session, actor.tenant_id, add, remove)
    outcome = tagging.apply_tag_change(
        session,
        tenant_id=actor.tenant_id,
        customer_ids=[customer.id],
        tags=tags,
        add=add,
        remove=remove,
        actor_label=actor.label,
    )
    if customer.id in outcome.skipped:
        raise ValidationFailed(
            "the customer has no active follow staff in the WeCom corp of some of these tags",
            field_errors=[{"field": "add", "message": outcome.skipped[customer.id]}],
        )
    if outcome.changed:
        record_audit(
            session,
            actor=actor,
            action="customer.tags_changed",
            target_type="customer",
            target_id=customer.id,
            detail={"add": list(add), "remove": list(remove)},
        )
    return TagChangeOut(
        customer_id=customer.id,
        changed=bool(outcome.changed),
        tags=_customer_tags(session, actor.tenant_id, [customer.id]).get(customer.id, []),
    )


def start_bulk_tag(session: Session, *, actor: Actor, data: BulkTagRequest) -> Job:
    """A job tagging every matching customer in batches, with progress. The target is fixed at
    start: the condition, the actor's data scope, the clock (for relative dates) and the newest id."""
    from scrm.core.clock import utcnow

    actor.require(CustomerPermission.EDIT)
    tagging.load_tags(session, actor.tenant_id, data.add, data.remove)
    targets = [
        data.segment_id is not None,
        data.condition is not None,
        data.filter is not None,
        data.customer_ids is not None,
    ]
    if sum(targets) != 1:
        raise ValidationFailed(
            "name exactly one target: segment_id, condition, filter or customer_ids",
            field_errors=[{"field": "segment_id", "message": "exactly one target"}],
        )
    condition: dict[str, Any] | None = None
    q: str | None = None
    if data.segment_id is not None:
        segment = require_in_tenant(session, Segment, actor.tenant_id, data.segment_id)
        condition = segment.condition
    elif data.condition is not None:
        condition = data.condition
    elif data.filter is not None:
        node = filter_condition(session, actor.tenant_id, data.filter)
        from scrm.core.conditions import condition_to_json

        condition = condition_to_json(node) if node is not None else None
        q = data.filter.q
    if condition is not None:
        parse_customer_condition(session, actor.tenant_id, condition)
    scope = visible_staff_userids(session, actor)
    newest = session.scalar(
        select(Customer.id).where(Customer.tenant_id == actor.tenant_id).order_by(Customer.id.desc()).limit(1)
    )
    job, _ = start_job(
        session,
        tenant_id=actor.tenant_id,
        kind=BULK_TAG_JOB,
        title="批量打标签 Bulk tagging",
        params={
            "add": list(data.add),
            "remove": list(data.remove),
            "condition": condition,
            "q": q,
            "customer_ids": data.customer_ids,
            "scope_userids": sorted(scope) if scope is not None else None,
            "max_id": newest or 0,
            "now": utcnow().isoformat(),
            "actor": actor.label,
        },
        created_by=actor.label,
    )
    record_audit(
        session,
        actor=actor,
        action="customer.bulk_tag_started",
        target_type="job",
        target_id=job.id,
        detail={"add": list(data.add), "remove": list(data.remove)},
    )
    return job


def set_customer_source(
    session: Session,
    *,
    tenant_id: int,
    customer_id: int,
    channel_id: int | None,
    label: str | None,
    store: str | None = None,
    region: str | None = None,
    overwrite: bool = False,
) -> bool:
    """Record where a customer came from (the channels module calls this on an add). The first
    channel sticks unless `overwrite`; store and region fill when empty. Returns whether it changed."""
    customer = session.get(Customer, customer_id)
    if customer is None or customer.tenant_id != tenant_id:
        return False
    changed = False
    if overwrite or (customer.source_channel_id is None and customer.source_label is None):
        customer.source_channel_id, customer.source_label = channel_id, label
        changed = True
    for name, value in (("store", store), ("region", region)):
        if value and (overwrite or not getattr(customer, name)):
            setattr(customer, name, value)
            changed = True
    session.flush()
    return changed


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
    drop_tags_from_index(session, actor.tenant_id, [tag.id])
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


# --- for other domains (commerce: orders by customer scope and search) -----------------------------


def visible_customer_ids(session: Session, actor: Actor) -> Select[Any] | None:
    """SELECT of the ids of customers in the actor's data scope; None when the actor sees everyone."""
    scope = visible_staff_userids(session, actor)
    if scope is None:
        return None
    return customer_select(session, tenant_id=actor.tenant_id, scope_userids=scope, columns=(Customer.id,))


def customer_ids_matching(session: Session, *, tenant_id: int, q: str) -> Select[Any]:
    """SELECT of the ids of live customers whose name, an identifier or phone number matches `q`."""
    return customer_select(session, tenant_id=tenant_id, scope_userids=None, q=q, columns=(Customer.id,))


def customer_names(session: Session, *, tenant_id: int, ids: Sequence[int]) -> dict[int, str]:
    """id → display name of the given customers (absent ids are left out)."""
    if not ids:
        return {}
    return dict(
        session.execute(
            select(Customer.id, Customer.name).where(
                Customer.tenant_id == tenant_id, Customer.id.in_(list(set(ids)))
            )
        ).all()
    )
