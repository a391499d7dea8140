"""The data that flows through the loop: messages in, translations out, flags and audit beside.

Everything here is a pydantic model so it validates on the way in and serialises to JSON for
adapters, queues and the CLI. Language tags are BCP-47 strings normalised on input
(`PT-br` → `pt-BR`, `zh_hans` → `zh-Hans`).
"""

from __future__ import annotations

import functools
import re
from datetime import UTC, datetime
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field


def _langcodes() -> Any:
    # langcodes loads its tables (~0.15 s) on import: only tag normalisation needs them.
    import langcodes

    return langcodes


__all__ = [
    "AuditRecord",
    "BackTranslation",
    "Channel",
    "ContentType",
    "Conversation",
    "Decision",
    "Detection",
    "Direction",
    "LanguageTag",
    "Message",
    "ReviewFlag",
    "Severity",
    "Translation",
    "normalize_tag",
    "primary_language",
    "same_language",
]

_SHAPE = re.compile(r"^[A-Za-z]{2,8}([-_][A-Za-z0-9]{1,8})*$")
# Country codes people write for a language (`gr` for Greek); only where the code is no language.
_COUNTRY_FOR_LANGUAGE = {
    "gr": "el", "jp": "ja", "cn": "zh", "ua": "uk", "dk": "da", "cz": "cs", "vn": "vi",
    "kz": "kk", "gb": "en", "us": "en", "at": "de", "rs": "sr", "si": "sl", "ee": "et",
}  # fmt: skip


@functools.lru_cache(maxsize=1024)
def normalize_tag(tag: str) -> str:
    """Return `tag` as a canonical BCP-47 string.

    Case and separators are fixed (`pt_br` → `pt-BR`, `ZH-hant` → `zh-Hant`), deprecated and
    three-letter codes replaced (`iw` → `he`, `eng` → `en`, `zh-yue` → `yue`); scripts,
    regions, extensions and private-use subtags are kept (`sr-Latn`, `en-US-x-acme`).

    Raises:
        ValueError: `tag` is not a language tag; the message suggests the tag meant when it
            can (`english` → `en`, `gr` → `el`).
    """
    text = tag.strip()
    if _SHAPE.match(text):
        candidate = text.replace("_", "-")
        if _langcodes().tag_is_valid(candidate):
            primary = candidate.split("-")[0].lower()
            if (
                primary not in _COUNTRY_FOR_LANGUAGE
                or _langcodes().Language.get(primary).is_valid()
            ):
                return str(_langcodes().standardize_tag(candidate))
    raise ValueError(f"{tag!r} is not a language tag; {_suggestion(text)}")


def _suggestion(text: str) -> str:
    primary = re.split(r"[-_ ]", text)[0].lower()
    if primary in _COUNTRY_FOR_LANGUAGE:
        return f"did you mean {_COUNTRY_FOR_LANGUAGE[primary]!r}? ({primary!r} is a country code)"
    if text.isalpha() and len(text) > 3:
        try:
            found = str(_langcodes().find(text))
        except (LookupError, ImportError):  # no such name, or language_data not installed
            found = None
        if found:
            return f"use {found!r} for {text.title()}"
    return "use a BCP-47 tag such as 'es', 'pt-BR' or 'sr-Latn'"


def primary_language(tag: str) -> str:
    """The language subtag of a normalised tag: `pt-BR` → `pt`, `sr-Latn` → `sr`."""
    return tag.split("-", 1)[0].lower()


def _script(tag: str) -> str | None:
    for subtag in tag.split("-")[1:]:
        if len(subtag) == 4 and subtag.isalpha():
            return subtag.title()
    return None


def same_language(a: str, b: str) -> bool:
    """Whether two tags name one language a reader reads either way: `en` and `en-US` do,
    `sr-Latn` and `sr-Cyrl` (another script) do not."""
    if primary_language(a) != primary_language(b):
        return False
    scripts = _script(a), _script(b)
    return None in scripts or scripts[0] == scripts[1]


LanguageTag = Annotated[str, AfterValidator(normalize_tag)]
"""A BCP-47 language tag, normalised on validation."""

ContentType = Literal["text", "html", "markdown"]
"""How a message's text is marked up; markup never reaches an engine as text to translate."""

