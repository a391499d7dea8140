"""Writing to a helpdesk at most once: the write journal around every note and reply.

A job's writes go through `Writes.once`: the step is journaled as started before the request is
sent and as done after the answer, so a retried job skips what was done and never repeats a
write that may have arrived (see `JobQueue`).
"""

from __future__ import annotations

from collections.abc import Callable

from tl_loop._errors import ServiceError
from tl_loop.relay._jobs import Job
from tl_loop.relay._metrics import RelayMetrics
from tl_loop.relay._queue import JobQueue

__all__ = ["LeaseLost", "WriteUncertain", "Writes", "refused"]


class LeaseLost(Exception):
    """Another worker took the job over: stop without touching it."""


class WriteUncertain(Exception):
    """A write may have arrived, so the job must fail rather than send it again."""


def refused(error: ServiceError) -> bool:
    """True when the helpdesk answered a write with a definite refusal (a 4xx other than a
    rate limit or a request timeout): nothing was stored, and sending it again as it is
    would be refused again."""
    status = error.status_code
    return status is not None and 400 <= status < 500 and status not in (408, 429)


class Writes:
    """The journaled writes of every job.

    Args:
        queue: holds the journal and the job's lease.
        metrics: counts sent, skipped, failed and uncertain writes.
    """

    def __init__(self, queue: JobQueue, metrics: RelayMetrics) -> None:
        self.queue = queue
        self.metrics = metrics

    def once(self, job: Job, step: str, kind: str, send: Callable[[], object]) -> None:
        """Run a helpdesk write unless the journal says it was done or may have arrived.

        `send` returns False when it had nothing to send.

        Raises:
            LeaseLost: the job is no longer ours.
            WriteUncertain: an earlier try of this step died mid-write, or this one may have
                arrived without an answer.
            ServiceError: retryable only when the write surely did not arrive; a refusal
                (`refused`) is final.
        """
        if not self.queue.renew(job):
            raise LeaseLost
        state = self.queue.begin_step(job, step)
        if state == "done":
            self.metrics.writes.labels(kind, "skipped").inc()
            return
        if state == "uncertain":
            self.metrics.writes.labels(kind, "uncertain").inc()
            raise WriteUncertain(
                f"the {step} write was interrupted before its answer was recorded; it may have "
                "reached the helpdesk, so it is not sent again (check the ticket)"
            )
        try:
            sent = send()
        except ServiceError as error:
            if error.retryable:  # surely not delivered: a later try may send it
                self.queue.forget_step(job, step)
                self.metrics.writes.labels(kind, "failed").inc()
                raise
            if refused(error):  # definitely not stored: the job fails with the reason
                self.queue.forget_step(job, step)
                self.metrics.writes.labels(kind, "refused").inc()
                raise
            self.metrics.writes.labels(kind, "uncertain").inc()
            raise WriteUncertain(str(error)) from error
        self.queue.finish_step(job, step)
        # `False` is a write with nothing to send (no language field configured, or the
        # value is already there): counted apart, so "sent" means a request really went.
        self.metrics.writes.labels(kind, "not_needed" if sent is False else "sent").inc()
