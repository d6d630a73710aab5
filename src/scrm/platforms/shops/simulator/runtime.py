"""The shop simulator's runtime: the world, the simulated shops, the gateway and push delivery.

Platforms that push over HTTP (Youzan, Douyin) hand `deliver` a signed request; a delivery thread
posts it to the shop's `push_url`, judges the answer with the platform's own rule and re-pushes
failures on `retry_schedule_seconds` (shortened from the platforms' minutes to seconds, so tests and
the demo see re-pushes happen). Every delivery and its answers are recorded (`/_sim/pushes`).
Message-channel platforms (Taobao TMC, PDD PMC) keep per-shop queues instead (`channel`).
"""

from __future__ import annotations

import itertools
import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

import httpx
from fastapi import APIRouter

from scrm.platforms.shops.simulator.gateway import Gateway
from scrm.platforms.shops.simulator.world import Change, ShopWorld

log = logging.getLogger(__name__)


@dataclass
class SimShop:
    """A simulated shop. `credentials` hold what the platform issues (app key/secret, tokens...), by
    the platform's own names; `push_url` is where pushes go (None: no pushes)."""

    platform: str
    shop_id: str
    name: str
    credentials: dict[str, str]
    push_url: str | None = None
    pushes_enabled: bool = True


@dataclass
class PushDelivery:
    id: int
    platform: str
    shop_id: str
    url: str
    body: bytes
    headers: dict[str, str]
    accepted: Callable[[int, bytes], bool]
    attempts: int = 0
    delivered: bool = False
    given_up: bool = False
    answers: list[dict[str, Any]] = field(default_factory=list)
    next_at: float = 0.0

    def record(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "platform": self.platform,
            "shop_id": self.shop_id,
            "url": self.url,
            "attempts": self.attempts,
            "delivered": self.delivered,
            "given_up": self.given_up,
            "answers": self.answers[-5:],
            "body": self.body.decode("utf-8", "replace")[:2000],
            "headers": dict(self.headers),
        }


class FrontEnd(Protocol):
    """One platform's protocol over the shared world."""

    platform: str

    def router(self, sim: ShopSimulator) -> APIRouter: ...

    def on_change(self, sim: ShopSimulator, shop: SimShop, change: Change) -> None: ...


