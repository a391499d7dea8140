"""Hints before sending: what in an agent's reply machine translation tends to break, and what
the customer's culture expects.

Two kinds of hint, both advice and never a block by themselves (they become `info` flags named
`hint_<category>`, which a policy may still choose to hold on):

- **translatability**, from data files per source language (`hint_rules/en.toml`, extendable):
  idioms, phrasal verbs, abbreviations, slang and jargon, humour markers, each with a plainer
  rewrite; and rules in code: contractions, sentences over a length, a pronoun that could mean
  either of two things.
- **culture**, per customer locale (`hint_rules/locales.toml`): a greeting by first name where a
  title is expected, an offer in a reply to a complaint where that reads as rude, a promised
  response time longer than the locale reads as prompt; and the register (`formality`) the
  locale expects, which the pipeline asks the engine for.
"""

from __future__ import annotations

import functools
import itertools
import re
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any, Literal

from tl_loop._errors import ConfigurationError
from tl_loop._models import ReviewFlag, Severity

__all__ = ["Hint", "HintRules", "LocaleExpectations", "check_hints", "hint_flags"]

_CONTRACTION = re.compile(
    r"\b(?:\w+n't|(?:I|you|we|they|he|she|it|that|there|what|who|here|let)"
    r"['’](?:re|ll|ve|d|m|s))\b",
    re.IGNORECASE,
)
_SENTENCE = re.compile(r"[^.!?\n]+[.!?]*")
_WORD = re.compile(r"[^\W_]+(?:['’][^\W_]+)?")
_PRONOUN_START = re.compile(r"^\s*(It|This|That|They|These|Those)\b")
_GREETING = re.compile(r"^\s*(?:hi|hello|hey|dear|good (?:morning|afternoon|evening))\s+"
                       r"(?!(?:mr|mrs|ms|miss|dr|prof|sir|madam)\b)([A-Z][\w'-]+)\s*[,!\n]",
                       re.IGNORECASE)  # fmt: skip
_APOLOGY = re.compile(
    r"\b(?:sorry|apologi[sz]e|apologies|inconvenience|unfortunately|regret)\b", re.IGNORECASE
)
_UPSELL = re.compile(
    r"\b(?:upgrade|premium|special offer|promo(?:tion)?|discount on|check out our|you might "
    r"also like|add-on|bundle|exclusive deal|limited[- ]time offer)\b",
    re.IGNORECASE,
)
_PROMISE_VERB = re.compile(
    r"\b(?:answer|reply|respond|get back|hear from|update you|resolve|fix|call you|contact you|"
    r"back to you|investigat\w*|look into|solution|we will|we'll|expect)\b",
    re.IGNORECASE,
)
_PROMISE = re.compile(
    r"\b(?:within|in|up to)\s+(\d+)\s+(hours?|days?|business days?|working days?|weeks?)\b",
    re.IGNORECASE,
)
_HOURS = {"hour": 1, "day": 24, "week": 24 * 7}

Category = Literal[
    "idiom", "phrasal_verb", "abbreviation", "slang", "humour", "contraction",
    "long_sentence", "ambiguous_pronoun", "title_greeting", "upsell", "response_time",
]  # fmt: skip


@dataclass(frozen=True, slots=True)
class Hint:
    """One piece of advice on a reply, with the text it is about and a plainer way to say it."""

    category: str
    text: str
    advice: str

    def flag(self) -> ReviewFlag:
        """The hint as an `info` review flag (`hint_<category>`)."""
        return ReviewFlag(
            code=f"hint_{self.category}",
            severity=Severity.INFO,
            detail=f"{self.text!r}: {self.advice}",
        )


@dataclass(frozen=True, slots=True)
class LocaleExpectations:
    """What customers in one locale expect of a support reply (see hint_rules/locales.toml)."""

    formality: Literal["formal", "informal"] | None = None
    title_greeting: bool = False
    no_upsell_on_complaint: bool = False
    response_hours: int = 72


