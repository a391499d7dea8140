"""What is known of an engine's health, the rules that change it, and where it is kept.

A `GuardRecord` is one engine's breaker (consecutive failures, when it opened, the half-open
probe that is out) and its rate-limit pause (an engine that answered 429 with a wait is left
alone until then). The rules are methods that return a new record, or None when nothing
changes; they are the only copy of the breaker's logic.

A `GuardLedger` keeps the records: `InMemoryGuardLedger` for one process, and in `tl_loop.stores`
Redis and PostgreSQL ledgers that every relay replica shares, so one replica's 429 or outage
is every replica's. A ledger only reads and compare-and-sets whole records; the guard applies
the rules and tries again when another replica wrote in between.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from enum import StrEnum
from typing import Any, Protocol

from tl_loop._errors import RateLimitError, ServiceError

_log = logging.getLogger("tl_loop.engines._guard")

__all__ = [
    "BreakerPolicy",
    "BreakerState",
    "FallbackLedger",
    "GuardLedger",
    "GuardRecord",
    "InMemoryGuardLedger",
]


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
        cooldown: seconds an open breaker waits before letting a probe through; also how long
            a probe may stay out before another caller (or replica) may probe instead.
    """

    failure_threshold: int = 5
    cooldown: float = 30.0


@dataclass(frozen=True, slots=True)
class GuardRecord:
    """One engine's breaker and rate-limit pause, in the ledger's clock (seconds).

    Attributes:
        failures: consecutive failures that say something about the engine's health.
        opened_at: when the breaker last opened (or failed again while open); None = closed.
        probe: who holds the half-open probe, None when nobody does.
        probe_until: when that probe's claim lapses (its holder may have died).
        paused_until: no call before this time: the engine asked to wait (HTTP 429).
        last_error: the last failure, for the message of a skipped call.
    """

    failures: int = 0
    opened_at: float | None = None
    probe: str | None = None
    probe_until: float | None = None
    paused_until: float | None = None
    last_error: str | None = None

    def state(self, now: float, policy: BreakerPolicy) -> BreakerState:
        """The breaker's state at `now`."""
        if self.opened_at is None:
            return BreakerState.CLOSED
        if now - self.opened_at >= policy.cooldown:
            return BreakerState.HALF_OPEN
        return BreakerState.OPEN

    def refusal(self, now: float, policy: BreakerPolicy) -> str | None:
        """Why a call at `now` must skip the engine, or None when it may go."""
        if self.paused_until is not None and now < self.paused_until:
            return (
                f"rate limited (last: {self.last_error}); calls resume in "
                f"{self.paused_until - now:.0f} s"
            )
        state = self.state(now, policy)
        if state is BreakerState.OPEN:
            assert self.opened_at is not None  # open means it was opened
            wait = max(0.0, policy.cooldown - (now - self.opened_at))
            return (
                f"circuit open after {policy.failure_threshold} consecutive failures "
                f"(last: {self.last_error}); next probe in {wait:.0f} s"
            )
        if state is BreakerState.HALF_OPEN and self._probing(now):
            return f"circuit half-open and a probe is out (last: {self.last_error})"
        return None

    def _probing(self, now: float) -> bool:
        """A probe is out and its claim has not lapsed (a dead holder's claim lapses)."""
        return self.probe is not None and self.probe_until is not None and now < self.probe_until

    def admitted(self, now: float, policy: BreakerPolicy, caller: str) -> GuardRecord | None:
        """The record once `caller` is let through half-open as the probe; None when the
        breaker is closed (nothing to note). Call only when `refusal` is None."""
        if self.state(now, policy) is BreakerState.CLOSED:
            return None
        return replace(self, probe=caller, probe_until=now + policy.cooldown)

    def after(
        self, error: BaseException | None, now: float, policy: BreakerPolicy, caller: str
    ) -> GuardRecord | None:
        """The record after `caller`'s call ended with `error` (None: it succeeded)."""
        freed = replace(self, probe=None, probe_until=None) if self.probe == caller else self
        if error is None:
            # The engine answers: the breaker closes; a pause it asked for still stands.
            paused = self.paused_until if self.paused_until and self.paused_until > now else None
            kept_error = self.last_error if paused else None
            cleared = GuardRecord(paused_until=paused, last_error=kept_error)
            return None if cleared == self else cleared
        if isinstance(error, ServiceError) and not error.failover:
            # The input was refused: says nothing about the engine's health.
            return None if freed is self else freed
        failures = self.failures + 1
        opened = now if failures >= policy.failure_threshold else self.opened_at
        paused_until = self.paused_until
        if isinstance(error, RateLimitError) and error.retry_after:
            paused_until = max(paused_until or 0.0, now + error.retry_after)
        return replace(
            freed,
            failures=failures,
            opened_at=opened,
            paused_until=paused_until,
            last_error=str(error),
        )

    def freed(self, caller: str) -> GuardRecord | None:
        """The record once `caller`'s probe ended without an outcome (cancelled), or None
        when `caller` does not hold the probe (any more)."""
        if self.probe != caller:
            return None
        return replace(self, probe=None, probe_until=None)

    def as_json(self) -> dict[str, Any]:
        """The record as a JSON object, for the shared ledgers."""
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> GuardRecord:
        """A record written by `as_json` (unknown keys from a newer version are ignored)."""
        return cls(
            failures=int(data.get("failures", 0)),
            opened_at=_number(data.get("opened_at")),
            probe=data.get("probe") if isinstance(data.get("probe"), str) else None,
            probe_until=_number(data.get("probe_until")),
            paused_until=_number(data.get("paused_until")),
            last_error=data.get("last_error") if isinstance(data.get("last_error"), str) else None,
        )


