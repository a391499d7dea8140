"""Engines in order of preference: failover to the next, pivot through a third language.

Routing rules reorder the engines per language pair; each engine has a guard (circuit breaker
and concurrency limit, `_guard.py`) so a sick engine is skipped quickly instead of waited on.

A route is one or more hops, each an engine and a pair. Direct routes come first, in the order
the engines were given; pivot routes (source → pivot → target) follow, so a missing pair such as
pt→en still translates through pt→es→en. A route that fails with a `ServiceError` hands over to
the next one, unless the error says another engine would fail the same way (bad input); the
caller learns which route served and what failed before it.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace

from tl_loop._errors import (
    AllEnginesFailedError,
    ConfigurationError,
    ServiceError,
    ServiceResponseError,
    UnsupportedLanguageError,
)
from tl_loop.engines._base import NO_OPTIONS, Engine, SegmentResult, TranslateOptions
from tl_loop.engines._coverage import pair_hint
from tl_loop.engines._guard import BreakerPolicy, EngineGuard
from tl_loop.engines._guard_ledger import FallbackLedger, GuardLedger
from tl_loop.engines._routing import RoutingRule, order_engines

__all__ = ["ChainResult", "EngineChain", "Hop", "Route"]

_log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Hop:
    """One engine call on one pair."""

    engine: Engine
    source: str
    target: str


@dataclass(frozen=True, slots=True)
class Route:
    """One way to translate a pair: one hop, or two through a pivot language."""

    hops: tuple[Hop, ...]

    @property
    def engine_name(self) -> str:
        """The engines' names, joined by `+` for a pivot route."""
        return "+".join(hop.engine.name for hop in self.hops)

    @property
    def engine_version(self) -> str:
        """The engines' versions, joined like the names."""
        return "+".join(hop.engine.version for hop in self.hops)

    @property
    def languages(self) -> tuple[str, ...]:
        """The languages the text passes through, source first."""
        return (self.hops[0].source, *(hop.target for hop in self.hops))

    @property
    def identity(self) -> str:
        """Everything about the route that changes its output, for cache keys."""
        return " > ".join(
            f"{hop.engine.name}@{hop.engine.version}:{hop.source}-{hop.target}" for hop in self.hops
        )

    @property
    def trusted(self) -> bool:
        """Whether every engine on the route is inside the trust boundary."""
        return all(hop.engine.capabilities.trusted for hop in self.hops)

    @property
    def glossary(self) -> bool:
        """Whether every engine on the route applies glossaries natively."""
        return all(hop.engine.capabilities.glossary for hop in self.hops)

    @property
    def formality(self) -> bool:
        """Whether every engine on the route honours a formality register."""
        return all(hop.engine.capabilities.formality for hop in self.hops)


@dataclass(frozen=True, slots=True)
class ChainResult:
    """Translated segments, the route that produced them, and the failures before it."""

    results: list[SegmentResult]
    route: Route
    failures: tuple[ServiceError, ...] = ()


def _batches(segments: Sequence[str], engine: Engine) -> list[list[str]]:
    """Split segments by the engine's own item and character limits."""
    limits = engine.capabilities
    batches: list[list[str]] = []
    current: list[str] = []
    size = 0
    for segment in segments:
        if current and (len(current) >= limits.max_items or size + len(segment) > limits.max_chars):
            batches.append(current)
            current, size = [], 0
        current.append(segment)
        size += len(segment)
    if current:
        batches.append(current)
    return batches


def _merge(first: SegmentResult, second: SegmentResult) -> SegmentResult:
    """Combine the signals of a pivot's two hops into one result."""
    scores = [s for s in (first.score, second.score) if s is not None]
    return SegmentResult(
        text=second.text,
        unknown_words=first.unknown_words + second.unknown_words,
        score=min(scores) if scores else None,
        billed_characters=(first.billed_characters or 0) + (second.billed_characters or 0),
    )


