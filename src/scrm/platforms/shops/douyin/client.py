"""The Douyin shop (抖店) `ShopClient` of one connection (platform-protocols.md §8.1).

- Every request: `POST {base}/<method with dots as slashes>?app_key&method&access_token&timestamp
  &v=2&sign_method=hmac-sha256&sign`, body = `param_json` (sorted keys, no spaces), signed as in
  `signing`. The timestamp is sent as epoch seconds (the official Go SDK's choice; the date-time
  form is also seen [U]) — it is signed exactly as sent either way.
- Token (self-use app): `token.create` with `grant_type=authorization_self` and the shop_id, cached on
  the instance until `expires_in` minus a margin. A token error (40003 with an `isv.access-token-*`
  sub code) refreshes it once (`token.refresh`, or a new `token.create` if the refresh fails) and
  repeats the call.
- `pull_window` reads order.searchList by `update_time_start`/`update_time_end` (epoch seconds, the
  end taken as inclusive [U]) in chunks of at most `max_window`, every page, from the last page back
  to the first (see the Youzan client: an order updated while paging shifts later ones forward, and
  reading backwards turns that shift into a repeat rather than a miss).
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from datetime import datetime, timedelta
from typing import Any

import httpx

from scrm.platforms.base import PlatformError, PlatformUnavailable
from scrm.platforms.shops.adapter import PullPage
from scrm.platforms.shops.canonical import OrderSnapshot
from scrm.platforms.shops.douyin.errors import PLATFORM, DouyinError, DouyinTokenError, unwrap
from scrm.platforms.shops.douyin.mapping import MappingError, map_order_detail
from scrm.platforms.shops.douyin.signing import SignMethod, api_sign, param_json
from scrm.platforms.shops.transport import ShopTransport, send_or_unavailable

log = logging.getLogger(__name__)

DEFAULT_BASE_URL = "https://openapi-fxg.jinritemai.com"
API_VERSION = "2"
PAGE_SIZE = 100  # searchList: "单页大小，限制100以内"
#: Window chunk [U]: no span limit is documented for searchList; a day keeps pages few.
MAX_WINDOW = timedelta(days=1)
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


def _id_value(value: str) -> int | str:
    """Douyin ids are int64 in its SDK's parameter types; a non-numeric id is sent as it is."""
    return int(value) if value.isdigit() and len(value) < 19 else value


