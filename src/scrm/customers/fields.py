"""The customer fields conditions may test (segments, list filters, later rules and journeys).

`customer_fields(session, tenant_id)` builds the tenant's registry: the fixed profile fields, one
field per custom attribute definition (`attributes.<key>`), and the order aggregates the commerce
module keeps (`order_stats.py`). `customer_records` builds the plain records the
Python evaluator reads, with exactly the values the SQL side reads.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Sequence
from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, Select, exists, not_, select
from sqlalchemy.orm import Session

from scrm.core.conditions import Field, FieldRegistry, FieldType, Op, SetMembers
from scrm.customers.models import (
    AttributeType,
    Customer,
    CustomerAttributeDefinition,
    CustomerTag,
    FollowRelation,
    FollowStatus,
    Tag,
)
from scrm.customers.tag_index import desired_tags

_ATTRIBUTE_TYPES = {
    AttributeType.STRING: FieldType.STRING,
    AttributeType.NUMBER: FieldType.NUMBER,
    AttributeType.BOOLEAN: FieldType.BOOLEAN,
    AttributeType.DATE: FieldType.DATE,
}


def _yuan(column: Any) -> Any:
    """Fen kept in the column, compared in yuan (what operators type)."""
    return column / 100.0


def _tag_members(tenant_id: int) -> SetMembers:
    def criteria(values: Sequence[Any] | None) -> list[ColumnElement[bool]]:
        found = [CustomerTag.tenant_id == tenant_id]
        if values is not None:
            found.append(CustomerTag.tag_id.in_(list(values)))
        return found

    def any_of(values: Sequence[Any] | None) -> ColumnElement[bool]:
        return exists().where(CustomerTag.customer_id == Customer.id, *criteria(values))

    def postings(values: Sequence[Any] | None, extra: Sequence[ColumnElement[bool]]) -> Select[Any]:
        return select(CustomerTag.customer_id).where(*criteria(values), *extra)

    return SetMembers(
        any_of=any_of,
        none_of=lambda values: not_(any_of(values)),
        postings=postings,
        posting_columns={"added_at": CustomerTag.customer_added_at},
    )


def _relation_members(tenant_id: int, column: Any) -> SetMembers:
    def criteria(values: Sequence[Any] | None) -> list[ColumnElement[bool]]:
        found = [FollowRelation.tenant_id == tenant_id, FollowRelation.status == FollowStatus.ACTIVE]
        if values is not None:
            found.append(column.in_(list(values)))
        return found

    def any_of(values: Sequence[Any] | None) -> ColumnElement[bool]:
        return exists().where(FollowRelation.customer_id == Customer.id, *criteria(values))

    def postings(values: Sequence[Any] | None, extra: Sequence[ColumnElement[bool]]) -> Select[Any]:
        return select(FollowRelation.customer_id).where(*criteria(values), *extra)

    return SetMembers(any_of=any_of, none_of=lambda values: not_(any_of(values)), postings=postings)


def _attribute_field(definition: CustomerAttributeDefinition) -> Field:
    key = definition.key
    field_type = _ATTRIBUTE_TYPES[AttributeType(definition.type)]
    element = Customer.attributes[key]
    column: ColumnElement[Any]
    if field_type == FieldType.NUMBER:
        column = element.as_float()
    elif field_type == FieldType.BOOLEAN:
        column = element.as_boolean()
    else:
        column = element.as_string()
    return Field(
        f"attributes.{key}",
        field_type,
        definition.label,
        definition.label,
        get=lambda record: (record.get("attributes") or {}).get(key),
        column=column,
        sql_value=date.isoformat if field_type == FieldType.DATE else None,
        group="attributes",
    )


def customer_fields(session: Session, tenant_id: int) -> FieldRegistry:
    """The tenant's customer fields (see the module docstring)."""
    known_tags: set[int] | None = None

    def check_tags(op: Op, value: Any) -> str | None:
        nonlocal known_tags
        if known_tags is None:
            known_tags = set(
                session.scalars(select(Tag.id).where(Tag.tenant_id == tenant_id, Tag.is_deleted.is_(False)))
            )
        missing = [tag for tag in value if tag not in known_tags]
        return f"unknown tags {missing}" if missing else None

    fields = [
        Field(
            "tags",
            FieldType.ID_SET,
            "标签",
            "Tags",
            members=_tag_members(tenant_id),
            check_values=check_tags,
        ),
        Field(
            "staff",
            FieldType.STRING_SET,
            "跟进员工",
            "Follow staff",
            members=_relation_members(tenant_id, FollowRelation.staff_userid),
        ),
        Field(
            "connection",
            FieldType.ID_SET,
            "企业微信连接",
            "WeCom connection",
            members=_relation_members(tenant_id, FollowRelation.connection_id),
        ),
        Field("channel", FieldType.ID, "来源渠道", "Source channel", column=Customer.source_channel_id),
        Field("store", FieldType.STRING, "门店", "Store", column=Customer.store),
        Field("region", FieldType.STRING, "区域", "Region", column=Customer.region),
        Field("added_at", FieldType.DATETIME, "添加时间", "Added at", column=Customer.first_seen_at),
        Field("gender", FieldType.ID, "性别", "Gender", column=Customer.gender),
    ]
    fields.extend(
        _attribute_field(definition)
        for definition in session.scalars(
            select(CustomerAttributeDefinition)
            .where(CustomerAttributeDefinition.tenant_id == tenant_id)
            .order_by(CustomerAttributeDefinition.id)
        )
    )
    fields.extend(
        Field(name, field_type, zh, en, column=column, group="orders")
        for name, field_type, zh, en, column in (
            ("order_count", FieldType.NUMBER, "订单数", "Order count", Customer.order_count),
            (
                "total_spent",
                FieldType.NUMBER,
                "累计消费（元）",
                "Total spent (yuan)",
                _yuan(Customer.total_spent_fen),
            ),
            (
                "avg_order_value",
                FieldType.NUMBER,
                "客单价（元）",
                "Average order (yuan)",
                _yuan(Customer.avg_order_fen),
            ),
            ("first_order_at", FieldType.DATETIME, "首次下单时间", "First order at", Customer.first_order_at),
            ("last_order_at", FieldType.DATETIME, "最近下单时间", "Last order at", Customer.last_order_at),
            (
                "platform_count",
                FieldType.NUMBER,
                "购买平台数",
                "Platforms bought on",
                Customer.platform_count,
            ),
            ("rfm_r", FieldType.NUMBER, "R 近度评分 (1-5)", "Recency score (1-5)", Customer.rfm_r),
            ("rfm_f", FieldType.NUMBER, "F 频度评分 (1-5)", "Frequency score (1-5)", Customer.rfm_f),
            ("rfm_m", FieldType.NUMBER, "M 金额评分 (1-5)", "Monetary score (1-5)", Customer.rfm_m),
        )
    )
    return FieldRegistry(fields, row_id=Customer.id)


