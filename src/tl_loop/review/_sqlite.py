"""The review queue and audit log in SQLite: the embedded default for one relay.

Each store keeps one connection behind a lock (safe between threads); several processes may
open the same file, since every decision is one conditional `UPDATE` that SQLite's write lock
serialises. The queue writes with `synchronous=FULL` (a decision survives power loss); the
audit log with `NORMAL` (losing the last rows at a power cut costs statistics only).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, cast

from tl_loop._db import open_sqlite
from tl_loop._models import Channel, ContentType, Direction
from tl_loop.review._audit import AuditLog, AuditRow
from tl_loop.review._items import (
    ReviewItem,
    ReviewQueue,
    ReviewState,
    check_decision,
    check_limit,
    conflict,
    flags_from_json,
    flags_to_json,
    normalized_language,
    unknown_item,
)

__all__ = ["SQLiteAuditLog", "SQLiteReviewQueue"]

_ITEMS = """
CREATE TABLE IF NOT EXISTS review_items (
    id TEXT PRIMARY KEY,
    created_at REAL NOT NULL,
    state TEXT NOT NULL,
    held INTEGER NOT NULL,
    direction TEXT NOT NULL,
    channel TEXT,
    source_language TEXT NOT NULL,
    target_language TEXT NOT NULL,
    original TEXT NOT NULL,
    draft TEXT NOT NULL,
    final TEXT,
    flags TEXT NOT NULL,
    engine TEXT,
    content_type TEXT NOT NULL,
    adapter TEXT,
    conversation_id TEXT,
    glossary_version TEXT,
    decided_by TEXT,
    decided_at REAL,
    released INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS review_items_state ON review_items (state, created_at);
"""
_ITEM_COLUMNS = (
    "id, created_at, state, held, direction, channel, source_language, target_language, "
    "original, draft, final, flags, engine, content_type, adapter, conversation_id, "
    "glossary_version, decided_by, decided_at, released"
)
_AUDIT = """
CREATE TABLE IF NOT EXISTS audit_log (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    created_at REAL NOT NULL,
    direction TEXT NOT NULL,
    source_language TEXT NOT NULL,
    target_language TEXT NOT NULL,
    engine TEXT,
    characters_sent INTEGER NOT NULL,
    billed_characters INTEGER,
    decision TEXT NOT NULL,
    flag_codes TEXT NOT NULL,
    detection_confidence REAL,
    latency_ms REAL NOT NULL,
    adapter TEXT,
    conversation_id TEXT,
    channel TEXT,
    segments INTEGER NOT NULL DEFAULT 0,
    cache_hits INTEGER NOT NULL DEFAULT 0,
    memory_hits INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS audit_log_created ON audit_log (created_at);
"""
_AUDIT_COLUMNS = (
    "created_at, direction, source_language, target_language, engine, characters_sent, "
    "billed_characters, decision, flag_codes, detection_confidence, latency_ms, adapter, "
    "conversation_id, channel, segments, cache_hits, memory_hits"
)
_PAGE = 1000


def _stamp(value: datetime) -> float:
    return value.timestamp()


def _time(value: float | None) -> datetime | None:
    return None if value is None else datetime.fromtimestamp(value, UTC)


def _item(row: tuple[Any, ...]) -> ReviewItem:
    (item_id, created, state, held, direction, channel, source, target, original, draft,
     final, flags, engine, content_type, adapter, conversation, glossary, decided_by,
     decided_at, released) = row  # fmt: skip
    return ReviewItem(
        id=item_id,
        created_at=datetime.fromtimestamp(created, UTC),
        state=ReviewState(state),
        held=bool(held),
        direction=cast(Direction, direction),
        channel=cast(Channel | None, channel),
        source_language=source,
        target_language=target,
        original=original,
        draft=draft,
        final=final,
        flags=flags_from_json(flags),
        engine=engine,
        content_type=cast(ContentType, content_type),
        adapter=adapter,
        conversation_id=conversation,
        glossary_version=glossary,
        decided_by=decided_by,
        decided_at=_time(decided_at),
        released=bool(released),
    )


def item_values(item: ReviewItem) -> tuple[Any, ...]:
    """The item's column values in `_ITEM_COLUMNS` order, times as epoch seconds."""
    return (
        item.id, _stamp(item.created_at), item.state.value, int(item.held), item.direction,
        item.channel, item.source_language, item.target_language, item.original, item.draft,
        item.final, flags_to_json(item.flags), item.engine, item.content_type, item.adapter,
        item.conversation_id, item.glossary_version, item.decided_by,
        None if item.decided_at is None else _stamp(item.decided_at), int(item.released),
    )  # fmt: skip


def language_clause(language: str | None) -> tuple[str | None, str | None]:
    """The exact tag and, for a bare language, the `LIKE` pattern of its regions."""
    tag = normalized_language(language)
    if tag is None:
        return None, None
    return tag, (None if "-" in tag else f"{tag}-%")


class SQLiteReviewQueue(ReviewQueue):
    """The review queue in one SQLite file (created with its table if missing).

    ```python
    queue = SQLiteReviewQueue("review.sqlite3")
    for item in queue.list(language="es"):
        print(item.id, item.draft)
    queue.decide(item.id, state=ReviewState.APPROVED, reviewer="ana")
    ```

    Args:
        path: the file; `":memory:"` for tests.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._db = open_sqlite(path, schema=_ITEMS, synchronous="FULL", busy_timeout=10)

    def __repr__(self) -> str:
        return f"SQLiteReviewQueue({str(self.path)!r})"

    def add(self, item: ReviewItem) -> None:
        """Queue `item`; an id already stored is left as it is."""
        marks = ", ".join("?" * 20)
        with self._lock:
            self._db.execute(
                f"INSERT OR IGNORE INTO review_items ({_ITEM_COLUMNS}) VALUES ({marks})",
                item_values(item),
            )

    def get(self, item_id: str) -> ReviewItem:
        """The item with this id; NotFoundError if there is none."""
        with self._lock:
            row = self._db.execute(
                f"SELECT {_ITEM_COLUMNS} FROM review_items WHERE id = ?", (item_id,)
            ).fetchone()
        if row is None:
            raise unknown_item(item_id, str(self.path))
        return _item(row)

    def list(
        self,
        *,
        state: ReviewState | None = ReviewState.PENDING,
        language: str | None = None,
        limit: int = 100,
        since: datetime | None = None,
    ) -> list[ReviewItem]:
        """Items newest first, filtered by state, language and creation time."""
        check_limit(limit)
        tag, pattern = language_clause(language)
        params = {
            "state": None if state is None else ReviewState(state).value,
            "tag": tag,
            "pattern": pattern,
            "since": None if since is None else _stamp(since),
            "limit": limit,
        }
        query = (
            f"SELECT {_ITEM_COLUMNS} FROM review_items WHERE "
            "(:state IS NULL OR state = :state) "
            "AND (:since IS NULL OR created_at >= :since) "
            "AND (:tag IS NULL OR source_language = :tag OR target_language = :tag "
            "     OR source_language LIKE :pattern OR target_language LIKE :pattern) "
            "ORDER BY created_at DESC, id LIMIT :limit"
        )
        with self._lock:
            rows = self._db.execute(query, params).fetchall()
        return [_item(row) for row in rows]

    def decide(
        self, item_id: str, *, state: ReviewState, reviewer: str, final: str | None = None
    ) -> ReviewItem:
        """Decide a pending item; exactly one of concurrent decisions wins."""
        current = self.get(item_id)
        state, stored = check_decision(item_id, state, reviewer, final, current.draft)
        decided = current.decided(state=state, reviewer=reviewer, final=stored)
        assert decided.decided_at is not None  # set by `decided`
        with self._lock:
            cursor = self._db.execute(
                "UPDATE review_items SET state = ?, final = ?, decided_by = ?, decided_at = ? "
                "WHERE id = ? AND state = 'pending'",
                (state.value, stored, reviewer, _stamp(decided.decided_at), item_id),
            )
        if cursor.rowcount != 1:
            raise conflict(self.get(item_id))
        return decided

    def mark_released(self, item_id: str) -> None:
        """Record that the approved or edited reply was posted."""
        with self._lock:
            cursor = self._db.execute(
                "UPDATE review_items SET released = 1 "
                "WHERE id = ? AND state IN ('approved', 'edited')",
                (item_id,),
            )
        if cursor.rowcount != 1:
            raise conflict(self.get(item_id))

    def counts(self) -> dict[str, int]:
        """Items per state, zeros included."""
        with self._lock:
            rows = self._db.execute(
                "SELECT state, COUNT(*) FROM review_items GROUP BY state"
            ).fetchall()
        counts = {state.value: 0 for state in ReviewState}
        counts.update({state: count for state, count in rows})
        return counts

    def close(self) -> None:
        """Close the database connection."""
        with self._lock:
            self._db.close()


def _audit_row(row: tuple[Any, ...]) -> AuditRow:
    (created, direction, source, target, engine, sent, billed, decision, codes, confidence,
     latency, adapter, conversation, channel, segments, cache_hits, memory_hits) = row  # fmt: skip
    return AuditRow(
        created_at=datetime.fromtimestamp(created, UTC),
        direction=cast(Direction, direction),
        source_language=source,
        target_language=target,
        engine=engine,
        characters_sent=sent,
        billed_characters=billed,
        decision=decision,
        flag_codes=tuple(code for code in codes.split(",") if code),
        detection_confidence=confidence,
        latency_ms=latency,
        adapter=adapter,
        conversation_id=conversation,
        channel=cast(Channel | None, channel),
        segments=segments,
        cache_hits=cache_hits,
        memory_hits=memory_hits,
    )


def audit_values(row: AuditRow) -> tuple[Any, ...]:
    """The row's column values in `_AUDIT_COLUMNS` order (flag codes comma-joined)."""
    return (
        _stamp(row.created_at), row.direction, row.source_language, row.target_language,
        row.engine, row.characters_sent, row.billed_characters, row.decision,
        ",".join(row.flag_codes), row.detection_confidence, row.latency_ms, row.adapter,
        row.conversation_id, row.channel, row.segments, row.cache_hits, row.memory_hits,
    )  # fmt: skip


class SQLiteAuditLog(AuditLog):
    """The audit log in one SQLite file (created with its table if missing).

    Args:
        path: the file; `":memory:"` for tests.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._db = open_sqlite(path, schema=_AUDIT, synchronous="NORMAL", busy_timeout=10)

    def __repr__(self) -> str:
        return f"SQLiteAuditLog({str(self.path)!r})"

    def add(self, row: AuditRow) -> None:
        """Store one row."""
        marks = ", ".join("?" * 17)
        with self._lock:
            self._db.execute(
                f"INSERT INTO audit_log ({_AUDIT_COLUMNS}) VALUES ({marks})", audit_values(row)
            )

    def rows(self, *, since: datetime | None = None) -> Iterator[AuditRow]:
        """The rows oldest first, read a page at a time (no lock held between pages)."""
        after, floor = 0, None if since is None else _stamp(since)
        while True:
            with self._lock:
                page = self._db.execute(
                    f"SELECT seq, {_AUDIT_COLUMNS} FROM audit_log WHERE seq > ? "
                    "AND (? IS NULL OR created_at >= ?) ORDER BY seq LIMIT ?",
                    (after, floor, floor, _PAGE),
                ).fetchall()
            for row in page:
                yield _audit_row(row[1:])
            if len(page) < _PAGE:
                return
            after = page[-1][0]

    def close(self) -> None:
        """Close the database connection."""
        with self._lock:
            self._db.close()
