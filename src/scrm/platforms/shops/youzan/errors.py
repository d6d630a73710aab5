"""Youzan answer envelopes and error codes (platform-protocols.md §6.1), as pure functions.

Three envelopes exist side by side:
- 4.x / 1.x APIs and `/auth/token`: `{"success": bool, "code": 200, "message": "…", "data": {…}}`;
- 3.0.0 APIs: `{"response": {…}}` or `{"error_response": {"code", "msg"}}`;
- gateway errors, whatever the API: `{"gw_err_resp": {"err_code", "err_msg"}}`.

`unwrap` returns the data of a successful answer or raises the `YouzanError` for it, with an honest
`retryable` flag. The gateway code table is [U] in the protocol notes (an AI-generated doc mirror);
the token-error codes of 4.x envelopes are our guess: both sets are module constants.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from scrm.platforms.base import PlatformError, PlatformUnavailable

PLATFORM = "youzan"

#: Gateway codes [U]: token invalid/expired, no permission, rate limited, quota exhausted.
TOKEN_INVALID = 10003
NO_PERMISSION = 10004
RATE_LIMITED = 20001
QUOTA_EXHAUSTED = 20002
#: Codes that mean "this access token is no good": fetch a new one and repeat the call once.
#: 10003 is the gateway's; 4201/4202 are the token codes older 4.x envelopes were seen with [U].
TOKEN_CODES = frozenset({TOKEN_INVALID, 4201, 4202})
#: Seconds to wait after a 20001 when Youzan does not say (it never does).
RATE_LIMIT_RETRY_AFTER = 1.0
#: Youzan's daily quotas reset at midnight, China time (UTC+8, no DST).
CHINA = timedelta(hours=8)


class YouzanError(PlatformError):
    """Youzan answered with an error code."""


class YouzanTokenError(YouzanError):
    """The access token was refused (expired, revoked): not retryable as is; the client fetches a
    new token and repeats the call once."""


def _int_code(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def seconds_to_quota_reset(now: datetime) -> float:
    """Seconds from `now` (aware) to the next midnight in China, when daily quotas reset."""
    local = now.astimezone(UTC) + CHINA
    midnight = (local + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
    return max(1.0, (midnight - local).total_seconds())


def error_for(code: int | None, message: str, *, api: str, now: datetime | None = None) -> YouzanError:
    """The error for Youzan code `code` answered by `api`."""
    text = f"{api}: {message or 'error'}"
    if code in TOKEN_CODES:
        return YouzanTokenError(text, platform=PLATFORM, code=code)
    if code == RATE_LIMITED:
        return YouzanError(
            text, platform=PLATFORM, code=code, retryable=True, retry_after=RATE_LIMIT_RETRY_AFTER
        )
    if code == QUOTA_EXHAUSTED:
        # Retrying helps, but only after the daily quota resets; the worker waits that long.
        wait = seconds_to_quota_reset(now or datetime.now(UTC))
        return YouzanError(text, platform=PLATFORM, code=code, retryable=True, retry_after=wait)
    return YouzanError(text, platform=PLATFORM, code=code)


def unwrap(answer: Any, *, api: str, now: datetime | None = None) -> Any:
    """The data of a successful Youzan answer; raises YouzanError (or PlatformUnavailable for an
    answer in none of the three envelopes)."""
    if not isinstance(answer, dict):
        raise PlatformUnavailable(f"{api}: answer is not a JSON object", platform=PLATFORM)
    gateway = answer.get("gw_err_resp")
    if isinstance(gateway, dict):
        raise error_for(
            _int_code(gateway.get("err_code")), str(gateway.get("err_msg") or ""), api=api, now=now
        )
    failure = answer.get("error_response")
    if isinstance(failure, dict):
        code = _int_code(failure.get("code"))
        raise error_for(code, str(failure.get("msg") or failure.get("message") or ""), api=api, now=now)
    if "response" in answer and "success" not in answer:
        return answer["response"]
    if "success" in answer:
        code = _int_code(answer.get("code"))
        if answer.get("success") is True and code in (None, 200, 0):
            return answer.get("data")
        raise error_for(code, str(answer.get("message") or ""), api=api, now=now)
    raise PlatformUnavailable(f"{api}: answer is in no Youzan envelope", platform=PLATFORM)
