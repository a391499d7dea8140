"""Glossary suggestions: terms that reviewers correct again and again.

From each EDITED review item the draft and the final text are aligned word by word
(`difflib.SequenceMatcher` on tokens); every replaced span of at most three words on each side
is a correction `draft term → final term`. A correction seen in at least `min_count` distinct
items is proposed as a glossary entry.

The source side is not aligned (no word alignment between languages here), so the source term
is a guess, kept only when it is convincing: the reviewer restored a word of the original
(a do-not-translate name), or one source n-gram occurs in every item with the correction and
rarely elsewhere. Suggestions without a source term are still reported (JSON, TSV comments)
for a person to complete. Pure computation: the CLI reads the review queue and passes items in.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from difflib import SequenceMatcher
from typing import TYPE_CHECKING, Any

from tl_loop.review._stats import plain_text

if TYPE_CHECKING:
    from tl_loop._glossary import Glossary
    from tl_loop.review._items import ReviewItem

__all__ = [
    "Example",
    "Suggestion",
    "find_replacements",
    "suggest_glossary_entries",
    "suggestions_to_csv",
    "suggestions_to_json",
    "suggestions_to_tsv",
]

# A word (with inner hyphens and apostrophes: e-mail, l'application) or one other character.
_TOKEN = re.compile(r"\w+(?:[-'’]\w+)*|[^\w\s]")
_WORDY = re.compile(r"[^\W\d_]")
_MAX_WORDS = 3
_MIN_SPECIFICITY = 0.5


@dataclass(frozen=True, slots=True)
class Example:
    """One review item where the correction was made."""

    item_id: str
    original: str
    draft: str
    final: str


@dataclass(frozen=True, slots=True)
class Suggestion:
    """A proposed glossary entry: reviewers replaced `draft_term` by `final_term` repeatedly.

    Args:
        source_language: the pair's source language.
        target_language: the pair's target language (the language of both terms).
        draft_term: what the engine wrote (the most frequent spelling).
        final_term: what reviewers wrote instead (the most frequent spelling).
        count: distinct edited items with this correction.
        kept: reviewed items (approved or edited) whose final text still has `draft_term`:
            a high number means the correction depends on context; check before adding it.
        source_term: the source-language term, when it could be found; else None.
        examples: up to a few items where the correction was made, newest first.
    """

    source_language: str
    target_language: str
    draft_term: str
    final_term: str
    count: int
    kept: int
    source_term: str | None
    examples: tuple[Example, ...]

    @property
    def do_not_translate(self) -> bool:
        """True when the reviewer restored the source term itself (a name to keep as written)."""
        return self.source_term is not None and self.source_term.casefold() == (
            self.final_term.casefold()
        )

    def to_dict(self) -> dict[str, Any]:
        """The JSON form."""
        return {
            "source_language": self.source_language,
            "target_language": self.target_language,
            "source_term": self.source_term,
            "draft_term": self.draft_term,
            "final_term": self.final_term,
            "do_not_translate": self.do_not_translate,
            "count": self.count,
            "kept": self.kept,
            "examples": [
                {"id": e.item_id, "original": e.original, "draft": e.draft, "final": e.final}
                for e in self.examples
            ],
        }


@dataclass(frozen=True, slots=True)
class _Span:
    """A run of tokens of one text: its surface text and its token positions."""

    text: str
    start: int
    end: int


def _tokens(text: str) -> list[re.Match[str]]:
    return list(_TOKEN.finditer(text))


def _surface(text: str, tokens: Sequence[re.Match[str]], start: int, end: int) -> _Span | None:
    """The text of tokens[start:end] without edge punctuation; None if no letter is left."""
    while start < end and not _WORDY.search(tokens[start].group()):
        start += 1
    while end > start and not _WORDY.search(tokens[end - 1].group()):
        end -= 1
    if start == end or end - start > _MAX_WORDS:
        return None
    surface = " ".join(text[tokens[start].start() : tokens[end - 1].end()].split())
    return _Span(surface, start, end)


def find_replacements(draft: str, final: str) -> list[tuple[str, str]]:
    """The word spans a reviewer replaced: (draft span, final span), at most three words each.

    Tokens are compared ignoring case; pure insertions and deletions, numbers, punctuation
    and longer rewrites are not term corrections and are left out.

    >>> find_replacements("Abra el tablero de su cuenta.", "Abra el panel de control de su cuenta.")
    [('tablero', 'panel de control')]
    """
    return [(d.text, f.text) for d, f, _ in _replacement_spans(draft, final)]


def _replacement_spans(draft: str, final: str) -> list[tuple[_Span, _Span, int]]:
    """Replaced spans and the draft's token count (for relative positions)."""
    draft_tokens, final_tokens = _tokens(draft), _tokens(final)
    matcher = SequenceMatcher(
        None,
        [t.group().casefold() for t in draft_tokens],
        [t.group().casefold() for t in final_tokens],
        autojunk=False,
    )
    found: list[tuple[_Span, _Span, int]] = []
    for i1, i2, j1, j2 in _changes(matcher.get_opcodes()):
        old = _surface(draft, draft_tokens, i1, i2)
        new = _surface(final, final_tokens, j1, j2)
        if old and new and old.text.casefold() != new.text.casefold():
            found.append((old, new, len(draft_tokens)))
    return found


