"""Public forms: what an anonymous visitor reads and submits, and the actions a submission runs.

No login: the form's unguessable `public_key` is the only key. An unknown key, a ticket-type form
and a switched-off form all answer 404. A visitor (by IP) may submit `MAX_SUBMISSIONS_PER_IP` times
per `WINDOW` across all forms (429 after); bodies are capped at `MAX_BODY_BYTES` by the API.

A valid submission is stored with the version it was validated against and runs the form's
`on_submit` actions in the same transaction, as the tenant's system actor:
- `create_ticket`: a ticket of source `form` (source_ref `form:<submission id>`) whose custom fields
  are the answers under this form version, linked to the customer the phone number matched;
- `tag_customer`: adds tags to the customer whose phone number was submitted; when none matches,
  or the tags cannot be added, the submission records why (the visitor is not told).
An invalid submission writes nothing.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from scrm.core.actors import Actor
from scrm.core.clock import utcnow
from scrm.core.errors import DomainError, NotFound, TooManyRequests, ValidationFailed
from scrm.customers.merge_service import resolve_identities
from scrm.customers.schemas import IdentityClaimIn, ResolveRequest
from scrm.customers.service import change_customer_tags
from scrm.forms.fields import FieldType, fields_of
from scrm.forms.models import Form, FormSubmission, FormVersion
from scrm.forms.schemas import FormKind, PublicFormOut, PublicSubmissionOut
from scrm.forms.service import PLACEHOLDER
from scrm.forms.validation import validate_data
from scrm.tickets.schemas import TicketIn, TicketSource
from scrm.tickets.service import create_ticket

log = logging.getLogger(__name__)

MAX_BODY_BYTES = 64 * 1024
MAX_SUBMISSIONS_PER_IP = 30
WINDOW = timedelta(minutes=10)


def _public_form(session: Session, public_key: str) -> tuple[Form, FormVersion]:
    form = session.scalars(
        select(Form).where(
            Form.public_key == public_key, Form.kind == FormKind.PUBLIC.value, Form.is_active.is_(True)
        )
    ).one_or_none()
    if form is None:
        raise NotFound("no such form")
    version = session.scalars(
        select(FormVersion).where(
            FormVersion.tenant_id == form.tenant_id,
            FormVersion.form_id == form.id,
            FormVersion.version == form.current_version,
        )
    ).one()
    return form, version


def get_public_form(session: Session, *, public_key: str) -> PublicFormOut:
    form, version = _public_form(session, public_key)
    return PublicFormOut(
        name=form.name,
        description=form.description,
        version=version.version,
        schema_=version.schema,
        ui=version.ui,
        fields=fields_of(version.schema, version.ui),
    )


def _check_rate(session: Session, ip: str) -> None:
    recent = session.scalar(
        select(func.count())
        .select_from(FormSubmission)
        .where(FormSubmission.ip == ip, FormSubmission.created_at >= utcnow() - WINDOW)
    )
    if (recent or 0) >= MAX_SUBMISSIONS_PER_IP:
        log.warning("form submission limit hit by %s", ip)
        raise TooManyRequests(
            "too many submissions; try again later", retry_after_seconds=int(WINDOW.total_seconds())
        )


def submit(session: Session, *, public_key: str, data: dict[str, Any], ip: str) -> PublicSubmissionOut:
    """Validate and store a submission and run its form's actions (see the module docstring).
    Raises NotFound, TooManyRequests, or ValidationFailed naming each field's problem by its key."""
    form, version = _public_form(session, public_key)
    _check_rate(session, ip)
    cleaned, errors = validate_data(version.schema, data)
    if errors:
        raise ValidationFailed("the form has invalid fields", field_errors=errors)
    submission = FormSubmission(
        tenant_id=form.tenant_id,
        form_id=form.id,
        form_version_id=version.id,
        data=cleaned,
        outcome=[],
        ip=ip[:64],
    )
    session.add(submission)
    session.flush()
    system = Actor.system(form.tenant_id)
    phone = _phone_for_customer(version.schema, form.on_submit, cleaned)
    if phone is not None:
        submission.customer_id = _match_customer(session, system, phone)
    outcome = []
    for action in form.on_submit:
        if action["type"] == "create_ticket":
            outcome.append(_create_ticket(session, system, form, version, submission, action))
        elif action["type"] == "tag_customer":
            outcome.append(_tag_customer(session, system, submission, action))
    submission.outcome = outcome
    session.flush()
    return PublicSubmissionOut()


