"""The round-trip review signal: translate the reply back and compare it with what the agent wrote.

`RoundTripCheck` is the policy part: when the pipeline asks for a back-translation (outbound
replies, or only those other checks already doubt), which thresholds apply to a language pair,
and which flags the comparison (`tl_loop.text._round_trip`) becomes:

| code | severity | meaning |
|---|---|---|
| `round_trip` | error | read back, a sentence, a number, the word order or length was lost |
| `negation` | error | read back, a negation is missing or was added: the meaning may be inverted |
| `round_trip_unavailable` | info | the back-translation itself failed; nothing was compared |
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

from tl_loop._models import BackTranslation, ReviewFlag, Severity
from tl_loop.text._round_trip import compare_round_trip

__all__ = ["RoundTripCheck", "RoundTripThresholds"]

_GROSS = ("sentence", "order", "length", "number")


@dataclass(frozen=True, slots=True)
class RoundTripThresholds:
    """Where a back-translation stops looking like the source (defaults measured on Apertium).

    Args:
        min_sentence_score: chrF (0–100) below which a source sentence counts as lost.
        min_order: word-order concordance (0–1) below which the words count as shuffled.
        min_length_ratio: back-translated words per source word below which part is missing.
    """

    min_sentence_score: float = 36.0
    min_order: float = 0.85
    min_length_ratio: float = 0.75


@dataclass(frozen=True, slots=True)
class RoundTripCheck:
    """Translate outbound replies back into the agent's language and flag what changed.

    It costs one more engine call per reply, so it runs only where the policy needs it:

    Args:
        when: `"outbound"` checks every outbound reply; `"doubtful"` only replies another
            check already flagged at warning or worse (cheaper; misses silent damage).
            `Loop.preview` always back-translates, whatever this says.
        thresholds: the default thresholds.
        per_pair: thresholds for a language pair, keyed `"en>el"` (agent > customer).
    """

    when: Literal["outbound", "doubtful"] = "outbound"
    thresholds: RoundTripThresholds = field(default_factory=RoundTripThresholds)
    per_pair: Mapping[str, RoundTripThresholds] = field(default_factory=dict)

    def wanted(self, flags: list[ReviewFlag]) -> bool:
        """Whether a reply with these flags should be back-translated."""
        if self.when == "outbound":
            return True
        return any(flag.severity in (Severity.WARNING, Severity.ERROR) for flag in flags)

    def compare(self, source: str, back: str, *, language: str, target: str) -> BackTranslation:
        """The comparison of `source` (in `language`) with `back`, read back from `target`."""
        limits = self.per_pair.get(f"{language}>{target}", self.thresholds)
        result = compare_round_trip(
            source,
            back,
            language=language,
            via=target,
            min_sentence_score=limits.min_sentence_score,
            min_order=limits.min_order,
            min_length_ratio=limits.min_length_ratio,
        )
        return BackTranslation(
            text=back,
            language=language,
            score=round(result.score, 1),
            differences=tuple(f"{d.kind}: {d.detail}" for d in result.differences),
        )

    def flags(self, source: str, back: str, *, language: str, target: str) -> list[ReviewFlag]:
        """The review flags for `source` and its back-translation `back`."""
        return flags_for(self.compare(source, back, language=language, target=target))


def flags_for(back: BackTranslation) -> list[ReviewFlag]:
    """The review flags a back-translation comparison raises."""
    gross = [d for d in back.differences if d.split(":", 1)[0] in _GROSS]
    negation = [d for d in back.differences if d.startswith("negation:")]
    flags = []
    if gross:
        detail = f"read back (chrF {back.score:.0f}): " + "; ".join(gross)
        flags.append(ReviewFlag(code="round_trip", severity=Severity.ERROR, detail=detail))
    if negation:
        detail = "read back: " + "; ".join(d.removeprefix("negation: ") for d in negation)
        flags.append(ReviewFlag(code="negation", severity=Severity.ERROR, detail=detail))
    return flags
