"""The job queue's rules, once for both stores: `JobQueue` (SQLite, `_queue`) and
`PostgresJobQueue` (PostgreSQL, `_queue_pg`).

`QueueRules` is what a job may become and when it is due again: a claimed job is renewed,
completed, failed, put back (`retry_later`) or put back as waiting for its helpdesk
(`wait_later`, which starts the outage clock once); each only while the job is still the
caller's (its lease token matches). A store supplies the SQL plumbing (`_update` with its own
placeholders, `enqueue_work`, `overview`, `close`); the statements and row shapes both stores
share are here too, so a rule changes in one place.
"""

from __future__ import annotations

import abc
from collections.abc import Callable
from typing import Any, Literal, Self

from tl_loop.helpdesk._adapter import HelpdeskEvent
from tl_loop.relay._jobs import (
    Job,
    JobSummary,
    JobWork,
    ReviewRelease,
    StepState,
    decode,
    work_for_event,
)

__all__ = [
    "CLAIMED_COLUMNS",
    "FINISHED",
    "OVERVIEW_STATE",
    "SUMMARY_COLUMNS",
    "WAITING",
    "QueueRules",
    "job_from_row",
    "order_key",
    "step_state",
    "summaries",
    "summary_where",
]

WAITING = "status = 'queued' AND waiting_since IS NOT NULL"
"""A job put back because its helpdesk could not be reached: queued, with an outage clock."""

FINISHED = "status IN ('done', 'failed', 'dead')"
"""Jobs that will not run again (pruned after `retention_days`)."""

OVERVIEW_STATE = f"CASE WHEN {WAITING} THEN 'waiting' ELSE status END"
"""A job's state as `overview` counts it: waiting jobs apart from the rest of the queue."""

CLAIMED_COLUMNS = "id, adapter, event, attempts, token, created_at, kind, waiting_since"
"""What a claim returns, in the order `job_from_row` reads it."""

SUMMARY_COLUMNS = (
    "id, adapter, event_id, conversation_id, kind, error, attempts, created_at, waiting_since"
)
"""What `jobs_in` selects, in the order `summaries` reads it."""


def order_key(work: JobWork) -> str:
    """The conversation a job keeps the order of; a job without one is ordered on its own
    (its dedupe key stands in, in parentheses so it cannot meet a real conversation id)."""
    return work.conversation_id or f"({work.key})"


def job_from_row(row: tuple[Any, ...]) -> Job:
    """A claimed job from a row of `CLAIMED_COLUMNS`."""
    job_id, adapter, payload, attempts, token, created_at, kind, waiting_since = row
    return Job(
        int(job_id), adapter, decode(kind, payload), attempts, token, created_at, waiting_since
    )


def summary_where(state: Literal["waiting", "failed", "dead"]) -> str:
    """The condition selecting the jobs an operator asks for."""
    return {"waiting": WAITING, "failed": "status = 'failed'", "dead": "status = 'dead'"}[state]


def summaries(rows: list[tuple[Any, ...]]) -> list[JobSummary]:
    """Jobs as an operator sees them, from rows of `SUMMARY_COLUMNS`."""
    return [
        JobSummary(
            id=int(row[0]), adapter=row[1], key=row[2], conversation_id=row[3], kind=row[4],
            reason=row[5] or "", attempts=row[6], created_at=row[7], waiting_since=row[8],
        )
        for row in rows
    ]  # fmt: skip


def step_state(journaled: str | None) -> StepState:
    """What the journal's row for a write step means: never tried (`new`, and the caller
    journals it now), `done`, or `uncertain` (started without an answer: it may have arrived)."""
    if journaled is None:
        return "new"
    return "done" if journaled == "done" else "uncertain"


