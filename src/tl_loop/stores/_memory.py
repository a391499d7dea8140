"""Translation memory: human-approved translations that win over the engines next time.

An entry pairs a protected source segment (with its `⟦n⟧` tokens, as the pipeline sees it) with
the target a person approved or edited. It is found again by `memory_key`: the segment
(whitespace-normalised), the language pair and the glossary version, so a changed glossary never
reuses a translation made under the old terms.
"""

from __future__ import annotations

import abc
import hashlib
import json
import re
import threading
import unicodedata
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from types import TracebackType
from typing import Literal, Self, get_args

from tl_loop._errors import ConfigurationError
from tl_loop._models import normalize_tag

__all__ = [
    "InMemoryTranslationMemory",
    "MemoryEntry",
    "MemoryOrigin",
    "TranslationMemory",
    "memory_key",
    "normalize_segment",
]

MemoryOrigin = Literal["approved", "edited", "imported"]
"""How an entry entered the memory: approved as drafted, edited by a reviewer, or imported."""

# Bump when the key's fields or encoding change, so old entries in a shared store never match.
_KEY_SCHEMA = "tl_loop.memory.v1"
_WHITESPACE = re.compile(r"\s+")


def _now() -> datetime:
    return datetime.now(UTC)


def normalize_segment(text: str) -> str:
    """Return `text` as the memory compares it: NFC, stripped, every whitespace run one space.

    Engines and editors disagree on trailing spaces, doubled spaces and Unicode composition;
    none of these changes what a translator would write, so none of them may cost a match.
    """
    return _WHITESPACE.sub(" ", unicodedata.normalize("NFC", text)).strip()


def _language(tag: str, what: str) -> str:
    try:
        return normalize_tag(tag)
    except ValueError as error:
        raise ConfigurationError(f"memory {what} language: {error}") from None