Direction = Literal["inbound", "outbound"]
"""Inbound: customer → agent language. Outbound: agent → customer language."""

Channel = Literal["chat", "email", "kb"]
"""Where a message travels; review policies may differ per channel."""


class Severity(StrEnum):
    """How much a review flag matters; the policy decides what each level does."""

    INFO = "info"
    WARNING = "warning"
    ERROR = "error"


class Decision(StrEnum):
    """What to do with a translation: send it, send it with flags shown, or hold it for a human."""

    SEND = "send"
    SEND_FLAGGED = "send_flagged"
    HOLD = "hold"


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Message(_Frozen):
    """A message to translate: a customer's message or an agent's reply.

    Args:
        text: the text as written.
        content_type: `text`, `html` or `markdown`.
        language: the language it is written in, when known; skips detection.
        id: the helpdesk's id for it, carried into the audit record.
        channel: `chat`, `email` or `kb`, when known; selects the review policy.
    """

    text: str
    content_type: ContentType = "text"
    language: LanguageTag | None = None
    id: str | None = None
    channel: Channel | None = None


class Detection(_Frozen):
    """The result of language detection: the best language and how sure the detector is."""

    language: LanguageTag | None
    confidence: float = Field(ge=0.0, le=1.0)
    candidates: tuple[tuple[str, float], ...] = ()


class Conversation(BaseModel):
    """One support conversation: who speaks what.

    The customer language is sticky: the loop sets it from a confident detection, keeps it when
    a short or ambiguous message comes in, and never changes it while `customer_language_manual`
    is set by `override_customer_language`. Not safe to share between threads without a lock:
    the loop updates it in place.
    """

    model_config = ConfigDict(validate_assignment=True, extra="forbid")

    id: str | None = None
    customer_language: LanguageTag | None = None
    customer_language_confidence: float = Field(default=0.0, ge=0.0, le=1.0)
    customer_language_manual: bool = False
    agent_languages: tuple[LanguageTag, ...] = ("en",)

    @property
    def agent_language(self) -> str:
        """The language agents write in and read translations into: the first agent language."""
        return self.agent_languages[0]

    def override_customer_language(self, language: str) -> None:
        """Fix the customer language by hand; detection will not change it until cleared."""
        self.customer_language = language
        self.customer_language_confidence = 1.0
        self.customer_language_manual = True

    def clear_override(self) -> None:
        """Let detection change the customer language again."""
        self.customer_language_manual = False


class ReviewFlag(_Frozen):
    """Something a human may want to look at: a check that failed, with a readable reason."""

    code: str
    severity: Severity
    detail: str


class BackTranslation(_Frozen):
    """A reply translated back into the agent's language, and what changed on the way.

    Agents cannot read Greek; they can read what the Greek says. `differences` names what
    matters (`"negation: a negation is missing: …"`, `"number: 12 is not in the translation"`).
    """

    text: str
    language: str
    score: float
    differences: tuple[str, ...] = ()


class AuditRecord(_Frozen):
    """What produced a translation, for audit, cost and quality statistics."""

    direction: Direction
    engine: str | None
    engine_version: str | None
    route: tuple[str, ...] = ()
    glossary_version: str | None
    detected_language: str | None
    detection_confidence: float | None
    characters_sent: int
    billed_characters: int | None = None
    segments: int
    cache_hits: int
    memory_hits: int = 0
    timings_ms: dict[str, float]
    created_at: datetime = Field(default_factory=lambda: datetime.now(UTC))


class Translation(_Frozen):
    """A message after the loop: the original is always kept beside the translation.

    `translated` equals `original` when translation was skipped (the reader reads the source
    language) or every engine failed (then an `engine_failed` flag says so).
    """

    original: str
    translated: str
    source_language: str | None
    target_language: str
    content_type: ContentType
    direction: Direction
    engine: str | None
    flags: tuple[ReviewFlag, ...]
    decision: Decision
    skipped: bool = False
    audit: AuditRecord
    back_translation: BackTranslation | None = None

    @property
    def flag_codes(self) -> tuple[str, ...]:
        """The codes of the review flags, in order."""
        return tuple(flag.code for flag in self.flags)
