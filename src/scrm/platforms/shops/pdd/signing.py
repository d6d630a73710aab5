"""Pinduoduo signing (platform-protocols.md §8.3).

- API [V]: `sign = UPPER(hex(md5(client_secret + name1value1name2value2… + client_secret)))` over
  every request parameter except `sign`, sorted by name. Object and list parameters are sent, and
  signed, as compact JSON.
- PMC WebSocket URL [V, third-party vector]: `wss://message-api.pinduoduo.com/message/{client_id}/
  {timestamp_ms}/{sign}` with `sign = urlencode(base64(lowercase_hex(md5(client_id + timestamp_ms +
  client_secret))))`.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

PMC_BASE_URL = "wss://message-api.pinduoduo.com"


def param_value(value: Any) -> str:
    """A parameter as it is sent and signed: JSON for objects and lists, true/false for booleans."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list, tuple)):
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    return str(value)


def wire_params(params: Mapping[str, Any]) -> dict[str, str]:
    """The parameters as strings, None dropped (what goes in the form and into the signature)."""
    return {name: param_value(value) for name, value in params.items() if value is not None}


def string_to_sign(params: Mapping[str, Any]) -> str:
    wire = wire_params(params)
    return "".join(f"{name}{wire[name]}" for name in sorted(wire) if name != "sign")


def sign(params: Mapping[str, Any], client_secret: str) -> str:
    plain = f"{client_secret}{string_to_sign(params)}{client_secret}"
    return hashlib.md5(plain.encode("utf-8")).hexdigest().upper()


def pmc_sign(client_id: str, timestamp_ms: int | str, client_secret: str) -> str:
    """The URL-encoded sign segment of the PMC WebSocket URL."""
    digest = hashlib.md5(f"{client_id}{timestamp_ms}{client_secret}".encode()).hexdigest()
    return quote(base64.b64encode(digest.encode("ascii")).decode("ascii"), safe="")


def pmc_url(client_id: str, timestamp_ms: int, client_secret: str, base_url: str = PMC_BASE_URL) -> str:
    """The PMC WebSocket URL to connect to (not used by the polling stand-in; kept for a real
    WebSocket consumer)."""
    return f"{base_url}/message/{client_id}/{timestamp_ms}/{pmc_sign(client_id, timestamp_ms, client_secret)}"
