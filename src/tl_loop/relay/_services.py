"""What every job handler works with: the loop, the helpdesk clients, the queue, the notes.

`Services` holds the shared parts and the steps the handlers have in common: fetching a
message's text, loading and storing conversation state, translating with metrics and audit,
the disclosure line, review links.
"""

from __future__ import annotations

import html
import logging
import re
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from tl_loop._errors import NotFoundError
from tl_loop._loop import Loop
from tl_loop._models import Channel, ContentType, Conversation, Decision, Message, Translation
from tl_loop.helpdesk._adapter import (
    HelpdeskAdapter,
    HelpdeskEvent,
    HelpdeskMessage,
    carries_own_marker,
)
from tl_loop.helpdesk._client import HelpdeskClient
from tl_loop.relay._jobs import Job
from tl_loop.relay._limits import fit_note
from tl_loop.relay._metrics import RelayMetrics
from tl_loop.relay._notes import STAMP_ROOM, NoteComposer
from tl_loop.relay._queue import JobStore
from tl_loop.relay._settings import RelaySettings
from tl_loop.relay._writes import Writes
from tl_loop.review import AuditLog, ReviewQueue

__all__ = ["MessageText", "Services"]

log = logging.getLogger("tl_loop.relay")

_STORED = ("customer_language", "customer_language_confidence", "customer_language_manual")
"""The conversation fields the relay keeps between jobs (with the channel)."""

_READ_KEY = "read_back"
"""Conversation state: per author, the ids of the last messages found by reading the
conversation back (events without a message id), so the next such event takes the next one."""
_READ_KEEP = 50
_TAG = re.compile(r"<[^>]*>")


@dataclass(frozen=True, slots=True)
class MessageText:
    """A message's text as the handlers use it; `read_back` when it was found by reading the
    conversation (the event named no message), so the handler records it as handled."""

    text: str
    content_type: ContentType
    message_id: str | None
    read_back: bool = False


@dataclass(frozen=True, slots=True)
class StoredConversation:
    """A conversation as the queue database knows it, ready for the loop."""

    conversation: Conversation
    channel: Channel | None
    state: dict[str, Any]


