"""`PostgresJobQueue`: the relay's queue, journal and conversation state in PostgreSQL, shared
by any number of relay processes (`[relay] queue_url`).

The same rules as the SQLite `JobQueue`, made safe across processes and hosts:

- **any replica takes any webhook**: `(adapter, event_id)` is unique in one table, so a
  redelivery that reaches another replica is recognised as a duplicate;
- **claiming** is one `UPDATE … WHERE id = (SELECT … FOR UPDATE SKIP LOCKED)`: only the oldest
  open job of a conversation can be claimed, so a conversation's jobs run one at a time in
  arrival order whichever replica takes them, and replicas never wait on each other's rows;
- a **dead replica's jobs** are claimed by the others once their lease runs out;
- a **journal step is begun in the same transaction that checks and extends the job's lease**,
  so a worker that lost its job can never journal (and then send) a write for it;
- dead-lettering a job and queueing the agent's notice are one transaction.

Why not a job-queue library: procrastinate (the PostgreSQL queue that fits best) was evaluated.
Its per-`lock` ordering only keeps a job back while another job of the lock is *running*
(`procrastinate_fetch_job` checks `status = 'doing'`), so a job waiting for its retry does not
hold later jobs of its conversation back: during an outage a conversation's second reply would
overtake the first. Its job state is written by its own worker on its own connection, so a
journal step cannot share a transaction with it; and its `queueing_lock` forgets a job once it
ran, where the relay must recognise a redelivered webhook for `retention_days`. What remains
once those are added back is this module's few statements.
"""

from __future__ import annotations

import json
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, Literal

from tl_loop._db import PostgresPool, table_parts
from tl_loop.relay._jobs import (
    JOB_STATES,
    DeadLetterNotice,
    Job,
    JobSummary,
    JobWork,
    ReviewRelease,
    StepState,
    encode,
)
from tl_loop.relay._queue_rules import (
    CLAIMED_COLUMNS,
    FINISHED,
    OVERVIEW_STATE,
    SUMMARY_COLUMNS,
    QueueRules,
    job_from_row,
    order_key,
    step_state,
    summaries,
    summary_where,
)

__all__ = ["PostgresJobQueue"]


def _schema(jobs: str, steps: str, conversations: str, prefix: str) -> list[str]:
    return [
        f"""CREATE TABLE IF NOT EXISTS {jobs} (
            id BIGSERIAL PRIMARY KEY,
            adapter TEXT NOT NULL,
            event_id TEXT NOT NULL,
            conversation_id TEXT NOT NULL,
            event TEXT NOT NULL,
            kind TEXT NOT NULL,
            status TEXT NOT NULL DEFAULT 'queued',
            attempts INTEGER NOT NULL DEFAULT 0,
            token TEXT,
            owner TEXT,
            lease_until DOUBLE PRECISION,
            not_before DOUBLE PRECISION NOT NULL DEFAULT 0,
            waiting_since DOUBLE PRECISION,
            error TEXT,
            created_at DOUBLE PRECISION NOT NULL,
            updated_at DOUBLE PRECISION NOT NULL,
            UNIQUE (adapter, event_id))""",
        f'CREATE INDEX IF NOT EXISTS "{prefix}_open" ON {jobs} (id) '
        "WHERE status IN ('queued', 'running')",
        f'CREATE INDEX IF NOT EXISTS "{prefix}_conversation" ON {jobs} '
        "(adapter, conversation_id, id) WHERE status IN ('queued', 'running')",
        f"""CREATE TABLE IF NOT EXISTS {steps} (
            job_id BIGINT NOT NULL,
            step TEXT NOT NULL,
            state TEXT NOT NULL,
            updated_at DOUBLE PRECISION NOT NULL,
            PRIMARY KEY (job_id, step))""",
        f"""CREATE TABLE IF NOT EXISTS {conversations} (
            adapter TEXT NOT NULL,
            conversation_id TEXT NOT NULL,
            state TEXT NOT NULL,
            updated_at DOUBLE PRECISION NOT NULL,
            PRIMARY KEY (adapter, conversation_id))""",
    ]


