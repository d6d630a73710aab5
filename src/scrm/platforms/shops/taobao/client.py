"""The Taobao/Tmall TOP client for one seller (platform-protocols.md §7.1-7.3).

Every call is a signed POST form to `{api_base_url}/router/rest` with the system params (method,
app_key, session, timestamp in Asia/Shanghai, format=json, v=2.0, sign_method from the config,
simplify=false) and goes through `ShopTransport` (pacing, retries, breaker). The answer is
`<method minus "taobao.", dots as underscores>_response` or an `error_response` → `TaobaoError`
(see `errors.py` for what is retried). The session key is the seller's; TOP has no refresh for it
here: an invalid session (27) is raised as is, not retried (the seller must authorize again).

Pull windows (`taobao.trades.sold.increment.get`): TOP limits a query to one day and recommends 30
minutes; it treats both `start_modified` and `end_modified` as inclusive and works to the second.
The half-open [start, end) becomes whole-second chunks [a, b) of ≤ `chunk` each, asked as
start_modified=a, end_modified=b-1s (so consecutive chunks neither overlap nor leave a gap; an
`end` with a fraction is rounded up: overlap, never a miss). Each chunk is paged backwards as TOP
asks (page 1 first only to learn `total_results`, then last page to first), so trades leaving the
window while we page cannot make us skip others; if the total grows meanwhile (trades entering), the
chunk is paged again.
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from scrm.platforms.base import PlatformError, PlatformUnavailable
from scrm.platforms.shops.adapter import PullPage
from scrm.platforms.shops.canonical import OrderSnapshot
from scrm.platforms.shops.taobao.errors import PLATFORM, error_from_response
from scrm.platforms.shops.taobao.mapping import (
    TRADE_FIELDS,
    MappingError,
    format_time,
    map_trade,
    map_trade_refunds,
    trade_id,
)
from scrm.platforms.shops.taobao.signing import sign
from scrm.platforms.shops.transport import ShopTransport, send_or_unavailable

log = logging.getLogger(__name__)

DEFAULT_BASE_URL = "https://eco.taobao.com"
PAGE_SIZE = 50
MAX_SPAN = timedelta(days=1)
DEFAULT_CHUNK = timedelta(minutes=30)
#: increment.get only reaches this far back; older windows are clamped (nothing is there to get).
HISTORY = timedelta(days=90)
#: Passes over one chunk while its total keeps growing, before giving up (retryable).
MAX_PASSES = 3


def response_key(method: str) -> str:
    """`taobao.trades.sold.increment.get` → `trades_sold_increment_get_response`."""
    return method.removeprefix("taobao.").replace(".", "_") + "_response"


def listed(container: Any, key: str) -> list[dict[str, Any]]:
    """TOP's `{"trade": [...]}` wrapper (simplify=false) → the list; [] when absent."""
    if isinstance(container, Mapping):
        container = container.get(key)
    return [item for item in container if isinstance(item, dict)] if isinstance(container, list) else []


def parse_answer(method: str, response: httpx.Response) -> dict[str, Any]:
    """A TOP answer → the inner dict of `<name>_response`; raises `TaobaoError` for an
    `error_response`, `PlatformUnavailable` for a body that is not TOP's."""
    if response.status_code != 200:
        raise PlatformError(
            f"{method}: HTTP {response.status_code}", platform=PLATFORM, code=response.status_code
        )
    try:
        body = response.json()
    except ValueError:
        raise PlatformUnavailable(f"{method}: answer is not JSON", platform=PLATFORM) from None
    if not isinstance(body, dict):
        raise PlatformUnavailable(f"{method}: answer is not a JSON object", platform=PLATFORM)
    error = body.get("error_response")
    if isinstance(error, dict):
        raise error_from_response(error)
    answer = body.get(response_key(method))
    if not isinstance(answer, dict):
        raise PlatformUnavailable(f"{method}: no {response_key(method)} in the answer", platform=PLATFORM)
    return answer


