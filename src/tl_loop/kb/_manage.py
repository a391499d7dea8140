"""After a run: status (what is outdated), publish drafts, pull a help center, XLIFF round trip."""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import httpx

from tl_loop._config import TlLoopConfig
from tl_loop._errors import ConfigurationError, ServiceError, ServiceResponseError
from tl_loop.helpdesk._adapter import Article, HelpdeskAdapter
from tl_loop.helpdesk._client import HelpdeskClient
from tl_loop.helpdesk._payload import path_segment
from tl_loop.kb._articles import (
    ARTICLE_SUFFIXES,
    ArticleError,
    load_article,
    parse_article,
    scan_folder,
)
from tl_loop.kb._exchange import (
    ExchangeUnit,
    InlineCode,
    export_xliff,
    import_xliff,
    token_problems,
)
from tl_loop.kb._jobs import ArticleRecord, JobStore
from tl_loop.kb._review import learn_decisions, review_counts, review_gate
from tl_loop.kb._runner import KbPaths
from tl_loop.review import ReviewItem, ReviewQueue
from tl_loop.stores import MemoryEntry, SQLiteTranslationMemory, TranslationMemory

__all__ = [
    "ArticleStatus",
    "ImportReport",
    "PublishReport",
    "kb_export_xliff",
    "kb_import_xliff",
    "kb_publish",
    "kb_pull",
    "kb_status",
]

State = Literal[
    "current",
    "flagged",
    "approved",
    "rejected",
    "failed",
    "outdated",
    "missing",
    "unreadable",
    "orphaned",
]


@dataclass(frozen=True, slots=True)
class ArticleStatus:
    """Where one article stands in one locale.

    `state` is `current` (translated from this source, publishable), `flagged` (translated
    but waiting for review), `approved` (flagged, and every review item approved or edited:
    publishable), `rejected` (a review item was rejected: not publishable), `failed` (the
    engines failed; the next run retries), `outdated` (the source changed since), `missing`
    (never translated), `unreadable` (the source cannot be read) or `orphaned` (translated,
    but the source is gone). `review` counts the review items per state (pending, approved,
    edited, rejected) when the job queued some and a review queue was given.
    """

    article: str
    locale: str
    state: State
    detail: str = ""
    review: dict[str, int] | None = None


def kb_status(
    source_dir: str | os.PathLike[str],
    *,
    out_dir: str | os.PathLike[str],
    locales: Sequence[str] | None = None,
    keys: Sequence[str] = ("title", "description"),
    review_queue: ReviewQueue | None = None,
) -> list[ArticleStatus]:
    """Compare the articles in `source_dir` with what the job in `out_dir` made of them.

    Args:
        source_dir: the articles as they are now.
        out_dir: the job's output folder.
        locales: the locales to report (default: every locale the job has translated into).
        keys: the front-matter keys the job translates (they are part of the source hash).
        review_queue: the queue the job put flagged translations in; flagged ones then show
            their review items' states (and become `approved` or `rejected`).

    Returns:
        One status per article × locale, by article then locale.

    Raises:
        NotFoundError: an item the job queued is no longer in `review_queue`.
    """
    root = Path(source_dir)
    rows: list[ArticleStatus] = []
    with JobStore(KbPaths(Path(out_dir)).state) as store:
        wanted = list(locales) if locales else store.locales()
        seen: set[str] = set()
        for path in scan_folder(root):
            article_id = path.relative_to(root).as_posix()
            seen.add(article_id)
            try:
                article = load_article(root, path, keys=keys)
            except ArticleError as error:
                rows += [
                    ArticleStatus(article_id, loc, "unreadable", error.problem) for loc in wanted
                ]
                continue
            for locale in wanted:
                record = store.article(article_id, locale)
                if record is None:
                    rows.append(ArticleStatus(article_id, locale, "missing"))
                elif record.source_hash != article.source_hash:
                    rows.append(ArticleStatus(article_id, locale, "outdated", "source changed"))
                elif record.status == "done":
                    rows.append(ArticleStatus(article_id, locale, "current"))
                else:
                    rows.append(_flagged_status(store, review_queue, record))
        for record in store.articles():
            if record.article not in seen and record.locale in wanted:
                rows.append(ArticleStatus(record.article, record.locale, "orphaned"))
    return sorted(rows, key=lambda row: (row.article, row.locale))


def _flagged_status(
    store: JobStore, queue: ReviewQueue | None, record: ArticleRecord
) -> ArticleStatus:
    codes = ", ".join(sorted({flag.code for _, flag in record.flags}))
    counts = review_counts(store, queue, record) if queue and record.status == "flagged" else None
    if counts is None:
        kept: State = "failed" if record.status == "failed" else "flagged"
        return ArticleStatus(record.article, record.locale, kept, codes)
    state: State = "flagged"
    if counts["rejected"]:
        state = "rejected"
    elif not counts["pending"]:
        state = "approved"
    tally = ", ".join(f"{name} {count}" for name, count in counts.items())
    return ArticleStatus(record.article, record.locale, state, f"{tally}; {codes}", counts)