class PostgresJobQueue(QueueRules):
    """The durable queue in PostgreSQL, shared by several relays. Safe to share between threads.

    ```python
    queue = PostgresJobQueue("postgresql://relay@db/tl_loop", lease_seconds=120)
    ```

    Args:
        conninfo: a libpq connection string or URL.
        table_prefix: the tables are `<prefix>_jobs`, `<prefix>_steps` and
            `<prefix>_conversations` (optionally `schema.prefix`).
        lease_seconds: how long a claim holds before another worker may take the job over.
        owner: who claims jobs through this object (`host:pid:instance`).
        clock: seconds since the epoch; every replica's clock must be right (NTP).
        pool_size: the most connections this process opens.

    Raises:
        MissingDependencyError: psycopg is not installed (`pip install "tl-loop[postgres]"`).
        ConfigurationError: a bad connection string or prefix.
        ServiceUnavailableError: the server cannot be reached.
    """

    def __init__(
        self,
        conninfo: str,
        *,
        table_prefix: str = "tl_loop_relay",
        lease_seconds: float = 120.0,
        owner: str | None = None,
        clock: Callable[[], float] = time.time,
        pool_size: int = 8,
    ) -> None:
        parts = table_parts(
            table_prefix, what="relay queue table prefix", longest=40, example="tl_loop_relay"
        )
        schema_name = f'"{parts[0]}".' if len(parts) == 2 else ""
        prefix = parts[-1]
        self._jobs = f'{schema_name}"{prefix}_jobs"'
        self._steps = f'{schema_name}"{prefix}_steps"'
        self._conversations = f'{schema_name}"{prefix}_conversations"'
        self.lease_seconds = lease_seconds
        self.owner = owner or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self._clock = clock
        self._pool = PostgresPool(
            conninfo,
            table=f"{table_prefix}_jobs",
            schema=_schema(self._jobs, self._steps, self._conversations, prefix),
            index=f"{prefix}_unused",
            purpose="the shared relay queue",
            name="tl-loop-relay-queue",
            max_size=pool_size,
            timeout=10.0,
        )
        self.where = f"postgresql://{self._pool.where}"  # no password
        self._closed = threading.Event()

    # -- plumbing --------------------------------------------------------------------------

    def _one(self, query: str, params: Any = ()) -> tuple[Any, ...] | None:
        with self._pool.connection() as connection:
            return connection.execute(query, params).fetchone()

    def _all(self, query: str, params: Any = ()) -> list[tuple[Any, ...]]:
        with self._pool.connection() as connection:
            return connection.execute(query, params).fetchall()

    def _count(self, query: str, params: Any = ()) -> int:
        with self._pool.connection() as connection:
            return connection.execute(query, params).rowcount

    # -- enqueue and claim -----------------------------------------------------------------

    @property
    def database(self) -> str:
        """`host:port/dbname` of the server (no credentials): stores that name the same one
        can share a transaction."""
        return self._pool.where

    @contextmanager
    def transaction(self) -> Iterator[Any]:
        """A connection in one transaction, for writes of another store that must commit
        together with the queue's (`enqueue_review_within`)."""
        with self._pool.connection() as connection, connection.transaction():
            yield connection

    def enqueue_review_within(
        self, connection: Any, item_id: str, *, adapter: str | None, conversation_id: str | None
    ) -> int | None:
        """`enqueue_review` inside the caller's `transaction()`."""
        work = ReviewRelease(item_id, conversation_id)
        return self._insert(connection, adapter or "", work, self._clock())

    def enqueue_work(self, adapter: str, work: JobWork) -> int | None:
        """Queue a job of any type; None when its dedupe key was queued before for `adapter`."""
        with self._pool.connection() as connection:
            return self._insert(connection, adapter, work, self._clock())

    def _insert(self, connection: Any, adapter: str, work: JobWork, now: float) -> int | None:
        kind, payload = encode(work)
        row = connection.execute(
            f"INSERT INTO {self._jobs} (adapter, event_id, conversation_id, event, kind,"
            " created_at, updated_at) VALUES (%s, %s, %s, %s, %s, %s, %s)"
            " ON CONFLICT (adapter, event_id) DO NOTHING RETURNING id",
            (adapter, work.key, order_key(work), payload, kind, now, now),
        ).fetchone()
        return None if row is None else int(row[0])

    def claim(self) -> Job | None:
        """Take the next due job under a fresh lease, or None when nothing is due."""
        now = self._clock()
        jobs = self._jobs
        row = self._one(
            f"""UPDATE {jobs} SET status = 'running', token = %(token)s, owner = %(owner)s,
                lease_until = %(lease)s, attempts = attempts + 1, updated_at = %(now)s
            WHERE id = (
                SELECT j.id FROM {jobs} j
                WHERE ((j.status = 'queued' AND j.not_before <= %(now)s)
                       OR (j.status = 'running' AND j.lease_until < %(now)s))
                  AND NOT EXISTS (
                      SELECT 1 FROM {jobs} e
                      WHERE e.adapter = j.adapter AND e.conversation_id = j.conversation_id
                        AND e.status IN ('queued', 'running') AND e.id < j.id)
                ORDER BY j.id
                FOR UPDATE SKIP LOCKED
                LIMIT 1)
            RETURNING {CLAIMED_COLUMNS}""",
            {
                "token": uuid.uuid4().hex,
                "owner": self.owner,
                "lease": now + self.lease_seconds,
                "now": now,
            },
        )
        return None if row is None else job_from_row(row)

    def _update(
        self, job: Job, assignments: str, values: tuple[Any, ...], *, status: str = "running"
    ) -> bool:
        assignments = assignments.replace("?", "%s")  # the shared rules' placeholders
        return (
            self._count(
                f"UPDATE {self._jobs} SET {assignments}, updated_at = %s "  # fixed fragments
                "WHERE id = %s AND token = %s AND status = %s",
                (*values, self._clock(), job.id, job.token, status),
            )
            == 1
        )

    def dead_letter(self, job: Job, reason: str, notice: DeadLetterNotice | None = None) -> bool:
        """Give the job up (`dead`) and queue the agent's notice, in one transaction."""
        now = self._clock()
        with self._pool.connection() as connection, connection.transaction():
            cursor = connection.execute(
                f"UPDATE {self._jobs} SET status = 'dead', token = NULL, error = %s, "
                "updated_at = %s WHERE id = %s AND token = %s AND status = 'running'",
                (reason, now, job.id, job.token),
            )
            if cursor.rowcount == 1 and notice is not None:
                self._insert(connection, job.adapter, notice, now)
            return cursor.rowcount == 1

    def wake_waiting(self, adapter: str) -> int:
        """Make every job waiting on `adapter`'s helpdesk due now (it answers again)."""
        now = self._clock()
        return self._count(
            f"UPDATE {self._jobs} SET not_before = %s WHERE adapter = %s AND status = 'queued' "
            "AND waiting_since IS NOT NULL AND not_before > %s",
            (now, adapter, now),
        )

    def recover_orphans(self) -> int:
        """Nothing to do: other replicas (and this one) take expired leases over by themselves.

        A replica cannot tell a dead process on another host from a slow one, so a dead
        replica's jobs wait out their lease.
        """
        return 0

    # -- the write journal -----------------------------------------------------------------

    def begin_step(self, job: Job, step: str) -> StepState:
        """Record that a write is about to be sent, unless it was already tried.

        One transaction checks that the job is still ours and extends its lease, then reads or
        journals the step: `lost` when another worker took the job over.
        """
        now = self._clock()
        with self._pool.connection() as connection, connection.transaction():
            owned = connection.execute(
                f"UPDATE {self._jobs} SET lease_until = %s, updated_at = %s "
                "WHERE id = %s AND token = %s AND status = 'running'",
                (now + self.lease_seconds, now, job.id, job.token),
            ).rowcount
            if owned != 1:
                return "lost"
            row = connection.execute(
                f"SELECT state FROM {self._steps} WHERE job_id = %s AND step = %s",
                (job.id, step),
            ).fetchone()
            state = step_state(None if row is None else row[0])
            if state == "new":
                connection.execute(
                    f"INSERT INTO {self._steps} (job_id, step, state, updated_at) "
                    "VALUES (%s, %s, 'started', %s)",
                    (job.id, step, now),
                )
            return state

    def finish_step(self, job: Job, step: str) -> None:
        """Record that a write was answered with success."""
        self._count(
            f"UPDATE {self._steps} SET state = 'done', updated_at = %s "
            "WHERE job_id = %s AND step = %s",
            (self._clock(), job.id, step),
        )

    def forget_step(self, job: Job, step: str) -> None:
        """Drop a started step whose write surely never arrived, so a retry may send it."""
        self._count(f"DELETE FROM {self._steps} WHERE job_id = %s AND step = %s", (job.id, step))

    # -- conversation state ----------------------------------------------------------------

    def load_conversation(self, adapter: str, conversation_id: str) -> dict[str, Any] | None:
        """The stored state of a conversation, if any."""
        row = self._one(
            f"SELECT state FROM {self._conversations} WHERE adapter = %s AND conversation_id = %s",
            (adapter, conversation_id),
        )
        return None if row is None else dict(json.loads(row[0]))

    def save_conversation(self, adapter: str, conversation_id: str, state: dict[str, Any]) -> None:
        """Store a conversation's state, replacing what was there."""
        self._count(
            f"INSERT INTO {self._conversations} VALUES (%s, %s, %s, %s) "
            "ON CONFLICT (adapter, conversation_id) DO UPDATE SET state = EXCLUDED.state, "
            "updated_at = EXCLUDED.updated_at",
            (adapter, conversation_id, json.dumps(state), self._clock()),
        )

    # -- inspection and upkeep -------------------------------------------------------------

    def overview(self) -> dict[str, int]:
        """Jobs per state: queued, waiting, running, done, failed, dead."""
        rows = self._all(f"SELECT {OVERVIEW_STATE}, COUNT(*) FROM {self._jobs} GROUP BY 1")
        counts = dict.fromkeys(JOB_STATES, 0)
        counts.update({status: int(count) for status, count in rows})
        return counts

    def jobs_in(self, state: Literal["waiting", "failed", "dead"]) -> list[JobSummary]:
        """The jobs in a state, oldest first."""
        return summaries(
            self._all(
                f"SELECT {SUMMARY_COLUMNS} FROM {self._jobs} "
                f"WHERE {summary_where(state)} ORDER BY id"  # fixed fragments
            )
        )

    def check_writable(self) -> None:
        """Run a write in a transaction and roll it back; raises when the database is unusable."""
        with self._pool.connection() as connection, connection.transaction(force_rollback=True):
            connection.execute(f"SELECT 1 FROM {self._jobs} LIMIT 0 FOR UPDATE")

    def prune(self, *, older_than: float) -> int:
        """Delete finished jobs (and their journal) last touched more than `older_than` s ago."""
        cutoff = self._clock() - older_than
        with self._pool.connection() as connection, connection.transaction():
            connection.execute(
                f"DELETE FROM {self._steps} WHERE job_id IN (SELECT id FROM {self._jobs} WHERE "
                f"{FINISHED} AND updated_at < %s)",
                (cutoff,),
            )
            return int(
                connection.execute(
                    f"DELETE FROM {self._jobs} WHERE {FINISHED} AND updated_at < %s",
                    (cutoff,),
                ).rowcount
            )

    def close(self) -> None:
        """Close the connection pool."""
        if not self._closed.is_set():
            self._closed.set()
            self._pool.close()
