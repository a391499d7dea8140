"""The PostgreSQL translation memory: one durable memory for every worker of a deployment.

One table, keyed on `memory_key`; writes are upserts (`INSERT ... ON CONFLICT DO UPDATE`), so
the latest human wins across workers too. The table is created on first use, under an
advisory lock, so workers that start together do not race to create it.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import Any, cast

from tl_loop._db import PostgresPool, table_parts
from tl_loop._errors import ConfigurationError
from tl_loop.stores._memory import MemoryEntry, MemoryOrigin, TranslationMemory, language_filter

__all__ = ["PostgresTranslationMemory"]

_COLUMNS = (
    "source_text",
    "target_text",
    "source",
    "target",
    "glossary_version",
    "origin",
    "author",
    "created_at",
)
_PAGE = 500
_SCHEMA = """
CREATE TABLE IF NOT EXISTS {table} (
    key TEXT PRIMARY KEY,
    source_text TEXT NOT NULL,
    target_text TEXT NOT NULL,
    source TEXT NOT NULL,
    target TEXT NOT NULL,
    glossary_version TEXT,
    origin TEXT NOT NULL,
    author TEXT,
    created_at TIMESTAMPTZ NOT NULL
)
"""


def _from_row(row: tuple[Any, ...]) -> MemoryEntry:
    source_text, target_text, source, target, glossary_version, origin, author, created = row
    return MemoryEntry(
        source_text=source_text,
        target_text=target_text,
        source=source,
        target=target,
        glossary_version=glossary_version,
        origin=cast(MemoryOrigin, origin),
        author=author,
        created_at=created,
    )


class PostgresTranslationMemory(TranslationMemory):
    """A translation memory in a PostgreSQL table, shared by every worker that names it.

    A psycopg connection pool serves the threads of one process; each worker process has its
    own pool. Lookups are one `key = ANY(...)` query, writes one transaction per `put_many`.

    Args:
        conninfo: a libpq connection string or URL, e.g. `postgresql://tl@db/support`.
        table: the table, optionally schema-qualified (`support.tl_memory`); created if missing.
        max_connections: the most connections this process opens.
        timeout: seconds to wait for a connection (at start and from the pool).

    Raises:
        ConfigurationError: a bad table name or connection string.
        MissingDependencyError: psycopg is missing (`pip install "tl-loop[postgres]"`).
        ServiceUnavailableError: the server cannot be reached within `timeout`.
        AuthenticationError: the server refused the credentials.

    Every method raises `ServiceUnavailableError` if the server goes away.

    Example:
        ```python
        with PostgresTranslationMemory("postgresql://tl@db.internal/support") as memory:
            memory.put(MemoryEntry(source_text="Hola ⟦0⟧", target_text="Hi ⟦0⟧",
                                   source="es", target="en", glossary_version=None))
        ```
    """

    def __init__(
        self,
        conninfo: str,
        *,
        table: str = "tl_loop_translation_memory",
        max_connections: int = 4,
        timeout: float = 5.0,
    ) -> None:
        parts = table_parts(  # 63 bytes less room for "_pair"
            table, what="translation memory table", longest=58, example="support.tl_memory"
        )
        if max_connections < 1:
            raise ConfigurationError(f"max_connections must be 1 or more, not {max_connections}")
        self._pg = PostgresPool(
            conninfo,
            table=table,
            schema=(_SCHEMA, "CREATE INDEX IF NOT EXISTS {index} ON {table} (source, target)"),
            index=f"{parts[-1]}_pair",
            purpose="the PostgreSQL memory",
            name="tl_loop.memory",
            max_size=max_connections,
            timeout=timeout,
        )

    def __repr__(self) -> str:
        return f"PostgresTranslationMemory({self._pg.where!r}, table={self._pg.table_name!r})"

    def get_many(self, keys: Sequence[str]) -> list[MemoryEntry | None]:
        """Return the entry for each key, None where there is none, in one query."""
        unique = list(dict.fromkeys(keys))
        if not unique:
            return []
        query = self._pg.query(
            "SELECT key, {columns} FROM {table} WHERE key = ANY(%s)",
            columns=self._pg.identifiers(_COLUMNS),
        )
        with self._pg.connection() as connection:
            rows = connection.execute(query, (unique,)).fetchall()
        found = {row[0]: _from_row(row[1:]) for row in rows}
        return [found.get(key) for key in keys]

    def put_many(self, entries: Iterable[MemoryEntry]) -> None:
        """Upsert every entry in one transaction; the later of two with the same key stays."""
        # One statement may not touch a row twice, so keep only the last entry per key.
        latest = {entry.key: entry for entry in entries}
        if not latest:
            return
        identifiers = self._pg.identifiers(_COLUMNS)
        updates = self._pg.identifiers(_COLUMNS, "{0} = EXCLUDED.{0}")
        query = self._pg.query(
            "INSERT INTO {table} (key, {columns}) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s) "
            "ON CONFLICT (key) DO UPDATE SET {updates}",
            columns=identifiers,
            updates=updates,
        )
        rows = [
            (
                key,
                entry.source_text,
                entry.target_text,
                entry.source,
                entry.target,
                entry.glossary_version,
                entry.origin,
                entry.author,
                entry.created_at,
            )
            for key, entry in latest.items()
        ]
        with (
            self._pg.connection() as connection,
            connection.transaction(),
            connection.cursor() as cursor,
        ):
            cursor.executemany(query, rows)

    def entries(
        self, *, source: str | None = None, target: str | None = None
    ) -> Iterator[MemoryEntry]:
        """Yield the entries ordered by key, 500 per query, optionally filtered by language.

        No connection is held between pages, so other threads keep working while a large
        memory is exported; entries put meanwhile may or may not be seen.
        """
        source, target = language_filter(source, target)
        query = self._pg.query(
            "SELECT key, {columns} FROM {table} WHERE key > %(after)s "
            "AND (%(source)s::text IS NULL OR source = %(source)s) "
            "AND (%(target)s::text IS NULL OR target = %(target)s) "
            "ORDER BY key LIMIT %(page)s",
            columns=self._pg.identifiers(_COLUMNS),
        )
        after = ""
        while True:
            params = {"after": after, "source": source, "target": target, "page": _PAGE}
            with self._pg.connection() as connection:
                rows = connection.execute(query, params).fetchall()
            for row in rows:
                yield _from_row(row[1:])
            if len(rows) < _PAGE:
                return
            after = rows[-1][0]

    def __len__(self) -> int:
        """Return the number of entries stored."""
        with self._pg.connection() as connection:
            row = connection.execute(self._pg.query("SELECT count(*) FROM {table}")).fetchone()
        return int(row[0]) if row else 0

    def close(self) -> None:
        """Close every connection of the pool."""
        self._pg.close()
