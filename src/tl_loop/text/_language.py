"""Language detection with lingua, and the sticky customer-language policy.

`LanguageDetector` tells which of the configured languages a text is written in, with a
confidence. `choose_customer_language` decides, from one detection, whether a conversation's
customer language should change: it is set by the first message, changed only by a confident
detection on enough text, and never changed while an agent has fixed it by hand.

The defaults come from measurement (see docs/language.md): on 294 real-style support messages in
the 21 default languages lingua's high-accuracy mode is right 99.7 % of the time at ~0.1 ms per
message, and 85 % of the messages reach 0.8 confidence with 12 letters or more, with no wrong
detection among those.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from types import MappingProxyType

from lingua import ConfidenceValue, Language, LanguageDetectorBuilder
from lingua import LanguageDetector as _LinguaDetector

from tl_loop._errors import ConfigurationError
from tl_loop._models import Conversation, Detection, normalize_tag
from tl_loop.text._galician import GALICIAN_NEIGHBOURS, refine_galician

__all__ = [
    "DEFAULT_LANGUAGES",
    "LanguageDetector",
    "StickyPolicy",
    "choose_customer_language",
]

DEFAULT_LANGUAGES: tuple[str, ...] = (
    "en", "es", "fr", "de", "pt", "it", "nl", "pl", "ru", "uk", "tr", "el",
    "lt", "fa", "ar", "he", "hi", "zh", "ja", "ko", "ca", "gl",
)  # fmt: skip
"""The languages detected when none are configured.

Galician (`gl`) has no lingua model: it is recognised by its own function words when lingua
answers Spanish or Portuguese (`_galician.py`). Every language added makes detection a little
slower and short texts a little less sure, so configure only the languages your customers write.
"""

_MAX_CANDIDATES = 3

# Letters inside links and addresses say nothing about the writer's language.
_LINKS = re.compile(r"(?:https?://|www\.)\S+|[\w.+-]+@[\w-]+(?:\.[\w-]+)+", re.IGNORECASE)

# Han, kana and Hangul carry about a word's worth of meaning per character, so a short Chinese
# message is as telling as a longer Latin one; these count double towards `min_letters`.
_WIDE_LETTERS = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff]")


def _prose(text: str) -> str:
    return _LINKS.sub(" ", text)


def _letter_count(text: str) -> int:
    """Letters in `text` outside links and e-mail addresses; CJK characters count double."""
    prose = _prose(text)
    return sum(char.isalpha() for char in prose) + len(_WIDE_LETTERS.findall(prose))


def _tag_of(language: Language) -> str:
    return language.iso_code_639_1.name.lower()


@cache
def _lingua_languages() -> Mapping[str, Language]:
    return MappingProxyType({_tag_of(language): language for language in Language.all()})


@cache
def _lingua_detector(
    languages: frozenset[Language], *, preload: bool, low_accuracy: bool
) -> _LinguaDetector:
    # Cached so each language set is built once per process; lingua shares the loaded models
    # between detectors, so a preloaded and a lazy detector for one set cost the memory once.
    builder = LanguageDetectorBuilder.from_languages(*languages)
    if preload:
        builder = builder.with_preloaded_language_models()
    if low_accuracy:
        builder = builder.with_low_accuracy_mode()
    return builder.build()


def _resolve_languages(languages: Sequence[str]) -> tuple[str, ...]:
    """Validate the configured tags and reduce them to lingua's ISO 639-1 codes, in order."""
    if isinstance(languages, str):
        raise ConfigurationError(
            f"languages must be a sequence of tags, not the string {languages!r}; "
            f"write languages=[{languages!r}, ...]"
        )
    supported = _lingua_languages()
    tags: list[str] = []
    for raw in languages:
        try:
            tag = normalize_tag(raw).split("-")[0]
        except ValueError as exc:
            raise ConfigurationError(f"detection languages: {exc}") from exc
        if tag == "gl":
            if not GALICIAN_NEIGHBOURS & {normalize_tag(t).split("-")[0] for t in languages}:
                raise ConfigurationError(
                    "Galician ('gl') is told apart from Spanish and Portuguese, so detecting it "
                    "needs 'es' or 'pt' among the detection languages too"
                )
        elif tag not in supported:
            raise ConfigurationError(
                f"lingua cannot detect {raw!r}; remove it from the detection languages "
                f"(text in it is reported as the closest supported language). "
                f"lingua detects: {', '.join(sorted(supported))}"
            )
        if tag not in tags:
            tags.append(tag)
    if len(tags) < 2:
        raise ConfigurationError(
            f"detection needs at least two distinct languages, got {tags or 'none'}; "
            "with one customer language set Message.language instead of detecting"
        )
    return tuple(tags)


