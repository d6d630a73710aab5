"""What an uploaded file is, judged by its bytes, and the names it may be stored and served under (pure).

Allowed: PNG, JPEG, GIF, WebP, PDF, UTF-8 plain text, Word (.docx) and Excel (.xlsx) documents and
MP4 video. The client's declared type is never trusted: it may only be missing, generic
(`application/octet-stream`) or agree with the content.
"""

from __future__ import annotations

import codecs
import unicodedata
import zipfile
from pathlib import Path
from urllib.parse import quote

PNG = "image/png"
JPEG = "image/jpeg"
GIF = "image/gif"
WEBP = "image/webp"
PDF = "application/pdf"
TEXT = "text/plain"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
MP4 = "video/mp4"

EXTENSIONS = {
    PNG: ".png",
    JPEG: ".jpg",
    GIF: ".gif",
    WEBP: ".webp",
    PDF: ".pdf",
    TEXT: ".txt",
    DOCX: ".docx",
    XLSX: ".xlsx",
    MP4: ".mp4",
}
ALLOWED = frozenset(EXTENSIONS)

# Declared types that name the same content differently (browsers and operating systems disagree).
_ALIASES = {
    JPEG: {"image/jpg", "image/pjpeg"},
    DOCX: {"application/zip", "application/x-zip-compressed"},
    XLSX: {"application/zip", "application/x-zip-compressed"},
    MP4: {"application/mp4", "video/x-m4v"},
}
_GENERIC = {"", "application/octet-stream", "binary/octet-stream"}
# ISO base media brands of MP4 video (not QuickTime, HEIC or AVIF, which share the container).
_MP4_BRANDS = {
    b"isom",
    b"iso2",
    b"iso3",
    b"iso4",
    b"iso5",
    b"iso6",
    b"mp41",
    b"mp42",
    b"avc1",
    b"M4V ",
    b"dash",
}
_TEXT_CONTROLS_ALLOWED = {"\t", "\n", "\r", "\f"}
MAX_FILENAME = 200


def sniff(path: Path, head: bytes) -> str | None:
    """The allowed type of the file at `path` (whose first bytes are `head`), or None."""
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if head.startswith(b"\xff\xd8\xff"):
        return JPEG
    if head.startswith((b"GIF87a", b"GIF89a")):
        return GIF
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return WEBP
    if head.startswith(b"%PDF-"):
        return PDF
    if head[4:8] == b"ftyp" and head[8:12] in _MP4_BRANDS:
        return MP4
    if head.startswith(b"PK\x03\x04"):
        return _office_document(path)
    return TEXT if _is_utf8_text(path) else None


def _office_document(path: Path) -> str | None:
    """A .docx or .xlsx by its parts (only the zip's directory is read, nothing is extracted)."""
    try:
        with zipfile.ZipFile(path) as archive:
            names = set(archive.namelist())
    except (zipfile.BadZipFile, OSError):
        return None
    if "[Content_Types].xml" not in names:
        return None
    if "word/document.xml" in names:
        return DOCX
    if "xl/workbook.xml" in names:
        return XLSX
    return None


def _is_utf8_text(path: Path) -> bool:
    """Valid UTF-8 throughout, without NUL or other control characters than tabs and line breaks."""
    decoder = codecs.getincrementaldecoder("utf-8")(errors="strict")
    try:
        with path.open("rb") as source:
            while chunk := source.read(64 * 1024):
                if not _printable(decoder.decode(chunk)):
                    return False
            return _printable(decoder.decode(b"", final=True))
    except UnicodeDecodeError:
        return False


def _printable(text: str) -> bool:
    return all(
        character in _TEXT_CONTROLS_ALLOWED or unicodedata.category(character) != "Cc" for character in text
    )


def declared_matches(declared: str | None, sniffed: str) -> bool:
    """Whether the client's declared type agrees with the sniffed one (parameters ignored); a missing
    or generic declaration agrees with anything, any `text/*` with plain text."""
    base = (declared or "").split(";", 1)[0].strip().lower()
    if base in _GENERIC or base == sniffed or base in _ALIASES.get(sniffed, set()):
        return True
    return sniffed == TEXT and base.startswith("text/")


def clean_filename(raw: str | None, content_type: str) -> str:
    """A safe display name: the last path component, NFC, without control or format characters
    (bidi overrides included) or characters Windows forbids, trimmed to 200 characters keeping the
    extension; `attachment.<ext>` when nothing is left."""
    name = unicodedata.normalize("NFC", raw or "").replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(
        character
        for character in name
        if unicodedata.category(character)[0] != "C" and character not in '<>:"|?*'
    )
    name = " ".join(name.split()).strip(" .")
    if not name:
        return "attachment" + EXTENSIONS.get(content_type, "")
    if len(name) > MAX_FILENAME:
        stem, dot, extension = name.rpartition(".")
        if dot and 0 < len(extension) <= 10:
            name = stem[: MAX_FILENAME - len(extension) - 1] + "." + extension
        else:
            name = name[:MAX_FILENAME]
    return name


def content_disposition(filename: str) -> str:
    """`attachment` with an ASCII fallback name and the exact one in RFC 5987 form (`filename*`), so
    Chinese names survive every browser."""
    fallback = "".join(
        character if " " <= character <= "~" and character not in '"\\' else "_" for character in filename
    )
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"
