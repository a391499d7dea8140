"""Per-engine protection: a circuit breaker and a concurrency limit.

A breaker stops the chain from waiting on an engine that keeps failing: after
`failure_threshold` consecutive failures it opens and the chain skips the engine; after
`cooldown` seconds it lets one probe through (half-open); a success closes it, a failure opens
it again. Only failures another engine might not have count (`ServiceError.failover`): bad input
says nothing about the engine's health.

The concurrency limit keeps a fleet of workers from overrunning an engine (LibreTranslate bans
clients that do). One counter under one lock serves threads and asyncio event loops alike:
threads wait on a condition, coroutines on a future the releasing side resolves, so nobody polls.

The half-open probe is released when its call ends however it ends: a probe cancelled mid-call
(a timeout around `AsyncLoop`, a worker shutting down) must not leave the breaker waiting for
an outcome that never comes, which would keep it open forever.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from enum import StrEnum

from tl_loop._errors import ServiceError, ServiceUnavailableError

__all__ = ["BreakerPolicy", "BreakerState", "EngineGuard", "GuardStatus"]

_log = logging.getLogger(__name__)


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
        name: str = "engine",
    ) -> None:
        self.name = name  # for the log lines of its transitions
        self.policy = policy or BreakerPolicy()
        self.max_concurrency = max_concurrency
        self._clock = clock
        self._lock = threading.Lock()
        self._failures = 0
        self._opened_at: float | None = None
        self._probing = False
        self._probe_number = 0  # which probe `_probing` refers to (see `admission`)
        self._in_flight = 0
        self._last_error: str | None = None
        self._slot_freed = threading.Condition(self._lock)
        self._async_waiters: list[Callable[[], None]] = []

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

    def admit(self, service: str) -> bool:
        """Let a call through, or raise if the breaker is open (or a probe is already out).

        Returns True when this call is the half-open probe; its outcome must then be
        `record`ed, or the probe freed: prefer `admission`, which does that in `finally`.

        Raises:
            ServiceUnavailableError: the breaker is open; the chain fails over at once.
        """
        with self._lock:
            state = self._state()
            if state is BreakerState.CLOSED:
                return False
            if state is BreakerState.HALF_OPEN and not self._probing:
                self._probing = True
                self._probe_number += 1
                return True
            assert self._opened_at is not None  # open or probing means it was opened
            wait = max(0.0, self.policy.cooldown - (self._clock() - self._opened_at))
        raise ServiceUnavailableError(
            f"circuit open after {self.policy.failure_threshold} consecutive failures "
            f"(last: {self._last_error}); next probe in {wait:.0f} s",
            service=service,
            retryable=False,
        )

    @contextmanager
    def admission(self, service: str) -> Iterator[None]:
        """`admit` for the length of a call; a probe that ends without an outcome (cancelled,
        interrupted) is freed on the way out, so the next call probes instead.

        Raises:
            ServiceUnavailableError: the breaker is open; the chain fails over at once.
        """
        probe = self.admit(service)
        with self._lock:
            number = self._probe_number
        try:
            yield
        finally:
            if probe:
                with self._lock:
                    if self._probing and self._probe_number == number:
                        self._probing = False  # no outcome was recorded: half-open again

    def record(self, error: BaseException | None) -> None:
        """Record a call's outcome: None for success, else the error it raised."""
        with self._lock:
            self._probing = False
            if error is None:
                if self._opened_at is not None:
                    _log.info("%s: breaker closed, the engine answers again", self.name)
                self._failures = 0
                self._opened_at = None
                return
            if isinstance(error, ServiceError) and not error.failover:
                return  # the input was refused: says nothing about the engine's health
            self._failures += 1
            self._last_error = str(error)
            if self._failures >= self.policy.failure_threshold:
                if self._opened_at is None:
                    _log.warning(
                        "%s: breaker open after %d failures (last: %s); retried in %.0f s",
                        self.name, self._failures, error, self.policy.cooldown,
                    )  # fmt: skip
                self._opened_at = self._clock()

    def _free(self) -> bool:
        return self.max_concurrency is None or self._in_flight < self.max_concurrency

    @contextmanager
    def slot(self) -> Iterator[None]:
        """Hold one of the engine's concurrency slots (blocking)."""
        with self._slot_freed:
            self._slot_freed.wait_for(self._free)
            self._in_flight += 1
        try:
            yield
        finally:
            self._release()

    @asynccontextmanager
    async def aslot(self) -> AsyncIterator[None]:
        """Hold a concurrency slot without blocking the event loop (asyncio)."""
        loop = asyncio.get_running_loop()
        while True:
            with self._lock:
                if self._free():
                    self._in_flight += 1
                    break
                woken: asyncio.Future[None] = loop.create_future()

                def wake(woken: asyncio.Future[None] = woken) -> None:
                    loop.call_soon_threadsafe(_resolve, woken)

                self._async_waiters.append(wake)
            try:
                await woken
            finally:
                with self._lock:
                    if wake in self._async_waiters:
                        self._async_waiters.remove(wake)
        try:
            yield
        finally:
            self._release()

    def _release(self) -> None:
        with self._lock:
            self._in_flight -= 1
            self._slot_freed.notify()
            # Every coroutine waiting re-checks: waking all keeps a cancelled waiter from
            # swallowing the only wake-up.
            wakers, self._async_waiters = self._async_waiters, []
        for wake in wakers:
            # A closed event loop raises: nobody is waiting there any more.
            with contextlib.suppress(RuntimeError):
                wake()


def _resolve(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)
