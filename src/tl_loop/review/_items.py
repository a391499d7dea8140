"""The review queue's data and contract: `ReviewItem`, `ReviewState` and `ReviewQueue`.

An item is one translation a person should look at: a reply held back from the customer
(`held=True`, it waits for a decision and is released by it) or one sent with review flags
(`held=False`, reviewed afterwards so the memory learns from it). Every item starts `pending`;
one decision moves it, atomically and once, to `approved`, `edited` or `rejected`.
"""

from __future__ import annotations

import abc
import json
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, Self

from tl_loop._errors import ConfigurationError, NotFoundError, TlLoopError
from tl_loop._models import (
    Channel,
    ContentType,
    Direction,
    ReviewFlag,
    Translation,
    normalize_tag,
)

__all__ = [
    "ReviewConflictError",
    "ReviewItem",
    "ReviewQueue",
    "ReviewState",
    "check_decision",
    "check_releasable",
    "flags_from_json",
    "flags_to_json",
    "language_matches",
    "new_item_id",
    "parse_state",
]

UNKNOWN_LANGUAGE = "und"
"""BCP-47 for "undetermined": the source language of an item when none was known."""


class ReviewState(StrEnum):
    """Where an item stands: waiting, or decided one of three ways (final)."""

    PENDING = "pending"
    APPROVED = "approved"
    EDITED = "edited"
    REJECTED = "rejected"


class ReviewConflictError(TlLoopError):
    """The item was already decided (by someone else, or by an earlier click).

    `item` is the item as it stands now, with who decided it and when.
    """

    def __init__(self, message: str, *, item: ReviewItem) -> None:
        super().__init__(message)
        self.item = item


def new_item_id() -> str:
    """A fresh item id: 32 lowercase hex digits (a uuid4)."""
    return uuid.uuid4().hex


def _now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class ReviewItem:
    """One translation in the review queue.

    Build a new one with `ReviewItem.from_translation`; the queue returns stored ones.

    Args:
        id: 32 hex digits, unique in the queue.
        created_at: when it was queued (UTC).
        state: pending, approved, edited or rejected.
        held: True when the reply was NOT sent and waits for this decision; False when it
            was sent flagged and is reviewed afterwards (the memory learns from it).
        direction: `inbound` (customer → agent) or `outbound` (agent → customer).
        channel: `chat`, `email`, `kb` or None.
        source_language: the original's language (`und` when unknown).
        target_language: the draft's language.
        original: the text as its author wrote it.
        draft: the machine translation.
        final: what was approved or edited; None while pending and when rejected.
        flags: the review flags that put it here.
        engine: the engine that translated it, or None.
        content_type: `text`, `html` or `markdown`.
        adapter: the helpdesk adapter's name (its `/webhooks/<name>`), for release.
        conversation_id: the helpdesk conversation, for release.
        glossary_version: the glossary version the draft was made under.
        decided_by: the reviewer, once decided.
        decided_at: when it was decided (UTC).
        released: the approved or edited reply was posted to the helpdesk.
    """

    id: str
    created_at: datetime
    state: ReviewState
    held: bool
    direction: Direction
    channel: Channel | None
    source_language: str
    target_language: str
    original: str
    draft: str
    final: str | None
    flags: tuple[ReviewFlag, ...]
    engine: str | None
    content_type: ContentType
    adapter: str | None
    conversation_id: str | None
    glossary_version: str | None
    decided_by: str | None = None
    decided_at: datetime | None = None
    released: bool = False

    @classmethod
    def from_translation(
        cls,
        translation: Translation,
        *,
        held: bool,
        adapter: str | None = None,
        conversation_id: str | None = None,
        channel: Channel | None = None,
        id: str | None = None,
    ) -> Self:
        """A new pending item for `translation`.

        Args:
            translation: what the loop produced.
            held: whether the reply was held (waits for the decision) or already sent.
            adapter: the helpdesk adapter name, needed to release a held reply.
            conversation_id: the helpdesk conversation, needed to release a held reply.
            channel: `chat`, `email` or `kb`, when known.
            id: the item id; by default a fresh one (pass a stable one to make a retried
                `add` a no-op).
        """
        return cls(
            id=id or new_item_id(),
            created_at=_now(),
            state=ReviewState.PENDING,
            held=held,
            direction=translation.direction,
            channel=channel,
            source_language=translation.source_language or UNKNOWN_LANGUAGE,
            target_language=translation.target_language,
            original=translation.original,
            draft=translation.translated,
            final=None,
            flags=translation.flags,
            engine=translation.engine,
            content_type=translation.content_type,
            adapter=adapter,
            conversation_id=conversation_id,
            glossary_version=translation.audit.glossary_version,
        )

    @property
    def flag_codes(self) -> tuple[str, ...]:
        """The codes of the review flags, in order."""
        return tuple(flag.code for flag in self.flags)

    @property
    def customer_language(self) -> str:
        """The customer's side of the pair: the target outbound, the source inbound."""
        return self.target_language if self.direction == "outbound" else self.source_language

    @property
    def releasable(self) -> bool:
        """Whether this item's decision sends a reply: a held outbound reply, approved or edited.

        Items with no adapter (knowledge-base translations, published by `tl-loop kb publish`)
        are never released through the relay.
        """
        return self._held_reply and self.state in (ReviewState.APPROVED, ReviewState.EDITED)

    @property
    def _held_reply(self) -> bool:
        return self.held and self.direction == "outbound" and self.adapter is not None

    @property
    def needs_follow_up(self) -> bool:
        """Whether the relay has work after this decision: learn from an approval or edit,
        release a held reply, or tell the agent a held reply was rejected."""
        if self.state in (ReviewState.APPROVED, ReviewState.EDITED):
            return True
        return self.state == ReviewState.REJECTED and self._held_reply

    def to_dict(self) -> dict[str, Any]:
        """The item as JSON-ready data: times in ISO 8601, flags as objects."""
        data = {name: getattr(self, name) for name in self.__dataclass_fields__}
        data["state"] = self.state.value
        data["created_at"] = self.created_at.isoformat()
        data["decided_at"] = None if self.decided_at is None else self.decided_at.isoformat()
        data["flags"] = [flag.model_dump(mode="json") for flag in self.flags]
        return data

    def decided(self, *, state: ReviewState, reviewer: str, final: str | None) -> ReviewItem:
        """This item after the decision (no checks: see `check_decision`)."""
        return replace(self, state=state, final=final, decided_by=reviewer, decided_at=_now())


