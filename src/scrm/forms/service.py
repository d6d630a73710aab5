"""Forms for the console: create, change (each change of fields is a new version), read, versions,
submissions, the dry-run check of a draft; and the check of a ticket's custom fields against its
type's form. Keyword-only, typed, never commits.

Another tenant's ids are unknown ids (404). Public (anonymous) access is in `submissions.py`.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from scrm.core.actors import Actor
from scrm.core.errors import Conflict, NotFound, ValidationFailed
from scrm.core.pagination import PageRequest, paginate
from scrm.core.tenancy import get_in_tenant, require_in_tenant, tenant_select
from scrm.customers.phones import mask_phone
from scrm.customers.service import get_tag
from scrm.forms.fields import FieldSpec, FieldType, check_fields, compile_fields, fields_of
from scrm.forms.messages import field_error
from scrm.forms.models import Form, FormSubmission, FormVersion
from scrm.forms.permissions import FormPermission
from scrm.forms.schemas import (
    CreateTicketAction,
    FormDefinitionIn,
    FormDetailOut,
    FormIn,
    FormKind,
    FormOut,
    FormVersionOut,
    FormVersionSummary,
    SubmissionOut,
    TagCustomerAction,
    ValidationOut,
)
from scrm.forms.validation import validate_data
from scrm.identity.audit import record_audit

PLACEHOLDER = re.compile(r"\{([a-z][a-z0-9_]*)\}")
# Who may see phone numbers in submissions unmasked (the customers domain's PII permission).
PII_PERMISSION = "customers.pii.view"


# --- definitions ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CheckedDefinition:
    schema: dict[str, Any]
    ui: dict[str, Any]
    errors: list[dict[str, Any]]


def _check_actions(
    session: Session, tenant_id: int, kind: FormKind, specs: list[FieldSpec], actions: list[Any]
) -> list[dict[str, Any]]:
    if kind == FormKind.TICKET and actions:
        return [field_error("on_submit", "ticket_form_actions")]
    types = {spec.key: spec.type for spec in specs}
    errors: list[dict[str, Any]] = []
    for index, action in enumerate(actions):
        where = f"on_submit.{index}"
        if isinstance(action, CreateTicketAction):
            errors.extend(
                field_error(f"{where}.title", "unknown_placeholder", key=key)
                for key in PLACEHOLDER.findall(action.title)
                if key not in types
            )
        elif isinstance(action, TagCustomerAction):
            if types.get(action.phone_field) != FieldType.PHONE:
                errors.append(field_error(f"{where}.phone_field", "not_phone_field"))
            errors.extend(
                field_error(f"{where}.tag_ids", "unknown_tag", tag_id=tag_id)
                for tag_id in action.tag_ids
                if get_tag(session, tenant_id=tenant_id, tag_id=tag_id) is None
            )
    return errors


def check_definition(
    session: Session, *, tenant_id: int, kind: FormKind, fields: list[dict[str, Any]], actions: list[Any]
) -> CheckedDefinition:
    """A draft's field errors, and its compiled schema and UI hints when it has none."""
    specs, errors = check_fields(fields)
    errors += _check_actions(session, tenant_id, kind, specs, actions)
    if errors:
        return CheckedDefinition({}, {}, errors)
    schema, ui = compile_fields(specs)
    return CheckedDefinition(schema, ui, [])


def validate_draft(session: Session, *, actor: Actor, data: FormDefinitionIn) -> ValidationOut:
    """The dry run of the builder: every problem of a draft, nothing written."""
    actor.require(FormPermission.MANAGE)
    checked = check_definition(
        session, tenant_id=actor.tenant_id, kind=data.kind, fields=data.fields, actions=data.on_submit
    )
    if checked.errors:
        return ValidationOut(valid=False, errors=checked.errors)
    return ValidationOut(valid=True, errors=[], schema_=checked.schema, ui=checked.ui)


# --- forms ----------------------------------------------------------------------------------------------


def _version_out(row: FormVersion) -> FormVersionOut:
    return FormVersionOut(
        id=row.id,
        form_id=row.form_id,
        version=row.version,
        created_by=row.created_by,
        created_at=row.created_at,
        schema_=row.schema,
        ui=row.ui,
        fields=fields_of(row.schema, row.ui),
    )


def _current(session: Session, form: Form) -> FormVersion:
    return session.scalars(
        tenant_select(FormVersion, form.tenant_id).where(
            FormVersion.form_id == form.id, FormVersion.version == form.current_version
        )
    ).one()


def _detail(session: Session, form: Form) -> FormDetailOut:
    return FormDetailOut(
        **FormOut.model_validate(form).model_dump(), definition=_version_out(_current(session, form))
    )


