"""The Youzan (有赞云) `ShopClient` of one connection (platform-protocols.md §6.1, §6.3).

- Token: `POST {base}/auth/token` with `authorize_type=silent` and `grant_id=kdt_id` (self-use app),
  cached on the instance until `expires` (epoch ms) minus a margin; a token error (gateway 10003 or
  the 4.x token codes) drops it, fetches a new one and repeats the call once.
- Calls: `POST {base}/api/{api}/{version}?access_token=…` with a JSON body, through the shared
  `ShopTransport` (pacing, retries of 20001 / 5xx / network errors, the breaker).
- `pull_window` reads youzan.trades.sold.get by `start_update`/`end_update` (China-time seconds,
  the end taken as inclusive [U]), in chunks of at most `max_window`, every page. Pages are read from
  the last one back to the first: the list is sorted by update time, and an order updated while we
  page leaves the window, which shifts later orders to earlier pages — read backwards, a shift
  repeats an order instead of skipping one.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from scrm.platforms.base import PlatformError, PlatformUnavailable
from scrm.platforms.shops.adapter import PullPage
from scrm.platforms.shops.canonical import OrderSnapshot
from scrm.platforms.shops.transport import ShopTransport, send_or_unavailable
from scrm.platforms.shops.youzan.errors import PLATFORM, YouzanError, YouzanTokenError, unwrap
from scrm.platforms.shops.youzan.mapping import MappingError, map_full_order_info
from scrm.platforms.shops.youzan.values import china_text

log = logging.getLogger(__name__)

DEFAULT_BASE_URL = "https://open.youzanyun.com"
TRADE_GET = ("youzan.trade.get", "4.0.0")
#: 4.0.4 returns yz_open_id instead of the legacy buyer_id: the stable buyer id we key on.
SOLD_GET = ("youzan.trades.sold.get", "4.0.4")
PAGE_SIZE = 100
#: Window chunk [U]: Youzan documents no span limit for sold.get; a day keeps pages few and recent.
MAX_WINDOW = timedelta(days=1)
#: A cached token is dropped this long before Youzan's `expires`.
TOKEN_MARGIN_SECONDS = 600.0


def split_window(start: datetime, end: datetime, span: timedelta) -> list[tuple[datetime, datetime]]:
    """[start, end) cut into consecutive half-open chunks of at most `span`."""
    chunks = []
    cursor = start
    while cursor < end:
        following = min(cursor + span, end)
        chunks.append((cursor, following))
        cursor = following
    return chunks


def second_floor(moment: datetime) -> datetime:
    return moment.replace(microsecond=0)


def second_ceil(moment: datetime) -> datetime:
    floor = moment.replace(microsecond=0)
    return floor if floor == moment else floor + timedelta(seconds=1)


class YouzanClient:
    platform = PLATFORM

    def __init__(
        self,
        config: Mapping[str, Any],
        transport: ShopTransport,
        http: httpx.Client,
        *,
        page_size: int = PAGE_SIZE,
        max_window: timedelta = MAX_WINDOW,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.client_id = str(config["client_id"])
        self._client_secret = str(config["client_secret"])
        self.kdt_id = str(config["kdt_id"])
        self.base_url = str(config.get("api_base_url") or DEFAULT_BASE_URL).rstrip("/")
        self._transport = transport
        self._http = http
        self.page_size = page_size
        self.max_window = max_window
        self._clock = clock
        self._token: tuple[str, float] | None = None  # (token, usable until: epoch seconds)
        self._token_lock = threading.Lock()

    # --- HTTP ------------------------------------------------------------------------------------

    def _post(
        self, api: str, url: str, body: Mapping[str, Any], params: Mapping[str, str] | None = None
    ) -> Any:
        """One request and its parsed data; YouzanError / PlatformError / PlatformUnavailable."""
        response = send_or_unavailable(
            PLATFORM, api, lambda: self._http.post(url, params=dict(params or {}), json=dict(body))
        )
        if response.status_code != 200:
            raise PlatformError(
                f"{api}: HTTP {response.status_code}", platform=PLATFORM, code=response.status_code
            )
        try:
            answer = response.json()
        except ValueError as exc:
            raise PlatformUnavailable(f"{api}: answer is not JSON", platform=PLATFORM) from exc
        return unwrap(answer, api=api)

    # --- tokens ----------------------------------------------------------------------------------

    def access_token(self, *, force: bool = False) -> str:
        """The cached token, or a new one from /auth/token (silent authorization of kdt_id)."""
        with self._token_lock:
            now = self._clock()
            if not force and self._token is not None and now < self._token[1]:
                return self._token[0]
            body = {
                "client_id": self.client_id,
                "client_secret": self._client_secret,
                "authorize_type": "silent",
                "grant_id": self.kdt_id,
                "refresh": False,
            }
            url = f"{self.base_url}/auth/token"
            data = self._transport.call("auth.token", lambda: self._post("auth.token", url, body))
            if not isinstance(data, dict) or not data.get("access_token"):
                raise PlatformUnavailable("auth.token: answer without access_token", platform=PLATFORM)
            token = str(data["access_token"])
            try:
                expires = float(data["expires"]) / 1000.0
            except (KeyError, TypeError, ValueError):
                expires = now + 3600.0
            lifetime = max(0.0, expires - now)
            usable_until = now + max(lifetime - TOKEN_MARGIN_SECONDS, lifetime / 2)
            self._token = (token, usable_until)
            return token

    def _invalidate(self, token: str) -> None:
        with self._token_lock:
            if self._token is not None and self._token[0] == token:
                self._token = None

    def _sender(
        self, api: str, url: str, body: Mapping[str, Any], params: Mapping[str, str]
    ) -> Callable[[], Any]:
        return lambda: self._post(api, url, body, params)

    def call(self, api: str, version: str, body: Mapping[str, Any]) -> Any:
        """`api` `version` with `body`; the answer's data. A refused token is replaced once."""
        url = f"{self.base_url}/api/{api}/{version}"
        refreshed = False
        while True:
            params = {"access_token": self.access_token()}
            try:
                return self._transport.call(api, self._sender(api, url, body, params), idempotent=True)
            except YouzanTokenError:
                if refreshed:
                    raise
                log.info("youzan %s: token refused; fetching a new one", api)
                self._invalidate(params["access_token"])
                refreshed = True

    # --- ShopClient ------------------------------------------------------------------------------

    def check(self) -> str:
        """Fetch a token (proves client_id/secret and the shop's authorization) and read one order
        (proves the trade API is granted)."""
        self.access_token(force=True)
        end = datetime.fromtimestamp(self._clock(), UTC)
        data = self._sold_page(
            {"start_update": china_text(end - timedelta(days=1)), "end_update": china_text(end)}, 1, 1
        )
        total = data.get("total_results", "?") if isinstance(data, dict) else "?"
        return f"youzan shop {self.kdt_id}: credentials accepted, {total} orders updated in the last day"

    def fetch_order(self, external_id: str) -> OrderSnapshot:
        data = self.call(*TRADE_GET, {"tid": external_id})
        info = data.get("full_order_info") if isinstance(data, dict) else None
        if not isinstance(info, dict):
            raise YouzanError(f"youzan.trade.get: no full_order_info for {external_id}", platform=PLATFORM)
        return map_full_order_info(info, shop_external_id=self.kdt_id)

    def pull_window(self, start: datetime, end: datetime) -> Iterator[PullPage]:
        for chunk_start, chunk_end in split_window(start, end, self.max_window):
            yield from self._pull_chunk(chunk_start, chunk_end)

    # --- pulling ---------------------------------------------------------------------------------

    def _sold_page(self, window: Mapping[str, str], page_no: int, page_size: int | None = None) -> Any:
        body = {**window, "page_no": page_no, "page_size": page_size or self.page_size}
        return self.call(*SOLD_GET, body)

    def _page(self, data: Any) -> PullPage:
        orders = []
        entries = data.get("full_order_info_list") if isinstance(data, dict) else None
        for entry in entries or []:
            info = entry.get("full_order_info") if isinstance(entry, dict) else None
            if not isinstance(info, dict):
                continue
            try:
                orders.append(map_full_order_info(info, shop_external_id=self.kdt_id))
            except MappingError as error:
                # One order we cannot read must not stop the others; it is logged for a human.
                log.warning("youzan shop %s: skipped an order in sold.get: %s", self.kdt_id, error)
        return PullPage(orders=orders)

    def _pull_chunk(self, start: datetime, end: datetime) -> Iterator[PullPage]:
        window = {"start_update": china_text(second_floor(start)), "end_update": china_text(second_ceil(end))}
        first = self._sold_page(window, 1)
        yield self._page(first)
        total = first.get("total_results") if isinstance(first, dict) else None
        if total is None:
            yield from self._pull_forward(window, first)
            return
        pages = math.ceil(int(total) / self.page_size)
        # Backwards, page 1 included again: orders may have shifted towards it since it was read.
        if pages > 1:
            for page_no in range(pages, 0, -1):
                yield self._page(self._sold_page(window, page_no))

    def _pull_forward(self, window: Mapping[str, str], first: Any) -> Iterator[PullPage]:
        """Without `total_results`, follow `paginator.has_next` (newer 4.0.x versions) [S]."""
        data, page_no = first, 1
        while isinstance(data, dict):
            found = data.get("paginator")
            paginator: dict[str, Any] = found if isinstance(found, dict) else {}
            entries = data.get("full_order_info_list") or []
            has_next = paginator.get("has_next", len(entries) >= self.page_size)
            if not has_next or not entries:
                return
            page_no += 1
            data = self._sold_page(window, page_no)
            yield self._page(data)


def build_client(config: Mapping[str, Any], transport: ShopTransport, http: httpx.Client) -> YouzanClient:
    return YouzanClient(config, transport, http)
