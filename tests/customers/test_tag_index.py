"""The tag index (`customer_tags`) stays equal to what relations and local tags say, on every write
path: sync pages, callbacks, relations gone, corp tags created / deleted / pushed, console tagging,
merges and unmerges."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from scrm.core.actors import Actor
from scrm.customers.merging import merge_customers, unmerge_customers
from scrm.customers.models import Customer, CustomerTag, Tag, TagGroup
from scrm.customers.tag_index import index_differences
from scrm.customers.tagging import apply_tag_change, load_tags
from scrm.customers.wecom_ingest import (
    WeComScope,
    apply_contacts,
    mark_corp_tags_deleted,
    mark_relations_gone,
    record_follow_added,
    record_follow_removed,
    record_pushed_tag_ids,
    upsert_corp_tags,
)
from tests.customers.conftest import contact

GROUPS = [
    {
        "group_id": "g1",
        "group_name": "来源",
        "tag": [{"id": "t-douyin", "name": "抖音"}, {"id": "t-tmall", "name": "天猫"}],
    }
]


def consistent(db: Session, scope: WeComScope) -> None:
    assert index_differences(db, scope.tenant_id) == {"missing": [], "extra": [], "wrong_date": []}


def index(db: Session, scope: WeComScope) -> set[tuple[str, str]]:
    """(customer name, tag name) pairs in the index."""
    rows = db.execute(
        select(Customer.name, Tag.name)
        .join(CustomerTag, CustomerTag.customer_id == Customer.id)
        .join(Tag, Tag.id == CustomerTag.tag_id)
        .where(CustomerTag.tenant_id == scope.tenant_id)
    )
    return {(customer, tag) for customer, tag in rows}


def tag_id(db: Session, name: str) -> int:
    return db.scalars(select(Tag.id).where(Tag.name == name)).one()


def test_sync_pages_callbacks_and_deletions(db: Session, scope: WeComScope) -> None:
    upsert_corp_tags(db, scope, GROUPS, complete=True)
    apply_contacts(
        db,
        scope,
        [
            contact("wm-wang", "zhangsan", name="王", tags=["t-douyin"]),
            contact("wm-li", "lisi", name="李", tags=["t-douyin", "t-tmall", "t-unknown"]),
        ],
    )
    assert index(db, scope) == {("王", "抖音"), ("李", "抖音"), ("李", "天猫")}
    consistent(db, scope)

    # A second staff member follows 王 with another tag: the union counts.
    apply_contacts(db, scope, [contact("wm-wang", "lisi", name="王", tags=["t-tmall"])])
    assert ("王", "天猫") in index(db, scope)
    # WeCom's tags on a relation change at the next page.
    apply_contacts(db, scope, [contact("wm-wang", "lisi", name="王", tags=[])])
    assert ("王", "天猫") not in index(db, scope)
    consistent(db, scope)

    # The customer deletes zhangsan: that relation's tags leave the profile.
    record_follow_removed(
        db,
        scope,
        userid="zhangsan",
        external_userid="wm-wang",
        by_customer=True,
        source=None,
        occurred_at=datetime(2026, 1, 1, tzinfo=UTC),
    )
    assert ("王", "抖音") not in index(db, scope)
    # ...and comes back (a re-add keeps the relation's old tags until WeCom says otherwise).
    record_follow_added(
        db,
        scope,
        userid="zhangsan",
        external_userid="wm-wang",
        state=None,
        occurred_at=datetime(2026, 1, 2, tzinfo=UTC),
    )
    assert ("王", "抖音") in index(db, scope)
    consistent(db, scope)

    # A deletion whose callback was missed, found by a sync.
    assert mark_relations_gone(db, scope, userid="lisi", external_userids={"wm-li"}) == 1
    assert not {pair for pair in index(db, scope) if pair[0] == "李"}
    consistent(db, scope)


def test_tags_appearing_and_disappearing(db: Session, scope: WeComScope) -> None:
    # The relation names a tag we do not know yet (its callback comes later).
    apply_contacts(db, scope, [contact("wm-wang", "zhangsan", name="王", tags=["t-new"])])
    assert index(db, scope) == set()
    upsert_corp_tags(
        db,
        scope,
        [{"group_id": "g2", "group_name": "新", "tag": [{"id": "t-new", "name": "新品"}]}],
        complete=False,
    )
    assert index(db, scope) == {("王", "新品")}
    consistent(db, scope)
    # Deleted in the WeCom admin.
    mark_corp_tags_deleted(db, scope, tag_ids={"t-new"}, group_ids=set())
    assert index(db, scope) == set()
    consistent(db, scope)
    # Back in a full listing (undeleted).
    upsert_corp_tags(
        db,
        scope,
        [{"group_id": "g2", "group_name": "新", "tag": [{"id": "t-new", "name": "新品"}]}],
        complete=True,
    )
    assert index(db, scope) == {("王", "新品")}
    # A full listing without it deletes it.
    upsert_corp_tags(db, scope, GROUPS, complete=True)
    assert index(db, scope) == set()
    consistent(db, scope)


def test_console_created_tag_gets_its_wecom_id(db: Session, scope: WeComScope) -> None:
    group = TagGroup(tenant_id=scope.tenant_id, connection_id=scope.connection_id, name="会员")
    db.add(group)
    db.flush()
    db.add(Tag(tenant_id=scope.tenant_id, connection_id=scope.connection_id, group_id=group.id, name="金卡"))
    # A staff member tagged the customer in WeCom with the new id before we recorded it.
    apply_contacts(db, scope, [contact("wm-wang", "zhangsan", name="王", tags=["t-gold"])])
    record_pushed_tag_ids(
        db,
        tenant_id=scope.tenant_id,
        group_id=group.id,
        wecom_group_id="g-vip",
        tag_ids_by_name={"金卡": "t-gold"},
    )
    assert index(db, scope) == {("王", "金卡")}
    consistent(db, scope)


def test_console_tagging_local_tags_and_merges(db: Session, scope: WeComScope) -> None:
    upsert_corp_tags(db, scope, GROUPS, complete=True)
    local_group = TagGroup(tenant_id=scope.tenant_id, connection_id=None, name="本地")
    db.add(local_group)
    db.flush()
    local = Tag(tenant_id=scope.tenant_id, connection_id=None, group_id=local_group.id, name="高复购")
    db.add(local)
    db.flush()
    apply_contacts(
        db,
        scope,
        [
            contact("wm-wang", "zhangsan", name="王", createtime=1700000000),
            contact("wm-li", "lisi", name="李", tags=["t-tmall"], createtime=1600000000),
        ],
    )
    wang, li = (db.scalars(select(Customer.id).where(Customer.name == name)).one() for name in ("王", "李"))
    douyin = tag_id(db, "抖音")
    tags = load_tags(db, scope.tenant_id, [douyin, local.id], [])
    outcome = apply_tag_change(
        db,
        tenant_id=scope.tenant_id,
        customer_ids=[wang],
        tags=tags,
        add=[douyin, local.id],
        remove=[],
        actor_label="t",
    )
    assert outcome.changed == [wang]
    assert index(db, scope) == {("王", "抖音"), ("王", "高复购"), ("李", "天猫")}
    consistent(db, scope)

    actor = Actor.system(scope.tenant_id)
    # 李 is older (first seen earlier), 王 survives (lower id) and takes 李's first_seen_at.
    # Two WeChat accounts of one person (two external_userids of one corp): only a forced merge.
    merge_customers(db, actor=actor, survivor_id=wang, merged_id=li, reason="same person", force=True)
    assert index(db, scope) == {("王", "抖音"), ("王", "高复购"), ("王", "天猫")}
    added_at = db.scalars(select(CustomerTag.customer_added_at).where(CustomerTag.customer_id == wang)).all()
    assert set(added_at) == {datetime.fromtimestamp(1600000000, UTC)}
    consistent(db, scope)
    unmerge_customers(db, actor=actor, survivor_id=wang, merged_id=li, reason="not the same")
    assert index(db, scope) == {("王", "抖音"), ("王", "高复购"), ("李", "天猫")}
    consistent(db, scope)

    removed = apply_tag_change(
        db,
        tenant_id=scope.tenant_id,
        customer_ids=[wang],
        tags=tags,
        add=[],
        remove=[douyin, local.id],
        actor_label="t",
    )
    assert removed.changed == [wang]
    assert index(db, scope) == {("李", "天猫")}
    consistent(db, scope)
