"""Identity resolution: the pure rules (why each decision), the family sharing a phone (refused and
queued for review), WeCom's external_userid meeting a unionid held elsewhere, and merge / unmerge
restoring the merged profile exactly."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from scrm.core.actors import Actor
from scrm.core.errors import Conflict, NotFound, ValidationFailed
from scrm.core.outbox_models import OutboxEvent
from scrm.customers.identity_resolution import Claim, IdentityKey, Outcome, resolve, resolve_customer
from scrm.customers.merging import (
    CustomerMergedAway,
    merge_customers,
    require_live_customer,
    unmerge_customers,
)
from scrm.customers.models import (
    Customer,
    CustomerIdentity,
    CustomerLocalTag,
    FollowRelation,
    MergeSuggestion,
    Tag,
    TagGroup,
    TimelineEntry,
)
from scrm.customers.phones import mask_phone, normalize_phone, phone_vault
from scrm.customers.tag_index import index_differences
from scrm.customers.wecom_ingest import WeComScope, apply_contacts, record_follow_added
from tests.customers.conftest import contact

U1 = IdentityKey("wechat_unionid", "", "U1")
U2 = IdentityKey("wechat_unionid", "", "U2")
PHONE = IdentityKey("phone", "", "hash-of-13800000000")
BUYER_A = IdentityKey("platform_buyer", "tmall:shop1", "buyer-a")
BUYER_B = IdentityKey("platform_buyer", "tmall:shop1", "buyer-b")
BUYER_JD = IdentityKey("platform_buyer", "jd:shop9", "jd-77")
MEMBER = IdentityKey("member_id", "vip", "M-001")


# --- the pure rules -----------------------------------------------------------------------------


def test_nobody_holds_anything_is_new() -> None:
    result = resolve([U1, PHONE], {}, {})
    assert result.outcome == Outcome.NEW and result.attach == (U1, PHONE) and not result.matches


def test_same_phone_matches_and_attaches_the_rest() -> None:
    result = resolve([PHONE, BUYER_A], {PHONE: 7}, {7: [PHONE, U1]})
    assert result.outcome == Outcome.MATCHED and result.customer_id == 7
    assert result.attach == (BUYER_A,)
    assert result.explanation() == [
        {
            "rule": "same_phone",
            "identity": {"kind": "phone", "namespace": "", "value": PHONE.value},
            "customer_id": 7,
            "decision": "accepted",
            "conflicts": [],
        }
    ]


def test_the_family_sharing_a_phone_is_refused_not_merged() -> None:
    # Mother (customer 3) has unionid U1 and the phone; the daughter arrives with U2 and the phone.
    result = resolve([U2, PHONE], {PHONE: 3}, {3: [U1, PHONE]})
    assert result.outcome == Outcome.NEW and result.customer_id is None
    assert result.attach == (U2,)  # the phone stays with its holder
    assert [(r.customer_id, r.rule) for r in result.refused] == [(3, "same_phone")]
    conflict = result.refused[0].conflicts[0]
    assert (conflict.kind, conflict.values, conflict.other_values) == ("wechat_unionid", ("U2",), ("U1",))
    assert result.explanation()[0]["decision"] == "refused"


def test_two_buyer_accounts_on_one_shop_conflict_but_other_shops_do_not() -> None:
    refused = resolve([MEMBER, BUYER_B], {MEMBER: 5}, {5: [MEMBER, BUYER_A]})
    assert refused.outcome == Outcome.NEW and refused.refused[0].customer_id == 5
    accepted = resolve([MEMBER, BUYER_JD], {MEMBER: 5}, {5: [MEMBER, BUYER_A]})
    assert accepted.outcome == Outcome.MATCHED and accepted.attach == (BUYER_JD,)


def test_identifiers_held_by_two_profiles_merge_into_the_oldest() -> None:
    result = resolve([U1, MEMBER], {U1: 9, MEMBER: 4}, {9: [U1], 4: [MEMBER, PHONE]})
    assert result.outcome == Outcome.MERGED and result.customer_id == 4 and result.merge == (9,)
    # Strongest rule first in the explanation.
    assert [line["rule"] for line in result.explanation()] == ["same_unionid", "same_member_id"]


def test_a_weak_match_conflicting_with_a_strong_one_is_refused() -> None:
    # U1 is on 2; the phone is on 8, whose unionid differs: take 2, refuse 8.
    result = resolve([U1, PHONE], {U1: 2, PHONE: 8}, {2: [U1], 8: [U2, PHONE]})
    assert result.outcome == Outcome.MATCHED and result.customer_id == 2
    assert [r.customer_id for r in result.refused] == [8]


def test_phone_normalisation_and_masking() -> None:
    assert normalize_phone("+86 138-0013-8000") == normalize_phone("13800138000") == "13800138000"
    assert normalize_phone("0086 13800138000") == "13800138000"
    assert normalize_phone("+1 (415) 555-0100") == "+14155550100"
    assert mask_phone("13800138000") == "138****8000"
    with pytest.raises(ValueError):
        normalize_phone("call me")


# --- the database service -----------------------------------------------------------------------


def actor(scope: WeComScope) -> Actor:
    return Actor.system(scope.tenant_id)


def test_resolution_service_family_case_queues_a_review(db: Session, scope: WeComScope) -> None:
    mother = resolve_customer(
        db,
        actor=actor(scope),
        claims=[Claim("wechat_unionid", "U-mother"), Claim("phone", "138 0013 8000")],
        source="test",
        name="妈妈",
    )
    assert mother.created and mother.resolution.outcome == Outcome.NEW
    stored = db.scalars(select(CustomerIdentity).where(CustomerIdentity.kind == "phone")).one()
    assert stored.value == phone_vault().hash(scope.tenant_id, "13800138000")
    assert "13800138000" not in stored.value and stored.value_encrypted
    daughter = resolve_customer(
        db,
        actor=actor(scope),
        claims=[Claim("wechat_unionid", "U-daughter"), Claim("phone", "+8613800138000")],
        source="test",
        name="女儿",
    )
    assert daughter.created and daughter.customer_id != mother.customer_id
    assert [key.kind for key in daughter.attached] == ["wechat_unionid"]
    suggestion = db.get_one(MergeSuggestion, daughter.suggestions[0])
    assert (suggestion.customer_id, suggestion.other_customer_id, suggestion.rule, suggestion.status) == (
        daughter.customer_id,
        mother.customer_id,
        "same_phone",
        "open",
    )
    assert suggestion.explanation[0]["conflicts"][0]["kind"] == "wechat_unionid"
    # The daughter orders again with only the phone: the phone's holder is the mother.
    again = resolve_customer(
        db,
        actor=actor(scope),
        claims=[Claim("phone", "13800138000"), Claim("platform_buyer", "tb-girl", "taobao:shop1")],
        source="order:taobao",
    )
    assert again.customer_id == mother.customer_id and again.resolution.outcome == Outcome.MATCHED


def test_resolution_service_merges_profiles_and_explains(db: Session, scope: WeComScope) -> None:
    first = resolve_customer(
        db, actor=actor(scope), claims=[Claim("member_id", "M1", "vip")], source="import"
    )
    second = resolve_customer(db, actor=actor(scope), claims=[Claim("wechat_unionid", "U9")], source="wecom")
    assert first.customer_id != second.customer_id
    dry = resolve_customer(
        db,
        actor=actor(scope),
        claims=[Claim("member_id", "M1", "vip"), Claim("wechat_unionid", "U9")],
        source="api",
        dry_run=True,
    )
    assert (
        dry.resolution.outcome == Outcome.MERGED
        and not db.get_one(Customer, second.customer_id).merged_into_id
    )
    both = resolve_customer(
        db,
        actor=actor(scope),
        claims=[Claim("member_id", "M1", "vip"), Claim("wechat_unionid", "U9")],
        source="api",
    )
    assert both.customer_id == first.customer_id and both.merged == [second.customer_id]
    assert db.get_one(Customer, second.customer_id).merged_into_id == first.customer_id
    with pytest.raises(CustomerMergedAway) as caught:
        require_live_customer(db, scope.tenant_id, second.customer_id)
    assert caught.value.extensions == {"merged_into_id": first.customer_id}
    # Again: the same identifiers now resolve to the survivor without more merges.
    assert (
        resolve_customer(
            db, actor=actor(scope), claims=[Claim("wechat_unionid", "U9")], source="api"
        ).resolution.outcome
        == Outcome.MATCHED
    )


def test_bad_claims_name_their_field(db: Session, scope: WeComScope) -> None:
    with pytest.raises(ValidationFailed) as caught:
        resolve_customer(
            db,
            actor=actor(scope),
            claims=[Claim("shoe_size", "42"), Claim("platform_buyer", "x", "tmall"), Claim("phone", "abc")],
            source="api",
        )
    assert [error["field"] for error in caught.value.field_errors] == [
        "identities[0].kind",
        "identities[1].namespace",
        "identities[2].value",
    ]


def test_wecom_external_userid_meeting_a_unionid_held_elsewhere_merges(
    db: Session, scope: WeComScope
) -> None:
    # Known through a mini-program order (unionid), then as a WeCom contact without unionid.
    ordered = resolve_customer(
        db, actor=actor(scope), claims=[Claim("wechat_unionid", "U-7")], source="order"
    )
    apply_contacts(db, scope, [contact("wm-7", "zhangsan", name="张")])
    contact_id = db.scalars(
        select(CustomerIdentity.customer_id).where(CustomerIdentity.value == "wm-7")
    ).one()
    assert contact_id != ordered.customer_id
    # The next sync page carries the unionid: the two profiles are one person.
    apply_contacts(db, scope, [contact("wm-7", "zhangsan", name="张", unionid="U-7")])
    survivor = min(contact_id, ordered.customer_id)
    merged = max(contact_id, ordered.customer_id)
    assert db.get_one(Customer, merged).merged_into_id == survivor
    relation = db.scalars(select(FollowRelation)).one()
    assert relation.customer_id == survivor
    events = {row.event_type for row in db.scalars(select(OutboxEvent))}
    assert "customer.merged" in events or events == set()


def test_wecom_unionid_conflict_is_queued_not_merged(db: Session, scope: WeComScope) -> None:
    apply_contacts(db, scope, [contact("wm-a", "zhangsan", name="A", unionid="U-A")])
    # Another profile with a different external_userid of the same corp holds U-B...
    apply_contacts(db, scope, [contact("wm-b", "lisi", name="B", unionid="U-B")])
    # ...and WeCom now says wm-a's unionid is U-B: two external_userids of one corp disagree.
    apply_contacts(db, scope, [contact("wm-a", "zhangsan", name="A", unionid="U-B")])
    assert db.scalars(select(Customer).where(Customer.merged_into_id.is_not(None))).all() == []
    suggestion = db.scalars(select(MergeSuggestion)).one()
    assert suggestion.status == "open"


# --- merge and unmerge --------------------------------------------------------------------------


def snapshot(db: Session, customer_id: int) -> dict[str, Any]:
    db.expire_all()
    customer = db.get_one(Customer, customer_id)
    return {
        "fields": {
            name: getattr(customer, name)
            for name in (
                "name",
                "avatar_url",
                "store",
                "region",
                "source_label",
                "first_seen_at",
                "attributes",
            )
        },
        "identities": sorted(
            (i.id, i.kind, i.namespace, i.value)
            for i in db.scalars(select(CustomerIdentity).where(CustomerIdentity.customer_id == customer_id))
        ),
        "relations": sorted(
            (r.id, r.staff_userid, r.external_userid, tuple(r.tag_ids), r.status)
            for r in db.scalars(select(FollowRelation).where(FollowRelation.customer_id == customer_id))
        ),
        "timeline": sorted(
            (t.id, t.kind)
            for t in db.scalars(select(TimelineEntry).where(TimelineEntry.customer_id == customer_id))
            if not t.kind.startswith("customer.")
        ),
        "local_tags": sorted(
            (t.tag_id, t.created_by)
            for t in db.scalars(select(CustomerLocalTag).where(CustomerLocalTag.customer_id == customer_id))
        ),
    }


def test_merge_then_unmerge_restores_both_profiles_exactly(db: Session, scope: WeComScope) -> None:
    apply_contacts(db, scope, [contact("wm-s", "zhangsan", name="", unionid="U-S")])
    apply_contacts(db, scope, [contact("wm-m", "lisi", name="小明", unionid="U-M", createtime=1600000000)])
    survivor, merged = sorted(db.scalars(select(Customer.id)))
    db.get_one(Customer, merged).store = "徐汇店"
    db.get_one(Customer, merged).attributes = {"level": "gold"}
    group = TagGroup(tenant_id=scope.tenant_id, connection_id=None, name="本地")
    db.add(group)
    db.flush()
    shared, own = (Tag(tenant_id=scope.tenant_id, group_id=group.id, name=n) for n in ("共同", "独有"))
    db.add_all([shared, own])
    db.flush()
    db.add_all(
        [
            CustomerLocalTag(
                tenant_id=scope.tenant_id, customer_id=survivor, tag_id=shared.id, created_by="a"
            ),
            CustomerLocalTag(tenant_id=scope.tenant_id, customer_id=merged, tag_id=shared.id, created_by="b"),
            CustomerLocalTag(tenant_id=scope.tenant_id, customer_id=merged, tag_id=own.id, created_by="b"),
        ]
    )
    db.flush()
    before = {survivor: snapshot(db, survivor), merged: snapshot(db, merged)}

    with pytest.raises(Conflict):  # two unionids: refused without force
        merge_customers(db, actor=actor(scope), survivor_id=survivor, merged_id=merged, reason="x")
    record = merge_customers(
        db,
        actor=actor(scope),
        survivor_id=survivor,
        merged_id=merged,
        reason="two accounts, one person",
        force=True,
    )
    after_merge = snapshot(db, survivor)
    assert after_merge["fields"]["name"] == "小明" and after_merge["fields"]["store"] == "徐汇店"
    assert after_merge["fields"]["first_seen_at"] == datetime.fromtimestamp(1600000000, UTC)
    assert len(after_merge["identities"]) == 4 and len(after_merge["relations"]) == 2
    assert snapshot(db, merged)["identities"] == []
    # WeCom reports a new relation of the merged person's external_userid after the merge.
    record_follow_added(
        db,
        scope,
        userid="wangwu",
        external_userid="wm-m",
        state=None,
        occurred_at=datetime(2026, 5, 1, tzinfo=UTC),
    )
    new_relation = db.scalars(select(FollowRelation).where(FollowRelation.staff_userid == "wangwu")).one()
    assert new_relation.customer_id == survivor

    unmerge_customers(db, actor=actor(scope), survivor_id=survivor, merged_id=merged, reason="mistake")
    restored = snapshot(db, merged)
    assert snapshot(db, survivor) == before[survivor]
    expected = before[merged]
    # The merged profile gets back exactly what it had, plus the relation WeCom added meanwhile.
    assert restored["fields"] == expected["fields"]
    assert restored["identities"] == expected["identities"]
    assert restored["local_tags"] == expected["local_tags"]
    assert [r for r in restored["relations"] if r[0] != new_relation.id] == expected["relations"]
    assert restored["timeline"][: len(expected["timeline"])] == expected["timeline"]
    assert db.get_one(Customer, merged).merged_into_id is None
    assert record.status == "undone"
    assert index_differences(db, scope.tenant_id) == {"missing": [], "extra": [], "wrong_date": []}
    kinds = {
        e.kind for e in db.scalars(select(TimelineEntry).where(TimelineEntry.kind.startswith("customer.")))
    }
    assert kinds == {"customer.merged", "customer.unmerged"}
    # Published once each (one outbox row per handler, all sharing the event id).
    events = {(row.event_type, row.event_id) for row in db.scalars(select(OutboxEvent))}
    assert [kind for kind, _ in events].count("customer.merged") <= 1
    assert [kind for kind, _ in events].count("customer.unmerged") <= 1
    with pytest.raises(NotFound):
        unmerge_customers(db, actor=actor(scope), survivor_id=survivor, merged_id=merged)
