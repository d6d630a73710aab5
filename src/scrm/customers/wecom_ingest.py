"""Writing what WeCom tells us into customer profiles: contacts, follow relations, corp tags.

Used by the full sync (pages of `batch/get_by_user`) and by the callback handlers. Every function is
an idempotent upsert: applying the same WeCom data twice leaves the same rows. Never commits.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Table, bindparam, insert, select, update
from sqlalchemy.orm import Session

from scrm.core.clock import utcnow
from scrm.customers.identity_resolution import reconcile_wecom
from scrm.customers.models import (
    Customer,
    CustomerIdentity,
    FollowRelation,
    FollowStatus,
    IdentityKind,
    Tag,
    TagGroup,
    TimelineEntry,
)
from scrm.customers.tag_index import backfill_tags, drop_tags_from_index, refresh_customer_tags


@dataclass(frozen=True)
class WeComScope:
    """Which tenant, connection and corp a piece of WeCom data belongs to."""

    tenant_id: int
    connection_id: int
    corp_id: str


def _from_epoch(value: Any) -> datetime | None:
    if value in (None, "", 0, "0"):
        return None
    return datetime.fromtimestamp(int(value), UTC)


def _identities(
    session: Session, tenant_id: int, kind: str, namespace: str, values: Iterable[str]
) -> dict[str, int]:
    """value → customer id for the identities that exist."""
    wanted = list(set(values))
    if not wanted:
        return {}
    rows = session.execute(
        select(CustomerIdentity.value, CustomerIdentity.customer_id).where(
            CustomerIdentity.tenant_id == tenant_id,
            CustomerIdentity.kind == kind,
            CustomerIdentity.namespace == namespace,
            CustomerIdentity.value.in_(wanted),
        )
    ).all()
    return {value: customer_id for value, customer_id in rows}


class _IdentityBatch:
    """Identities to insert, written with one executemany INSERT."""

    def __init__(self, tenant_id: int) -> None:
        self.tenant_id = tenant_id
        self.rows: list[dict[str, Any]] = []

    def add(self, customer_id: int, kind: str, namespace: str, value: str) -> None:
        self.rows.append(
            {
                "tenant_id": self.tenant_id,
                "customer_id": customer_id,
                "kind": kind,
                "namespace": namespace,
                "value": value,
            }
        )

    def write(self, session: Session) -> None:
        if self.rows:
            session.execute(insert(CustomerIdentity), self.rows)


def resolve_wecom_customers(
    session: Session, scope: WeComScope, contacts: Sequence[tuple[str, str | None]]
) -> tuple[dict[str, int], set[str]]:
    """Customer ids for (external_userid, unionid) pairs, creating profiles for people never seen.

    Recognition is deterministic: the corp's external_userid first, then the WeChat unionid (the same
    person through another corp or app). When the external_userid and the unionid are held by two
    different profiles, identity resolution merges them (or queues a review when they conflict).
    Returns (external_userid → customer id, the newly created).
    """
    known = _identities(
        session, scope.tenant_id, IdentityKind.WECOM_EXTERNAL_USERID, scope.corp_id, (e for e, _ in contacts)
    )
    by_unionid = _identities(
        session, scope.tenant_id, IdentityKind.WECHAT_UNIONID, "", (u for _, u in contacts if u)
    )
    created: set[str] = set()
    disputed: list[tuple[str, str]] = []
    identities = _IdentityBatch(scope.tenant_id)
    # New people are created in one batch: one customer per unionid (or per external_userid without
    # one), one INSERT for all of them, then one for their identities.
    new_people: dict[str, None] = {}  # insertion-ordered set
    waiting: dict[str, tuple[str | None, str]] = {}
    for external_userid, unionid in contacts:
        if external_userid in known:
            customer_id = known[external_userid]
            if unionid and unionid not in by_unionid:
                identities.add(customer_id, IdentityKind.WECHAT_UNIONID, "", unionid)
                by_unionid[unionid] = customer_id
            elif unionid and by_unionid[unionid] != customer_id:
                # Two profiles hold this person's identifiers: identity resolution decides.
                disputed.append((external_userid, unionid))
            continue
        if external_userid in waiting:
            continue
        if unionid and unionid in by_unionid:
            known[external_userid] = by_unionid[unionid]
            identities.add(
                known[external_userid], IdentityKind.WECOM_EXTERNAL_USERID, scope.corp_id, external_userid
            )
            continue
        person = f"u:{unionid}" if unionid else f"e:{external_userid}"
        new_people.setdefault(person, None)
        waiting[external_userid] = (unionid, person)
    new_ids: dict[str, int] = {}
    if new_people:
        inserted = session.execute(
            insert(Customer).returning(Customer.id, sort_by_parameter_order=True),
            [{"tenant_id": scope.tenant_id, "name": ""} for _ in new_people],
        ).scalars()
        new_ids = dict(zip(new_people, inserted, strict=True))
    for external_userid, (unionid, person) in waiting.items():
        customer_id = new_ids[person]
        if unionid and unionid not in by_unionid:
            identities.add(customer_id, IdentityKind.WECHAT_UNIONID, "", unionid)
            by_unionid[unionid] = customer_id
        identities.add(customer_id, IdentityKind.WECOM_EXTERNAL_USERID, scope.corp_id, external_userid)
        known[external_userid] = customer_id
        created.add(external_userid)
    identities.write(session)
    if disputed:
        known.update(
            reconcile_wecom(session, tenant_id=scope.tenant_id, corp_id=scope.corp_id, pairs=disputed)
        )
    return known, created


def _relation(
    session: Session, scope: WeComScope, external_userid: str, userid: str
) -> FollowRelation | None:
    """The relation of member `userid` with the external contact (its natural key)."""
    return session.scalars(
        select(FollowRelation).where(
            FollowRelation.tenant_id == scope.tenant_id,
            FollowRelation.connection_id == scope.connection_id,
            FollowRelation.external_userid == external_userid,
            FollowRelation.staff_userid == userid,
        )
    ).one_or_none()


def _lower_first_seen(session: Session, earliest: dict[int, datetime]) -> None:
    """`first_seen_at` only moves earlier: the earliest add WeCom reports for each customer."""
    if earliest:
        table = Customer.__table__
        assert isinstance(table, Table)
        session.execute(
            update(table)
            .where(table.c.id == bindparam("cid"), table.c.first_seen_at > bindparam("seen"))
            .values(first_seen_at=bindparam("seen")),
            [{"cid": customer_id, "seen": seen} for customer_id, seen in earliest.items()],
        )


def _apply_follow(relation: FollowRelation, follow: dict[str, Any]) -> None:
    for column, value in _follow_values(follow).items():
        setattr(relation, column, value)


def _follow_values(follow: dict[str, Any]) -> dict[str, Any]:
    """The relation columns a WeCom follow_info/follow_user entry sets (absent ones are left alone)."""
    values: dict[str, Any] = {
        "remark": follow.get("remark") or None,
        "description": follow.get("description") or None,
        "add_way": follow.get("add_way"),
        "oper_userid": follow.get("oper_userid") or None,
        "status": FollowStatus.ACTIVE,
        "deleted_at": None,
        "delete_source": None,
    }
    if follow.get("state"):
        values["state"] = follow["state"]
    followed_at = _from_epoch(follow.get("createtime"))
    if followed_at is not None:
        values["followed_at"] = followed_at
    if "tag_id" in follow:
        values["tag_ids"] = sorted(str(tag) for tag in follow.get("tag_id") or [])
    elif "tags" in follow:
        values["tag_ids"] = sorted(
            str(tag["tag_id"]) for tag in follow.get("tags") or [] if tag.get("tag_id")
        )
    return values


def apply_contacts(session: Session, scope: WeComScope, items: Sequence[dict[str, Any]]) -> int:
    """Apply a page of `batch/get_by_user` items (`{external_contact, follow_info}`) or of `get`
    answers (`{external_contact, follow_user: [...]}`). Returns how many contacts were applied.

    A sync applies a hundred thousand of these, so it writes with a handful of executemany
    statements per page rather than object by object.
    """
    pairs = [
        (str(item["external_contact"]["external_userid"]), item["external_contact"].get("unionid") or None)
        for item in items
    ]
    customer_ids, created = resolve_wecom_customers(session, scope, pairs)
    existing = {
        (external_userid, staff_userid): relation_id
        for relation_id, external_userid, staff_userid in session.execute(
            select(FollowRelation.id, FollowRelation.external_userid, FollowRelation.staff_userid).where(
                FollowRelation.tenant_id == scope.tenant_id,
                FollowRelation.connection_id == scope.connection_id,
                FollowRelation.external_userid.in_({external_userid for external_userid, _ in pairs}),
            )
        )
    }
    profiles: dict[int, dict[str, Any]] = {}
    earliest: dict[int, datetime] = {}
    new_relations: dict[tuple[str, str], dict[str, Any]] = {}
    changed_relations: dict[int, dict[str, Any]] = {}
    timeline: list[dict[str, Any]] = []
    for item in items:
        contact = item["external_contact"]
        external_userid = str(contact["external_userid"])
        customer_id = customer_ids[external_userid]
        profile = profiles.setdefault(customer_id, {"id": customer_id})
        for column, field in (
            ("name", "name"),
            ("avatar_url", "avatar"),
            ("corp_name", "corp_name"),
            ("customer_type", "type"),
            ("gender", "gender"),
        ):
            if contact.get(field) not in (None, ""):
                profile[column] = contact[field]
        follows = item.get("follow_user") or ([item["follow_info"]] if item.get("follow_info") else [])
        for follow in follows:
            key = (external_userid, str(follow["userid"]))
            values = _follow_values(follow)
            if values.get("followed_at") is not None:
                seen = values["followed_at"]
                earliest[customer_id] = min(seen, earliest.get(customer_id, seen))
            if key in existing:
                changed_relations[existing[key]] = {"id": existing[key], **values}
            else:
                new_relations[key] = {
                    "tenant_id": scope.tenant_id,
                    "connection_id": scope.connection_id,
                    "customer_id": customer_id,
                    "staff_userid": key[1],
                    "external_userid": external_userid,
                    "tag_ids": [],
                    **values,
                }
        if external_userid in created:
            timeline.append(
                {
                    "tenant_id": scope.tenant_id,
                    "customer_id": customer_id,
                    "kind": "wecom.synced",
                    "summary": "从企业微信同步",
                    "detail": {"external_userid": external_userid},
                }
            )
    updates = [profile for profile in profiles.values() if len(profile) > 1]
    if updates:
        session.execute(update(Customer), updates)
    if changed_relations:
        session.execute(update(FollowRelation), list(changed_relations.values()))
    if new_relations:
        # executemany wants one shape; absent optional columns are filled with their defaults.
        shape = {"state": None, "followed_at": None}
        session.execute(insert(FollowRelation), [{**shape, **row} for row in new_relations.values()])
    if timeline:
        session.execute(insert(TimelineEntry), timeline)
    _lower_first_seen(session, earliest)
    refresh_customer_tags(session, scope.tenant_id, profiles)
    return len(items)


def record_follow_added(
    session: Session,
    scope: WeComScope,
    *,
    userid: str,
    external_userid: str,
    state: str | None,
    occurred_at: datetime,
    half: bool = False,
) -> tuple[Customer, FollowRelation, bool]:
    """A customer added `userid` (callback). Returns (customer, relation, returning_customer).

    `returning_customer` is True when the person was known before this add (a second scan, or a
    re-add after deleting): they are recognised, not duplicated.
    """
    customer_ids, created = resolve_wecom_customers(session, scope, [(external_userid, None)])
    customer = session.get_one(Customer, customer_ids[external_userid])
    if external_userid in created or occurred_at < customer.first_seen_at:
        customer.first_seen_at = occurred_at
    relation = _relation(session, scope, external_userid, userid)
    if relation is None:
        relation = FollowRelation(
            tenant_id=scope.tenant_id,
            connection_id=scope.connection_id,
            customer_id=customer.id,
            staff_userid=userid,
            external_userid=external_userid,
        )
        session.add(relation)
    _apply_follow(relation, {"userid": userid, "state": state, "createtime": int(occurred_at.timestamp())})
    session.add(
        TimelineEntry(
            tenant_id=scope.tenant_id,
            customer_id=customer.id,
            occurred_at=occurred_at,
            kind="wecom.half_added" if half else "wecom.added",
            summary=f"添加了员工 {userid}" + (f"（渠道 {state}）" if state else ""),
            detail={"userid": userid, "state": state, "external_userid": external_userid},
        )
    )
    session.flush()
    refresh_customer_tags(session, scope.tenant_id, [customer.id])
    return customer, relation, external_userid not in created


def record_follow_removed(
    session: Session,
    scope: WeComScope,
    *,
    userid: str,
    external_userid: str,
    by_customer: bool,
    source: str | None,
    occurred_at: datetime,
) -> FollowRelation | None:
    """The staff member deleted the customer, or the customer deleted the staff member (callback)."""
    customer_ids = _identities(
        session, scope.tenant_id, IdentityKind.WECOM_EXTERNAL_USERID, scope.corp_id, [external_userid]
    )
    if external_userid not in customer_ids:
        return None
    customer_id = customer_ids[external_userid]
    relation = _relation(session, scope, external_userid, userid)
    if relation is None:
        return None
    relation.status = FollowStatus.DELETED_BY_CUSTOMER if by_customer else FollowStatus.DELETED_BY_STAFF
    relation.deleted_at = occurred_at
    relation.delete_source = source
    session.add(
        TimelineEntry(
            tenant_id=scope.tenant_id,
            customer_id=customer_id,
            occurred_at=occurred_at,
            kind="wecom.deleted_by_customer" if by_customer else "wecom.deleted_by_staff",
            summary=(f"删除了员工 {userid}" if by_customer else f"被员工 {userid} 删除")
            + (f"（{source}）" if source else ""),
            detail={"userid": userid, "source": source, "external_userid": external_userid},
        )
    )
    session.flush()
    refresh_customer_tags(session, scope.tenant_id, [relation.customer_id])
    return relation


def known_external_userids(session: Session, scope: WeComScope, userid: str) -> set[str]:
    """The external_userids `userid` actively follows, as we hold them."""
    return set(
        session.scalars(
            select(FollowRelation.external_userid).where(
                FollowRelation.tenant_id == scope.tenant_id,
                FollowRelation.connection_id == scope.connection_id,
                FollowRelation.staff_userid == userid,
                FollowRelation.status == FollowStatus.ACTIVE,
            )
        )
    )


def mark_relations_gone(
    session: Session, scope: WeComScope, *, userid: str, external_userids: set[str]
) -> int:
    """Relations WeCom no longer lists (a deletion whose callback we missed). Returns how many."""
    if not external_userids:
        return 0
    relations = session.scalars(
        select(FollowRelation).where(
            FollowRelation.tenant_id == scope.tenant_id,
            FollowRelation.connection_id == scope.connection_id,
            FollowRelation.staff_userid == userid,
            FollowRelation.external_userid.in_(external_userids),
            FollowRelation.status == FollowStatus.ACTIVE,
        )
    ).all()
    now = utcnow()
    for relation in relations:
        relation.status = FollowStatus.GONE
        relation.deleted_at = now
        relation.delete_source = "not_listed_at_sync"
        session.add(
            TimelineEntry(
                tenant_id=scope.tenant_id,
                customer_id=relation.customer_id,
                kind="wecom.gone",
                summary=f"与员工 {userid} 的好友关系已不存在（同步发现）",
                detail={"userid": userid, "external_userid": relation.external_userid},
            )
        )
    session.flush()
    refresh_customer_tags(session, scope.tenant_id, {relation.customer_id for relation in relations})
    return len(relations)


def upsert_corp_tags(
    session: Session, scope: WeComScope, tag_groups: Sequence[dict[str, Any]], *, complete: bool
) -> int:
    """Mirror `get_corp_tag_list` groups. With `complete`, groups and tags absent from the list are
    marked deleted (a full listing); otherwise only the given ones change. Returns tags written."""
    groups = {
        group.wecom_group_id: group
        for group in session.scalars(
            select(TagGroup).where(
                TagGroup.tenant_id == scope.tenant_id, TagGroup.connection_id == scope.connection_id
            )
        )
    }
    tags = {
        tag.wecom_tag_id: tag
        for tag in session.scalars(
            select(Tag).where(Tag.tenant_id == scope.tenant_id, Tag.connection_id == scope.connection_id)
        )
    }
    was_live = {tag.id: not tag.is_deleted for tag in tags.values()}
    seen_groups: set[str] = set()
    seen_tags: set[str] = set()
    written = 0
    for raw_group in tag_groups:
        group_id = str(raw_group["group_id"])
        seen_groups.add(group_id)
        group = groups.get(group_id)
        if group is None:
            group = TagGroup(
                tenant_id=scope.tenant_id, connection_id=scope.connection_id, wecom_group_id=group_id, name=""
            )
            session.add(group)
            groups[group_id] = group
        group.name = str(raw_group.get("group_name") or group.name)
        group.order = int(raw_group.get("order") or 0)
        group.is_deleted = bool(raw_group.get("deleted"))
        session.flush()
        for raw_tag in raw_group.get("tag") or []:
            tag_id = str(raw_tag["id"])
            seen_tags.add(tag_id)
            tag = tags.get(tag_id)
            if tag is None:
                tag = Tag(
                    tenant_id=scope.tenant_id,
                    connection_id=scope.connection_id,
                    wecom_tag_id=tag_id,
                    group_id=group.id,
                    name="",
                )
                session.add(tag)
                tags[tag_id] = tag
            tag.group_id = group.id
            tag.name = str(raw_tag.get("name") or tag.name)
            tag.order = int(raw_tag.get("order") or 0)
            tag.is_deleted = bool(raw_tag.get("deleted"))
            written += 1
    if complete:
        for known_group_id, known_group in groups.items():
            if known_group_id not in seen_groups:
                known_group.is_deleted = True
        for known_tag_id, known_tag in tags.items():
            if known_tag_id not in seen_tags:
                known_tag.is_deleted = True
    session.flush()
    _reindex_changed_tags(session, scope.tenant_id, was_live, tags.values())
    return written


def _reindex_changed_tags(
    session: Session, tenant_id: int, was_live: dict[int, bool], tags: Iterable[Tag]
) -> None:
    """Tags that appeared or came back join the index; tags that were deleted leave it."""
    appeared = [tag for tag in tags if not tag.is_deleted and not was_live.get(tag.id, False)]
    gone = [tag.id for tag in tags if tag.is_deleted and was_live.get(tag.id, False)]
    drop_tags_from_index(session, tenant_id, gone)
    if appeared:
        backfill_tags(session, tenant_id, appeared)


def record_pushed_tag_ids(
    session: Session, *, tenant_id: int, group_id: int, wecom_group_id: str, tag_ids_by_name: dict[str, str]
) -> None:
    """After a push to WeCom: remember the ids WeCom gave the group and its tags (matched by name)."""
    group = session.scalars(
        select(TagGroup).where(TagGroup.tenant_id == tenant_id, TagGroup.id == group_id)
    ).one()
    group.wecom_group_id = wecom_group_id
    named: list[Tag] = []
    for tag in session.scalars(select(Tag).where(Tag.tenant_id == tenant_id, Tag.group_id == group_id)):
        if tag.wecom_tag_id is None and tag.name in tag_ids_by_name:
            tag.wecom_tag_id = tag_ids_by_name[tag.name]
            named.append(tag)
    session.flush()
    if named:
        backfill_tags(session, tenant_id, named)


def mark_corp_tags_deleted(
    session: Session, scope: WeComScope, *, tag_ids: set[str], group_ids: set[str]
) -> None:
    """A delete in the WeCom admin (callback): the tags, or whole groups with their tags."""
    deleted: list[int] = []
    for group in session.scalars(
        select(TagGroup).where(
            TagGroup.tenant_id == scope.tenant_id,
            TagGroup.connection_id == scope.connection_id,
            TagGroup.wecom_group_id.in_(group_ids),
        )
    ):
        group.is_deleted = True
        for tag in session.scalars(select(Tag).where(Tag.group_id == group.id)):
            tag.is_deleted = True
            deleted.append(tag.id)
    for tag in session.scalars(
        select(Tag).where(
            Tag.tenant_id == scope.tenant_id,
            Tag.connection_id == scope.connection_id,
            Tag.wecom_tag_id.in_(tag_ids),
        )
    ):
        tag.is_deleted = True
        deleted.append(tag.id)
    session.flush()
    drop_tags_from_index(session, scope.tenant_id, deleted)
