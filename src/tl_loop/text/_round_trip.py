"""What the customer will read, read back: compare a source with its back-translation.

An agent cannot read Greek; they can read the Greek translated back into their own language.
This module compares the agent's text with that back-translation, sentence by sentence, and
names the differences that matter:

- `score`: chrF (character n-gram F-score, n = 1..6, β = 2; Popović 2015, as sacreBLEU computes
  it) of each source sentence against its best-matching back sentence, and the worst of them.
  Low when a sentence was lost, garbled or replaced by another text.
- `order`: of the words the source and the back-translation share, the share of pairs that
  come back in the same order (Kendall's concordance). chrF barely notices words shuffled
  out of order; this does, while tolerating an engine's local reordering ("screen broken").
- `length_ratio`: words in the back-translation per source word; a lost half shows here.
- `negation`: negation words (not, never, no, nothing, …) present on one side and not the
  other. Round-trip scores miss a dropped "not" entirely (one word in a long sentence), yet it
  inverts the meaning, so it is checked on its own.
- `numbers`: numbers in the source not found in the back-translation.

Everything here is a pure function of its input; the pipeline asks the engine for the back
translation and turns a `RoundTrip` into review flags.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass

__all__ = ["NEGATIONS", "Difference", "RoundTrip", "chrf", "compare_round_trip"]

_SENTENCE = re.compile(r"(?<=[.!?…。！？])\s+|\n+")
_WORD = re.compile(r"[^\W_]+(?:['’][^\W_]+)*", re.UNICODE)
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
_TOKEN = re.compile(r"⟦\d+⟧")

NEGATIONS: dict[str, frozenset[str]] = {
    "en": frozenset(
        [
            "not",
            "no",
            "never",
            "none",
            "nothing",
            "nobody",
            "nowhere",
            "neither",
            "nor",
            "cannot",
            "without",
            "don't",
            "doesn't",
            "didn't",
            "won't",
            "wouldn't",
            "can't",
            "couldn't",
            "shouldn't",
            "isn't",
            "aren't",
            "wasn't",
            "weren't",
            "hasn't",
            "haven't",
            "hadn't",
            "mustn't",
            "needn't",
            "n't",
        ]
    ),
    "es": frozenset(
        [
            "no",
            "nunca",
            "nada",
            "nadie",
            "ningún",
            "ninguno",
            "ninguna",
            "ni",
            "jamás",
            "tampoco",
            "sin",
        ]
    ),
    "ca": frozenset(["no", "mai", "res", "ningú", "cap", "ni", "sense", "tampoc"]),
    "fr": frozenset(
        ["ne", "pas", "jamais", "rien", "personne", "aucun", "aucune", "ni", "sans", "non"]
    ),
    "pt": frozenset(["não", "nunca", "nada", "ninguém", "nenhum", "nenhuma", "nem", "sem"]),
    "gl": frozenset(["non", "nunca", "nada", "ninguén", "ningún", "ningunha", "nin", "sen"]),
    "it": frozenset(["non", "mai", "niente", "nulla", "nessuno", "nessuna", "né", "senza"]),
    "de": frozenset(
        [
            "nicht",
            "nie",
            "niemals",
            "kein",
            "keine",
            "keinen",
            "keinem",
            "nichts",
            "niemand",
            "ohne",
            "weder",
        ]
    ),
}
"""Negation words per language (lower case). A language without a list is not checked."""

_POLARITY: dict[str, frozenset[str]] = {
    "en": frozenset(["any", "anybody", "anyone", "anything", "anywhere", "ever"]),
}
# Romance negative concord ("nadie", "ningún coste") often comes back as "anybody", "any cost":
# in a back-translation these stand for the negation the forward translation kept.


@dataclass(frozen=True, slots=True)
class Difference:
    """One difference between a source and its back-translation that an agent should see."""

    kind: str  # "negation", "number", "sentence", "order"
    detail: str


@dataclass(frozen=True, slots=True)
class RoundTrip:
    """The comparison of a source with its back-translation.

    Attributes:
        score: the worst sentence's chrF (0–100); 100 for an empty source.
        sentence_scores: chrF per source sentence, in order.
        order: share (0–1) of shared word pairs that come back in the source's order.
        length_ratio: words in the back-translation per word of the source.
        differences: what changed that matters.
    """

    score: float
    sentence_scores: tuple[float, ...]
    order: float
    length_ratio: float
    differences: tuple[Difference, ...]


def chrf(hypothesis: str, reference: str, *, n: int = 6, beta: float = 2.0) -> float:
    """chrF of `hypothesis` against `reference`, 0–100 (whitespace ignored, as in sacreBLEU)."""
    hyp = re.sub(r"\s+", "", hypothesis)
    ref = re.sub(r"\s+", "", reference)
    if not hyp or not ref:
        return 100.0 if hyp == ref else 0.0
    precisions, recalls = [], []
    for order in range(1, n + 1):
        h = Counter(hyp[i : i + order] for i in range(len(hyp) - order + 1))
        r = Counter(ref[i : i + order] for i in range(len(ref) - order + 1))
        if not h or not r:
            continue
        overlap = sum((h & r).values())
        precisions.append(overlap / sum(h.values()))
        recalls.append(overlap / sum(r.values()))
    if not precisions:
        return 0.0
    precision = sum(precisions) / len(precisions)
    recall = sum(recalls) / len(recalls)
    if precision == 0 and recall == 0:
        return 0.0
    return 100 * (1 + beta**2) * precision * recall / (beta**2 * precision + recall)


def sentences(text: str) -> list[str]:
    """The sentences of `text` (a simple splitter: punctuation followed by space, or newlines)."""
    return [s.strip() for s in _SENTENCE.split(_TOKEN.sub(" ", text)) if s.strip()]


def compare_round_trip(
    source: str,
    back: str,
    *,
    language: str,
    via: str | None = None,
    min_sentence_score: float = 36.0,
    min_order: float = 0.85,
    min_length_ratio: float = 0.75,
) -> RoundTrip:
    """Compare `source` with its back-translation `back`; both are in `language`.

    Args:
        source: the text as the agent wrote it.
        back: the translation, translated back into `language`.
        language: the agent's language.
        via: the language of the translation; its negation words left untranslated in `back`
            still count as negations.
        min_sentence_score: a source sentence whose best chrF is lower is reported lost.
        min_order: a lower word-order concordance is reported as reordered.
        min_length_ratio: a back-translation with fewer words per source word is reported
            as shorter.

    The defaults are measured on bench/bench_round_trip.py (docs/benchmarks.md).
    """
    source_sentences = sentences(source)
    back_sentences = sentences(back) or [""]
    if not source_sentences:
        return RoundTrip(100.0, (), 1.0, 1.0, ())
    # Each source sentence's best match in the back-translation, scored once for every check.
    candidates = _windows(back_sentences)
    matches = [
        max(((chrf(c, sentence), c) for c in candidates), key=lambda pair: pair[0])
        for sentence in source_sentences
    ]
    scores = tuple(score for score, _ in matches)
    differences: list[Difference] = []
    pairs = [(s, best) for s, (_, best) in zip(source_sentences, matches, strict=True)]
    differences += _negations(pairs, language, via)
    differences += _numbers(source, back)
    for sentence, score in zip(source_sentences, scores, strict=True):
        if score < min_sentence_score:
            differences.append(Difference("sentence", f"lost or changed: {_short(sentence)}"))
    order = _concordance(source, back)
    if order < min_order:
        differences.append(Difference("order", "the words come back in another order"))
    source_words = len(_words(source))
    ratio = len(_words(back)) / source_words if source_words else 1.0
    if ratio < min_length_ratio and source_words >= 4:
        differences.append(Difference("length", "it comes back shorter: part may be missing"))
    return RoundTrip(min(scores), scores, order, ratio, tuple(differences))


def _windows(sentences_: list[str]) -> list[str]:
    # A sentence may come back split in two or merged with its neighbour.
    pairs = [" ".join(sentences_[i : i + 2]) for i in range(len(sentences_) - 1)]
    return [*sentences_, *pairs]


def _words(text: str) -> list[str]:
    return [w.lower().replace("’", "'") for w in _WORD.findall(_TOKEN.sub(" ", text))]


def _negation_count(text: str, language: str, *, back: str | None = None, source: str = "") -> int:
    base = language.split("-")[0].lower()
    words = _words(text)
    strict = NEGATIONS.get(base, frozenset())
    if back is not None:  # untranslated negation words of the translation still negate
        strict = strict | NEGATIONS.get(back, frozenset())
    count = sum(1 for w in words if w in strict or (base == "en" and w.endswith("n't")))
    if back is not None:
        # Polarity words stand for a negation only beyond those the source already had.
        polarity = _POLARITY.get(base, frozenset())
        had = Counter(w for w in _words(source) if w in polarity)
        count += sum((Counter(w for w in words if w in polarity) - had).values())
    return count


def _negations(pairs: list[tuple[str, str]], language: str, via: str | None) -> list[Difference]:
    """Negations lost or added, per (source sentence, its best back match)."""
    if language.split("-")[0].lower() not in NEGATIONS:
        return []
    via_base = (via or "").split("-")[0].lower()
    differences = []
    for sentence, best in pairs:
        wanted = _negation_count(sentence, language)
        found = _negation_count(best, language, back=via_base, source=sentence)
        if wanted and found < wanted:
            differences.append(Difference("negation", f"a negation is missing: {_short(sentence)}"))
        elif not wanted and _negation_count(best, language) > 0:
            differences.append(Difference("negation", f"a negation was added: {_short(sentence)}"))
    return differences


def _numbers(source: str, back: str) -> list[Difference]:
    def normal(number: str) -> str:
        return re.sub(r"[.,]", "", number)

    found = Counter(normal(n) for n in _NUMBER.findall(_TOKEN.sub(" ", back)))
    missing = Counter(normal(n) for n in _NUMBER.findall(_TOKEN.sub(" ", source))) - found
    return [Difference("number", f"{number} is not in the translation") for number in missing]


def _concordance(source: str, back: str) -> float:
    words = _words(source)
    back_words = _words(back)
    once, back_once = Counter(words), Counter(back_words)
    position = {w: i for i, w in enumerate(back_words) if back_once[w] == 1}
    sequence = [position[w] for w in words if once[w] == 1 and w in position]
    pairs = [(a, b) for i, a in enumerate(sequence) for b in sequence[i + 1 :]]
    if len(sequence) < 3:
        return 1.0
    return sum(a < b for a, b in pairs) / len(pairs)


def _short(text: str, limit: int = 80) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
