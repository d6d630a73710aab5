"""Benchmark `identity_resolution`: a million buyer observations resolved to persons, and how well.

A seeded generator makes persons (the truth) and what the shops see of them: each person buys on
1-5 of Youzan, Taobao (two shops), Douyin, JD and PDD with one buyer account per shop and one or
more orders per account (repeated observations); some also added a guide on WeCom. Everyone has
one WeChat unionid, seen only where the WeChat ecosystem gives it (bound Youzan accounts, WeCom
contacts). Phones come in clear at platform-specific rates (Youzan mostly, Douyin and JD
sometimes, Taobao and PDD rarely: masked there). About 8% of households are families of 2-4 who
order with one shared household phone (most of the time) while each member keeps their own
accounts and unionid. The observations are shuffled (arrival order) and cut to `--records`;
the next `--live` ones arrive afterwards.

Figures, per database (SQLite, then PostgreSQL unless `--no-postgres` or unreachable):
  (a) `backfill_identities` of the records into an empty database (one transaction, committed):
      wall time; then ANALYZE of the loaded tables, as autovacuum would after a bulk load;
  (b) the next `--live` records resolved one at a time through `resolve_customer`, as a live
      service would, each in its own transaction: p50 / p99 / max per record, without and with
      the commit, and per outcome (matched, new, merged...). The benchmark's own data is moved
      out of the garbage collector's sight first (gc.freeze): a live service does not hold it.
Then (c), once, on the same records: pairwise precision and recall (exact, by contingency counts)
overall; recall on clean keys (pairs joined through exclusive identifiers, transitively: the same
buyer account or unionid); and on the shared-phone subset (the records carrying a phone several
persons use) and the family subset (every record of a person sharing a phone). For our rules
(the batch path on each database, the clustering alone, batch + live), a plain transitive closure
of every identifier, and Splink 5's deterministic linking (blocking on account, unionid and phone;
`pip install splink` into this environment when it is missing), with the wall time of each (the
garbage collector off for all, as the backfill runs). Peak memory (RSS) is printed.

Usage: python -m bench.identity_resolution [--records N] [--live N] [--seed N] [--no-splink]
       [--postgres-url URL] [--no-postgres]
"""

from __future__ import annotations

import argparse
import gc
import importlib
import logging
import random
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select, text

from bench.support import (
    DEFAULT_POSTGRES_URL,
    peak_rss_mb,
    percentile,
    postgres_database,
    prepare_database,
    sqlite_database,
)
from scrm.core.actors import Actor
from scrm.customers.identity_batch import backfill_identities, cluster_records
from scrm.customers.identity_resolution import Claim, IdentityKey, resolve_customer
from scrm.customers.models import Customer
from scrm.customers.phones import configure_phone_vault
from scrm.registry import build_registry


@dataclass(frozen=True)
class Platform:
    popularity: float  # weight when drawing a person's platforms
    shops: tuple[str, ...]
    phone_in_clear: float  # per order
    wechat_bound: float  # share of accounts that give the buyer's unionid


PLATFORMS = {
    "taobao": Platform(0.55, ("tmall-flagship", "taobao-outlet"), 0.03, 0.0),
    "pdd": Platform(0.35, ("pdd-store",), 0.03, 0.0),
    "jd": Platform(0.30, ("jd-self",), 0.15, 0.0),
    "douyin": Platform(0.30, ("douyin-store",), 0.20, 0.0),
    "youzan": Platform(0.25, ("youzan-mall",), 0.90, 0.85),
}
PLATFORM_COUNT_WEIGHTS = (45, 30, 15, 7, 3)  # people on 1, 2, ... 5 platforms
FAMILY_HOUSEHOLDS = 0.08
FAMILY_SIZES, FAMILY_WEIGHTS = (2, 3, 4), (6, 3, 1)
SHARED_PHONE_USE = 0.85  # a family member orders with the household phone, else their own
CORP = "ww-brand"
REPLAYED = 2_000  # backfilled records replayed through the live rules

# One observation: (kind, namespace, account, phone in clear or None, unionid or None).
Observation = tuple[str, str, str, str | None, str | None]


@dataclass
class Dataset:
    observations: list[Observation] = field(default_factory=list)
    person: list[int] = field(default_factory=list)  # the truth, per observation
    family: list[int] = field(default_factory=list)  # -1 unless the person shares a household phone


