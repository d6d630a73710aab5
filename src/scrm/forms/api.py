"""HTTP endpoints of the forms domain: the console's forms, versions, submissions and the dry-run
check (login), and the public forms (no login)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, status

from scrm.core.errors import PayloadTooLarge
from scrm.core.pagination import Page, PageRequest
from scrm.forms import service, submissions
from scrm.forms.schemas import (
    FormDefinitionIn,
    FormDetailOut,
    FormIn,
    FormKind,
    FormOut,
    FormVersionOut,
    FormVersionSummary,
    PublicFormOut,
    PublicSubmissionIn,
    PublicSubmissionOut,
    SubmissionOut,
    ValidationOut,
)
from scrm.identity.deps import CurrentActor, DbSession, client_ip

router = APIRouter(prefix="/api/v1/forms", tags=["forms"])
public_router = APIRouter(prefix="/api/v1/public/forms", tags=["public_forms"])


@router.get("", response_model=list[FormOut])
def list_forms(actor: CurrentActor, session: DbSession, kind: FormKind | None = None) -> list[FormOut]:
    return service.list_forms(session, actor=actor, kind=kind)


@router.post("", response_model=FormDetailOut, status_code=status.HTTP_201_CREATED)
def create_form(data: FormIn, actor: CurrentActor, session: DbSession) -> FormDetailOut:
    """A form at version 1 (422 with one error per problem of its fields, 409 on a taken name or
    ticket type)."""
    return service.create_form(session, actor=actor, data=data)


@router.post("/validate", response_model=ValidationOut)
def validate_definition(data: FormDefinitionIn, actor: CurrentActor, session: DbSession) -> ValidationOut:
    """Dry run: the field errors of a draft (and what it compiles to when it has none); writes nothing."""
    return service.validate_draft(session, actor=actor, data=data)


@router.get("/{form_id}", response_model=FormDetailOut)
def get_form(form_id: int, actor: CurrentActor, session: DbSession) -> FormDetailOut:
    return service.get_form(session, actor=actor, form_id=form_id)


@router.put("/{form_id}", response_model=FormDetailOut)
def update_form(form_id: int, data: FormIn, actor: CurrentActor, session: DbSession) -> FormDetailOut:
    """Replace a form; changed fields make a new version, earlier versions stay as they were."""
    return service.update_form(session, actor=actor, form_id=form_id, data=data)


@router.delete("/{form_id}", response_model=FormOut)
def archive_form(form_id: int, actor: CurrentActor, session: DbSession) -> FormOut:
    """Switch the form off (its versions and submissions stay)."""
    return service.archive_form(session, actor=actor, form_id=form_id)


@router.get("/{form_id}/versions", response_model=list[FormVersionSummary])
def list_versions(form_id: int, actor: CurrentActor, session: DbSession) -> list[FormVersionSummary]:
    return service.list_versions(session, actor=actor, form_id=form_id)


@router.get("/{form_id}/versions/{version}", response_model=FormVersionOut)
def get_version(form_id: int, version: int, actor: CurrentActor, session: DbSession) -> FormVersionOut:
    return service.get_version(session, actor=actor, form_id=form_id, version=version)


@router.get("/{form_id}/submissions", response_model=Page[SubmissionOut])
def list_submissions(
    form_id: int,
    actor: CurrentActor,
    session: DbSession,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: str | None = None,
) -> Page[SubmissionOut]:
    items, next_cursor = service.list_submissions(
        session, actor=actor, form_id=form_id, page=PageRequest(limit, cursor)
    )
    return Page(items=items, next_cursor=next_cursor)


@public_router.get("/{public_key}", response_model=PublicFormOut)
def get_public_form(public_key: str, session: DbSession) -> PublicFormOut:
    """A public form's current definition (no login)."""
    return submissions.get_public_form(session, public_key=public_key)


async def _small_body(request: Request) -> None:
    """413 for a submission over `submissions.MAX_BODY_BYTES` (the app-wide limit is far larger);
    the body was read, within that limit, before this runs."""
    if len(await request.body()) > submissions.MAX_BODY_BYTES:
        raise PayloadTooLarge(f"a submission is at most {submissions.MAX_BODY_BYTES} bytes")


@public_router.post(
    "/{public_key}/submissions",
    response_model=PublicSubmissionOut,
    status_code=status.HTTP_201_CREATED,
    dependencies=[Depends(_small_body)],
)
def submit(
    public_key: str, data: PublicSubmissionIn, request: Request, session: DbSession
) -> PublicSubmissionOut:
    """Submit a public form (no login): 422 naming each field's problem by its key, 413 over the size
    limit, 429 when this address submitted too often."""
    return submissions.submit(session, public_key=public_key, data=data.data, ip=client_ip(request))
