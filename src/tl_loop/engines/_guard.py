"""Per-engine protection: a circuit breaker, a rate-limit pause and a concurrency limit.

A breaker stops the chain from waiting on an engine that keeps failing: after
`failure_threshold` consecutive failures it opens and the chain skips the engine; after
`cooldown` seconds it lets one probe through (half-open); a success closes it, a failure opens
it again. Only failures another engine might not have count (`ServiceError.failover`): bad input
says nothing about the engine's health. An engine that answers 429 with a wait (Retry-After)
is skipped until then, instead of being asked again by the next message.

The breaker's record lives in a ledger (`_guard_ledger.py`): this process's by default, or one
that every relay replica shares (Redis, PostgreSQL), so what one replica learns about an engine
every replica acts on. When the shared ledger does not answer, the guard keeps its own record
for a while: a dead Redis must not stop translation.

The concurrency limit keeps a fleet of workers from overrunning an engine (LibreTranslate bans
clients that do). One counter under one lock serves threads and asyncio event loops alike:
threads wait on a condition, coroutines on a future the releasing side resolves, so nobody polls.

The half-open probe is released when its call ends however it ends: a probe cancelled mid-call
(a timeout around `AsyncLoop`, a worker shutting down) must not leave the breaker waiting for
an outcome that never comes, which would keep it open forever. A probe whose replica died is
released by time: its claim lapses after `cooldown` seconds.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import os
import random
import socket
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass

from tl_loop._errors import ServiceUnavailableError
from tl_loop.engines._guard_ledger import (
    BreakerPolicy,
    BreakerState,
    FallbackLedger,
    GuardLedger,
    GuardRecord,
    InMemoryGuardLedger,
)

__all__ = ["BreakerPolicy", "BreakerState", "EngineGuard", "GuardStatus"]

_log = logging.getLogger(__name__)

# Compare-and-set rounds before a guard gives up on one update (replicas writing the same
# engine's record at once), with a short random wait between rounds so writers that collided
# do not collide again. Losing an update only makes the breaker count one failure less.
_ROUNDS = 32
_BACKOFF_SECONDS = 0.002


@dataclass(frozen=True, slots=True)
class GuardStatus:
    """A snapshot of one engine's guard, for `tl-loop engines` and metrics.

    `paused_seconds` is how long calls still wait because the engine asked (HTTP 429);
    `shared` says whether the breaker state came from the ledger every replica shares.
    """

    state: BreakerState
    consecutive_failures: int
    in_flight: int
    max_concurrency: int | None
    last_error: str | None
    paused_seconds: float = 0.0
    shared: bool = False


class EngineGuard:
    """The breaker, rate-limit pause and concurrency limit of one engine. Thread-safe.

    Args:
        policy: when the breaker opens and how long it stays open.
        max_concurrency: the most calls at once from this process (None: no limit).
        clock: the clock of the process-local ledger (tests pass a fake one).
        name: the engine's name: the key of its record in a shared ledger, and in log lines.
        ledger: a ledger shared by every replica (`tl_loop.stores.RedisGuardLedger`,
            `PostgresGuardLedger`; a `FallbackLedger` around it, which `EngineChain` shares
            between its guards, is made if not given); None keeps the breaker in this process.
    """

    def __init__(
        self,
        *,
        policy: BreakerPolicy | None = None,
        max_concurrency: int | None = None,
        clock: Callable[[], float] = time.monotonic,
        name: str = "engine",
        ledger: GuardLedger | None = None,
    ) -> None:
        self.name = name
        self.policy = policy or BreakerPolicy()
        self.max_concurrency = max_concurrency
        self._ledger: GuardLedger = InMemoryGuardLedger(clock=clock)
        if ledger is not None:
            self._ledger = ledger if isinstance(ledger, FallbackLedger) else FallbackLedger(ledger)
        # A probe's holder must be unique across replicas: host, process, call number.
        self._caller_prefix = f"{socket.gethostname()}:{os.getpid()}:{id(self):x}:"
        self._calls = itertools.count()
        self._lock = threading.Lock()
        self._in_flight = 0
        self._slot_freed = threading.Condition(self._lock)
        self._async_waiters: list[Callable[[], None]] = []

    def _apply(
        self, rule: Callable[[GuardRecord, float], GuardRecord | None]
    ) -> tuple[GuardRecord, GuardRecord, float]:
        """Apply `rule` to the engine's record; return the record before, after, and the time.

        A rule returning None changes nothing. When another replica wrote in between, the
        rule is applied again to what it wrote.
        """
        for round_number in range(_ROUNDS):
            if round_number:
                time.sleep(random.uniform(0, _BACKOFF_SECONDS * min(round_number, 8)))
            before, version = self._ledger.read(self.name)
            now = self._ledger.now()
            after = rule(before, now)
            if after is None or self._ledger.write(self.name, after, version=version):
                return before, after or before, now
        _log.warning("%s: breaker update lost to %d concurrent writers", self.name, _ROUNDS)
        return before, before, now

    def _read(self) -> tuple[GuardRecord, float, bool]:
        record, _, now = self._apply(lambda record, now: None)
        shared = isinstance(self._ledger, FallbackLedger) and self._ledger.sharing
        return record, now, shared

    @property
    def state(self) -> BreakerState:
        """The breaker's state now."""
        record, now, _ = self._read()
        return record.state(now, self.policy)

    @property
    def skipping(self) -> bool:
        """Whether a call now would be refused: the breaker is open, or the engine asked us
        to wait. (Half-open with nobody probing is not skipping: the next call probes.)"""
        record, now, _ = self._read()
        return record.refusal(now, self.policy) is not None

    def status(self) -> GuardStatus:
        """A snapshot of the guard."""
        record, now, shared = self._read()
        with self._lock:
            in_flight = self._in_flight
        return GuardStatus(
            record.state(now, self.policy),
            record.failures,
            in_flight,
            self.max_concurrency,
            record.last_error,
            paused_seconds=max(0.0, (record.paused_until or now) - now),
            shared=shared,
        )

    def admit(self, service: str) -> str | None:
        """Let a call through, or raise if the engine must be skipped.

        Returns the caller's token when this call is the half-open probe (its outcome must
        then be `record`ed with it, or the probe `free`d: prefer `admission`, which does that
        in `finally`), None for an ordinary call.

        Raises:
            ServiceUnavailableError: the breaker is open, a probe is out, or the engine asked
                to wait (429); the chain fails over at once.
        """
        caller = f"{self._caller_prefix}{next(self._calls)}"

        def claim(record: GuardRecord, now: float) -> GuardRecord | None:
            if record.refusal(now, self.policy) is not None:
                return None
            return record.admitted(now, self.policy, caller)

        _, record, now = self._apply(claim)
        if record.probe == caller:
            return caller
        reason = record.refusal(now, self.policy)
        if reason is None:
            return None
        raise ServiceUnavailableError(reason, service=service, retryable=False)

    @contextmanager
    def admission(self, service: str) -> Iterator[str | None]:
        """`admit` for the length of a call; yields the probe token for `record`. A probe that
        ends without an outcome (cancelled, interrupted) is freed on the way out, so the next
        call probes instead.

        Raises:
            ServiceUnavailableError: the engine must be skipped; the chain fails over at once.
        """
        probe = self.admit(service)
        try:
            yield probe
        finally:
            if probe is not None:
                self.free(probe)

    def free(self, probe: str) -> None:
        """Give the probe back without an outcome: the breaker is half-open again."""
        self._apply(lambda record, now: record.freed(probe))

    def record(self, error: BaseException | None, probe: str | None = None) -> None:
        """Record a call's outcome: None for success, else the error it raised.

        Args:
            error: what the call raised, None when it succeeded.
            probe: the token `admit` returned, when the call was the half-open probe.
        """
        caller = probe or ""
        before, after, _ = self._apply(
            lambda record, now: record.after(error, now, self.policy, caller)
        )
        if before.opened_at is not None and after.opened_at is None:
            _log.info("%s: breaker closed, the engine answers again", self.name)
        elif before.opened_at is None and after.opened_at is not None:
            _log.warning(
                "%s: breaker open after %d failures (last: %s); retried in %.0f s",
                self.name, after.failures, error, self.policy.cooldown,
            )  # fmt: skip

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