def generate(count: int, seed: int = 7) -> Dataset:
    """`count` observations in arrival order, with their true persons."""
    rng = random.Random(seed)
    phones: set[str] = set()
    serial = iter(range(1, 1 << 62))
    names = list(PLATFORMS)
    weights = [PLATFORMS[name].popularity for name in names]

    def new_phone() -> str:
        while (phone := f"1{rng.choice('3456789')}{rng.randrange(10**9):09d}") in phones:
            pass
        phones.add(phone)
        return phone

    def orders() -> int:
        n = 1
        while rng.random() < 0.5 and n < 40:
            n += 1
        return n

    rows: list[tuple[Observation, int, int]] = []
    person = families = 0
    while len(rows) < count:
        size = rng.choices(FAMILY_SIZES, FAMILY_WEIGHTS)[0] if rng.random() < FAMILY_HOUSEHOLDS else 1
        shared = new_phone() if size > 1 else None
        family = families if size > 1 else -1
        families += size > 1
        for _ in range(size):
            unionid = f"oU{rng.getrandbits(64):016x}{next(serial):x}"
            own = [new_phone()] + ([new_phone()] if rng.random() < 0.05 else [])
            chosen: list[str] = []
            on = rng.choices(range(1, 6), PLATFORM_COUNT_WEIGHTS)[0]
            while len(chosen) < on:
                pick = rng.choices(names, weights)[0]
                if pick not in chosen:
                    chosen.append(pick)
            for name in chosen:
                platform = PLATFORMS[name]
                shops = list(platform.shops)
                shops = shops if len(shops) > 1 and rng.random() < 0.2 else [rng.choice(shops)]
                for shop in shops:
                    account = f"{name[:2]}{next(serial):09d}"
                    bound = rng.random() < platform.wechat_bound
                    for _ in range(orders()):
                        phone = None
                        if rng.random() < platform.phone_in_clear:
                            phone = shared if shared and rng.random() < SHARED_PHONE_USE else rng.choice(own)
                        union = unionid if bound and rng.random() < 0.95 else None
                        rows.append(
                            (("platform_buyer", f"{name}:{shop}", account, phone, union), person, family)
                        )
            if rng.random() < (0.6 if "youzan" in chosen else 0.2):
                contact = f"wm{next(serial):012d}"
                with_unionid = rng.random() < 0.95
                for _ in range(1 + (rng.random() < 0.3)):
                    rows.append(
                        (
                            ("wecom_external_userid", CORP, contact, None, unionid if with_unionid else None),
                            person,
                            family,
                        )
                    )
            person += 1
    rng.shuffle(rows)
    del rows[count:]
    return Dataset([row[0] for row in rows], [row[1] for row in rows], [row[2] for row in rows])


def claims(observation: Observation) -> list[Claim]:
    kind, namespace, account, phone, unionid = observation
    found = [Claim(kind, account, namespace)]
    if unionid:
        found.append(Claim("wechat_unionid", unionid))
    if phone:
        found.append(Claim("phone", phone))
    return found


def keys(observation: Observation) -> list[IdentityKey]:
    """The identifiers as the pure clustering takes them (the phone unhashed: same partition)."""
    kind, namespace, account, phone, unionid = observation
    found = [IdentityKey(kind, namespace, account)]
    if unionid:
        found.append(IdentityKey("wechat_unionid", "", unionid))
    if phone:
        found.append(IdentityKey("phone", "", phone))
    return found


# --- evaluation ------------------------------------------------------------------------------------