def customer_records(
    session: Session, tenant_id: int, customer_ids: Collection[int]
) -> dict[int, dict[str, Any]]:
    """id → the record the Python evaluator reads for that customer (same values as the SQL side)."""
    ids = list(set(customer_ids))
    records: dict[int, dict[str, Any]] = {}
    if not ids:
        return records
    for customer in session.scalars(
        select(Customer).where(Customer.tenant_id == tenant_id, Customer.id.in_(ids))
    ):
        records[customer.id] = {
            "id": customer.id,
            "channel": customer.source_channel_id,
            "store": customer.store,
            "region": customer.region,
            "added_at": customer.first_seen_at,
            "gender": customer.gender,
            "order_count": customer.order_count,
            "total_spent": customer.total_spent_fen / 100.0,
            "avg_order_value": customer.avg_order_fen / 100.0,
            "first_order_at": customer.first_order_at,
            "last_order_at": customer.last_order_at,
            "platform_count": customer.platform_count,
            "rfm_r": customer.rfm_r,
            "rfm_f": customer.rfm_f,
            "rfm_m": customer.rfm_m,
            "attributes": dict(customer.attributes or {}),
            "tags": set(),
            "staff": set(),
            "connection": set(),
        }
    for customer_id, tags in desired_tags(session, tenant_id, list(records)).items():
        records[customer_id]["tags"] = tags
    staff: dict[int, set[str]] = defaultdict(set)
    connections: dict[int, set[int]] = defaultdict(set)
    for customer_id, userid, connection_id in session.execute(
        select(FollowRelation.customer_id, FollowRelation.staff_userid, FollowRelation.connection_id).where(
            FollowRelation.tenant_id == tenant_id,
            FollowRelation.customer_id.in_(list(records)),
            FollowRelation.status == FollowStatus.ACTIVE,
        )
    ):
        staff[customer_id].add(userid)
        connections[customer_id].add(connection_id)
    for customer_id, record in records.items():
        record["staff"] = staff.get(customer_id, set())
        record["connection"] = connections.get(customer_id, set())
    return records
