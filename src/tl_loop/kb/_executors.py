"""Where a job's work runs: in this process, in a local process pool, or on Ray.

There are two kinds of task, both plain functions of a `LoopSpec` and a picklable task:
`translate_segments` sends a batch of unique segments to the engines, and `assemble_article`
runs an article's fields through the loop's own `translate_flow` (protect, restore, checks,
decision) answering engine calls from the segments already translated. Each worker builds its
loop once from the spec (`warm_loop` is cached per process), so engines stay warm; the main
process only plans, stores and writes files. Every executor returns the same results.
"""

from __future__ import annotations

import functools
import importlib
import multiprocessing
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Protocol, TypeVar

from tl_loop._cache import TranslationCache
from tl_loop._config import TlLoopConfig
from tl_loop._errors import (
    ConfigurationError,
    MissingDependencyError,
    ServiceError,
    ServiceUnavailableError,
    UnsupportedLanguageError,
)
from tl_loop._loop import Loop
from tl_loop._models import Decision, Message, ReviewFlag, Translation
from tl_loop._pipeline import Parts, translate_flow
from tl_loop._policy import select_policy
from tl_loop.engines._base import SegmentResult
from tl_loop.engines._chain import ChainResult
from tl_loop.kb._articles import Field
from tl_loop.kb._job_files import pack, unpack
from tl_loop.kb._segments import denormalize, normalize, translate_options

__all__ = [
    "AssembleJob",
    "AssembleResult",
    "BatchResult",
    "Executor",
    "InlineExecutor",
    "LoopSpec",
    "ProcessExecutor",
    "RayExecutor",
    "SegmentBatch",
    "assemble_article",
    "make_executor",
    "translate_segments",
    "warm_loop",
]

T = TypeVar("T")
R = TypeVar("R")

_FAILED_CODES = frozenset({"engine_failed", "unsupported_language"})


@dataclass(frozen=True, slots=True)
class LoopSpec:
    """How a worker builds its loop: from a configuration, or a `module:function` factory.

    Hashable and picklable, so every worker process (or Ray actor) builds the same loop once.

    Args:
        config_json: a `TlLoopConfig` as JSON (`config.model_dump_json()`).
        factory: an importable `module:function` returning a `Loop` (tests, custom setups).
    """

    config_json: str | None = None
    factory: str | None = None
    files: tuple[tuple[str, str, bytes], ...] = ()  # carried input files (see `portable`)

    @classmethod
    def from_config(cls, config: TlLoopConfig) -> LoopSpec:
        """The spec of a loop built from `config`."""
        return cls(config_json=config.model_dump_json())

    def portable(self) -> LoopSpec:
        """This spec for workers on other machines: paths resolved here, input files
        (glossary, hint files) carried inside it.

        Raises:
            ConfigurationError: an input file the configuration names does not exist.
        """
        if self.config_json is None or self.files:
            return self
        try:
            config_json, files = pack(self.config_json)
        except FileNotFoundError as error:
            raise ConfigurationError(f"cannot send the job to the cluster: {error}") from None
        return LoopSpec(config_json=config_json, factory=self.factory, files=files)

    def build(self) -> Loop:
        """Build the loop (engines, glossary, policy).

        Raises:
            ConfigurationError: the spec is empty or its factory cannot be imported.
        """
        if self.factory is not None:
            module_name, _, name = self.factory.partition(":")
            try:
                factory: Callable[[], Loop] = getattr(importlib.import_module(module_name), name)
            except (ImportError, AttributeError) as error:
                raise ConfigurationError(
                    f"loop factory {self.factory!r} cannot be imported: {error}; "
                    "give it as 'package.module:function'"
                ) from error
            return factory()
        if self.config_json is not None:
            return Loop.from_config(unpack(self.config_json, self.files))
        raise ConfigurationError("a LoopSpec needs a configuration or a factory")


@functools.cache
def warm_loop(spec: LoopSpec) -> Loop:
    """The loop of `spec`, built once per process and kept warm for every later task."""
    return spec.build()


# -- translating unique segments -------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SegmentBatch:
    """Unique normalised segments of one pair, to send to the engines."""

    source: str
    target: str
    keys: tuple[str, ...]
    texts: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class BatchResult:
    """A batch's translations, or the error that stopped it."""

    batch: SegmentBatch
    results: tuple[SegmentResult, ...] = ()
    engine: str = ""
    error: str | None = None


def translate_segments(spec: LoopSpec, batch: SegmentBatch) -> BatchResult:
    """Translate one batch through the worker's engine chain (failover, pivots, limits)."""
    parts = warm_loop(spec).parts
    try:
        answer = parts.chain.translate_batch(
            batch.texts,
            source=batch.source,
            target=batch.target,
            options=translate_options(parts, batch.source, batch.target),
        )
    except (ServiceError, UnsupportedLanguageError) as error:
        return BatchResult(batch, error=str(error))
    return BatchResult(batch, tuple(answer.results), answer.route.engine_name)