def _pairs(counts: Any) -> int:
    return sum(n * (n - 1) // 2 for n in counts)


@dataclass(frozen=True)
class Scores:
    precision: float
    recall: float
    true_positive: int
    predicted: int
    actual: int


def pairwise(truth: Sequence[Any], predicted: Sequence[Any]) -> Scores:
    """Pairwise precision and recall from the contingency table of (truth, predicted) labels."""
    true_positive = _pairs(Counter(zip(truth, predicted, strict=True)).values())
    predicted_pairs = _pairs(Counter(predicted).values())
    actual = _pairs(Counter(truth).values())
    return Scores(
        true_positive / predicted_pairs if predicted_pairs else 1.0,
        true_positive / actual if actual else 1.0,
        true_positive,
        predicted_pairs,
        actual,
    )


def labels(customer_ids: Sequence[int | None]) -> list[int]:
    """Cluster labels; a record resolved to nobody is alone."""
    return [cid if cid is not None else -1 - i for i, cid in enumerate(customer_ids)]


def _closure(items: Sequence[Sequence[Any]]) -> list[int]:
    """Connected components of records through shared identifiers (union-find over ints)."""
    parent: list[int] = []
    index: dict[Any, int] = {}

    def find(x: int) -> int:
        root = x
        while parent[root] != root:
            root = parent[root]
        while parent[x] != root:
            parent[x], x = root, parent[x]
        return root

    first: list[int] = []
    for identifiers in items:
        nodes = []
        for identifier in identifiers:
            node = index.get(identifier)
            if node is None:
                node = index[identifier] = len(parent)
                parent.append(node)
            nodes.append(node)
        root = find(nodes[0])
        for node in nodes[1:]:
            other = find(node)
            if other != root:
                parent[other] = root
        first.append(nodes[0])
    return [find(node) for node in first]


def transitive_closure(observations: Sequence[Observation]) -> list[int]:
    """The baseline: every identifier (account, unionid, phone) links, transitively."""
    return _closure(
        [
            [(kind, namespace, account)]
            + ([("u", unionid)] if unionid else [])
            + ([("p", phone)] if phone else [])
            for kind, namespace, account, phone, unionid in observations
        ]
    )


def clean_components(observations: Sequence[Observation]) -> list[int]:
    """Records joined through exclusive identifiers only (accounts, unionids)."""
    return _closure([[(k, n, a)] + ([("u", u)] if u else []) for k, n, a, _, u in observations])


def splink_clusters(observations: Sequence[Observation]) -> list[int]:
    """Splink 5's deterministic linking (DuckDB): block on account, unionid and phone, cluster."""
    import duckdb
    import pyarrow as pa
    from splink import DuckDBAPI, Linker, SettingsCreator, block_on

    table = pa.table(
        {
            "unique_id": list(range(len(observations))),
            "account": [f"{kind}|{namespace}|{account}" for kind, namespace, account, _, _ in observations],
            "unionid": [observation[4] for observation in observations],
            "phone": [observation[3] for observation in observations],
        }
    )
    connection = duckdb.connect()
    connection.register("source", table)
    connection.execute("CREATE TABLE records AS SELECT * FROM source")
    settings = SettingsCreator(
        link_type="dedupe_only",
        blocking_rules_to_generate_predictions=[block_on("account"), block_on("unionid"), block_on("phone")],
        retain_matching_columns=False,
    )
    linker = Linker(DuckDBAPI(connection=connection).register("records"), settings, log_level=logging.WARNING)
    clusters = linker.clustering.cluster_pairwise_predictions_at_threshold(
        linker.inference.deterministic_link()
    )
    result = clusters.as_pyarrow_table().select(["unique_id", "cluster_id"]).to_pydict()
    by_record = dict(zip(result["unique_id"], result["cluster_id"], strict=True))
    connection.close()
    return [by_record[i] for i in range(len(observations))]


def _ensure_splink() -> bool:
    try:
        importlib.import_module("splink")
        return True
    except ImportError:
        print("  installing splink into this environment (pip install splink)...", flush=True)
        done = subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "splink"], check=False)
        importlib.invalidate_caches()
        return done.returncode == 0


@dataclass
class Subsets:
    """The records each score is computed on, for the first `n` observations."""

    clean: list[int]  # component through exclusive identifiers, per record (a partition: no truth)
    shared_phone: list[int]  # records carrying a phone that several persons use (a family's)
    family: list[int]  # every record of a person sharing a phone with another one

    @classmethod
    def of(cls, dataset: Dataset, n: int) -> Subsets:
        users: dict[str, set[int]] = {}
        for observation, person in zip(dataset.observations[:n], dataset.person[:n], strict=True):
            if observation[3]:
                users.setdefault(observation[3], set()).add(person)
        return cls(
            clean_components(dataset.observations[:n]),
            [i for i, o in enumerate(dataset.observations[:n]) if o[3] and len(users[o[3]]) > 1],
            [i for i in range(n) if dataset.family[i] >= 0],
        )


HEADER = (
    f"  {'method':<36}{'time':>9}   {'overall P':>9} {'R':>6}   {'clean R':>7}   "
    f"{'shared-phone P':>14} {'R':>6}   {'family P':>8} {'R':>6}"
)


