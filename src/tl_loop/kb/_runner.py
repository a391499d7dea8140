"""The run: plan every article × locale, translate each unique segment once, assemble, record.

1. **Plan.** Read the articles (a bad one is reported and skipped), protect each field as the
   pipeline does, renumber tokens per segment, and resolve every unique segment: the
   translation memory first (human-approved wins), then translations stored by earlier runs.
   A unit whose source hash and resolved translations match what it was last made from is up
   to date and skipped.
2. **Translate** the unresolved unique segments in batches on the executor; each batch is
   committed to the job store as it returns, so a killed run loses only batches in flight.
3. **Assemble** each remaining unit on the executor through the loop's `translate_flow`
   (restore, checks, decision), write its file atomically, record it. Flagged units are written
   but not publishable, and listed in `review.jsonl`; with a review queue, their flagged fields
   are queued there too (`_review.py`) and publishing waits for the decisions.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from tl_loop._config import TlLoopConfig
from tl_loop._errors import ConfigurationError
from tl_loop._models import Decision, Severity, normalize_tag, same_language
from tl_loop._pipeline import Parts
from tl_loop._policy import flag as review_flag
from tl_loop.engines._base import SegmentResult
from tl_loop.kb._articles import (
    ArticleError,
    SourceArticle,
    load_article,
    render_article,
    scan_folder,
)
from tl_loop.kb._executors import (
    AssembleJob,
    AssembleResult,
    BatchResult,
    Executor,
    LoopSpec,
    SegmentBatch,
    assemble_article,
    make_executor,
    translate_segments,
    warm_loop,
)
from tl_loop.kb._files import write_atomically
from tl_loop.kb._jobs import ArticleRecord, JobStore, SegmentRecord, SegmentRow, Status
from tl_loop.kb._progress import KbSummary, NullProgress, Progress
from tl_loop.kb._review import KbReviewer, job_id
from tl_loop.kb._segments import PairKeys, normalize, protect_field
from tl_loop.review import ReviewQueue
from tl_loop.stores import SQLiteTranslationMemory, TranslationMemory, memory_key

__all__ = ["KbPaths", "translate_folder", "write_review"]


@dataclass(frozen=True, slots=True)
class KbPaths:
    """Where a job keeps its files under the output folder."""

    out: Path

    @property
    def state(self) -> Path:
        """The SQLite job state."""
        return self.out / ".tl-loop-kb" / "job.sqlite3"

    @property
    def memory(self) -> Path:
        """The default translation memory (XLIFF imports land here)."""
        return self.out / ".tl-loop-kb" / "memory.sqlite3"

    @property
    def review(self) -> Path:
        """The report of flagged and failed translations."""
        return self.out / "review.jsonl"

    def output(self, locale: str, article: str) -> Path:
        """The translated file of one article."""
        return self.out / locale / article


@dataclass(slots=True)
class _Unit:
    """One article in one locale, as planned."""

    article: SourceArticle
    source: str
    locale: str
    segments: list[str]  # normalised, in order, repeats included
    keys: dict[str, str]  # normalised → segment key
    codes: dict[str, tuple[tuple[str, str], ...]]  # normalised → (kind, markup) of each ⟦n⟧


@dataclass(slots=True)
class _Resolved:
    result: SegmentResult
    origin: str  # memory or machine


def translate_folder(
    source_dir: str | os.PathLike[str],
    *,
    out_dir: str | os.PathLike[str],
    targets: Sequence[str],
    source: str = "en",
    config: TlLoopConfig | None = None,
    loop_factory: str | None = None,
    keys: Sequence[str] = ("title", "description"),
    workers: int | None = None,
    executor: str = "local",
    ray_address: str | None = None,
    memory: TranslationMemory | None = None,
    progress: Progress | None = None,
    batch_size: int = 32,
    review_queue: ReviewQueue | None = None,
) -> KbSummary:
    """Translate a folder of articles and macros into each target locale, incrementally.

    Outputs go to `out_dir/<locale>/<same relative path>`; job state, the default translation
    memory and `review.jsonl` live in `out_dir` too. Run it again after editing articles and
    only new or changed segments are translated; kill it and run it again and it resumes.

    Args:
        source_dir: the folder of `.html`, `.md`, `.txt` and `.json` (macro list) files.
        out_dir: where translations and job state go.
        targets: target locales, e.g. `["es", "fr"]`.
        source: the language the articles are written in.
        config: engines, glossary and review policy (default: `TlLoopConfig()`).
        loop_factory: instead of `config`, an importable `module:function` returning a `Loop`.
        keys: front-matter keys whose values are translated.
        workers: worker processes (0: this process; default: one per CPU).
        executor: `local` (process pool) or `ray`.
        ray_address: the Ray cluster to join; None starts a local Ray instance.
        memory: the translation memory consulted first (default: `KbPaths(out_dir).memory`).
        progress: where to report progress (default: nowhere; `RichProgress()` for bars).
        batch_size: unique segments per engine task.
        review_queue: where flagged fields wait for a reviewer (one held item per article ×
            locale × field, never queued twice); without it, only `review.jsonl` lists them.

    Returns:
        What the run did, with its segment counts.

    Raises:
        ConfigurationError: bad folder, language tag, executor or loop configuration.
        MissingDependencyError: `executor="ray"` without Ray installed.
    """
    started = time.perf_counter()
    root = Path(source_dir)
    paths = KbPaths(Path(out_dir))
    try:
        source = normalize_tag(source)
        locales = [normalize_tag(target) for target in targets]
    except ValueError as error:
        raise ConfigurationError(str(error)) from error
    if not locales:
        raise ConfigurationError("no target locale given; pass targets such as ['es', 'fr']")
    spec = (
        LoopSpec(factory=loop_factory)
        if loop_factory
        else LoopSpec.from_config(config or TlLoopConfig())
    )
    parts = warm_loop(spec).parts
    # A pair no engine serves is a configuration to fix, not a failure to retry later.
    unserved = [
        locale for locale in locales
        if not same_language(source, locale) and not parts.chain.supports(source, locale)
    ]  # fmt: skip
    if unserved:
        raise ConfigurationError(str(parts.chain.unsupported(source, unserved[0])))
    progress = progress or NullProgress()
    summary = KbSummary(review_file=paths.review)
    owned_memory = memory is None
    with JobStore(paths.state) as store:
        memory = memory if memory is not None else SQLiteTranslationMemory(_mkdir(paths.memory))
        reviewer = None
        if review_queue is not None:
            version = parts.glossary.version if parts.glossary else None
            reviewer = KbReviewer(review_queue, job_id(paths.state.parent), source, version)
        try:
            articles = _load(root, keys, store, summary)
            units = [
                _plan(parts, article, source, locale) for locale in locales for article in articles
            ]
            summary.articles = len(units)
            resolved = _resolve(parts, units, source, memory, store, summary)
            todo = [
                unit
                for unit in units
                if not _up_to_date(unit, resolved, store, paths, queued=reviewer is not None)
            ]
            summary.up_to_date = len(units) - len(todo)
            batches = _batches(todo, resolved, source, batch_size)
            summary.engine_segments = sum(len(batch.texts) for batch in batches)
            _count(todo, resolved, summary)
            progress.start(segments=summary.engine_segments, articles=len(todo))
            pool = make_executor(
                spec, kind=executor, workers=_workers(workers), ray_address=ray_address
            )
            try:
                failed = _translate(pool, batches, resolved, store, progress)
                _assemble(pool, todo, resolved, failed, store, paths, progress, summary, reviewer)
            finally:
                pool.close()
            write_review(store, paths.review)
        finally:
            if owned_memory:
                memory.close()
    summary.seconds = time.perf_counter() - started
    progress.finish(summary)
    return summary


def _mkdir(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    return path


def _workers(workers: int | None) -> int:
    return os.cpu_count() or 1 if workers is None else workers


def _load(
    root: Path, keys: Sequence[str], store: JobStore, summary: KbSummary
) -> list[SourceArticle]:
    articles = []
    for path in scan_folder(root):
        try:
            articles.append(load_article(root, path, keys=keys))
        except ArticleError as error:
            summary.errors[error.path] = error.problem
            store.record_error(error.path, error.problem)
    return articles


def _plan(parts: Parts, article: SourceArticle, source: str, locale: str) -> _Unit:
    pair = PairKeys.for_pair(parts, source=source, target=locale)
    segments: list[str] = []
    codes: dict[str, tuple[tuple[str, str], ...]] = {}
    for field in article.fields:
        if not field.text.strip():
            continue
        document = protect_field(
            parts, field.text, field.content_type, source=source, target=locale
        )
        for segment in document.segments:
            normalized, placeholders = normalize(segment)
            segments.append(normalized)
            tokens = [document.tokens.get(p) for p in placeholders]
            codes.setdefault(
                normalized,
                tuple((t.kind, t.original) if t else ("placeholder", p) for t, p in
                      zip(tokens, placeholders, strict=True)),
            )  # fmt: skip
    keys = {text: pair.key(text) for text in dict.fromkeys(segments)}
    return _Unit(article, source, locale, segments, keys, codes)


def _resolve(
    parts: Parts,
    units: Sequence[_Unit],
    source: str,
    memory: TranslationMemory,
    store: JobStore,
    summary: KbSummary,
) -> dict[str, _Resolved]:
    """Segment key → translation, from the memory (wins) or the job store."""
    glossary_version = parts.glossary.version if parts.glossary else None
    wanted: dict[str, tuple[str, str]] = {}  # key → (normalised text, locale)
    for unit in units:
        for text, key in unit.keys.items():
            wanted[key] = (text, unit.locale)
    keys = list(wanted)
    memory_keys = [
        memory_key(
            source_text=text, source=source, target=locale, glossary_version=glossary_version
        )
        for text, locale in wanted.values()
    ]
    resolved: dict[str, _Resolved] = {}
    for key, entry in zip(keys, memory.get_many(memory_keys), strict=True):
        if entry is not None:
            resolved[key] = _Resolved(SegmentResult(text=entry.target_text), "memory")
    summary.from_memory = len(resolved)
    stored = store.get_segments([key for key in keys if key not in resolved])
    for key, record in stored.items():
        result = SegmentResult(text=record.translation, unknown_words=record.unknown_words)
        resolved[key] = _Resolved(result, "machine")
    summary.from_store = len(stored)
    return resolved


def _fingerprint(unit: _Unit, resolved: dict[str, _Resolved]) -> str | None:
    digest = hashlib.sha256(unit.article.source_hash.encode())
    for text, key in unit.keys.items():
        found = resolved.get(key)
        if found is None:
            return None
        digest.update(json.dumps([text, found.result.text, found.origin]).encode())
    return digest.hexdigest()


def _up_to_date(
    unit: _Unit, resolved: dict[str, _Resolved], store: JobStore, paths: KbPaths, *, queued: bool
) -> bool:
    record = store.article(unit.article.id, unit.locale)
    if record is None or record.status == "failed":
        return False
    if (
        queued
        and record.status == "flagged"
        and not store.review_items(record.article, unit.locale)
    ):
        return False  # flagged before a queue was configured: assemble again to queue it
    if record.source_hash != unit.article.source_hash:
        return False
    if not paths.output(unit.locale, unit.article.id).exists():
        return False
    return _fingerprint(unit, resolved) == record.fingerprint


def _batches(
    units: Sequence[_Unit], resolved: dict[str, _Resolved], source: str, size: int
) -> list[SegmentBatch]:
    missing: dict[str, dict[str, str]] = {}  # locale → key → text
    for unit in units:
        bucket = missing.setdefault(unit.locale, {})
        for text, key in unit.keys.items():
            if key not in resolved:
                bucket[key] = text
    batches = []
    for locale, bucket in missing.items():
        items = list(bucket.items())
        for start in range(0, len(items), size):
            chunk = items[start : start + size]
            batches.append(
                SegmentBatch(source, locale, tuple(k for k, _ in chunk), tuple(t for _, t in chunk))
            )
    return batches


def _count(units: Sequence[_Unit], resolved: dict[str, _Resolved], summary: KbSummary) -> None:
    summary.segments = sum(len(unit.segments) for unit in units)
    summary.unique_segments = len({key for unit in units for key in unit.keys.values()})


def _translate(
    pool: Executor,
    batches: Sequence[SegmentBatch],
    resolved: dict[str, _Resolved],
    store: JobStore,
    progress: Progress,
) -> set[str]:
    """Send the batches; store each as it returns. Returns the keys that failed."""
    failed: set[str] = set()
    result: BatchResult
    for result in pool.run(translate_segments, batches):
        batch = result.batch
        if result.error is not None:
            failed.update(batch.keys)
            progress.segments_done(len(batch.keys))
            continue
        rows = []
        for key, text, translated in zip(batch.keys, batch.texts, result.results, strict=True):
            resolved[key] = _Resolved(translated, "machine")
            record = SegmentRecord(translated.text, translated.unknown_words, result.engine)
            rows.append((key, batch.source, batch.target, text, record))
        store.put_segments(rows)
        progress.segments_done(len(batch.keys))
    return failed


def _assemble(
    pool: Executor,
    units: Sequence[_Unit],
    resolved: dict[str, _Resolved],
    failed: set[str],
    store: JobStore,
    paths: KbPaths,
    progress: Progress,
    summary: KbSummary,
    reviewer: KbReviewer | None,
) -> None:
    by_id = {(unit.article.id, unit.locale): unit for unit in units}
    jobs = []
    for unit in units:
        if any(key in failed for key in unit.keys.values()):
            _record_failed(unit, store, summary, progress)
            continue
        known = {text: resolved[key].result for text, key in unit.keys.items() if key in resolved}
        jobs.append(
            AssembleJob(unit.article.id, unit.source, unit.locale, unit.article.fields, known)
        )
    result: AssembleResult
    for result in pool.run(assemble_article, jobs):
        unit = by_id[(result.article, result.target)]
        rows = []
        for text, translated in result.fresh.items():
            key = unit.keys.get(text)
            if key is not None:
                resolved[key] = _Resolved(translated, "machine")
                record = SegmentRecord(translated.text, translated.unknown_words, "")
                rows.append((key, unit.source, unit.locale, text, record))
        if rows:
            store.put_segments(rows)
        _finish(unit, result, resolved, store, paths, summary, reviewer)
        reused = sum(resolved[k].origin == "memory" for k in unit.keys.values() if k in resolved)
        progress.article_done(reused=reused, total=len(unit.segments))


def _rows(unit: _Unit, resolved: dict[str, _Resolved]) -> tuple[SegmentRow, ...]:
    return tuple(
        SegmentRow(key, text, resolved[key].result.text, resolved[key].origin, unit.codes[text])
        for text, key in unit.keys.items()
        if key in resolved
    )


def _finish(
    unit: _Unit,
    result: AssembleResult,
    resolved: dict[str, _Resolved],
    store: JobStore,
    paths: KbPaths,
    summary: KbSummary,
    reviewer: KbReviewer | None,
) -> None:
    """Write one unit's file (unless it failed), queue its flagged fields, record it."""
    article = unit.article
    output = paths.output(unit.locale, article.id)
    status: Status
    review_items: list[tuple[str, str]] = []
    if result.failed:
        status = "failed"
        summary.failed += 1
    else:
        write_atomically(output, render_article(article, result.translated))
        status = "done" if result.decision == Decision.SEND else "flagged"
        summary.translated += 1
        summary.flagged += status == "flagged"
        if status == "flagged" and reviewer is not None:
            # Queued before the record: a kill in between re-queues the same ids next run.
            previous = dict(store.review_items(article.id, unit.locale))
            review_items = reviewer.submit(article, unit.locale, result, previous)
            summary.review_items += len(review_items)
    store.record_article(
        ArticleRecord(
            article=article.id,
            locale=unit.locale,
            source_hash=article.source_hash,
            fingerprint=_fingerprint(unit, resolved) or "",
            status=status,
            publishable=status == "done",
            output=output.relative_to(paths.out).as_posix(),
            remote_id=article.remote_id,
            flags=result.flags,
            segments=_rows(unit, resolved),
            updated_at=time.time(),
            published_hash=None,
        ),
        review_items=review_items,
    )


