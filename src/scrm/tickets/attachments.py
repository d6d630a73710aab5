"""Ticket attachments (附件): upload, list, download. Keyword-only, typed, never commits.

An upload is checked before anything is kept: the ticket (404 for another tenant's), its status (409 once
closed), the comment it belongs to (422 unless one of the ticket's), the size (413 past
`Settings.attachment_max_bytes`), the content's type sniffed from its bytes (415 unless allowed, see
`filetypes.py`) and the declared type (422 when it disagrees with the content). A rejected upload leaves
no file and no row.

The accepted file is moved into the content-addressed store (`storage.py`) before its row is flushed,
and the request commits after that: when the transaction rolls back (a failure after the upload, a lost
connection) the file stays on disk without a row. That orphan is harmless and deliberate: content is
stored once per tenant, so a later upload of the same bytes reuses it instead of writing it again;
nothing ever serves a file that no row names.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import BinaryIO

from sqlalchemy import select
from sqlalchemy.orm import Session

from scrm.core.actors import Actor
from scrm.core.errors import Conflict, DomainError, NotFound, ValidationFailed
from scrm.core.tenancy import get_in_tenant, require_in_tenant
from scrm.tickets import filetypes
from scrm.tickets.lifecycle import TicketStatus
from scrm.tickets.models import Ticket, TicketAttachment, TicketComment
from scrm.tickets.permissions import TicketPermission
from scrm.tickets.schemas import AttachmentOut
from scrm.tickets.storage import AttachmentStore
from scrm.tickets.timeline import record

log = logging.getLogger(__name__)


class UnsupportedMediaType(DomainError):
    status = 415
    title = "Unsupported media type"
    type_slug = "unsupported-media-type"


def render(row: TicketAttachment) -> AttachmentOut:
    out = AttachmentOut.model_validate(row)
    out.url = f"/api/v1/tickets/{row.ticket_id}/attachments/{row.id}"
    return out


def attachments_of(session: Session, ticket: Ticket) -> list[AttachmentOut]:
    """The ticket's attachments, oldest first (the caller has checked the actor may see the ticket)."""
    rows = session.scalars(
        select(TicketAttachment)
        .where(TicketAttachment.tenant_id == ticket.tenant_id, TicketAttachment.ticket_id == ticket.id)
        .order_by(TicketAttachment.id)
    )
    return [render(row) for row in rows]


def add_attachment(
    session: Session,
    *,
    actor: Actor,
    store: AttachmentStore,
    ticket_id: int,
    content: BinaryIO,
    filename: str | None,
    declared_type: str | None,
    max_bytes: int,
    comment_id: int | None = None,
) -> AttachmentOut:
    """Attach `content` to the ticket (see the module's docstring for the checks and what a rollback
    leaves); a timeline entry records it."""
    actor.require(TicketPermission.EDIT)
    ticket = require_in_tenant(session, Ticket, actor.tenant_id, ticket_id)
    if TicketStatus(ticket.status) == TicketStatus.CLOSED:
        raise Conflict("a closed ticket takes no attachments")
    if comment_id is not None:
        comment = get_in_tenant(session, TicketComment, actor.tenant_id, comment_id)
        if comment is None or comment.ticket_id != ticket.id:
            raise ValidationFailed(
                "no such comment on this ticket",
                field_errors=[{"field": "comment_id", "message": "not a comment of this ticket"}],
            )
    with store.receive(content, max_bytes=max_bytes) as received:
        if received.size == 0:
            raise ValidationFailed("the file is empty", field_errors=[{"field": "file", "message": "empty"}])
        content_type = filetypes.sniff(received.temp_path, received.head)
        if content_type is None:
            raise UnsupportedMediaType(
                "allowed: PNG, JPEG, GIF, WebP, PDF, UTF-8 text, .docx, .xlsx, MP4",
                field_errors=[{"field": "file", "message": "content type not allowed"}],
            )
        if not filetypes.declared_matches(declared_type, content_type):
            raise ValidationFailed(
                f"declared {declared_type} but the content is {content_type}",
                field_errors=[
                    {
                        "field": "file",
                        "message": f"declared {declared_type}, content is {content_type}",
                        "declared": declared_type,
                        "detected": content_type,
                    }
                ],
            )
        store.keep(received, ticket.tenant_id)
    row = TicketAttachment(
        tenant_id=ticket.tenant_id,
        ticket_id=ticket.id,
        comment_id=comment_id,
        filename=filetypes.clean_filename(filename, content_type),
        content_type=content_type,
        size=received.size,
        sha256=received.sha256,
        uploaded_by=actor.label,
    )
    session.add(row)
    session.flush()
    record(
        session,
        ticket,
        "attachment.added",
        f"上传附件：{row.filename}",
        actor.label,
        attachment_id=row.id,
        filename=row.filename,
        content_type=content_type,
        size=row.size,
    )
    session.flush()
    return render(row)


def list_attachments(session: Session, *, actor: Actor, ticket_id: int) -> list[AttachmentOut]:
    actor.require(TicketPermission.VIEW)
    ticket = require_in_tenant(session, Ticket, actor.tenant_id, ticket_id)
    return attachments_of(session, ticket)


def open_attachment(
    session: Session, *, actor: Actor, store: AttachmentStore, ticket_id: int, attachment_id: int
) -> tuple[AttachmentOut, Path]:
    """The attachment and the path of its bytes. Raises NotFound for another tenant's or another
    ticket's attachment, and when its file is missing from the store (logged: storage was lost)."""
    actor.require(TicketPermission.VIEW)
    row = get_in_tenant(session, TicketAttachment, actor.tenant_id, attachment_id)
    if row is None or row.ticket_id != ticket_id:
        raise NotFound(f"attachment {attachment_id} not found")
    path = store.path_of(row.tenant_id, row.sha256)
    if not path.is_file():
        log.error("attachment %s: its file %s is missing from the store", row.id, path)
        raise NotFound(f"attachment {attachment_id}: its content is missing")
    return render(row), path
