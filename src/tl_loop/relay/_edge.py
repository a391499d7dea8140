"""The relay's edge: what a hostile or broken client can cost it, bounded.

- Connections: at most `max_connections`; over it the longest-idle connection (one with no
  request in progress: a half-sent header, a finished keep-alive) is closed to make room, so
  thousands of idle sockets never lock `/healthz` out nor exhaust file descriptors.
- Header time: a connection must send a request's complete headers within `header_timeout`.
- Body: read as a stream and refused at `max_body_bytes` (413) whether or not the client sent a
  Content-Length, and within `body_timeout` in all (408), however slowly it trickles.
- Concurrency: at most `max_requests_in_flight` webhooks at once; more get 503 + Retry-After
  (the helpdesk redelivers) while `/healthz` and `/readyz` still answer.
- Logs: one line per failed request; a client that went away is a line, not a traceback.

`EdgeLimits.protocol()` is the uvicorn HTTP protocol (h11) with the connection and header
limits; `EdgeMiddleware` holds the rest; `read_body` is the streaming read.
"""

from __future__ import annotations

import asyncio
import logging
import resource
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import anyio

if TYPE_CHECKING:
    from starlette.requests import Request
    from starlette.types import ASGIApp, Message, Receive, Scope, Send
    from uvicorn.protocols.http.h11_impl import H11Protocol

__all__ = ["BodyRefused", "EdgeLimits", "EdgeMiddleware", "raise_open_files_limit", "read_body"]

log = logging.getLogger("tl_loop.relay")

# asyncio accepts up to `backlog` connections per loop tick before any of them reaches
# `connection_made` (where the cap is enforced), and closes evicted ones a tick later: keep
# twice that many descriptors free beyond the cap, plus some for files, engines and clients.
ACCEPT_BACKLOG = 128
_FD_HEADROOM = 64 + 2 * ACCEPT_BACKLOG
_LOG_EVERY = 10.0


@dataclass(frozen=True, slots=True)
class EdgeLimits:
    """The connection-level limits (from `RelaySettings`); body and concurrency limits are
    the app's (`read_body`, `EdgeMiddleware`)."""

    max_connections: int = 1000
    header_timeout: float = 10.0

    def protocol(self) -> type[H11Protocol]:
        """The uvicorn HTTP protocol class enforcing `max_connections` and `header_timeout`."""
        return _edge_protocol(self)


class BodyRefused(Exception):
    """A request body the edge would not read to the end: too large (413) or too slow (408)."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


class ClientGone(Exception):
    """The client closed the connection before its body arrived."""


async def read_body(request: Request, *, limit: int, seconds: float) -> bytes:
    """The request body, read as a stream and never more than `limit` bytes of it.

    Raises:
        BodyRefused: over `limit` bytes (declared or counted), or not all there in `seconds`.
        ClientGone: the client disconnected first.
    """
    from starlette.requests import ClientDisconnect

    declared = request.headers.get("content-length")
    if declared is not None and declared.strip().isdigit() and int(declared) > limit:
        raise BodyRefused(413, f"body of {int(declared)} bytes is over the {limit}-byte limit")
    chunks: list[bytes] = []
    size = 0
    try:
        with anyio.fail_after(seconds):
            async for chunk in request.stream():
                size += len(chunk)
                if size > limit:
                    raise BodyRefused(413, f"body is over the {limit}-byte limit")
                chunks.append(chunk)
    except TimeoutError:
        raise BodyRefused(
            408, f"body not received within {seconds:g} s ({size} bytes arrived)"
        ) from None
    except ClientDisconnect:
        raise ClientGone from None
    return b"".join(chunks)


def raise_open_files_limit(wanted: int) -> int:
    """Raise this process's soft open-files limit towards `wanted` (within the hard limit);
    returns how many connections fit under the limit now in force."""
    _quiet_accept_errors()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = wanted + _FD_HEADROOM
    if soft != resource.RLIM_INFINITY and soft < target:
        new_soft = target if hard == resource.RLIM_INFINITY else min(target, hard)
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (new_soft, hard))
            soft = new_soft
        except (ValueError, OSError):  # pragma: no cover - refused by the platform
            pass
    if soft == resource.RLIM_INFINITY:
        return wanted
    return max(1, min(wanted, soft - _FD_HEADROOM))


class _AcceptErrorFilter(logging.Filter):
    """asyncio logs "socket.accept() out of system resource" with a traceback once per
    connection it failed to accept, thousands a second when descriptors run out (it keeps
    trying the rest of its batch). One line per 10 s says the same."""

    def __init__(self) -> None:
        super().__init__()
        self._last = 0.0
        self._dropped = 0

    def filter(self, record: logging.LogRecord) -> bool:
        if "out of system resource" not in str(record.msg):
            return True
        now = time.monotonic()
        if now - self._last < _LOG_EVERY:
            self._dropped += 1
            return False
        record.msg = (
            f"cannot accept connections: out of file descriptors ({self._dropped} more "
            "suppressed); lower relay.max_connections or raise the open-files limit"
        )
        record.args = None
        record.exc_info = None
        record.exc_text = None
        self._last, self._dropped = now, 0
        return True


def _quiet_accept_errors() -> None:
    asyncio_log = logging.getLogger("asyncio")
    if not any(isinstance(f, _AcceptErrorFilter) for f in asyncio_log.filters):
        asyncio_log.addFilter(_AcceptErrorFilter())


def _edge_protocol(limits: EdgeLimits) -> type[H11Protocol]:
    from uvicorn.protocols.http.h11_impl import H11Protocol

    # Closed since the last log line, and when that line was: the first eviction is logged
    # at once, then one line per 10 s at most.
    evicted = [0, time.monotonic() - _LOG_EVERY]

    class EdgeProtocol(H11Protocol):
        """uvicorn's h11 protocol with a connection cap and a header deadline."""

        _edge_since = 0.0
        _edge_timer: asyncio.TimerHandle | None = None

        def connection_made(self, transport: asyncio.BaseTransport) -> None:
            super().connection_made(transport)  # type: ignore[arg-type]
            self._edge_waiting()
            if len(self.connections) > limits.max_connections:
                self._make_room()

        def connection_lost(self, exc: Exception | None) -> None:
            if self._edge_timer is not None:
                self._edge_timer.cancel()
            super().connection_lost(exc)

        def on_response_complete(self) -> None:
            super().on_response_complete()
            if not self.transport.is_closing():
                self._edge_waiting()  # keep-alive: the next request's headers have a deadline

        def _edge_idle(self) -> bool:
            return self.cycle is None or self.cycle.response_complete

        def _edge_waiting(self) -> None:
            self._edge_since = time.monotonic()
            if self._edge_timer is not None:
                self._edge_timer.cancel()
            cycle = self.cycle
            self._edge_timer = self.loop.call_later(
                limits.header_timeout, self._edge_overdue, cycle
            )

        def _edge_overdue(self, cycle: object) -> None:
            # Still no new request since the deadline was set: headers too slow, or idle.
            if self.cycle is cycle and self._edge_idle() and not self.transport.is_closing():
                self.transport.close()

        def _make_room(self) -> None:
            idle = [
                connection
                for connection in self.connections
                if isinstance(connection, EdgeProtocol)
                and connection._edge_idle()
                and not connection.transport.is_closing()
            ]
            victim = min(idle, key=lambda c: c._edge_since) if idle else self
            victim.transport.close()
            evicted[0] += 1
            now = time.monotonic()
            if now - evicted[1] >= _LOG_EVERY:
                log.warning(
                    "over %d connections: closing the longest-idle ones (%d since the last "
                    "such line)",
                    limits.max_connections,
                    evicted[0],
                )
                evicted[0], evicted[1] = 0, now

    return EdgeProtocol