def _checked_form(session: Session, actor: Actor, data: FormIn, form_id: int | None) -> CheckedDefinition:
    errors = []
    if data.kind == FormKind.TICKET and not data.ticket_type:
        errors.append(field_error("ticket_type", "ticket_type_required"))
    if data.kind == FormKind.PUBLIC and data.ticket_type:
        errors.append(field_error("ticket_type", "ticket_type_public"))
    checked = check_definition(
        session, tenant_id=actor.tenant_id, kind=data.kind, fields=data.fields, actions=data.on_submit
    )
    if errors or checked.errors:
        raise ValidationFailed("the form is not valid", field_errors=errors + checked.errors)
    for column, value in (("name", data.name), ("ticket_type", data.ticket_type)):
        if value is None:
            continue
        clash = session.scalar(
            select(Form.id).where(Form.tenant_id == actor.tenant_id, getattr(Form, column) == value)
        )
        if clash is not None and clash != form_id:
            raise Conflict(
                f"another form has the {column} {value!r}",
                field_errors=[field_error(column, "taken", value=value)],
            )
    return checked


def _add_version(session: Session, form: Form, checked: CheckedDefinition, actor: Actor) -> None:
    session.add(
        FormVersion(
            tenant_id=form.tenant_id,
            form_id=form.id,
            version=form.current_version,
            schema=checked.schema,
            ui=checked.ui,
            created_by=actor.label,
        )
    )


def create_form(session: Session, *, actor: Actor, data: FormIn) -> FormDetailOut:
    """A form at version 1. Public forms get their unguessable `public_key`. 422 with field errors for
    an invalid definition, 409 when the name or the ticket type is taken."""
    actor.require(FormPermission.MANAGE)
    checked = _checked_form(session, actor, data, None)
    form = Form(
        tenant_id=actor.tenant_id,
        name=data.name,
        description=data.description,
        kind=data.kind.value,
        ticket_type=data.ticket_type,
        public_key=secrets.token_urlsafe(18) if data.kind == FormKind.PUBLIC else None,
        current_version=1,
        on_submit=[action.model_dump() for action in data.on_submit],
        is_active=data.is_active,
    )
    session.add(form)
    session.flush()
    _add_version(session, form, checked, actor)
    session.flush()
    record_audit(session, actor=actor, action="forms.form_created", target_type="form", target_id=form.id,
                 detail={"name": form.name, "kind": form.kind})  # fmt: skip
    return _detail(session, form)


def update_form(session: Session, *, actor: Actor, form_id: int, data: FormIn) -> FormDetailOut:
    """Replace a form's settings and fields. Changed fields make a new version (earlier ones stay as
    they were: tickets and submissions keep theirs); unchanged fields keep the current one. The kind
    cannot change."""
    actor.require(FormPermission.MANAGE)
    form = require_in_tenant(session, Form, actor.tenant_id, form_id)
    if data.kind.value != form.kind:
        raise ValidationFailed(
            "the kind of a form cannot change",
            field_errors=[field_error("kind", "kind_fixed")],
        )
    checked = _checked_form(session, actor, data, form.id)
    current = _current(session, form)
    changed = (current.schema, current.ui) != (checked.schema, checked.ui)
    form.name, form.description, form.is_active = data.name, data.description, data.is_active
    form.ticket_type = data.ticket_type
    form.on_submit = [action.model_dump() for action in data.on_submit]
    if changed:
        form.current_version += 1
        _add_version(session, form, checked, actor)
    session.flush()
    record_audit(session, actor=actor, action="forms.form_changed", target_type="form", target_id=form.id,
                 detail={"version": form.current_version, "new_version": changed})  # fmt: skip
    return _detail(session, form)


def archive_form(session: Session, *, actor: Actor, form_id: int) -> FormOut:
    """Switch a form off: a public form stops answering, a ticket type's fields stop being checked.
    Its versions stay (tickets and submissions point at them)."""
    actor.require(FormPermission.MANAGE)
    form = require_in_tenant(session, Form, actor.tenant_id, form_id)
    form.is_active = False
    session.flush()
    record_audit(session, actor=actor, action="forms.form_archived", target_type="form", target_id=form.id)
    return FormOut.model_validate(form)


def list_forms(session: Session, *, actor: Actor, kind: FormKind | None = None) -> list[FormOut]:
    actor.require(FormPermission.VIEW)
    query = tenant_select(Form, actor.tenant_id).order_by(Form.id.desc())
    if kind is not None:
        query = query.where(Form.kind == kind.value)
    return [FormOut.model_validate(form) for form in session.scalars(query)]


def get_form(session: Session, *, actor: Actor, form_id: int) -> FormDetailOut:
    actor.require(FormPermission.VIEW)
    return _detail(session, require_in_tenant(session, Form, actor.tenant_id, form_id))


