"""`JobQueue`: the relay's durable queue, write journal and conversation state, in one SQLite file.

- `jobs`: one row per webhook event, `UNIQUE (adapter, event_id)`, so a redelivered webhook is
  recognised and not queued twice. A worker claims a job with a lease; a job whose lease ran
  out (its worker or the whole process died) is claimed again. Jobs of one conversation run one
  at a time, oldest first, so replies reach the customer in the order agents wrote them.
- `steps`: the write journal. Before a write to the helpdesk the worker records `started`;
  after it, `done`. A retried job skips `done` steps; a `started` step without `done` means
  the process died mid-write, and the write may have arrived, so it is never sent again.
- `conversations`: per conversation, the customer language (with confidence and manual flag)
  and the channel it last came in on.

A job is one of the job types of `_jobs` (a customer message, an agent note, a review
release, a dead-letter notice), stored as its `kind` and a JSON payload; `event_id` holds the
type's dedupe key, so a redelivered webhook or a decision released twice is queued once.

WAL mode lets readers (metrics, readiness) run beside the one writer; `synchronous=FULL` makes
an acknowledged webhook survive power loss, not only a crash.
"""

from __future__ import annotations

import json
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal, Protocol, Self

from tl_loop._db import open_sqlite
from tl_loop.helpdesk._adapter import HelpdeskEvent
from tl_loop.relay._jobs import (
    JOB_STATES,
    DeadLetterNotice,
    Job,
    JobKind,
    JobSummary,
    JobWork,
    StepState,
    encode,
)
from tl_loop.relay._queue_pg import PostgresJobQueue
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
from tl_loop.relay._settings import RelaySettings

__all__ = ["Job", "JobKind", "JobQueue", "JobStore", "StepState", "open_job_queue"]


_SCHEMA = """
CREATE TABLE IF NOT EXISTS jobs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    adapter TEXT NOT NULL,
    event_id TEXT NOT NULL,
    conversation_id TEXT NOT NULL,
    event TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'queued',
    attempts INTEGER NOT NULL DEFAULT 0,
    token TEXT,
    owner TEXT,
    lease_until REAL,
    not_before REAL NOT NULL DEFAULT 0,
    error TEXT,
    created_at REAL NOT NULL,
    updated_at REAL NOT NULL,
    kind TEXT NOT NULL DEFAULT 'event',
    waiting_since REAL,
    UNIQUE (adapter, event_id)
);
CREATE INDEX IF NOT EXISTS jobs_open ON jobs (id) WHERE status IN ('queued', 'running');
CREATE INDEX IF NOT EXISTS jobs_conversation ON jobs (adapter, conversation_id, status);
CREATE TABLE IF NOT EXISTS steps (
    job_id INTEGER NOT NULL,
    step TEXT NOT NULL,
    state TEXT NOT NULL,
    updated_at REAL NOT NULL,
    PRIMARY KEY (job_id, step)
);
CREATE TABLE IF NOT EXISTS conversations (
    adapter TEXT NOT NULL,
    conversation_id TEXT NOT NULL,
    state TEXT NOT NULL,
    updated_at REAL NOT NULL,
    PRIMARY KEY (adapter, conversation_id)
);
"""

# The oldest due job whose conversation has no live running job. A running job with an expired
# lease does not block its conversation: it is itself the one to take over.
_CLAIM = (
    """
UPDATE jobs SET status = 'running', token = :token, owner = :owner, lease_until = :lease,
    attempts = attempts + 1, updated_at = :now
WHERE id = (
    SELECT j.id FROM jobs j
    WHERE j.status IN ('queued', 'running')
      AND ((j.status = 'queued' AND j.not_before <= :now)
           OR (j.status = 'running' AND j.lease_until < :now))
      AND NOT EXISTS (
          SELECT 1 FROM jobs r
          WHERE r.adapter = j.adapter AND r.conversation_id = j.conversation_id
            AND r.status = 'running' AND r.lease_until >= :now AND r.id != j.id)
      AND NOT EXISTS (
          SELECT 1 FROM jobs e
          WHERE e.adapter = j.adapter AND e.conversation_id = j.conversation_id
            AND e.status IN ('queued', 'running') AND e.id < j.id)
    ORDER BY j.id LIMIT 1
)
RETURNING """
    + CLAIMED_COLUMNS
)


