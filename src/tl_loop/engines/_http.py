"""HTTP engines: pure request building and response parsing, one shell that sends and retries.

A subclass writes `build_request` and `parse_response` (pure functions of their inputs, tested
without a network) and, when its service speaks its own error dialect, `error_for`. Multi-step
exchanges (upload a glossary, then translate) override `flow`, a generator that yields requests
and receives responses, in the style of httpx's `Auth.auth_flow`. `HTTPEngine` runs that flow
with `httpx.Client` or `httpx.AsyncClient` through `tl_loop.http` (one status mapping, one
transport-error mapping, one `RetryPolicy`), shared with the helpdesk client.
"""

from __future__ import annotations

import abc
import asyncio
import threading
import weakref
from collections.abc import AsyncGenerator, Sequence

import httpx

from tl_loop._errors import ServiceError, TextTooLongError
from tl_loop.engines._base import NO_OPTIONS, Engine, SegmentResult, TranslateOptions
from tl_loop.http import (
    Flow,
    RetryPolicy,
    adrive,
    drive,
    error_for_status,
    retry_after_seconds,
    transport_errors,
)

__all__ = ["HTTPEngine", "HTTPFlow", "RetryPolicy", "retry_after_seconds"]

HTTPFlow = Flow[list[SegmentResult]]
"""A translation exchange: yields requests, receives their responses, returns the results."""


