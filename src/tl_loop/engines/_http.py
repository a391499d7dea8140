"""HTTP engines: pure request building and response parsing, one shell that sends and retries.

A subclass writes `build_request` and `parse_response` (pure functions of their inputs, tested
without a network) and, when its service speaks its own error dialect, `error_for`. Multi-step
exchanges (upload a glossary, then translate) override `flow`, a generator that yields requests
and receives responses, in the style of httpx's `Auth.auth_flow`. `HTTPEngine` runs that flow
with `httpx.Client` or `httpx.AsyncClient`, maps transport errors at the boundary, and retries
what the error itself says is retryable, with one `RetryPolicy` for both shells.
"""

from __future__ import annotations

import abc
import contextlib
import random
import threading
from collections.abc import Generator, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import httpx
import tenacity

from tl_loop._errors import (
    AuthenticationError,
    InvalidRequestError,
    QuotaExceededError,
    RateLimitError,
    ServiceError,
    ServiceUnavailableError,
    TextTooLongError,
)
from tl_loop.engines._base import NO_OPTIONS, Engine, SegmentResult, TranslateOptions

__all__ = ["HTTPEngine", "HTTPFlow", "RetryPolicy", "retry_after_seconds"]

HTTPFlow = Generator[httpx.Request, httpx.Response, list[SegmentResult]]
"""A translation exchange: yields requests, receives their responses, returns the results."""


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How an HTTP engine retries a retryable failure (rate limits, outages, timeouts).

    Args:
        attempts: total tries, the first included; 1 disables retries.
        initial_wait: first backoff in seconds, doubled each time, with full jitter.
        max_wait: cap on one backoff, and on a service's `Retry-After`; a longer wait gives up
            so the chain can fail over instead of blocking a customer's message.
    """

    attempts: int = 3
    initial_wait: float = 0.5
    max_wait: float = 8.0

    def wait_for(self, error: BaseException | None, attempt: int) -> float:
        """Seconds to wait before try `attempt + 1`."""
        retry_after = getattr(error, "retry_after", None)
        if retry_after is not None:
            return min(float(retry_after), self.max_wait)
        return random.uniform(0, min(self.max_wait, self.initial_wait * 2 ** (attempt - 1)))

    def _tenacity(self) -> dict[str, Any]:
        def wait(state: tenacity.RetryCallState) -> float:
            error = state.outcome.exception() if state.outcome else None
            return self.wait_for(error, state.attempt_number)

        def give_up_on_long_waits(error: BaseException) -> bool:
            if not (isinstance(error, ServiceError) and error.retryable):
                return False
            return error.retry_after is None or error.retry_after <= self.max_wait

        return {
            "stop": tenacity.stop_after_attempt(self.attempts),
            "wait": wait,
            "retry": tenacity.retry_if_exception(give_up_on_long_waits),
            "reraise": True,
        }


def retry_after_seconds(response: httpx.Response) -> float | None:
    """The `Retry-After` header as seconds (delta or HTTP date), if the service sent one."""
    value = response.headers.get("retry-after")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, (moment - datetime.now(UTC)).total_seconds())


class HTTPEngine(Engine):
    """Base for engines behind an HTTP API. Safe to share between threads.

    Args:
        base_url: the service's address (always overridable, for self-hosting and tests).
        timeout: seconds for one request.
        retry: how retryable failures are retried.
        http_client: an `httpx.Client` to send with (proxies, TLS, test transports).
        async_http_client: an `httpx.AsyncClient` for `AsyncLoop`; without one, each async
            call opens a short-lived client, so no client outlives its event loop.
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
        status = response.status_code
        if status < 400:
            return None
        detail = _detail(response)
        common: dict[str, Any] = {"service": self.name, "status_code": status}
        if status in (401, 403):
            return AuthenticationError(f"credentials refused: {detail}", **common)
        if status == 413:
            return TextTooLongError(f"request too large: {detail}", **common)
        if status in (429, 529):
            return RateLimitError(
                f"rate limited: {detail}", retry_after=retry_after_seconds(response), **common
            )
        if status == 456:
            return QuotaExceededError(f"quota exceeded: {detail}", **common)
        if status in (408, 500, 502, 503, 504):
            return ServiceUnavailableError(
                f"service unavailable: {detail}",
                retry_after=retry_after_seconds(response),
                **common,
            )
        if 400 <= status < 500:
            return InvalidRequestError(f"request refused: {detail}", **common)
        return ServiceUnavailableError(f"unexpected status: {detail}", **common)

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
        with _mapped_transport_errors(self.name):
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
            for attempt in tenacity.Retrying(**self.retry._tenacity()):
                with attempt:
                    flow = self.flow(segments, source=source, target=target, options=options)
                    return self._run(flow)
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
        raise AssertionError("unreachable: tenacity either returns or raises")  # pragma: no cover

    def _run(self, flow: HTTPFlow) -> list[SegmentResult]:
        try:
            request = next(flow)
            while True:
                request = flow.send(self._send(request))
        except StopIteration as stop:
            results: list[SegmentResult] = stop.value
            return results

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
            async for attempt in tenacity.AsyncRetrying(**self.retry._tenacity()):
                with attempt:
                    flow = self.flow(segments, source=source, target=target, options=options)
                    return await self._arun(flow)
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
        raise AssertionError("unreachable: tenacity either returns or raises")  # pragma: no cover

    async def _arun(self, flow: HTTPFlow) -> list[SegmentResult]:
        if self._async_client is not None:
            return await self._arun_with(self._async_client, flow)
        async with httpx.AsyncClient(timeout=self.timeout) as client:
            return await self._arun_with(client, flow)

    async def _arun_with(self, client: httpx.AsyncClient, flow: HTTPFlow) -> list[SegmentResult]:
        try:
            request = next(flow)
            while True:
                with _mapped_transport_errors(self.name):
                    response = await client.send(request)
                request = flow.send(response)
        except StopIteration as stop:
            results: list[SegmentResult] = stop.value
            return results

    def close(self) -> None:
        """Close the HTTP client this engine opened (not one it was given)."""
        with self._lock:
            if self._owns_client and self._client is not None:
                self._client.close()
                self._client = None


def _detail(response: httpx.Response) -> str:
    """A short, secret-free description of a failed response for error messages."""
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
    return f"HTTP {response.status_code}: {text[:200]}"


@contextlib.contextmanager
def _mapped_transport_errors(service: str) -> Iterator[None]:
    """Map httpx transport errors to `ServiceUnavailableError` at the boundary."""
    try:
        yield
    except httpx.TimeoutException as error:
        raise ServiceUnavailableError("timed out", service=service) from error
    except httpx.TransportError as error:
        reason = f"cannot reach the service: {type(error).__name__}"
        raise ServiceUnavailableError(reason, service=service) from error