def _score_line(
    name: str, seconds: float | None, dataset: Dataset, subsets: Subsets, predicted: Sequence[Any]
) -> str:
    truth = dataset.person[: len(predicted)]
    overall = pairwise(truth, predicted)
    clean = pairwise(subsets.clean, predicted)
    on = {
        name: pairwise([truth[i] for i in subset], [predicted[i] for i in subset])
        for name, subset in (("shared", subsets.shared_phone), ("family", subsets.family))
    }
    took = f"{seconds:7.2f} s" if seconds is not None else "        -"
    return (
        f"  {name:<36}{took:>9}   {overall.precision:9.4f} {overall.recall:6.4f}   {clean.recall:7.4f}   "
        f"{on['shared'].precision:14.4f} {on['shared'].recall:6.4f}   "
        f"{on['family'].precision:8.4f} {on['family'].recall:6.4f}"
    )


def _without_gc(fn: Callable[[], Any]) -> tuple[Any, float]:
    """Run `fn` with the cyclic collector off (as `backfill_identities` runs), timed."""
    collecting = gc.isenabled()
    gc.disable()
    try:
        started = time.perf_counter()
        return fn(), time.perf_counter() - started
    finally:
        if collecting:
            gc.enable()


# --- the database runs ---------------------------------------------------------------------------


@dataclass
class DatabaseRun:
    dialect: str
    backfill_ids: list[int | None]
    combined_ids: list[int | None]  # backfill + live records, every id followed to its live profile


def _ms(values: list[float]) -> str:
    ordered = sorted(values)
    return (
        f"p50 {percentile(ordered, 0.5):6.2f} ms   p99 {percentile(ordered, 0.99):6.2f} ms   "
        f"max {max(ordered):7.2f} ms"
    )


def run_database(url: str, dataset: Dataset, records: int, live: int) -> DatabaseRun:
    engine, factory, tenant_id = prepare_database(url)
    dialect = engine.dialect.name
    print(f"\n== {dialect}: backfill {records:,} records, then {live:,} live", flush=True)
    batch = [claims(observation) for observation in dataset.observations[:records]]
    started = time.perf_counter()
    with factory.begin() as session:
        result = backfill_identities(session, tenant_id=tenant_id, records=batch, source="backfill")
    backfill = time.perf_counter() - started
    print(
        f"  (a) backfill: {backfill:6.1f} s wall ({records / backfill:,.0f} records/s; committed): "
        f"{result.customers_created:,} customers, {result.identities_attached:,} identities, "
        f"{result.suggestions:,} review suggestions; peak RSS {peak_rss_mb()[0]:,.0f} MiB"
    )
    del batch
    # Planner statistics of the loaded tables, as autovacuum (PostgreSQL) would gather them after a
    # bulk load; on SQLite the merge path's queries (customers/merging.py) need them too.
    started = time.perf_counter()
    with factory.begin() as session:
        for table in ("customers", "customer_identities", "customer_timeline", "customer_merge_suggestions"):
            session.execute(text(f"ANALYZE {table}"))
    print(f"      ANALYZE of the four tables: {time.perf_counter() - started:.1f} s")
    actor = Actor.system(tenant_id)
    # Already-seen records replayed through the live rules (dry run): do they land where the batch put them?
    sample = random.Random(11).sample(range(records), min(records, REPLAYED))
    replayed: Counter[str] = Counter()
    with factory() as session:
        for index in sample:
            record = claims(dataset.observations[index])
            again = resolve_customer(session, actor=actor, claims=record, source="replay", dry_run=True)
            outcome = again.resolution.outcome.value
            same = again.customer_id == result.customer_ids[index] and outcome == "matched"
            replayed["same profile, unchanged" if same else f"would be {outcome}"] += 1
    found = ", ".join(f"{count:,} {what}" for what, count in replayed.most_common())
    print(f"      {len(sample):,} backfilled records replayed through resolve_customer (dry run): {found}")
    timings: dict[str, list[float]] = {}
    commit_ms: list[float] = []
    live_ids: list[int | None] = []
    gc.collect()
    gc.freeze()  # the benchmark's million observations are no live service's heap: do not rescan them
    for observation in dataset.observations[records : records + live]:
        record = claims(observation)
        with factory() as session:
            started = time.perf_counter()
            resolved = resolve_customer(session, actor=actor, claims=record, source="order")
            resolved_at = time.perf_counter()
            session.commit()
            committed_at = time.perf_counter()
        outcome = resolved.resolution.outcome.value + (" + review" if resolved.suggestions else "")
        timings.setdefault(outcome, []).append((resolved_at - started) * 1000)
        commit_ms.append((committed_at - started) * 1000)
        live_ids.append(resolved.customer_id)
    gc.unfreeze()
    if live:
        every = [ms for values in timings.values() for ms in values]
        print(f"  (b) live, per record, resolve_customer:            {_ms(every)}")
        print(f"      live, per record, resolve_customer + commit:   {_ms(commit_ms)}")
        for outcome, values in sorted(timings.items(), key=lambda item: -len(item[1])):
            print(f"        {outcome:<16} {len(values):>6,} records   {_ms(values)}")
    with factory() as session:
        pointers = {row[0]: row[1] for row in session.execute(select(Customer.id, Customer.merged_into_id))}

    def follow(customer_id: int | None) -> int | None:
        while customer_id is not None and pointers.get(customer_id) is not None:
            customer_id = pointers[customer_id]
        return customer_id

    combined = [follow(customer_id) for customer_id in result.customer_ids + live_ids]
    print(f"  peak RSS so far: {peak_rss_mb()[0]:,.0f} MiB")
    engine.dispose()
    return DatabaseRun(dialect, result.customer_ids, combined)