def _changes(opcodes: Sequence[tuple[str, int, int, int, int]]) -> list[tuple[int, int, int, int]]:
    """Replaced token ranges (i1, i2, j1, j2): each `replace`, and a deletion and an insertion
    around at most one kept word, which is how a reordered term aligns
    (`Nube Acme` → `Acme Cloud` keeps `Acme` between deleting `Nube` and inserting `Cloud`).
    """
    found: list[tuple[int, int, int, int]] = []
    for index, (tag, i1, i2, j1, j2) in enumerate(opcodes):
        if tag == "replace":
            found.append((i1, i2, j1, j2))
        elif tag in ("delete", "insert") and index + 2 < len(opcodes):
            kept, after = opcodes[index + 1], opcodes[index + 2]
            partner = "insert" if tag == "delete" else "delete"
            if kept[0] == "equal" and kept[2] - kept[1] <= 1 and after[0] == partner:
                found.append((i1, after[2], j1, after[4]))
    return found


@dataclass
class _Seen:
    """What was collected for one correction in one language pair."""

    draft_forms: Counter[str]
    final_forms: Counter[str]
    items: dict[str, ReviewItem]
    positions: dict[str, float]  # item id → relative position of the span in the draft


def suggest_glossary_entries(
    items: Iterable[ReviewItem],
    *,
    min_count: int = 3,
    glossary: Glossary | None = None,
    max_examples: int = 3,
) -> list[Suggestion]:
    """Propose glossary entries from what reviewers corrected repeatedly.

    Args:
        items: review items in any state; EDITED ones give corrections, APPROVED and EDITED
            ones are counted for `kept` and help find the source term.
        min_count: propose a correction only if made in at least this many distinct items.
        glossary: when given, corrections it already covers (the final term is its rendering
            for the source term, or for any term when the source term is unknown) are skipped.
        max_examples: examples kept per suggestion.

    Returns:
        Suggestions sorted by language pair, then most frequent first.
    """
    reviewed: dict[tuple[str, str], list[ReviewItem]] = defaultdict(list)
    for item in items:
        if str(item.state) in ("approved", "edited") and item.final is not None:
            reviewed[(item.source_language, item.target_language)].append(item)
    suggestions: list[Suggestion] = []
    in_language: dict[str, Counter[tuple[str, ...]]] = defaultdict(Counter)
    grams = {}
    for (source, _), pair_items in reviewed.items():
        for reviewed_item in pair_items:
            grams[reviewed_item.id] = _ngrams(
                plain_text(reviewed_item.original, reviewed_item.content_type)
            )
            in_language[source].update(grams[reviewed_item.id].keys())
    for pair, pair_items in sorted(reviewed.items()):
        seen = _collect(pair_items)
        index = _SourceIndex(pair_items, grams, in_language[pair[0]])
        for (draft_key, _), entry in seen.items():
            if len(entry.items) < max(1, min_count):
                continue
            suggestion = _suggestion(pair, draft_key, entry, index, pair_items, max_examples)
            if glossary is None or not _covered(suggestion, glossary):
                suggestions.append(suggestion)
    suggestions.sort(
        key=lambda s: (s.source_language, s.target_language, -s.count, s.draft_term.casefold())
    )
    return suggestions


def _collect(items: Sequence[ReviewItem]) -> dict[tuple[str, str], _Seen]:
    seen: dict[tuple[str, str], _Seen] = {}
    for item in sorted(items, key=lambda i: i.created_at, reverse=True):
        if str(item.state) != "edited" or item.final is None:
            continue
        draft = plain_text(item.draft, item.content_type)
        final = plain_text(item.final, item.content_type)
        for old, new, length in _replacement_spans(draft, final):
            key = (old.text.casefold(), new.text.casefold())
            entry = seen.setdefault(key, _Seen(Counter(), Counter(), {}, {}))
            entry.draft_forms[old.text] += 1
            entry.final_forms[new.text] += 1
            if item.id not in entry.items:
                entry.items[item.id] = item
                entry.positions[item.id] = (old.start + old.end) / 2 / max(1, length)
    return seen