def parse_state(state: ReviewState | str) -> ReviewState:
    """`state` as a `ReviewState`.

    Raises:
        ConfigurationError: not one of pending, approved, edited, rejected.
    """
    try:
        return ReviewState(state)
    except ValueError:
        raise ConfigurationError(
            f"review state {state!r} is not one of pending, approved, edited, rejected"
        ) from None


def check_decision(
    item_id: str, state: ReviewState | str, reviewer: str, final: str | None, draft: str
) -> tuple[ReviewState, str | None]:
    """Validate a decision; returns the state and the `final` text to store.

    APPROVED stores the draft (a `final` equal to it is accepted), EDITED needs a non-blank
    `final`, REJECTED stores None (a `final` given with it is ignored).

    Raises:
        ConfigurationError: not a decision state, no reviewer, EDITED without text, or
            APPROVED with a text that differs from the draft.
    """
    state = parse_state(state)
    if state == ReviewState.PENDING:
        raise ConfigurationError("a decision must be approved, edited or rejected, not pending")
    if not reviewer or not reviewer.strip():
        raise ConfigurationError(f"review item {item_id}: name the reviewer who decided")
    if state == ReviewState.EDITED:
        if final is None or not final.strip():
            raise ConfigurationError(
                f"review item {item_id}: an edit needs the corrected text (final=...)"
            )
        return state, final
    if state == ReviewState.APPROVED:
        if final is not None and final != draft:
            raise ConfigurationError(
                f"review item {item_id}: approving keeps the draft; to send other text, "
                "decide EDITED with final=..."
            )
        return state, draft
    return state, None


def check_releasable(item: ReviewItem, state: ReviewState, adapters: Iterable[str]) -> None:
    """Refuse, before deciding, to approve a held reply that no configured adapter can post.

    Raises:
        ConfigurationError: the item is a held reply and its adapter is not in `adapters`.
    """
    names = set(adapters)
    releasing = state in (ReviewState.APPROVED, ReviewState.EDITED)
    if releasing and item._held_reply and item.adapter not in names:
        raise ConfigurationError(
            f"review item {item.id} is a held reply for adapter {item.adapter!r}, which is not "
            f"configured here ({', '.join(sorted(names)) or 'none'}); decide it where that "
            "adapter is configured, or add an [adapters.<name>] table"
        )