def _is_dead(owner: str, host: str, me: str) -> bool:
    """Whether the process named by `owner` is gone (only known for this host)."""
    their_host, _, rest = owner.partition(":")
    pid_text, _, _ = rest.partition(":")
    if their_host != host or owner == me or not pid_text.isdigit():
        return False
    pid = int(pid_text)
    if pid == os.getpid():
        return True  # our pid, another instance: the process that held it was replaced by us
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


class JobStore(Protocol):
    """What the relay needs of a queue: `JobQueue` (SQLite) and `PostgresJobQueue` have it."""

    where: str
    lease_seconds: float

    def enqueue(self, adapter: str, event: HelpdeskEvent) -> int | None: ...
    def enqueue_review(
        self, item_id: str, *, adapter: str | None, conversation_id: str | None
    ) -> int | None: ...
    def enqueue_work(self, adapter: str, work: JobWork) -> int | None: ...
    def claim(self) -> Job | None: ...
    def renew(self, job: Job) -> bool: ...
    def complete(self, job: Job) -> bool: ...
    def fail(self, job: Job, reason: str) -> bool: ...
    def retry_later(self, job: Job, delay: float, reason: str) -> bool: ...
    def wait_later(self, job: Job, delay: float, reason: str) -> bool: ...
    def dead_letter(
        self, job: Job, reason: str, notice: DeadLetterNotice | None = None
    ) -> bool: ...
    def wake_waiting(self, adapter: str) -> int: ...
    def now(self) -> float: ...
    def recover_orphans(self) -> int: ...
    def begin_step(self, job: Job, step: str) -> StepState: ...
    def finish_step(self, job: Job, step: str) -> None: ...
    def forget_step(self, job: Job, step: str) -> None: ...
    def load_conversation(self, adapter: str, conversation_id: str) -> dict[str, Any] | None: ...
    def save_conversation(
        self, adapter: str, conversation_id: str, state: dict[str, Any]
    ) -> None: ...
    def counts(self) -> dict[str, int]: ...
    def overview(self) -> dict[str, int]: ...
    def failed_jobs(self) -> list[tuple[int, str, str, str]]: ...
    def jobs_in(self, state: Literal["waiting", "failed", "dead"]) -> list[JobSummary]: ...
    def check_writable(self) -> None: ...
    def prune(self, *, older_than: float) -> int: ...
    def close(self) -> None: ...
    def __enter__(self) -> Self: ...
    def __exit__(self, *exc_info: object) -> None: ...


def open_job_queue(settings: RelaySettings, *, owner: str | None = None) -> JobStore:
    """The queue a relay's settings name: PostgreSQL with `queue_url`, else the SQLite file.

    Raises:
        ServiceUnavailableError: the PostgreSQL server cannot be reached.
        MissingDependencyError: `queue_url` without psycopg installed.
    """
    if settings.queue_url:
        return PostgresJobQueue(
            settings.queue_url,
            table_prefix=settings.queue_table_prefix,
            lease_seconds=settings.lease_seconds,
            owner=owner,
        )
    return JobQueue(settings.queue_path, lease_seconds=settings.lease_seconds, owner=owner)


