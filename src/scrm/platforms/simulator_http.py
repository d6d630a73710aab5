"""HTTP pieces the platform simulators share."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import MutableMapping
from typing import Any

import uvicorn
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


def serve_in_thread(
    app: Any, *, host: str, port: int, name: str
) -> tuple[uvicorn.Server, threading.Thread, str]:
    """Serve `app` with uvicorn in a daemon thread (port 0: a free one) and return once it accepts
    requests: the server, its thread and its base URL. Raises RuntimeError if it does not start."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    bound_port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", access_log=False, lifespan="on"))
    thread = threading.Thread(
        target=server.run, kwargs={"sockets": [sock]}, daemon=True, name=f"{name}-{bound_port}"
    )
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError(f"the {name} did not start")
        time.sleep(0.01)
    return server, thread, f"http://{host}:{bound_port}"
