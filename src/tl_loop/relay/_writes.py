"""Writing to a helpdesk at most once: the write journal around every note and reply.

A job's writes go through `Writes.once`: the step is journaled as started before the request is
sent and as done after the answer, so a retried job skips what was done and never repeats a
write that may have arrived (see `JobQueue`).

A note write that may have arrived (a timeout, a 5xx after the body was sent, a relay killed
mid-write) is not given up: where the platform lists internal notes (`lists_notes_of`), the job
waits, reads the conversation back and looks for the note's journal reference (stamped before
its closing marker), then posts it only if it is absent. A reply carries no reference (the
customer sees it), so an uncertain reply is reported to the agent instead.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable

from tl_loop._errors import ServiceError, ServiceUnavailableError
from tl_loop._models import ContentType
from tl_loop.helpdesk._client import HelpdeskClient
from tl_loop.relay._jobs import Job
from tl_loop.relay._metrics import RelayMetrics
from tl_loop.relay._notes import NoteComposer, stamp_text
from tl_loop.relay._queue import JobStore

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
        metrics: counts sent, skipped, failed, refused, confirmed and uncertain writes.
    """

    def __init__(self, queue: JobStore, metrics: RelayMetrics) -> None:
        self.queue = queue
        self.metrics = metrics

    def note(
        self, job: Job, step: str, client: HelpdeskClient, conversation_id: str, note: str,
        *, content_type: ContentType,
    ) -> None:  # fmt: skip
        """Post an internal note once, stamped with the step's journal reference."""
        ref = journal_ref(job, step)
        stamped = NoteComposer.stamp(note, ref)

        def read_back() -> bool:
            wanted = stamp_text(ref)
            return any(wanted in message.text for message in client.get_messages(conversation_id))

        self.once(
            job, step, "note",
            lambda: client.post_note(conversation_id, stamped, content_type=content_type),
            read_back=read_back if client.adapter.lists_notes_of(conversation_id) else None,
        )  # fmt: skip

    def once(
        self,
        job: Job,
        step: str,
        kind: str,
        send: Callable[[], object],
        *,
        read_back: Callable[[], bool] | None = None,
        idempotent: bool = False,
    ) -> None:
        """Run a helpdesk write unless the journal says it was done or may have arrived.

        `send` returns False when it had nothing to send.

        Args:
            read_back: says whether an uncertain write is in the helpdesk (None: cannot tell).
            idempotent: sending the write twice does no harm (setting a field), so an
                uncertain one is simply sent again.

        Raises:
            LeaseLost: the job is no longer ours.
            WriteUncertain: the write may have arrived and nothing can tell whether it did.
            ServiceError: retryable when a later try may send or check it (the job waits); a
                refusal (`refused`) is final.
        """
        if not self.queue.renew(job):
            raise LeaseLost
        state = self.queue.begin_step(job, step)
        if state == "lost":
            raise LeaseLost
        if state == "done":
            self.metrics.writes.labels(kind, "skipped").inc()
            return
        if state == "uncertain" and not idempotent:
            self.metrics.writes.labels(kind, "uncertain").inc()
            if read_back is None:
                raise WriteUncertain(
                    f"the {step} write was interrupted before its answer was recorded; it may "
                    "have reached the helpdesk, so it is not sent again (check the ticket)"
                )
            if read_back():  # a read failure raises: the job waits and checks again
                self.queue.finish_step(job, step)
                self.metrics.writes.labels(kind, "confirmed").inc()
                return
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
            if idempotent or (read_back is not None and isinstance(error, ServiceUnavailableError)):
                # The step stays started: the next try counts it uncertain and reads back (or
                # resends) first.
                reason = str(error).removeprefix(f"{error.service}: ")
                raise ServiceUnavailableError(
                    f"{reason}; it is checked against the conversation before sending again",
                    service=error.service,
                    retry_after=error.retry_after,
                ) from error
            self.metrics.writes.labels(kind, "uncertain").inc()
            raise WriteUncertain(str(error)) from error
        self.queue.finish_step(job, step)
        # `False` is a write with nothing to send (no language field configured, or the
        # value is already there): counted apart, so "sent" means a request really went.
        self.metrics.writes.labels(kind, "not_needed" if sent is False else "sent").inc()


def journal_ref(job: Job, step: str) -> str:
    """A short reference for one write step, the same on every try of the job.

    Made from the adapter, the job's dedupe key and the step, so it is unique across relays
    that write into the same helpdesk.
    """
    name = f"{job.adapter}\0{job.work.key}\0{step}"
    return hashlib.blake2s(name.encode(), digest_size=6).hexdigest()
