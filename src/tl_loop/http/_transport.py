"""Transport failures (no connection, timeouts, dropped sockets) mapped to the error tree.

A read that failed in transport is an outage: retryable. A write is retryable only when not a
byte of it left (the connection could not be opened); after that it may have arrived, so the
error says so and is final. One copy of that rule for engines and helpdesks.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import httpx

from tl_loop._errors import ServiceUnavailableError

__all__ = ["NOT_SENT", "transport_errors"]

NOT_SENT: tuple[type[httpx.TransportError], ...] = (httpx.ConnectError, httpx.ConnectTimeout)
"""Failures raised before a single byte of the request left: no TCP connection, no TLS."""


@contextlib.contextmanager
def transport_errors(
    service: str, *, request: httpx.Request | None = None, what: str = "the service"
) -> Iterator[None]:
    """Map httpx transport errors raised inside to `ServiceUnavailableError`.

    Args:
        service: the engine or helpdesk name, for the message.
        request: the write being sent; None for a read (always safe to repeat).
        what: how the message names the other side ("the service", "the helpdesk").
    """
    try:
        yield
    except NOT_SENT as error:
        if request is None:
            reason = f"cannot reach {what}: {type(error).__name__}"
        else:
            reason = f"cannot connect to {what} ({type(error).__name__}); nothing was sent"
        raise ServiceUnavailableError(reason, service=service) from error
    except httpx.TimeoutException as error:
        if request is None:
            raise ServiceUnavailableError("timed out", service=service) from error
        raise _uncertain(error, service, request) from error
    except httpx.TransportError as error:
        if request is None:
            reason = f"cannot reach {what}: {type(error).__name__}"
            raise ServiceUnavailableError(reason, service=service) from error
        raise _uncertain(error, service, request) from error


def _uncertain(
    error: httpx.TransportError, service: str, request: httpx.Request
) -> ServiceUnavailableError:
    return ServiceUnavailableError(
        f"{request.method} {request.url.path} failed after sending ({type(error).__name__}); "
        "it may have been stored, so it is not retried",
        service=service,
        retryable=False,
    )