def _suggestion(
    pair: tuple[str, str],
    draft_key: str,
    entry: _Seen,
    index: _SourceIndex,
    pair_items: Sequence[ReviewItem],
    max_examples: int,
) -> Suggestion:
    final_term = entry.final_forms.most_common(1)[0][0]
    draft_words = tuple(t.group().casefold() for t in _tokens(draft_key))
    kept = sum(
        1
        for item in pair_items
        if item.final is not None
        and _contains(_words(item.draft, item.content_type), draft_words)
        and _contains(_words(item.final, item.content_type), draft_words)
    )
    examples = tuple(
        Example(item.id, item.original, item.draft, item.final or "")
        for item in list(entry.items.values())[:max_examples]
    )
    return Suggestion(
        source_language=pair[0],
        target_language=pair[1],
        draft_term=entry.draft_forms.most_common(1)[0][0],
        final_term=final_term,
        count=len(entry.items),
        kept=kept,
        source_term=index.source_term(final_term, entry),
        examples=examples,
    )


def _words(text: str, content_type: str) -> tuple[str, ...]:
    return tuple(t.group().casefold() for t in _tokens(plain_text(text, content_type)))


def _contains(words: Sequence[str], needle: Sequence[str]) -> bool:
    size = len(needle)
    return size > 0 and any(
        tuple(words[i : i + size]) == tuple(needle) for i in range(len(words) - size + 1)
    )


class _SourceIndex:
    """Source-side n-grams (n ≤ 3) of the reviewed items of one pair, to guess source terms.

    Args:
        items: the pair's reviewed items.
        grams: every reviewed item's n-grams, by item id.
        in_language: in how many reviewed items of the source language (any target) each
            n-gram occurs: common words (`the`) score low.
    """

    def __init__(
        self,
        items: Sequence[ReviewItem],
        grams: dict[str, dict[tuple[str, ...], tuple[str, float]]],
        in_language: Counter[tuple[str, ...]],
    ) -> None:
        self._grams = grams
        self._in_language = in_language
        self._frequency: Counter[tuple[str, ...]] = Counter()
        for item in items:
            self._frequency.update(grams[item.id].keys())

    def source_term(self, final_term: str, entry: _Seen) -> str | None:
        """The source term for a correction, or None when no candidate is convincing.

        A final term found as written in every original is a name the reviewer restored.
        Otherwise the candidate must occur in every item with the correction, have a word of
        three letters or more, and at least half of its occurrences in the pair must be in
        those items. The most specific candidate wins, then the one whose commonest word is
        rarest in the source language (`dashboard` before `the dashboard`, whose `the` is
        everywhere); among equally ranked ones that overlap, the one nearest the corrected
        span's position, then the shorter.
        Equally ranked candidates with no word in common make the guess a coin toss: None.
        """
        ids = list(entry.items)
        common = set.intersection(*(set(self._grams.get(i, {})) for i in ids))
        final_key = tuple(t.group().casefold() for t in _tokens(final_term))
        if final_key in common:
            return final_term  # the reviewer's spelling of a name kept as written
        ranked: list[tuple[float, int, float, int, tuple[str, ...]]] = []
        for gram in common:
            if not any(len(word) >= 3 and _WORDY.search(word) for word in gram):
                continue
            specificity = len(ids) / self._frequency[gram]
            if specificity >= _MIN_SPECIFICITY:
                distance = sum(abs(self._grams[i][gram][1] - entry.positions[i]) for i in ids)
                rarity = max(self._in_language[(word,)] for word in gram)
                ranked.append((-specificity, rarity, distance / len(ids), len(gram), gram))
        if not ranked:
            return None
        best = min(ranked)
        # Unrelated candidates ranked alike (the same sentence every time): position alone
        # would be a coin toss, so name none.
        if any(r[:2] == best[:2] and not set(r[4]) & set(best[4]) for r in ranked):
            return None
        return self._spelling(best[4], ids)

    def _spelling(self, gram: tuple[str, ...], ids: Sequence[str]) -> str:
        forms = Counter(self._grams[i][gram][0] for i in ids)
        return forms.most_common(1)[0][0]


def _ngrams(text: str) -> dict[tuple[str, ...], tuple[str, float]]:
    """Word n-grams (n ≤ 3, not across punctuation): key → (first spelling, relative position)."""
    tokens = _tokens(text)
    grams: dict[tuple[str, ...], tuple[str, float]] = {}
    for start in range(len(tokens)):
        for size in range(1, _MAX_WORDS + 1):
            window = tokens[start : start + size]
            if len(window) < size or not all(_WORDY.search(t.group()) for t in window):
                break
            key = tuple(t.group().casefold() for t in window)
            if key not in grams:
                spelling = " ".join(text[window[0].start() : window[-1].end()].split())
                grams[key] = (spelling, (start + size / 2) / max(1, len(tokens)))
    return grams


