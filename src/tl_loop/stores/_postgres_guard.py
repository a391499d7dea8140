"""The breaker ledger in PostgreSQL: for deployments that already share one database.

One row per engine: its version and its `GuardRecord` as JSON. A write is
`UPDATE ... WHERE version = %s` (or an insert that does nothing when another replica inserted
first), so replicas that record at the same time never lose each other's failures.
"""

from __future__ import annotations

import json
import time
from typing import Any

from tl_loop._db import PostgresPool, table_parts
from tl_loop.engines._guard_ledger import GuardRecord

__all__ = ["PostgresGuardLedger"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS {table} (
    engine TEXT PRIMARY KEY,
    version BIGINT NOT NULL,
    record JSONB NOT NULL
)
"""


class PostgresGuardLedger:
    """Engine breakers and rate-limit pauses shared by every replica through PostgreSQL.

    Give it to `EngineChain(ledger=...)`, or set `[breaker] backend = "postgres"` in the
    config. Replicas compare wall-clock times, so their clocks must agree (NTP).

    Args:
        conninfo: a libpq connection string or URL, e.g. `postgresql://tl@db/support`.
        table: the table, optionally schema-qualified; created if missing.
        max_connections: the most connections this process opens.
        timeout: seconds to wait for a connection. Short: every engine call asks the ledger,
            and when the database is slow or down each engine keeps its own record instead.

    Raises:
        ConfigurationError: a bad table name or connection string.
        MissingDependencyError: psycopg is missing (`pip install "tl-loop[postgres]"`).
        ServiceUnavailableError: the server cannot be reached at start.
    """

    def __init__(
        self,
        conninfo: str,
        *,
        table: str = "tl_loop_engine_breakers",
        max_connections: int = 2,
        timeout: float = 2.0,
    ) -> None:
        parts = table_parts(table, what="breaker table", longest=63, example="support.breakers")
        self._pg = PostgresPool(
            conninfo,
            table=table,
            schema=(_SCHEMA,),
            index=parts[-1],
            purpose="the PostgreSQL breaker ledger",
            name="tl_loop.breakers",
            max_size=max_connections,
            timeout=timeout,
        )

    def __repr__(self) -> str:
        return f"PostgresGuardLedger({self._pg.where!r}, table={self._pg.table_name!r})"

    def now(self) -> float:
        """Wall-clock seconds (replicas compare them: keep clocks in sync)."""
        return time.time()

    def read(self, engine: str) -> tuple[GuardRecord, int]:
        """The engine's record and version; a fresh record at version 0 when there is none."""
        query = self._pg.query("SELECT version, record FROM {table} WHERE engine = %s")
        with self._pg.connection() as connection:
            row: tuple[Any, ...] | None = connection.execute(query, (engine,)).fetchone()
        if row is None:
            return GuardRecord(), 0
        version, record = row
        return GuardRecord.from_json(record if isinstance(record, dict) else {}), int(version)

    def write(self, engine: str, record: GuardRecord, *, version: int) -> bool:
        """Compare-and-set in one statement."""
        data = json.dumps(record.as_json(), separators=(",", ":"))
        if version == 0:
            query = self._pg.query(
                "INSERT INTO {table} (engine, version, record) VALUES (%s, 1, %s::jsonb) "
                "ON CONFLICT (engine) DO NOTHING"
            )
            parameters: tuple[Any, ...] = (engine, data)
        else:
            query = self._pg.query(
                "UPDATE {table} SET version = version + 1, record = %s::jsonb "
                "WHERE engine = %s AND version = %s"
            )
            parameters = (data, engine, version)
        with self._pg.connection() as connection:
            return connection.execute(query, parameters).rowcount == 1

    def close(self) -> None:
        """Close the connection pool."""
        self._pg.close()
