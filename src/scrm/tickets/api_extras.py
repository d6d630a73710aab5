"""HTTP endpoints for merging duplicate tickets, attachments and satisfaction ratings, and the public
(no login) rating endpoints a customer's rating link opens."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, File, Form, Path, UploadFile, status
from fastapi.responses import FileResponse

from scrm.identity.deps import CurrentActor, DbSession, get_settings
from scrm.settings import Settings
from scrm.tickets import attachments, merge, rating
from scrm.tickets.filetypes import TEXT, content_disposition
from scrm.tickets.schemas import (
    AttachmentOut,
    DuplicateOut,
    PublicRatingOut,
    RatingIn,
    RatingLinkOut,
    TicketMergeIn,
    TicketMergeOut,
    TicketOut,
)
from scrm.tickets.storage import AttachmentStore

router = APIRouter(prefix="/api/v1/tickets", tags=["tickets"])
public_router = APIRouter(prefix="/api/v1/public/ticket-ratings", tags=["public"])

AppSettings = Annotated[Settings, Depends(get_settings)]
RatingToken = Annotated[str, Path(max_length=rating.MAX_TOKEN_LENGTH)]

#: The upload path, for the body-size limit of its own (`upload_body_limit`).
UPLOAD_PATH_PATTERN = r"/api/v1/tickets/[0-9]+/attachments"
# Room for the multipart envelope around the file (boundaries, part headers, the comment id).
MULTIPART_OVERHEAD_BYTES = 64 * 1024


def upload_body_limit(settings: Settings) -> tuple[str, int]:
    """The `(path pattern, bytes)` the body-size middleware allows attachment uploads."""
    return UPLOAD_PATH_PATTERN, settings.attachment_max_bytes + MULTIPART_OVERHEAD_BYTES


def attachment_store(settings: Settings) -> AttachmentStore:
    return AttachmentStore(settings.var_dir / "attachments")


@router.get("/{ticket_id}/duplicates", response_model=list[DuplicateOut])
def list_duplicates(ticket_id: int, actor: CurrentActor, session: DbSession) -> list[DuplicateOut]:
    """Likely duplicates: open tickets of the same customer or order created within 14 days, the same
    order first, each with its `reasons`."""
    return merge.find_duplicates(session, actor=actor, ticket_id=ticket_id)


@router.post("/{ticket_id}/merge", response_model=TicketMergeOut)
def merge_ticket(
    ticket_id: int, data: TicketMergeIn, actor: CurrentActor, session: DbSession
) -> TicketMergeOut:
    """Close this ticket as a duplicate of `into_ticket_id` (outcome `merged`). 409 with the reason
    when not allowed: into itself, a source already merged/closed/resolved, a closed or merged target,
    another customer's ticket."""
    return merge.merge_ticket(session, actor=actor, ticket_id=ticket_id, data=data)


@router.post("/{ticket_id}/attachments", response_model=AttachmentOut, status_code=status.HTTP_201_CREATED)
def upload_attachment(
    ticket_id: int,
    file: Annotated[UploadFile, File(description="one file: image, PDF, text, .docx, .xlsx or MP4")],
    actor: CurrentActor,
    session: DbSession,
    settings: AppSettings,
    comment_id: Annotated[int | None, Form()] = None,
) -> AttachmentOut:
    """Attach a file (multipart field `file`; optional `comment_id`). 413 past the size limit, 415
    for a type not allowed (judged by the content), 422 when the declared type disagrees."""
    return attachments.add_attachment(
        session,
        actor=actor,
        store=attachment_store(settings),
        ticket_id=ticket_id,
        content=file.file,
        filename=file.filename,
        declared_type=file.content_type,
        max_bytes=settings.attachment_max_bytes,
        comment_id=comment_id,
    )


@router.get("/{ticket_id}/attachments", response_model=list[AttachmentOut])
def list_attachments(ticket_id: int, actor: CurrentActor, session: DbSession) -> list[AttachmentOut]:
    return attachments.list_attachments(session, actor=actor, ticket_id=ticket_id)


@router.get(
    "/{ticket_id}/attachments/{attachment_id}",
    response_class=FileResponse,
    responses={200: {"content": {"application/octet-stream": {}}, "description": "the file's bytes"}},
)
def download_attachment(
    ticket_id: int, attachment_id: int, actor: CurrentActor, session: DbSession, settings: AppSettings
) -> FileResponse:
    """The file, as an attachment (`Content-Disposition` with the UTF-8 name), never sniffed by the
    browser (`X-Content-Type-Options: nosniff`)."""
    found, path = attachments.open_attachment(
        session,
        actor=actor,
        store=attachment_store(settings),
        ticket_id=ticket_id,
        attachment_id=attachment_id,
    )
    media_type = f"{TEXT}; charset=utf-8" if found.content_type == TEXT else found.content_type
    return FileResponse(
        path,
        media_type=media_type,
        headers={
            "Content-Disposition": content_disposition(found.filename),
            "X-Content-Type-Options": "nosniff",
            "Content-Security-Policy": "sandbox; default-src 'none'",
            "Cache-Control": "private, no-cache",
        },
    )


@router.post("/{ticket_id}/rating", response_model=TicketOut, status_code=status.HTTP_201_CREATED)
def rate_ticket(ticket_id: int, data: RatingIn, actor: CurrentActor, session: DbSession) -> TicketOut:
    """Record the customer's satisfaction rating on their behalf: once, for a resolved or closed
    ticket (409 otherwise)."""
    return rating.rate_ticket(session, actor=actor, ticket_id=ticket_id, data=data)


@router.post("/{ticket_id}/rating-link", response_model=RatingLinkOut, status_code=status.HTTP_201_CREATED)
def create_rating_link(
    ticket_id: int, actor: CurrentActor, session: DbSession, settings: AppSettings
) -> RatingLinkOut:
    """A signed link (14 days) for the customer to rate the ticket without logging in."""
    return rating.create_rating_link(
        session,
        actor=actor,
        ticket_id=ticket_id,
        secret=settings.resolved_secret_key,
        public_base_url=settings.public_base_url,
    )


@public_router.get("/{token}", response_model=PublicRatingOut)
def get_public_rating(token: RatingToken, session: DbSession, settings: AppSettings) -> PublicRatingOut:
    """The ticket a rating link names: title and status only. 404 for an invalid link, 410 expired."""
    return rating.public_rating(session, token=token, secret=settings.resolved_secret_key)


@public_router.post("/{token}", response_model=PublicRatingOut, status_code=status.HTTP_201_CREATED)
def submit_public_rating(
    token: RatingToken, data: RatingIn, session: DbSession, settings: AppSettings
) -> PublicRatingOut:
    """The customer's rating through the link: once (409 after), 404 for an invalid link, 410 expired."""
    return rating.submit_public_rating(session, token=token, secret=settings.resolved_secret_key, data=data)
