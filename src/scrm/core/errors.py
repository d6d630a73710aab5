"""Domain errors. The API turns each into an `application/problem+json` answer with its status."""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    """Base of errors a caller can act on. `status` is the HTTP status the API answers with."""

    status: int = 400
    title: str = "Bad request"
    type_slug: str = "bad-request"

    def __init__(self, detail: str, *, field_errors: list[dict[str, Any]] | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.field_errors = field_errors or []


class ValidationFailed(DomainError):
    status = 422
    title = "Validation failed"
    type_slug = "validation-failed"


class Unauthenticated(DomainError):
    status = 401
    title = "Not authenticated"
    type_slug = "unauthenticated"


class PermissionDenied(DomainError):
    status = 403
    title = "Permission denied"
    type_slug = "permission-denied"


class NotFound(DomainError):
    """Also the answer for another tenant's ids: existence elsewhere is not disclosed."""

    status = 404
    title = "Not found"
    type_slug = "not-found"


class Conflict(DomainError):
    status = 409
    title = "Conflict"
    type_slug = "conflict"


class TooManyRequests(DomainError):
    status = 429
    title = "Too many requests"
    type_slug = "too-many-requests"

    def __init__(self, detail: str, *, retry_after_seconds: int) -> None:
        super().__init__(detail)
        self.retry_after_seconds = retry_after_seconds


class PayloadTooLarge(DomainError):
    status = 413
    title = "Payload too large"
    type_slug = "payload-too-large"


class RetryableError(Exception):
    """A failure worth retrying later (network, rate limit, lock). Handlers raise it or subclass it.

    Any exception carrying ``retryable = False`` is dead-lettered at once instead of retried.
    """

    retryable = True


class PermanentError(Exception):
    """A failure that retrying cannot fix (bad data, missing configuration)."""

    retryable = False