def _phone_for_customer(schema: dict[str, Any], actions: list[dict[str, Any]], data: dict[str, Any]) -> Any:
    """The submitted phone number that identifies the customer: the one a `tag_customer` action
    names, else the first phone field answered."""
    named = [action["phone_field"] for action in actions if action["type"] == "tag_customer"]
    phones = [key for key, prop in schema["properties"].items() if prop["x-field"] == FieldType.PHONE]
    return next((data[key] for key in [*named, *phones] if key in data), None)


def _match_customer(session: Session, system: Actor, phone: str) -> int | None:
    """The customer holding this phone number, asked of the customers domain (never created here)."""
    resolved = resolve_identities(
        session,
        actor=system,
        data=ResolveRequest(
            identities=[IdentityClaimIn(kind="phone", value=phone)], create=False, dry_run=True, source="form"
        ),
    )
    return resolved.customer_id


def _display(prop: dict[str, Any], hints: dict[str, Any], value: Any) -> str:
    """An answer as people read it (option labels, region names joined)."""
    labels = hints.get("options", {})
    if isinstance(value, list):
        return "、".join(labels.get(item, {}).get("zh-CN") or str(item) for item in value)
    if isinstance(value, dict):
        return " ".join(value.values())
    if isinstance(value, bool):
        return "是" if value else "否"
    if prop["x-field"] == FieldType.CHOICE:
        return str(labels.get(value, {}).get("zh-CN") or value)
    return str(value)


def _create_ticket(
    session: Session,
    system: Actor,
    form: Form,
    version: FormVersion,
    submission: FormSubmission,
    action: dict[str, Any],
) -> dict[str, Any]:
    properties, hints = version.schema["properties"], version.ui.get("fields", {})
    answers = {
        key: _display(properties[key], hints.get(key, {}), value) for key, value in submission.data.items()
    }
    title = PLACEHOLDER.sub(lambda match: answers.get(match.group(1), ""), action["title"]).strip()
    lines = [
        f"{hints.get(key, {}).get('label', {}).get('zh-CN') or key}：{text}" for key, text in answers.items()
    ]
    ticket = create_ticket(
        session,
        actor=system,
        data=TicketIn(
            title=(title or form.name)[:200],
            description=f"来自表单「{form.name}」的提交\n" + "\n".join(lines),
            customer_id=submission.customer_id,
            source=TicketSource.FORM,
            ticket_type=action["ticket_type"],
            priority=action["priority"],
            custom=submission.data,
        ),
        source_ref=f"form:{submission.id}",
    )
    submission.ticket_id = ticket.id
    return {"type": "create_ticket", "status": "created", "ticket_id": ticket.id}


def _tag_customer(
    session: Session, system: Actor, submission: FormSubmission, action: dict[str, Any]
) -> dict[str, Any]:
    if submission.customer_id is None:
        detail = "no customer has this phone number"
        return {"type": "tag_customer", "status": "no_customer", "detail": detail}
    try:
        # A savepoint: a refusal (a WeCom tag on a customer without a relation in that corp) must
        # leave the submission and its other actions standing.
        with session.begin_nested():
            change_customer_tags(
                session, actor=system, customer_id=submission.customer_id, add=action["tag_ids"], remove=[]
            )
    except DomainError as error:
        return {"type": "tag_customer", "status": "failed", "detail": error.detail}
    return {"type": "tag_customer", "status": "tagged", "customer_id": submission.customer_id}
