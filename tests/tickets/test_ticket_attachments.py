"""Ticket attachments over HTTP: uploads judged by their bytes (not the declared type), stored once per
content under the tenant's directory, listed and downloaded with a safe Content-Disposition; too large,
unknown or mislabelled files, closed tickets, foreign comments and other tenants are refused, leaving no
row and no file behind."""

from __future__ import annotations

import hashlib
import io
import zipfile
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from scrm.tickets.filetypes import clean_filename, content_disposition
from scrm.tickets.models import TicketAttachment, TicketTimelineEntry
from tests.conftest import Persona
from tests.tickets.test_tickets import act, new_ticket

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + bytes(range(256)) * 4
PDF = b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\n%%EOF\n"
MP4 = b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom" + b"\x00" * 64


def office(*names: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name in names:
            archive.writestr(name, "<xml/>")
    return buffer.getvalue()


def upload(
    client: Any,
    persona: Persona,
    ticket_id: int,
    content: bytes,
    *,
    filename: str = "photo.png",
    content_type: str = "image/png",
    comment_id: int | None = None,
) -> Any:
    return client.post(
        f"/api/v1/tickets/{ticket_id}/attachments",
        files={"file": (filename, content, content_type)},
        data={} if comment_id is None else {"comment_id": str(comment_id)},
        headers=persona.headers,
    )


def stored_files(root: Path) -> list[Path]:
    """Every file under the store, temporary ones included (there must be none of those at rest)."""
    return sorted(path for path in root.rglob("*") if path.is_file()) if root.exists() else []


@pytest.fixture
def root(app_settings: Any) -> Path:
    return Path(app_settings.var_dir) / "attachments"


def test_an_upload_is_stored_once_per_content_listed_and_downloaded_safely(
    client: Any, owner: Persona, root: Path
) -> None:
    ticket = new_ticket(client, owner)
    answer = upload(client, owner, ticket["id"], PNG, filename="破损 照片.png")
    assert answer.status_code == 201, answer.text
    first = answer.json()
    sha = hashlib.sha256(PNG).hexdigest()
    assert (first["filename"], first["content_type"], first["size"], first["sha256"]) == (
        "破损 照片.png",
        "image/png",
        len(PNG),
        sha,
    )
    assert first["uploaded_by"] == f"user:{owner.user_id}" and first["comment_id"] is None
    assert first["url"] == f"/api/v1/tickets/{ticket['id']}/attachments/{first['id']}"
    path = root / str(owner.tenant_id) / sha[:2] / sha
    assert path.read_bytes() == PNG

    # The same bytes again: a second row, one file.
    again = upload(
        client, owner, ticket["id"], PNG, filename="again.png", content_type="application/octet-stream"
    )
    assert again.status_code == 201 and again.json()["sha256"] == sha
    assert stored_files(root) == [path]

    listed = client.get(f"/api/v1/tickets/{ticket['id']}/attachments", headers=owner.headers).json()
    assert [item["id"] for item in listed] == [first["id"], again.json()["id"]]
    detail = client.get(f"/api/v1/tickets/{ticket['id']}", headers=owner.headers).json()
    assert [item["filename"] for item in detail["attachments"]] == ["破损 照片.png", "again.png"]
    added = [entry for entry in detail["timeline"] if entry["kind"] == "attachment.added"]
    assert [entry["detail"]["attachment_id"] for entry in added] == [first["id"], again.json()["id"]]

    download = client.get(first["url"], headers=owner.headers)
    assert download.status_code == 200 and download.content == PNG
    assert download.headers["content-type"] == "image/png"
    assert download.headers["x-content-type-options"] == "nosniff"
    assert download.headers["content-disposition"] == (
        "attachment; filename=\"__ __.png\"; filename*=UTF-8''%E7%A0%B4%E6%8D%9F%20%E7%85%A7%E7%89%87.png"
    )


@pytest.mark.parametrize(
    ("content", "filename", "declared", "stored_type"),
    [
        (PDF, "invoice.pdf", "application/pdf", "application/pdf"),
        (b"GIF89a" + b"\x00" * 32, "a.gif", "image/gif", "image/gif"),
        (b"\xff\xd8\xff\xe0" + b"\x00" * 32, "a.jpg", "image/jpg", "image/jpeg"),
        (b"RIFF\x24\x00\x00\x00WEBPVP8 " + b"\x00" * 32, "a.webp", "image/webp", "image/webp"),
        (MP4, "unboxing.mp4", "video/mp4", "video/mp4"),
        ("订单号 41，口红断了\n".encode(), "说明.txt", "text/plain", "text/plain"),
        (b"a,b\n1,2\n", "rows.csv", "text/csv", "text/plain"),
        (
            office("[Content_Types].xml", "word/document.xml"),
            "r.docx",
            "application/zip",
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        ),
        (
            office("[Content_Types].xml", "xl/workbook.xml"),
            "r.xlsx",
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        ),
    ],
)
def test_allowed_types_are_recognised_by_their_bytes(
    client: Any, owner: Persona, content: bytes, filename: str, declared: str, stored_type: str
) -> None:
    ticket = new_ticket(client, owner)
    answer = upload(client, owner, ticket["id"], content, filename=filename, content_type=declared)
    assert answer.status_code == 201, answer.text
    assert answer.json()["content_type"] == stored_type
    download = client.get(answer.json()["url"], headers=owner.headers)
    assert download.content == content
    assert download.headers["content-type"].split(";")[0] == stored_type


def test_refused_uploads_leave_no_row_and_no_file(
    client: Any,
    owner: Persona,
    other_tenant: Persona,
    finance: Persona,
    root: Path,
    committing_factory: sessionmaker[Session],
) -> None:
    ticket = new_ticket(client, owner)
    other = new_ticket(client, owner)
    comment = client.post(
        f"/api/v1/tickets/{other['id']}/comments", json={"body": "别处的评论"}, headers=owner.headers
    ).json()
    closed = new_ticket(client, owner)
    act(client, owner, closed["id"], "resolve")
    act(client, owner, closed["id"], "close")
    refusals = [
        (ticket["id"], b"MZ\x90\x00" + b"\x00" * 64, "tool.exe", "application/octet-stream", 415),
        (ticket["id"], office("hello.txt"), "a.zip", "application/zip", 415),
        (ticket["id"], b"\x00\x01\x02 binary", "a.txt", "text/plain", 415),
        (ticket["id"], PDF, "fake.png", "image/png", 422),  # declared one thing, content another
        (ticket["id"], PNG, "fake.pdf", "application/pdf", 422),
        (ticket["id"], b"", "empty.txt", "text/plain", 422),
        (closed["id"], PNG, "late.png", "image/png", 409),
        (999_999, PNG, "nowhere.png", "image/png", 404),
    ]
    for ticket_id, content, filename, declared, status in refusals:
        answer = upload(client, owner, ticket_id, content, filename=filename, content_type=declared)
        assert answer.status_code == status, (filename, answer.text)
    mismatch = upload(client, owner, ticket["id"], PDF, filename="fake.png", content_type="image/png").json()
    assert mismatch["errors"][0]["field"] == "file" and mismatch["errors"][0]["detected"] == "application/pdf"
    assert upload(client, owner, ticket["id"], PNG, comment_id=comment["id"]).status_code == 422
    assert upload(client, other_tenant, ticket["id"], PNG).status_code == 404
    assert upload(client, finance, ticket["id"], PNG).status_code == 403
    assert (
        client.post(f"/api/v1/tickets/{ticket['id']}/attachments", headers=owner.headers).status_code == 422
    )
    assert stored_files(root) == []
    with committing_factory() as session:
        assert session.scalar(select(func.count()).select_from(TicketAttachment)) == 0
        assert (
            session.scalar(
                select(func.count())
                .select_from(TicketTimelineEntry)
                .where(TicketTimelineEntry.kind == "attachment.added")
            )
            == 0
        )


def test_size_limit_is_the_attachment_limit_not_the_general_body_limit(
    client: Any, owner: Persona, root: Path, app_settings: Any
) -> None:
    limit = app_settings.attachment_max_bytes
    assert limit == 10 * 1024 * 1024 and app_settings.max_request_body_bytes < 2 * 1024 * 1024
    ticket = new_ticket(client, owner)
    big = PNG + b"\x00" * (2 * 1024 * 1024)  # over the general 1 MB body limit, under 10 MB
    answer = upload(client, owner, ticket["id"], big)
    assert answer.status_code == 201, answer.text
    assert answer.json()["size"] == len(big)
    kept = stored_files(root)
    # One byte over: the upload itself is refused (413), nothing kept.
    over = upload(client, owner, ticket["id"], PNG + b"\x00" * (limit + 1 - len(PNG)))
    assert over.status_code == 413, over.text
    # Far over: the body is cut off before the application reads it.
    far = upload(client, owner, ticket["id"], PNG + b"\x00" * (limit + 128 * 1024))
    assert far.status_code == 413
    assert stored_files(root) == kept
    # The general limit still holds everywhere else.
    too_long = client.post(
        "/api/v1/tickets", json={"title": "x", "description": "x" * (2 * 1024 * 1024)}, headers=owner.headers
    )
    assert too_long.status_code == 413


def test_attachments_stay_in_their_tenant_and_on_their_ticket(
    client: Any, owner: Persona, other_tenant: Persona
) -> None:
    ticket = new_ticket(client, owner)
    elsewhere = new_ticket(client, owner)
    comment = client.post(
        f"/api/v1/tickets/{ticket['id']}/comments",
        json={"body": "见附件", "internal": True},
        headers=owner.headers,
    ).json()
    made = upload(client, owner, ticket["id"], PNG, comment_id=comment["id"]).json()
    assert made["comment_id"] == comment["id"]
    assert client.get(made["url"], headers=other_tenant.headers).status_code == 404
    assert (
        client.get(f"/api/v1/tickets/{ticket['id']}/attachments", headers=other_tenant.headers).status_code
        == 404
    )
    wrong_ticket = f"/api/v1/tickets/{elsewhere['id']}/attachments/{made['id']}"
    assert client.get(wrong_ticket, headers=owner.headers).status_code == 404
    # The other tenant's own copy of the same bytes lives in its own directory.
    theirs = upload(client, other_tenant, new_ticket(client, other_tenant)["id"], PNG).json()
    assert theirs["sha256"] == made["sha256"]
    assert client.get(theirs["url"], headers=owner.headers).status_code == 404


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("../../etc/passwd", "passwd"),
        ("C:\\Users\\me\\发票.pdf", "发票.pdf"),
        ("evil\u202egnp.exe", "evilgnp.exe"),
        ('a<b>:"c"|?*.txt', "abc.txt"),
        ("  ..hidden  ", "hidden"),
        ("", "attachment.png"),
        ("\x00\x01", "attachment.png"),
        ("长" * 300 + ".png", "长" * 196 + ".png"),
    ],
)
def test_filenames_are_sanitised(raw: str, clean: str) -> None:
    assert clean_filename(raw, "image/png") == clean


def test_content_disposition_quotes_nothing_unsafe() -> None:
    header = content_disposition('报告"final"\\.pdf')
    assert header.startswith('attachment; filename="___final__.pdf"; ')
    assert header.endswith("filename*=UTF-8''%E6%8A%A5%E5%91%8A%22final%22%5C.pdf")