class DouyinClient:
    platform = PLATFORM

    def __init__(
        self,
        config: Mapping[str, Any],
        transport: ShopTransport,
        http: httpx.Client,
        *,
        page_size: int = PAGE_SIZE,
        max_window: timedelta = MAX_WINDOW,
        sign_method: SignMethod = "hmac-sha256",
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.app_key = str(config["app_key"])
        self._app_secret = str(config["app_secret"])
        self.shop_id = str(config["shop_id"])
        self.base_url = str(config.get("api_base_url") or DEFAULT_BASE_URL).rstrip("/")
        self._transport = transport
        self._http = http
        self.page_size = page_size
        self.max_window = max_window
        self.sign_method = sign_method
        self._clock = clock
        # (access token, refresh token, usable until: epoch seconds)
        self._token: tuple[str, str, float] | None = None
        self._token_lock = threading.RLock()

    # --- HTTP ------------------------------------------------------------------------------------

    def _post(self, method: str, params: Mapping[str, Any], access_token: str | None) -> Any:
        """One signed request; its data, or DouyinError / PlatformError / PlatformUnavailable."""
        body = param_json(params)
        timestamp = str(int(self._clock()))
        query = {
            "app_key": self.app_key,
            "method": method,
            "timestamp": timestamp,
            "v": API_VERSION,
            "sign_method": self.sign_method,
            "sign": api_sign(
                self.app_key, self._app_secret, method, body, timestamp, API_VERSION, self.sign_method
            ),
        }
        if access_token is not None:
            query["access_token"] = access_token
        url = f"{self.base_url}/{method.replace('.', '/')}"
        response = send_or_unavailable(
            PLATFORM,
            method,
            lambda: self._http.post(
                url, params=query, content=body.encode("utf-8"), headers={"Content-Type": "application/json"}
            ),
        )
        if response.status_code != 200:
            raise PlatformError(
                f"{method}: HTTP {response.status_code}", platform=PLATFORM, code=response.status_code
            )
        try:
            answer = response.json()
        except ValueError as exc:
            raise PlatformUnavailable(f"{method}: answer is not JSON", platform=PLATFORM) from exc
        return unwrap(answer, api=method)

    # --- tokens ----------------------------------------------------------------------------------

    def _store(self, method: str, data: Any) -> str:
        if not isinstance(data, dict) or not data.get("access_token"):
            raise PlatformUnavailable(f"{method}: answer without access_token", platform=PLATFORM)
        now = self._clock()
        try:
            lifetime = max(0.0, float(data["expires_in"]))
        except (KeyError, TypeError, ValueError):
            lifetime = 3600.0
        usable_until = now + max(lifetime - TOKEN_MARGIN_SECONDS, lifetime / 2)
        token = str(data["access_token"])
        self._token = (token, str(data.get("refresh_token") or ""), usable_until)
        return token

    def _create(self) -> str:
        params = {"code": "", "grant_type": "authorization_self", "shop_id": _id_value(self.shop_id)}
        data = self._transport.call("token.create", lambda: self._post("token.create", params, None))
        return self._store("token.create", data)

    def access_token(self, *, force: bool = False) -> str:
        """The cached access token, or a new one from token.create."""
        with self._token_lock:
            if not force and self._token is not None and self._clock() < self._token[2]:
                return self._token[0]
            return self._create()

    def _renew(self, refused: str) -> None:
        """Replace the refused token: token.refresh with the refresh token, token.create if that
        fails. Nothing to do when another thread already replaced it."""
        with self._token_lock:
            if self._token is not None and self._token[0] != refused:
                return
            refresh = self._token[1] if self._token is not None else ""
            self._token = None
            if refresh:
                params = {"grant_type": "refresh_token", "refresh_token": refresh}
                try:
                    data = self._transport.call(
                        "token.refresh", lambda: self._post("token.refresh", params, None)
                    )
                    self._store("token.refresh", data)
                    return
                except DouyinError as error:
                    log.info(
                        "douyin shop %s: token.refresh failed (%s); creating a token", self.shop_id, error
                    )
            self._create()

    def _sender(self, method: str, params: Mapping[str, Any], token: str) -> Callable[[], Any]:
        return lambda: self._post(method, params, token)

    def call(self, method: str, params: Mapping[str, Any]) -> Any:
        """`method` (e.g. "order.orderDetail") with `params`; the answer's data. A refused token is
        renewed once."""
        renewed = False
        while True:
            token = self.access_token()
            try:
                return self._transport.call(method, self._sender(method, params, token), idempotent=True)
            except DouyinTokenError:
                if renewed:
                    raise
                log.info("douyin %s: token refused; renewing it", method)
                self._renew(token)
                renewed = True

    # --- ShopClient ------------------------------------------------------------------------------

    def check(self) -> str:
        """Create a token (proves app key/secret and the shop's authorization) and read one order
        (proves the order API is granted)."""
        self.access_token(force=True)
        end = int(self._clock())
        data = self.call(
            "order.searchList",
            {"update_time_start": end - 86400, "update_time_end": end, "page": 0, "size": 1},
        )
        total = data.get("total", "?") if isinstance(data, dict) else "?"
        return f"douyin shop {self.shop_id}: credentials accepted, {total} orders updated in the last day"

    def fetch_order(self, external_id: str) -> OrderSnapshot:
        data = self.call("order.orderDetail", {"shop_order_id": external_id})
        detail = data.get("shop_order_detail") if isinstance(data, dict) else None
        if not isinstance(detail, dict):
            raise DouyinError(f"order.orderDetail: no shop_order_detail for {external_id}", code=None)
        return map_order_detail(detail, shop_external_id=self.shop_id)

    def pull_window(self, start: datetime, end: datetime) -> Iterator[PullPage]:
        for chunk_start, chunk_end in split_window(start, end, self.max_window):
            yield from self._pull_chunk(chunk_start, chunk_end)

    # --- pulling ---------------------------------------------------------------------------------

    def _search(self, window: Mapping[str, Any], page: int) -> Any:
        return self.call("order.searchList", {**window, "page": page, "size": self.page_size})

    def _page(self, data: Any) -> PullPage:
        orders = []
        for detail in (data.get("shop_order_list") if isinstance(data, dict) else None) or []:
            if not isinstance(detail, dict):
                continue
            try:
                orders.append(map_order_detail(detail, shop_external_id=self.shop_id))
            except MappingError as error:
                # One order we cannot read must not stop the others; it is logged for a human.
                log.warning("douyin shop %s: skipped an order in searchList: %s", self.shop_id, error)
        return PullPage(orders=orders)

    def _pull_chunk(self, start: datetime, end: datetime) -> Iterator[PullPage]:
        window = {
            "update_time_start": math.floor(start.timestamp()),
            "update_time_end": math.ceil(end.timestamp()),
            "order_by": "update_time",
            "order_asc": False,
        }
        first = self._search(window, 0)
        yield self._page(first)
        try:
            total = int(first.get("total", 0)) if isinstance(first, dict) else 0
        except (TypeError, ValueError):
            total = 0
        pages = math.ceil(total / self.page_size)
        # Backwards, page 0 included again: orders may have shifted towards it since it was read.
        if pages > 1:
            for page in range(pages - 1, -1, -1):
                yield self._page(self._search(window, page))


def build_client(config: Mapping[str, Any], transport: ShopTransport, http: httpx.Client) -> DouyinClient:
    return DouyinClient(config, transport, http)