def memory_key(*, source_text: str, source: str, target: str, glossary_version: str | None) -> str:
    """Return the memory key of one protected source segment: a SHA-256 hex digest.

    The segment is compared after `normalize_segment`; language tags are normalised
    (`pt_br` and `pt-BR` are one pair). The fields are encoded as a JSON list, so no two
    different lookups share an encoding, and `None` (no glossary) differs from `"None"`.

    Raises:
        ConfigurationError: `source` or `target` is not a language tag.

    Example:
        >>> a = memory_key(source_text="Hola  ⟦0⟧ ", source="es", target="en",
        ...                glossary_version=None)
        >>> a == memory_key(source_text="Hola ⟦0⟧", source="ES", target="en",
        ...                 glossary_version=None)
        True
    """
    fields = [
        _KEY_SCHEMA,
        _language(source, "source"),
        _language(target, "target"),
        glossary_version,
        normalize_segment(source_text),
    ]
    encoded = json.dumps(fields, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(encoded.encode("utf-8")).hexdigest()


@dataclass(frozen=True, slots=True)
class MemoryEntry:
    """One human-approved translation of a protected segment.

    Args:
        source_text: the protected source segment, with its `⟦n⟧` tokens.
        target_text: the approved target segment, with the same tokens.
        source: BCP-47 tag of the source language; normalised (`pt_br` → `pt-BR`).
        target: BCP-47 tag of the target language; normalised.
        glossary_version: the glossary version in force when it was approved, or None.
        origin: `approved` (draft kept as is), `edited` (post-edited) or `imported` (TMX).
        author: who approved it, when known.
        created_at: when it was approved; timezone-aware, stored in UTC.

    Raises:
        ConfigurationError: a language tag is invalid, `origin` is unknown, or `created_at`
            has no timezone.
    """

    source_text: str
    target_text: str
    source: str
    target: str
    glossary_version: str | None
    origin: MemoryOrigin = "approved"
    author: str | None = None
    created_at: datetime = field(default_factory=_now)

    def __post_init__(self) -> None:
        # Frozen: normalised values are set through object.__setattr__, once, here.
        object.__setattr__(self, "source", _language(self.source, "source"))
        object.__setattr__(self, "target", _language(self.target, "target"))
        if self.origin not in get_args(MemoryOrigin):
            raise ConfigurationError(
                f"memory entry origin must be one of {get_args(MemoryOrigin)}, not {self.origin!r}"
            )
        if self.created_at.tzinfo is None or self.created_at.utcoffset() is None:
            raise ConfigurationError(
                "memory entry created_at must be timezone-aware; use datetime.now(UTC)"
            )
        object.__setattr__(self, "created_at", self.created_at.astimezone(UTC))

    @property
    def key(self) -> str:
        """This entry's `memory_key`."""
        return memory_key(
            source_text=self.source_text,
            source=self.source,
            target=self.target,
            glossary_version=self.glossary_version,
        )


class TranslationMemory(abc.ABC):
    """A store of `MemoryEntry`, one per `memory_key`; the latest `put` wins.

    Implementations are safe to share between threads. A memory is a context manager that
    closes itself on exit.
    """

    def get(
        self, *, source_text: str, source: str, target: str, glossary_version: str | None
    ) -> MemoryEntry | None:
        """Return the entry for this segment, pair and glossary version, or None.

        Raises:
            ConfigurationError: `source` or `target` is not a language tag.
        """
        key = memory_key(
            source_text=source_text,
            source=source,
            target=target,
            glossary_version=glossary_version,
        )
        return self.get_many([key])[0]

    @abc.abstractmethod
    def get_many(self, keys: Sequence[str]) -> list[MemoryEntry | None]:
        """Return the entry for each key (from `memory_key`), None where there is none.

        The result has one item per key, in the same order, duplicates included.
        """

    def put(self, entry: MemoryEntry) -> None:
        """Store `entry`, replacing any entry with the same key: the latest human wins."""
        self.put_many([entry])

    @abc.abstractmethod
    def put_many(self, entries: Iterable[MemoryEntry]) -> None:
        """Store every entry, in order: of two with the same key, the later one stays."""

    @abc.abstractmethod
    def entries(
        self, *, source: str | None = None, target: str | None = None
    ) -> Iterator[MemoryEntry]:
        """Yield the stored entries, optionally only those of one source or target language.

        Raises:
            ConfigurationError: `source` or `target` is given and is not a language tag.
        """

    @abc.abstractmethod
    def __len__(self) -> int:
        """Return the number of entries stored."""

    def close(self) -> None:  # noqa: B027  # optional hook: stores without resources keep it
        """Release the store's resources; the memory must not be used afterwards."""

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()


def language_filter(source: str | None, target: str | None) -> tuple[str | None, str | None]:
    """Normalise the optional language filters of `TranslationMemory.entries`."""
    return (
        None if source is None else _language(source, "source"),
        None if target is None else _language(target, "target"),
    )


class InMemoryTranslationMemory(TranslationMemory):
    """A translation memory in a dict behind a lock: for tests and single processes.

    Everything is lost when the process ends; use `SQLiteTranslationMemory` to keep it.

    Example:
        >>> memory = InMemoryTranslationMemory()
        >>> memory.put(MemoryEntry(source_text="Hola ⟦0⟧", target_text="Hi ⟦0⟧",
        ...                        source="es", target="en", glossary_version=None))
        >>> memory.get(source_text="Hola  ⟦0⟧", source="es", target="en",
        ...            glossary_version=None).target_text
        'Hi ⟦0⟧'
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._entries: dict[str, MemoryEntry] = {}

    def get_many(self, keys: Sequence[str]) -> list[MemoryEntry | None]:
        """Return the entry for each key, None where there is none."""
        with self._lock:
            return [self._entries.get(key) for key in keys]

    def put_many(self, entries: Iterable[MemoryEntry]) -> None:
        """Store every entry; the later of two with the same key stays."""
        keyed = [(entry.key, entry) for entry in entries]  # hash outside the lock
        with self._lock:
            for key, entry in keyed:
                self._entries.pop(key, None)  # re-insert: iteration order is put order
                self._entries[key] = entry

    def entries(
        self, *, source: str | None = None, target: str | None = None
    ) -> Iterator[MemoryEntry]:
        """Yield the entries in the order they were last put, optionally filtered by language."""
        source, target = language_filter(source, target)
        with self._lock:
            snapshot = list(self._entries.values())
        for entry in snapshot:
            if (source is None or entry.source == source) and (
                target is None or entry.target == target
            ):
                yield entry

    def __len__(self) -> int:
        """Return the number of entries stored."""
        with self._lock:
            return len(self._entries)
