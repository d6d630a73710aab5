"""Identity resolution in bulk: the pure clustering on hand-built cases (families sharing a phone,
phones linking platforms, refused unions), the database path (bulk writes, existing profiles, review
suggestions), agreement with `resolve_customer` where the order of records does not matter, and the
benchmark's generator and pairwise scores on small data."""

from __future__ import annotations

import itertools
import random
from collections.abc import Sequence

import pytest
from bench import identity_resolution as bench
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import select
from sqlalchemy.orm import Session

from scrm.core.actors import Actor
from scrm.core.errors import ValidationFailed
from scrm.customers.identity_batch import backfill_identities, cluster_records, compatible, disagree
from scrm.customers.identity_resolution import (
    Claim,
    IdentityKey,
    _exclusive_values,
    conflicts_between,
    live_customer_id,
    resolve_customer,
)
from scrm.customers.models import Customer, CustomerIdentity, MergeSuggestion, TimelineEntry
from scrm.customers.phones import phone_vault
from scrm.customers.wecom_ingest import WeComScope


def buyer(account: str, shop: str = "taobao:s1") -> IdentityKey:
    return IdentityKey("platform_buyer", shop, account)


def union(value: str) -> IdentityKey:
    return IdentityKey("wechat_unionid", "", value)


def phone(value: str) -> IdentityKey:
    return IdentityKey("phone", "", value)


def partition(home: Sequence[int]) -> set[frozenset[int]]:
    groups: dict[int, set[int]] = {}
    for index, label in enumerate(home):
        groups.setdefault(label if label >= 0 else -1 - index, set()).add(index)
    return {frozenset(group) for group in groups.values()}


# --- the pure clustering ----------------------------------------------------------------------------


def test_a_family_sharing_a_phone_stays_apart_and_is_queued() -> None:
    mother = [buyer("m", "youzan:s"), union("U-mother"), phone("P")]
    daughter = [buyer("d", "youzan:s"), union("U-daughter"), phone("P")]
    father_jd = [buyer("f", "jd:s"), phone("P")]  # links to nobody: the phone is ambiguous
    result = cluster_records([mother, daughter, father_jd, [phone("P")]])
    assert partition(result.home) == {frozenset({0, 3}), frozenset({1}), frozenset({2})}
    # The phone stays with its first holder (the mother); each other holder is queued against her.
    assert phone("P") in result.clusters[result.home[0]].keys
    refused = {(r.group, r.other, r.rule, r.identities) for r in result.refusals}
    assert refused == {
        (result.home[1], result.home[0], "same_phone", (phone("P"),)),
        (result.home[2], result.home[0], "same_phone", (phone("P"),)),
    }


def test_an_unambiguous_phone_links_accounts_across_platforms() -> None:
    records = [
        [buyer("tb-1"), phone("P")],
        [buyer("jd-1", "jd:s"), phone("P")],
        [buyer("yz-1", "youzan:s"), union("U1")],
        [buyer("yz-1", "youzan:s"), phone("P")],
        [buyer("dy-1", "douyin:s"), phone("Q")],  # another person
    ]
    result = cluster_records(records)
    assert partition(result.home) == {frozenset({0, 1, 2, 3}), frozenset({4})}
    assert not result.refusals


def test_account_repeats_and_unionids_always_link() -> None:
    records = [[buyer("a")], [buyer("a"), union("U1")], [buyer("b", "youzan:s"), union("U1")], [buyer("a")]]
    assert partition(cluster_records(records).home) == {frozenset({0, 1, 2, 3})}


def test_two_accounts_of_one_shop_are_never_put_together() -> None:
    records = [[buyer("a"), union("U1")], [buyer("b"), union("U1")], [buyer("b", "taobao:s2"), union("U1")]]
    result = cluster_records(records)
    # The second record's unionid is held by a cluster with another account of taobao:s1: refused,
    # as `resolve` refuses it; an account on another shop of the same platform is not a conflict.
    assert partition(result.home) == {frozenset({0, 2}), frozenset({1})}
    [refusal] = result.refusals
    assert (refusal.group, refusal.other, refusal.rule) == (result.home[1], result.home[0], "same_unionid")
    assert [key.namespace for key in result.clusters[result.home[1]].keys] == ["taobao:s1"]