class HTTPEngine(Engine):
    """Base for engines behind an HTTP API. Safe to share between threads.

    Args:
        base_url: the service's address (always overridable, for self-hosting and tests).
        timeout: seconds for one request.
        retry: how retryable failures are retried.
        http_client: an `httpx.Client` to send with (proxies, TLS, test transports).
        async_http_client: an `httpx.AsyncClient` for `AsyncLoop`; without one, the engine
            keeps one client per event loop (connections are reused across messages; a
            client never outlives its loop), closed by `aclose`.
    """

    def __init__(
        self,
        *,
        base_url: str,
        timeout: float = 10.0,
        retry: RetryPolicy | None = None,
        http_client: httpx.Client | None = None,
        async_http_client: httpx.AsyncClient | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.retry = retry or RetryPolicy()
        self._client = http_client
        self._owns_client = http_client is None
        self._async_client = async_http_client
        self._loop_clients: weakref.WeakKeyDictionary[
            asyncio.AbstractEventLoop, tuple[httpx.AsyncClient, AsyncGenerator[None]]
        ] = weakref.WeakKeyDictionary()
        self._lock = threading.Lock()

    # -- what a subclass writes ------------------------------------------------------------

    @abc.abstractmethod
    def build_request(
        self, segments: Sequence[str], *, source: str, target: str, options: TranslateOptions
    ) -> httpx.Request:
        """The request that translates `segments` (pure: no I/O)."""

    @abc.abstractmethod
    def parse_response(
        self,
        response: httpx.Response,
        *,
        segments: Sequence[str],
        source: str,
        target: str,
        options: TranslateOptions,
    ) -> list[SegmentResult]:
        """The results in a successful response (pure: no I/O).

        Raises:
            ServiceResponseError: the body is not what the API documents.
        """

    def flow(
        self, segments: Sequence[str], *, source: str, target: str, options: TranslateOptions
    ) -> HTTPFlow:
        """The exchange for one batch; override for multi-step APIs."""
        request = self.build_request(segments, source=source, target=target, options=options)
        response = yield request
        self.raise_for_status(response)
        return self.parse_response(
            response, segments=segments, source=source, target=target, options=options
        )

    def error_for(self, response: httpx.Response) -> ServiceError | None:
        """Map a failed response to an error; extend for a service's own codes and bodies."""
        return error_for_status(response, service=self.name)

    def raise_for_status(self, response: httpx.Response) -> None:
        """Raise the mapped error for a failed response."""
        error = self.error_for(response)
        if error is not None:
            raise error

    # -- the shell ---------------------------------------------------------------------------

    def _sync_client(self) -> httpx.Client:
        with self._lock:
            if self._client is None:
                self._client = httpx.Client(timeout=self.timeout)
            return self._client

    def _send(self, request: httpx.Request) -> httpx.Response:
        with transport_errors(self.name):
            return self._sync_client().send(request)

    def translate_batch(
        self,
        segments: Sequence[str],
        *,
        source: str,
        target: str,
        options: TranslateOptions = NO_OPTIONS,
    ) -> list[SegmentResult]:
        """Translate over HTTP, retrying retryable failures; split the batch if it is too long."""
        try:
            return self.retry.call(
                lambda: drive(
                    self.flow(segments, source=source, target=target, options=options), self._send
                )
            )
        except TextTooLongError:
            if len(segments) < 2:
                raise
            half = len(segments) // 2
            first = self.translate_batch(
                segments[:half], source=source, target=target, options=options
            )
            rest = self.translate_batch(
                segments[half:], source=source, target=target, options=options
            )
            return first + rest

    async def atranslate_batch(
        self,
        segments: Sequence[str],
        *,
        source: str,
        target: str,
        options: TranslateOptions = NO_OPTIONS,
    ) -> list[SegmentResult]:
        """Async `translate_batch`, with the same retries and splitting."""
        try:
            return await self.retry.acall(
                lambda: self._arun(
                    self.flow(segments, source=source, target=target, options=options)
                )
            )
        except TextTooLongError:
            if len(segments) < 2:
                raise
            half = len(segments) // 2
            first = await self.atranslate_batch(
                segments[:half], source=source, target=target, options=options
            )
            rest = await self.atranslate_batch(
                segments[half:], source=source, target=target, options=options
            )
            return first + rest

    async def _loop_client(self) -> httpx.AsyncClient | None:
        """The client of the running asyncio loop, opened on first use (None under trio).

        It is closed by `aclose`, or when the loop shuts down its async generators (as
        `asyncio.run` does): the client is handed out by a started async generator whose
        `finally` closes it.
        """
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return None
        with self._lock:
            kept = self._loop_clients.get(loop)
            if kept is not None and not kept[0].is_closed:
                return kept[0]
            client = httpx.AsyncClient(timeout=self.timeout)
            keeper = _close_with_loop(client)
            self._loop_clients[loop] = (client, keeper)
            for other in [other for other in self._loop_clients if other.is_closed()]:
                del self._loop_clients[other]
        await keeper.__anext__()  # started: the loop now closes it at shutdown
        return client

    async def _arun(self, flow: HTTPFlow) -> list[SegmentResult]:
        client = self._async_client or await self._loop_client()
        if client is not None:
            return await self._arun_with(client, flow)
        async with httpx.AsyncClient(timeout=self.timeout) as own:
            return await self._arun_with(own, flow)

    async def _arun_with(self, client: httpx.AsyncClient, flow: HTTPFlow) -> list[SegmentResult]:
        async def send(request: httpx.Request) -> httpx.Response:
            with transport_errors(self.name):
                return await client.send(request)

        return await adrive(flow, send)

    async def aclose(self) -> None:
        """Close the clients this engine opened: the running loop's async one, and `close`."""
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            loop = None
        with self._lock:
            kept = self._loop_clients.pop(loop, None) if loop is not None else None
        if kept is not None:
            await kept[1].aclose()  # its `finally` closes the client
        self.close()

    def close(self) -> None:
        """Close the HTTP client this engine opened (not one it was given)."""
        with self._lock:
            if self._owns_client and self._client is not None:
                self._client.close()
                self._client = None


async def _close_with_loop(client: httpx.AsyncClient) -> AsyncGenerator[None]:
    """Yield once; close `client` when closed (by `aclose` or the loop's shutdown)."""
    try:
        yield
    finally:
        await client.aclose()
