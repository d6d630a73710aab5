"""The shape every simulated API handler shares, and small helpers for their arguments."""

from __future__ import annotations

import base64
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from scrm.platforms.wecom.errors import ErrCode
from scrm.platforms.wecom.simulator.corp import Corp, SimError


@dataclass
class Call:
    """One API request: query string, JSON body ({} for GET), the token's kind, our own base URL."""

    query: dict[str, str]
    body: dict[str, Any]
    kind: str | None
    base_url: str

    def param(self, name: str) -> str | None:
        return self.query.get(name)

    def field(self, name: str, default: Any = None) -> Any:
        return self.body.get(name, default)

    def require(self, name: str, errcode: int = ErrCode.EMPTY_PARAMETER) -> Any:
        value = self.body.get(name)
        if value is None or value == "" or value == []:
            raise SimError(errcode, f"{name} missing")
        return value


Handler = Callable[[Corp, Call], dict[str, Any]]


@dataclass(frozen=True)
class ApiSpec:
    """`method` as documented; a POST API called with GET answers 40063 (empty parameter)."""

    method: str
    handler: Handler
    needs_token: bool = True
    rate_limited: bool = True


def encode_cursor(*numbers: int) -> str:
    return base64.urlsafe_b64encode(".".join(map(str, numbers)).encode()).decode().rstrip("=")


def decode_cursor(cursor: Any, size: int) -> tuple[int, ...]:
    """The numbers in a cursor we issued; raises SimError 40058 for anything else."""
    if not cursor:
        return (0,) * size
    try:
        text = base64.urlsafe_b64decode(str(cursor) + "=" * (-len(str(cursor)) % 4)).decode()
        numbers = tuple(int(part) for part in text.split("."))
    except ValueError as exc:
        raise SimError(ErrCode.INVALID_PARAMETER, "invalid cursor") from exc
    if len(numbers) != size or min(numbers) < 0:
        raise SimError(ErrCode.INVALID_PARAMETER, "invalid cursor")
    return numbers


def int_field(call: Call, name: str, default: int, *, low: int, high: int) -> int:
    value = call.field(name, default)
    try:
        number = int(value if value is not None else default)
    except (TypeError, ValueError) as exc:
        raise SimError(ErrCode.INVALID_PARAMETER, f"{name} must be an integer") from exc
    if not low <= number <= high:
        raise SimError(ErrCode.INVALID_PARAMETER, f"{name} out of range")
    return number


def string_list(call: Call, name: str) -> list[str]:
    value = call.field(name) or []
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list):
        raise SimError(ErrCode.INVALID_PARAMETER, f"{name} must be a list")
    return [str(item) for item in value]
