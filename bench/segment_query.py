"""Benchmark `segment_query`: counting and listing a saved segment over a million customers.

Generates N customers (default 1,000,000) with 50 tags (popularity falling off like real tags:
the most common on about a third of customers, the rarest on 2%), 0-6 tags each, custom
attributes, stores and regions, spread over three years of `added_at`; the tag index rows
(`customer_tags`) are written directly, as `refresh_customer_tags` would derive them. Generation
uses executemany (SQLite) or COPY (PostgreSQL) and is timed on its own.

Then a saved segment of 3 tag clauses plus a date range,

    all( tags contains_all [T3], tags contains_any [T5, T10], tags contains_none [T2],
         added_at between ["2024-01-01", "2024-06-30"] )

is counted and its first page (50 members, rendered as the API does) is listed, repeatedly,
beside the straightforward hand-written SQL (EXISTS per tag clause) on the same database in the
same run. Prints p50 / p95 / max per query. Goal: p95 under 100 ms for the count.

Usage: python -m bench.segment_query [--customers N] [--runs N] [--postgres-url URL] [--no-postgres]
"""

from __future__ import annotations

import argparse
import bisect
import json
import random
import time
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker

from bench.support import (
    DEFAULT_POSTGRES_URL,
    percentile,
    postgres_database,
    prepare_database,
    sqlite_database,
)
from scrm.core.actors import Actor
from scrm.core.pagination import PageRequest
from scrm.customers.models import Tag, TagGroup
from scrm.customers.phones import configure_phone_vault
from scrm.customers.query import parse_customer_condition
from scrm.customers.schemas import SegmentIn
from scrm.customers.segments import count_condition, create_segment, segment_members
from scrm.registry import build_registry

TAGS = 50
STORES = ["徐汇店", "静安店", "西湖店", "天河店", "南山店", "朝阳店", "锦江店", "鼓楼店"]
REGIONS = {
    "徐汇店": "上海",
    "静安店": "上海",
    "西湖店": "杭州",
    "天河店": "广州",
    "南山店": "深圳",
    "朝阳店": "北京",
    "锦江店": "成都",
    "鼓楼店": "南京",
}
LEVELS = ["silver", "gold", "platinum"]
START = datetime(2023, 1, 1, tzinfo=UTC)
SPAN_SECONDS = 3 * 365 * 86400
BATCH = 50_000


def _tag_picker(rng: random.Random) -> Callable[[], int]:
    weights = [1 / (rank + 1) ** 0.8 for rank in range(TAGS)]
    cumulative: list[float] = []
    total = 0.0
    for weight in weights:
        total += weight
        cumulative.append(total)
    return lambda: bisect.bisect(cumulative, rng.random() * total)


def _rows(
    customers: int, tenant_id: int, tag_ids: Sequence[int], seed: int = 1
) -> Iterator[tuple[list[tuple], list[tuple]]]:
    """Batches of (customer rows, tag index rows) with ISO-like UTC timestamps."""
    rng = random.Random(seed)
    pick = _tag_picker(rng)
    now = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
    people: list[tuple] = []
    postings: list[tuple] = []
    for customer_id in range(1, customers + 1):
        added = (START + timedelta(seconds=rng.randrange(SPAN_SECONDS))).strftime("%Y-%m-%d %H:%M:%S.%f")
        store = STORES[customer_id % len(STORES)]
        attributes = json.dumps(
            {"level": LEVELS[rng.randrange(3)], "spent": rng.randrange(0, 20000)}, separators=(",", ":")
        )
        people.append(
            (
                customer_id,
                tenant_id,
                f"客户{customer_id}",
                rng.randrange(3),
                added,
                attributes,
                now,
                now,
                store,
                REGIONS[store],
            )
        )
        for tag in {tag_ids[pick()] for _ in range(rng.choice((0, 1, 2, 3, 3, 4, 5, 6)))}:
            postings.append((tenant_id, tag, customer_id, added))
        if len(people) >= BATCH:
            yield people, postings
            people, postings = [], []
    if people:
        yield people, postings


