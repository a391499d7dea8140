"""Per-engine protection: a circuit breaker and a concurrency limit.

A breaker stops the chain from waiting on an engine that keeps failing: after
`failure_threshold` consecutive failures it opens and the chain skips the engine; after
`cooldown` seconds it lets one probe through (half-open); a success closes it, a failure opens
it again. Only failures another engine might not have count (`ServiceError.failover`): bad input
says nothing about the engine's health.

The concurrency limit keeps a fleet of workers from overrunning an engine (LibreTranslate bans
clients that do). It is a plain semaphore so one guard serves threads and event loops alike.
"""

from __future__ import annotations

import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from enum import StrEnum

import anyio

from tl_loop._errors import ServiceError, ServiceUnavailableError

__all__ = ["BreakerPolicy", "BreakerState", "EngineGuard", "GuardStatus"]


class BreakerState(StrEnum):
    """Closed: calls flow. Open: calls are skipped. Half-open: one probe call is allowed."""

    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"


@dataclass(frozen=True, slots=True)
class BreakerPolicy:
    """When a breaker opens and how long it stays open.

    Args:
        failure_threshold: consecutive failures that open the breaker.
        cooldown: seconds an open breaker waits before letting a probe through.
    """

    failure_threshold: int = 5
    cooldown: float = 30.0


@dataclass(frozen=True, slots=True)
class GuardStatus:
    """A snapshot of one engine's guard, for `tl-loop engines` and metrics."""

    state: BreakerState
    consecutive_failures: int
    in_flight: int
    max_concurrency: int | None
    last_error: str | None


class EngineGuard:
    """The breaker and concurrency limit of one engine. Safe to share between threads."""

    def __init__(
        self,
        *,
        policy: BreakerPolicy | None = None,
        max_concurrency: int | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.policy = policy or BreakerPolicy()
        self.max_concurrency = max_concurrency
        self._clock = clock
        self._lock = threading.Lock()
        self._failures = 0
        self._opened_at: float | None = None
        self._probing = False
        self._in_flight = 0
        self._last_error: str | None = None
        self._slots = threading.BoundedSemaphore(max_concurrency) if max_concurrency else None

    def _state(self) -> BreakerState:
        if self._opened_at is None:
            return BreakerState.CLOSED
        if self._clock() - self._opened_at >= self.policy.cooldown:
            return BreakerState.HALF_OPEN
        return BreakerState.OPEN

    @property
    def state(self) -> BreakerState:
        """The breaker's state now."""
        with self._lock:
            return self._state()

    def status(self) -> GuardStatus:
        """A snapshot of the guard."""
        with self._lock:
            return GuardStatus(
                self._state(),
                self._failures,
                self._in_flight,
                self.max_concurrency,
                self._last_error,
            )

    def admit(self, service: str) -> None:
        """Let a call through, or raise if the breaker is open (or a probe is already out).

        Raises:
            ServiceUnavailableError: the breaker is open; the chain fails over at once.
        """
        with self._lock:
            state = self._state()
            if state is BreakerState.CLOSED:
                return
            if state is BreakerState.HALF_OPEN and not self._probing:
                self._probing = True
                return
            assert self._opened_at is not None  # open or probing means it was opened
            wait = max(0.0, self.policy.cooldown - (self._clock() - self._opened_at))
        raise ServiceUnavailableError(
            f"circuit open after {self.policy.failure_threshold} consecutive failures "
            f"(last: {self._last_error}); next probe in {wait:.0f} s",
            service=service,
            retryable=False,
        )

    def record(self, error: BaseException | None) -> None:
        """Record a call's outcome: None for success, else the error it raised."""
        with self._lock:
            self._probing = False
            if error is None:
                self._failures = 0
                self._opened_at = None
                return
            if isinstance(error, ServiceError) and not error.failover:
                return  # the input was refused: says nothing about the engine's health
            self._failures += 1
            self._last_error = str(error)
            if self._failures >= self.policy.failure_threshold:
                self._opened_at = self._clock()

    @contextmanager
    def slot(self) -> Iterator[None]:
        """Hold one of the engine's concurrency slots (blocking)."""
        if self._slots is not None:
            self._slots.acquire()
        with self._lock:
            self._in_flight += 1
        try:
            yield
        finally:
            with self._lock:
                self._in_flight -= 1
            if self._slots is not None:
                self._slots.release()

    @asynccontextmanager
    async def aslot(self) -> AsyncIterator[None]:
        """Hold a concurrency slot without blocking the event loop."""
        if self._slots is not None:
            # A threading semaphore serves every event loop and thread alike; polling it keeps
            # cancellation safe (a thread blocked in acquire() could not be called back).
            while not self._slots.acquire(blocking=False):  # noqa: ASYNC110
                await anyio.sleep(0.005)
        with self._lock:
            self._in_flight += 1
        try:
            yield
        finally:
            with self._lock:
                self._in_flight -= 1
            if self._slots is not None:
                self._slots.release()
