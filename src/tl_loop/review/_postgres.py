"""The review queue and audit log in PostgreSQL: one queue for every relay of a deployment.

Reviewers working from several relays (or the CLI) see the same items, and a decision is one
`UPDATE ... WHERE state = 'pending' RETURNING`, so of two reviewers clicking at once exactly one
wins, whichever relay served them. Tables are created on first use under an advisory lock.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any, cast

from tl_loop._db import PostgresPool, table_parts
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
    unknown_item,
)
from tl_loop.review._sqlite import language_clause

__all__ = ["PostgresAuditLog", "PostgresReviewQueue"]

_ITEMS = """
CREATE TABLE IF NOT EXISTS {table} (
    id TEXT PRIMARY KEY,
    created_at TIMESTAMPTZ NOT NULL,
    state TEXT NOT NULL,
    held BOOLEAN NOT NULL,
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
    decided_at TIMESTAMPTZ,
    released BOOLEAN NOT NULL DEFAULT FALSE
)
"""
_ITEM_COLUMNS = (
    "id, created_at, state, held, direction, channel, source_language, target_language, "
    "original, draft, final, flags, engine, content_type, adapter, conversation_id, "
    "glossary_version, decided_by, decided_at, released"
)
_AUDIT = """
CREATE TABLE IF NOT EXISTS {table} (
    seq BIGSERIAL PRIMARY KEY,
    created_at TIMESTAMPTZ NOT NULL,
    direction TEXT NOT NULL,
    source_language TEXT NOT NULL,
    target_language TEXT NOT NULL,
    engine TEXT,
    characters_sent INTEGER NOT NULL,
    billed_characters INTEGER,
    decision TEXT NOT NULL,
    flag_codes TEXT[] NOT NULL,
    detection_confidence DOUBLE PRECISION,
    latency_ms DOUBLE PRECISION NOT NULL,
    adapter TEXT,
    conversation_id TEXT,
    channel TEXT,
    segments INTEGER NOT NULL DEFAULT 0,
    cache_hits INTEGER NOT NULL DEFAULT 0,
    memory_hits INTEGER NOT NULL DEFAULT 0
)
"""
_AUDIT_COLUMNS = (
    "created_at, direction, source_language, target_language, engine, characters_sent, "
    "billed_characters, decision, flag_codes, detection_confidence, latency_ms, adapter, "
    "conversation_id, channel, segments, cache_hits, memory_hits"
)
_PAGE = 1000


class _PostgresStore:
    """A store in one PostgreSQL table, created with its index on first use."""

    def __init__(self, conninfo: str, *, table: str, schema: str, index: str, timeout: float):
        base = table_parts(table, what="table", longest=51, example="support.tl_review")[-1]
        self._pg = PostgresPool(
            conninfo,
            table=table,
            schema=(schema, "CREATE INDEX IF NOT EXISTS {index} ON {table} " + index),
            index=f"{base}_idx",
            purpose="the PostgreSQL review queue",
            name="tl_loop.review",
            max_size=4,
            timeout=timeout,
        )
        self._where = self._pg.where
        self._table_name = table

    @property
    def database(self) -> str:
        """`host:port/dbname` of the server (no credentials): stores that name the same one
        can share a transaction."""
        return self._where

    def close(self) -> None:
        """Close every connection of the pool."""
        self._pg.close()


def _item(row: tuple[Any, ...]) -> ReviewItem:
    (item_id, created, state, held, direction, channel, source, target, original, draft,
     final, flags, engine, content_type, adapter, conversation, glossary, decided_by,
     decided_at, released) = row  # fmt: skip
    return ReviewItem(
        id=item_id, created_at=created.astimezone(UTC), state=ReviewState(state), held=held,
        direction=cast(Direction, direction), channel=cast(Channel | None, channel),
        source_language=source, target_language=target, original=original, draft=draft,
        final=final, flags=flags_from_json(flags), engine=engine,
        content_type=cast(ContentType, content_type), adapter=adapter,
        conversation_id=conversation, glossary_version=glossary, decided_by=decided_by,
        decided_at=None if decided_at is None else decided_at.astimezone(UTC),
        released=released,
    )  # fmt: skip


class PostgresReviewQueue(_PostgresStore, ReviewQueue):
    """The review queue in a PostgreSQL table, shared by every relay and CLI that names it.

    ```python
    queue = PostgresReviewQueue("postgresql://tl@db.internal/support")
    ```

    Args:
        conninfo: a libpq connection string or URL.
        table: the table, optionally schema-qualified; created if missing.
        timeout: seconds to wait for a connection.

    Raises:
        ConfigurationError: a bad table name or connection string.
        MissingDependencyError: psycopg is missing (`pip install "tl-loop[postgres]"`).
        ServiceUnavailableError: the server cannot be reached (also from every method).
        AuthenticationError: the server refused the credentials.
    """

    def __init__(
        self, conninfo: str, *, table: str = "tl_loop_review_items", timeout: float = 5.0
    ) -> None:
        super().__init__(
            conninfo, table=table, schema=_ITEMS, index="(state, created_at)", timeout=timeout
        )

    def __repr__(self) -> str:
        return f"PostgresReviewQueue({self._where!r}, table={self._table_name!r})"

    def add(self, item: ReviewItem) -> None:
        """Queue `item`; an id already stored is left as it is."""
        marks = ", ".join(["%s"] * 20)
        query = self._pg.query(
            f"INSERT INTO {{table}} ({_ITEM_COLUMNS}) VALUES ({marks}) ON CONFLICT (id) DO NOTHING"
        )
        values = (
            item.id, item.created_at, item.state.value, item.held, item.direction, item.channel,
            item.source_language, item.target_language, item.original, item.draft, item.final,
            flags_to_json(item.flags), item.engine, item.content_type, item.adapter,
            item.conversation_id, item.glossary_version, item.decided_by, item.decided_at,
            item.released,
        )  # fmt: skip
        with self._pg.connection() as connection:
            connection.execute(query, values)

    def get(self, item_id: str) -> ReviewItem:
        """The item with this id; NotFoundError if there is none."""
        query = self._pg.query(f"SELECT {_ITEM_COLUMNS} FROM {{table}} WHERE id = %s")
        with self._pg.connection() as connection:
            row = connection.execute(query, (item_id,)).fetchone()
        if row is None:
            raise unknown_item(item_id, self._where)
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
            "since": since,
            "limit": limit,
        }
        query = self._pg.query(
            f"SELECT {_ITEM_COLUMNS} FROM {{table}} WHERE "
            "(%(state)s::text IS NULL OR state = %(state)s) "
            "AND (%(since)s::timestamptz IS NULL OR created_at >= %(since)s) "
            "AND (%(tag)s::text IS NULL OR source_language = %(tag)s "
            "     OR target_language = %(tag)s OR source_language LIKE %(pattern)s "
            "     OR target_language LIKE %(pattern)s) "
            "ORDER BY created_at DESC, id LIMIT %(limit)s"
        )
        with self._pg.connection() as connection:
            rows = connection.execute(query, params).fetchall()
        return [_item(row) for row in rows]

    def decide(
        self, item_id: str, *, state: ReviewState, reviewer: str, final: str | None = None
    ) -> ReviewItem:
        """Decide a pending item; exactly one of concurrent decisions wins."""
        with self._pg.connection() as connection:
            return self.decide_within(
                connection, item_id, state=state, reviewer=reviewer, final=final
            )

    def decide_within(
        self,
        connection: Any,
        item_id: str,
        *,
        state: ReviewState,
        reviewer: str,
        final: str | None = None,
    ) -> ReviewItem:
        """`decide` on the caller's connection, so it commits (or rolls back) with the caller's
        other writes: the relay records a decision and queues its release in one transaction.

        Raises:
            NotFoundError: no such item.
            ReviewConflictError: the item was already decided.
        """
        current = self.get(item_id)
        state, stored = check_decision(item_id, state, reviewer, final, current.draft)
        query = self._pg.query(
            "UPDATE {table} SET state = %s, final = %s, decided_by = %s, decided_at = now() "
            f"WHERE id = %s AND state = 'pending' RETURNING {_ITEM_COLUMNS}"
        )
        row = connection.execute(query, (state.value, stored, reviewer, item_id)).fetchone()
        if row is None:
            raise conflict(self.get(item_id))
        return _item(row)

    def mark_released(self, item_id: str) -> None:
        """Record that the approved or edited reply was posted."""
        query = self._pg.query(
            "UPDATE {table} SET released = TRUE "
            "WHERE id = %s AND state IN ('approved', 'edited') RETURNING id"
        )
        with self._pg.connection() as connection:
            row = connection.execute(query, (item_id,)).fetchone()
        if row is None:
            raise conflict(self.get(item_id))

    def counts(self) -> dict[str, int]:
        """Items per state, zeros included."""
        with self._pg.connection() as connection:
            rows = connection.execute(
                self._pg.query("SELECT state, count(*) FROM {table} GROUP BY state")
            ).fetchall()
        counts = {state.value: 0 for state in ReviewState}
        counts.update({state: int(count) for state, count in rows})
        return counts


class PostgresAuditLog(_PostgresStore, AuditLog):
    """The audit log in a PostgreSQL table, shared by every relay that names it.

    Args:
        conninfo: a libpq connection string or URL.
        table: the table, optionally schema-qualified; created if missing.
        timeout: seconds to wait for a connection.

    Raises:
        ConfigurationError, MissingDependencyError, ServiceUnavailableError,
        AuthenticationError: as `PostgresReviewQueue`.
    """

    def __init__(
        self, conninfo: str, *, table: str = "tl_loop_audit_log", timeout: float = 5.0
    ) -> None:
        super().__init__(
            conninfo, table=table, schema=_AUDIT, index="(created_at)", timeout=timeout
        )

    def __repr__(self) -> str:
        return f"PostgresAuditLog({self._where!r}, table={self._table_name!r})"

    def add(self, row: AuditRow) -> None:
        """Store one row."""
        marks = ", ".join(["%s"] * 17)
        query = self._pg.query(f"INSERT INTO {{table}} ({_AUDIT_COLUMNS}) VALUES ({marks})")
        values = (
            row.created_at, row.direction, row.source_language, row.target_language, row.engine,
            row.characters_sent, row.billed_characters, row.decision, list(row.flag_codes),
            row.detection_confidence, row.latency_ms, row.adapter, row.conversation_id,
            row.channel, row.segments, row.cache_hits, row.memory_hits,
        )  # fmt: skip
        with self._pg.connection() as connection:
            connection.execute(query, values)

    def rows(self, *, since: datetime | None = None) -> Iterator[AuditRow]:
        """The rows oldest first, a page per query (no connection held between pages)."""
        query = self._pg.query(
            f"SELECT seq, {_AUDIT_COLUMNS} FROM {{table}} WHERE seq > %s "
            "AND (%s::timestamptz IS NULL OR created_at >= %s) ORDER BY seq LIMIT %s"
        )
        after = 0
        while True:
            with self._pg.connection() as connection:
                page = connection.execute(query, (after, since, since, _PAGE)).fetchall()
            for row in page:
                yield _audit_row(row[1:])
            if len(page) < _PAGE:
                return
            after = page[-1][0]


def _audit_row(row: tuple[Any, ...]) -> AuditRow:
    (created, direction, source, target, engine, sent, billed, decision, codes, confidence,
     latency, adapter, conversation, channel, segments, cache_hits, memory_hits) = row  # fmt: skip
    return AuditRow(
        created_at=created.astimezone(UTC), direction=cast(Direction, direction),
        source_language=source,
        target_language=target, engine=engine, characters_sent=sent, billed_characters=billed,
        decision=decision, flag_codes=tuple(codes), detection_confidence=confidence,
        latency_ms=latency, adapter=adapter, conversation_id=conversation,
        channel=cast(Channel | None, channel), segments=segments, cache_hits=cache_hits,
        memory_hits=memory_hits,
    )  # fmt: skip
