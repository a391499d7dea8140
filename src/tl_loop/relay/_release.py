"""The review release job: carry out a reviewer's decision, then learn from it.

An approved or edited held reply is posted once (journal step `release`) and marked released;
a rejected held reply is told to the agent; approvals and edits teach the translation memory
(`tl_loop.review.learn`).
"""

from __future__ import annotations

import logging

from tl_loop._errors import NotFoundError, ServiceError
from tl_loop._models import AuditRecord, Decision, Translation
from tl_loop.helpdesk._client import HelpdeskClient
from tl_loop.relay._jobs import Job, ReviewRelease
from tl_loop.relay._services import Services
from tl_loop.review import ReviewItem, ReviewQueue, ReviewState, learn

__all__ = ["handle_review_release"]

log = logging.getLogger("tl_loop.relay")


def handle_review_release(services: Services, job: Job, work: ReviewRelease) -> None:
    """Release or tell the agent, then learn from the decision."""
    review = services.review
    if review is None:
        raise NotFoundError(
            "a review decision was queued but this relay has no review queue", service="relay"
        )
    item = review.get(work.item_id)
    if item.releasable and not item.released:
        _release(services, job, item, review)
    elif item.state == ReviewState.REJECTED and item.held and item.direction == "outbound":
        client, conversation_id = _client(services, job, item)
        note = services.composer.rejected_note(item_id=item.id, reviewer=item.decided_by)
        services.note(job, "rejected", client, conversation_id, note)
    if item.state in (ReviewState.APPROVED, ReviewState.EDITED):
        _learn(services, job, item)


def _client(services: Services, job: Job, item: ReviewItem) -> tuple[HelpdeskClient, str]:
    client = services.clients.get(job.adapter)
    if client is None or item.conversation_id is None:
        raise NotFoundError(
            f"review item {item.id} belongs to adapter {item.adapter!r}, which this relay "
            f"does not have (configured: {', '.join(sorted(services.clients))})",
            service="relay",
        )
    return client, item.conversation_id


def _release(services: Services, job: Job, item: ReviewItem, review: ReviewQueue) -> None:
    """Post the approved or edited reply, once, and record that it was posted."""
    client, conversation_id = _client(services, job, item)
    translation = _reviewed(item)
    reply = services.composer.reply(translation, disclosure=services.disclosure(translation))
    services.writes.once(
        job, "release", "reply",
        lambda: client.post_reply(conversation_id, reply, content_type=item.content_type),
    )  # fmt: skip
    review.mark_released(item.id)


def _learn(services: Services, job: Job, item: ReviewItem) -> None:
    try:
        learn(item, services.loop.parts)
    except ServiceError as error:
        if error.retryable and job.attempts < services.settings.max_attempts:
            raise  # the memory is away for now: retry the job (the release is journaled)
        log.warning("review item %s: not learned: %s", item.id, error)
        services.metrics.errors.labels("learn", type(error).__name__).inc()


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
