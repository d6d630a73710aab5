"""The PMC message channel, consumed by polling (a stand-in for PDD's WebSocket; see README).

PDD delivers messages over a WebSocket (`signing.pmc_url`): data frames
`{"id","commandType":"Common","time","sendTime","message":{"type","mallID","content"}}`, answered by
Ack frames `{"commandType":"Ack","time","id","sendTime","type","mallID"}`; unacknowledged frames are
sent again. The adapter contract consumes channels by polling, so the simulator offers the same
frames over two signed HTTP calls, which exist only there:

- `POST {api_base_url}/pmc/consume` (form: client_id, access_token, timestamp, quantity, sign, signed
  like an API call) → `{"frames": ["<data frame text>", …]}`: up to `quantity` frames of this mall;
  a frame not acknowledged within the simulator's visibility timeout is delivered again;
- `POST {api_base_url}/pmc/ack` (form: …, `acks` = JSON array of Ack frames, sign) → `{"acked": n}`.

Frame ids exceed 2^53: they are read as digit strings, never through a float, and acked as the same
integers. Against PDD's real gateway (no `api_base_url`) `consume` fails with a clear, non-retryable
error: a real deployment needs a WebSocket consumer on `signing.pmc_url`.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from typing import Any

import httpx

from scrm.platforms.base import PlatformError
from scrm.platforms.shops.pdd.client import PddClient, parse_answer, signed_form
from scrm.platforms.shops.transport import ShopTransport, send_or_unavailable

_MAX_REMEMBERED = 10_000


class PddMessageChannel:
    platform = "pdd"

    def __init__(self, config: Mapping[str, Any], transport: ShopTransport, http: httpx.Client) -> None:
        self.client_id = str(config["client_id"])
        self._client_secret = str(config["client_secret"])
        self._access_token = str(config["access_token"])
        self.mall_id = str(config["mall_id"])
        base = config.get("api_base_url")
        self.base_url = str(base).rstrip("/") if base else None
        self.transport = transport
        self._http = http
        self._api = PddClient(config, transport, http)
        # id → the consumed frame's header, to fill the Ack frame as the WebSocket protocol has it.
        self._headers: dict[str, dict[str, Any]] = {}

    def _post(self, path: str, params: Mapping[str, Any]) -> dict[str, Any]:
        if self.base_url is None:
            raise PlatformError(
                "PMC is a WebSocket on the real platform; the polling channel only exists in the simulator",
                platform=self.platform,
                code="pmc_websocket_only",
            )
        url = f"{self.base_url}{path}"

        def attempt() -> dict[str, Any]:
            form = signed_form(params, self.client_id, self._client_secret, self._access_token)
            response = send_or_unavailable(self.platform, path, lambda: self._http.post(url, data=form))
            return parse_answer(path, response, self.platform)

        # Repeating either call is harmless: unacked frames come back, acks are idempotent.
        return self.transport.call(path, attempt, idempotent=True)

    def consume(self, quantity: int) -> list[tuple[str, str]]:
        """Up to `quantity` frames as (frame id as a digit string, frame text as received)."""
        body = self._post("/pmc/consume", {"quantity": max(1, min(quantity, 200))})
        found: list[tuple[str, str]] = []
        for text in body.get("frames") or []:
            # parse_int=str: the id stays exact whatever its size.
            frame = json.loads(text, parse_int=str)
            message_id = str(frame.get("id"))
            message = frame.get("message") or {}
            if len(self._headers) >= _MAX_REMEMBERED:
                self._headers.pop(next(iter(self._headers)))
            self._headers[message_id] = {
                "sendTime": frame.get("sendTime"),
                "type": message.get("type"),
                "mallID": message.get("mallID"),
            }
            found.append((message_id, text))
        return found

    def confirm(self, message_ids: list[str]) -> None:
        """Ack the frames (an id this process did not consume is acked with what is known: its id)."""
        if not message_ids:
            return
        now = int(time.time() * 1000)
        acks = []
        for message_id in message_ids:
            header = self._headers.pop(message_id, {})
            ack: dict[str, Any] = {"commandType": "Ack", "time": now, "id": int(message_id)}
            for name in ("sendTime", "type", "mallID"):
                if header.get(name) is not None:
                    value = header[name]
                    ack[name] = int(value) if name != "type" and str(value).isdigit() else value
            acks.append(ack)
        self._post("/pmc/ack", {"acks": json.dumps(acks, separators=(",", ":"))})

    def permit(self, topics: list[str]) -> None:
        """`pdd.pmc.user.permit`: authorize the mall's topics (once, when the connection is set up).
        A real API call, on the real gateway too."""
        self._api.call("pdd.pmc.user.permit", {"topics": ",".join(topics)})


def build_channel(
    config: Mapping[str, Any], transport: ShopTransport, http: httpx.Client
) -> PddMessageChannel:
    return PddMessageChannel(config, transport, http)
