"""JD JOS request signing (platform-protocols.md §8.2, [V]).

`sign = UPPER(hex(md5(secret + name1value1name2value2… + secret)))` over the system parameters
`method`, `access_token`, `app_key`, `timestamp`, `v` and the business JSON `360buy_param_json`,
sorted by name. `format` and `sign_method` travel with the request but are never signed, and
`sign` itself is not.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

SIGNED_PARAMS: frozenset[str] = frozenset(
    {"method", "access_token", "app_key", "timestamp", "v", "360buy_param_json"}
)

#: JD timestamps are China Standard Time, which has had no daylight saving since 1991.
CST = timezone(timedelta(hours=8), "Asia/Shanghai")


def string_to_sign(params: Mapping[str, Any]) -> str:
    """`name+value` of the signed parameters present (None skipped), sorted by name."""
    return "".join(
        f"{name}{params[name]}"
        for name in sorted(params)
        if name in SIGNED_PARAMS and params[name] is not None
    )


def sign(params: Mapping[str, Any], secret: str) -> str:
    """The JOS signature of `params` (only the signed names count)."""
    plain = f"{secret}{string_to_sign(params)}{secret}"
    return hashlib.md5(plain.encode("utf-8")).hexdigest().upper()


def param_json(business: Mapping[str, Any]) -> str:
    """`360buy_param_json`: compact JSON with sorted keys, UTF-8 kept as is. The string is signed
    exactly as sent, so it is built once per request."""
    return json.dumps(dict(business), ensure_ascii=False, separators=(",", ":"), sort_keys=True)


def timestamp(moment: datetime | None = None) -> str:
    """`yyyy-MM-dd HH:mm:ss.SSS+0800`, the format of the official example."""
    current = (moment or datetime.now(UTC)).astimezone(CST)
    return current.strftime("%Y-%m-%d %H:%M:%S.") + f"{current.microsecond // 1000:03d}+0800"


def parse_timestamp(value: str) -> datetime:
    """The inverse of `timestamp`; also accepts the older `yyyy-MM-dd HH:mm:ss` form.
    Raises ValueError for anything else."""
    for pattern in ("%Y-%m-%d %H:%M:%S.%f%z", "%Y-%m-%d %H:%M:%S"):
        try:
            parsed = datetime.strptime(value, pattern)
        except ValueError:
            continue
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=CST)
    raise ValueError(f"not a JOS timestamp: {value!r}")