CUSTOMER_COLUMNS = (
    "id, tenant_id, name, gender, first_seen_at, attributes, created_at, updated_at, store, region"
)
TAG_COLUMNS = "tenant_id, tag_id, customer_id, customer_added_at"


def _generate(
    factory: sessionmaker[Session], dialect: str, tenant_id: int, customers: int
) -> tuple[list[int], int]:
    with factory.begin() as session:
        group = TagGroup(tenant_id=tenant_id, name="兴趣")
        session.add(group)
        session.flush()
        tags = [
            Tag(tenant_id=tenant_id, group_id=group.id, name=f"标签{rank + 1}", order=TAGS - rank)
            for rank in range(TAGS)
        ]
        session.add_all(tags)
        session.flush()
        tag_ids = [tag.id for tag in tags]
    postings = 0
    connection = factory.kw["bind"].raw_connection()
    try:
        cursor = connection.cursor()
        if dialect == "sqlite":
            # A loading session: a large page cache keeps the random index inserts in memory.
            cursor.execute("PRAGMA cache_size = -1000000")
            cursor.execute("BEGIN")
        for people, batch in _rows(customers, tenant_id, tag_ids):
            postings += len(batch)
            if dialect == "sqlite":
                cursor.executemany(
                    f"INSERT INTO customers ({CUSTOMER_COLUMNS}) VALUES (?,?,?,?,?,?,?,?,?,?)", people
                )
                batch.sort()
                cursor.executemany(f"INSERT INTO customer_tags ({TAG_COLUMNS}) VALUES (?,?,?,?)", batch)
            else:
                with cursor.copy(f"COPY customers ({CUSTOMER_COLUMNS}) FROM STDIN") as copy:  # type: ignore[attr-defined]
                    for row in people:
                        copy.write_row(
                            (*row[:4], row[4] + "+00", row[5], row[6] + "+00", row[7] + "+00", *row[8:])
                        )
                with cursor.copy(f"COPY customer_tags ({TAG_COLUMNS}) FROM STDIN") as copy:  # type: ignore[attr-defined]
                    for row in batch:
                        copy.write_row((*row[:3], row[3] + "+00"))
        if dialect == "postgresql":
            cursor.execute(
                "SELECT setval(pg_get_serial_sequence('customers', 'id'), (SELECT max(id) FROM customers))"
            )
        connection.commit()
    finally:
        connection.close()
    if dialect == "sqlite":
        with factory.begin() as session:
            session.execute(text("ANALYZE"))
    else:
        # What autovacuum does after a bulk load (it is off on this test server): statistics, and
        # the visibility map that lets the tag index be read without touching the table.
        with factory.kw["bind"].connect().execution_options(isolation_level="AUTOCOMMIT") as autocommit:
            autocommit.execute(text("VACUUM ANALYZE customers"))
            autocommit.execute(text("VACUUM ANALYZE customer_tags"))
    return tag_ids, postings


HAND_WRITTEN_WHERE = """
    c.tenant_id = :tenant AND c.merged_into_id IS NULL
    AND c.first_seen_at >= :start AND c.first_seen_at < :end
    AND EXISTS (SELECT 1 FROM customer_tags t WHERE t.tenant_id = :tenant AND t.customer_id = c.id
                AND t.tag_id = :all_tag)
    AND EXISTS (SELECT 1 FROM customer_tags t WHERE t.tenant_id = :tenant AND t.customer_id = c.id
                AND t.tag_id IN (:any_a, :any_b))
    AND NOT EXISTS (SELECT 1 FROM customer_tags t WHERE t.tenant_id = :tenant AND t.customer_id = c.id
                    AND t.tag_id = :none_tag)
"""


def _timed(fn: Callable[[], Any], runs: int) -> tuple[list[float], Any]:
    fn()  # warm the cache and the statement caches once
    timings: list[float] = []
    result: Any = None
    for _ in range(runs):
        started = time.perf_counter()
        result = fn()
        timings.append((time.perf_counter() - started) * 1000)
    return sorted(timings), result


