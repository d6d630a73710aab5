"""What every shop platform adapter provides (one module per platform under `scrm.platforms.shops`).

Pull side (`ShopClient`, one per connection, built by the platform's `build_client`):
- `check()` proves the credentials with a cheap call (token fetch or a one-row query);
- `fetch_order(external_id)` the full `OrderSnapshot` of one order (used after partial pushes);
- `pull_window(start, end)` every order modified in [start, end), as pages; the adapter pages the way
  its platform requires (Taobao and PDD backwards from the last page) and splits the window when the
  platform limits its span. Windows are half-open so consecutive windows never miss or repeat an edge.

Push side (`PushProtocol`, pure, per platform that pushes over HTTP; Youzan and Douyin):
- `verify(headers, body, secrets)` checks the signature and shape and returns the messages in the body
  with a stable dedupe key each, or raises `PushRejected`;
- `map_message(raw)` turns one stored message into snapshots (pure);
- `success_body` / `failure_body` are exactly what the platform expects as the answer.

Message channels the platform offers only as a long connection (Taobao TMC, PDD PMC) are consumed by
polling their documented consume/confirm API: `MessageChannel.consume()` / `confirm(ids)`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

import httpx

from scrm.platforms.shops.canonical import OrderSnapshot, RefundSnapshot
from scrm.platforms.shops.transport import ShopTransport


@dataclass(frozen=True)
class PullPage:
    orders: list[OrderSnapshot]
    refunds: list[RefundSnapshot] = field(default_factory=list)


class ShopClient(Protocol):
    platform: str

    def check(self) -> str: ...

    def fetch_order(self, external_id: str) -> OrderSnapshot: ...

    def pull_window(self, start: datetime, end: datetime) -> Iterator[PullPage]: ...


@dataclass(frozen=True)
class PushMessage:
    """One message of a push request, as it will be stored in the inbox."""

    dedupe_key: str
    raw: str  # the message JSON as received (one element of a batch for Douyin)
    is_test: bool = False  # verification / heartbeat: acknowledged, not stored


class PushRejected(Exception):
    """A push that must not be stored: `status` is the HTTP status to answer, `outcome` a metric label."""

    def __init__(self, status: int, outcome: str, detail: str) -> None:
        super().__init__(detail)
        self.status = status
        self.outcome = outcome
        self.detail = detail


@dataclass(frozen=True)
class MappedMessage:
    """What one stored push means: snapshots, and order ids whose details must be fetched because
    the message carried only part of the order."""

    orders: list[OrderSnapshot] = field(default_factory=list)
    refunds: list[RefundSnapshot] = field(default_factory=list)
    fetch_orders: list[str] = field(default_factory=list)
    ignored_reason: str | None = None


class PushProtocol(Protocol):
    platform: str
    success_body: bytes
    failure_body: bytes

    def verify(
        self, headers: Mapping[str, str], body: bytes, secrets: Mapping[str, Any]
    ) -> list[PushMessage]: ...

    def map_message(self, raw: str, *, shop_external_id: str) -> MappedMessage: ...


class MessageChannel(Protocol):
    def consume(self, quantity: int) -> list[tuple[str, str]]:
        """Up to `quantity` pending messages as (message id, raw JSON)."""
        ...

    def confirm(self, message_ids: list[str]) -> None: ...


ClientFactory = Callable[[Mapping[str, Any], ShopTransport, httpx.Client], ShopClient]
ChannelFactory = Callable[[Mapping[str, Any], ShopTransport, httpx.Client], MessageChannel]


@dataclass(frozen=True)
class ShopPlatform:
    """A platform's entry in `scrm.platforms.shops.registry`: what the generic code calls.

    - `build_client(config, transport, http)`: a `ShopClient` for one connection; `config` is the
      connection's full config (public fields and secrets, by the names in `scrm.platforms.schemas`).
    - `map_message(raw, shop_external_id)`: one stored push or channel message → `MappedMessage` (pure).
    - `push`: the HTTP push protocol, for platforms that push (Youzan, Douyin).
    - `build_channel`: the polled message channel, for platforms with one (Taobao TMC, PDD PMC).
    """

    platform: str
    build_client: ClientFactory
    map_message: Callable[[str, str], MappedMessage]
    push: PushProtocol | None = None
    build_channel: ChannelFactory | None = None
