"""What every platform adapter (WeCom, the shops) has in common: one error type that says whether
retrying can help.

The worker dead-letters any exception carrying ``retryable = False`` at once and retries the others
with backoff, so adapters raise `PlatformError` with an honest `retryable` flag and, when the
platform says how long to wait (rate limits), `retry_after` in seconds.
"""

from __future__ import annotations


class PlatformError(Exception):
    """A platform answered with an error, or could not be reached.

    - `platform`: "wecom", "youzan", "taobao"...
    - `code`: the platform's own error code (errcode, sub_code...), None when there was no answer.
    - `message`: the platform's message, for logs only: callers branch on `code`, never on text.
    - `retryable`: whether the same call may succeed later (system busy, rate limit, network).
    - `retry_after`: seconds to wait before retrying, when known.
    """

    def __init__(
        self,
        message: str,
        *,
        platform: str,
        code: str | int | None = None,
        retryable: bool = False,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(f"{platform}: {message}" + (f" ({code})" if code is not None else ""))
        self.platform = platform
        self.code = code
        self.message = message
        self.retryable = retryable
        self.retry_after = retry_after


class PlatformUnavailable(PlatformError):
    """The platform could not be reached or did not answer properly (timeout, connection error,
    HTTP 5xx, a body that is not the platform's format). Always retryable."""

    def __init__(
        self,
        message: str,
        *,
        platform: str,
        code: str | int | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message, platform=platform, code=code, retryable=True, retry_after=retry_after)
