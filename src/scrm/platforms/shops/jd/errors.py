"""JOS gateway error codes (`error_response.code`, a string) and which of them a retry can cure.

The table is JOS's system-level list as mirrored by third-party SDKs [S]; the codes the adapter
branches on are named. Business failures inside a successful answer come as `apiResult`
(`success`, `numberCode`, `chineseErrCode`, `englishErrCode`) and are never retried.
"""

from __future__ import annotations

from typing import Any

from scrm.platforms.base import PlatformError

PLATFORM = "jd"

SERVICE_UNAVAILABLE = "1"
APP_CALL_LIMITED = "2"  # 限制时间内调用失败次数 / App Call Limited: the rate limit [S]
MISSING_VERSION = "4"
UNSUPPORTED_VERSION = "5"
MISSING_TIMESTAMP = "7"
INVALID_TIMESTAMP = "8"
MISSING_SIGNATURE = "11"
INVALID_SIGNATURE = "12"
MISSING_METHOD = "14"
INVALID_METHOD = "15"
MISSING_ACCESS_TOKEN = "18"
INVALID_ACCESS_TOKEN = "19"
MISSING_APP_KEY = "20"
INVALID_APP_KEY = "21"
SYSTEM_ERROR = "43"
INVALID_PARAMETER_VALUE = "61"
INVALID_JSON = "63"
BACKEND_TIMEOUT = "65"
BACKEND_UNAVAILABLE = "66"
BACKEND_UNKNOWN = "67"

#: (zh_desc, en_desc) as JOS words them.
DESCRIPTIONS: dict[str, tuple[str, str]] = {
    SERVICE_UNAVAILABLE: ("服务不可用", "Service Unavailable"),
    APP_CALL_LIMITED: ("限制时间内调用失败次数", "App Call Limited"),
    MISSING_VERSION: ("缺少版本参数", "Missing Version"),
    UNSUPPORTED_VERSION: ("不支持的版本号", "Unsupported Version"),
    MISSING_TIMESTAMP: ("缺少时间戳参数", "Missing Timestamp"),
    INVALID_TIMESTAMP: ("非法的时间戳参数", "Invalid Timestamp"),
    MISSING_SIGNATURE: ("缺少签名参数", "Missing Signature"),
    INVALID_SIGNATURE: ("无效签名", "Invalid Signature"),
    MISSING_METHOD: ("缺少方法名参数", "Missing Method"),
    INVALID_METHOD: ("不存在的方法名", "Invalid Method"),
    MISSING_ACCESS_TOKEN: ("缺少access_token参数", "Missing access_token"),
    INVALID_ACCESS_TOKEN: ("无效access_token", "Invalid access_token"),
    MISSING_APP_KEY: ("缺少app_key参数", "Missing app_key"),
    INVALID_APP_KEY: ("无效app_key", "Invalid app_key"),
    SYSTEM_ERROR: ("系统处理错误", "System Error"),
    INVALID_PARAMETER_VALUE: ("参数值不合法，请参照帮助文档确认！", "Invalid parameter value"),
    INVALID_JSON: ("json格式不合法", "Invalid JSON"),
    BACKEND_TIMEOUT: ("平台连接后端服务超时", "platform connecting service timeout"),
    BACKEND_UNAVAILABLE: ("平台连接后端服务不可用", "platform connecting service unavailable"),
    BACKEND_UNKNOWN: ("平台连接后端服务处理过程中出现未知异常信息", "platform connecting service unknown"),
}

#: Busy, down or rate-limited: the same call may succeed later [S].
RETRYABLE: frozenset[str] = frozenset(
    {
        SERVICE_UNAVAILABLE,
        APP_CALL_LIMITED,
        SYSTEM_ERROR,
        BACKEND_TIMEOUT,
        BACKEND_UNAVAILABLE,
        BACKEND_UNKNOWN,
    }
)

#: The seller's authorization is missing or no longer valid: only a new token helps.
TOKEN_ERRORS: frozenset[str] = frozenset({MISSING_ACCESS_TOKEN, INVALID_ACCESS_TOKEN})


def error_body(code: str, detail: str | None = None) -> dict[str, Any]:
    """`{"error_response": {...}}` as the gateway answers (the simulator renders errors with it)."""
    zh, en = DESCRIPTIONS.get(code, ("系统处理错误", "System Error"))
    return {"error_response": {"code": code, "zh_desc": detail or zh, "en_desc": en}}


def error_from_response(error: dict[str, Any], method: str) -> PlatformError:
    """The `PlatformError` for an `error_response` object."""
    code = str(error.get("code", ""))
    message = f"{method}: {error.get('zh_desc') or error.get('en_desc') or 'error'}"
    if code in TOKEN_ERRORS:
        message += " (the seller must authorize the app again)"
    return PlatformError(message, platform=PLATFORM, code=code, retryable=code in RETRYABLE)