class Services:
    """The shared parts of the job handlers.

    Args:
        loop: the translation loop (shared by all workers; it is thread-safe).
        adapters: the configured adapters by webhook name.
        clients: a `HelpdeskClient` per adapter name.
        queue: the durable queue, journal and conversation state.
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
        queue: JobStore,
        settings: RelaySettings,
        metrics: RelayMetrics,
        agent_languages: Mapping[str, tuple[str, ...]],
        review: ReviewQueue | None = None,
        audit: AuditLog | None = None,
    ) -> None:
        self.loop = loop
        self.adapters = adapters
        self.clients = clients
        self.queue = queue
        self.settings = settings
        self.metrics = metrics
        self.agent_languages = agent_languages
        self.review = review
        self.audit = audit
        self.writes = Writes(queue, metrics)
        self.composer = NoteComposer(
            format=settings.note_format,
            trigger=settings.trigger,
            preview_trigger=settings.preview_trigger,
        )

    # -- helpdesk ------------------------------------------------------------------------

    def note(
        self, job: Job, step: str, client: HelpdeskClient, conversation_id: str, note: str
    ) -> None:
        """Post an internal note once (journal step `step`) in the relay's note format,
        shortened to the helpdesk's note size limit if it has one."""
        limit = client.adapter.max_note_chars
        note = fit_note(note, limit, self.composer, reserve=STAMP_ROOM)
        self.writes.note(
            job, step, client, conversation_id, note, content_type=self.settings.note_format
        )

    def text(
        self, job: Job, client: HelpdeskClient, event: HelpdeskEvent, *, author: str
    ) -> MessageText:
        """The message text: the payload's when complete, else the helpdesk's own copy.

        An event naming no message (admin-written webhook bodies: Freshdesk, Zendesk triggers)
        gets the first message by `author` after the last one such an event already took, in
        time order (the newest when none was taken yet): two events for two identical
        messages translate both. Only a customer's public messages count for a customer
        message and only internal notes for an agent's note; a note carrying tl_loop's marker
        never does (the relay's own note may land between the event and the read).

        Raises:
            NotFoundError: (retryable) the helpdesk has not indexed the message yet.
        """
        if event.complete and event.text is not None:
            return MessageText(event.text, event.content_type, event.message_id)
        messages = client.get_messages(event.conversation_id)  # oldest first
        if event.message_id is not None:
            for message in messages:
                if message.id == event.message_id:
                    return MessageText(message.text, message.content_type, message.id)
        else:
            taken = self._read_back(job, event).get(author, [])
            found = _next_unread(messages, author, taken, hint=event.text)
            if found is not None:
                return MessageText(found.text, found.content_type, found.id, read_back=True)
        raise NotFoundError(
            f"message {event.message_id or '(latest)'} of conversation {event.conversation_id} "
            "is not in the helpdesk's copy yet",
            service=client.service,
            retryable=True,  # helpdesks index new messages with a short delay
        )

    def mark_read_back(self, job: Job, event: HelpdeskEvent, message: MessageText, *,
                       author: str) -> None:  # fmt: skip
        """Record a message found by reading back as handled (after its notes are written,
        so a retried job finds it again)."""
        if not message.read_back or message.message_id is None:
            return
        state = dict(self.queue.load_conversation(job.adapter, event.conversation_id) or {})
        read_back = {k: list(v) for k, v in self._read_back(job, event, state).items()}
        ids = [i for i in read_back.get(author, []) if i != message.message_id]
        read_back[author] = [*ids, message.message_id][-_READ_KEEP:]
        state[_READ_KEY] = read_back
        self.queue.save_conversation(job.adapter, event.conversation_id, state)

    def _read_back(
        self, job: Job, event: HelpdeskEvent, state: Mapping[str, Any] | None = None
    ) -> dict[str, list[str]]:
        if state is None:
            state = self.queue.load_conversation(job.adapter, event.conversation_id) or {}
        stored = state.get(_READ_KEY)
        if not isinstance(stored, dict):
            return {}
        return {
            str(author): [str(i) for i in ids]
            for author, ids in stored.items()
            if isinstance(ids, list)
        }

    # -- conversation state --------------------------------------------------------------

    def conversation(self, job: Job, event: HelpdeskEvent) -> StoredConversation:
        """The conversation's stored state, and its channel: the event's, else the stored one.

        A customer language the event carries fills in a conversation that has none.
        """
        state = dict(self.queue.load_conversation(job.adapter, event.conversation_id) or {})
        stored = state.get("channel")
        channel = event.channel or (stored if stored in ("chat", "email", "kb") else None)
        conversation = Conversation(
            id=event.conversation_id,
            agent_languages=self.agent_languages[job.adapter],
            **{name: state[name] for name in _STORED if name in state},
        )
        hint = event.customer_language
        if conversation.customer_language is None and hint:
            try:
                conversation.customer_language = hint
            except ValueError:
                log.info("job %s: ignoring customer language hint %r", job.id, hint)
        return StoredConversation(conversation, channel, state)

    def store_conversation(
        self,
        job: Job,
        stored: StoredConversation,
        update: Mapping[str, Any],
    ) -> None:
        """Store the conversation: what was stored, the pipeline's update, and the channel.

        The channel rides along so an agent note (whose event rarely says it) gets the
        conversation's review policy.
        """
        conversation = stored.conversation
        state: dict[str, Any] = {name: getattr(conversation, name) for name in _STORED}
        state.update({name: value for name, value in update.items() if name in _STORED})
        state["channel"] = stored.channel
        if _READ_KEY in stored.state:
            state[_READ_KEY] = stored.state[_READ_KEY]
        if conversation.id is not None:
            self.queue.save_conversation(job.adapter, conversation.id, state)

    # -- translation ---------------------------------------------------------------------

    def inbound(
        self, job: Job, message: Message, conversation: Conversation
    ) -> tuple[Translation, dict[str, Any]]:
        """Translate a customer message; returns it and the conversation update to store."""
        started = time.perf_counter()
        outcome = self.loop.inbound_outcome(message, conversation)
        self._observe(job, "inbound", outcome.translation, message.channel, started)
        return outcome.translation, dict(outcome.conversation_update)

    def outbound(
        self, job: Job, message: Message, conversation: Conversation, *, preview: bool = False
    ) -> Translation:
        """Translate an agent's reply into the customer's language (and back, for a preview)."""
        started = time.perf_counter()
        translate = self.loop.preview if preview else self.loop.outbound
        translation = translate(message, conversation)
        self._observe(job, "outbound", translation, message.channel, started)
        return translation

    def _observe(
        self,
        job: Job,
        direction: str,
        translation: Translation,
        channel: Channel | None,
        started: float,
    ) -> None:
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
        self._record(job, translation, channel)

    def _record(self, job: Job, translation: Translation, channel: Channel | None) -> None:
        # Skipped messages (the reader reads the language) are recorded too: they are the
        # conversations in the agent's own language that outcome reports compare against.
        if self.audit is None:
            return
        try:
            self.audit.record(
                translation,
                adapter=job.adapter,
                conversation_id=job.conversation_id,
                channel=channel,
            )
        except Exception as error:  # statistics must never cost a customer their reply
            log.warning("job %s: audit row not recorded: %s", job.id, error)
            self.metrics.errors.labels("audit", type(error).__name__).inc()

    def disclosure(self, translation: Translation) -> str | None:
        """The machine-translation line in the customer's language, when configured."""
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

    def item_id(self, job: Job, event: HelpdeskEvent, what: str) -> str:
        """A review item id stable per event: a retried job adds the same item again."""
        name = f"tl-loop:{job.adapter}:{event.event_id}:{what}"
        return uuid.uuid5(uuid.NAMESPACE_URL, name).hex

    def review_link(self, item_id: str) -> str:
        """Where a reviewer opens the item: absolute with `public_url`, else the path."""
        path = f"/review/{item_id}"
        base = self.settings.public_url
        return f"{base.rstrip('/')}{path}" if base else path