def _to_detection(values: Sequence[ConfidenceValue]) -> Detection:
    # Rounded: lingua's last digits vary between runs of the same text, and a confidence is
    # compared, stored and shown, never used to more than four places.
    candidates = tuple(
        (_tag_of(value.language), round(min(1.0, value.value), 4))
        for value in values[:_MAX_CANDIDATES]
        if value.value > 0.0
    )
    if not candidates:
        # Letters, but none of a configured language's script (Thai with the default set).
        return Detection(language=None, confidence=0.0)
    language, confidence = candidates[0]
    return Detection(language=language, confidence=confidence, candidates=candidates)


_NO_LANGUAGE = Detection(language=None, confidence=0.0)


class LanguageDetector:
    """Detects which of the configured languages a text is written in.

    Safe to share between threads. The underlying lingua detector is built on the first
    detection (or at once with `preload=True`) and shared by every `LanguageDetector` with the
    same languages in the process.

    Args:
        languages: BCP-47 tags of the languages to tell apart. Region and script subtags are
            accepted and dropped (`pt-BR` is detected as `pt`): detection tells languages, not
            variants.
        preload: load every language model now (about 1.5 s and 500 MB for the default set)
            instead of on first use, so no customer message waits for the loading.
        low_accuracy: use lingua's low-accuracy mode: about 40 MB instead of 500 MB and 3x
            faster, but wrong more often on short texts and overconfident (it reports 1.0 for
            wrong guesses), which weakens `StickyPolicy`. Use it only where memory is tight.

    Raises:
        ConfigurationError: a tag is malformed, lingua does not know the language, or fewer than
            two distinct languages are given.

    Example:
        >>> detector = LanguageDetector(["en", "es", "el"])
        >>> detector.detect("Παραγγελία μου δεν έφτασε ακόμα").language
        'el'
    """

    __slots__ = ("_galician", "_languages", "_lingua_set", "_low_accuracy", "_preload")

    def __init__(
        self,
        languages: Sequence[str] = DEFAULT_LANGUAGES,
        *,
        preload: bool = False,
        low_accuracy: bool = False,
    ) -> None:
        self._languages = _resolve_languages(languages)
        supported = _lingua_languages()
        self._lingua_set = frozenset(supported[tag] for tag in self._languages if tag != "gl")
        self._galician = "gl" in self._languages
        self._preload = preload
        self._low_accuracy = low_accuracy
        if preload:
            self._lingua()

    @property
    def languages(self) -> tuple[str, ...]:
        """The languages this detector chooses from, as ISO 639-1 tags in configured order."""
        return self._languages

    @staticmethod
    def detectable_languages() -> tuple[str, ...]:
        """Every language lingua can tell (75, as ISO 639-1 tags, sorted), Galician aside."""
        return tuple(sorted(_lingua_languages()))

    def _lingua(self) -> _LinguaDetector:
        return _lingua_detector(
            self._lingua_set, preload=self._preload, low_accuracy=self._low_accuracy
        )

    def detect(self, text: str) -> Detection:
        """Detect the language of one text.

        Links and e-mail addresses are ignored. A text without letters (emoji, numbers, a bare
        URL) has no language: `Detection(language=None, confidence=0.0)`.

        Returns:
            The most likely language as a lowercase ISO 639-1 tag (`"el"`, `"fa"`, `"zh"`), its
            confidence (0-1, relative to the other configured languages), and up to three
            candidates, best first.
        """
        prose = _prose(text)
        if not any(char.isalpha() for char in prose):
            return _NO_LANGUAGE
        return self._finish(
            prose, _to_detection(self._lingua().compute_language_confidence_values(prose))
        )

    def _finish(self, prose: str, detection: Detection) -> Detection:
        return refine_galician(prose, detection) if self._galician else detection

    def detect_many(self, texts: Sequence[str]) -> list[Detection]:
        """Detect the language of many texts, using lingua's parallel batch API.

        Returns:
            One `Detection` per text, in order; see `detect`.
        """
        proses = [_prose(text) for text in texts]
        wanted = [i for i, prose in enumerate(proses) if any(c.isalpha() for c in prose)]
        results = [_NO_LANGUAGE] * len(proses)
        if wanted:
            batch = self._lingua().compute_language_confidence_values_in_parallel(
                [proses[i] for i in wanted]
            )
            for index, values in zip(wanted, batch, strict=True):
                results[index] = self._finish(proses[index], _to_detection(values))
        return results

    def __repr__(self) -> str:
        return f"LanguageDetector(languages={list(self._languages)!r})"


