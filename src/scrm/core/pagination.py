"""Cursor pagination: `limit` and an opaque `cursor` in, `{items, next_cursor}` out.

Rows are ordered by id descending (newest first); the cursor encodes the last id seen, so pages stay
stable while new rows arrive.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from pydantic import BaseModel
from sqlalchemy import Select
from sqlalchemy.orm import Session

from scrm.core.errors import ValidationFailed

T = TypeVar("T")
MAX_LIMIT = 200


class Page(BaseModel, Generic[T]):
    items: list[T]
    next_cursor: str | None = None


@dataclass(frozen=True)
class PageRequest:
    limit: int = 50
    cursor: str | None = None


def encode_cursor(last_id: int) -> str:
    return base64.urlsafe_b64encode(f"id:{last_id}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> int:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        text = base64.urlsafe_b64decode(padded.encode()).decode()
        prefix, value = text.split(":", 1)
        if prefix != "id":
            raise ValueError(prefix)
        return int(value)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ValidationFailed(
            "cursor is not valid",
            field_errors=[{"field": "cursor", "message": "not a cursor returned by this API"}],
        ) from exc


def paginate(
    session: Session,
    stmt: Select,
    id_column: Any,
    request: PageRequest,
    *,
    rows: bool = False,
) -> tuple[list[Any], str | None]:
    """Run `stmt` for one page. Returns the items and the cursor of the next page (None at the end).

    Items are ORM objects (one entity selected), or whole result rows with ``rows=True``; in either
    case the cursor is the value of `id_column` on the last item.
    """
    if not 1 <= request.limit <= MAX_LIMIT:
        raise ValidationFailed(
            f"limit must be between 1 and {MAX_LIMIT}",
            field_errors=[{"field": "limit", "message": f"1..{MAX_LIMIT}"}],
        )
    if request.cursor:
        stmt = stmt.where(id_column < decode_cursor(request.cursor))
    stmt = stmt.add_columns(id_column.label("_page_id")).order_by(id_column.desc()).limit(request.limit + 1)
    result = session.execute(stmt).all()
    items = [tuple(row[:-1]) if rows else row[0] for row in result]
    if len(result) > request.limit:
        return items[: request.limit], encode_cursor(result[request.limit - 1][-1])
    return items, None
