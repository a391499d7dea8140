"""Database plumbing shared by the stores: opening SQLite files and PostgreSQL pools.

What a store keeps to itself is its tables and queries; how a database is opened, locked
against concurrent schema creation, and how its failures become our errors is the same for
every store, and lives here.
"""

from __future__ import annotations

import os
import re
import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from tl_loop._errors import (
    AuthenticationError,
    ConfigurationError,
    MissingDependencyError,
    ServiceResponseError,
    ServiceUnavailableError,
)

if TYPE_CHECKING:
    from psycopg import Connection, sql
    from psycopg_pool import ConnectionPool

__all__ = ["POSTGRES_INSTALL", "PostgresPool", "describe_conninfo", "open_sqlite", "table_parts"]

POSTGRES_INSTALL = 'pip install "tl-loop[postgres]"'
_MEMORY = ":memory:"


def open_sqlite(
    path: str | os.PathLike[str],
    *,
    schema: str = "",
    synchronous: Literal["FULL", "NORMAL"] | None = None,
    busy_timeout: float = 5.0,
    create_parent: bool = True,
    autocommit: bool = True,
) -> sqlite3.Connection:
    """Open a SQLite database for a store: WAL for files, a busy timeout, any thread.

    Args:
        path: the database file, or `":memory:"` (no folder, no WAL: neither applies).
        schema: a script of `CREATE ... IF NOT EXISTS` statements run once opened.
        synchronous: the `synchronous` pragma; None keeps SQLite's default.
        busy_timeout: seconds to wait for another connection's write lock.
        create_parent: make the file's folder if it is missing.
        autocommit: each statement commits unless the caller runs `BEGIN`; False gives
            Python's implicit transactions, ended by `commit()`.

    Returns:
        The connection; callers serialise its use between threads themselves.

    Raises:
        sqlite3.Error: the file cannot be opened as a database (callers say what to do).
    """
    name = os.fspath(path)
    if create_parent and name != _MEMORY:
        Path(name).parent.mkdir(parents=True, exist_ok=True)
    db = sqlite3.connect(
        name,
        timeout=busy_timeout,
        check_same_thread=False,  # stores share one connection behind their own lock
        isolation_level=None if autocommit else "DEFERRED",
    )
    try:
        if name != _MEMORY:
            # Readers in other processes (metrics, CLI) keep working while this one writes.
            db.execute("PRAGMA journal_mode=WAL")
        if synchronous is not None:
            db.execute(f"PRAGMA synchronous={synchronous}")  # one of two literals
        if schema:
            db.executescript(schema)
    except BaseException:
        db.close()
        raise
    return db


def table_parts(table: str, *, what: str, longest: int, example: str) -> list[str]:
    """Split a PostgreSQL table name into its (schema and) table identifiers, checked.

    Args:
        table: `name` or `schema.name`.
        what: what the table is, for the message ("table", "translation memory table").
        longest: the most characters a part may have (room is left for index suffixes).
        example: a good name to show.

    Raises:
        ConfigurationError: more than one dot, or a part that is not a plain identifier.
    """
    identifier = re.compile(rf"[A-Za-z_][A-Za-z0-9_]{{0,{longest - 1}}}")
    parts = table.split(".")
    if len(parts) > 2 or not all(identifier.fullmatch(part) for part in parts):
        raise ConfigurationError(
            f"bad {what} name {table!r}: use letters, digits and _ (at most {longest}), "
            f"optionally after a schema name and a dot, e.g. {example!r}"
        )
    return parts


def describe_conninfo(conninfo: str) -> str:
    """`host:port/dbname` of a connection string, without its password."""
    from psycopg.conninfo import conninfo_to_dict

    try:
        options = conninfo_to_dict(conninfo)
    except Exception:  # only for messages: never fail while describing
        return "<unparsable conninfo>"
    host, port = options.get("host", "localhost"), options.get("port", 5432)
    return f"{host}:{port}/{options.get('dbname', '')}"