# -- assembling articles ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class AssembleJob:
    """An article × locale to put together from its known segment translations.

    `known` maps normalised segments to their translations; a segment missing from it is
    translated on the spot when `allow_engine`, else the field fails with `engine_failed`.
    """

    article: str
    source: str
    target: str
    fields: tuple[Field, ...]
    known: dict[str, SegmentResult]
    allow_engine: bool = True


@dataclass(frozen=True, slots=True)
class AssembleResult:
    """The translated fields of an article × locale, with the checks' flags and decision.

    `engines` names, per field, the engine that made its draft (None when none did).
    """

    article: str
    target: str
    translated: dict[str, str]
    flags: tuple[tuple[str, ReviewFlag], ...]
    decision: Decision
    failed: bool
    fresh: dict[str, SegmentResult] = field(default_factory=dict)
    engines: dict[str, str | None] = field(default_factory=dict)


def assemble_article(spec: LoopSpec, job: AssembleJob) -> AssembleResult:
    """Run each field through the loop's `translate_flow`, answering from known segments.

    The pipeline protects, restores and checks exactly as for a live message, so an article
    gets the same review flags a reply would; engine calls it yields are answered from
    `job.known` (and the engines only for a segment the plan did not see).
    """
    # A cache of its own: the loop's cache may hold a machine translation that the memory
    # has since overruled, and `known` already holds everything reusable.
    parts = replace(warm_loop(spec).parts, cache=TranslationCache(maxsize=1))
    known = dict(job.known)
    fresh: dict[str, SegmentResult] = {}
    translated: dict[str, str] = {}
    engines: dict[str, str | None] = {}
    flags: list[tuple[str, ReviewFlag]] = []
    failed = False
    for item in job.fields:
        if not item.text.strip():
            continue
        message = Message(
            text=item.text, content_type=item.content_type, language=job.source, channel="kb"
        )
        flow = translate_flow(
            parts, message, source=job.source, target=job.target, direction="outbound"
        )
        translation = _drive(flow, parts, known, fresh, allow_engine=job.allow_engine)
        translated[item.name] = translation.translated
        engines[item.name] = translation.engine
        flags += [(item.name, flag) for flag in translation.flags]
        failed = failed or any(flag.code in _FAILED_CODES for flag in translation.flags)
    policy = select_policy(parts.policy, parts.policy_rules, channel="kb", language=job.target)
    decision = policy.decide([flag for _, flag in flags], direction="outbound")
    return AssembleResult(
        job.article, job.target, translated, tuple(flags), decision, failed, fresh, engines
    )


def _drive(
    flow: Any,
    parts: Parts,
    known: dict[str, SegmentResult],
    fresh: dict[str, SegmentResult],
    *,
    allow_engine: bool,
) -> Translation:
    try:
        call = next(flow)
        while True:
            try:
                answer = _answer(parts, call, known, fresh, allow_engine=allow_engine)
            except (ServiceError, UnsupportedLanguageError) as error:
                call = flow.throw(error)
            else:
                call = flow.send(answer)
    except StopIteration as stop:
        translation: Translation = stop.value
        return translation


def _answer(
    parts: Parts,
    call: Any,
    known: dict[str, SegmentResult],
    fresh: dict[str, SegmentResult],
    *,
    allow_engine: bool,
) -> ChainResult:
    normalized = [normalize(segment) for segment in call.segments]
    missing = list(dict.fromkeys(text for text, _ in normalized if text not in known))
    routes = parts.chain.routes(call.source, call.target)
    if not routes:
        raise UnsupportedLanguageError(
            call.source, call.target, available=sorted(parts.chain.pairs())
        )
    route = routes[0]
    failures: tuple[ServiceError, ...] = ()
    if missing:
        if not allow_engine:
            raise ServiceUnavailableError(
                "the engines failed on this article's segments earlier in the run", service="kb"
            )
        answer = parts.chain.translate_batch(
            missing, source=call.source, target=call.target, options=call.options
        )
        route, failures = answer.route, answer.failures
        for text, result in zip(missing, answer.results, strict=True):
            known[text] = fresh[text] = result
    results = [
        replace(known[text], text=denormalize(known[text].text, placeholders))
        for text, placeholders in normalized
    ]
    return ChainResult(results, route, failures)


# -- executors -------------------------------------------------------------------------------


class Executor(Protocol):
    """Runs tasks of one kind and yields their results as they complete (any order)."""

    def run(self, fn: Callable[[LoopSpec, T], R], tasks: Sequence[T]) -> Iterator[R]:
        """Run `fn(spec, task)` for every task; yield each result as it is ready."""
        ...

    def close(self) -> None:
        """Stop the workers."""
        ...


class InlineExecutor:
    """Runs every task in this process, one after the other, on one warm loop."""

    def __init__(self, spec: LoopSpec) -> None:
        self.spec = spec

    def run(self, fn: Callable[[LoopSpec, T], R], tasks: Sequence[T]) -> Iterator[R]:
        """Run the tasks in order."""
        for task in tasks:
            yield fn(self.spec, task)

    def close(self) -> None:
        """Nothing to stop."""


