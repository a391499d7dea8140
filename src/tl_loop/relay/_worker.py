"""Running one job: `JobRunner` picks the job type's handler and settles the job.

Failures that are safe to retry (reads, writes that surely did not arrive) put the job back
with backoff; anything else fails it with a reason that shows in the logs, in
`tl_loop_jobs_total{outcome="failed"}` and in `JobQueue.failed_jobs`, and an agent waiting for
a reply is told in the conversation.

The handlers, one per job type: `_inbound` (customer message), `_outbound` (agent note),
`_release` (review release), and the dead-letter notice below.
"""

from __future__ import annotations

import logging
import time

from tl_loop._errors import RateLimitError, ServiceError, ServiceUnavailableError
from tl_loop.relay._inbound import handle_customer_message
from tl_loop.relay._jobs import (
    AgentNote,
    CustomerMessage,
    DeadLetterNotice,
    Job,
    ReviewRelease,
)
from tl_loop.relay._outbound import handle_agent_note
from tl_loop.relay._release import handle_review_release
from tl_loop.relay._services import Services
from tl_loop.relay._writes import LeaseLost, WriteUncertain, refused

__all__ = ["JobRunner"]

log = logging.getLogger("tl_loop.relay")


class JobRunner:
    """Handles jobs for the relay, with the exactly-once write rule.

    Args:
        services: the steps every job type shares (loop, adapters, clients, queue, settings,
            metrics, review queue, audit log); the relay builds them once.
    """

    def __init__(self, services: Services) -> None:
        self.services = services
        self.queue = services.queue
        self.settings = services.settings
        self.metrics = services.metrics
        self.clients = services.clients
        self.composer = services.composer

    # -- the job lifecycle ---------------------------------------------------------------

    def run(self, job: Job) -> str:
        """Handle one claimed job and settle it; returns done, waiting, retried, failed,
        dead or lost."""
        try:
            self._handle(job)
        except LeaseLost:
            log.warning("job %s: lease lost to another worker; leaving it", job.id)
            return "lost"
        except WriteUncertain as error:
            return self._fail(job, str(error), stage="write")
        except ServiceError as error:
            if error.retryable and self._helpdesk_down(error):
                return self._wait(job, error)
            if error.retryable and job.attempts < self.settings.max_attempts:
                delay = error.retry_after or self.settings.retry_backoff_seconds * 2 ** (
                    job.attempts - 1
                )
                log.info("job %s: %s; retrying in %.1f s", job.id, error, delay)
                self.metrics.errors.labels("job", type(error).__name__).inc()
                self.queue.retry_later(job, delay, str(error))
                self.metrics.jobs.labels("retried").inc()
                return "retried"
            return self._fail(job, str(error), stage="job", error=error)
        except Exception as error:  # a bug must not kill the worker thread
            log.exception("job %s: unexpected error", job.id)
            return self._fail(job, f"internal error: {error!r}", stage="job", error=error)
        self.queue.complete(job)
        if job.waiting_since is not None:
            # It waited for the helpdesk and got through: the others need not wait their turn.
            woken = self.queue.wake_waiting(job.adapter)
            log.info("helpdesk %s answers again; %d waiting job(s) resume", job.adapter, woken)
        self.metrics.jobs.labels("done").inc()
        label = "review" if job.kind == "review" else _event_kind(job)
        self.metrics.job_seconds.labels(label).observe(time.time() - job.created_at)
        return "done"

    def _helpdesk_down(self, error: ServiceError) -> bool:
        """Whether the error says a helpdesk cannot take work now (down, overloaded)."""
        helpdesks = {client.service for client in self.clients.values()}
        return isinstance(error, ServiceUnavailableError | RateLimitError) and (
            error.service in helpdesks
        )

    def _wait(self, job: Job, error: ServiceError) -> str:
        """Wait for the helpdesk with capped backoff, or give up after the outage limit."""
        now = self.queue.now()
        since = job.waiting_since if job.waiting_since is not None else now
        limit = self.settings.outage_limit_seconds
        if now - since >= limit and not isinstance(job.work, DeadLetterNotice):
            return self._dead_letter(job, f"{error} (still after {_duration(now - since)})")
        backoff = self.settings.retry_backoff_seconds * 2 ** min(job.attempts - 1, 30)
        delay = min(self.settings.outage_backoff_max_seconds, error.retry_after or backoff)
        log.info("job %s: %s; waiting %.1f s for the helpdesk", job.id, error, delay)
        self.metrics.errors.labels("job", type(error).__name__).inc()
        self.queue.wait_later(job, delay, str(error))
        self.metrics.jobs.labels("waiting").inc()
        return "waiting"

    def _dead_letter(self, job: Job, reason: str) -> str:
        log.error("job %s (%s %s job) is dead: %s", job.id, job.adapter, job.kind, reason)
        conversation = job.conversation_id
        notice = None
        if conversation is not None and job.adapter in self.clients:
            notice = DeadLetterNotice(job.id, conversation, _what(job), reason)
        self.queue.dead_letter(job, reason, notice)
        self.metrics.jobs.labels("dead").inc()
        return "dead"

    def _handle(self, job: Job) -> None:
        services, work = self.services, job.work
        match work:
            case CustomerMessage():
                handle_customer_message(services, job, work)
            case AgentNote():
                handle_agent_note(services, job, work)
            case ReviewRelease():
                handle_review_release(services, job, work)
            case DeadLetterNotice():
                self._notice(job, work)

    def _fail(
        self, job: Job, reason: str, *, stage: str, error: BaseException | None = None
    ) -> str:
        log.error("job %s (%s %s job) failed: %s", job.id, job.adapter, job.kind, reason)
        self.metrics.errors.labels(stage, type(error).__name__ if error else "uncertain").inc()
        if isinstance(job.work, AgentNote | ReviewRelease):
            # The agent is waiting for their reply to go out; say it did not, once.
            self._tell_agent(job, self.composer.failure_note(reason))
        elif (
            isinstance(job.work, CustomerMessage)
            and isinstance(error, ServiceError)
            and refused(error)
        ):
            # The helpdesk refused the translation note: without a word the agent would
            # never know the customer's message was not translated.
            self._tell_agent(job, self.composer.failure_note(
                f"the translation of the customer's message was not posted: {reason}"
            ))  # fmt: skip
        self.queue.fail(job, reason)
        self.metrics.jobs.labels("failed").inc()
        return "failed"

    def _tell_agent(self, job: Job, note: str) -> None:
        client = self.clients.get(job.adapter)
        conversation_id = job.conversation_id
        if client is None or conversation_id is None:
            return  # a review job with no conversation to write to
        try:
            self.services.note(job, "failure_note", client, conversation_id, note)
        except (ServiceError, WriteUncertain, LeaseLost) as error:
            log.warning("job %s: could not post the failure note: %s", job.id, error)

    # -- the dead-letter notice ----------------------------------------------------------

    def _notice(self, job: Job, work: DeadLetterNotice) -> None:
        """Tell the agent about a dead job; it waits as long as the helpdesk stays down."""
        client = self.clients[job.adapter]
        note = self.composer.dead_letter_note(what=work.what, reason=work.reason)
        self.services.note(job, "notice", client, work.conversation_id, note)


def _what(job: Job) -> str:
    """The dead job's work in the agent's words."""
    work = job.work
    if isinstance(work, CustomerMessage):
        return f"translating a customer message (event {work.event.event_id})"
    if isinstance(work, AgentNote):
        return f"your note or reply (event {work.event.event_id})"
    if isinstance(work, ReviewRelease):
        return f"the reviewed reply (review item {work.item_id})"
    return f"a notice (job {work.job_id})"


def _duration(seconds: float) -> str:
    if seconds >= 3600:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 60:.0f} min" if seconds >= 120 else f"{seconds:.0f} s"


def _event_kind(job: Job) -> str:
    work = job.work
    return work.event.kind if isinstance(work, CustomerMessage | AgentNote) else work.kind
