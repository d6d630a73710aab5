"""API shapes of the forms domain."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from scrm.forms.fields import MAX_FIELDS


class FormKind(StrEnum):
    TICKET = "ticket"
    PUBLIC = "public"


class CreateTicketAction(BaseModel):
    """Open a ticket per submission (source `form`); `title` may name fields as `{key}`."""

    model_config = ConfigDict(extra="forbid")

    type: Literal["create_ticket"]
    ticket_type: str = Field(default="general", min_length=1, max_length=64)
    priority: Literal["urgent", "high", "normal", "low"] = "normal"
    title: str = Field(min_length=1, max_length=200)


class TagCustomerAction(BaseModel):
    """Tag the customer whose phone number was submitted in `phone_field` (a phone field)."""

    model_config = ConfigDict(extra="forbid")

    type: Literal["tag_customer"]
    phone_field: str = Field(min_length=1, max_length=40)
    tag_ids: list[int] = Field(min_length=1, max_length=20)


SubmitAction = Annotated[CreateTicketAction | TagCustomerAction, Field(discriminator="type")]


class FormDefinitionIn(BaseModel):
    """A draft's fields as the builder edits them (`fields.FieldSpec` each); checked by the service,
    so that every problem comes back as a field error."""

    model_config = ConfigDict(extra="forbid")

    fields: list[dict[str, Any]] = Field(max_length=MAX_FIELDS)
    on_submit: list[SubmitAction] = Field(default_factory=list, max_length=10)
    kind: FormKind = FormKind.PUBLIC


class FormIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=100)
    description: str = Field(default="", max_length=1000)
    kind: FormKind
    ticket_type: str | None = Field(
        default=None, min_length=1, max_length=64, description="Required for (and only for) ticket forms"
    )
    is_active: bool = True
    fields: list[dict[str, Any]] = Field(max_length=MAX_FIELDS, description="`FieldSpec` objects, in order")
    on_submit: list[SubmitAction] = Field(default_factory=list, max_length=10)


class FormOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    description: str
    kind: FormKind
    ticket_type: str | None
    public_key: str | None
    current_version: int
    on_submit: list[dict[str, Any]]
    is_active: bool
    created_at: datetime
    updated_at: datetime


class FormVersionSummary(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    version: int
    created_by: str
    created_at: datetime


class FormVersionOut(FormVersionSummary):
    model_config = ConfigDict(from_attributes=True, populate_by_name=True)

    form_id: int
    schema_: dict[str, Any] = Field(alias="schema")
    ui: dict[str, Any]
    # The same definition as the builder's field list.
    fields: list[dict[str, Any]]


class FormDetailOut(FormOut):
    definition: FormVersionOut


class ValidationOut(BaseModel):
    """A draft checked: its field errors, and (when there are none) what it compiles to."""

    model_config = ConfigDict(populate_by_name=True)

    valid: bool
    errors: list[dict[str, Any]]
    schema_: dict[str, Any] | None = Field(default=None, alias="schema")
    ui: dict[str, Any] | None = None


class SubmissionOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    form_id: int
    form_version_id: int
    version: int
    data: dict[str, Any]
    customer_id: int | None
    ticket_id: int | None
    outcome: list[dict[str, Any]]
    created_at: datetime


class PublicFormOut(BaseModel):
    """What an anonymous visitor sees: the current definition, nothing about the tenant."""

    model_config = ConfigDict(populate_by_name=True)

    name: str
    description: str
    version: int
    schema_: dict[str, Any] = Field(alias="schema")
    ui: dict[str, Any]
    fields: list[dict[str, Any]]


class PublicSubmissionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    data: dict[str, Any]


class PublicSubmissionOut(BaseModel):
    received: bool = True
    message: str = "提交成功，感谢您的填写 / Thank you, your answers were received"