class ProcessExecutor:
    """A local process pool; each worker process builds its loop once and keeps it warm.

    Processes are spawned (not forked), so no engine thread or pipe leaks into a worker.

    Args:
        spec: how each worker builds its loop.
        workers: how many processes.
        window: most tasks queued per worker at once, so results stream back early.
    """

    def __init__(self, spec: LoopSpec, *, workers: int, window: int = 4) -> None:
        self.spec = spec
        self.workers = workers
        self.window = window
        self._pool = ProcessPoolExecutor(
            max_workers=workers, mp_context=multiprocessing.get_context("spawn")
        )

    def run(self, fn: Callable[[LoopSpec, T], R], tasks: Sequence[T]) -> Iterator[R]:
        """Run the tasks across the pool; yield results as they complete."""
        pending: set[Future[R]] = set()
        queue = iter(tasks)
        limit = self.workers * self.window
        try:
            while True:
                for task in queue:
                    pending.add(self._pool.submit(fn, self.spec, task))
                    if len(pending) >= limit:
                        break
                if not pending:
                    return
                done, pending = wait(pending, return_when=FIRST_COMPLETED)
                for future in done:
                    yield future.result()
        finally:
            for future in pending:
                future.cancel()

    def close(self) -> None:
        """Stop the worker processes."""
        self._pool.shutdown(wait=True, cancel_futures=True)


class _RayWorker:
    """A Ray actor holding one warm loop."""

    def __init__(self, spec: LoopSpec) -> None:
        self.spec = spec
        warm_loop(spec)

    def call(self, fn: Callable[[LoopSpec, Any], Any], task: Any) -> Any:
        return fn(self.spec, task)


class RayExecutor:
    """Ray actors, each holding a warm loop; on a cluster (`address`) or a local instance.

    On a cluster the job carries what the workers need: tl_loop's own code (`runtime_env`
    `py_modules`, for nodes that do not have it) and the loop's input files with every path
    resolved on this machine (`LoopSpec.portable`). Results stream back here, where the job
    alone writes its state and files. An actor lost with its node is started again elsewhere
    and its unfinished calls are sent again, so a killed worker node loses nothing.

    Args:
        spec: how each actor builds its loop.
        workers: how many actors (spread over the nodes).
        address: a Ray cluster address; None starts (or joins, via `RAY_ADDRESS`) a local one.

    Raises:
        MissingDependencyError: Ray is not installed.
        ConfigurationError: an input file of the loop's configuration does not exist.
    """

    def __init__(self, spec: LoopSpec, *, workers: int, address: str | None = None) -> None:
        try:
            self._ray = importlib.import_module("ray")
            actor_pool = importlib.import_module("ray.util").ActorPool
        except ImportError as error:
            raise MissingDependencyError(
                "the Ray executor needs Ray", install="pip install 'tl-loop[ray]'"
            ) from error
        self.spec = spec.portable()
        self._started = not self._ray.is_initialized()
        if self._started:
            code = str(Path(importlib.import_module("tl_loop").__file__ or "").parent)
            self._ray.init(
                address=address,
                num_cpus=None if address else workers,
                runtime_env={"py_modules": [code]} if address else None,
                include_dashboard=False,
                log_to_driver=False,
                configure_logging=False,
            )
        worker = self._ray.remote(
            num_cpus=1, max_restarts=-1, max_task_retries=-1, scheduling_strategy="SPREAD"
        )(_RayWorker)
        self._actors = [worker.remote(self.spec) for _ in range(workers)]
        self._pool = actor_pool(self._actors)

    def run(self, fn: Callable[[LoopSpec, T], R], tasks: Sequence[T]) -> Iterator[R]:
        """Run the tasks across the actors; yield results as they complete."""
        results: Iterator[R] = self._pool.map_unordered(
            lambda actor, task: actor.call.remote(fn, task), list(tasks)
        )
        yield from results

    def close(self) -> None:
        """Stop the actors, and the Ray instance if this executor started it."""
        for actor in self._actors:
            self._ray.kill(actor)
        self._actors = []
        if self._started:  # a local instance this executor started goes with it
            self._ray.shutdown()


def make_executor(
    spec: LoopSpec, *, kind: str = "local", workers: int = 1, ray_address: str | None = None
) -> Executor:
    """The executor for `kind` (`local` or `ray`) with `workers` workers (0: this process).

    Raises:
        ConfigurationError: an unknown kind or a negative worker count.
        MissingDependencyError: `ray` without Ray installed.
    """
    if workers < 0:
        raise ConfigurationError(f"workers must be 0 or more, not {workers}")
    if kind == "ray":
        return RayExecutor(spec, workers=max(workers, 1), address=ray_address)
    if kind != "local":
        raise ConfigurationError(f"unknown executor {kind!r}; use 'local' or 'ray'")
    if workers == 0:
        return InlineExecutor(spec)
    return ProcessExecutor(spec, workers=workers)
