"""Pinduoduo gateway error codes (`error_response.error_code`, a number) and which a retry can cure.

Field names (`error_code`, `error_msg`, `sub_code`, `sub_msg`, `request_id`) are from SDKs [S].
Codes [S unless noted]: 10000 parameter error, 10019 access_token invalid or expired, 20004 sign
check failed (an ISV's reported answer), 70031 call limited; 52101/52102/52103 "service busy" [U:
not confirmed anywhere here]. The retryable set is a module constant so it can be corrected
without touching the client.
"""

from __future__ import annotations

from typing import Any

from scrm.platforms.base import PlatformError

PLATFORM = "pdd"

PARAMETER_ERROR = 10000
ACCESS_TOKEN_INVALID = 10019
CLIENT_ID_INVALID = 10016  # [U]
SIGN_INVALID = 20004
CALL_LIMITED = 70031
SERVICE_BUSY = 52101  # [U]
SERVICE_BUSY_2 = 52102  # [U]
SERVICE_BUSY_3 = 52103  # [U]

MESSAGES: dict[int, str] = {
    PARAMETER_ERROR: "参数错误",
    ACCESS_TOKEN_INVALID: "access_token已过期",
    CLIENT_ID_INVALID: "client_id不存在",
    SIGN_INVALID: "签名验证失败",
    CALL_LIMITED: "调用过于频繁，请调整调用频率",
    SERVICE_BUSY: "服务繁忙，请稍后重试",
    SERVICE_BUSY_2: "服务繁忙，请稍后重试",
    SERVICE_BUSY_3: "服务繁忙，请稍后重试",
}

RETRYABLE: frozenset[int] = frozenset({CALL_LIMITED, SERVICE_BUSY, SERVICE_BUSY_2, SERVICE_BUSY_3})
TOKEN_ERRORS: frozenset[int] = frozenset({ACCESS_TOKEN_INVALID})


def error_body(code: int, sub_msg: str | None = None, *, request_id: str = "0") -> dict[str, Any]:
    """`{"error_response": {...}}` as the gateway answers (the simulator renders errors with it)."""
    message = MESSAGES.get(code, "系统错误")
    return {
        "error_response": {
            "error_code": code,
            "error_msg": message,
            "sub_code": str(code),
            "sub_msg": sub_msg or message,
            "request_id": request_id,
        }
    }


def error_from_response(error: dict[str, Any], api: str) -> PlatformError:
    try:
        code = int(error.get("error_code", 0))
    except (TypeError, ValueError):
        code = 0
    message = f"{api}: {error.get('sub_msg') or error.get('error_msg') or 'error'}"
    if code in TOKEN_ERRORS:
        message += " (the mall must authorize the app again)"
    return PlatformError(message, platform=PLATFORM, code=code, retryable=code in RETRYABLE)