def _written_by(message: HelpdeskMessage, author: str) -> bool:
    """Whether `message` is what an event by `author` is about: a customer's public message,
    or an agent's internal note; never one of tl_loop's own notes, whoever it is listed as."""
    if message.author_role != author or carries_own_marker(message.text):
        return False
    return message.public if author == "customer" else not message.public


def _next_unread(
    messages: list[HelpdeskMessage], author: str, taken: list[str], *, hint: str | None
) -> HelpdeskMessage | None:
    """The message by `author` an event that names none is about (`messages` oldest first).

    Unread are the author's messages after the last one an earlier event took; before any was
    taken, the author's current turn (since someone else last wrote in public). Of those, the
    first whose text the event's own placeholder text contains; else the first unread one, or
    the newest when none was taken yet. None when every message was taken: a second delivery
    of a handled event, or the new message is not listed yet.
    """
    done = set(taken)
    if done & {m.id for m in messages if _written_by(m, author)}:
        last = max(i for i, m in enumerate(messages) if m.id in done)
    else:
        others = [i for i, m in enumerate(messages) if m.public and m.author_role != author]
        last = max(others, default=-1)
    unread = [m for m in messages[last + 1 :] if _written_by(m, author)]
    if not unread:
        return None
    if hint and (same := [m for m in unread if _same_text(m.text, hint)]):
        return same[0]
    return unread[0] if done else unread[-1]


def _same_text(text: str, hint: str) -> bool:
    """Whether a webhook's placeholder text (`hint`, perhaps prefixed with the author's name,
    or cut short) is this message's text, compared as words."""
    message, expected = _words(text), _words(hint)
    if not message or not expected:
        return False
    return message in expected or (len(expected) >= 20 and expected in message)


def _words(text: str) -> str:
    return " ".join(html.unescape(_TAG.sub(" ", text)).casefold().split())
