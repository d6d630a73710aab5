"""The bare-ASGI pieces the platform receivers (WeCom callbacks, shop pushes) share."""

from __future__ import annotations

from starlette.types import Receive, Scope, Send

PROBLEM_JSON = "application/problem+json"


async def read_body(receive: Receive) -> bytes | None:
    """The whole request body; None if the client went away first."""
    chunks: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return None
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            return b"".join(chunks)


async def send_body(send: Send, status: int, body: bytes, content_type: str) -> None:
    headers = [(b"content-length", str(len(body)).encode()), (b"content-type", content_type.encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def client_host(scope: Scope) -> str:
    client = scope.get("client")
    return str(client[0]) if client else "-"
