"""The audit log: one row per translation produced, for cost and quality statistics.

`AuditLog.record` takes a `Translation` and keeps what statistics need (languages, engine,
characters, decision, flags, timings) and where it happened (adapter, conversation, channel);
never the text itself, so the log holds no customer data.
"""

from __future__ import annotations

import abc
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Self

from tl_loop._models import Channel, Direction, Translation

__all__ = ["AuditLog", "AuditRow", "audit_row"]


@dataclass(frozen=True, slots=True)
class AuditRow:
    """One translation, as the audit log keeps it.

    Args:
        created_at: when the translation was made (UTC).
        direction: `inbound` or `outbound`.
        source_language: the original's language (`und` when unknown).
        target_language: the translation's language.
        engine: the engine that served it; None when none did (memory only, or failure).
        characters_sent: characters sent to engines (cache and memory hits cost none).
        billed_characters: what the engine billed, when known; 0 when nothing was sent.
        decision: `send`, `send_flagged` or `hold`.
        flag_codes: the review flag codes, in order.
        detection_confidence: the language detector's confidence, when it ran.
        latency_ms: the pipeline's time for this message (sum of its timings).
        adapter: the helpdesk adapter name, when a relay made it.
        conversation_id: the helpdesk conversation, when known.
        channel: `chat`, `email`, `kb` or None.
        segments: segments in the message.
        cache_hits: segments served by the machine translation cache.
        memory_hits: segments served by the translation memory (human-approved).
    """

    created_at: datetime
    direction: Direction
    source_language: str
    target_language: str
    engine: str | None
    characters_sent: int
    billed_characters: int | None
    decision: str
    flag_codes: tuple[str, ...]
    detection_confidence: float | None
    latency_ms: float
    adapter: str | None
    conversation_id: str | None
    channel: Channel | None
    segments: int = 0
    cache_hits: int = 0
    memory_hits: int = 0


def audit_row(
    translation: Translation,
    *,
    adapter: str | None,
    conversation_id: str | None,
    channel: Channel | None,
) -> AuditRow:
    """The audit row for `translation`."""
    audit = translation.audit
    # What the engines reported billing; when they report nothing, only say what is certain:
    # nothing sent, nothing billed.
    billed = audit.billed_characters
    if billed is None and audit.characters_sent == 0:
        billed = 0
    created = audit.created_at
    if created.tzinfo is None:
        created = created.replace(tzinfo=UTC)
    return AuditRow(
        created_at=created.astimezone(UTC),
        direction=translation.direction,
        source_language=translation.source_language or "und",
        target_language=translation.target_language,
        engine=translation.engine,
        characters_sent=audit.characters_sent,
        billed_characters=billed,
        decision=translation.decision.value,
        flag_codes=translation.flag_codes,
        detection_confidence=audit.detection_confidence,
        latency_ms=round(sum(audit.timings_ms.values()), 3),
        adapter=adapter,
        conversation_id=conversation_id,
        channel=channel,
        segments=audit.segments,
        cache_hits=audit.cache_hits,
        memory_hits=audit.memory_hits,
    )


class AuditLog(abc.ABC):
    """Where translations are recorded. Implementations are safe to share between threads."""

    def record(
        self,
        translation: Translation,
        *,
        adapter: str | None = None,
        conversation_id: str | None = None,
        channel: Channel | None = None,
    ) -> None:
        """Record one translation."""
        self.add(
            audit_row(
                translation, adapter=adapter, conversation_id=conversation_id, channel=channel
            )
        )

    @abc.abstractmethod
    def add(self, row: AuditRow) -> None:
        """Store one ready row (what `record` does after building it)."""

    @abc.abstractmethod
    def rows(self, *, since: datetime | None = None) -> Iterator[AuditRow]:
        """The rows oldest first, optionally only those created at or after `since`."""

    def close(self) -> None:  # noqa: B027  # optional hook
        """Release the log's resources; it must not be used afterwards."""

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
