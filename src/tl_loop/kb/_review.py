"""Flagged knowledge-base translations in the review queue, and the decisions coming back.

With a review queue, each flagged article × locale × field becomes one held `ReviewItem`
(channel `kb`, conversation `kb:<article>:<locale>:<field>`). Its id is a hash of the job, the
article, locale and field, the source it was made from and the draft, so a re-run that makes
the same draft adds nothing new; a changed draft (new source, a memory entry) is a new item.
The job store remembers which items each article × locale waits on.

An article × locale becomes publishable once each of its items is approved or edited; one
rejected item blocks it until the next run makes a new draft. Before publishing, the edited
texts are written into the output file, so the files match what the helpdesk receives.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path

from tl_loop._config import TlLoopConfig
from tl_loop._errors import NotFoundError
from tl_loop.kb._articles import (
    ARTICLE_SUFFIXES,
    ArticleError,
    SourceArticle,
    parse_article,
    render_article,
)
from tl_loop.kb._executors import AssembleResult, LoopSpec, warm_loop
from tl_loop.kb._files import write_atomically
from tl_loop.kb._jobs import ArticleRecord, JobStore
from tl_loop.review import ReviewItem, ReviewQueue, ReviewState, learn
from tl_loop.stores import TranslationMemory

__all__ = [
    "KbReviewer",
    "ReviewGate",
    "job_id",
    "learn_decisions",
    "review_counts",
    "review_gate",
    "review_item_id",
]

_STATES = tuple(state.value for state in ReviewState)


def job_id(folder: Path) -> str:
    """The id of the job kept in `folder` (its `.tl-loop-kb`), made on first use.

    It lives in a file of its own, not in the job state, so deleting the state to translate
    everything again does not queue every flagged field a second time.
    """
    path = folder / "job-id"
    folder.mkdir(parents=True, exist_ok=True)
    try:
        with path.open("x", encoding="utf-8") as handle:
            handle.write(uuid.uuid4().hex + "\n")
    except FileExistsError:
        pass  # made by an earlier run
    return path.read_text(encoding="utf-8").strip()


def review_item_id(
    job_id: str, article: str, locale: str, field: str, source_hash: str, draft: str
) -> str:
    """The stable review item id (32 hex digits) of one field's draft in one job."""
    digest = hashlib.sha256(
        json.dumps([job_id, article, locale, field, source_hash, draft]).encode()
    )
    return digest.hexdigest()[:32]


@dataclass(frozen=True, slots=True)
class KbReviewer:
    """Puts a job's flagged fields in a review queue.

    Args:
        queue: the review queue.
        job_id: the job's id (`job_id(...)`), part of every item id.
        source: the language the articles are written in.
        glossary_version: the glossary version the drafts were made under.
    """

    queue: ReviewQueue
    job_id: str
    source: str
    glossary_version: str | None

    def submit(
        self,
        article: SourceArticle,
        locale: str,
        result: AssembleResult,
        previous: Mapping[str, str],
    ) -> list[tuple[str, str]]:
        """Queue one item per flagged field (ids already queued are left as they are).

        Args:
            article: the source article.
            locale: the target locale.
            result: the assembled translation, with its flags.
            previous: field → the item the earlier translation waited on; a field whose new
                draft is that item's approved or edited text keeps it (the memory learned it).

        Returns:
            (field, item id) per flagged field, for the job store.
        """
        rows: list[tuple[str, str]] = []
        for field in article.fields:
            flags = tuple(flag for name, flag in result.flags if name == field.name)
            draft = result.translated.get(field.name)
            if not flags or draft is None:
                continue
            kept = self._decided(previous.get(field.name), field.text, draft)
            if kept is not None:
                rows.append((field.name, kept))
                continue
            item_id = review_item_id(
                self.job_id, article.id, locale, field.name, article.source_hash, draft
            )
            self.queue.add(
                ReviewItem(
                    id=item_id, created_at=datetime.now(UTC), state=ReviewState.PENDING,
                    held=True, direction="outbound", channel="kb", source_language=self.source,
                    target_language=locale, original=field.text, draft=draft, final=None,
                    flags=flags, engine=result.engines.get(field.name),
                    content_type=field.content_type, adapter=None,
                    conversation_id=f"kb:{article.id}:{locale}:{field.name}",
                    glossary_version=self.glossary_version,
                )
            )  # fmt: skip
            rows.append((field.name, item_id))
        return rows

    def _decided(self, item_id: str | None, original: str, draft: str) -> str | None:
        """`item_id` when that item already decided this very text, else None."""
        if item_id is None:
            return None
        try:
            item = self.queue.get(item_id)
        except NotFoundError:
            return None
        same = item.original == original and item.final == draft
        return item_id if same and item.state != ReviewState.REJECTED else None