@dataclass(frozen=True, slots=True)
class StickyPolicy:
    """When a detection may change a conversation's customer language.

    A conversation's language is *confirmed* once its confidence reaches `min_confidence`. A
    detection of another language replaces it when the detection is confident
    (`min_confidence`) on a text of at least `min_letters` letters. While the current language
    is unconfirmed (set from a short first message such as "ok thx"), a detection also
    replaces it when it is at least `unconfirmed_min_confidence` sure and beats the current
    confidence by `unconfirmed_margin`, so a weak first guess is corrected by the next clearer
    message.

    Args:
        min_confidence: confidence a detection needs to change a language; 0.8 is what 85 % of
            real support messages of 12+ letters reach in lingua, with no wrong detection
            above it in our measurement (the Ticketcord default is also 80 %).
        min_letters: letters a text needs to change a language (outside links; a CJK
            character counts as two). Short replies ("ok thx", "gracias!!") never change it.
        unconfirmed_min_confidence: confidence a detection needs to replace an unconfirmed
            language; 0.5 means "more likely than all other languages together".
        unconfirmed_margin: how much surer than the current language such a detection must be.

    Raises:
        ConfigurationError: a confidence is outside 0-1 or `min_letters` is negative.
    """

    min_confidence: float = 0.8
    min_letters: int = 12
    unconfirmed_min_confidence: float = 0.5
    unconfirmed_margin: float = 0.2

    def __post_init__(self) -> None:
        for name in ("min_confidence", "unconfirmed_min_confidence", "unconfirmed_margin"):
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise ConfigurationError(
                    f"StickyPolicy.{name} must be between 0 and 1, not {value}"
                )
        if self.min_letters < 0:
            raise ConfigurationError(
                f"StickyPolicy.min_letters must be 0 or more, not {self.min_letters}"
            )

    def may_replace(self, current_confidence: float, detection: Detection, *, text: str) -> bool:
        """Whether `detection` of another language may replace one held at `current_confidence`.

        Args:
            current_confidence: the conversation's current customer-language confidence.
            detection: the detection of the new message, of a different language.
            text: the new message's text, whose letters are counted.
        """
        if detection.confidence >= self.min_confidence and _letter_count(text) >= self.min_letters:
            return True
        return (
            current_confidence < self.min_confidence
            and detection.confidence >= self.unconfirmed_min_confidence
            and detection.confidence >= current_confidence + self.unconfirmed_margin
        )


def _same_language(tag: str, other: str) -> bool:
    # A conversation may hold a regional tag ("pt-BR") while detection reports "pt".
    return tag.split("-")[0].lower() == other.split("-")[0].lower()


_DEFAULT_POLICY = StickyPolicy()


def choose_customer_language(
    conversation: Conversation,
    detection: Detection,
    *,
    text: str,
    policy: StickyPolicy = _DEFAULT_POLICY,
) -> tuple[str | None, float]:
    """Decide the customer language a conversation should have after one more message.

    Pure: reads `conversation`, changes nothing.

    - A manual override (`Conversation.override_customer_language`) wins: the current values
      come back unchanged.
    - No language yet: the detection is taken whatever its confidence (something must be
      translated), with its confidence recorded so a clearer message can correct it.
    - Same language detected: kept, with the higher of the two confidences (a regional tag
      such as `pt-BR` is kept when `pt` is detected).
    - Another language: taken only if `policy.may_replace` allows it; otherwise kept.
    - No language detected (emoji, numbers, links): kept.

    Args:
        conversation: the conversation the message belongs to.
        detection: the detection of the message's text.
        text: the message's text, to count its letters.
        policy: the thresholds; see `StickyPolicy`.

    Returns:
        The (language, confidence) the conversation should now have.

    Example:
        >>> spanish = Conversation(customer_language="es", customer_language_confidence=0.95)
        >>> choose_customer_language(spanish, Detection(language="tr", confidence=0.23),
        ...                          text="ok thx")
        ('es', 0.95)
    """
    current = conversation.customer_language
    current_confidence = conversation.customer_language_confidence
    new = detection.language
    if conversation.customer_language_manual or new is None:
        return current, current_confidence
    if current is None:
        return new, detection.confidence
    if _same_language(current, new):
        return current, max(current_confidence, detection.confidence)
    if policy.may_replace(current_confidence, detection, text=text):
        return new, detection.confidence
    return current, current_confidence
