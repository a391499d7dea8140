"""When to try a request again: one policy, a rule for reads and a rule for writes.

Reads are safe to repeat: any retryable failure (timeout, outage, rate limit) is tried again
with bounded, jittered backoff, or after the service's `Retry-After`. Writes (a note, a reply)
are not idempotent, so `write_failure` marks a failure retryable only when the request surely
never arrived (no connection could be opened, or the service refused it with 429); after a
timeout, a dropped connection or a 5xx the write may have been stored, and repeating it could
post a reply twice. The same `RetryPolicy.should_retry` then decides for both.
"""

from __future__ import annotations

import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import anyio
import tenacity

from tl_loop._errors import RateLimitError, ServiceError, ServiceUnavailableError

__all__ = ["RetryPolicy", "write_failure"]

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How a retryable failure (rate limit, outage, timeout) is tried again.

    Args:
        attempts: total tries, the first included; 1 disables retries.
        initial_wait: first backoff in seconds, doubled each time, with full jitter.
        max_wait: cap on one backoff, and on a service's `Retry-After`; a longer wait gives up
            so the caller can fail over (engines) or park the job (the relay) instead of
            blocking a worker.
    """

    attempts: int = 3
    initial_wait: float = 0.5
    max_wait: float = 8.0

    def should_retry(self, error: BaseException) -> bool:
        """Whether `error` is worth another try under this policy."""
        if not (isinstance(error, ServiceError) and error.retryable):
            return False
        return error.retry_after is None or error.retry_after <= self.max_wait

    def wait_for(self, error: BaseException | None, attempt: int) -> float:
        """Seconds to wait before try `attempt + 1`: never negative, never over `max_wait`."""
        retry_after = getattr(error, "retry_after", None)
        if isinstance(retry_after, int | float) and retry_after == retry_after:  # not nan
            return min(max(0.0, float(retry_after)), self.max_wait)
        return random.uniform(0, min(self.max_wait, self.initial_wait * 2 ** (attempt - 1)))

    def tenacity_options(self) -> dict[str, Any]:
        """Keyword arguments for `tenacity.Retrying` / `AsyncRetrying` that apply this policy."""

        def wait(state: tenacity.RetryCallState) -> float:
            error = state.outcome.exception() if state.outcome else None
            return self.wait_for(error, state.attempt_number)

        return {
            "stop": tenacity.stop_after_attempt(self.attempts),
            "wait": wait,
            "retry": tenacity.retry_if_exception(self.should_retry),
            "reraise": True,
        }

    def call(self, function: Callable[[], T], *, sleep: Callable[[float], None] = time.sleep) -> T:
        """Call `function`, trying again while its failure `should_retry`."""
        for attempt in tenacity.Retrying(sleep=sleep, **self.tenacity_options()):
            with attempt:
                return function()
        raise AssertionError("unreachable: tenacity either returns or raises")  # pragma: no cover

    async def acall(
        self,
        function: Callable[[], Awaitable[T]],
        *,
        sleep: Callable[[float], Awaitable[None]] = anyio.sleep,
    ) -> T:
        """Async `call`."""
        async for attempt in tenacity.AsyncRetrying(sleep=sleep, **self.tenacity_options()):
            with attempt:
                return await function()
        raise AssertionError("unreachable: tenacity either returns or raises")  # pragma: no cover


def write_failure(error: ServiceError, *, method: str, path: str) -> ServiceError:
    """`error` from a write, with `retryable` saying whether repeating the write is safe.

    A 429 was refused, so it may be sent again; a 5xx or an outage answer says nothing about
    whether the write was stored, so it must not be repeated blindly.
    """
    if isinstance(error, RateLimitError):
        error.retryable = True
        return error
    status = error.status_code
    if status is not None and status >= 500:
        uncertain = ServiceUnavailableError(
            f"{method} {path} answered HTTP {status}; it may have been stored, so it is not "
            "retried",
            service=error.service,
            status_code=status,
            retryable=False,
        )
        uncertain.__cause__ = error
        return uncertain
    return error