class EngineChain:
    """Engines tried in order, with pivot routes when no engine has the pair directly.

    Args:
        engines: engines in order of preference.
        pivots: languages to pivot through, in order of preference.
        rules: routing rules that reorder (or restrict) engines per language pair.
        breaker: when an engine's circuit opens and for how long.
        max_concurrency: most calls in flight per engine: one number for all, or by engine name.
        ledger: where the breakers' records live: shared by every replica (a Redis or
            PostgreSQL ledger from `tl_loop.stores`), or None for this process alone. Like
            the engines, the chain closes it in `close()`.

    Safe to share between threads when its engines are.
    """

    def __init__(
        self,
        engines: Sequence[Engine],
        *,
        pivots: Sequence[str] = ("en", "es"),
        rules: Sequence[RoutingRule] = (),
        breaker: BreakerPolicy | None = None,
        max_concurrency: int | Mapping[str, int] | None = None,
        ledger: GuardLedger | None = None,
    ) -> None:
        if not engines:
            raise ConfigurationError("an engine chain needs at least one engine")
        self.engines = tuple(engines)
        self.pivots = tuple(pivots)
        self.rules = tuple(rules)
        names = {engine.name for engine in self.engines}
        unknown = sorted({name for rule in self.rules for name in rule.engines} - names)
        if unknown:
            raise ConfigurationError(
                f"routing rules name engines not in the chain: {', '.join(unknown)}; "
                f"the chain has: {', '.join(sorted(names))}"
            )
        # One fallback for all the guards: when the shared ledger stops answering, they step
        # aside together, after one timeout and one warning.
        self._ledger = FallbackLedger(ledger) if ledger is not None else None
        self._guards = {
            id(engine): EngineGuard(
                name=engine.name,
                policy=breaker,
                max_concurrency=(
                    max_concurrency.get(engine.name)
                    if isinstance(max_concurrency, Mapping)
                    else max_concurrency
                ),
                ledger=self._ledger,
            )
            for engine in self.engines
        }

    def guard(self, engine: Engine) -> EngineGuard:
        """The breaker and concurrency limit of one of the chain's engines."""
        return self._guards[id(engine)]

    @property
    def trusted(self) -> bool:
        """Whether every engine is inside the trust boundary (no PII masking needed)."""
        return all(engine.capabilities.trusted for engine in self.engines)

    def pairs(self) -> frozenset[tuple[str, str]]:
        """Every pair some engine translates directly."""
        return frozenset().union(*(engine.pairs() for engine in self.engines))

    def routes(self, source: str, target: str) -> list[Route]:
        """Every route for the pair, best first: direct routes, then pivots.

        Routing rules order the engines; an engine whose circuit is open (or that asked us to
        wait) goes last, so a healthy one is tried first while it recovers.
        """
        engines = order_engines(self.engines, self.rules, source, target)
        engines.sort(key=lambda engine: self.guard(engine).skipping)
        direct = [
            Route((Hop(engine, source, target),))
            for engine in engines
            if engine.supports(source, target)
        ]
        pivoted = [
            Route((Hop(first, source, pivot), Hop(second, pivot, target)))
            for pivot in self.pivots
            if pivot not in (source, target)
            for first in engines
            if first.supports(source, pivot)
            for second in engines
            if second.supports(pivot, target)
        ]
        return direct + pivoted

    def supports(self, source: str, target: str) -> bool:
        """Whether some route, direct or pivot, exists for the pair."""
        return bool(self.routes(source, target))

    def unsupported(self, source: str, target: str) -> UnsupportedLanguageError:
        """The error for a pair no route serves, naming what would serve it here."""
        withheld = [
            reason for engine in self.engines if (reason := engine.withheld(source, target))
        ]
        return UnsupportedLanguageError(
            source,
            target,
            available=sorted(self.pairs()),
            hint=" ".join(
                [
                    *(f"{reason}." for reason in withheld),
                    pair_hint(source, target, [engine.name for engine in self.engines]),
                ]
            ),
        )

    def _plan(self, source: str, target: str) -> list[Route]:
        routes = self.routes(source, target)
        if not routes:
            raise self.unsupported(source, target)
        return routes

    def translate_batch(
        self,
        segments: Sequence[str],
        *,
        source: str,
        target: str,
        options: TranslateOptions = NO_OPTIONS,
    ) -> ChainResult:
        """Translate on the first route that works.

        Raises:
            UnsupportedLanguageError: no route exists for the pair.
            AllEnginesFailedError: every route failed; `errors` holds why.
            ServiceError: an engine refused the input itself (`failover` false).
        """
        failures: list[ServiceError] = []
        for route in self._plan(source, target):
            try:
                results = self._run_route(route, segments, options)
            except ServiceError as error:
                if not error.failover:
                    raise
                _log.warning("%s failed (%s); trying the next route", route.engine_name, error)
                failures.append(error)
                continue
            return ChainResult(results, route, tuple(failures))
        raise AllEnginesFailedError(failures)

    async def atranslate_batch(
        self,
        segments: Sequence[str],
        *,
        source: str,
        target: str,
        options: TranslateOptions = NO_OPTIONS,
    ) -> ChainResult:
        """Async `translate_batch`: the same routes, engines called without blocking."""
        failures: list[ServiceError] = []
        for route in self._plan(source, target):
            try:
                results = await self._arun_route(route, segments, options)
            except ServiceError as error:
                if not error.failover:
                    raise
                _log.warning("%s failed (%s); trying the next route", route.engine_name, error)
                failures.append(error)
                continue
            return ChainResult(results, route, tuple(failures))
        raise AllEnginesFailedError(failures)

    def _run_route(
        self, route: Route, segments: Sequence[str], options: TranslateOptions
    ) -> list[SegmentResult]:
        results: list[SegmentResult] | None = None
        texts = list(segments)
        for hop in route.hops:
            guard = self.guard(hop.engine)
            hop_results: list[SegmentResult] = []
            with (
                guard.admission(hop.engine.name) as probe,
                guard.slot(),
                _recorded(guard, probe, hop.engine.name),
            ):
                for batch in _batches(texts, hop.engine):
                    hop_results += hop.engine.translate_batch(
                        batch, source=hop.source, target=hop.target, options=_for(hop, options)
                    )
            results = _combine(results, hop_results, hop, len(texts))
            texts = [result.text for result in hop_results]
        assert results is not None  # a route has at least one hop
        return results

    async def _arun_route(
        self, route: Route, segments: Sequence[str], options: TranslateOptions
    ) -> list[SegmentResult]:
        results: list[SegmentResult] | None = None
        texts = list(segments)
        for hop in route.hops:
            guard = self.guard(hop.engine)
            hop_results: list[SegmentResult] = []
            with guard.admission(hop.engine.name) as probe:
                async with guard.aslot():
                    with _recorded(guard, probe, hop.engine.name):
                        for batch in _batches(texts, hop.engine):
                            hop_results += await hop.engine.atranslate_batch(
                                batch,
                                source=hop.source,
                                target=hop.target,
                                options=_for(hop, options),
                            )
            results = _combine(results, hop_results, hop, len(texts))
            texts = [result.text for result in hop_results]
        assert results is not None  # a route has at least one hop
        return results

    def close(self) -> None:
        """Close every engine, and the shared breaker ledger."""
        for engine in self.engines:
            engine.close()
        if self._ledger is not None:
            self._ledger.close()

    async def aclose(self) -> None:
        """Close every engine, with the connections opened for the running event loop, and
        the shared breaker ledger."""
        for engine in self.engines:
            await engine.aclose()
        if self._ledger is not None:
            self._ledger.close()


@contextmanager
def _recorded(guard: EngineGuard, probe: str | None, service: str) -> Iterator[None]:
    """Tell the breaker how a call went; an engine's unexpected crash becomes a ServiceError."""
    try:
        yield
    except ServiceError as error:
        guard.record(error, probe)
        raise
    except Exception as error:
        # A bug or odd failure inside one engine must not lose the customer's message:
        # treat it like an outage of that engine, so the chain fails over.
        failure = ServiceError(f"unexpected {type(error).__name__}: {error}", service=service)
        guard.record(failure, probe)
        raise failure from error
    guard.record(None, probe)


def _for(hop: Hop, options: TranslateOptions) -> TranslateOptions:
    """The options one hop gets: a glossary only to an engine that applies it natively."""
    if options.glossary is not None and not hop.engine.capabilities.glossary:
        return replace(options, glossary=None)
    return options


def _combine(
    previous: list[SegmentResult] | None, current: list[SegmentResult], hop: Hop, sent: int
) -> list[SegmentResult]:
    if len(current) != sent:
        raise ServiceResponseError(
            f"returned {len(current)} segments for the {sent} sent", service=hop.engine.name
        )
    if previous is None:
        return current
    return [_merge(first, second) for first, second in zip(previous, current, strict=True)]
