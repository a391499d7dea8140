"""The PostgreSQL translation memory: one durable memory for every worker of a deployment.

One table, keyed on `memory_key`; writes are upserts (`INSERT ... ON CONFLICT DO UPDATE`), so
the latest human wins across workers too. The table is created on first use, under an
advisory lock, so workers that start together do not race to create it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, cast

from tl_loop._errors import (
    AuthenticationError,
    ConfigurationError,
    MissingDependencyError,
    ServiceResponseError,
    ServiceUnavailableError,
)
from tl_loop.stores._memory import MemoryEntry, MemoryOrigin, TranslationMemory, language_filter

if TYPE_CHECKING:
    from psycopg import Connection, sql
    from psycopg_pool import ConnectionPool

__all__ = ["PostgresTranslationMemory"]

POSTGRES_INSTALL = 'pip install "tl-loop[postgres]"'
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,57}")  # 63 bytes less room for "_pair"
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


def _table_parts(table: str) -> list[str]:
    parts = table.split(".")
    if len(parts) > 2 or not all(_IDENTIFIER.fullmatch(part) for part in parts):
        raise ConfigurationError(
            f"bad translation memory table name {table!r}: use letters, digits and _ "
            "(at most 58), optionally after a schema name and a dot, e.g. 'support.tl_memory'"
        )
    return parts


def _where(conninfo: str) -> str:
    """`host:port/dbname` of a connection string, without its password."""
    from psycopg.conninfo import conninfo_to_dict

    try:
        options = conninfo_to_dict(conninfo)
    except Exception:  # only for messages: never fail while describing
        return "<unparsable conninfo>"
    host, port = options.get("host", "localhost"), options.get("port", 5432)
    return f"{host}:{port}/{options.get('dbname', '')}"


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
        parts = _table_parts(table)
        if max_connections < 1:
            raise ConfigurationError(f"max_connections must be 1 or more, not {max_connections}")
        try:
            import psycopg
            from psycopg import sql
            from psycopg_pool import ConnectionPool, PoolTimeout
        except ImportError:
            raise MissingDependencyError(
                "the PostgreSQL memory needs psycopg 3 and psycopg-pool", install=POSTGRES_INSTALL
            ) from None
        self._where = _where(conninfo)
        self._table_name = table
        self._psycopg = psycopg
        self._sql = sql
        self._table = sql.Identifier(*parts)
        self._index = sql.Identifier(f"{parts[-1]}_pair")
        self._pool_timeout: type[Exception] = PoolTimeout
        self._pool = self._open(ConnectionPool, conninfo, max_connections, timeout)
        try:
            self._create_table()
        except BaseException:
            self._pool.close()
            raise

    def _open(
        self, pool_class: type[ConnectionPool], conninfo: str, size: int, timeout: float
    ) -> ConnectionPool:
        try:
            pool: ConnectionPool = pool_class(
                conninfo,
                min_size=1,
                max_size=size,
                open=False,
                timeout=timeout,
                kwargs={"autocommit": True, "connect_timeout": max(1, round(timeout))},
                check=pool_class.check_connection,  # a server restart must not break workers
                name="tl_loop.memory",
            )
        except self._psycopg.ProgrammingError as error:
            raise ConfigurationError(
                f"bad PostgreSQL connection string: {error}; use e.g. "
                "postgresql://user:password@host:5432/dbname"
            ) from None
        # Connect once ourselves: the pool only logs why its background attempts fail.
        try:
            self._psycopg.connect(conninfo, connect_timeout=max(1, round(timeout))).close()
        except self._psycopg.Error as error:
            raise self._error(error) from None
        pool.open(wait=True, timeout=timeout)
        return pool

    def __repr__(self) -> str:
        return f"PostgresTranslationMemory({self._where!r}, table={self._table_name!r})"

    def _error(self, error: Exception) -> Exception:
        text = str(error).strip()
        if isinstance(error, self._psycopg.OperationalError) and "password" in text:
            return AuthenticationError(
                f"{self._where} refused the credentials ({text}); check user and password",
                service="postgresql",
            )
        if isinstance(error, self._psycopg.OperationalError | self._pool_timeout):
            return ServiceUnavailableError(
                f"cannot reach {self._where} ({text or type(error).__name__}); "
                "is PostgreSQL running and the connection string right?",
                service="postgresql",
            )
        return ServiceResponseError(f"{self._where} refused a query: {text}", service="postgresql")

    @contextmanager
    def _connection(self) -> Iterator[Connection[tuple[Any, ...]]]:
        try:
            with self._pool.connection() as connection:
                yield connection
        except (self._psycopg.Error, self._pool_timeout) as error:
            raise self._error(error) from error

    def _query(self, template: str, **parts: sql.Composable) -> sql.Composed:
        return self._sql.SQL(template).format(table=self._table, **parts)

    def _create_table(self) -> None:
        with self._connection() as connection, connection.transaction():
            # Workers starting together would race in CREATE TABLE IF NOT EXISTS.
            connection.execute(
                "SELECT pg_advisory_xact_lock(hashtext(%s))", (f"tl_loop:{self._table_name}",)
            )
            connection.execute(self._query(_SCHEMA))
            connection.execute(
                self._query(
                    "CREATE INDEX IF NOT EXISTS {index} ON {table} (source, target)",
                    index=self._index,
                )
            )

    def _columns(self) -> sql.Composable:
        return self._sql.SQL(", ").join(map(self._sql.Identifier, _COLUMNS))

    def get_many(self, keys: Sequence[str]) -> list[MemoryEntry | None]:
        """Return the entry for each key, None where there is none, in one query."""
        unique = list(dict.fromkeys(keys))
        if not unique:
            return []
        query = self._query(
            "SELECT key, {columns} FROM {table} WHERE key = ANY(%s)", columns=self._columns()
        )
        with self._connection() as connection:
            rows = connection.execute(query, (unique,)).fetchall()
        found = {row[0]: _from_row(row[1:]) for row in rows}
        return [found.get(key) for key in keys]

    def put_many(self, entries: Iterable[MemoryEntry]) -> None:
        """Upsert every entry in one transaction; the later of two with the same key stays."""
        # One statement may not touch a row twice, so keep only the last entry per key.
        latest = {entry.key: entry for entry in entries}
        if not latest:
            return
        identifiers = self._columns()
        updates = self._sql.SQL(", ").join(
            self._sql.SQL("{0} = EXCLUDED.{0}").format(self._sql.Identifier(name))
            for name in _COLUMNS
        )
        query = self._query(
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
            self._connection() as connection,
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
        query = self._query(
            "SELECT key, {columns} FROM {table} WHERE key > %(after)s "
            "AND (%(source)s::text IS NULL OR source = %(source)s) "
            "AND (%(target)s::text IS NULL OR target = %(target)s) "
            "ORDER BY key LIMIT %(page)s",
            columns=self._columns(),
        )
        after = ""
        while True:
            params = {"after": after, "source": source, "target": target, "page": _PAGE}
            with self._connection() as connection:
                rows = connection.execute(query, params).fetchall()
            for row in rows:
                yield _from_row(row[1:])
            if len(rows) < _PAGE:
                return
            after = rows[-1][0]

    def __len__(self) -> int:
        """Return the number of entries stored."""
        with self._connection() as connection:
            row = connection.execute(self._query("SELECT count(*) FROM {table}")).fetchone()
        return int(row[0]) if row else 0

    def close(self) -> None:
        """Close every connection of the pool."""
        self._pool.close()