def _record_failed(unit: _Unit, store: JobStore, summary: KbSummary, progress: Progress) -> None:
    summary.failed += 1
    flag = review_flag(
        "engine_failed",
        Severity.ERROR,
        "the engines failed on some of this article's segments; the next run retries them",
    )
    store.record_article(
        ArticleRecord(
            article=unit.article.id,
            locale=unit.locale,
            source_hash=unit.article.source_hash,
            fingerprint="",
            status="failed",
            publishable=False,
            output="",
            remote_id=unit.article.remote_id,
            flags=(("body", flag),),
            segments=(),
            updated_at=time.time(),
            published_hash=None,
        )
    )
    progress.article_done(reused=0, total=len(unit.segments))


def write_review(store: JobStore, path: Path) -> int:
    """Rewrite the review report: one JSON line per flagged or failed article × locale.

    Returns:
        How many lines were written.
    """
    lines = []
    for record in store.articles():
        if record.status == "done":
            continue
        flags = [{"field": name, **flag.model_dump(mode="json")} for name, flag in record.flags]
        entry: dict[str, object] = {
            "article": record.article,
            "locale": record.locale,
            "status": record.status,
            "output": record.output or None,
            "flags": flags,
        }
        items = store.review_items(record.article, record.locale)
        if items:
            entry["review_items"] = {name: item for name, item in items}
        lines.append(json.dumps(entry, ensure_ascii=False))
    for article, problem in store.errors().items():
        lines.append(json.dumps({"article": article, "status": "error", "error": problem}))
    write_atomically(path, "".join(line + "\n" for line in lines))
    return len(lines)