@dataclass(frozen=True, slots=True)
class HintRules:
    """The phrase lists per source language, the locale expectations, and the length limit.

    Args:
        phrases: per source language, per category, phrase → plainer rewrite.
        locales: per language tag (`"de"`, `"es-ES"`), what that locale expects.
        max_sentence_words: sentences longer than this get a `long_sentence` hint.
    """

    phrases: Mapping[str, Mapping[str, Mapping[str, str]]] = field(default_factory=dict)
    locales: Mapping[str, LocaleExpectations] = field(default_factory=dict)
    max_sentence_words: int = 25

    @classmethod
    def default(cls) -> HintRules:
        """The shipped lists (English) and locale defaults, read once per process."""
        return _shipped_rules()

    def extended(
        self, *, phrases: Path | None = None, language: str = "en", locales: Path | None = None
    ) -> HintRules:
        """These rules plus a user's file of phrases (for `language`) and/or of locales.

        Raises:
            ConfigurationError: a file cannot be read or is not TOML of the documented shape.
        """
        merged = {k: {c: dict(v) for c, v in cats.items()} for k, cats in self.phrases.items()}
        if phrases is not None:
            for category, entries in _phrases(_read(phrases)).items():
                merged.setdefault(language, {}).setdefault(category, {}).update(entries)
        all_locales = dict(self.locales)
        if locales is not None:
            all_locales.update(_locales(_read(locales), base=all_locales.get("default")))
        return HintRules(merged, all_locales, self.max_sentence_words)

    def expectations(self, locale: str | None) -> LocaleExpectations:
        """What a customer in `locale` expects: its own entry, else its language's, else default."""
        default = self.locales.get("default", LocaleExpectations())
        if not locale:
            return default
        return self.locales.get(locale) or self.locales.get(locale.split("-")[0]) or default


def check_hints(
    text: str,
    *,
    language: str = "en",
    customer_language: str | None = None,
    rules: HintRules | None = None,
) -> list[Hint]:
    """The hints for an agent's reply `text` written in `language`, for a customer reading
    `customer_language`.

    ```python
    from tl_loop import check_hints

    hints = check_hints("Hi Anna, we'll touch base ASAP.", customer_language="de")
    assert {h.category for h in hints} >= {"idiom", "abbreviation", "contraction"}
    ```
    """
    rules = rules or _shipped_rules()
    hints = _phrase_hints(text, rules.phrases.get(language.split("-")[0], {}))
    if language.startswith("en"):
        hints += [
            Hint("contraction", m.group(0), "write it out in full (we will, do not)")
            for m in _CONTRACTION.finditer(text)
        ]
        hints += _pronoun_hints(text)
    hints += _length_hints(text, rules.max_sentence_words)
    if customer_language:
        hints += _culture_hints(text, rules.expectations(customer_language), customer_language)
    return hints


def hint_flags(hints: Iterable[Hint]) -> list[ReviewFlag]:
    """One `info` flag per hint, in order."""
    return [hint.flag() for hint in hints]


def _phrase_hints(text: str, categories: Mapping[str, Mapping[str, str]]) -> list[Hint]:
    hints = []
    for category, entries in categories.items():
        for phrase, rewrite in entries.items():
            for match in _phrase_pattern(phrase).finditer(text):
                advice = "leave it out" if rewrite == "(remove)" else f"write {rewrite!r}"
                hints.append(Hint(category, match.group(0), advice))
    return hints


_PATTERNS: dict[str, re.Pattern[str]] = {}


def _phrase_pattern(phrase: str) -> re.Pattern[str]:
    pattern = _PATTERNS.get(phrase)
    if pattern is None:
        body = r"\s+".join(r"\w+" if part == "*" else re.escape(part) for part in phrase.split())
        # Word boundaries only where the phrase starts or ends with a word character.
        start = r"(?<!\w)" if phrase[:1].isalnum() else ""
        end = r"(?!\w)" if phrase[-1:].isalnum() or phrase.endswith(".") else ""
        case = 0 if phrase.isupper() and len(phrase) > 1 else re.IGNORECASE  # FYI, not "fyi"
        pattern = _PATTERNS[phrase] = re.compile(start + body + end, case)
    return pattern


def _length_hints(text: str, limit: int) -> list[Hint]:
    hints = []
    for sentence in _SENTENCE.findall(text):
        words = _WORD.findall(sentence)
        if len(words) > limit:
            shown = " ".join(words[:6]) + " …"
            hints.append(Hint("long_sentence", shown, f"{len(words)} words: split it in two"))
    return hints


