"""Find the spans `protect` masks in one stretch of text.

The span rules (`tl_loop.text._span_rules`) cover placeholders of every family, URLs, e-mail
addresses, identifiers, paths, versions, codes, order numbers, amounts, inline code, Markdown
inline markup and personal data (phone, card and IBAN numbers); glossary terms are matched here.
`find_spans` runs them and returns the spans leftmost-longest, never overlapping; turning spans
into tokens and segments is `tl_loop.text._protect`'s job.

Speed: most rules start with a look-behind, which makes the regex engine try every position of
the text. So a rule may name *needles*, strings one of which every match contains (no needle in
the text: the rule is skipped; rules sharing needles are skipped by one test), and an *anchor*,
a fast regex every match contains near its start (only starts just before the anchor's matches
are tried; see `Rule` for words and `before`). They only skip work: the spans found are exactly
those of the plain rules, which tests/unit/test_span_search.py checks on real and generated
text. One regex of all the anchors, tried once, would be slower: the regex engine skips ahead
to a rare first character of one pattern, never of an alternation of forty.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass

from tl_loop.text._protection import DEFAULT_PROTECTION, Protection
from tl_loop.text._span_rules import Finder, Rule, rules

__all__ = ["ProtectedTerm", "Span", "Terms", "compile_terms", "find_spans"]


@dataclass(frozen=True, slots=True)
class ProtectedTerm:
    """A glossary term to protect: kept as is (`replacement` None) or forced to a translation.

    Terms match whole words only (boundaries work for any alphabet); the longest term wins when
    terms overlap.
    """

    term: str
    replacement: str | None = None
    case_sensitive: bool = False


_LAST_SPACE = re.compile(r".*\s", re.S)  # up to the last whitespace before a point
_REST_OF_WORD = re.compile(r"\S*")
_TRIES = 16  # starts tried one by one before a plain scan is the cheaper way on


Search = Callable[[str], Iterable[re.Match[str]]]


def _search(rule: Rule) -> Search:
    """How to find the rule's matches in a text, exactly as `finditer` finds them, but faster
    with the anchor. The caller checks the rule's needles first.
    """
    pattern, anchor = rule.pattern, rule.anchor
    if anchor is None:
        return pattern.finditer
    walk: Callable[[str, re.Match[str]], Iterable[re.Match[str]]]
    if rule.word:
        walk = functools.partial(_word_matches, pattern, anchor)
    elif rule.before:
        walk = functools.partial(_led_matches, pattern, anchor, _run_start(rule.before))
    elif rule.reach is None:
        walk = lambda text, _: pattern.finditer(text)  # noqa: E731
    else:
        walk = functools.partial(_anchored_matches, pattern, anchor, rule.reach)
    first = _first_match(anchor)

    def search(text: str) -> Iterable[re.Match[str]]:
        found = first(text)
        return () if found is None else walk(text, found)

    return search


def _first_match(anchor: re.Pattern[str]) -> Callable[[str], re.Match[str] | None]:
    """The anchor's search, through a copy compiled for ASCII when the text is ASCII and the
    anchor tests `\\d` or `\\w`: the same matches, found faster (a byte test per character
    instead of a Unicode lookup). Not with `\\s`, which also means \\x1c-\\x1f in Unicode.
    """
    source = anchor.pattern
    if "\\s" in source or "\\S" in source or ("\\d" not in source and "\\w" not in source):
        return anchor.search
    ascii_anchor = re.compile(source, (anchor.flags & ~re.UNICODE) | re.ASCII)

    def first(text: str) -> re.Match[str] | None:
        return (ascii_anchor if text.isascii() else anchor).search(text)

    return first


@functools.cache
def _run_start(before: str) -> re.Pattern[str]:
    """Matched from 0 to a point: ends where the run of `before` characters up to it starts."""
    return re.compile(f"(?s:.*)[^{before}]")


def _word_matches(
    pattern: re.Pattern[str], anchor: re.Pattern[str], text: str, found: re.Match[str] | None
) -> Iterator[re.Match[str]]:
    """The matches of a pattern that never spans whitespace: searched only in the words
    (runs without whitespace) that hold an anchor match, as `finditer` would find them.

    Look-behinds still see the text before a word; the word's end is whitespace or the end
    of the text, which look-aheads and \\b treat alike.
    """
    position = 0
    while found is not None:
        space = _LAST_SPACE.match(text, position, found.start())
        start = space.end() if space is not None else position
        rest = _REST_OF_WORD.match(text, found.end())
        end = rest.end() if rest is not None else len(text)  # \S* always matches
        while (match := pattern.search(text, start, end)) is not None:
            yield match
            start = match.end()  # never empty: the anchor lies inside it
        position = end
        found = anchor.search(text, end)


def _anchored_matches(
    pattern: re.Pattern[str],
    anchor: re.Pattern[str],
    reach: int,
    text: str,
    found: re.Match[str] | None,
) -> Iterator[re.Match[str]]:
    """The matches of `pattern`, trying only starts within `reach` before an anchor match.

    `found` is the first anchor match. Starts are tried in order, each after the last match's
    end, as `finditer` would; look-behinds and \\b still see the text before a start. When
    the anchor turns up often, a plain scan from there on is cheaper.
    """
    position = tried = tries = 0  # next match starts at `position`; starts < `tried` failed
    while found is not None:
        at = found.start()
        for start in range(max(position, tried, at - reach), at + 1):
            tries += 1
            match = pattern.match(text, start)
            if match is not None:
                yield match
                position = match.end()  # never empty: the anchor lies inside it
                break
        tried = at + 1
        if tries > _TRIES:
            yield from pattern.finditer(text, max(position, tried))
            return
        found = anchor.search(text, max(at + 1, position))


def _led_matches(
    pattern: re.Pattern[str],
    anchor: re.Pattern[str],
    run_start: re.Pattern[str],
    text: str,
    found: re.Match[str] | None,
) -> Iterator[re.Match[str]]:
    """The matches of a rule with `before`: each starts in the run of those characters just
    before an anchor match and ends in the anchor's word, so it is searched there alone, as
    `finditer` would find it (whitespace after the word and the window's end look alike).
    """
    position = 0  # where the last match ended
    while found is not None:
        at = found.start()
        run = run_start.match(text, 0, at)
        end = _REST_OF_WORD.match(text, at)
        low = max(position, 0 if run is None else run.end())
        match = pattern.search(text, low, len(text) if end is None else end.end())
        if match is not None:
            yield match
            position = match.end()
        found = anchor.search(text, max(at + 1, position))


# --- glossary terms -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Terms:
    """Glossary terms compiled for matching: one regex, and the term behind each match."""

    pattern: re.Pattern[str]
    exact: Mapping[tuple[str, ...], ProtectedTerm]  # case-sensitive terms, by their words
    folded: Mapping[tuple[str, ...], ProtectedTerm]  # the others, by case-folded words

    def term_for(self, found: str) -> ProtectedTerm:
        """The term behind `found`, a match of `pattern`."""
        words = tuple(found.split())
        term = self.exact.get(words) or self.folded.get(tuple(w.casefold() for w in words))
        if term is None:  # matched under re.IGNORECASE but folds differently (rare)
            term = next(
                t
                for t in self.folded.values()
                if re.fullmatch(r"\s+".join(map(re.escape, t.term.split())), found, re.I)
            )
        return term


@functools.lru_cache(maxsize=64)
def compile_terms(terms: tuple[ProtectedTerm, ...]) -> Terms | None:
    """Compile terms, longest first, each with its own case rule and word bounds.

    Terms are grouped by first letter behind a one-character look-ahead: the regex engine
    tries a few groups at each position instead of every term of a large glossary. The result
    is cached: a loop passes the same glossary with every message.

    Returns:
        The compiled terms, or None when there is no term to match.
    """
    groups: dict[str, list[str]] = {}
    exact: dict[tuple[str, ...], ProtectedTerm] = {}
    folded: dict[tuple[str, ...], ProtectedTerm] = {}
    for term in sorted(terms, key=lambda t: len(t.term), reverse=True):
        words = term.term.split()
        if not words:
            continue
        body = r"\s+".join(re.escape(word) for word in words)
        if term.case_sensitive:
            exact.setdefault(tuple(words), term)
        else:
            body = f"(?i:{body})"
            folded.setdefault(tuple(w.casefold() for w in words), term)
        before = r"(?<!\w)" if re.match(r"\w", words[0]) else ""
        after = r"(?!\w)" if re.search(r"\w$", words[-1]) else ""
        groups.setdefault(words[0][0].lower(), []).append(before + body + after)
    if not groups:
        return None
    branches = [f"(?=(?i:{re.escape(key)}))(?:{'|'.join(alts)})" for key, alts in groups.items()]
    first = "".join(re.escape(key) for key in groups)
    pattern = re.compile(f"(?=(?i:[{first}]))(?:{'|'.join(branches)})")
    return Terms(pattern, exact, folded)


# --- all spans ------------------------------------------------------------------------------


@dataclass(slots=True)  # not frozen, which takes three times as long to build; never changed
class Span:
    """A protected span of the text: `text[start:end]`, of kind `kind`.

    `restored` is what goes back in place of the span (a forced glossary translation), or
    None when the original text goes back.
    """

    start: int
    end: int
    kind: str
    restored: str | None = None


_Candidate = tuple[int, int, int, str, "str | None"]  # start, -length, rank, kind, restored
_Step = tuple[int, str, "Finder | None", Search]  # rank, kind, filter, search


@functools.cache
def _plan(
    syntax: str, mask_pii: bool, protection: Protection, anchored: bool
) -> tuple[tuple[tuple[str, ...], tuple[_Step, ...]], ...]:
    """The rules' searches, worked out once per rule set, grouped by their needles.

    Rules sharing needles (`#`: order numbers, ticket hooks, hashtags) are skipped by one test.
    The order the rules run in does not matter: each candidate carries its rule's rank.
    """
    groups: dict[tuple[str, ...], list[_Step]] = {}
    for rank, rule in enumerate(rules(syntax, mask_pii, protection)):
        if anchored:
            step = (rank, rule.kind, rule.spans, _search(rule))
            groups.setdefault(tuple(sorted(set(rule.needles))), []).append(step)
        else:
            groups.setdefault((), []).append((rank, rule.kind, rule.spans, rule.pattern.finditer))
    return tuple((needles, tuple(steps)) for needles, steps in groups.items())


def find_spans(
    text: str,
    *,
    syntax: str,
    terms: Terms | None,
    mask_pii: bool,
    anchored: bool = True,
    protection: Protection = DEFAULT_PROTECTION,
) -> list[Span]:
    """Protected spans in `text`, leftmost-longest first, never overlapping.

    Args:
        text: the text of one run (decoded, for HTML).
        syntax: "text", "html" or "markdown": which inline rules apply.
        terms: compiled glossary terms, if any.
        mask_pii: also find phone, card and IBAN numbers.
        anchored: skip work with each rule's anchor (the default); False runs every rule over
            the whole text, the reference the anchored search must agree with.
        protection: which span families apply, and patterns of the user's own.

    Returns:
        The spans in text order. When spans overlap, the one that starts first wins, then the
        longer one, then the rule listed first; glossary terms come after every rule.
    """
    candidates: list[_Candidate] = []
    add = candidates.append
    for needles, steps in _plan(syntax, mask_pii, protection, anchored):
        if needles:
            for needle in needles:  # a plain loop: `any` and a generator cost more
                if needle in text:
                    break
            else:
                continue
        for rank, kind, keep, search in steps:
            for match in search(text):
                if keep is None:
                    start, end = match.span()
                    if end > start:
                        add((start, start - end, rank, kind, None))
                    continue
                for start, end in keep(match):
                    if end > start:
                        add((start, start - end, rank, kind, None))
    if terms is not None:
        for match in terms.pattern.finditer(text):
            term = terms.term_for(match.group(0))
            start, end = match.span()
            candidates.append((start, start - end, 1_000, "term", term.replacement))
    if not candidates:
        return []
    candidates.sort(key=lambda c: c[:3])
    found: list[Span] = []
    last_end = -1
    for start, negative_length, _, kind, restored in candidates:
        if start >= last_end:
            last_end = start - negative_length
            found.append(Span(start, last_end, kind, restored))
    return found
