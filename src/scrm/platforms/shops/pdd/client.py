"""The Pinduoduo client for one mall (platform-protocols.md §8.3): `check`, `fetch_order`,
`pull_window` over `ShopTransport`.

Every call is `POST {api_base_url}/api/router` (form) with `type`, `client_id`, `access_token`,
`timestamp` (unix seconds), `data_type=JSON`, `version=V1`, the business parameters and `sign`
(signed again on each attempt). Answers are `{"<x>_response": {...}}` or
`{"error_response": {"error_code", "error_msg", "sub_code", "sub_msg", "request_id"}}`; see
`errors.py` for which codes are retried.

The mall's `access_token` comes from the connection config with no refresh token beside it, so a
token error (10019) is reported as not retryable: the mall must authorize the app again.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from typing import Any

import httpx

from scrm.platforms.base import PlatformError, PlatformUnavailable
from scrm.platforms.shops.adapter import PullPage
from scrm.platforms.shops.canonical import OrderSnapshot
from scrm.platforms.shops.pdd import errors, signing
from scrm.platforms.shops.pdd.mapping import map_order
from scrm.platforms.shops.transport import ShopTransport, send_or_unavailable

DEFAULT_BASE_URL = "https://gw-api.pinduoduo.com"
INCREMENT_API = "pdd.order.number.list.increment.get"
DETAIL_API = "pdd.order.information.get"
PAGE_SIZE = 100  # the API's maximum
MAX_WINDOW_SECONDS = 30 * 60  # end_updated_at - start_updated_at <= 30 min [D-quoted]
RESPONSE_KEYS = {
    INCREMENT_API: "order_sn_increment_get_response",
    DETAIL_API: "order_info_get_response",
    "pdd.pmc.user.permit": "pmc_user_permit_response",
}


def signed_form(
    params: Mapping[str, Any], client_id: str, client_secret: str, access_token: str
) -> dict[str, str]:
    """The full signed form of one call: common parameters, business parameters, sign."""
    form = signing.wire_params(
        {
            **params,
            "client_id": client_id,
            "access_token": access_token,
            "timestamp": int(time.time()),
            "data_type": "JSON",
            "version": "V1",
        }
    )
    form["sign"] = signing.sign(form, client_secret)
    return form


def parse_answer(api: str, response: httpx.Response, platform: str = "pdd") -> dict[str, Any]:
    """The JSON object of an answer, or the PlatformError it stands for."""
    if response.status_code != 200:
        raise PlatformError(f"{api}: HTTP {response.status_code}", platform=platform)
    try:
        body = response.json()
    except ValueError:
        raise PlatformUnavailable(f"{api}: the answer is not JSON", platform=platform) from None
    if not isinstance(body, dict):
        raise PlatformUnavailable(f"{api}: unexpected answer", platform=platform)
    if isinstance(body.get("error_response"), dict):
        raise errors.error_from_response(body["error_response"], api)
    return body


class PddClient:
    """One mall's order APIs. Cheap to build; holds no connection of its own."""

    platform = "pdd"

    def __init__(
        self,
        config: Mapping[str, Any],
        transport: ShopTransport,
        http: httpx.Client,
        *,
        page_size: int = PAGE_SIZE,
    ) -> None:
        self.client_id = str(config["client_id"])
        self._client_secret = str(config["client_secret"])
        self._access_token = str(config["access_token"])
        self.mall_id = str(config["mall_id"])
        self.base_url = str(config.get("api_base_url") or DEFAULT_BASE_URL).rstrip("/")
        self.transport = transport
        self._http = http
        self.page_size = max(1, min(page_size, PAGE_SIZE))

    def call(self, api: str, params: Mapping[str, Any]) -> dict[str, Any]:
        """One API call under pacing, retries and the breaker: the `<x>_response` object."""

        def attempt() -> dict[str, Any]:
            form = signed_form(
                {"type": api, **params}, self.client_id, self._client_secret, self._access_token
            )
            response = send_or_unavailable(
                self.platform, api, lambda: self._http.post(f"{self.base_url}/api/router", data=form)
            )
            body = parse_answer(api, response, self.platform)
            key = RESPONSE_KEYS.get(api) or next((k for k in body if k.endswith("_response")), "")
            data = body.get(key)
            if not isinstance(data, dict):
                raise PlatformUnavailable(
                    f"{api}: no {key or 'response'} in the answer", platform=self.platform
                )
            return data

        return self.transport.call(api, attempt, idempotent=True)

    # --- ShopClient ----------------------------------------------------------------------------------

    def check(self) -> str:
        """A one-row increment query over the last ten minutes proves id, secret and token."""
        end = int(time.time())
        data = self._increment(end - 600, end, page=1, page_size=1)
        total = int(data.get("total_count") or 0)
        return f"PDD mall {self.mall_id}: order API reachable ({total} orders changed in 10 min)"

    def fetch_order(self, external_id: str) -> OrderSnapshot:
        data = self.call(DETAIL_API, {"order_sn": external_id})
        order = data.get("order_info")
        if not isinstance(order, dict):
            raise PlatformError(f"{DETAIL_API}: order {external_id} not found", platform=self.platform)
        return map_order(order, self.mall_id)

    def pull_window(self, start: datetime, end: datetime) -> Iterator[PullPage]:
        """Orders updated in [start, end): whole seconds, in spans of at most 30 minutes (both ends
        inclusive on PDD's side, so spans share their edge second: overlap, never a gap), each paged
        from the last page back to the first, then the first again, as PDD requires to avoid misses.
        `end` should lie a few minutes in the past (PDD: ≥3 min) so no order can still enter."""
        first = math.floor(start.astimezone(UTC).timestamp())
        last = math.ceil(end.astimezone(UTC).timestamp())
        cursor = first
        while cursor < last:
            span_end = min(last, cursor + MAX_WINDOW_SECONDS)
            yield from self._pull_span(cursor, span_end)
            cursor = span_end

    def _pull_span(self, start: int, end: int) -> Iterator[PullPage]:
        data = self._increment(start, end, page=1, page_size=self.page_size)
        yield PullPage(orders=self._orders(data))
        pages = math.ceil(int(data.get("total_count") or 0) / self.page_size)
        if pages <= 1:
            return
        for page in range(pages, 0, -1):
            orders = self._orders(self._increment(start, end, page=page, page_size=self.page_size))
            if orders:
                yield PullPage(orders=orders)

    def _orders(self, data: Mapping[str, Any]) -> list[OrderSnapshot]:
        return [map_order(order, self.mall_id) for order in data.get("order_sn_list") or []]

    def _increment(self, start: int, end: int, *, page: int, page_size: int) -> dict[str, Any]:
        return self.call(
            INCREMENT_API,
            {
                "start_updated_at": start,
                "end_updated_at": end,
                "order_status": 5,  # all
                "refund_status": 5,  # all
                "is_lucky_flag": 0,  # all
                "page": page,
                "page_size": page_size,
            },
        )


def build_client(config: Mapping[str, Any], transport: ShopTransport, http: httpx.Client) -> PddClient:
    return PddClient(config, transport, http)
