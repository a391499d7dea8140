"""Hand-built review items and audit rows for the statistics and suggestion tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tl_loop._models import ContentType
from tl_loop.review._audit import AuditRow
from tl_loop.review._items import ReviewItem, ReviewState

T0 = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)


def item(
    number: int,
    *,
    original: str = "Thanks for your patience.",
    draft: str = "Gracias por su paciencia.",
    final: str | None = None,
    state: str = "edited",
    source: str = "en",
    target: str = "es",
    engine: str | None = "apertium",
    held: bool = True,
    created: datetime | None = None,
    wait: timedelta | None = timedelta(minutes=10),
    content_type: ContentType = "text",
) -> ReviewItem:
    """A review item; `final` defaults to the draft when approved, None when pending/rejected."""
    created_at = created or T0 + timedelta(hours=number)
    review_state = ReviewState(state)
    if final is None and review_state == ReviewState.APPROVED:
        final = draft
    decided = review_state != ReviewState.PENDING and wait is not None
    return ReviewItem(
        id=f"{number:032x}",
        created_at=created_at,
        state=review_state,
        held=held,
        direction="outbound",
        channel="chat",
        source_language=source,
        target_language=target,
        original=original,
        draft=draft,
        final=final,
        flags=(),
        engine=engine,
        content_type=content_type,
        adapter=None,
        conversation_id=None,
        glossary_version=None,
        decided_by="ana" if decided else None,
        decided_at=created_at + wait if decided and wait is not None else None,
    )


def row(
    *,
    decision: str = "send",
    source: str = "en",
    target: str = "es",
    engine: str | None = "apertium",
    characters: int = 100,
    billed: int | None = None,
    flags: tuple[str, ...] = (),
    created: datetime = T0,
    segments: int = 1,
    cache_hits: int = 0,
    memory_hits: int = 0,
) -> AuditRow:
    """An audit row for one translation."""
    return AuditRow(
        created_at=created,
        direction="outbound",
        source_language=source,
        target_language=target,
        engine=engine,
        characters_sent=characters,
        billed_characters=billed,
        decision=decision,
        flag_codes=flags,
        detection_confidence=None,
        latency_ms=12.5,
        adapter=None,
        conversation_id=None,
        channel="chat",
        segments=segments,
        cache_hits=cache_hits,
        memory_hits=memory_hits,
    )
