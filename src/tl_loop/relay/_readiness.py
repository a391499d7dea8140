"""`/readyz` that does not lie: the queue file is sound, and an engine really translates.

Taking the write lock proves little: a queue file with a page of garbage still takes it while
every insert fails with "database disk image is malformed". So the file is checked with
SQLite's `quick_check` (on its own read-only connection), at most every `probe_seconds`.

An engine is ready when it is available, its breaker is not open, and it has translated a short
probe sentence. A probe that succeeded is not repeated while the engine's guard counts no
failure since (live traffic vouches for it), so a paid engine is not billed for health checks;
an engine whose calls fail is probed again, at most every `probe_seconds`.
"""

from __future__ import annotations

import contextlib
import sqlite3
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from tl_loop.engines._base import Engine
from tl_loop.engines._guard import BreakerState, EngineGuard

__all__ = ["Readiness"]

_PROBE_TEXT = "Thank you for your patience."
_PROBE_WAIT = 5.0  # seconds an engine may take to answer the probe


class Readiness:
    """The slow readiness checks, cached for `probe_seconds`.

    Args:
        queue_path: the SQLite queue file (other queues are not checked here).
        engines: the loop's engines.
        guard: each engine's guard; an open breaker means not translating now.
        probe_seconds: how long a result is trusted; 0 checks on every call.
        clock: monotonic seconds (tests).
    """

    def __init__(
        self,
        *,
        queue_path: str | Path,
        engines: Sequence[Engine],
        guard: Callable[[Engine], EngineGuard],
        probe_seconds: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._queue_path = queue_path
        self._engines = list(engines)
        self._guard = guard
        self._probe_seconds = probe_seconds
        self._clock = clock
        self._lock = threading.Lock()
        self._checked_at: float | None = None
        self._problems: dict[str, str] = {}
        self._proven: set[int] = set()  # engines whose probe succeeded (by id)

    def problems(self) -> dict[str, str]:
        """What is not ready (empty when ready), from a check at most `probe_seconds` old."""
        with self._lock:
            now = self._clock()
            if self._checked_at is None or now - self._checked_at >= self._probe_seconds:
                self._problems = {**self._queue_problems(), **self._engine_problems()}
                self._checked_at = now
            return dict(self._problems)

    def invalidate(self) -> None:
        """Check again on the next call (a webhook just saw the queue fail)."""
        with self._lock:
            self._checked_at = None

    def _queue_problems(self) -> dict[str, str]:
        path = self._queue_path
        if not isinstance(path, Path) and (str(path) == ":memory:" or "://" in str(path)):
            return {}
        try:
            uri = f"file:{Path(path).resolve()}?mode=ro"
            with contextlib.closing(sqlite3.connect(uri, uri=True, timeout=5)) as db:
                rows = db.execute("PRAGMA quick_check(1)").fetchall()
        except sqlite3.Error as error:
            return {"queue": f"the queue file {path} is unusable: {error}"}
        if rows != [("ok",)]:
            detail = " ".join(str(rows[0][0]).split())[:200] if rows else "no answer"
            return {"queue": f"the queue file {path} is damaged: {detail}"}
        return {}

    def _engine_problems(self) -> dict[str, str]:
        reasons = []
        for engine in self._engines:
            reason = self._probe(engine)
            if reason is None:
                return {}
            reasons.append(f"{engine.name}: {reason}")
        return {"engines": "no engine can translate (" + "; ".join(reasons) + ")"}

    def _probe(self, engine: Engine) -> str | None:
        """Why `engine` cannot translate now, or None when it just did."""
        if not engine.is_available():
            return "not available here"
        status = self._guard(engine).status()
        if status.state is BreakerState.OPEN:
            return "its circuit breaker is open after repeated failures"
        if status.paused_seconds > 0:
            return f"it asked us to wait (HTTP 429): paused {status.paused_seconds:.0f} s more"
        if id(engine) in self._proven and status.consecutive_failures == 0:
            return None  # translated before, and nothing has failed since
        reason = self._translate_probe(engine)
        if reason is None:
            self._proven.add(id(engine))
        else:
            self._proven.discard(id(engine))
        return reason

    def _translate_probe(self, engine: Engine) -> str | None:
        pairs = sorted(engine.pairs())
        pair = ("en", "es") if engine.supports("en", "es") else (pairs[0] if pairs else None)
        if pair is None:
            return "no language pairs"
        outcome: list[str | None] = []

        def translate() -> None:
            try:
                engine.translate_batch([_PROBE_TEXT], source=pair[0], target=pair[1])
                outcome.append(None)
            except Exception as error:  # any failure means this engine cannot translate now
                outcome.append(" ".join(str(error).split())[:200] or type(error).__name__)

        thread = threading.Thread(target=translate, name="tl-loop-readiness", daemon=True)
        thread.start()
        thread.join(_PROBE_WAIT)
        if not outcome:
            return f"no answer within {_PROBE_WAIT:g} s"
        return outcome[0]