class QueueRules(abc.ABC):
    """The job transitions both stores share; see the module docstring.

    Assignments are written with `?` placeholders; a store whose driver wants others
    translates them in `_update`.
    """

    lease_seconds: float
    _clock: Callable[[], float]

    @abc.abstractmethod
    def _update(
        self, job: Job, assignments: str, values: tuple[Any, ...], *, status: str = "running"
    ) -> bool:
        """Apply `assignments` (and `updated_at`) to the job if it is still the caller's
        (same lease token) and in `status`; whether it was."""

    @abc.abstractmethod
    def enqueue_work(self, adapter: str, work: JobWork) -> int | None:
        """Queue a job of any type; None when its dedupe key was queued before for `adapter`."""

    @abc.abstractmethod
    def overview(self) -> dict[str, int]:
        """Jobs per state (`JOB_STATES`)."""

    @abc.abstractmethod
    def close(self) -> None:
        """Release the store's connections."""

    def now(self) -> float:
        """The queue's clock: seconds since the epoch."""
        return self._clock()

    # -- enqueue ---------------------------------------------------------------------------

    def enqueue(self, adapter: str, event: HelpdeskEvent) -> int | None:
        """Store a webhook's event as a job; None when this (adapter, event_id) was seen before.

        Raises:
            ValueError: an `ignored` event (nothing to do).
        """
        return self.enqueue_work(adapter, work_for_event(event))

    def enqueue_review(
        self, item_id: str, *, adapter: str | None, conversation_id: str | None
    ) -> int | None:
        """Queue carrying out the decision on review item `item_id`; None if already queued.

        The job runs in the conversation's order, after the jobs queued before it.
        """
        return self.enqueue_work(adapter or "", ReviewRelease(item_id, conversation_id))

    # -- a claimed job's transitions -------------------------------------------------------

    def renew(self, job: Job) -> bool:
        """Extend the lease; False when the job is no longer ours (taken over or finished)."""
        return self._update(job, "lease_until = ?", (self._clock() + self.lease_seconds,))

    def complete(self, job: Job) -> bool:
        """Mark the job done; False when it was no longer ours."""
        return self._update(job, "status = 'done', token = NULL, error = NULL", ())

    def fail(self, job: Job, reason: str) -> bool:
        """Mark the job failed for good, with the reason shown in logs and `failed_jobs()`."""
        return self._update(job, "status = 'failed', token = NULL, error = ?", (reason,))

    def retry_later(self, job: Job, delay: float, reason: str) -> bool:
        """Put the job back in the queue, due after `delay` seconds."""
        return self._update(
            job,
            "status = 'queued', token = NULL, not_before = ?, error = ?",
            (self._clock() + delay, reason),
        )

    def wait_later(self, job: Job, delay: float, reason: str) -> bool:
        """Put the job back as waiting for the helpdesk, due after `delay` seconds.

        The first wait records `waiting_since`, from which the outage limit counts. A waiting
        job keeps its place: later jobs of its conversation wait behind it.
        """
        now = self._clock()
        return self._update(
            job,
            "status = 'queued', token = NULL, not_before = ?, error = ?, "
            "waiting_since = COALESCE(waiting_since, ?)",
            (now + delay, reason, now),
        )

    # -- inspection ------------------------------------------------------------------------

    def counts(self) -> dict[str, int]:
        """Jobs per status: queued (waiting ones included), running, done, failed (dead ones
        included); `overview` tells waiting and dead jobs apart."""
        overview = self.overview()
        return {
            "queued": overview["queued"] + overview["waiting"],
            "running": overview["running"],
            "done": overview["done"],
            "failed": overview["failed"] + overview["dead"],
        }

    @abc.abstractmethod
    def jobs_in(self, state: Literal["waiting", "failed", "dead"]) -> list[JobSummary]:
        """The jobs in a state, oldest first: what an operator looks at."""

    def failed_jobs(self) -> list[tuple[int, str, str, str]]:
        """`(job id, adapter, event id, reason)` of every failed job, oldest first."""
        return [(j.id, j.adapter, j.key, j.reason) for j in self.jobs_in("failed")]

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
