"""TOP error codes (platform-protocols.md §7.2) and which of them are worth retrying.

An error answer is `{"error_response": {"code", "msg", "sub_code", "sub_msg", "request_id"}}`.
`code` is the gateway's verdict; for code 15 (and 50) the real reason is `sub_code`: `isp.*` means
the platform failed (retry), `isv.*` means our request is wrong (do not).
"""

from __future__ import annotations

import math
import re
from typing import Any

from scrm.platforms.base import PlatformError

PLATFORM = "taobao"

APP_CALL_LIMITED = 7
SERVICE_UNAVAILABLE = 10
REMOTE_SERVICE_ERROR = 15
MISSING_SESSION = 26
INVALID_SESSION = 27

#: The gateway's own codes and messages (also what the simulator answers with).
MESSAGES: dict[int, str] = {
    3: "Upload Fail",
    7: "App Call Limited",
    9: "Http Action Not Allowed",
    10: "Service Currently Unavailable",
    11: "Insufficient ISV Permissions",
    12: "Insufficient User Permissions",
    13: "Insufficient Partner Permissions",
    15: "Remote service error",
    21: "Missing Method",
    22: "Invalid Method",
    23: "Invalid Format",
    24: "Missing Signature",
    25: "Invalid Signature",
    26: "Missing Session",
    27: "Invalid Session",
    28: "Missing App Key",
    29: "Invalid App Key",
    30: "Missing Timestamp",
    31: "Invalid Timestamp",
    32: "Missing Version",
    33: "Invalid Version",
    34: "Unsupported Version",
    40: "Missing Required Arguments",
    41: "Invalid Arguments",
    42: "Insufficient Session Permissions",
    43: "Parameter Error",
    47: "Invalid Encoding",
    50: "Remote service error",
}

#: Codes a repeat can fix: the app is banned for a while (7), the gateway is down (10).
RETRYABLE_CODES = frozenset({APP_CALL_LIMITED, SERVICE_UNAVAILABLE})
#: The seller's session is missing or no longer valid: only the seller re-authorizing helps.
SESSION_CODES = frozenset({MISSING_SESSION, INVALID_SESSION})

_BAN = re.compile(r"ban will last for\s+(\d+(?:\.\d+)?)\s+more second", re.IGNORECASE)


class TaobaoError(PlatformError):
    """An `error_response`. `code` is TOP's numeric code; `sub_code`/`sub_msg` the detail."""

    def __init__(
        self,
        code: int,
        msg: str,
        *,
        sub_code: str | None = None,
        sub_msg: str | None = None,
        retryable: bool = False,
        retry_after: float | None = None,
    ) -> None:
        detail = msg + (f" [{sub_code}: {sub_msg}]" if sub_code or sub_msg else "")
        super().__init__(detail, platform=PLATFORM, code=code, retryable=retryable, retry_after=retry_after)
        self.sub_code = sub_code
        self.sub_msg = sub_msg

    @property
    def needs_reauthorization(self) -> bool:
        """The seller must authorize the app again (a new session key); retrying cannot help."""
        return self.code in SESSION_CODES


def ban_seconds(*texts: str | None) -> float | None:
    """N from "This ban will last for N more seconds" in any of `texts` (msg or sub_msg)."""
    for text in texts:
        if text:
            match = _BAN.search(text)
            if match:
                return float(math.ceil(float(match.group(1))))
    return None


def is_retryable(code: int, sub_code: str | None) -> bool:
    """7 and 10 always; any `isp.*` sub code (the platform's own failure, whatever the code);
    everything else (isv.* business errors, signature, session, permissions, arguments) never."""
    if code in RETRYABLE_CODES:
        return True
    return bool(sub_code and sub_code.startswith("isp."))


def error_from_response(body: dict[str, Any]) -> TaobaoError:
    """The `TaobaoError` of an `error_response` object (its inner dict)."""
    try:
        code = int(body.get("code", 0))
    except (TypeError, ValueError):
        code = 0
    msg = str(body.get("msg") or MESSAGES.get(code, "error"))
    sub_code = body.get("sub_code")
    sub_code = str(sub_code) if sub_code else None
    sub_msg = body.get("sub_msg")
    sub_msg = str(sub_msg) if sub_msg else None
    retry_after = ban_seconds(msg, sub_msg) if code == APP_CALL_LIMITED else None
    return TaobaoError(
        code,
        msg,
        sub_code=sub_code,
        sub_msg=sub_msg,
        retryable=is_retryable(code, sub_code),
        retry_after=retry_after,
    )