@dataclass
class PublishReport:
    """What `kb_publish` pushed: published and skipped `(article, locale)`, and failures.

    `held` lists the flagged translations kept back by their review items
    `(article, locale, why)`; `learned` counts the memory entries learned from decisions.
    """

    published: list[tuple[str, str]]
    skipped: list[tuple[str, str]]
    failed: list[tuple[str, str, str]]
    held: list[tuple[str, str, str]] = field(default_factory=list)
    learned: int = 0


def kb_publish(
    out_dir: str | os.PathLike[str],
    *,
    adapter: HelpdeskAdapter,
    source: str = "en",
    locales: Sequence[str] | None = None,
    keys: Sequence[str] = ("title", "description"),
    http_client: httpx.Client | None = None,
    force: bool = False,
    review_queue: ReviewQueue | None = None,
    memory: TranslationMemory | None = None,
    config: TlLoopConfig | None = None,
) -> PublishReport:
    """Push publishable translations to the helpdesk as drafts, through the adapter.

    Only translations that passed review (`current` in `kb_status`, or `approved` with a
    review queue) are pushed, each once per source version (`force` pushes again). With a
    review queue, a flagged translation whose items are all approved or edited gets the
    edited texts written into its output file, then is pushed; one with pending or rejected
    items is held back (listed in `held`). The article's helpdesk id is its front-matter `id`,
    else its file name's stem; the title is the translated front-matter `title`.

    Args:
        out_dir: the job's output folder.
        adapter: the helpdesk (e.g. `load_adapter_class("zendesk").from_env()`).
        source: the language the source articles are written in.
        locales: the locales to push (default: all).
        keys: the front-matter keys the job translated.
        http_client: an `httpx.Client` to send with (tests, proxies).
        force: push again translations already pushed for this source version.
        review_queue: the queue the job put flagged translations in.
        memory: learn the approved and edited items into this translation memory (as the
            relay does); None learns nothing.
        config: the loop configuration the job ran with (its glossary and engines decide how
            learned text is protected); default `TlLoopConfig()`.

    Returns:
        What was pushed, skipped, and what failed (with the helpdesk's error).
    """
    paths = KbPaths(Path(out_dir))
    report = PublishReport([], [], [])
    decided: list[ReviewItem] = []
    with JobStore(paths.state) as store, HelpdeskClient(adapter, http_client=http_client) as client:
        for record in store.articles():
            unit = (record.article, record.locale)
            if locales and record.locale not in locales:
                continue
            publishable = record.publishable
            if review_queue is not None and record.status == "flagged":
                gate = review_gate(store, review_queue, record, out=paths.out, keys=keys)
                decided += gate.decided
                if gate.problem is not None:
                    report.held.append((*unit, gate.problem))
                    continue
                publishable = True
            if not publishable or (record.published_hash == record.source_hash and not force):
                report.skipped.append(unit)
                continue
            kind = ARTICLE_SUFFIXES.get(Path(record.article).suffix.lower())
            if kind not in ("html", "markdown"):  # macros are not help-center articles
                report.skipped.append(unit)
                continue
            path = paths.out / record.output
            try:
                translated = parse_article(record.article, path.read_bytes(), kind=kind, keys=keys)
            except (OSError, ArticleError) as error:
                report.failed.append((*unit, f"cannot read the translation: {error}"))
                continue
            body = next(field.text for field in translated.fields if field.name == "body")
            title = translated.title or Path(record.article).stem
            remote = Article(
                id=record.remote_id, title="", body="", locale=source, source_id=record.remote_id
            )
            request = adapter.build_publish_translation(
                remote, locale=record.locale, title=title, body=body, draft=True
            )
            try:
                client.write(request)
            except ServiceError as error:
                report.failed.append((*unit, str(error)))
                continue
            store.mark_published(record.article, record.locale, record.source_hash)
            report.published.append(unit)
    if memory is not None:
        report.learned = learn_decisions(decided, memory=memory, config=config)
    return report


def kb_pull(
    adapter: HelpdeskAdapter,
    *,
    locale: str,
    dest: str | os.PathLike[str],
    http_client: httpx.Client | None = None,
    max_pages: int = 1000,
) -> int:
    """Download a help center's articles in `locale` into a folder `translate_folder` reads.

    Each article becomes `<id>.html` with front matter (`id`, `title`, `updated_at`), so the
    translations publish back to the same article. The file name is the id percent-encoded
    (`../../x` becomes `..%2F..%2Fx.html`): whatever the helpdesk answers, every file lands
    inside `dest`, and a symlink already there is replaced, never written through.

    Raises:
        ServiceResponseError: an article without an id.

    Returns:
        How many articles were written.
    """
    folder = Path(dest)
    folder.mkdir(parents=True, exist_ok=True)
    count = 0
    with HelpdeskClient(adapter, http_client=http_client) as client:
        request: httpx.Request | None = adapter.build_list_articles(locale)
        for _ in range(max_pages):
            if request is None:
                break
            response = client.read(request)
            # A listing of titles only (Zammad): one more read brings the page's bodies.
            bodies = adapter.build_article_bodies(response)
            listed = adapter.parse_articles(client.read(bodies) if bodies else response)
            for article in listed:
                front = [
                    "---",
                    f"id: {json.dumps(article.id)}",
                    f"title: {json.dumps(article.title, ensure_ascii=False)}",
                    f"updated_at: {json.dumps(article.updated_at)}",
                    "---",
                    "",
                ]
                _write_confined(folder, article.id, "\n".join(front) + article.body)
                count += 1
            request = adapter.next_page(response)
    return count


