"""HTTP pieces the platform simulators share."""

from __future__ import annotations

from collections.abc import MutableMapping
from typing import Any

from fastapi.responses import Response


class DroppedConnection(Response):
    """Announce a body, send part of it and stop: the server closes the connection mid-answer (the
    ambiguous failure: the work may have happened, the caller cannot know)."""

    async def __call__(self, scope: MutableMapping[str, Any], receive: Any, send: Any) -> None:
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [(b"content-type", b"application/json"), (b"content-length", b"4096")],
            }
        )
        await send({"type": "http.response.body", "body": b"{", "more_body": False})