class EdgeMiddleware:
    """ASGI middleware: webhook concurrency cap and one log line per failed request.

    Args:
        app: the wrapped app.
        max_requests_in_flight: webhooks handled at once; more are answered 503.
        limited_prefix: the paths the cap applies to (health checks stay answerable).
    """

    def __init__(
        self, app: ASGIApp, *, max_requests_in_flight: int, limited_prefix: str = "/webhooks/"
    ) -> None:
        self.app = app
        self.max_requests_in_flight = max_requests_in_flight
        self.limited_prefix = limited_prefix
        self._in_flight = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limited = str(scope.get("path", "")).startswith(self.limited_prefix)
        if limited and self._in_flight >= self.max_requests_in_flight:
            _log_failure(scope, 503, f"over {self.max_requests_in_flight} webhooks in flight")
            await _plain(send, 503, b'{"error": "busy; retry shortly"}', retry_after="1")
            return
        status: list[int] = []

        async def send_status(message: Message) -> None:
            if message["type"] == "http.response.start":
                status.append(int(message["status"]))
            await send(message)

        if limited:
            self._in_flight += 1
        try:
            await self.app(scope, receive, send_status)
        except ClientGone:
            _log_failure(scope, 499, "client closed the connection before its body arrived")
            return
        except Exception as error:
            # A bug: its traceback is worth the lines; the client gets a plain 500.
            log.error(
                "%s %s → 500: %s: %s",
                scope.get("method"),
                scope.get("path"),
                type(error).__name__,
                error,
                exc_info=True,
            )
            if not status:
                await _plain(send, 500, b'{"error": "internal error; see the relay log"}')
            return
        finally:
            if limited:
                self._in_flight -= 1
        if status and status[0] >= 400:
            reason = scope.get("state", {}).get("tl_loop_reason", "")
            _log_failure(scope, status[0], reason)


def _log_failure(scope: Scope, status: int, reason: str) -> None:
    client = scope.get("client")
    peer = f"{client[0]}:{client[1]}" if client else "?"
    log.warning(
        "%s %s → %d from %s%s",
        scope.get("method"),
        scope.get("path"),
        status,
        peer,
        f": {reason}" if reason else "",
    )


async def _plain(send: Send, status: int, body: bytes, *, retry_after: str | None = None) -> None:
    headers: list[tuple[bytes, bytes]] = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        (b"connection", b"close"),
    ]
    if retry_after is not None:
        headers.append((b"retry-after", retry_after.encode()))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def set_reason(request: Request, reason: str) -> None:
    """Say why a request failed, for the middleware's one log line."""
    state: Any = request.scope.setdefault("state", {})
    state["tl_loop_reason"] = reason
