"""The customer message job: translate what the customer wrote into a note for the agent."""

from __future__ import annotations

import logging

from tl_loop._errors import ServiceError
from tl_loop._models import Message
from tl_loop.relay._jobs import CustomerMessage, Job
from tl_loop.relay._limits import inbound_notes
from tl_loop.relay._notes import STAMP_ROOM
from tl_loop.relay._services import Services
from tl_loop.relay._writes import WriteUncertain

__all__ = ["handle_customer_message"]

log = logging.getLogger("tl_loop.relay")


def handle_customer_message(services: Services, job: Job, work: CustomerMessage) -> None:
    """Post the translation as a note; record a new customer language on the ticket."""
    event, client = work.event, services.clients[job.adapter]
    message = services.text(job, client, event, author="customer")
    stored = services.conversation(job, event)
    before = stored.conversation.customer_language
    translation, update = services.inbound(
        job,
        Message(
            text=message.text,
            content_type=message.content_type,
            id=message.message_id,
            channel=stored.channel,
        ),
        stored.conversation,
    )
    services.store_conversation(job, stored, update)
    if not translation.skipped:
        # One note, or several when the helpdesk caps a note's size (journaled one by one).
        notes = inbound_notes(
            services.composer, translation, client.adapter.max_note_chars, reserve=STAMP_ROOM
        )
        for number, note in enumerate(notes, start=1):
            step = "note" if number == 1 else f"note:{number}"
            services.note(job, step, client, event.conversation_id, note)
    services.mark_read_back(job, event, message, author="customer")
    language = update.get("customer_language")
    if language is None or language == before:
        return
    try:
        services.writes.once(
            job, "language", "language",
            lambda: client.set_language(event.conversation_id, language), idempotent=True,
        )  # fmt: skip
    except (ServiceError, WriteUncertain) as error:
        # The note is what the agent needs; a missing language field is not worth failing
        # (or repeating) the job for.
        log.warning("job %s: could not record the language: %s", job.id, error)
        services.metrics.errors.labels("language", type(error).__name__).inc()