def test_a_phone_never_joins_clusters_that_a_stronger_identifier_keeps_apart() -> None:
    # Linking through P first would make the second union (through Q) join two unionids.
    records = [
        [buyer("a"), union("U1"), phone("P")],
        [buyer("x", "jd:s"), phone("P"), phone("Q")],
        [buyer("b", "youzan:s"), union("U2"), phone("Q")],
    ]
    result = cluster_records(records)
    assert partition(result.home) == {frozenset({0, 1}), frozenset({2})}
    assert [(r.rule, r.identities) for r in result.refusals] == [("same_phone", (phone("Q"),))]


def test_existing_profiles_are_clusters_from_the_start() -> None:
    existing = {7: [union("U-mother"), phone("P")], 9: [buyer("old", "jd:s")]}
    records = [
        [buyer("tb-m"), union("U-mother")],  # joins profile 7
        [buyer("yz-d", "youzan:s"), union("U-daughter"), phone("P")],  # refused against 7
        [buyer("old", "jd:s"), phone("R")],  # profile 9, gets a new phone
    ]
    result = cluster_records(records, existing)
    assert [result.clusters[home].existing for home in result.home] == [[7], [], [9]]
    assert phone("P") in result.clusters[result.home[0]].keys  # the phone stays with its holder
    assert [(r.group, r.other) for r in result.refusals] == [(result.home[1], result.home[0])]


def test_two_existing_profiles_joined_by_a_record_are_merged() -> None:
    existing = {4: [IdentityKey("member_id", "vip", "M1")], 9: [union("U9")]}
    result = cluster_records([[IdentityKey("member_id", "vip", "M1"), union("U9")]], existing)
    assert sorted(result.clusters[result.home[0]].existing) == [4, 9]
    assert result.merged[9][0] == "same_unionid"


exclusive_keys = st.builds(
    IdentityKey,
    st.sampled_from(["wechat_unionid", "platform_buyer", "phone"]),
    st.sampled_from(["", "tb:1"]),
    st.sampled_from(["a", "b", "c"]),
)


@given(st.lists(st.lists(exclusive_keys, max_size=5), min_size=2, max_size=4))
def test_disagree_and_compatible_are_conflicts_between(clusters: list[list[IdentityKey]]) -> None:
    values = [_exclusive_values(keys) for keys in clusters]
    assert disagree(values[0], values[1]) == bool(conflicts_between(clusters[0], clusters[1]))
    pairwise = not any(conflicts_between(a, b) for a, b in itertools.combinations(clusters, 2))
    assert compatible(values) == pairwise


# --- the database path -------------------------------------------------------------------------------


def test_backfill_writes_profiles_identities_and_suggestions(db: Session, scope: WeComScope) -> None:
    records = [
        [
            Claim("platform_buyer", "m-1", "youzan:s"),
            Claim("wechat_unionid", "U-m"),
            Claim("phone", "13800138000"),
        ],
        [
            Claim("platform_buyer", "d-1", "youzan:s"),
            Claim("wechat_unionid", "U-d"),
            Claim("phone", "+8613800138000"),
        ],
        [Claim("platform_buyer", "m-tb", "taobao:s1"), Claim("wechat_unionid", "U-m")],
        [Claim("platform_buyer", "m-1", "youzan:s")],
        [],
    ]
    result = backfill_identities(db, tenant_id=scope.tenant_id, records=records, source="backfill")
    mother, daughter, mother_tb, again, nobody = result.customer_ids
    assert mother == mother_tb == again and daughter not in (mother, None) and nobody is None
    assert (result.customers_created, result.identities_attached, result.suggestions) == (2, 6, 1)
    stored = db.scalars(select(CustomerIdentity).where(CustomerIdentity.kind == "phone")).one()
    assert stored.customer_id == mother and stored.source == "backfill"
    assert stored.value == phone_vault().hash(scope.tenant_id, "13800138000")
    assert phone_vault().open(scope.tenant_id, stored.value_encrypted or "") == "13800138000"
    suggestion = db.scalars(select(MergeSuggestion)).one()
    assert (suggestion.customer_id, suggestion.other_customer_id, suggestion.rule, suggestion.status) == (
        daughter,
        mother,
        "same_phone",
        "open",
    )
    conflicts = {conflict["kind"] for conflict in suggestion.explanation[0]["conflicts"]}
    assert conflicts == {"wechat_unionid", "platform_buyer"}  # two unionids, two accounts on youzan:s
    assert suggestion.identities == [{"kind": "phone", "namespace": "", "value": "138****8000"}]
    entries = db.scalars(select(TimelineEntry).where(TimelineEntry.customer_id == mother)).all()
    assert [entry.kind for entry in entries] == ["identity.added"]
    assert len(entries[0].detail["identities"]) == 4
    # The live path agrees with what the backfill stored.
    live = resolve_customer(
        db, actor=Actor.system(scope.tenant_id), claims=[Claim("wechat_unionid", "U-d")], source="api"
    )
    assert live.customer_id == daughter and not live.created