def _pronoun_hints(text: str) -> list[Hint]:
    sentences = [s.strip() for s in _SENTENCE.findall(text) if s.strip()]
    hints = []
    for previous, sentence in itertools.pairwise(sentences):
        match = _PRONOUN_START.match(sentence)
        if match and re.search(r"\b(?:and|or)\b", previous, re.IGNORECASE):
            hints.append(Hint("ambiguous_pronoun", match.group(1), "name the thing it stands for"))
    return hints


def _culture_hints(text: str, expects: LocaleExpectations, locale: str) -> list[Hint]:
    hints = []
    greeting = _GREETING.match(text)
    if expects.title_greeting and greeting:
        hints.append(
            Hint("title_greeting", greeting.group(0).strip(),
                 f"customers writing {locale} expect a title and surname (Dear Ms …)")
        )  # fmt: skip
    if expects.no_upsell_on_complaint and _APOLOGY.search(text):
        for offer in _UPSELL.finditer(text):
            hints.append(
                Hint("upsell", offer.group(0),
                     f"an offer in a reply to a complaint reads as dismissive in {locale}")
            )  # fmt: skip
    promises = [
        match
        for sentence in _SENTENCE.findall(text)
        if _PROMISE_VERB.search(sentence)
        for match in _PROMISE.finditer(sentence)
    ]
    for promise in promises:
        unit = promise.group(2).lower().split()[-1].rstrip("s")
        hours = int(promise.group(1)) * _HOURS.get(unit, 24)
        if hours > expects.response_hours:
            hints.append(
                Hint("response_time", promise.group(0),
                     f"customers writing {locale} expect an answer within "
                     f"{expects.response_hours} hours")
            )  # fmt: skip
    return hints


def _read(path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as error:
        raise ConfigurationError(f"hint file {path}: {error}") from error


def _phrases(data: Mapping[str, Any]) -> dict[str, dict[str, str]]:
    out: dict[str, dict[str, str]] = {}
    for category, entries in data.items():
        if not isinstance(entries, dict) or not all(isinstance(v, str) for v in entries.values()):
            raise ConfigurationError(
                f"hint rules: [{category}] must map phrases to rewrites, "
                f'e.g. "touch base" = "contact you"'
            )
        out[category] = {str(k): v for k, v in entries.items()}
    return out


def _locales(
    data: Mapping[str, Any], base: LocaleExpectations | None = None
) -> dict[str, LocaleExpectations]:
    default = base or LocaleExpectations()
    if "default" in data:
        default = _expectation(data["default"], LocaleExpectations(), "default")
    out = {"default": default}
    for tag, values in data.items():
        if tag != "default":
            parent = out.get(tag.split("-")[0], default) if "-" in tag else default
            out[tag] = _expectation(values, parent, tag)
    return out


def _expectation(values: Any, parent: LocaleExpectations, tag: str) -> LocaleExpectations:
    if not isinstance(values, dict):
        raise ConfigurationError(f"hint locales: [{tag}] must be a table")
    known = {"formality", "title_greeting", "no_upsell_on_complaint", "response_hours"}
    unknown = set(values) - known
    if unknown:
        raise ConfigurationError(
            f"hint locales: [{tag}] has unknown keys {sorted(unknown)}; known: {sorted(known)}"
        )
    formality = values.get("formality", parent.formality or "")
    if formality not in ("", "formal", "informal"):
        raise ConfigurationError(f'hint locales: [{tag}] formality must be "formal" or "informal"')
    return LocaleExpectations(
        formality=formality or None,
        title_greeting=bool(values.get("title_greeting", parent.title_greeting)),
        no_upsell_on_complaint=bool(
            values.get("no_upsell_on_complaint", parent.no_upsell_on_complaint)
        ),
        response_hours=int(values.get("response_hours", parent.response_hours)),
    )


@functools.cache
def _shipped_rules() -> HintRules:
    # Previews ask for the defaults on every reply: read the package's TOML files once.
    root = resources.files("tl_loop").joinpath("hint_rules")
    phrases = {"en": _phrases(tomllib.loads(root.joinpath("en.toml").read_text("utf-8")))}
    locales = _locales(tomllib.loads(root.joinpath("locales.toml").read_text("utf-8")))
    return HintRules(phrases=phrases, locales=locales)
