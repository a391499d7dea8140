"""One mapping from an HTTP status to the error tree, shared by engines and helpdesks.

Services refine it (DeepL's 456, a helpdesk's 404 body) by overriding their own `error_for` and
falling back here, so the common cases (credentials, rate limits, outages) mean the same thing
everywhere and a retry policy can decide from the error alone.
"""

from __future__ import annotations

import contextlib
from typing import Any

import httpx

from tl_loop._errors import (
    AuthenticationError,
    InvalidRequestError,
    NotFoundError,
    QuotaExceededError,
    RateLimitError,
    ServiceError,
    ServiceUnavailableError,
    TextTooLongError,
)
from tl_loop.http._retry_after import retry_after_seconds

__all__ = ["describe_response", "error_for_status", "response_origin"]

_UNAVAILABLE = frozenset({408, 500, 502, 503, 504})


def error_for_status(
    response: httpx.Response, *, service: str, retry_after: float | None = None
) -> ServiceError | None:
    """The error a failed response stands for, or None for a success.

    Args:
        response: the service's answer.
        service: the engine or helpdesk name, for the message.
        retry_after: the wait the service asked for, when it uses its own header; by default
            the `Retry-After` header is read.
    """
    status = response.status_code
    if status < 400:
        return None
    detail = describe_response(response)
    wait = retry_after if retry_after is not None else retry_after_seconds(response)
    common: dict[str, Any] = {"service": service, "status_code": status}
    if status in (401, 403):
        return AuthenticationError(f"credentials refused {detail}", **common)
    if status == 404:
        return NotFoundError(f"not found {detail}", **common)
    if status == 413:
        return TextTooLongError(f"request too large {detail}", **common)
    if status in (429, 529):
        return RateLimitError(f"rate limited {detail}", retry_after=wait, **common)
    if status == 456:
        return QuotaExceededError(f"quota exceeded {detail}", **common)
    if status in _UNAVAILABLE:
        return ServiceUnavailableError(f"service unavailable {detail}", retry_after=wait, **common)
    if status < 500:
        return InvalidRequestError(f"request refused {detail}", **common)
    return ServiceUnavailableError(f"unexpected status {detail}", **common)


def describe_response(response: httpx.Response) -> str:
    """`(HTTP 429 from GET /path): <the service's message>`: short and secret-free (no query)."""
    try:
        body: Any = response.json()
    except ValueError:
        body = response.text
    if isinstance(body, dict):
        for key in ("message", "error", "detail", "error_description"):
            value = body.get(key)
            if isinstance(value, dict):
                value = value.get("message", value)
            if value:
                body = value
                break
    text = str(body).strip() or response.reason_phrase
    return f"{response_origin(response)}: {text[:200]}"


def response_origin(response: httpx.Response) -> str:
    """`(HTTP 429 from GET /path)`: which answer to which request (the path, never the query)."""
    where = ""
    with contextlib.suppress(RuntimeError):  # a response made without its request (tests)
        where = f" from {response.request.method} {response.request.url.path}"
    return f"(HTTP {response.status_code}{where})"