def test_backfill_respects_existing_profiles(db: Session, scope: WeComScope) -> None:
    actor = Actor.system(scope.tenant_id)
    mother = resolve_customer(
        db, actor=actor, claims=[Claim("wechat_unionid", "U-m"), Claim("phone", "13800138000")], source="t"
    ).customer_id
    member = resolve_customer(
        db, actor=actor, claims=[Claim("member_id", "M1", "vip")], source="t"
    ).customer_id
    other = resolve_customer(db, actor=actor, claims=[Claim("wechat_unionid", "U9")], source="t").customer_id
    records = [
        [Claim("platform_buyer", "m-tb", "taobao:s1"), Claim("wechat_unionid", "U-m")],
        [
            Claim("platform_buyer", "d-yz", "youzan:s"),
            Claim("wechat_unionid", "U-d"),
            Claim("phone", "13800138000"),
        ],
        [Claim("member_id", "M1", "vip"), Claim("wechat_unionid", "U9")],
    ]
    result = backfill_identities(db, tenant_id=scope.tenant_id, records=records, source="backfill")
    assert result.customer_ids[0] == mother and result.customer_ids[2] == member
    assert result.customer_ids[1] not in (mother, None)
    assert result.merged == [(member, other)]
    assert db.get_one(Customer, other).merged_into_id == member
    held = db.scalars(select(CustomerIdentity.customer_id).where(CustomerIdentity.kind == "phone")).all()
    assert held == [mother]
    suggestion = db.scalars(select(MergeSuggestion)).one()
    assert (suggestion.customer_id, suggestion.other_customer_id) == (result.customer_ids[1], mother)


def test_backfill_names_invalid_claims_and_writes_nothing(db: Session, scope: WeComScope) -> None:
    records = [[Claim("wechat_unionid", "U1")], [Claim("wechat_unionid", "U2"), Claim("phone", "call me")]]
    with pytest.raises(ValidationFailed) as caught:
        backfill_identities(db, tenant_id=scope.tenant_id, records=records, source="backfill")
    assert [error["field"] for error in caught.value.field_errors] == ["records[1].identities[1].value"]
    assert db.scalars(select(Customer)).all() == []


def _random_case(rng: random.Random) -> list[list[Claim]]:
    """A few records of 1-3 persons, some sharing a household phone."""
    persons = rng.randint(1, 3)
    household = f"1380000{rng.randrange(10000):04d}"
    people = []
    for person in range(persons):
        own = household if rng.random() < 0.5 else f"1390000{person:04d}"
        people.append((f"U{person}", own, person))
    records = []
    for _ in range(4):
        unionid, number, person = rng.choice(people)
        shop = rng.choice(["taobao:s1", "youzan:s1"])
        record = [Claim("platform_buyer", f"{shop[:2]}-{person}", shop)]
        if shop.startswith("youzan") and rng.random() < 0.7:
            record.append(Claim("wechat_unionid", unionid))
        if rng.random() < 0.6:
            record.append(Claim("phone", number))
        records.append(record)
    return records


