"""The JD JOS client for one POP shop (platform-protocols.md §8.2): `check`, `fetch_order`,
`pull_window` over `ShopTransport`.

Every call is `POST {api_base_url}/routerjson` (form) with `method`, `app_key`, `access_token`,
`timestamp`, `v=2.0`, `360buy_param_json` and `sign` (signed again on every attempt, so a retried
call carries a fresh timestamp). Answers are `{"<method with dots→underscores>_responce": {...}}`
(JD's spelling) or `{"error_response": {"code", "zh_desc", "en_desc"}}`; see `errors.py` for
which codes are retried.

The seller's `access_token` comes from the connection config; there is no refresh token there, so a
token error (18/19) is reported as not retryable: the seller must authorize the app again.

JD offers no HTTP push (§8.2 [U]); orders are only pulled.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from scrm.platforms.base import PlatformError, PlatformUnavailable
from scrm.platforms.shops.adapter import PullPage
from scrm.platforms.shops.canonical import OrderSnapshot
from scrm.platforms.shops.jd import errors, signing
from scrm.platforms.shops.jd.mapping import ALL_ORDER_STATES, map_order
from scrm.platforms.shops.transport import ShopTransport, send_or_unavailable

DEFAULT_BASE_URL = "https://api.jd.com"
SEARCH_METHOD = "jingdong.pop.order.enSearch"
GET_METHOD = "jingdong.pop.order.get"
#: JOS caps page_size at 100 for order searches [S].
PAGE_SIZE = 100
#: JOS allows up to a month per modified-time window [S]; a day keeps each window's page count
#: small. Longer windows are split. [U]
MAX_WINDOW = timedelta(days=1)
OPTIONAL_FIELDS = ",".join(
    (
        "orderId", "venderId", "orderType", "payType", "orderTotalPrice", "orderSellerPrice",
        "orderPayment", "freightPrice", "sellerDiscount", "orderState", "orderStateRemark",
        "orderStartTime", "orderEndTime", "modified", "paymentConfirmTime", "pin", "open_id_buyer",
        "consigneeInfo", "itemInfoList", "couponDetailList", "waybill", "logisticsId",
    )
)  # fmt: skip


def response_key(method: str) -> str:
    """`jingdong.pop.order.get` → `jingdong_pop_order_get_responce` (sic)."""
    return method.replace(".", "_") + "_responce"


def window_text(moment: datetime, *, round_up: bool = False) -> str:
    """A JOS query time (`yyyy-MM-dd HH:mm:ss`, CST). JD compares whole seconds with both ends
    included, so an end is rounded up: the window may overlap the next one, never miss."""
    local = moment.astimezone(signing.CST)
    if round_up and local.microsecond:
        local = local.replace(microsecond=0) + timedelta(seconds=1)
    return local.strftime("%Y-%m-%d %H:%M:%S")


class JdClient:
    """One JD shop's order APIs. Cheap to build; holds no connection of its own."""

    platform = "jd"

    def __init__(
        self,
        config: Mapping[str, Any],
        transport: ShopTransport,
        http: httpx.Client,
        *,
        search_method: str = SEARCH_METHOD,
        get_method: str = GET_METHOD,
        page_size: int = PAGE_SIZE,
        max_window: timedelta = MAX_WINDOW,
    ) -> None:
        self.app_key = str(config["app_key"])
        self._app_secret = str(config["app_secret"])
        self._access_token = str(config["access_token"])
        self.vender_id = str(config["vender_id"])
        self.base_url = str(config.get("api_base_url") or DEFAULT_BASE_URL).rstrip("/")
        self.transport = transport
        self._http = http
        self.search_method = search_method
        self.get_method = get_method
        self.page_size = max(1, min(page_size, PAGE_SIZE))
        self.max_window = max_window

    # --- the wire ----------------------------------------------------------------------------------

    def signed_params(self, method: str, business: Mapping[str, Any]) -> dict[str, str]:
        params = {
            "method": method,
            "app_key": self.app_key,
            "access_token": self._access_token,
            "timestamp": signing.timestamp(),
            "v": "2.0",
            "360buy_param_json": signing.param_json(business),
        }
        params["sign"] = signing.sign(params, self._app_secret)
        return params

    def call(self, method: str, business: Mapping[str, Any]) -> dict[str, Any]:
        """One JOS call under the transport's pacing, retries and breaker: the `_responce` object."""

        def attempt() -> dict[str, Any]:
            params = self.signed_params(method, business)
            response = send_or_unavailable(
                self.platform, method, lambda: self._http.post(f"{self.base_url}/routerjson", data=params)
            )
            return self._parse(method, response)

        return self.transport.call(method, attempt, idempotent=True)

    def _parse(self, method: str, response: httpx.Response) -> dict[str, Any]:
        if response.status_code != 200:
            raise PlatformError(f"{method}: HTTP {response.status_code}", platform=self.platform)
        try:
            body = response.json()
        except ValueError:
            raise PlatformUnavailable(f"{method}: the answer is not JSON", platform=self.platform) from None
        if not isinstance(body, dict):
            raise PlatformUnavailable(f"{method}: unexpected answer", platform=self.platform)
        if isinstance(body.get("error_response"), dict):
            raise errors.error_from_response(body["error_response"], method)
        data = body.get(response_key(method))
        if not isinstance(data, dict):
            missing = f"{method}: no {response_key(method)} in the answer"
            raise PlatformUnavailable(missing, platform=self.platform)
        if str(data.get("code", "0")) != "0":
            raise errors.error_from_response(data, method)
        return data

    def _check_api_result(self, method: str, result: Mapping[str, Any]) -> None:
        """Business failures (`apiResult.success == false`) are the caller's, never retried."""
        api_result = result.get("apiResult")
        if isinstance(api_result, dict) and api_result.get("success") is False:
            code = api_result.get("numberCode") or api_result.get("englishErrCode")
            message = api_result.get("chineseErrCode") or api_result.get("englishErrCode") or "failed"
            raise PlatformError(f"{method}: {message}", platform=self.platform, code=code)

    # --- ShopClient ----------------------------------------------------------------------------------

    def check(self) -> str:
        """A one-row search over the last ten minutes proves key, secret and token."""
        end = datetime.now(UTC)
        _, total = self._search(end - timedelta(minutes=10), end, page=1, page_size=1)
        return f"JD vender {self.vender_id}: order API reachable ({total} orders changed in 10 min)"

    def fetch_order(self, external_id: str) -> OrderSnapshot:
        data = self.call(
            self.get_method,
            {
                "order_id": external_id,
                "optional_fields": OPTIONAL_FIELDS,
                "order_state": ",".join(ALL_ORDER_STATES),
            },
        )
        detail = data.get("orderDetailInfo") or {}
        self._check_api_result(self.get_method, detail)
        order = detail.get("orderInfo")
        if not isinstance(order, dict):
            raise PlatformError(f"{self.get_method}: order {external_id} not found", platform=self.platform)
        return map_order(order, self.vender_id)

    def pull_window(self, start: datetime, end: datetime) -> Iterator[PullPage]:
        """Orders modified in [start, end), in spans of at most `max_window`, each paged from the
        last page back to the first (then the first again): an order modified again while we page
        leaves the window and shifts later rows towards page 1, which backwards paging still sees.
        `end` should lie a few minutes in the past so no order can still enter the window."""
        cursor = start
        while cursor < end:
            span_end = min(end, cursor + self.max_window)
            yield from self._pull_span(cursor, span_end)
            cursor = span_end

    def _pull_span(self, start: datetime, end: datetime) -> Iterator[PullPage]:
        orders, total = self._search(start, end, page=1, page_size=self.page_size)
        yield PullPage(orders=orders)
        pages = math.ceil(total / self.page_size)
        if pages <= 1:
            return
        for page in range(pages, 0, -1):
            orders, _ = self._search(start, end, page=page, page_size=self.page_size)
            if orders:
                yield PullPage(orders=orders)

    def _search(
        self, start: datetime, end: datetime, *, page: int, page_size: int
    ) -> tuple[list[OrderSnapshot], int]:
        data = self.call(
            self.search_method,
            {
                "start_date": window_text(start),
                "end_date": window_text(end, round_up=True),
                "order_state": ",".join(ALL_ORDER_STATES),
                "optional_fields": OPTIONAL_FIELDS,
                "page": str(page),
                "page_size": str(page_size),
                "sortType": "0",  # ascending
                "dateType": "0",  # by modified time (1 would be creation time)
            },
        )
        result = data.get("searchorderinfo_result") or {}
        self._check_api_result(self.search_method, result)
        orders = [map_order(order, self.vender_id) for order in result.get("orderInfoList") or []]
        return orders, int(result.get("orderTotal") or 0)


def build_client(config: Mapping[str, Any], transport: ShopTransport, http: httpx.Client) -> JdClient:
    return JdClient(config, transport, http)