def _items(store: JobStore, queue: ReviewQueue, record: ArticleRecord) -> dict[str, ReviewItem]:
    """Field → the item one record waits on for it.

    Raises:
        NotFoundError: an item the job queued is no longer in the queue.
    """
    rows = store.review_items(record.article, record.locale)
    return {name: queue.get(item_id) for name, item_id in rows}


def review_counts(
    store: JobStore, queue: ReviewQueue, record: ArticleRecord
) -> dict[str, int] | None:
    """Items per state (pending, approved, edited, rejected) of one record, or None without items.

    Raises:
        NotFoundError: an item the job queued is no longer in the queue.
    """
    items = _items(store, queue, record)
    if not items:
        return None
    counts = dict.fromkeys(_STATES, 0)
    for item in items.values():
        counts[item.state.value] += 1
    return counts


@dataclass(frozen=True, slots=True)
class ReviewGate:
    """Whether a flagged record may be published: `problem` is None when it may.

    `decided` holds its approved and edited items (to learn from), whatever the verdict.
    """

    problem: str | None
    decided: tuple[ReviewItem, ...]


def review_gate(
    store: JobStore,
    queue: ReviewQueue,
    record: ArticleRecord,
    *,
    out: Path,
    keys: Sequence[str],
) -> ReviewGate:
    """Check a flagged record's review items and write the edited texts into its output file.

    Returns:
        No problem when every item is approved or edited (the file then holds the finals);
        otherwise why it is held back: items pending or rejected, none queued, or an output
        file that no longer holds the reviewed draft.
    """
    try:
        items = _items(store, queue, record)
    except NotFoundError as error:
        return ReviewGate(f"a review item is missing from the queue: {error}", ())
    if not items:
        return ReviewGate("not in the review queue; run kb translate with the review queue", ())
    decided = tuple(
        item for item in items.values() if item.state in (ReviewState.APPROVED, ReviewState.EDITED)
    )
    waiting = [item for item in items.values() if item not in decided]
    if waiting:
        tally = ", ".join(
            f"{sum(item.state == state for item in waiting)} {state.value}"
            for state in (ReviewState.PENDING, ReviewState.REJECTED)
            if any(item.state == state for item in waiting)
        )
        return ReviewGate(f"review items {tally}", decided)
    return ReviewGate(_apply_finals(record, items, out=out, keys=keys), decided)


def _apply_finals(
    record: ArticleRecord, items: Mapping[str, ReviewItem], *, out: Path, keys: Sequence[str]
) -> str | None:
    """Write each item's final text into the record's output; returns a problem or None."""
    path = out / record.output
    kind = ARTICLE_SUFFIXES.get(Path(record.article).suffix.lower())
    if kind is None:
        return f"{record.article}: not an article file"
    try:
        written = parse_article(record.article, path.read_bytes(), kind=kind, keys=keys)
    except (OSError, ArticleError) as error:
        return f"cannot read the translation: {error}"
    current = {field.name: field.text for field in written.fields}
    changes: dict[str, str] = {}
    for name, item in items.items():
        final = item.final if item.final is not None else item.draft
        if current.get(name) == final:
            continue
        if current.get(name) != item.draft:
            return (
                f"{record.output}: field {name!r} no longer holds the reviewed draft; "
                "run kb translate again"
            )
        changes[name] = final
    if changes:
        write_atomically(path, render_article(written, changes))
    return None


def learn_decisions(
    items: Sequence[ReviewItem], *, memory: TranslationMemory, config: TlLoopConfig | None
) -> int:
    """Teach `memory` the approved and edited items, as the relay does; returns entries stored.

    The items are protected with the loop `config` builds (its glossary and engines), so the
    entries are found by the next run's lookups.
    """
    if not items:
        return 0
    parts = replace(warm_loop(LoopSpec.from_config(config or TlLoopConfig())).parts, memory=memory)
    return sum(len(learn(item, parts)) for item in items)
