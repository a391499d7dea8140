"""Running one job: fetch, translate, write once. `JobRunner` is what every worker thread calls.

A job's writes go through `write_once`: the step is journaled as started before the request is
sent and as done after the answer, so a retried job skips what was done and never repeats a
write that may have arrived (see `JobQueue`). Failures that are safe to retry (reads, writes
that surely did not arrive) put the job back with backoff; anything else fails it with a reason
that shows in the logs, in `tl_loop_jobs_total{outcome="failed"}` and in `JobQueue.failed_jobs`.

With a review queue, a held reply goes there (the agent gets a note with the item's link) and
a reply sent with flags is queued for review afterwards. A reviewer's decision becomes a
`review` job: it posts an approved or edited reply once (journal step `release`), tells the
agent about a rejection, and teaches the translation memory (`tl_loop.review.learn`).
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from tl_loop._errors import NotFoundError, ServiceError
from tl_loop._loop import Loop
from tl_loop._models import (
    AuditRecord,
    Channel,
    ContentType,
    Conversation,
    Decision,
    Message,
    Translation,
)
from tl_loop.helpdesk._adapter import HelpdeskAdapter, HelpdeskEvent
from tl_loop.helpdesk._client import HelpdeskClient
from tl_loop.relay._metrics import RelayMetrics
from tl_loop.relay._queue import Job, JobQueue
from tl_loop.relay._settings import RelaySettings
from tl_loop.relay._transport import NoteComposer, parse_trigger
from tl_loop.review import AuditLog, ReviewItem, ReviewQueue, ReviewState, learn

__all__ = ["JobRunner"]

log = logging.getLogger("tl_loop.relay")


class _LeaseLost(Exception):
    """Another worker took the job over: stop without touching it."""


class _WriteUncertain(Exception):
    """A write may have arrived, so the job must fail rather than send it again."""


@dataclass(frozen=True, slots=True)
class _Text:
    text: str
    content_type: ContentType
    message_id: str | None


class JobRunner:
    """Handles jobs for the relay: the transport, with the exactly-once write rule.

    Args:
        loop: the translation loop (shared by all workers; it is thread-safe).
        adapters: the configured adapters by webhook name.
        clients: a `HelpdeskClient` per adapter name.
        queue: the durable queue and journal.
        settings: triggers, note format, disclosure, retry limits.
        metrics: where to count what happens.
        agent_languages: per adapter, what its agents read.
        review: where held and flagged replies go; None keeps the old held note only.
        audit: where every translation is recorded; None records nothing.
    """

    def __init__(
        self,
        *,
        loop: Loop,
        adapters: Mapping[str, HelpdeskAdapter],
        clients: Mapping[str, HelpdeskClient],
        queue: JobQueue,
        settings: RelaySettings,
        metrics: RelayMetrics,
        agent_languages: Mapping[str, tuple[str, ...]],
        review: ReviewQueue | None = None,
        audit: AuditLog | None = None,
    ) -> None:
        self.loop = loop
        self.review = review
        self.audit = audit
        self.adapters = adapters
        self.clients = clients
        self.queue = queue
        self.settings = settings
        self.metrics = metrics
        self.agent_languages = agent_languages
        self.composer = NoteComposer(
            format=settings.note_format,
            trigger=settings.trigger,
            preview_trigger=settings.preview_trigger,
        )

    # -- the job lifecycle ---------------------------------------------------------------

    def run(self, job: Job) -> str:
        """Handle one claimed job and settle it; returns done, retried, failed or lost."""
        try:
            self._handle(job)
        except _LeaseLost:
            log.warning("job %s: lease lost to another worker; leaving it", job.id)
            return "lost"
        except _WriteUncertain as error:
            return self._fail(job, str(error), stage="write")
        except ServiceError as error:
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
        self.metrics.jobs.labels("done").inc()
        label = "review" if job.kind == "review" else job.event.kind
        self.metrics.job_seconds.labels(label).observe(time.time() - job.created_at)
        return "done"

    def _fail(
        self, job: Job, reason: str, *, stage: str, error: BaseException | None = None
    ) -> str:
        log.error(
            "job %s (%s event %s) failed: %s", job.id, job.adapter, job.event.event_id, reason
        )
        self.metrics.errors.labels(stage, type(error).__name__ if error else "uncertain").inc()
        if job.event.kind == "agent_note":
            self._tell_agent(job, reason)
        self.queue.fail(job, reason)
        self.metrics.jobs.labels("failed").inc()
        return "failed"

    def _tell_agent(self, job: Job, reason: str) -> None:
        # The agent is waiting for their reply to go out; say it did not, once, best effort.
        note = self.composer.failure_note(reason)
        client = self.clients.get(job.adapter)
        if client is None or job.event.conversation_id.startswith("review:"):
            return  # a review job with no conversation to write to
        try:
            self.write_once(job, "failure_note", "note", lambda: self._post_note(client, job, note))
        except (ServiceError, _WriteUncertain, _LeaseLost) as error:
            log.warning("job %s: could not post the failure note: %s", job.id, error)

    def write_once(self, job: Job, step: str, kind: str, send: Callable[[], object]) -> None:
        """Run a helpdesk write unless the journal says it was done or may have arrived.

        Raises:
            _LeaseLost: the job is no longer ours.
            _WriteUncertain: an earlier try of this step died mid-write, or this one may have
                arrived without an answer.
            ServiceError: retryable only when the write surely did not arrive.
        """
        if not self.queue.renew(job):
            raise _LeaseLost
        state = self.queue.begin_step(job, step)
        if state == "done":
            self.metrics.writes.labels(kind, "skipped").inc()
            return
        if state == "uncertain":
            self.metrics.writes.labels(kind, "uncertain").inc()
            raise _WriteUncertain(
                f"the {step} write was interrupted before its answer was recorded; it may have "
                "reached the helpdesk, so it is not sent again (check the ticket)"
            )
        try:
            send()
        except ServiceError as error:
            if error.retryable:  # surely not delivered: a later try may send it
                self.queue.forget_step(job, step)
                self.metrics.writes.labels(kind, "failed").inc()
                raise
            self.metrics.writes.labels(kind, "uncertain").inc()
            raise _WriteUncertain(str(error)) from error
        self.queue.finish_step(job, step)
        self.metrics.writes.labels(kind, "sent").inc()

    # -- the transport -------------------------------------------------------------------

    def _handle(self, job: Job) -> None:
        if job.kind == "review":
            self._review_job(job)
        elif job.event.kind == "agent_note":
            self._agent_note(job)
        elif job.event.kind in ("customer_message", "ticket_created"):
            self._customer_message(job)

    def _customer_message(self, job: Job) -> None:
        event, client = job.event, self.clients[job.adapter]
        message = self._text(client, event, author="customer")
        conversation, channel = self._conversation(job)
        before = conversation.customer_language
        translation = self._translate(
            job,
            "inbound",
            Message(
                text=message.text,
                content_type=message.content_type,
                id=message.message_id,
                channel=channel,
            ),
            conversation,
        )
        self._save_conversation(job, conversation, channel)
        if not translation.skipped:
            note = self.composer.inbound_note(translation)
            self.write_once(job, "note", "note", lambda: self._post_note(client, job, note))
        language = conversation.customer_language
        if language is not None and language != before:
            try:
                self.write_once(
                    job, "language", "language",
                    lambda: client.set_language(event.conversation_id, language),
                )  # fmt: skip
            except (ServiceError, _WriteUncertain) as error:
                # The note is what the agent needs; a missing language field is not worth
                # failing (or repeating) the job for.
                log.warning("job %s: could not record the language: %s", job.id, error)
                self.metrics.errors.labels("language", type(error).__name__).inc()

    def _agent_note(self, job: Job) -> None:
        event, client = job.event, self.clients[job.adapter]
        message = self._text(client, event, author="agent")
        trigger = parse_trigger(
            message.text,
            trigger=self.settings.trigger,
            preview_trigger=self.settings.preview_trigger,
        )
        if trigger is None:
            return
        conversation, channel = self._conversation(job)
        if conversation.customer_language is None:
            self._learn_language(client, event, conversation)
        translation = self._translate(
            job,
            "outbound",
            Message(text=trigger.text, content_type=message.content_type, channel=channel),
            conversation,
        )
        if trigger.mode == "preview":
            note = self.composer.preview_note(translation)
            self.write_once(job, "preview", "note", lambda: self._post_note(client, job, note))
            return
        if translation.decision == Decision.HOLD:
            note = self._hold(job, translation, channel)
            self.write_once(job, "held", "note", lambda: self._post_note(client, job, note))
            return
        disclosure = self._disclosure(translation)
        reply = self.composer.reply(translation, disclosure=disclosure)
        self.write_once(
            job, "reply", "reply",
            lambda: client.post_reply(
                event.conversation_id, reply, content_type=translation.content_type
            ),
        )  # fmt: skip
        if translation.decision == Decision.SEND_FLAGGED:
            self._queue_flagged(job, translation, channel)
        if translation.decision == Decision.SEND_FLAGGED and self.settings.flag_note:
            note = self.composer.flags_note(translation)
            try:
                self.write_once(job, "flags", "note", lambda: self._post_note(client, job, note))
            except (ServiceError, _WriteUncertain) as error:
                log.warning("job %s: reply sent, flag note not posted: %s", job.id, error)

    # -- helpers -------------------------------------------------------------------------

    def _post_note(self, client: HelpdeskClient, job: Job, note: str) -> object:
        return client.post_note(
            job.event.conversation_id, note, content_type=self.settings.note_format
        )

    def _text(self, client: HelpdeskClient, event: HelpdeskEvent, *, author: str) -> _Text:
        """The message text: the payload's when complete, else the helpdesk's own copy."""
        if event.complete and event.text is not None:
            return _Text(event.text, event.content_type, event.message_id)
        messages = client.get_messages(event.conversation_id)
        for message in messages:
            if event.message_id is not None and message.id == event.message_id:
                return _Text(message.text, message.content_type, message.id)
        by_author = [m for m in messages if m.author_role == author]
        if event.message_id is None and by_author:
            last = by_author[-1]
            return _Text(last.text, last.content_type, last.id)
        raise NotFoundError(
            f"message {event.message_id or '(latest)'} of conversation {event.conversation_id} "
            "is not in the helpdesk's copy yet",
            service=client.service,
            retryable=True,  # helpdesks index new messages with a short delay
        )

    def _conversation(self, job: Job) -> tuple[Conversation, Channel | None]:
        """The conversation's state, and its channel: the event's, else the one last stored."""
        state = dict(self.queue.load_conversation(job.adapter, job.event.conversation_id) or {})
        stored = state.pop("channel", None)
        channel = job.event.channel or (stored if stored in ("chat", "email", "kb") else None)
        conversation = Conversation(
            id=job.event.conversation_id,
            agent_languages=self.agent_languages[job.adapter],
            **state,
        )
        hint = job.event.customer_language
        if conversation.customer_language is None and hint:
            try:
                conversation.customer_language = hint
            except ValueError:
                log.info("job %s: ignoring customer language hint %r", job.id, hint)
        return conversation, channel

    def _save_conversation(
        self, job: Job, conversation: Conversation, channel: Channel | None
    ) -> None:
        # The channel rides along so an agent note (whose event rarely says it) gets the
        # conversation's review policy.
        state = conversation.model_dump(
            include={
                "customer_language",
                "customer_language_confidence",
                "customer_language_manual",
            }
        )
        state["channel"] = channel
        self.queue.save_conversation(job.adapter, job.event.conversation_id, state)

    def _learn_language(
        self, client: HelpdeskClient, event: HelpdeskEvent, conversation: Conversation
    ) -> None:
        # The relay may start mid-conversation: detect from the customer's recent messages.
        messages = [m for m in client.get_messages(event.conversation_id)]
        recent = " ".join(m.text for m in messages if m.author_role == "customer")[-2000:]
        if not recent.strip():
            return
        detection = self.loop.detect(recent)
        if detection.language and detection.confidence >= self.loop.parts.sticky.min_confidence:
            conversation.customer_language = detection.language
            conversation.customer_language_confidence = detection.confidence

    def _translate(
        self, job: Job, direction: str, message: Message, conversation: Conversation
    ) -> Translation:
        started = time.perf_counter()
        if direction == "inbound":
            translation = self.loop.inbound(message, conversation)
        else:
            translation = self.loop.outbound(message, conversation)
        self.metrics.translation_seconds.labels(direction).observe(time.perf_counter() - started)
        self.metrics.decisions.labels(direction, translation.decision.value).inc()
        if not translation.skipped:
            self.metrics.translations.labels(
                direction,
                translation.source_language or "unknown",
                translation.target_language,
                translation.engine or "none",
            ).inc()
        if "engine_failed" in translation.flag_codes:
            self.metrics.errors.labels("translate", "engine_failed").inc()
        self._record(job, translation, message.channel)
        return translation

    def _record(self, job: Job, translation: Translation, channel: Channel | None) -> None:
        if self.audit is None or translation.skipped:
            return
        try:
            self.audit.record(
                translation,
                adapter=job.adapter,
                conversation_id=job.event.conversation_id,
                channel=channel,
            )
        except Exception as error:  # statistics must never cost a customer their reply
            log.warning("job %s: audit row not recorded: %s", job.id, error)
            self.metrics.errors.labels("audit", type(error).__name__).inc()

    def _disclosure(self, translation: Translation) -> str | None:
        if not self.settings.disclosure or translation.skipped:
            return None
        text = self.settings.disclosure_text
        if translation.source_language is None:
            return text
        line = self.loop.translate(
            text, source=translation.source_language, target=translation.target_language
        )
        return line.translated if line.decision != Decision.HOLD else text

    # -- review --------------------------------------------------------------------------

    def _item_id(self, job: Job, what: str) -> str:
        # Stable per event: a retried job adds the same item again, which the queue ignores.
        name = f"tl-loop:{job.adapter}:{job.event.event_id}:{what}"
        return uuid.uuid5(uuid.NAMESPACE_URL, name).hex

    def _review_link(self, item_id: str) -> str:
        path = f"/review/{item_id}"
        base = self.settings.public_url
        return f"{base.rstrip('/')}{path}" if base else path

    def _hold(self, job: Job, translation: Translation, channel: Channel | None) -> str:
        """Queue a held reply for review; returns the note for the agent."""
        if self.review is None:
            return self.composer.held_note(translation)
        item = ReviewItem.from_translation(
            translation,
            held=True,
            adapter=job.adapter,
            conversation_id=job.event.conversation_id,
            channel=channel,
            id=self._item_id(job, "held"),
        )
        self.review.add(item)
        return self.composer.queued_note(
            translation, item_id=item.id, link=self._review_link(item.id)
        )

    def _queue_flagged(self, job: Job, translation: Translation, channel: Channel | None) -> None:
        """Queue a reply sent with flags, for review afterwards (learning only)."""
        if self.review is None or not self.settings.review_flagged:
            return
        item = ReviewItem.from_translation(
            translation,
            held=False,
            adapter=job.adapter,
            conversation_id=job.event.conversation_id,
            channel=channel,
            id=self._item_id(job, "flagged"),
        )
        try:
            self.review.add(item)
        except Exception as error:  # the reply went out; the review copy is a bonus
            log.warning("job %s: flagged reply not queued for review: %s", job.id, error)
            self.metrics.errors.labels("review", type(error).__name__).inc()

    def _review_job(self, job: Job) -> None:
        """Carry out a decision: release or tell the agent, then learn from it."""
        if self.review is None:
            raise NotFoundError(
                "a review decision was queued but this relay has no review queue",
                service="relay",
            )
        item = self.review.get(job.review_item)
        if item.releasable and not item.released:
            self._release(job, item, self.review)
        elif item.state == ReviewState.REJECTED and item.held and item.direction == "outbound":
            client = self._client(job, item)
            note = self.composer.rejected_note(item_id=item.id, reviewer=item.decided_by)
            self.write_once(job, "rejected", "note", lambda: self._post_note(client, job, note))
        if item.state in (ReviewState.APPROVED, ReviewState.EDITED):
            self._learn(job, item)

    def _client(self, job: Job, item: ReviewItem) -> HelpdeskClient:
        client = self.clients.get(job.adapter)
        if client is None or item.conversation_id is None:
            raise NotFoundError(
                f"review item {item.id} belongs to adapter {item.adapter!r}, which this relay "
                f"does not have (configured: {', '.join(sorted(self.clients))})",
                service="relay",
            )
        return client

    def _release(self, job: Job, item: ReviewItem, review: ReviewQueue) -> None:
        """Post the approved or edited reply, once, and record that it was posted."""
        client = self._client(job, item)
        translation = _reviewed(item)
        reply = self.composer.reply(translation, disclosure=self._disclosure(translation))
        conversation = item.conversation_id or ""
        self.write_once(
            job, "release", "reply",
            lambda: client.post_reply(conversation, reply, content_type=item.content_type),
        )  # fmt: skip
        review.mark_released(item.id)

    def _learn(self, job: Job, item: ReviewItem) -> None:
        try:
            learn(item, self.loop.parts)
        except ServiceError as error:
            if error.retryable and job.attempts < self.settings.max_attempts:
                raise  # the memory is away for now: retry the job (the release is journaled)
            log.warning("review item %s: not learned: %s", item.id, error)
            self.metrics.errors.labels("learn", type(error).__name__).inc()


def _reviewed(item: ReviewItem) -> Translation:
    """The reviewed reply as a `Translation`, for the reply composer and the disclosure."""
    return Translation(
        original=item.original,
        translated=item.final if item.final is not None else item.draft,
        source_language=item.source_language,
        target_language=item.target_language,
        content_type=item.content_type,
        direction="outbound",
        engine=item.engine,
        flags=(),
        decision=Decision.SEND,
        audit=AuditRecord(
            direction="outbound", engine=item.engine, engine_version=None,
            glossary_version=item.glossary_version, detected_language=None,
            detection_confidence=None, characters_sent=0, segments=0, cache_hits=0,
            timings_ms={},
        ),
    )  # fmt: skip
