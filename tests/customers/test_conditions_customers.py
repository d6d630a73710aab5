"""The customer fields: for customers written through the real paths (sync pages, deletions, local
tags, sources, attributes), the Python evaluator on `customer_records` and the SQL compiled for
segments select exactly the same customers (hypothesis, on SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from sqlalchemy.orm import Session

from scrm.core.conditions import TimeContext, evaluate
from scrm.core.events import HandlerRegistry
from scrm.customers.fields import customer_fields, customer_records
from scrm.customers.models import Customer, CustomerAttributeDefinition, CustomerLocalTag, Tag, TagGroup
from scrm.customers.query import customer_select, parse_customer_condition
from scrm.customers.service import set_customer_source
from scrm.customers.wecom_ingest import WeComScope, apply_contacts, record_follow_removed, upsert_corp_tags
from scrm.identity.models import Tenant
from tests.customers.conftest import contact

NOW = datetime(2026, 3, 15, 4, 0, tzinfo=UTC)
WECOM_TAGS = ["t1", "t2", "t3"]
STAFF = ["zhangsan", "lisi"]
MOMENTS = [
    int(datetime(2026, 3, 1, 0, 0, tzinfo=UTC).timestamp()),
    int(datetime(2026, 2, 13, 4, 0, tzinfo=UTC).timestamp()),  # exactly 30 days before NOW
    int(datetime(2025, 6, 1, tzinfo=UTC).timestamp()),
]

person = st.fixed_dictionaries(
    {
        "follows": st.lists(
            st.tuples(st.sampled_from(STAFF), st.sets(st.sampled_from(WECOM_TAGS)), st.booleans()),
            max_size=2,
            unique_by=lambda follow: follow[0],
        ),
        "local": st.booleans(),
        "channel": st.none() | st.integers(1, 2),
        "store": st.none() | st.sampled_from(["徐汇店", "西湖店"]),
        "added": st.sampled_from(MOMENTS),
        "level": st.none() | st.sampled_from(["gold", "silver"]),
        "spent": st.none() | st.sampled_from([0, 99.5, 500]),
        "vip": st.none() | st.booleans(),
        "birthday": st.none() | st.sampled_from(["1990-03-15", "2000-12-31"]),
    }
)


def clause(tag_ids: list[int]) -> st.SearchStrategy[dict[str, Any]]:
    def make(field: str, op: str, value: Any = None) -> dict[str, Any]:
        return {"field": field, "op": op} if value is None else {"field": field, "op": op, "value": value}

    sets = st.sampled_from(["contains_all", "contains_any", "contains_none", "is_set", "not_set"])
    return st.one_of(
        st.builds(
            lambda op, values: make("tags", op, None if op in ("is_set", "not_set") else values),
            sets,
            st.lists(st.sampled_from(tag_ids), min_size=1, max_size=3),
        ),
        st.builds(
            lambda op, values: make("staff", op, None if op in ("is_set", "not_set") else values),
            sets,
            st.lists(st.sampled_from(STAFF), min_size=1, max_size=2),
        ),
        st.builds(make, st.just("channel"), st.sampled_from(["eq", "ne"]), st.integers(1, 2)),
        st.builds(make, st.just("channel"), st.sampled_from(["is_set", "not_set"])),
        st.builds(
            make, st.just("store"), st.sampled_from(["eq", "ne"]), st.sampled_from(["徐汇店", "西湖店"])
        ),
        st.builds(
            make,
            st.just("added_at"),
            st.sampled_from(["before", "after", "gte", "lte"]),
            st.sampled_from(["2026-03-01", "30d", "2025-06-01"]),
        ),
        st.builds(make, st.just("added_at"), st.just("within_last"), st.sampled_from(["30d", "15d"])),
        st.builds(
            make, st.just("attributes.level"), st.sampled_from(["eq", "ne"]), st.sampled_from(["gold", "x"])
        ),
        st.builds(make, st.just("attributes.level"), st.sampled_from(["is_set", "not_set"])),
        st.builds(
            make,
            st.just("attributes.spent"),
            st.sampled_from(["gt", "lte", "eq", "ne"]),
            st.sampled_from([0, 99.5, 100]),
        ),
        st.builds(make, st.just("attributes.vip"), st.sampled_from(["eq", "ne"]), st.booleans()),
        st.builds(
            make,
            st.just("attributes.birthday"),
            st.sampled_from(["before", "after", "lte"]),
            st.sampled_from(["1995-01-01", "2000-12-31"]),
        ),
    )


def conditions(tag_ids: list[int]) -> st.SearchStrategy[dict[str, Any]]:
    return st.recursive(
        clause(tag_ids),
        lambda children: st.one_of(
            st.builds(lambda items: {"all": items}, st.lists(children, max_size=4)),
            st.builds(lambda items: {"any": items}, st.lists(children, max_size=3)),
            st.builds(lambda item: {"not": item}, children),
        ),
        max_leaves=6,
    )


def build(db: Session, people: list[dict[str, Any]]) -> tuple[int, list[int]]:
    tenant = Tenant(name="P")
    db.add(tenant)
    db.flush()
    scope = WeComScope(tenant_id=tenant.id, connection_id=1, corp_id="ww-p")
    upsert_corp_tags(
        db,
        scope,
        [{"group_id": "g", "group_name": "G", "tag": [{"id": t, "name": t} for t in WECOM_TAGS]}],
        complete=True,
    )
    local_group = TagGroup(tenant_id=tenant.id, name="本地")
    db.add(local_group)
    db.flush()
    local = Tag(tenant_id=tenant.id, group_id=local_group.id, name="本地标签")
    db.add(local)
    for key, kind in (("level", "string"), ("spent", "number"), ("vip", "boolean"), ("birthday", "date")):
        db.add(CustomerAttributeDefinition(tenant_id=tenant.id, key=key, label=key, type=kind))
    db.flush()
    for index, data in enumerate(people):
        external = f"wm-{index}"
        items = [
            contact(external, staff, name=f"c{index}", tags=sorted(tags), createtime=data["added"])
            for staff, tags, _ in data["follows"]
        ]
        if not items:  # a profile without WeCom relations (e.g. from an order)
            db.add(
                Customer(
                    tenant_id=tenant.id,
                    name=f"c{index}",
                    first_seen_at=datetime.fromtimestamp(data["added"], UTC),
                )
            )
            db.flush()
        else:
            apply_contacts(db, scope, items)
        customer = db.scalars(
            select(Customer).where(Customer.tenant_id == tenant.id, Customer.name == f"c{index}")
        ).one()
        for staff, _, deleted in data["follows"]:
            if deleted:
                record_follow_removed(
                    db,
                    scope,
                    userid=staff,
                    external_userid=external,
                    by_customer=True,
                    source=None,
                    occurred_at=NOW,
                )
        if data["local"]:
            db.add(CustomerLocalTag(tenant_id=tenant.id, customer_id=customer.id, tag_id=local.id))
        set_customer_source(
            db,
            tenant_id=tenant.id,
            customer_id=customer.id,
            channel_id=data["channel"],
            label=None,
            store=data["store"],
        )
        customer.attributes = {
            key: data[key] for key in ("level", "spent", "vip", "birthday") if data[key] is not None
        }
    db.flush()
    from scrm.customers.tag_index import refresh_customer_tags

    ids = list(db.scalars(select(Customer.id).where(Customer.tenant_id == tenant.id)))
    refresh_customer_tags(db, tenant.id, ids)
    tag_ids = list(db.scalars(select(Tag.id).where(Tag.tenant_id == tenant.id)))
    return tenant.id, tag_ids


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(people=st.lists(person, min_size=1, max_size=6), data=st.data())
def test_python_and_sql_select_the_same_customers(
    db: Session, app_registry: HandlerRegistry, people: list[dict[str, Any]], data: st.DataObject
) -> None:
    tenant_id, tag_ids = build(db, people)
    raw = data.draw(conditions(tag_ids))
    node = parse_customer_condition(db, tenant_id, raw)
    context = TimeContext(now=NOW)
    registry = customer_fields(db, tenant_id)
    records = customer_records(
        db, tenant_id, list(db.scalars(select(Customer.id).where(Customer.tenant_id == tenant_id)))
    )
    expected = {
        customer_id for customer_id, record in records.items() if evaluate(node, record, registry, context)
    }
    stmt = customer_select(
        db, tenant_id=tenant_id, scope_userids=None, condition=node, context=context, columns=(Customer.id,)
    )
    assert set(db.scalars(stmt)) == expected, raw
