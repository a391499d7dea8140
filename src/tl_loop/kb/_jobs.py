"""Job state in SQLite: segment translations, and what each article × locale was made from.

Everything a run learns is committed as soon as it is known: a batch of segment translations
the moment the engine returns it, an article × locale the moment its file is written. A run
killed at any point therefore loses at most the batches in flight, and the next run starts from
what is stored: nothing committed is translated twice.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, Self

from tl_loop._db import open_sqlite
from tl_loop._models import ReviewFlag

__all__ = ["ArticleRecord", "JobStore", "SegmentRecord", "SegmentRow", "Status"]

Status = Literal["done", "flagged", "failed"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS segments (
    key TEXT PRIMARY KEY,
    source TEXT NOT NULL,
    target TEXT NOT NULL,
    text TEXT NOT NULL,
    translation TEXT NOT NULL,
    unknown_words TEXT NOT NULL,
    engine TEXT NOT NULL,
    created_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS articles (
    article TEXT NOT NULL,
    locale TEXT NOT NULL,
    source_hash TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    status TEXT NOT NULL,
    publishable INTEGER NOT NULL,
    output TEXT NOT NULL,
    remote_id TEXT NOT NULL,
    flags TEXT NOT NULL,
    segments TEXT NOT NULL,
    updated_at REAL NOT NULL,
    published_hash TEXT,
    PRIMARY KEY (article, locale)
);
CREATE TABLE IF NOT EXISTS review_items (
    article TEXT NOT NULL,
    locale TEXT NOT NULL,
    field TEXT NOT NULL,
    item_id TEXT NOT NULL,
    PRIMARY KEY (article, locale, field)
);
CREATE TABLE IF NOT EXISTS errors (
    article TEXT PRIMARY KEY,
    message TEXT NOT NULL,
    seen_at REAL NOT NULL
);
"""


@dataclass(frozen=True, slots=True)
class SegmentRecord:
    """A machine translation of one normalised segment, as stored."""

    translation: str
    unknown_words: tuple[str, ...]
    engine: str


@dataclass(frozen=True, slots=True)
class SegmentRow:
    """One segment of an article × locale: its normalised source, translation and origin.

    `origin` is `memory` (approved, from the translation memory) or `machine`.
    """

    key: str
    text: str
    translation: str
    origin: str
    codes: tuple[tuple[str, str], ...] = ()  # (kind, source markup) of each ⟦n⟧, for XLIFF


@dataclass(frozen=True, slots=True)
class ArticleRecord:
    """What the last run made of one article in one locale."""

    article: str
    locale: str
    source_hash: str
    fingerprint: str
    status: Status
    publishable: bool
    output: str
    remote_id: str
    flags: tuple[tuple[str, ReviewFlag], ...]
    segments: tuple[SegmentRow, ...]
    updated_at: float
    published_hash: str | None


