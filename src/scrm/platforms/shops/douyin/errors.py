"""Douyin shop answers: `{"code", "msg", "sub_code", "sub_msg", "data", "log_id"}`, code 10000 = ok.

The code table is the platform's "平台基础错误码汇总" as mirrored by several SDKs [S]:
10000 success, 20000 service unavailable, 20001 internal timeout, 30001 no permission, 30002 IP not
whitelisted, 40001-40004 parameter errors (40003 with `isv.access-token-*` sub codes = token
problems, `isv.signature-invalid` = bad sign), 50001 platform failure (token generation),
50002 business failure, 60000 rate limited, 70000 API offline, 80000 security, 90000 other.
"""

from __future__ import annotations

from typing import Any

from scrm.platforms.base import PlatformError, PlatformUnavailable

PLATFORM = "douyin"
SUCCESS = 10000
SERVICE_UNAVAILABLE = 20000
SERVICE_TIMEOUT = 20001
INVALID_PARAMETER = 40003
RATE_LIMITED = 60000
RETRYABLE_CODES = frozenset({SERVICE_UNAVAILABLE, SERVICE_TIMEOUT, RATE_LIMITED})
#: Sub codes of 40003 that mean "get a new access token and repeat the call".
TOKEN_SUB_CODES = frozenset(
    {"isv.access-token-expired", "isv.access-token-no-existed", "isv.access-token-invalid"}
)
#: Seconds to wait after a 60000 (Douyin does not say how long).
RATE_LIMIT_RETRY_AFTER = 1.0


class DouyinError(PlatformError):
    """Douyin answered with a code other than 10000. `sub_code` is kept for logs and branching."""

    def __init__(self, message: str, *, code: int | None, sub_code: str = "", **kwargs: Any) -> None:
        super().__init__(message, platform=PLATFORM, code=code, **kwargs)
        self.sub_code = sub_code


class DouyinTokenError(DouyinError):
    """The access token was refused: the client refreshes it and repeats the call once."""


def _code(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def error_for(code: int | None, sub_code: str, message: str, *, api: str) -> DouyinError:
    text = f"{api}: {message or 'error'}" + (f" [{sub_code}]" if sub_code else "")
    if code == INVALID_PARAMETER and sub_code in TOKEN_SUB_CODES:
        return DouyinTokenError(text, code=code, sub_code=sub_code)
    if code == RATE_LIMITED:
        return DouyinError(
            text, code=code, sub_code=sub_code, retryable=True, retry_after=RATE_LIMIT_RETRY_AFTER
        )
    return DouyinError(text, code=code, sub_code=sub_code, retryable=code in RETRYABLE_CODES)


def unwrap(answer: Any, *, api: str) -> Any:
    """`data` of a code-10000 answer; DouyinError otherwise (PlatformUnavailable when the answer is
    not Douyin's envelope at all)."""
    if not isinstance(answer, dict) or "code" not in answer:
        raise PlatformUnavailable(f"{api}: answer is not a Douyin envelope", platform=PLATFORM)
    code = _code(answer.get("code"))
    if code == SUCCESS:
        return answer.get("data")
    message = str(answer.get("sub_msg") or answer.get("msg") or "")
    raise error_for(code, str(answer.get("sub_code") or ""), message, api=api)