class ShopSimulator:
    def __init__(
        self,
        *,
        world: ShopWorld | None = None,
        seed: int = 7,
        retry_schedule_seconds: tuple[float, ...] = (1.0, 3.0, 10.0, 30.0),
        push_timeout_seconds: float = 5.0,
    ) -> None:
        self.world = world or ShopWorld(seed=seed)
        self.gateway = Gateway(seed=seed)
        self.shops: dict[tuple[str, str], SimShop] = {}
        self.front_ends: dict[str, FrontEnd] = {}
        self.retry_schedule_seconds = retry_schedule_seconds
        self._http = httpx.Client(timeout=push_timeout_seconds)
        self._ids = itertools.count(1)
        self._deliveries: deque[PushDelivery] = deque(maxlen=20_000)
        self._pending: list[PushDelivery] = []
        self._channels: dict[tuple[str, str], deque[dict[str, Any]]] = {}
        self._lock = threading.Condition()
        self._closed = False
        self._thread = threading.Thread(target=self._deliver_loop, name="shop-sim-push", daemon=True)
        self._thread.start()
        self.world.subscribe(self._on_change)

    def close(self) -> None:
        with self._lock:
            self._closed = True
            self._lock.notify_all()
        self._thread.join(timeout=5)
        self._http.close()

    # --- shops and front-ends ------------------------------------------------------------------

    def install(self, front_end: FrontEnd) -> None:
        self.front_ends[front_end.platform] = front_end

    def add_shop(self, shop: SimShop) -> SimShop:
        self.shops[(shop.platform, shop.shop_id)] = shop
        return shop

    def shop(self, platform: str, shop_id: str) -> SimShop | None:
        return self.shops.get((platform, shop_id))

    def shops_of(self, platform: str) -> list[SimShop]:
        return [shop for (kind, _), shop in self.shops.items() if kind == platform]

    def _on_change(self, change: Change) -> None:
        shop = self.shop(change.order.platform, change.order.shop_id)
        front_end = self.front_ends.get(change.order.platform)
        if shop is None or front_end is None:
            return
        front_end.on_change(self, shop, change)

    # --- message channels (TMC / PMC) ------------------------------------------------------------

    def channel(self, platform: str, shop_id: str) -> deque[dict[str, Any]]:
        with self._lock:
            return self._channels.setdefault((platform, shop_id), deque())

    # --- HTTP pushes -----------------------------------------------------------------------------

    def deliver(
        self,
        shop: SimShop,
        body: bytes,
        headers: dict[str, str],
        accepted: Callable[[int, bytes], bool],
    ) -> PushDelivery | None:
        """Queue a signed push to the shop's push URL (None when the shop has none or pushes are off)."""
        if not shop.push_url or not shop.pushes_enabled:
            return None
        delivery = PushDelivery(
            id=next(self._ids),
            platform=shop.platform,
            shop_id=shop.shop_id,
            url=shop.push_url,
            body=body,
            headers=headers,
            accepted=accepted,
        )
        with self._lock:
            self._deliveries.append(delivery)
            self._pending.append(delivery)
            self._lock.notify_all()
        return delivery

    def deliver_now(self, delivery: PushDelivery) -> None:
        """One attempt at `delivery` (the delivery thread's work; tests may call it directly)."""
        delivery.attempts += 1
        answer: dict[str, Any] = {"at": time.time()}
        try:
            response = self._http.post(delivery.url, content=delivery.body, headers=delivery.headers)
            answer.update(status=response.status_code, body=response.text[:300])
            ok = delivery.accepted(response.status_code, response.content)
        except httpx.HTTPError as error:
            answer.update(error=type(error).__name__)
            ok = False
        delivery.answers.append(answer)
        if ok:
            delivery.delivered = True
        elif delivery.attempts > len(self.retry_schedule_seconds):
            delivery.given_up = True
        else:
            delivery.next_at = time.time() + self.retry_schedule_seconds[delivery.attempts - 1]

    def _deliver_loop(self) -> None:
        while True:
            with self._lock:
                while not self._closed:
                    now = time.time()
                    due = [d for d in self._pending if d.next_at <= now]
                    if due:
                        break
                    wait = min((d.next_at for d in self._pending), default=now + 1.0) - now
                    self._lock.wait(timeout=max(0.01, min(wait, 1.0)))
                if self._closed:
                    return
                for delivery in due:
                    self._pending.remove(delivery)
            for delivery in due:
                try:
                    self.deliver_now(delivery)
                except Exception:  # a bug here must not stop every later push
                    log.exception("push delivery %s failed", delivery.id)
                    delivery.given_up = True
                if not (delivery.delivered or delivery.given_up):
                    with self._lock:
                        self._pending.append(delivery)

    def pushes(self, platform: str | None = None, limit: int = 200) -> list[dict[str, Any]]:
        with self._lock:
            found = [d for d in self._deliveries if platform is None or d.platform == platform]
        return [delivery.record() for delivery in found[-limit:]]

    def push_totals(self) -> dict[str, int]:
        with self._lock:
            deliveries = list(self._deliveries)
        return {
            "queued": len(deliveries),
            "delivered": sum(d.delivered for d in deliveries),
            "pending": sum(not d.delivered and not d.given_up for d in deliveries),
            "given_up": sum(d.given_up for d in deliveries),
            "attempts": sum(d.attempts for d in deliveries),
        }

    def state(self) -> dict[str, Any]:
        return {
            "world": self.world.snapshot(),
            "shops": [
                {
                    "platform": shop.platform,
                    "shop_id": shop.shop_id,
                    "name": shop.name,
                    "push_url": shop.push_url,
                }
                for shop in self.shops.values()
            ],
            "pushes": self.push_totals(),
            "requests": self.gateway.total_requests,
            "faults": self.gateway.faults(),
        }
