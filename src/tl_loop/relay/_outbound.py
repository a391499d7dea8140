"""The agent note job: a note starting with the trigger becomes a reply in the customer's language.

`#tl?` asks for a preview note instead. A reply the review policy holds goes to the review queue
(the agent gets a note with the item's link) or, without one, back to the agent as a held note;
a reply sent with flags is queued for review afterwards.
"""

from __future__ import annotations

import logging

from tl_loop._errors import ServiceError
from tl_loop._models import Channel, Conversation, Decision, Message, Translation
from tl_loop.helpdesk._adapter import HelpdeskAdapter, HelpdeskEvent
from tl_loop.helpdesk._client import HelpdeskClient
from tl_loop.relay._jobs import AgentNote, Job
from tl_loop.relay._notes import parse_trigger
from tl_loop.relay._services import MessageText, Services
from tl_loop.relay._writes import WriteUncertain
from tl_loop.review import ReviewItem

__all__ = ["handle_agent_note"]

log = logging.getLogger("tl_loop.relay")


def handle_agent_note(services: Services, job: Job, work: AgentNote) -> None:
    """Translate a triggered note and post the reply once (or a preview or held note)."""
    message = services.text(job, services.clients[job.adapter], work.event, author="agent")
    _answer_note(services, job, work, message)
    services.mark_read_back(job, work.event, message, author="agent")


def _answer_note(services: Services, job: Job, work: AgentNote, message: MessageText) -> None:
    event, client = work.event, services.clients[job.adapter]
    settings = services.settings
    trigger = parse_trigger(
        message.text, trigger=settings.trigger, preview_trigger=settings.preview_trigger
    )
    if trigger is None:
        return
    stored = services.conversation(job, event)
    conversation, channel = stored.conversation, stored.channel
    if conversation.customer_language is None:
        _learn_language(services, client, event, conversation)
    translation = services.outbound(
        job,
        Message(text=trigger.text, content_type=message.content_type, channel=channel),
        conversation,
        preview=trigger.mode == "preview",
    )
    translation = _in_helpdesk_words(translation, services.adapters[job.adapter])
    conversation_id = event.conversation_id

    def note_step(step: str, note: str) -> None:
        services.note(job, step, client, conversation_id, note)

    if trigger.mode == "preview":
        note_step("preview", services.composer.preview_note(translation))
        return
    if translation.decision == Decision.HOLD:
        note_step("held", _hold(services, job, event, translation, channel))
        return
    reply = services.composer.reply(translation, disclosure=services.disclosure(translation))
    services.writes.once(
        job, "reply", "reply",
        lambda: client.post_reply(conversation_id, reply, content_type=translation.content_type),
    )  # fmt: skip
    if translation.decision != Decision.SEND_FLAGGED:
        return
    _queue_flagged(services, job, event, translation, channel)
    if settings.flag_note:
        try:
            note_step("flags", services.composer.flags_note(translation))
        except (ServiceError, WriteUncertain) as error:
            log.warning("job %s: reply sent, flag note not posted: %s", job.id, error)


def _in_helpdesk_words(translation: Translation, adapter: HelpdeskAdapter) -> Translation:
    """Say how to set an unknown customer language the way agents do it in their helpdesk."""
    if "customer_language_unknown" not in translation.flag_codes:
        return translation
    detail = (
        f"the customer's language is not known yet: {adapter.language_help()}; then send "
        "your note again"
    )
    flags = tuple(
        flag.model_copy(update={"detail": detail})
        if flag.code == "customer_language_unknown"
        else flag
        for flag in translation.flags
    )
    return translation.model_copy(update={"flags": flags})


def _learn_language(
    services: Services, client: HelpdeskClient, event: HelpdeskEvent, conversation: Conversation
) -> None:
    # The relay may start mid-conversation: detect from the customer's recent messages.
    messages = client.get_messages(event.conversation_id)
    customer = (m.text for m in messages if m.author_role == "customer" and m.public)
    recent = " ".join(customer)[-2000:]
    if not recent.strip():
        return
    loop = services.loop
    detection = loop.detect(recent)
    if detection.language and detection.confidence >= loop.parts.sticky.min_confidence:
        conversation.customer_language = detection.language
        conversation.customer_language_confidence = detection.confidence


def _hold(
    services: Services,
    job: Job,
    event: HelpdeskEvent,
    translation: Translation,
    channel: Channel | None,
) -> str:
    """Queue a held reply for review; returns the note for the agent."""
    if services.review is None:
        return services.composer.held_note(translation)
    item = ReviewItem.from_translation(
        translation,
        held=True,
        adapter=job.adapter,
        conversation_id=event.conversation_id,
        channel=channel,
        id=services.item_id(job, event, "held"),
    )
    services.review.add(item)
    return services.composer.queued_note(
        translation, item_id=item.id, link=services.review_link(item.id)
    )


def _queue_flagged(
    services: Services,
    job: Job,
    event: HelpdeskEvent,
    translation: Translation,
    channel: Channel | None,
) -> None:
    """Queue a reply sent with flags, for review afterwards (learning only)."""
    if services.review is None or not services.settings.review_flagged:
        return
    item = ReviewItem.from_translation(
        translation,
        held=False,
        adapter=job.adapter,
        conversation_id=event.conversation_id,
        channel=channel,
        id=services.item_id(job, event, "flagged"),
    )
    try:
        services.review.add(item)
    except Exception as error:  # the reply went out; the review copy is a bonus
        log.warning("job %s: flagged reply not queued for review: %s", job.id, error)
        services.metrics.errors.labels("review", type(error).__name__).inc()
