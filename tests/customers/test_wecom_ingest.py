"""Writing WeCom data into profiles: idempotent upserts, unionid recognition, follow lifecycle, tags."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from scrm.customers.models import (
    Customer,
    CustomerIdentity,
    FollowRelation,
    FollowStatus,
    Tag,
    TagGroup,
    TimelineEntry,
)
from scrm.customers.wecom_ingest import (
    WeComScope,
    apply_contacts,
    record_follow_added,
    record_follow_removed,
    upsert_corp_tags,
)
from scrm.identity.models import Tenant


def _scope(db: Session, corp_id: str = "ww-corp") -> WeComScope:
    tenant = Tenant(name="T")
    db.add(tenant)
    db.flush()
    return WeComScope(tenant_id=tenant.id, connection_id=1, corp_id=corp_id)


def _item(
    external_userid: str, userid: str, *, unionid: str | None = None, name: str = "王女士", tags=()
) -> dict:
    return {
        "external_contact": {
            "external_userid": external_userid,
            "name": name,
            "type": 1,
            "gender": 2,
            **({"unionid": unionid} if unionid else {}),
        },
        "follow_info": {
            "userid": userid,
            "remark": "老客户",
            "createtime": 1700000000,
            "tag_id": list(tags),
            "state": "douyin-01",
            "add_way": 1,
        },
    }


def count(db: Session, model) -> int:  # type: ignore[no-untyped-def]
    return db.scalar(select(func.count()).select_from(model)) or 0


def test_applying_the_same_page_twice_changes_nothing(db: Session) -> None:
    scope = _scope(db)
    page = [_item("wm1", "zhangsan"), _item("wm2", "zhangsan"), _item("wm1", "lisi")]
    apply_contacts(db, scope, page)
    apply_contacts(db, scope, page)
    assert count(db, Customer) == 2
    assert count(db, FollowRelation) == 3
    assert count(db, CustomerIdentity) == 2
    relation = db.scalars(select(FollowRelation).where(FollowRelation.staff_userid == "lisi")).one()
    assert (relation.remark, relation.state, relation.add_way) == ("老客户", "douyin-01", 1)
    assert relation.followed_at == datetime.fromtimestamp(1700000000, UTC)


def test_the_same_unionid_in_two_corps_is_one_person(db: Session) -> None:
    scope_a = _scope(db, "ww-a")
    scope_b = WeComScope(tenant_id=scope_a.tenant_id, connection_id=2, corp_id="ww-b")
    apply_contacts(db, scope_a, [_item("wmA", "zhangsan", unionid="union-1")])
    apply_contacts(db, scope_b, [_item("wmB", "lisi", unionid="union-1")])
    assert count(db, Customer) == 1
    kinds = sorted(db.scalars(select(CustomerIdentity.kind)))
    assert kinds == ["wechat_unionid", "wecom_external_userid", "wecom_external_userid"]


def test_an_add_then_a_second_add_recognises_the_returning_customer(db: Session) -> None:
    scope = _scope(db)
    when = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
    customer, relation, returning = record_follow_added(
        db, scope, userid="zhangsan", external_userid="wm9", state="store-sh", occurred_at=when
    )
    assert not returning and relation.state == "store-sh"
    record_follow_removed(
        db, scope, userid="zhangsan", external_userid="wm9", by_customer=True, source=None, occurred_at=when
    )
    assert relation.status == FollowStatus.DELETED_BY_CUSTOMER
    again, relation_again, returning = record_follow_added(
        db, scope, userid="zhangsan", external_userid="wm9", state="store-sh", occurred_at=when
    )
    assert returning and again.id == customer.id and relation_again.id == relation.id
    assert relation_again.status == FollowStatus.ACTIVE
    assert [e.kind for e in db.scalars(select(TimelineEntry).order_by(TimelineEntry.id))] == [
        "wecom.added",
        "wecom.deleted_by_customer",
        "wecom.added",
    ]


def test_removal_by_transfer_keeps_its_source(db: Session) -> None:
    scope = _scope(db)
    when = datetime(2026, 11, 23, tzinfo=UTC)
    record_follow_added(db, scope, userid="zhangsan", external_userid="wm5", state=None, occurred_at=when)
    relation = record_follow_removed(
        db,
        scope,
        userid="zhangsan",
        external_userid="wm5",
        by_customer=False,
        source="DELETE_BY_TRANSFER",
        occurred_at=when,
    )
    assert relation is not None
    assert (relation.status, relation.delete_source) == (FollowStatus.DELETED_BY_STAFF, "DELETE_BY_TRANSFER")
    assert (
        record_follow_removed(
            db, scope, userid="x", external_userid="unknown", by_customer=False, source=None, occurred_at=when
        )
        is None
    )


def test_corp_tags_mirror_and_a_complete_listing_marks_the_missing_deleted(db: Session) -> None:
    scope = _scope(db)
    listing = [
        {
            "group_id": "g1",
            "group_name": "来源",
            "order": 1,
            "tag": [{"id": "t1", "name": "抖音"}, {"id": "t2", "name": "门店"}],
        }
    ]
    assert upsert_corp_tags(db, scope, listing, complete=True) == 2
    upsert_corp_tags(db, scope, listing, complete=True)
    assert count(db, Tag) == 2 and count(db, TagGroup) == 1
    listing[0]["tag"] = [{"id": "t1", "name": "抖音达人"}]
    upsert_corp_tags(db, scope, listing, complete=True)
    tags = {tag.wecom_tag_id: (tag.name, tag.is_deleted) for tag in db.scalars(select(Tag))}
    assert tags == {"t1": ("抖音达人", False), "t2": ("门店", True)}