class JobQueue(QueueRules):
    """The durable queue. Safe to share between threads (one connection behind a lock).

    Args:
        path: the SQLite file; created with its tables if missing. `":memory:"` for tests.
        lease_seconds: how long a claim holds before another worker may take the job over.
        owner: who claims jobs through this object, as `host:pid:instance`; lets a restarted
            relay resume at once the jobs of a dead process on the same host.
        clock: seconds since the epoch (tests pass their own).
    """

    def __init__(
        self,
        path: str | Path,
        *,
        lease_seconds: float = 120.0,
        owner: str | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.path = path
        self.where = os.fspath(path)
        self.lease_seconds = lease_seconds
        self.owner = owner or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self._clock = clock
        self._lock = threading.Lock()
        self._db = open_sqlite(path, schema=_SCHEMA, synchronous="FULL", busy_timeout=5)
        columns = {row[1] for row in self._db.execute("PRAGMA table_info(jobs)")}
        if "kind" not in columns:  # a queue file from before review jobs
            self._db.execute("ALTER TABLE jobs ADD COLUMN kind TEXT NOT NULL DEFAULT 'event'")
        if "waiting_since" not in columns:  # a queue file from before outage waiting
            self._db.execute("ALTER TABLE jobs ADD COLUMN waiting_since REAL")

    # -- enqueue and claim ---------------------------------------------------------------

    def enqueue_work(self, adapter: str, work: JobWork) -> int | None:
        """Queue a job of any type; None when its dedupe key was queued before for `adapter`."""
        with self._lock:
            return self._insert(adapter, work, self._clock())

    def _insert(self, adapter: str, work: JobWork, now: float) -> int | None:
        kind, payload = encode(work)
        cursor = self._db.execute(
            "INSERT OR IGNORE INTO jobs (adapter, event_id, conversation_id, event, kind,"
            " created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (adapter, work.key, order_key(work), payload, kind, now, now),
        )
        return cursor.lastrowid if cursor.rowcount else None

    def claim(self) -> Job | None:
        """Take the next due job under a fresh lease, or None when nothing is due."""
        now = self._clock()
        token = uuid.uuid4().hex
        params = {
            "token": token,
            "owner": self.owner,
            "lease": now + self.lease_seconds,
            "now": now,
        }
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                row = self._db.execute(_CLAIM, params).fetchone()
            finally:
                self._db.execute("COMMIT")
        return None if row is None else job_from_row(row)

    def dead_letter(self, job: Job, reason: str, notice: DeadLetterNotice | None = None) -> bool:
        """Give the job up (`dead`) and, in the same transaction, queue the agent's notice.

        Returns False (and queues nothing) when the job was no longer ours.
        """
        now = self._clock()
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                cursor = self._db.execute(
                    "UPDATE jobs SET status = 'dead', token = NULL, error = ?, updated_at = ? "
                    "WHERE id = ? AND token = ? AND status = 'running'",
                    (reason, now, job.id, job.token),
                )
                if cursor.rowcount == 1 and notice is not None:
                    self._insert(job.adapter, notice, now)
            finally:
                self._db.execute("COMMIT")
        return cursor.rowcount == 1

    def wake_waiting(self, adapter: str) -> int:
        """Make every job waiting on `adapter`'s helpdesk due now (it answers again)."""
        now = self._clock()
        with self._lock:
            cursor = self._db.execute(
                "UPDATE jobs SET not_before = ? WHERE adapter = ? AND status = 'queued' "
                "AND waiting_since IS NOT NULL AND not_before > ?",
                (now, adapter, now),
            )
            return cursor.rowcount

    def _update(
        self, job: Job, assignments: str, values: tuple[Any, ...], *, status: str = "running"
    ) -> bool:
        with self._lock:
            cursor = self._db.execute(
                f"UPDATE jobs SET {assignments}, updated_at = ? "  # fixed fragments only
                "WHERE id = ? AND token = ? AND status = ?",
                (*values, self._clock(), job.id, job.token, status),
            )
            return cursor.rowcount == 1

    def recover_orphans(self) -> int:
        """Expire the leases of jobs held by dead processes on this host; returns how many.

        Call it at startup: a relay killed mid-job then resumes its jobs at once instead of
        after their lease. Jobs of live processes and of other hosts are left alone.
        """
        host, _, _ = self.owner.split(":", 2)
        with self._lock:
            rows = self._db.execute(
                "SELECT id, owner FROM jobs WHERE status = 'running' AND owner IS NOT NULL"
            ).fetchall()
            dead = [job_id for job_id, owner in rows if _is_dead(owner, host, self.owner)]
            for job_id in dead:
                self._db.execute("UPDATE jobs SET lease_until = 0 WHERE id = ?", (job_id,))
        return len(dead)

    # -- the write journal ---------------------------------------------------------------

    def begin_step(self, job: Job, step: str) -> StepState:
        """Record that a write is about to be sent, unless it was already tried.

        Returns `new` (recorded now: send it), `done` (skip it) or `uncertain` (an earlier try
        never got its answer recorded: it may have arrived, so do not send it again).
        """
        with self._lock:
            row = self._db.execute(
                "SELECT state FROM steps WHERE job_id = ? AND step = ?", (job.id, step)
            ).fetchone()
            state = step_state(None if row is None else row[0])
            if state == "new":
                self._db.execute(
                    "INSERT INTO steps (job_id, step, state, updated_at) "
                    "VALUES (?, ?, 'started', ?)",
                    (job.id, step, self._clock()),
                )
            return state

    def finish_step(self, job: Job, step: str) -> None:
        """Record that a write was answered with success."""
        self._set_step(job, step, "done")

    def forget_step(self, job: Job, step: str) -> None:
        """Drop a started step whose write surely never arrived, so a retry may send it."""
        with self._lock:
            self._db.execute("DELETE FROM steps WHERE job_id = ? AND step = ?", (job.id, step))

    def _set_step(self, job: Job, step: str, state: str) -> None:
        with self._lock:
            self._db.execute(
                "UPDATE steps SET state = ?, updated_at = ? WHERE job_id = ? AND step = ?",
                (state, self._clock(), job.id, step),
            )

    # -- conversation state --------------------------------------------------------------

    def load_conversation(self, adapter: str, conversation_id: str) -> dict[str, Any] | None:
        """The stored state of a conversation, if any."""
        with self._lock:
            row = self._db.execute(
                "SELECT state FROM conversations WHERE adapter = ? AND conversation_id = ?",
                (adapter, conversation_id),
            ).fetchone()
        return None if row is None else dict(json.loads(row[0]))

    def save_conversation(self, adapter: str, conversation_id: str, state: dict[str, Any]) -> None:
        """Store a conversation's state, replacing what was there."""
        with self._lock:
            self._db.execute(
                "INSERT OR REPLACE INTO conversations VALUES (?, ?, ?, ?)",
                (adapter, conversation_id, json.dumps(state), self._clock()),
            )

    # -- inspection and upkeep -----------------------------------------------------------

    def overview(self) -> dict[str, int]:
        """Jobs per state: queued, waiting (for a helpdesk that is down), running, done,
        failed, dead (gave up after the outage limit)."""
        with self._lock:
            rows = self._db.execute(
                f"SELECT {OVERVIEW_STATE}, COUNT(*) FROM jobs GROUP BY 1"
            ).fetchall()
        counts = dict.fromkeys(JOB_STATES, 0)
        counts.update({status: count for status, count in rows})
        return counts

    def jobs_in(self, state: Literal["waiting", "failed", "dead"]) -> list[JobSummary]:
        """The jobs in a state, oldest first: what an operator looks at."""
        with self._lock:
            rows = self._db.execute(
                f"SELECT {SUMMARY_COLUMNS} FROM jobs WHERE {summary_where(state)} ORDER BY id"
            ).fetchall()
        return summaries(rows)

    def check_writable(self) -> None:
        """Take and release the write lock; raises `sqlite3.Error` when the file is unusable."""
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            self._db.execute("ROLLBACK")

    def prune(self, *, older_than: float) -> int:
        """Delete finished jobs (and their journal) last touched more than `older_than` s ago."""
        cutoff = self._clock() - older_than
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                self._db.execute(
                    f"DELETE FROM steps WHERE job_id IN (SELECT id FROM jobs WHERE {FINISHED} "
                    "AND updated_at < ?)",
                    (cutoff,),
                )
                cursor = self._db.execute(
                    f"DELETE FROM jobs WHERE {FINISHED} AND updated_at < ?",
                    (cutoff,),
                )
            finally:
                self._db.execute("COMMIT")
        return cursor.rowcount

    def close(self) -> None:
        """Close the database connection."""
        with self._lock:
            self._db.close()
