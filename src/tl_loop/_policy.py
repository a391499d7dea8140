"""Review checks that turn doubts about a translation into flags, and the policy that decides.

Each check is a small pure function returning zero or more `ReviewFlag`s. The policy reads the
flags and decides: send, send with the flags shown, or hold for a human. Flags are data, never
exceptions, so a doubtful translation is never lost.

Flag codes (stable; adapters, stats and docs rely on them):

| code | severity | meaning |
|---|---|---|
| `engine_failed` | error | every engine failed; the original text was kept |
| `unsupported_language` | error | no engine covers the pair; the original text was kept |
| `customer_language_unknown` | error | outbound reply, but the customer's language is not known |
| `token_parity` | error | a protected span (placeholder, URL, order number...) was lost or added |
| `fidelity` | error | a source identifier, path, code or placeholder is not in the output as is |
| `not_a_translation` | error | the output answers, obeys or adds to the text (an LLM doubt) |
| `number_mismatch` | warning | numbers in the source and the translation differ |
| `glossary_violation` | warning | a glossary term was not rendered as the glossary says |
| `wrong_language` | warning | the output does not read as the target language |
| `untranslated` | warning | a large share of the output is the source text unchanged |
| `length_ratio` | warning | the output is much shorter or longer than the source |
| `formality_unsupported` | warning | the requested register was not applied |
| `unknown_words` | warning | the engine marked words it could not translate |
| `low_score` | warning | the engine's own confidence in a segment is low (Argos scores) |
| `engine_fallback` | info | the preferred engine failed; a fallback served |
| `pivot` | info | translated through a third language |
| `low_confidence_detection` | info | the source language was detected with low confidence |
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from tl_loop._models import Decision, Detection, Direction, ReviewFlag, Severity

__all__ = ["PolicyRule", "ReviewPolicy", "Thresholds", "select_policy"]

_NUMBER = re.compile(r"\d+(?:[.,\s]\d{3})*(?:[.,]\d+)?")
_WORD = re.compile(r"[^\W\d_]{3,}")
_LETTER = re.compile(r"[^\W\d_]")
_SEVERITY_ORDER = {Severity.INFO: 0, Severity.WARNING: 1, Severity.ERROR: 2}


@dataclass(frozen=True, slots=True)
class Thresholds:
    """The numbers behind the checks; tune them per deployment.

    Args:
        min_length_ratio: flag output shorter than this share of the source (in characters).
        max_length_ratio: flag output longer than this multiple of the source.
        min_chars_for_ratio: sources shorter than this are not length-checked.
        max_untranslated_share: flag when more than this share of the output's words were
            copied from the source unchanged.
        min_words_for_untranslated: sources with fewer words are not checked for copying.
        wrong_language_confidence: flag when the output is detected as another language with
            at least this confidence.
        min_letters_for_language: outputs with fewer letters are not language-checked.
        min_score: flag segments whose engine score (0–1, where engines report one) is lower.
    """

    min_length_ratio: float = 0.4
    max_length_ratio: float = 2.5
    min_chars_for_ratio: int = 20
    max_untranslated_share: float = 0.6
    min_words_for_untranslated: int = 4
    wrong_language_confidence: float = 0.9
    min_letters_for_language: int = 20
    min_score: float = 0.5


@dataclass(frozen=True, slots=True)
class ReviewPolicy:
    """Turns flags into a decision.

    Outbound (to the customer): a flag whose code is in `hold_codes`, or whose severity reaches
    `hold_at`, holds the reply for a human; a flag at `flag_at` or above sends it flagged.
    Inbound (for the agent to read) is never held: reading a doubtful translation beside its
    original beats reading nothing, so the worst inbound decision is `send_flagged`.

    Args:
        hold_codes: flag codes that always hold an outbound reply.
        hold_at: the severity that holds an outbound reply; None holds only by code.
        flag_at: the lowest severity that marks a translation as flagged.
        thresholds: the numbers behind the checks.
    """

    hold_codes: frozenset[str] = frozenset(
        {
            "engine_failed",
            "unsupported_language",
            "customer_language_unknown",
            "token_parity",
            "fidelity",
            "not_a_translation",
        }
    )
    hold_at: Severity | None = Severity.ERROR
    flag_at: Severity = Severity.WARNING
    thresholds: Thresholds = field(default_factory=Thresholds)

    def decide(self, flags: Iterable[ReviewFlag], *, direction: Direction) -> Decision:
        """The decision for a translation with these flags, in this direction."""
        flags = list(flags)
        hold = any(
            flag.code in self.hold_codes or _reaches(flag.severity, self.hold_at) for flag in flags
        )
        if hold and direction == "outbound":
            return Decision.HOLD
        if hold or any(_reaches(flag.severity, self.flag_at) for flag in flags):
            return Decision.SEND_FLAGGED
        return Decision.SEND


@dataclass(frozen=True, slots=True)
class PolicyRule:
    """Use `policy` for messages on `channel` in the customer's `language` (`*` matches any).

    Chat can afford to send flagged answers that e-mail and knowledge-base articles cannot; a
    language whose engine is weak can hold more. The first matching rule wins.
    """

    policy: ReviewPolicy
    channel: str = "*"
    language: str = "*"

    def matches(self, channel: str | None, language: str | None) -> bool:
        """Whether the rule applies to a message on this channel in this language."""
        channel_ok = self.channel == "*" or self.channel == channel
        base = (language or "").split("-")[0]
        language_ok = self.language == "*" or self.language in (language, base)
        return channel_ok and language_ok


def select_policy(
    default: ReviewPolicy,
    rules: Sequence[PolicyRule],
    *,
    channel: str | None,
    language: str | None,
) -> ReviewPolicy:
    """The policy of the first rule matching the channel and customer language, else `default`."""
    return next((r.policy for r in rules if r.matches(channel, language)), default)


def _reaches(severity: Severity, level: Severity | None) -> bool:
    return level is not None and _SEVERITY_ORDER[severity] >= _SEVERITY_ORDER[level]


def flag(code: str, severity: Severity, detail: str) -> ReviewFlag:
    """Shorthand for building a flag."""
    return ReviewFlag(code=code, severity=severity, detail=detail)


def check_token_parity(
    missing: Sequence[tuple[str, str]], extra: Sequence[tuple[str, str]]
) -> list[ReviewFlag]:
    """Flag protected spans lost or duplicated by the engine; pairs are (token, original)."""
    problems = [f"lost {original!r}" for _, original in missing]
    problems += [f"added {original!r}" for _, original in extra]
    if not problems:
        return []
    return [flag("token_parity", Severity.ERROR, "protected text changed: " + ", ".join(problems))]


_SHOWN = 8  # tokens named in a fidelity flag; the rest are counted


def check_fidelity(missing: Sequence[str]) -> list[ReviewFlag]:
    """Flag non-prose tokens of the source the output does not carry byte-exact.

    `missing` comes from a check of the texts themselves (not of the masked tokens), so it
    sees damage wherever it happened: in text no span rule recognised, or by any engine.
    """
    if not missing:
        return []
    shown = ", ".join(repr(token) for token in missing[:_SHOWN])
    if len(missing) > _SHOWN:
        shown += f" and {len(missing) - _SHOWN} more"
    return [
        flag(
            "fidelity",
            Severity.ERROR,
            f"changed or lost in translation, must be kept exactly: {shown}",
        )
    ]


def _numbers(text: str) -> Counter[str]:
    # "1,299.00", "1.299,00" and "1 299" are the same number written in different locales.
    return Counter(re.sub(r"[.,\s]", "", match) for match in _NUMBER.findall(text))


def check_numbers(source: str, translated: str) -> list[ReviewFlag]:
    """Flag numbers that were dropped, changed or invented (protected spans excluded)."""
    before, after = _numbers(source), _numbers(translated)
    if before == after:
        return []
    lost = sorted((before - after).elements())
    added = sorted((after - before).elements())
    parts = ([f"missing {', '.join(lost)}"] if lost else []) + (
        [f"unexpected {', '.join(added)}"] if added else []
    )
    return [flag("number_mismatch", Severity.WARNING, "numbers differ: " + "; ".join(parts))]


def check_length_ratio(source: str, translated: str, thresholds: Thresholds) -> list[ReviewFlag]:
    """Flag an output much shorter or longer than its source."""
    if len(source.strip()) < thresholds.min_chars_for_ratio:
        return []
    ratio = len(translated.strip()) / len(source.strip())
    if thresholds.min_length_ratio <= ratio <= thresholds.max_length_ratio:
        return []
    return [
        flag(
            "length_ratio",
            Severity.WARNING,
            f"the translation is {ratio:.2f}× the length of the source "
            f"(expected {thresholds.min_length_ratio}–{thresholds.max_length_ratio}×)",
        )
    ]


def check_untranslated(source: str, translated: str, thresholds: Thresholds) -> list[ReviewFlag]:
    """Flag an output that mostly repeats the source's words unchanged."""
    source_words = {word.casefold() for word in _WORD.findall(source)}
    output_words = [word.casefold() for word in _WORD.findall(translated)]
    if len(source_words) < thresholds.min_words_for_untranslated or not output_words:
        return []
    share = sum(word in source_words for word in output_words) / len(output_words)
    if share <= thresholds.max_untranslated_share:
        return []
    return [
        flag(
            "untranslated",
            Severity.WARNING,
            f"{share:.0%} of the translation's words are copied from the source",
        )
    ]