def compare(dataset: Dataset, records: int, runs: list[DatabaseRun], with_splink: bool) -> None:
    observations = dataset.observations[:records]
    subsets = Subsets.of(dataset, records)
    print(f"\n== (c) pairwise precision (P) / recall (R) on the {records:,} backfilled records")
    print(
        f"  {len(set(dataset.person[:records])):,} true persons; {sum(1 for o in observations if o[3]):,} "
        f"records with a phone in clear, {len(subsets.shared_phone):,} of them with a phone several "
        f"persons use; {len(subsets.family):,} records of persons sharing a phone (family)"
    )
    print(HEADER)
    for run in runs:
        ids = labels(run.backfill_ids)
        print(_score_line(f"our batch path ({run.dialect})", None, dataset, subsets, ids))
    keyed = [keys(observation) for observation in observations]
    methods: list[tuple[str, Callable[[], Sequence[Any]]]] = [
        ("our rules, clustering alone", lambda: cluster_records(keyed).home),
        ("transitive closure (baseline)", lambda: transitive_closure(observations)),
    ]
    if with_splink and _ensure_splink():
        methods.append(("Splink 5 deterministic (DuckDB)", lambda: splink_clusters(observations)))
    for name, method in methods:
        predicted, seconds = _without_gc(method)
        print(_score_line(name, seconds, dataset, subsets, predicted), flush=True)
    if runs and len(runs[0].combined_ids) > records:
        total = len(runs[0].combined_ids)
        print(f"  the {total:,} records with the live ones (every id followed to its surviving profile):")
        subsets = Subsets.of(dataset, total)
        for run in runs:
            ids = labels(run.combined_ids)
            print(_score_line(f"batch + live records ({run.dialect})", None, dataset, subsets, ids))
    if len(runs) > 1:
        same = pairwise(labels(runs[0].backfill_ids), labels(runs[1].backfill_ids))
        print(f"  SQLite and PostgreSQL batch partitions identical: {same.precision == same.recall == 1.0}")


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="scrm bench identity_resolution", description=(__doc__ or "").splitlines()[0]
    )
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--live", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--no-splink", action="store_true")
    parser.add_argument("--postgres-url", default=DEFAULT_POSTGRES_URL)
    parser.add_argument("--no-postgres", action="store_true")
    args = parser.parse_args(argv)
    build_registry()
    configure_phone_vault("bench-secret-key-" + "x" * 32)
    started = time.perf_counter()
    dataset = generate(args.records + args.live, args.seed)
    print(f"generated {len(dataset.observations):,} observations in {time.perf_counter() - started:.1f} s")
    runs = []
    with sqlite_database() as url:
        runs.append(run_database(url, dataset, args.records, args.live))
    if not args.no_postgres:
        with postgres_database(args.postgres_url) as pg_url:
            if pg_url is not None:
                runs.append(run_database(pg_url, dataset, args.records, args.live))
    compare(dataset, args.records, runs, not args.no_splink)
    own, children = peak_rss_mb()
    print(f"\npeak RSS: {own:,.0f} MiB (this process), {children:,.0f} MiB (largest child)")


if __name__ == "__main__":
    main()
