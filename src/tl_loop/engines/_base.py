"""The Engine interface: what an engine can do, which pairs it has, and one batch call.

An engine receives segments that are already protected: whatever must survive untouched has been
replaced by sentinel tokens `⟦n⟧` (see `TOKEN_PATTERN`). An engine renders those tokens in its
own markup if it has one (Apertium superblanks, HTML `translate="no"`) and gives them back as
`⟦n⟧`; the loop checks that every token came back.
"""

from __future__ import annotations

import abc
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, ClassVar, Literal, Self

import anyio.to_thread

from tl_loop.text._token_markup import TOKEN_PATTERN

if TYPE_CHECKING:
    from tl_loop._glossary import Glossary

__all__ = ["DOUBT", "TOKEN_PATTERN", "Capabilities", "Engine", "SegmentResult", "TranslateOptions"]


@dataclass(frozen=True, slots=True)
class Capabilities:
    """What an engine can do; the loop batches and protects by these, never by engine name.

    Args:
        max_items: most segments in one `translate_batch` call.
        max_chars: most characters (code points) in one call, all segments together.
        trusted: inside the trust boundary (local, or contracted not to keep data); when false,
            personal data (e-mails, phone, card and IBAN numbers) is masked before sending.
        formality: honours a formal/informal register.
        glossary: applies glossaries natively.
        scores: returns a confidence per segment.
        marks_unknown: reports words it could not translate.
    """

    max_items: int = 64
    max_chars: int = 20_000
    trusted: bool = True
    formality: bool = False
    glossary: bool = False
    scores: bool = False
    marks_unknown: bool = False


@dataclass(frozen=True, slots=True)
class TranslateOptions:
    """What a caller asks of an engine beyond the text; engines use what they support.

    Args:
        formality: the register for the target language; engines without
            `Capabilities.formality` ignore it, and the loop flags that.
        glossary: given only to engines with `Capabilities.glossary`; the loop protects the
            glossary's terms with tokens for every other engine.
        context: text that helps the engine (the customer's previous message), never translated.
    """

    formality: Literal["formal", "informal"] | None = None
    glossary: Glossary | None = None
    context: str | None = None


NO_OPTIONS = TranslateOptions()


@dataclass(frozen=True, slots=True)
class SegmentResult:
    """One translated segment and the engine's own signals about it.

    `extra[DOUBT]` (`"doubt"`), when present, is the engine's reason to think the output is not
    a translation of the segment (an LLM that answered or obeyed it); the loop flags it
    `not_a_translation`.
    """

    text: str
    unknown_words: tuple[str, ...] = ()
    score: float | None = None
    billed_characters: int | None = None
    formality_applied: bool | None = None
    extra: dict[str, str] = field(default_factory=dict)


DOUBT = "doubt"
"""The `SegmentResult.extra` key for an engine's doubt that an output is a translation."""


class Engine(abc.ABC):
    """A machine translation engine.

    Subclasses set `name`, implement `pairs()` and `translate_batch()`, and map BCP-47 tags to
    their own codes inside their own module. `atranslate_batch` runs `translate_batch` in a worker
    thread by default; HTTP engines override it with a real async call. Engines must be safe to
    share between threads.
    """

    name: ClassVar[str]
    capabilities: Capabilities = Capabilities()
    install_hint: ClassVar[str] = ""
    """How to make this engine available or add language pairs, shown in errors."""

    @property
    def version(self) -> str:
        """The engine's version, part of every cache key: a new version means new output."""
        return "0"

    @abc.abstractmethod
    def pairs(self) -> frozenset[tuple[str, str]]:
        """The (source, target) BCP-47 pairs this engine translates directly."""

    def supports(self, source: str, target: str) -> bool:
        """Whether this engine translates `source` → `target` directly."""
        return (source, target) in self.pairs()

    def is_available(self) -> bool:
        """Whether the engine can run here at all (its programs, models or credentials exist)."""
        return bool(self.pairs())

    def withheld(self, source: str, target: str) -> str | None:
        """Why a pair this engine has installed is not offered (switched off on purpose), and
        how to turn it on; None when the engine simply does not have the pair."""
        return None

    @abc.abstractmethod
    def translate_batch(
        self,
        segments: Sequence[str],
        *,
        source: str,
        target: str,
        options: TranslateOptions = NO_OPTIONS,
    ) -> list[SegmentResult]:
        """Translate protected segments from `source` to `target`, one result per segment.

        Raises:
            UnsupportedLanguageError: the pair is not supported.
            ServiceError: the engine failed; `retryable` says whether trying again may help.
        """

    async def atranslate_batch(
        self,
        segments: Sequence[str],
        *,
        source: str,
        target: str,
        options: TranslateOptions = NO_OPTIONS,
    ) -> list[SegmentResult]:
        """Async `translate_batch`; by default runs the blocking call in a worker thread."""

        def call() -> list[SegmentResult]:
            return self.translate_batch(segments, source=source, target=target, options=options)

        return await anyio.to_thread.run_sync(call)

    def close(self) -> None:  # noqa: B027  # a no-op default: most engines hold nothing
        """Release processes, models or connections the engine holds. Safe to call twice."""

    async def aclose(self) -> None:
        """Async `close`: also closes connections opened for the running event loop."""
        self.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<{type(self).__name__} name={self.name!r}>"
