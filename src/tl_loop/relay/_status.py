"""`relay_status`: what an operator needs to see of a relay's queue, without a running relay.

Jobs per state, and the ones that need a look: waiting for a helpdesk that is down, failed
(told to the agent where one waits), dead (given up after the outage limit). What
`tl-loop relay status` prints.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from tl_loop.relay._jobs import JobSummary
from tl_loop.relay._queue import open_job_queue
from tl_loop.relay._settings import RelaySettings

__all__ = ["RelayStatus", "relay_status"]

_SHOWN = 20


@dataclass(frozen=True, slots=True)
class RelayStatus:
    """A snapshot of a relay's queue.

    Attributes:
        where: the queue (file path or PostgreSQL server), for the reader.
        counts: jobs per state: queued, waiting, running, done, failed, dead.
        waiting: jobs waiting for a helpdesk that cannot be reached, oldest first.
        failed: jobs that failed for good, oldest first.
        dead: jobs given up after the outage limit, oldest first.
    """

    where: str
    counts: dict[str, int]
    waiting: list[JobSummary]
    failed: list[JobSummary]
    dead: list[JobSummary]

    @property
    def healthy(self) -> bool:
        """No job is dead, failed or waiting."""
        return not (self.waiting or self.failed or self.dead)

    def render(self, *, now: float | None = None) -> str:
        """The snapshot as text for a terminal."""
        now = time.time() if now is None else now
        states = ", ".join(f"{state} {count}" for state, count in self.counts.items())
        lines = [f"relay queue {self.where}: {states}"]
        for title, jobs in (
            ("waiting for the helpdesk", self.waiting),
            ("dead (gave up after the outage limit; the agent is told)", self.dead),
            ("failed", self.failed),
        ):
            if not jobs:
                continue
            lines.append(f"{title}:")
            for job in jobs[-_SHOWN:]:
                since = job.waiting_since if job.waiting_since is not None else job.created_at
                lines.append(
                    f"  job {job.id} {job.adapter} {job.kind} {job.key} conversation "
                    f"{job.conversation_id}, {_ago(now - since)}: {job.reason}"
                )
            if len(jobs) > _SHOWN:
                lines.append(f"  … and {len(jobs) - _SHOWN} older")
        return "\n".join(lines)


def relay_status(settings: RelaySettings) -> RelayStatus:
    """Read the queue a relay's settings name (`queue_url`, else `queue_path`).

    Raises:
        ServiceUnavailableError: the PostgreSQL queue cannot be reached.
        sqlite3.Error: the queue file is not a database.
    """
    with open_job_queue(settings) as queue:
        return RelayStatus(
            where=queue.where,
            counts=queue.overview(),
            waiting=queue.jobs_in("waiting"),
            failed=queue.jobs_in("failed"),
            dead=queue.jobs_in("dead"),
        )


def _ago(seconds: float) -> str:
    if seconds >= 3600:
        return f"since {seconds / 3600:.1f} h"
    return f"since {seconds / 60:.0f} min" if seconds >= 120 else f"since {max(seconds, 0):.0f} s"