def _number(value: object) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


class GuardLedger(Protocol):
    """Where engines' `GuardRecord`s are kept: one process, or every replica of a deployment.

    Records are read with a version and written back only if nobody wrote in between, so
    replicas never lose each other's failures. Implementations raise `ServiceError` when their
    server cannot be reached; the guard then carries on with its own process-local record.
    """

    def now(self) -> float:
        """The ledger's clock in seconds (wall time for a shared ledger: replicas compare it)."""
        ...

    def read(self, engine: str) -> tuple[GuardRecord, int]:
        """The engine's record and its version (0 and a fresh record when there is none)."""
        ...

    def write(self, engine: str, record: GuardRecord, *, version: int) -> bool:
        """Store `record` if the engine's version is still `version`; False if it moved on."""
        ...

    def close(self) -> None:
        """Release connections (a no-op for the in-memory ledger)."""
        ...


class InMemoryGuardLedger:
    """Records kept in this process: the default, one per engine guard.

    Args:
        clock: seconds, monotonic by default (tests pass a fake clock).
    """

    def __init__(self, *, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._records: dict[str, tuple[GuardRecord, int]] = {}

    def now(self) -> float:
        """This process's monotonic clock (or the one given)."""
        return self._clock()

    def read(self, engine: str) -> tuple[GuardRecord, int]:
        """The engine's record and its version."""
        with self._lock:
            return self._records.get(engine, (GuardRecord(), 0))

    def write(self, engine: str, record: GuardRecord, *, version: int) -> bool:
        """Compare-and-set under the lock."""
        with self._lock:
            if self._records.get(engine, (None, 0))[1] != version:
                return False
            self._records[engine] = (record, version + 1)
            return True

    def close(self) -> None:
        """Nothing to release."""


class FallbackLedger:
    """A shared ledger that steps aside while it does not answer.

    Every engine guard of a chain uses one of these around the shared ledger. When the shared
    ledger raises (Redis or PostgreSQL down), the guards carry on with records of this process
    for `retry_after` seconds, and one warning says so: a dead Redis must cost one timeout a
    while, not one per translation, and must never stop translation.

    Args:
        shared: the ledger every replica shares.
        retry_after: seconds before the shared ledger is asked again after a failure.
    """

    def __init__(self, shared: GuardLedger, *, retry_after: float = 30.0) -> None:
        self.shared = shared
        self.retry_after = retry_after
        self._local = InMemoryGuardLedger()
        self._back_at = 0.0  # monotonic time the shared ledger is asked again

    @property
    def sharing(self) -> bool:
        """Whether the shared ledger is in use (False while it is stepped aside)."""
        return time.monotonic() >= self._back_at

    def _stepped_aside(self, error: ServiceError) -> None:
        self._back_at = time.monotonic() + self.retry_after
        _log.warning(
            "the shared breaker ledger did not answer (%s); each engine's breaker is kept in "
            "this process for %.0f s",
            error, self.retry_after,
        )  # fmt: skip

    def now(self) -> float:
        """The clock of the ledger in use."""
        return (self.shared if self.sharing else self._local).now()

    # This process's records are read with negative versions, so a write always goes to the
    # ledger its record was read from, even when the shared one came back in between.

    def read(self, engine: str) -> tuple[GuardRecord, int]:
        """Read from the shared ledger, or this process's while it is stepped aside."""
        if self.sharing:
            try:
                return self.shared.read(engine)
            except ServiceError as error:
                self._stepped_aside(error)
        record, version = self._local.read(engine)
        return record, -1 - version

    def write(self, engine: str, record: GuardRecord, *, version: int) -> bool:
        """Write where the record was read; False (read again) if it changed or failed."""
        if version < 0:
            return self._local.write(engine, record, version=-1 - version)
        try:
            return self.shared.write(engine, record, version=version)
        except ServiceError as error:
            self._stepped_aside(error)
            return False  # the caller reads again, from this process's records

    def close(self) -> None:
        """Close the shared ledger."""
        self.shared.close()