def language_matches(wanted: str, tag: str) -> bool:
    """Whether `tag` is `wanted`, or (for a bare language such as `pt`) one of its regions."""
    if tag == wanted:
        return True
    return "-" not in wanted and tag.split("-")[0] == wanted


def normalized_language(language: str | None) -> str | None:
    """`language` as a canonical tag for filtering, or None.

    Raises:
        ConfigurationError: not a language tag.
    """
    if language is None:
        return None
    try:
        return normalize_tag(language)
    except ValueError as error:
        raise ConfigurationError(f"review language filter: {error}") from None


def flags_to_json(flags: tuple[ReviewFlag, ...]) -> str:
    """The flags as a JSON list of objects, for storage."""
    return json.dumps([flag.model_dump(mode="json") for flag in flags], ensure_ascii=False)


def flags_from_json(text: str) -> tuple[ReviewFlag, ...]:
    """The flags stored by `flags_to_json`."""
    return tuple(ReviewFlag.model_validate(data) for data in json.loads(text))


def unknown_item(item_id: str, where: str) -> NotFoundError:
    """The error for an id the queue does not hold."""
    return NotFoundError(
        f"no review item {item_id!r} in {where}; list the pending items with `tl-loop review list`",
        service="review queue",
    )


def conflict(item: ReviewItem) -> ReviewConflictError:
    """The error for a second decision on `item`."""
    when = item.decided_at.isoformat(timespec="seconds") if item.decided_at else "earlier"
    return ReviewConflictError(
        f"review item {item.id} was already {item.state.value} by {item.decided_by or 'someone'} "
        f"at {when}; a decision is final",
        item=item,
    )


class ReviewQueue(abc.ABC):
    """The durable review queue. Implementations are safe to share between threads.

    A queue is a context manager that closes itself on exit.
    """

    @abc.abstractmethod
    def add(self, item: ReviewItem) -> None:
        """Queue `item`. Adding an id that is already stored does nothing, so a retried job
        that adds the same item twice queues it once."""

    @abc.abstractmethod
    def get(self, item_id: str) -> ReviewItem:
        """The item with this id.

        Raises:
            NotFoundError: no such item.
        """

    @abc.abstractmethod
    def list(
        self,
        *,
        state: ReviewState | None = ReviewState.PENDING,
        language: str | None = None,
        limit: int = 100,
        since: datetime | None = None,
    ) -> list[ReviewItem]:
        """Items newest first.

        Args:
            state: only items in this state; None for every state.
            language: only items whose source or target language is this tag (a bare
                language such as `pt` also matches its regions, `pt-BR`).
            limit: at most this many items.
            since: only items created at or after this time.

        Raises:
            ConfigurationError: `language` is not a language tag, or `limit` is below 1.
        """

    @abc.abstractmethod
    def decide(
        self, item_id: str, *, state: ReviewState, reviewer: str, final: str | None = None
    ) -> ReviewItem:
        """Decide a pending item, atomically: of two concurrent decisions exactly one wins.

        APPROVED sets `final` to the draft, EDITED stores `final` (required), REJECTED
        stores None.

        Returns:
            The decided item.

        Raises:
            NotFoundError: no such item.
            ReviewConflictError: the item was already decided (the error carries it).
            ConfigurationError: an invalid decision (see `check_decision`).
        """

    @abc.abstractmethod
    def mark_released(self, item_id: str) -> None:
        """Record that the approved or edited reply was posted to the helpdesk.

        Raises:
            NotFoundError: no such item.
            ReviewConflictError: the item is not approved or edited.
        """

    @abc.abstractmethod
    def counts(self) -> dict[str, int]:
        """Items per state: pending, approved, edited, rejected (zeros included)."""

    def close(self) -> None:  # noqa: B027  # optional hook
        """Release the queue's resources; it must not be used afterwards."""

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def check_limit(limit: int) -> None:
    """Raise ConfigurationError for a listing limit below 1."""
    if limit < 1:
        raise ConfigurationError(f"review list limit must be 1 or more, not {limit}")
