"""The SQL compiler agrees with the Python evaluator, on SQLite and PostgreSQL, for generated records
and generated conditions (hypothesis), including the postings plan (INTERSECT / EXCEPT)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import (
    Boolean,
    Column,
    ColumnElement,
    Float,
    Integer,
    MetaData,
    String,
    Table,
    delete,
    exists,
    insert,
    not_,
    select,
)
from sqlalchemy.orm import Session

from scrm.core.conditions import (
    Field,
    FieldRegistry,
    FieldType,
    Node,
    SetMembers,
    TimeContext,
    compile_condition,
    evaluate,
    parse_condition,
)
from scrm.core.db import UtcDateTime

NOW = datetime(2026, 3, 15, 4, 0, tzinfo=UTC)
CONTEXT = TimeContext(now=NOW)

meta = MetaData()
rows = Table(
    "cond_rows",
    meta,
    Column("id", Integer, primary_key=True),
    Column("store", String(20)),
    Column("channel", Integer),
    Column("spent", Float),
    Column("vip", Boolean),
    Column("birthday", String(10)),
    Column("added_at", UtcDateTime),
)
tag_postings = Table(
    "cond_tags",
    meta,
    Column("row_id", Integer, primary_key=True),
    Column("tag", Integer, primary_key=True),
    Column("added_at", UtcDateTime),
)
staff_links = Table(
    "cond_staff",
    meta,
    Column("row_id", Integer, primary_key=True),
    Column("userid", String(20), primary_key=True),
)


def _tags_any(values: Sequence[Any] | None) -> ColumnElement[bool]:
    criteria = [tag_postings.c.row_id == rows.c.id]
    if values is not None:
        criteria.append(tag_postings.c.tag.in_(values))
    return exists().where(*criteria)


def _tags_postings(values: Sequence[Any] | None, extra: Sequence[ColumnElement[bool]]) -> Any:
    stmt = select(tag_postings.c.row_id).where(*extra)
    return stmt if values is None else stmt.where(tag_postings.c.tag.in_(values))


def _staff_any(values: Sequence[Any] | None) -> ColumnElement[bool]:
    criteria = [staff_links.c.row_id == rows.c.id]
    if values is not None:
        criteria.append(staff_links.c.userid.in_(values))
    return exists().where(*criteria)


REGISTRY = FieldRegistry(
    [
        Field(
            "tags",
            FieldType.ID_SET,
            "标签",
            "Tags",
            members=SetMembers(
                any_of=_tags_any,
                none_of=lambda values: not_(_tags_any(values)),
                postings=_tags_postings,
                posting_columns={"added_at": tag_postings.c.added_at},
            ),
        ),
        Field(
            "staff",
            FieldType.STRING_SET,
            "员工",
            "Staff",
            members=SetMembers(any_of=_staff_any, none_of=lambda values: not_(_staff_any(values))),
        ),
        Field("store", FieldType.STRING, "门店", "Store", column=rows.c.store),
        Field("channel", FieldType.ID, "渠道", "Channel", column=rows.c.channel),
        Field("spent", FieldType.NUMBER, "消费", "Spent", column=rows.c.spent),
        Field("vip", FieldType.BOOLEAN, "会员", "VIP", column=rows.c.vip),
        Field(
            "birthday", FieldType.DATE, "生日", "Birthday", column=rows.c.birthday, sql_value=date.isoformat
        ),
        Field("added_at", FieldType.DATETIME, "添加时间", "Added", column=rows.c.added_at),
    ],
    row_id=rows.c.id,
)

TAGS = [1, 2, 3, 4]
STAFF = ["a", "b", "c"]
STORES = ["x", "y", "z"]
# Boundary-heavy instants: exactly at the relative and absolute bounds the conditions use.
MOMENTS = [
    NOW,
    NOW - timedelta(days=30),
    NOW - timedelta(days=30, microseconds=1),
    NOW - timedelta(days=7),
    NOW + timedelta(days=7),
    datetime(2026, 2, 28, 16, 0, tzinfo=UTC),  # 2026-03-01 00:00 in Shanghai
    datetime(2026, 3, 1, 15, 59, 59, 999999, tzinfo=UTC),
    datetime(2026, 3, 1, 16, 0, tzinfo=UTC),
    datetime(2025, 12, 31, 23, 0, tzinfo=UTC),
]
DAYS = [date(2026, 3, 15), date(2026, 3, 8), date(2026, 3, 22), date(2026, 3, 1), date(2025, 1, 1)]

record_strategy = st.fixed_dictionaries(
    {
        "tags": st.sets(st.sampled_from(TAGS), max_size=4),
        "staff": st.sets(st.sampled_from(STAFF), max_size=3),
        "store": st.none() | st.sampled_from(STORES),
        "channel": st.none() | st.integers(1, 3),
        "spent": st.none() | st.sampled_from([0.0, 99.5, 100.0, 250.0, 1000.0]),
        "vip": st.none() | st.booleans(),
        "birthday": st.none() | st.sampled_from(DAYS),
        "added_at": st.none() | st.sampled_from(MOMENTS),
    }
)

TIME_VALUES = ["2026-03-01", "30d", "-7d", "+7d", "0d", "2026-03-01T00:00:00+08:00", "2026-03-15T04:00:00Z"]
DAY_VALUES = ["2026-03-01", "7d", "+7d", "0d", "2025-01-01"]


def _clause() -> st.SearchStrategy[dict[str, Any]]:
    def make(field: str, op: str, value: Any = None) -> dict[str, Any]:
        return {"field": field, "op": op} if value is None else {"field": field, "op": op, "value": value}

    sets = st.sampled_from(["contains_all", "contains_any", "contains_none"])
    presence = st.sampled_from(["is_set", "not_set"])
    return st.one_of(
        st.builds(make, st.just("tags"), sets, st.lists(st.sampled_from(TAGS), min_size=1, max_size=3)),
        st.builds(make, st.just("tags"), presence),
        st.builds(make, st.just("staff"), sets, st.lists(st.sampled_from(STAFF), min_size=1, max_size=2)),
        st.builds(make, st.just("staff"), presence),
        st.builds(make, st.just("store"), st.sampled_from(["eq", "ne"]), st.sampled_from(STORES)),
        st.builds(
            make,
            st.just("store"),
            st.sampled_from(["in", "not_in"]),
            st.lists(st.sampled_from(STORES), min_size=1),
        ),
        st.builds(make, st.just("store"), presence),
        st.builds(make, st.just("channel"), st.sampled_from(["eq", "ne"]), st.integers(1, 3)),
        st.builds(
            make,
            st.just("channel"),
            st.sampled_from(["in", "not_in"]),
            st.lists(st.integers(1, 3), min_size=1),
        ),
        st.builds(
            make,
            st.just("spent"),
            st.sampled_from(["eq", "ne", "gt", "gte", "lt", "lte"]),
            st.sampled_from([100, 99.5, 0]),
        ),
        st.builds(
            make, st.just("spent"), st.just("between"), st.sampled_from([[0, 100], [100, 1000], [99.5, 99.5]])
        ),
        st.builds(make, st.just("spent"), presence),
        st.builds(make, st.just("vip"), st.sampled_from(["eq", "ne"]), st.booleans()),
        st.builds(make, st.just("vip"), presence),
        st.builds(
            make,
            st.just("added_at"),
            st.sampled_from(["gt", "gte", "lt", "lte", "before", "after"]),
            st.sampled_from(TIME_VALUES),
        ),
        st.builds(
            make,
            st.just("added_at"),
            st.just("between"),
            st.lists(st.sampled_from(TIME_VALUES), min_size=2, max_size=2),
        ),
        st.builds(
            make,
            st.just("added_at"),
            st.sampled_from(["within_last", "within_next"]),
            st.sampled_from(["30d", "7d", "1h"]),
        ),
        st.builds(make, st.just("added_at"), presence),
        st.builds(
            make,
            st.just("birthday"),
            st.sampled_from(["gt", "gte", "lt", "lte", "before", "after"]),
            st.sampled_from(DAY_VALUES),
        ),
        st.builds(
            make,
            st.just("birthday"),
            st.sampled_from(["within_last", "within_next"]),
            st.sampled_from(["7d", "1w"]),
        ),
        st.builds(
            make,
            st.just("birthday"),
            st.just("between"),
            st.lists(st.sampled_from(DAY_VALUES), min_size=2, max_size=2),
        ),
    )


condition_strategy = st.recursive(
    _clause(),
    lambda children: st.one_of(
        st.builds(lambda items: {"all": items}, st.lists(children, max_size=4)),
        st.builds(lambda items: {"any": items}, st.lists(children, max_size=3)),
        st.builds(lambda item: {"not": item}, children),
    ),
    max_leaves=8,
)


@pytest.fixture
def conn_session(db: Session) -> Iterator[Session]:
    meta.create_all(db.connection())
    yield db


def _load(session: Session, records: list[dict[str, Any]]) -> None:
    session.execute(delete(tag_postings))
    session.execute(delete(staff_links))
    session.execute(delete(rows))
    for index, record in enumerate(records, start=1):
        session.execute(
            insert(rows).values(
                id=index,
                store=record["store"],
                channel=record["channel"],
                spent=record["spent"],
                vip=record["vip"],
                birthday=record["birthday"].isoformat() if record["birthday"] else None,
                added_at=record["added_at"],
            )
        )
        for tag in record["tags"]:
            session.execute(insert(tag_postings).values(row_id=index, tag=tag, added_at=record["added_at"]))
        for userid in record["staff"]:
            session.execute(insert(staff_links).values(row_id=index, userid=userid))


def _agree(session: Session, condition: Node, records: list[dict[str, Any]]) -> None:
    expected = {
        index
        for index, record in enumerate(records, start=1)
        if evaluate(condition, record, REGISTRY, CONTEXT)
    }
    got = set(session.scalars(select(rows.c.id).where(compile_condition(condition, REGISTRY, CONTEXT))))
    assert got == expected


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(records=st.lists(record_strategy, min_size=1, max_size=12), raw=condition_strategy)
def test_sql_and_python_agree(
    conn_session: Session, records: list[dict[str, Any]], raw: dict[str, Any]
) -> None:
    condition = parse_condition(raw, REGISTRY)
    _load(conn_session, records)
    _agree(conn_session, condition, records)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    records=st.lists(record_strategy, min_size=3, max_size=15),
    positives=st.lists(st.lists(st.sampled_from(TAGS), min_size=1, max_size=2), min_size=1, max_size=3),
    negative=st.none() | st.lists(st.sampled_from(TAGS), min_size=1, max_size=2),
    window=st.sampled_from([None, ["2026-03-01", "0d"], ["30d", "+7d"], ["2025-01-01", "2026-03-01"]]),
)
def test_postings_plan_agrees(
    conn_session: Session,
    records: list[dict[str, Any]],
    positives: list[list[int]],
    negative: list[int] | None,
    window: list[str] | None,
) -> None:
    """The segment shape the plan targets: tag clauses and an added_at range in one `all`."""
    items: list[dict[str, Any]] = [
        {"field": "tags", "op": "contains_any", "value": tags} for tags in positives
    ]
    if negative:
        items.append({"field": "tags", "op": "contains_none", "value": negative})
    if window:
        items.append({"field": "added_at", "op": "between", "value": window})
    condition = parse_condition({"all": items}, REGISTRY)
    _load(conn_session, records)
    _agree(conn_session, condition, records)
    _agree(conn_session, parse_condition({"not": {"all": items}}, REGISTRY), records)


def test_plan_renders_intersect_and_except(conn_session: Session) -> None:
    condition = parse_condition(
        {
            "all": [
                {"field": "tags", "op": "contains_all", "value": [1, 2]},
                {"field": "tags", "op": "contains_none", "value": [3]},
                {"field": "added_at", "op": "within_last", "value": "30d"},
            ]
        },
        REGISTRY,
    )
    sql = str(compile_condition(condition, REGISTRY, CONTEXT).compile(conn_session.get_bind()))
    assert "INTERSECT" in sql and "EXCEPT" in sql
    assert sql.count("cond_tags.added_at >=") == 3  # the window is pushed into every posting select
