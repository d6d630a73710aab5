"""WeCom error codes (global error-code page 90313) and the error the client raises.

Branch on `errcode` only: WeCom appends a hint, the caller's IP and a help link to `errmsg`, and
documents that the text may change.
"""

from __future__ import annotations

from enum import IntEnum

from scrm.platforms.base import PlatformError


class ErrCode(IntEnum):
    """The codes the client and the simulator act on (platform-protocols.md §1.2)."""

    SYSTEM_BUSY = -1
    OK = 0
    DATA_VERSION_CONFLICT = 6000
    INVALID_SECRET = 40001
    INVALID_USERID = 40003
    INVALID_CORPID = 40013
    INVALID_ACCESS_TOKEN = 40014
    INVALID_OAUTH_CODE = 40029
    INVALID_AGENTID = 40056
    INVALID_PARAMETER = 40058
    EMPTY_PARAMETER = 40063
    INVALID_TAG_ID = 40068
    TAG_NAME_EXISTS = 40071
    INVALID_EXTERNAL_USERID = 40096
    CORP_TAG_LIMIT = 40126
    CUSTOMER_IN_TRANSFER = 40129
    HANDOVER_EQUALS_TAKEOVER = 40130
    HANDOVER_NOT_FOLLOWER = 40131
    MISSING_ACCESS_TOKEN = 41001
    MISSING_EXTERNAL_USERID = 41035
    MISSING_CONTACT_WAY_TYPE = 41037
    MISSING_CONTACT_WAY_SCENE = 41038
    INVALID_CONTACT_WAY_TYPE = 41039
    INVALID_CONTACT_WAY_SCENE = 41040
    CONTACT_WAY_USER_LIMIT = 41041
    INVALID_CONTACT_WAY_STYLE = 41042
    MISSING_CONFIG_ID = 41043
    INVALID_CONFIG_ID = 41044
    CONTACT_WAY_QUOTA = 41045
    MISSING_MSGID = 41046
    INVALID_MSGID = 41047
    NO_SENDABLE_CUSTOMER = 41048
    MISSING_WELCOME_CODE = 41049
    INVALID_WELCOME_CODE = 41050
    CUSTOMER_ALREADY_CHATTING = 41051
    ACCESS_TOKEN_EXPIRED = 42001
    JSAPI_TICKET_UNUSABLE = 42012
    INVALID_JSON = 47001
    FREQUENCY_LIMIT = 45009
    CONCURRENCY_LIMIT = 45033
    API_NOT_PERMITTED = 48002
    NO_EXTERNAL_CONTACT_PERMISSION = 84074
    NO_RELATIONSHIP = 84061


#: Worth retrying later: system busy, data version conflict, frequency and concurrency limits.
RETRYABLE_CODES = frozenset(
    {ErrCode.SYSTEM_BUSY, ErrCode.DATA_VERSION_CONFLICT, ErrCode.FREQUENCY_LIMIT, ErrCode.CONCURRENCY_LIMIT}
)
#: The access token is bad: fetch a new one and repeat the call once.
TOKEN_CODES = frozenset({ErrCode.INVALID_ACCESS_TOKEN, ErrCode.ACCESS_TOKEN_EXPIRED})


class WeComError(PlatformError):
    """WeCom answered a non-zero errcode. `retryable` is True for -1, 6000, 45009 and 45033.

    Network failures are `scrm.platforms.base.PlatformUnavailable`, not this class.
    """

    def __init__(
        self, errcode: int, errmsg: str = "", *, api: str | None = None, retry_after: float | None = None
    ) -> None:
        message = f"{api}: {errmsg}" if api else errmsg
        super().__init__(
            message,
            platform="wecom",
            code=errcode,
            retryable=errcode in RETRYABLE_CODES,
            retry_after=retry_after,
        )
        self.errcode = errcode
        self.errmsg = errmsg
        self.api = api
