"""Small HTTP pieces of the Douyin simulator: a connection that breaks mid-answer, and Douyin's two
timestamp spellings."""

from __future__ import annotations

from collections.abc import MutableMapping
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from fastapi.responses import Response

CHINA_TZ = timezone(timedelta(hours=8), "Asia/Shanghai")


class DroppedConnection(Response):
    """Announce a body, send part of it and stop: the connection breaks mid-answer."""

    async def __call__(self, scope: MutableMapping[str, Any], receive: Any, send: Any) -> None:
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [(b"content-type", b"application/json"), (b"content-length", b"4096")],
            }
        )
        await send({"type": "http.response.body", "body": b"{", "more_body": False})


def parse_timestamp(value: str) -> datetime | None:
    """Epoch seconds, or "yyyy-MM-dd HH:mm:ss" in China time (both are seen [U]); None otherwise."""
    value = value.strip()
    if value.isdigit():
        return datetime.fromtimestamp(int(value), UTC)
    try:
        return datetime.strptime(value, "%Y-%m-%d %H:%M:%S").replace(tzinfo=CHINA_TZ).astimezone(UTC)
    except ValueError:
        return None