def check_language(
    detection: Detection | None, *, translated: str, target: str, thresholds: Thresholds
) -> list[ReviewFlag]:
    """Flag an output confidently detected as a language other than the target."""
    if detection is None or detection.language is None:
        return []
    if len(_LETTER.findall(translated)) < thresholds.min_letters_for_language:
        return []
    if detection.language.split("-")[0] == target.split("-")[0]:
        return []
    if detection.confidence < thresholds.wrong_language_confidence:
        return []
    return [
        flag(
            "wrong_language",
            Severity.WARNING,
            f"the translation reads as {detection.language} "
            f"({detection.confidence:.0%} sure), not {target}",
        )
    ]


def check_unknown_words(words: Sequence[str], identifiers: Sequence[str] = ()) -> list[ReviewFlag]:
    """Flag words the engine marked as unknown, except pieces of the source's identifiers.

    An engine that does not know `Z999AA10123456784` or `x80070005` (a piece of `0x80070005`)
    is right not to translate it; the fidelity check covers whether it came through intact.
    """
    unique = [
        word
        for word in dict.fromkeys(words)
        if not any(word in identifier for identifier in identifiers)
    ]
    if not unique:
        return []
    return [
        flag(
            "unknown_words",
            Severity.WARNING,
            "the engine did not know: " + ", ".join(unique),
        )
    ]


def check_engine_doubts(doubts: Sequence[str | None]) -> list[ReviewFlag]:
    """Flag outputs the engine itself doubts are translations (an LLM that answered or obeyed
    a message instead of translating it); `doubts` holds each segment's reason or None."""
    reasons = list(dict.fromkeys(reason for reason in doubts if reason))
    if not reasons:
        return []
    detail = "; ".join(reasons) + " (the text may have carried instructions to the engine)"
    return [flag("not_a_translation", Severity.ERROR, detail)]


def check_scores(
    scored: Sequence[tuple[str, float | None]], thresholds: Thresholds
) -> list[ReviewFlag]:
    """Flag segments the engine itself scored below `min_score`; pairs are (segment, score)."""
    low = [
        (text, score)
        for text, score in scored
        if score is not None and score < thresholds.min_score
    ]
    if not low:
        return []
    worst_text, worst = min(low, key=lambda item: item[1])
    shown = worst_text if len(worst_text) <= 60 else worst_text[:57] + "..."
    return [
        flag(
            "low_score",
            Severity.WARNING,
            f"the engine was unsure of {len(low)} segment(s); lowest {worst:.2f} "
            f"(below {thresholds.min_score}) on {shown!r}",
        )
    ]
