"""Custom customer attributes (自定义属性) and the field list of the segment builder. Never commits."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from scrm.core.actors import Actor
from scrm.core.errors import Conflict, ValidationFailed
from scrm.core.tenancy import tenant_select
from scrm.customers.fields import customer_fields
from scrm.customers.models import AttributeType, CustomerAttributeDefinition, TimelineEntry
from scrm.customers.permissions import CustomerPermission
from scrm.customers.schemas import AttributeDefinitionIn, AttributeDefinitionOut, CustomerOut, FieldOut
from scrm.customers.service import access_customer, render_customers
from scrm.identity.audit import record_audit


def list_fields(session: Session, *, actor: Actor) -> list[FieldOut]:
    """The fields a segment condition may test, with their operators (for the builder)."""
    actor.require(CustomerPermission.VIEW)
    return [FieldOut(**field.describe()) for field in customer_fields(session, actor.tenant_id)]


def _definition_out(definition: CustomerAttributeDefinition) -> AttributeDefinitionOut:
    return AttributeDefinitionOut(
        id=definition.id, key=definition.key, label=definition.label, type=definition.type
    )


def list_attribute_definitions(session: Session, *, actor: Actor) -> list[AttributeDefinitionOut]:
    actor.require(CustomerPermission.VIEW)
    return [
        _definition_out(definition)
        for definition in session.scalars(
            tenant_select(CustomerAttributeDefinition, actor.tenant_id).order_by(
                CustomerAttributeDefinition.id
            )
        )
    ]


def create_attribute_definition(
    session: Session, *, actor: Actor, data: AttributeDefinitionIn
) -> AttributeDefinitionOut:
    actor.require(CustomerPermission.SEGMENTS_MANAGE)
    exists_already = session.scalar(
        select(CustomerAttributeDefinition.id).where(
            CustomerAttributeDefinition.tenant_id == actor.tenant_id,
            CustomerAttributeDefinition.key == data.key,
        )
    )
    if exists_already is not None:
        raise Conflict(f"attribute {data.key!r} exists", field_errors=[{"field": "key", "message": "exists"}])
    definition = CustomerAttributeDefinition(
        tenant_id=actor.tenant_id, key=data.key, label=data.label, type=data.type
    )
    session.add(definition)
    session.flush()
    record_audit(
        session,
        actor=actor,
        action="customer_attribute.created",
        target_type="customer_attribute",
        target_id=definition.id,
        detail={"key": data.key, "type": data.type},
    )
    return _definition_out(definition)


def _attribute_value(kind: str, value: Any) -> Any:
    if kind == AttributeType.STRING and isinstance(value, str) and len(value) <= 200:
        return value
    if kind == AttributeType.NUMBER and isinstance(value, int | float) and not isinstance(value, bool):
        return value
    if kind == AttributeType.BOOLEAN and isinstance(value, bool):
        return value
    if kind == AttributeType.DATE and isinstance(value, str):
        return date.fromisoformat(value).isoformat()
    raise ValueError(f"expected a {kind}")


def set_attributes(
    session: Session, *, actor: Actor, customer_id: int, values: dict[str, Any]
) -> CustomerOut:
    """Set (or with null, remove) custom attributes, each checked against its definition."""
    actor.require(CustomerPermission.EDIT)
    customer = access_customer(session, actor=actor, customer_id=customer_id)
    definitions = {
        definition.key: definition.type
        for definition in session.scalars(tenant_select(CustomerAttributeDefinition, actor.tenant_id))
    }
    updated = dict(customer.attributes or {})
    errors = []
    for key, value in values.items():
        if key not in definitions:
            errors.append({"field": f"values.{key}", "message": "no such attribute"})
            continue
        if value is None:
            updated.pop(key, None)
            continue
        try:
            updated[key] = _attribute_value(definitions[key], value)
        except ValueError as error:
            errors.append({"field": f"values.{key}", "message": str(error)})
    if errors:
        raise ValidationFailed("some attributes are not valid", field_errors=errors)
    customer.attributes = updated
    session.add(
        TimelineEntry(
            tenant_id=actor.tenant_id,
            customer_id=customer.id,
            kind="attributes.changed",
            summary="属性变更：" + "、".join(sorted(values)),
            detail={"values": values, "by": actor.label},
        )
    )
    session.flush()
    record_audit(
        session,
        actor=actor,
        action="customer.attributes_changed",
        target_type="customer",
        target_id=customer.id,
        detail={"keys": sorted(values)},
    )
    return render_customers(session, actor=actor, customers=[customer])[0]