def _write_confined(folder: Path, article_id: str, text: str) -> None:
    """Write `<article_id>.html` inside `folder` and nowhere else, atomically."""
    if not article_id:
        raise ServiceResponseError("the help center listed an article without an id", service="kb")
    root = folder.resolve()
    target = root / f"{path_segment(article_id)}.html"
    if target.parent != root:  # cannot happen after path_segment; checked because it must not
        raise ServiceResponseError(f"article id {article_id!r} names a path outside {folder}",
                                   service="kb")  # fmt: skip
    temporary = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    temporary.write_text(text, encoding="utf-8")
    os.replace(temporary, target)  # replaces a symlink itself, never the file it points to


def kb_export_xliff(
    out_dir: str | os.PathLike[str],
    *,
    locale: str,
    source: str = "en",
    include: Literal["flagged", "all"] = "flagged",
    version: Literal["2.1", "1.2"] = "2.1",
) -> tuple[bytes, int]:
    """The segments of one locale as XLIFF for translators, with the machine draft as target.

    Args:
        out_dir: the job's output folder.
        locale: the target locale to export.
        source: the language the articles are written in.
        include: `flagged` exports the segments of flagged and failed articles; `all` every
            machine-translated segment (approved memory segments are never exported).
        version: XLIFF 2.1, or 1.2 for older tools.

    Returns:
        The file's bytes and how many units it holds.

    Raises:
        ConfigurationError: nothing was ever translated into `locale`.
    """
    units: dict[str, ExchangeUnit] = {}
    with JobStore(KbPaths(Path(out_dir)).state) as store:
        records = list(store.articles(locale))
        if not records:
            raise ConfigurationError(
                f"no article was translated into {locale!r} in {out_dir}; run kb translate first"
            )
        for record in records:
            if include == "flagged" and record.status == "done":
                continue
            note = "; ".join(sorted({flag.code for _, flag in record.flags})) or None
            for row in record.segments:
                if row.origin == "memory" or row.key in units:
                    continue
                units[row.key] = ExchangeUnit(
                    id=f"s{row.key[:24]}",
                    source_text=row.text,
                    target_text=row.translation,
                    note=f"{record.article}: {note}" if note else record.article,
                    state="translated",  # a machine draft, to be reviewed
                    codes=tuple(InlineCode(kind, original) for kind, original in row.codes),
                )
    data = export_xliff(
        list(units.values()), source=source, target=locale, version=version, original=str(out_dir)
    )
    return data, len(units)


@dataclass
class ImportReport:
    """What `kb_import_xliff` did: entries stored, units without target, units rejected, and
    drafts (a target not marked reviewed or final, so not stored as a person's translation)."""

    stored: int
    empty: int
    rejected: list[tuple[str, str]]
    drafts: int = 0


def kb_import_xliff(
    data: bytes,
    *,
    out_dir: str | os.PathLike[str],
    memory: TranslationMemory | None = None,
    glossary_version: str | None = None,
    author: str | None = None,
) -> ImportReport:
    """Store a translator's XLIFF in the translation memory; the next run applies it.

    Only units the translator's tool marks as reviewed count: XLIFF 2 segment state
    `reviewed` or `final`, XLIFF 1.2 `approved="yes"` or target state `signed-off`/`final`.
    Other targets (`translated`, `needs-review-translation`, no state) are drafts: counted in
    the report, never stored as approved memory, so the next run still flags what nobody
    reviewed. A unit whose tokens do not match its source is rejected (listed with the
    problem), so a broken placeholder never reaches an article.

    Args:
        data: the XLIFF file's bytes (2.x or 1.2).
        out_dir: the job's output folder (its memory is used unless `memory` is given).
        memory: the translation memory to store into.
        glossary_version: the glossary version the job runs with (None without a glossary).
        author: who approved the translations.
    """
    source, target, units = import_xliff(data)
    entries: list[MemoryEntry] = []
    report = ImportReport(0, 0, [])
    for unit in units:
        if unit.target_text is None or not unit.target_text.strip():
            report.empty += 1
            continue
        problems = token_problems(unit)
        if problems:
            report.rejected.append((unit.id, "; ".join(problems)))
            continue
        if not unit.reviewed:
            report.drafts += 1
            continue
        entries.append(
            MemoryEntry(
                source_text=unit.source_text,
                target_text=unit.target_text,
                source=source,
                target=target,
                glossary_version=glossary_version,
                origin="edited",
                author=author,
            )
        )
    store = memory
    if store is None:
        store = SQLiteTranslationMemory(_mkdir(KbPaths(Path(out_dir)).memory))
    try:
        store.put_many(entries)
    finally:
        if memory is None:
            store.close()
    report.stored = len(entries)
    return report


def _mkdir(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    return path