class PostgresPool:
    """A psycopg connection pool serving one table, created on open if missing.

    Args:
        conninfo: a libpq connection string or URL.
        table: the table, checked by `table_parts`, optionally schema-qualified.
        schema: statements run once at open, in one transaction under an advisory lock on the
            table name (workers starting together would race in `CREATE ... IF NOT EXISTS`);
            `{table}` and `{index}` in them stand for the table and index identifiers.
        index: the name of the table's index, for `{index}`.
        purpose: what needs the database, for the missing-dependency message.
        name: the pool's name in psycopg's logs.
        max_size: the most connections this process opens.
        timeout: seconds to wait for a connection (at start and from the pool).

    Raises:
        MissingDependencyError: psycopg or psycopg-pool is not installed.
        ConfigurationError: a bad connection string.
        ServiceUnavailableError: the server cannot be reached within `timeout`.
        AuthenticationError: the server refused the credentials.
    """

    def __init__(
        self,
        conninfo: str,
        *,
        table: str,
        schema: Sequence[str],
        index: str,
        purpose: str,
        name: str,
        max_size: int,
        timeout: float,
    ) -> None:
        try:
            import psycopg
            from psycopg import sql
            from psycopg_pool import ConnectionPool, PoolTimeout
        except ImportError:
            raise MissingDependencyError(
                f"{purpose} needs psycopg 3 and psycopg-pool", install=POSTGRES_INSTALL
            ) from None
        self.where = describe_conninfo(conninfo)
        self.table_name = table
        self.sql = sql
        self.table = sql.Identifier(*table.split("."))
        self._psycopg = psycopg
        self._pool_timeout: type[Exception] = PoolTimeout
        self._pool = self._open(ConnectionPool, conninfo, name, max_size, timeout)
        try:
            self._create(schema, index)
        except BaseException:
            self._pool.close()
            raise

    def _open(
        self,
        pool_class: type[ConnectionPool],
        conninfo: str,
        name: str,
        size: int,
        timeout: float,
    ) -> ConnectionPool:
        connect_timeout = max(1, round(timeout))
        try:
            pool: ConnectionPool = pool_class(
                conninfo,
                min_size=1,
                max_size=size,
                open=False,
                timeout=timeout,
                kwargs={"autocommit": True, "connect_timeout": connect_timeout},
                check=pool_class.check_connection,  # a server restart must not break workers
                name=name,
            )
        except self._psycopg.ProgrammingError as error:
            raise ConfigurationError(
                f"bad PostgreSQL connection string: {error}; use e.g. "
                "postgresql://user:password@host:5432/dbname"
            ) from None
        # Connect once ourselves: the pool only logs why its background attempts fail.
        try:
            self._psycopg.connect(conninfo, connect_timeout=connect_timeout).close()
        except self._psycopg.Error as error:
            raise self._error(error) from None
        pool.open(wait=True, timeout=timeout)
        return pool

    def _error(self, error: Exception) -> Exception:
        text = str(error).strip()
        if isinstance(error, self._psycopg.OperationalError) and "password" in text:
            return AuthenticationError(
                f"{self.where} refused the credentials ({text}); check user and password",
                service="postgresql",
            )
        if isinstance(error, self._psycopg.OperationalError | self._pool_timeout):
            return ServiceUnavailableError(
                f"cannot reach {self.where} ({text or type(error).__name__}); "
                "is PostgreSQL running and the connection string right?",
                service="postgresql",
            )
        return ServiceResponseError(f"{self.where} refused a query: {text}", service="postgresql")

    @contextmanager
    def connection(self) -> Iterator[Connection[tuple[Any, ...]]]:
        """A connection from the pool, with psycopg and pool errors raised as ours.

        Raises:
            ServiceUnavailableError: the server went away or no connection came in time.
            AuthenticationError: the server refused the credentials.
            ServiceResponseError: the server refused a query.
        """
        try:
            with self._pool.connection() as connection:
                yield connection
        except (self._psycopg.Error, self._pool_timeout) as error:
            raise self._error(error) from error

    def query(self, template: str, **parts: sql.Composable) -> sql.Composed:
        """`template` as SQL, with `{table}` and the named `parts` filled in as identifiers."""
        return self.sql.SQL(template).format(table=self.table, **parts)

    def identifiers(self, names: Iterable[str], template: str = "{0}") -> sql.Composed:
        """`template` made for each name (as `{0}`, an identifier), joined with commas."""
        return self.sql.SQL(", ").join(
            self.sql.SQL(template).format(self.sql.Identifier(name)) for name in names
        )

    def _create(self, schema: Sequence[str], index: str) -> None:
        with self.connection() as connection, connection.transaction():
            connection.execute(
                "SELECT pg_advisory_xact_lock(hashtext(%s))", (f"tl_loop:{self.table_name}",)
            )
            for statement in schema:
                connection.execute(self.query(statement, index=self.sql.Identifier(index)))

    def close(self) -> None:
        """Close every connection of the pool."""
        self._pool.close()