class TopApi:
    """Signed TOP calls for one connection's config (app_key, app_secret, session, sign_method,
    api_base_url)."""

    def __init__(
        self,
        config: Mapping[str, Any],
        transport: ShopTransport,
        http: httpx.Client,
        *,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self.app_key = str(config["app_key"])
        self._secret = str(config["app_secret"])
        self._session = str(config.get("session") or "")
        self.sign_method = str(config.get("sign_method") or "hmac-sha256")
        base = str(config.get("api_base_url") or DEFAULT_BASE_URL).rstrip("/")
        self.url = f"{base}/router/rest"
        self._transport = transport
        self._http = http
        self.clock = clock or (lambda: datetime.now(UTC))

    def signed(self, method: str, params: Mapping[str, Any], *, session: bool = True) -> dict[str, str]:
        """The full form of one request: system params, business params, `sign`."""
        form: dict[str, str] = {
            "method": method,
            "app_key": self.app_key,
            "timestamp": format_time(self.clock()),
            "format": "json",
            "v": "2.0",
            "sign_method": self.sign_method,
            "simplify": "false",
        }
        if session and self._session:
            form["session"] = self._session
        for name, value in params.items():
            if value is None:
                continue
            form[name] = ("true" if value else "false") if isinstance(value, bool) else str(value)
        form["sign"] = sign(form, self._secret, self.sign_method)
        return form

    def call(
        self,
        method: str,
        params: Mapping[str, Any] | None = None,
        *,
        session: bool = True,
        idempotent: bool = True,
    ) -> dict[str, Any]:
        """One API call under the transport's retries; signed afresh (new timestamp) per attempt."""

        def attempt() -> dict[str, Any]:
            form = self.signed(method, params or {}, session=session)
            response = send_or_unavailable(PLATFORM, method, lambda: self._http.post(self.url, data=form))
            return parse_answer(method, response)

        return self._transport.call(method, attempt, idempotent=idempotent)


def _whole_second(moment: datetime, *, up: bool) -> datetime:
    floor = moment.replace(microsecond=0)
    return floor + timedelta(seconds=1) if up and floor != moment else floor


class TaobaoClient:
    """`ShopClient` for one Taobao/Tmall seller."""

    platform = PLATFORM

    def __init__(
        self,
        config: Mapping[str, Any],
        transport: ShopTransport,
        http: httpx.Client,
        *,
        clock: Callable[[], datetime] | None = None,
        chunk: timedelta = DEFAULT_CHUNK,
        page_size: int = PAGE_SIZE,
    ) -> None:
        if not timedelta(seconds=1) <= chunk <= MAX_SPAN:
            raise ValueError("chunk must be between 1 second and 1 day")
        self.api = TopApi(config, transport, http, clock=clock)
        self.seller_id = str(config["seller_id"])
        self.chunk = chunk
        self.page_size = max(1, min(page_size, 100))

    def check(self) -> str:
        """Proves app key, secret and session with a one-row increment query of the last 30 min."""
        end = self.api.clock().replace(microsecond=0)
        data = self._page(end - DEFAULT_CHUNK, end - timedelta(seconds=1), 1, page_size=1, fields="tid")
        total = int(data.get("total_results") or 0)
        return f"seller {self.seller_id}: session valid, {total} trade(s) modified in the last 30 minutes"

    def fetch_order(self, external_id: str) -> OrderSnapshot:
        data = self.api.call("taobao.trade.fullinfo.get", {"tid": external_id, "fields": TRADE_FIELDS})
        trade = data.get("trade")
        if not isinstance(trade, dict):
            raise PlatformUnavailable(
                f"trade.fullinfo.get {external_id}: no trade in the answer", platform=PLATFORM
            )
        return map_trade(trade, shop_external_id=self.seller_id)

    # --- pulls -----------------------------------------------------------------------------------

    def chunks(self, start: datetime, end: datetime) -> list[tuple[datetime, datetime]]:
        """Whole-second half-open chunks covering [start, end), oldest first, clamped to TOP's
        3-month reach."""
        if start.tzinfo is None or end.tzinfo is None:
            raise ValueError("pull windows need aware datetimes")
        earliest = _whole_second(self.api.clock() - HISTORY, up=True) + timedelta(minutes=1)
        lower = _whole_second(start, up=False)
        if lower < earliest:
            log.warning(
                "taobao seller %s: window start %s is past TOP's 3 months; from %s",
                self.seller_id,
                start,
                earliest,
            )
            lower = earliest
        upper = _whole_second(end, up=True)
        found = []
        while lower < upper:
            step = min(lower + self.chunk, upper)
            found.append((lower, step))
            lower = step
        return found

    def pull_window(self, start: datetime, end: datetime) -> Iterator[PullPage]:
        """Every trade modified in [start, end), as pages of complete snapshots plus the refunds
        their lines show. A trade may appear twice (edges, re-passes); none is skipped."""
        for chunk_start, chunk_end in self.chunks(start, end):
            yield from self._pull_chunk(chunk_start, chunk_end - timedelta(seconds=1))

    def _pull_chunk(self, first: datetime, last: datetime) -> Iterator[PullPage]:
        for _ in range(MAX_PASSES):
            head = self._page(first, last, 1)
            planned = int(head.get("total_results") or 0)
            pages = math.ceil(planned / self.page_size)
            if pages <= 1:
                page = self._mapped(head)
                if page.orders:
                    yield page
                return
            grown = False
            for page_no in range(pages, 0, -1):
                data = self._page(first, last, page_no)
                grown = grown or int(data.get("total_results") or 0) > planned
                page = self._mapped(data)
                if page.orders:
                    yield page
            if not grown:
                return
            log.info(
                "taobao seller %s: window %s..%s grew while paging; paging it again",
                self.seller_id,
                first,
                last,
            )
        raise PlatformUnavailable(
            f"trades.sold.increment.get {format_time(first)}..{format_time(last)} kept growing while paged",
            platform=PLATFORM,
        )

    def _page(
        self,
        first: datetime,
        last: datetime,
        page_no: int,
        *,
        page_size: int | None = None,
        fields: str = TRADE_FIELDS,
    ) -> dict[str, Any]:
        return self.api.call(
            "taobao.trades.sold.increment.get",
            {
                "fields": fields,
                "start_modified": format_time(first),
                "end_modified": format_time(last),
                "page_no": page_no,
                "page_size": page_size or self.page_size,
                "use_has_next": False,
            },
        )

    def _mapped(self, data: Mapping[str, Any]) -> PullPage:
        orders = []
        refunds = []
        for trade in listed(data.get("trades"), "trade"):
            try:
                orders.append(map_trade(trade, shop_external_id=self.seller_id))
                refunds.extend(map_trade_refunds(trade, shop_external_id=self.seller_id))
            except MappingError as error:
                # one unreadable trade must not hold back the rest of the window; it is logged
                # with its id so it can be fetched once the mapping knows it
                log.error("taobao seller %s: trade %s skipped: %s", self.seller_id, _safe_tid(trade), error)
        return PullPage(orders=orders, refunds=refunds)


def _safe_tid(trade: Mapping[str, Any]) -> str:
    try:
        return trade_id(trade)
    except MappingError:
        return json.dumps(trade, ensure_ascii=False)[:80]
