"""The SQLite translation memory: the embedded default, kept on disk between runs."""

from __future__ import annotations

import os
import sqlite3
import threading
from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime
from typing import cast

from tl_loop._db import open_sqlite
from tl_loop._errors import ConfigurationError
from tl_loop.stores._memory import (
    MemoryEntry,
    MemoryOrigin,
    TranslationMemory,
    language_filter,
)

__all__ = ["SQLiteTranslationMemory"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS translation_memory (
    key TEXT PRIMARY KEY,
    source_text TEXT NOT NULL,
    target_text TEXT NOT NULL,
    source TEXT NOT NULL,
    target TEXT NOT NULL,
    glossary_version TEXT,
    origin TEXT NOT NULL,
    author TEXT,
    created_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS translation_memory_pair ON translation_memory (source, target);
"""
_COLUMNS = "source_text, target_text, source, target, glossary_version, origin, author, created_at"
# SQLite before 3.32 allows 999 bound variables; stay under it whatever the build.
_CHUNK = 500
_PAGE = 500

_Row = tuple[str, str, str, str, str | None, str, str | None, str]


def _to_row(entry: MemoryEntry) -> tuple[str | None, ...]:
    return (
        entry.key,
        entry.source_text,
        entry.target_text,
        entry.source,
        entry.target,
        entry.glossary_version,
        entry.origin,
        entry.author,
        entry.created_at.isoformat(),
    )


def _from_row(row: _Row) -> MemoryEntry:
    source_text, target_text, source, target, glossary_version, origin, author, created = row
    return MemoryEntry(
        source_text=source_text,
        target_text=target_text,
        source=source,
        target=target,
        glossary_version=glossary_version,
        origin=cast(MemoryOrigin, origin),
        author=author,
        created_at=datetime.fromisoformat(created),
    )


class SQLiteTranslationMemory(TranslationMemory):
    """A translation memory in one SQLite file (or `:memory:`), safe to share between threads.

    One connection behind a lock: SQLite serialises writers anyway, and a single connection is
    the only way `:memory:` is one database for every thread. File databases use WAL, so other
    processes can read while this one writes. The table is created on first use.

    Args:
        path: the database file, created if missing, or `":memory:"`.

    Raises:
        ConfigurationError: the file cannot be opened as a SQLite database.

    Example:
        >>> with SQLiteTranslationMemory(":memory:") as memory:
        ...     memory.put(MemoryEntry(source_text="Gracias", target_text="Thank you",
        ...                            source="es", target="en", glossary_version="v3"))
        ...     len(memory)
        1
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self._path = os.fspath(path)
        self._lock = threading.Lock()
        try:
            self._connection = open_sqlite(self._path, schema=_SCHEMA, create_parent=False)
        except sqlite3.Error as error:
            raise ConfigurationError(
                f"cannot open translation memory {self._path!r} as SQLite: {error}; "
                "give a writable path to a SQLite file or ':memory:'"
            ) from None

    def __repr__(self) -> str:
        return f"SQLiteTranslationMemory({self._path!r})"

    def get_many(self, keys: Sequence[str]) -> list[MemoryEntry | None]:
        """Return the entry for each key, None where there is none."""
        found: dict[str, MemoryEntry] = {}
        unique = list(dict.fromkeys(keys))
        with self._lock:
            for start in range(0, len(unique), _CHUNK):
                chunk = unique[start : start + _CHUNK]
                marks = ",".join("?" * len(chunk))
                rows = self._connection.execute(
                    f"SELECT key, {_COLUMNS} FROM translation_memory WHERE key IN ({marks})",
                    chunk,
                ).fetchall()
                for key, *rest in rows:
                    found[key] = _from_row(cast(_Row, tuple(rest)))
        return [found.get(key) for key in keys]

    def put_many(self, entries: Iterable[MemoryEntry]) -> None:
        """Store every entry in one transaction; the later of two with the same key stays."""
        rows = [_to_row(entry) for entry in entries]
        if not rows:
            return
        with self._lock:
            self._connection.execute("BEGIN")
            try:
                self._connection.executemany(
                    "INSERT OR REPLACE INTO translation_memory "
                    f"(key, {_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    rows,
                )
            except BaseException:
                self._connection.execute("ROLLBACK")
                raise
            self._connection.execute("COMMIT")

    def entries(
        self, *, source: str | None = None, target: str | None = None
    ) -> Iterator[MemoryEntry]:
        """Yield the entries ordered by key, a page at a time, optionally filtered by language.

        The lock is held for one page only, so other threads keep working while a large
        memory is exported; entries put meanwhile may or may not be seen.
        """
        source, target = language_filter(source, target)
        last = ""
        while True:
            with self._lock:
                rows = self._connection.execute(
                    f"SELECT key, {_COLUMNS} FROM translation_memory "
                    "WHERE key > ? AND (? IS NULL OR source = ?) AND (? IS NULL OR target = ?) "
                    "ORDER BY key LIMIT ?",
                    (last, source, source, target, target, _PAGE),
                ).fetchall()
            for _key, *rest in rows:
                yield _from_row(cast(_Row, tuple(rest)))
            if len(rows) < _PAGE:
                return
            last = rows[-1][0]

    def __len__(self) -> int:
        """Return the number of entries stored."""
        with self._lock:
            (count,) = self._connection.execute(
                "SELECT COUNT(*) FROM translation_memory"
            ).fetchone()
        return int(count)

    def close(self) -> None:
        """Close the database connection."""
        with self._lock:
            self._connection.close()