class JobStore:
    """The SQLite file holding a knowledge-base job's state. One writer at a time.

    Args:
        path: the database file; created with its folder if missing.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._db = open_sqlite(
            self.path, schema=_SCHEMA, synchronous="NORMAL", busy_timeout=30, autocommit=False
        )

    # -- segments ----------------------------------------------------------------------------

    def get_segments(self, keys: Sequence[str]) -> dict[str, SegmentRecord]:
        """The stored translations among `keys`."""
        found: dict[str, SegmentRecord] = {}
        for chunk in _chunks(list(dict.fromkeys(keys)), 500):
            marks = ",".join("?" * len(chunk))
            rows = self._db.execute(
                "SELECT key, translation, unknown_words, engine FROM segments "
                f"WHERE key IN ({marks})",
                chunk,
            )
            for key, translation, unknown, engine in rows:
                found[key] = SegmentRecord(translation, tuple(json.loads(unknown)), engine)
        return found

    def put_segments(self, rows: Iterable[tuple[str, str, str, str, SegmentRecord]]) -> None:
        """Store (key, source, target, text, record) rows and commit."""
        now = time.time()
        self._db.executemany(
            "INSERT OR REPLACE INTO segments VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [
                (
                    key,
                    source,
                    target,
                    text,
                    r.translation,
                    json.dumps(r.unknown_words),
                    r.engine,
                    now,
                )
                for key, source, target, text, r in rows
            ],
        )
        self._db.commit()

    def segment_count(self) -> int:
        """How many segment translations are stored."""
        (count,) = self._db.execute("SELECT COUNT(*) FROM segments").fetchone()
        return int(count)

    # -- articles ----------------------------------------------------------------------------

    def record_article(
        self, record: ArticleRecord, *, review_items: Sequence[tuple[str, str]] = ()
    ) -> None:
        """Store what a run made of one article × locale, and commit.

        Keeps the published hash of an earlier publish, so `kb publish` sees the change.

        Args:
            record: what the run made.
            review_items: (field, review item id) of the items this translation waits on in
                the review queue; they replace the earlier ones in the same transaction.
        """
        previous = self.article(record.article, record.locale)
        published = previous.published_hash if previous else None
        self._db.execute(
            "INSERT OR REPLACE INTO articles VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                record.article, record.locale, record.source_hash, record.fingerprint,
                record.status, int(record.publishable), record.output, record.remote_id,
                json.dumps([[name, flag.model_dump(mode="json")] for name, flag in record.flags]),
                json.dumps([[s.key, s.text, s.translation, s.origin, s.codes]
                            for s in record.segments]),
                record.updated_at, published,
            ),
        )  # fmt: skip
        self._db.execute(
            "DELETE FROM review_items WHERE article = ? AND locale = ?",
            (record.article, record.locale),
        )
        self._db.executemany(
            "INSERT INTO review_items VALUES (?, ?, ?, ?)",
            [(record.article, record.locale, name, item) for name, item in review_items],
        )
        self._db.execute("DELETE FROM errors WHERE article = ?", (record.article,))
        self._db.commit()

    def review_items(self, article: str, locale: str) -> list[tuple[str, str]]:
        """(field, review item id) of the items one article × locale waits on, by field."""
        rows = self._db.execute(
            "SELECT field, item_id FROM review_items WHERE article = ? AND locale = ? "
            "ORDER BY field",
            (article, locale),
        )
        return [(name, item) for name, item in rows]

    def mark_published(self, article: str, locale: str, source_hash: str) -> None:
        """Remember that this translation was pushed to the helpdesk."""
        self._db.execute(
            "UPDATE articles SET published_hash = ? WHERE article = ? AND locale = ?",
            (source_hash, article, locale),
        )
        self._db.commit()

    def article(self, article: str, locale: str) -> ArticleRecord | None:
        """The record of one article × locale, if a run made one."""
        row = self._db.execute(
            "SELECT * FROM articles WHERE article = ? AND locale = ?", (article, locale)
        ).fetchone()
        return _record(row) if row else None

    def articles(self, locale: str | None = None) -> Iterator[ArticleRecord]:
        """Every article record, optionally of one locale, by article then locale."""
        query = "SELECT * FROM articles"
        params: tuple[Any, ...] = ()
        if locale is not None:
            query, params = query + " WHERE locale = ?", (locale,)
        for row in self._db.execute(query + " ORDER BY article, locale", params).fetchall():
            yield _record(row)

    def locales(self) -> list[str]:
        """Every locale some article was translated into."""
        rows = self._db.execute("SELECT DISTINCT locale FROM articles ORDER BY locale")
        return [locale for (locale,) in rows]

    # -- unreadable articles -----------------------------------------------------------------

    def record_error(self, article: str, message: str) -> None:
        """Remember that an article could not be read or translated."""
        self._db.execute(
            "INSERT OR REPLACE INTO errors VALUES (?, ?, ?)", (article, message, time.time())
        )
        self._db.commit()

    def errors(self) -> dict[str, str]:
        """Article → the problem the last run reported for it."""
        return dict(self._db.execute("SELECT article, message FROM errors ORDER BY article"))

    def close(self) -> None:
        """Close the database."""
        self._db.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def _record(row: tuple[Any, ...]) -> ArticleRecord:
    (article, locale, source_hash, fingerprint, status, publishable, output, remote_id,
     flags, segments, updated_at, published_hash) = row  # fmt: skip
    return ArticleRecord(
        article=article,
        locale=locale,
        source_hash=source_hash,
        fingerprint=fingerprint,
        status=status,
        publishable=bool(publishable),
        output=output,
        remote_id=remote_id,
        flags=tuple((name, ReviewFlag.model_validate(flag)) for name, flag in json.loads(flags)),
        segments=tuple(_segment_row(item) for item in json.loads(segments)),
        updated_at=updated_at,
        published_hash=published_hash,
    )


def _chunks(items: list[str], size: int) -> Iterator[list[str]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _segment_row(item: list[Any]) -> SegmentRow:
    # rows written before inline codes were recorded have four fields
    codes = tuple((kind, original) for kind, original in item[4]) if len(item) > 4 else ()
    return SegmentRow(item[0], item[1], item[2], item[3], codes)