def list_versions(session: Session, *, actor: Actor, form_id: int) -> list[FormVersionSummary]:
    """A form's versions, newest first."""
    actor.require(FormPermission.VIEW)
    form = require_in_tenant(session, Form, actor.tenant_id, form_id)
    rows = session.scalars(
        tenant_select(FormVersion, actor.tenant_id)
        .where(FormVersion.form_id == form.id)
        .order_by(FormVersion.version.desc())
    )
    return [FormVersionSummary.model_validate(row) for row in rows]


def get_version(session: Session, *, actor: Actor, form_id: int, version: int) -> FormVersionOut:
    actor.require(FormPermission.VIEW)
    form = require_in_tenant(session, Form, actor.tenant_id, form_id)
    row = session.scalars(
        tenant_select(FormVersion, actor.tenant_id).where(
            FormVersion.form_id == form.id, FormVersion.version == version
        )
    ).one_or_none()
    if row is None:
        raise NotFound(f"form {form_id} has no version {version}")
    return _version_out(row)


# --- submissions ----------------------------------------------------------------------------------------


def list_submissions(
    session: Session, *, actor: Actor, form_id: int, page: PageRequest
) -> tuple[list[SubmissionOut], str | None]:
    """A form's submissions, newest first. Phone numbers are masked (138****0000) unless the actor
    may see customers' personal data."""
    actor.require(FormPermission.VIEW)
    form = require_in_tenant(session, Form, actor.tenant_id, form_id)
    query = (
        select(FormSubmission, FormVersion)
        .join(FormVersion, FormVersion.id == FormSubmission.form_version_id)
        .where(FormSubmission.tenant_id == actor.tenant_id, FormSubmission.form_id == form.id)
    )
    rows, next_cursor = paginate(session, query, FormSubmission.id, page, rows=True)
    unmasked = actor.can(PII_PERMISSION)
    items = []
    for submission, version in rows:
        data = dict(submission.data)
        if not unmasked:
            for key, prop in version.schema["properties"].items():
                if prop.get("x-field") == FieldType.PHONE and isinstance(data.get(key), str):
                    data[key] = mask_phone(data[key])
        items.append(
            SubmissionOut(
                id=submission.id,
                form_id=submission.form_id,
                form_version_id=submission.form_version_id,
                version=version.version,
                data=data,
                customer_id=submission.customer_id,
                ticket_id=submission.ticket_id,
                outcome=submission.outcome,
                created_at=submission.created_at,
            )
        )
    return items, next_cursor


# --- ticket types' fields (called by the tickets domain) ------------------------------------------------


@dataclass(frozen=True)
class TicketFields:
    """A ticket's custom fields as checked: the form version they follow (None: no form) and the
    cleaned values to store."""

    form_version_id: int | None
    custom: dict[str, Any]


def check_ticket_fields(
    session: Session, *, tenant_id: int, ticket_type: str, custom: dict[str, Any], source_ref: str | None
) -> TicketFields:
    """Check a new ticket's `custom` against the current version of its type's active ticket form.

    Raises ValidationFailed with one error per problem (`custom.<key>`). Without such a form the
    fields are kept as given. A ticket raised by a public form's submission (`source_ref`
    "form:<submission id>") carries that form's answers, already validated, under that version.
    A ticket raised by another domain's event (any other `source_ref`: a refund, an order alert) is
    never refused for its fields: an administrator's later form must not make the system lose the
    ticket; fields that do not fit the form are kept as given, without a form version."""
    if source_ref is not None and source_ref.startswith("form:") and source_ref[5:].isdigit():
        submission = get_in_tenant(session, FormSubmission, tenant_id, int(source_ref[5:]))
        if submission is not None:
            return TicketFields(submission.form_version_id, dict(submission.data))
    form = session.scalars(
        tenant_select(Form, tenant_id).where(
            Form.kind == FormKind.TICKET.value, Form.ticket_type == ticket_type, Form.is_active.is_(True)
        )
    ).one_or_none()
    if form is None:
        return TicketFields(None, custom)
    version = _current(session, form)
    cleaned, errors = validate_data(version.schema, custom, prefix="custom.")
    if errors and source_ref is not None:
        return TicketFields(None, custom)
    if errors:
        raise ValidationFailed("the ticket's custom fields are not valid", field_errors=errors)
    return TicketFields(version.id, cleaned)


def ticket_form(session: Session, *, tenant_id: int, form_version_id: int | None) -> dict[str, Any] | None:
    """The form version a ticket's custom fields follow (form id, version, schema, UI hints), to show
    them with their labels; None without one."""
    if form_version_id is None:
        return None
    row = get_in_tenant(session, FormVersion, tenant_id, form_version_id)
    if row is None:
        return None
    return {"form_id": row.form_id, "version": row.version, "schema": row.schema, "ui": row.ui}