def _live_partition(
    db: Session, tenant_id: int, records: Sequence[list[Claim]], order: Sequence[int]
) -> object:
    ids: dict[int, int | None] = {}
    for index in order:
        resolved = resolve_customer(db, actor=Actor.system(tenant_id), claims=records[index], source="t")
        ids[index] = resolved.customer_id
    final = [
        live_customer_id(db, tenant_id, ids[i]) if ids[i] is not None else -1 for i in range(len(records))
    ]
    return partition(final)


def test_batch_agrees_with_resolve_customer_where_order_does_not_matter(
    db: Session, scope: WeComScope
) -> None:
    rng = random.Random(20260501)
    compared = 0
    for _ in range(12):
        records = _random_case(rng)
        outcomes = []
        for order in itertools.permutations(range(len(records))):
            savepoint = db.begin_nested()
            outcomes.append(_live_partition(db, scope.tenant_id, records, order))
            savepoint.rollback()
        if any(outcome != outcomes[0] for outcome in outcomes):
            continue  # the live path depends on the order here (who met the phone first)
        savepoint = db.begin_nested()
        result = backfill_identities(db, tenant_id=scope.tenant_id, records=records, source="t")
        savepoint.rollback()
        assert partition([cid if cid is not None else -1 for cid in result.customer_ids]) == outcomes[0]
        compared += 1
    assert compared >= 6


# --- the benchmark's generator and scores --------------------------------------------------------------


def test_pairwise_scores_count_pairs_exactly() -> None:
    # Pairs: truth {0-1, 2-3}; predicted {0-1, 0-2, 1-2}; both: {0-1}.
    scores = bench.pairwise([0, 0, 1, 1], [5, 5, 5, 6])
    assert (scores.true_positive, scores.predicted, scores.actual) == (1, 3, 2)
    assert (scores.precision, scores.recall) == (1 / 3, 1 / 2)
    assert bench.pairwise([1, 2, 3], [1, 2, 3]) == bench.Scores(1.0, 1.0, 0, 0, 0)


def _pairs_by_enumeration(truth: Sequence[int], predicted: Sequence[int]) -> tuple[int, int, int]:
    both = same_truth = same_predicted = 0
    for i, j in itertools.combinations(range(len(truth)), 2):
        t, p = truth[i] == truth[j], predicted[i] == predicted[j]
        both, same_truth, same_predicted = both + (t and p), same_truth + t, same_predicted + p
    return both, same_predicted, same_truth


def test_generator_and_evaluation_on_two_thousand_records() -> None:
    data = bench.generate(2_000, seed=3)
    assert bench.generate(2_000, seed=3).observations == data.observations  # seeded
    assert len(data.observations) == 2_000
    # Exclusive identifiers never span two persons; family phones do.
    owners: dict[tuple[str, ...], set[int]] = {}
    for (kind, namespace, account, number, unionid), person in zip(
        data.observations, data.person, strict=True
    ):
        owners.setdefault((kind, namespace, account), set()).add(person)
        if unionid:
            owners.setdefault(("u", unionid), set()).add(person)
        if number:
            owners.setdefault(("p", number), set()).add(person)
    assert all(len(persons) == 1 for key, persons in owners.items() if key[0] != "p")
    assert any(len(persons) > 1 for key, persons in owners.items() if key[0] == "p")
    ours = cluster_records([bench.keys(o) for o in data.observations]).home
    closure = bench.transitive_closure(data.observations)
    sample = range(700)
    for predicted in (ours, closure, bench.clean_components(data.observations)):
        scores = bench.pairwise([data.person[i] for i in sample], [predicted[i] for i in sample])
        enumerated = _pairs_by_enumeration([data.person[i] for i in sample], [predicted[i] for i in sample])
        assert (scores.true_positive, scores.predicted, scores.actual) == enumerated
    # Clean keys are always recovered; our rules never lose precision against the plain closure.
    assert bench.pairwise(bench.clean_components(data.observations), ours).recall == 1.0
    assert bench.pairwise(data.person, ours).precision >= bench.pairwise(data.person, closure).precision


def test_the_benchmark_runs_small(capsys: pytest.CaptureFixture[str]) -> None:
    bench.main(["--records", "2000", "--live", "30", "--no-postgres", "--no-splink"])
    printed = capsys.readouterr().out
    assert "(a) backfill" in printed and "(b) live" in printed and "transitive closure" in printed