def _line(name: str, timings: list[float], result: Any) -> str:
    return (
        f"  {name:<34} p50 {percentile(timings, 0.5):8.1f} ms   p95 {percentile(timings, 0.95):8.1f} ms   "
        f"max {max(timings):8.1f} ms   -> {result}"
    )


def run(url: str, customers: int, runs: int) -> None:
    engine, factory, tenant_id = prepare_database(url)
    dialect = engine.dialect.name
    print(f"\n== {dialect}: {customers:,} customers, {TAGS} tags")
    started = time.perf_counter()
    tag_ids, postings = _generate(factory, dialect, tenant_id, customers)
    generation = time.perf_counter() - started
    print(
        f"  generated in {generation:.1f} s "
        f"({customers / generation:,.0f} customers/s, {postings:,} tag rows)"
    )
    all_tag, any_a, any_b, none_tag = tag_ids[2], tag_ids[4], tag_ids[9], tag_ids[1]
    condition = {
        "all": [
            {"field": "tags", "op": "contains_all", "value": [all_tag]},
            {"field": "tags", "op": "contains_any", "value": [any_a, any_b]},
            {"field": "tags", "op": "contains_none", "value": [none_tag]},
            {"field": "added_at", "op": "between", "value": ["2024-01-01", "2024-06-30"]},
        ]
    }
    actor = Actor.system(tenant_id)
    with factory.begin() as session:
        segment_id = create_segment(
            session, actor=actor, data=SegmentIn(name="bench", condition=condition)
        ).id
    # The date range as the evaluator resolves it (days in Asia/Shanghai), for the hand-written SQL.
    bounds = {
        "start": datetime(2023, 12, 31, 16, tzinfo=UTC),
        "end": datetime(2024, 6, 30, 16, tzinfo=UTC),
    }
    if dialect == "sqlite":
        bounds = {key: value.strftime("%Y-%m-%d %H:%M:%S.%f") for key, value in bounds.items()}
    params = {
        "tenant": tenant_id,
        "all_tag": all_tag,
        "any_a": any_a,
        "any_b": any_b,
        "none_tag": none_tag,
        **bounds,
    }
    with factory() as session:

        def segment_count() -> int:
            from scrm.customers.models import Segment

            node = parse_customer_condition(
                session, tenant_id, session.get_one(Segment, segment_id).condition
            )
            return count_condition(session, actor=actor, node=node)

        def segment_page() -> int:
            items, _ = segment_members(session, actor=actor, segment_id=segment_id, page=PageRequest(50))
            return len(items)

        def sql_count() -> int:
            return int(
                session.execute(
                    text(f"SELECT count(*) FROM customers c WHERE {HAND_WRITTEN_WHERE}"), params
                ).scalar_one()
            )

        def sql_page() -> int:
            return len(
                session.execute(
                    text(
                        f"SELECT c.id, c.name FROM customers c WHERE {HAND_WRITTEN_WHERE} "
                        "ORDER BY c.id DESC LIMIT 50"
                    ),
                    params,
                ).all()
            )

        results = {}
        for name, fn in (
            ("segment count (compiled)", segment_count),
            ("hand-written SQL count", sql_count),
            ("segment first page (50, rendered)", segment_page),
            ("hand-written SQL first page (ids)", sql_page),
        ):
            timings, result = _timed(fn, runs)
            results[name] = result
            print(_line(name, timings, result))
        same = results["segment count (compiled)"] == results["hand-written SQL count"]
        print(f"  counts agree: {same}; {runs} runs after one warm-up")
        session.rollback()
    engine.dispose()


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="scrm bench segment_query", description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--postgres-url", default=DEFAULT_POSTGRES_URL)
    parser.add_argument("--no-postgres", action="store_true")
    args = parser.parse_args(argv)
    build_registry()
    configure_phone_vault("bench-secret-key-" + "x" * 32)
    with sqlite_database() as url:
        run(url, args.customers, args.runs)
    if not args.no_postgres:
        with postgres_database(args.postgres_url) as pg_url:
            if pg_url is not None:
                run(pg_url, args.customers, args.runs)


if __name__ == "__main__":
    main()