def _covered(suggestion: Suggestion, glossary: Glossary) -> bool:
    """Whether the glossary already makes the final term the rendering the reviewers wanted."""
    final = suggestion.final_term.casefold()
    source = suggestion.source_term.casefold() if suggestion.source_term else None
    for term in glossary.terms_for(suggestion.source_language, suggestion.target_language):
        rendering = (term.replacement or term.term).casefold()
        if rendering == final and (source is None or term.term.casefold() == source):
            return True
    return False


# --- output formats -------------------------------------------------------------------------


def suggestions_to_json(suggestions: Sequence[Suggestion]) -> str:
    """One JSON array of `Suggestion.to_dict()` objects."""
    return json.dumps([s.to_dict() for s in suggestions], ensure_ascii=False, indent=2)


def suggestions_to_tsv(suggestions: Sequence[Suggestion]) -> str:
    """DeepL TSV, one section per language pair, each headed by a `#` comment line.

    Entries with a source term are `source<TAB>final` lines (a do-not-translate name maps to
    itself); corrections without a source term are `#` comment lines to complete by hand.
    tl_loop reads the comments as blank; DeepL does not accept them, so keep only the TAB
    lines when uploading to DeepL.
    """
    out: list[str] = []
    for (source, target), group in _by_pair(suggestions).items():
        out.append(
            f"# {source} → {target}: paste into a glossary named like brand.{source}-{target}.tsv"
        )
        seen: set[str] = set()
        for s in group:
            if s.source_term is not None and s.source_term.casefold() not in seen:
                seen.add(s.source_term.casefold())
                out.append(f"{s.source_term}\t{s.final_term}")
        for s in group:
            if s.source_term is None:
                out.append(
                    f"# source term not found: {s.draft_term!r} → {s.final_term!r} "
                    f"in {s.count} items (e.g. item {s.examples[0].item_id})"
                )
    return "".join(f"{line}\n" for line in out)


def suggestions_to_csv(suggestions: Sequence[Suggestion]) -> tuple[str, int]:
    """Glossary CSV (language columns, `dnt`, `case_sensitive`, `note`) for entries with a
    source term, merged per source term across target languages.

    Returns:
        The CSV text (empty when no row is left), and how many suggestions were left out
        (no source term, or a term already used in its column, which a glossary refuses).
    """
    usable = [s for s in suggestions if s.source_term is not None]
    languages = sorted({s.source_language for s in usable} | {s.target_language for s in usable})
    rows: dict[tuple[str, str], dict[str, str]] = {}
    used: dict[str, set[str]] = defaultdict(set)
    left_out = len(suggestions) - len(usable)
    for s, term in ((s, s.source_term) for s in usable if s.source_term is not None):
        key = (s.source_language, term.casefold())
        row = rows.get(key)
        if _clashes(s, term, row, used):
            left_out += 1
            continue
        if row is None:
            row = rows[key] = {s.source_language: term, "dnt": "no", "note": ""}
            used[s.source_language].add(term.casefold())
        if s.do_not_translate:
            row["dnt"] = "yes"
        else:
            row[s.target_language] = s.final_term
            used[s.target_language].add(s.final_term.casefold())
        note = f"{s.target_language}: reviewers changed '{s.draft_term}' in {s.count} items"
        row["note"] = f"{row['note']}; {note}" if row["note"] else note
    if not rows:
        return "", left_out  # a header without language columns is no glossary
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow([*languages, "dnt", "case_sensitive", "note"])
    for row in rows.values():
        writer.writerow([*(row.get(lang, "") for lang in languages), row["dnt"], "no", row["note"]])
    return buffer.getvalue(), left_out


def _clashes(
    s: Suggestion, term: str, row: dict[str, str] | None, used: dict[str, set[str]]
) -> bool:
    """Whether adding `s` would repeat a term in a column or mix DNT and forced in one row."""
    if row is not None:
        return row["dnt"] == "yes" or s.do_not_translate or bool(row.get(s.target_language))
    if term.casefold() in used[s.source_language]:
        return True
    return not s.do_not_translate and s.final_term.casefold() in used[s.target_language]


def _by_pair(suggestions: Sequence[Suggestion]) -> dict[tuple[str, str], list[Suggestion]]:
    groups: dict[tuple[str, str], list[Suggestion]] = defaultdict(list)
    for s in suggestions:
        groups[(s.source_language, s.target_language)].append(s)
    return dict(groups)
