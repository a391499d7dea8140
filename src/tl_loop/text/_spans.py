"""Find the spans `protect` masks in one stretch of text.

Span rules cover template placeholders, URLs, e-mail addresses, order numbers, amounts, inline
code, Markdown inline markup, personal data (phone, card and IBAN numbers) and glossary terms.
`find_spans` runs them and returns the spans leftmost-longest, never overlapping; turning spans
into tokens and segments is `tl_loop.text._protect`'s job.

Speed: most rules start with a look-behind, which makes the regex engine try every position of
the text. So a rule may name *needles*, strings one of which every match contains (no needle in
the text: the rule is skipped), and an *anchor*, a fast regex every match contains near its
start (only starts just before the anchor's matches are tried). Both only skip work: the spans
found are exactly those of the plain rules, which a property test checks.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass

__all__ = ["ProtectedTerm", "Span", "Terms", "compile_terms", "find_spans"]

_Finder = Callable[[re.Match[str]], Iterable[tuple[int, int]]]


@dataclass(frozen=True, slots=True)
class ProtectedTerm:
    """A glossary term to protect: kept as is (`replacement` None) or forced to a translation.

    Terms match whole words only (boundaries work for any alphabet); the longest term wins when
    terms overlap.
    """

    term: str
    replacement: str | None = None
    case_sensitive: bool = False


@dataclass(frozen=True, slots=True)
class _Rule:
    """A regex for one kind of span, an optional filter of its matches, and how to skip work.

    `needles` (optional): every match contains one of these strings, so without any of them
    in the text the rule is skipped. `anchor` (optional): every match contains a match of it
    starting at most `reach` characters after the match's start (`reach` None: anywhere), so
    only starts just before the anchor's matches are tried. An anchor holds no look-arounds
    or boundaries: whether it matches depends only on the characters it covers.
    """

    kind: str
    pattern: re.Pattern[str]
    spans: _Finder | None = None
    needles: tuple[str, ...] = ()
    anchor: re.Pattern[str] | None = None
    reach: int | None = 0


def _whole(match: re.Match[str]) -> Iterable[tuple[int, int]]:
    return ((match.start(), match.end()),)


def _url(match: re.Match[str]) -> Iterable[tuple[int, int]]:
    url = match.group(0)
    while url and url[-1] in ".,;:!?'\"*_~>)]}":
        closer = url[-1]
        opener = {")": "(", "]": "[", "}": "{"}.get(closer)
        if opener is not None and url.count(opener) >= url.count(closer):
            break  # balanced: part of the URL, as in wiki/Foo_(bar) or /t/{{id}}
        url = url[:-1]
    return ((match.start(), match.start() + len(url)),) if len(url) > len("www.") else ()


def _phone(match: re.Match[str]) -> Iterable[tuple[int, int]]:
    count = sum(char.isdigit() for char in match.group(0))
    return _whole(match) if 8 <= count <= 15 else ()


def _luhn(match: re.Match[str]) -> Iterable[tuple[int, int]]:
    digits = [int(char) for char in match.group(0) if char.isdigit()]
    total = sum(
        d if i % 2 == 0 else (d * 2 - 9 if d > 4 else d * 2) for i, d in enumerate(digits[::-1])
    )
    return _whole(match) if total % 10 == 0 else ()


def _iban(match: re.Match[str]) -> Iterable[tuple[int, int]]:
    # the pattern may run into a following upper-case word: try the longest valid prefix
    ends = [m.start() for m in re.finditer(" ", match.group(0))] + [len(match.group(0))]
    for end in reversed(ends):
        code = match.group(0)[:end].replace(" ", "")
        if 15 <= len(code) <= 34:
            number = "".join(str(int(c, 36)) for c in code[4:] + code[:4])
            if int(number) % 97 == 1:
                return ((match.start(), match.start() + end),)
    return ()


def _link(match: re.Match[str]) -> Iterable[tuple[int, int]]:
    return ((match.start("open"), match.end("open")), (match.start("close"), match.end("close")))


def _emphasis(match: re.Match[str]) -> Iterable[tuple[int, int]]:
    text, start, end = match.string, match.start(), match.end()
    before = text[start - 1] if start else " "
    after = text[end] if end < len(text) else " "
    if before.isspace() and after.isspace():
        return ()  # "2 * 3": not emphasis
    if match.group(0)[0] == "_" and before.isalnum() and after.isalnum():
        return ()  # snake_case
    return _whole(match)


_FORMAT_SPEC = r"(?:![rsa])?(?::[^{}\n]{0,20})?\}"
_SPACE = "[ \u00a0\u202f]?"
_NUMBER = r"(?:\d{1,3}(?:[,.'\u00a0\u202f]\d{3})+(?:[.,]\d{1,2})?(?!\d)|\d+(?:[.,]\d{1,2})?(?!\d))"
_SYMBOLS = "$€£¥₹₩₽₺₴₪฿₫₱"
_SYMBOL = r"(?:US|CA|AU|NZ|HK|MX|R|C|A)?\$|[€£¥₹₩₽₺₴₪฿₫₱]"
_CODES = (
    "USD|EUR|GBP|JPY|CHF|CAD|AUD|NZD|MXN|BRL|ARS|CLP|COP|PEN|UYU|INR|CNY|RMB|HKD|SGD|SEK|NOK"
    "|DKK|PLN|CZK|HUF|RON|TRY|RUB|UAH|ZAR|KRW|ILS|AED|SAR"
)


def _rule(
    kind: str,
    pattern: str,
    spans: _Finder | None = None,
    *,
    flags: int = 0,
    needles: Iterable[str] = (),
    anchor: str | None = None,
    reach: int | None = 0,
) -> _Rule:
    compiled_anchor = None if anchor is None else re.compile(anchor)
    return _Rule(kind, re.compile(pattern, flags), spans, tuple(needles), compiled_anchor, reach)


def _markdown_rules() -> list[_Rule]:
    return [
        _rule("url", r"<(?:https?|ftp|mailto):[^\s<>]+>", needles="<"),
        _rule("email", r"<[^\s<>@]+@[^\s<>@]+>", needles="<"),
        _rule(
            "markup",
            r"(?P<open>!?\[)(?:[^\[\]\\]|\\.)*(?P<close>\](?:\((?:[^()\s]|\([^()\s]*\))*"
            r"""(?:\s+(?:"[^"]*"|'[^']*'|\([^)]*\)))?\s*\)|\[[^\]]*\]))""",
            _link,
            needles="[",
            anchor=r"\[",
            reach=len("!"),
        ),
        _rule("markup", r"<!--.*?-->|</?[A-Za-z][\w-]*(?:\s[^<>]*)?/?>", flags=re.S, needles="<"),
        _rule("markup", r"\\[!-/:-@\[-`{-~]", needles="\\"),
        _rule(
            "markup",
            r"(?<![\\*])\*{1,3}(?!\*)|(?<![\\_])_{1,3}(?!_)|~~",
            _emphasis,
            needles="*_~",
            anchor="[*_~]",
        ),
    ]


def _pii_rules() -> list[_Rule]:
    return [
        _rule("pii", r"\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]){11,30}\b", _iban, anchor=r"[A-Z][A-Z]\d\d"),
        _rule(
            "pii",
            r"(?<![\d-])\d(?:[ -]?\d){12,18}(?![\d-])",
            _luhn,
            anchor=r"\d[ -]?\d[ -]?\d[ -]?\d",
        ),
        _rule(
            "pii",
            r"(?<![\w+])\+\d{1,3}(?:[ .-]?\(?\d{1,4}\)?){2,6}(?![\w-])",
            _phone,
            needles="+",
            anchor=r"\+\d",
        ),
        _rule(
            "pii",
            r"(?<![\w(])\(\d{2,4}\)[ .-]?\d{3,4}[ .-]?\d{3,4}(?![\w-])",
            needles="(",
            anchor=r"\(\d\d",
        ),
        _rule(
            "pii",
            r"(?<![\w-])\d{3}[.-]\d{3}[.-]\d{4}(?![\w-])",
            needles=".-",
            anchor=r"\d\d\d[.-]\d\d\d[.-]\d\d\d\d",
        ),
    ]


def _number_rules() -> list[_Rule]:
    return [
        _rule("order", r"(?<![\w#&])#\d+(?:-\d+)*(?!\w)", needles="#", anchor=r"#\d"),
        _rule(
            "order",
            r"(?<![\w-])[A-Z]{2,}(?:-[A-Z0-9]+)*-\d{2,}(?:-[A-Z0-9]+)*(?![\w-])",
            needles="-",
            anchor=r"[A-Z][A-Z][A-Z0-9-]*-\d\d",
        ),
        _rule(
            "amount",
            rf"(?<![\w{_SYMBOLS}])(?:{_SYMBOL}){_SPACE}{_NUMBER}(?:{_SPACE}(?:{_CODES})\b)?",
            needles=_SYMBOLS,
            anchor=rf"[{_SYMBOLS}]{_SPACE}\d",
            reach=len("US"),
        ),
        _rule(
            "amount",
            rf"(?<![\w.,]){_NUMBER}{_SPACE}(?:{_SYMBOL}|(?:{_CODES})\b)",
            anchor=rf"\d{_SPACE}[A-Z{_SYMBOLS}]",  # a digit, then a symbol or code
            reach=None,
        ),
        _rule("amount", rf"\b(?:{_CODES}){_SPACE}(?:{_NUMBER})", anchor=rf"(?:{_CODES}){_SPACE}\d"),
    ]


@functools.cache
def _rules(syntax: str, mask_pii: bool) -> tuple[_Rule, ...]:
    """The span rules for one syntax, most specific first (rank breaks ties)."""
    rules = [_rule("placeholder", r"⟦\d+⟧", needles="⟦")]
    if syntax in ("text", "markdown"):
        rules.append(
            _rule("code", r"(?<!`)(`+)(?!`).+?(?<!`)\1(?!`)", flags=re.S, needles="`", anchor="`")
        )
    if syntax == "markdown":
        rules += _markdown_rules()
    rules += [
        _rule(
            "placeholder",
            r"\{\{\{.{0,300}?\}\}\}|\{\{.{0,300}?\}\}|\{%.{0,300}?%\}",
            flags=re.S,
            needles=("{{", "{%"),
        ),
        _rule(
            "url",
            r"\b(?:(?:https?|ftp)://|www\.|mailto:)[^\s<>\"'`\[\]]+",
            _url,
            needles=("://", "www.", "mailto:"),
            anchor=r"://|www\.|mailto:",
            reach=len("https"),
        ),
        _rule(
            "email",
            r"(?<![\w.%+-])[\w.%+-]+@[\w-]+(?:\.[\w-]+)*\.[^\W\d_]{2,}(?![\w-])",
            needles="@",
        ),
    ]
    if mask_pii:
        rules += _pii_rules()
    rules += _number_rules()
    rules += [
        _rule(
            "placeholder",
            r"\$\{[\w.]+\}|%\{\w+\}|\{(?:[A-Za-z_][\w.]*|\d*)" + _FORMAT_SPEC,
            needles="{",
        ),
        _rule(
            "placeholder",
            r"%(?:\(\w+\)|\d+\$)?[-+0#]*\d*(?:\.\d+)?(?:l{1,2}|h)?[sdifuxXoeEgGcr@](?![A-Za-z])",
            needles="%",
        ),
        _rule(
            "placeholder",
            r"(?<![\w:]):[a-z0-9_+-]*[a-z][a-z0-9_+-]*:(?![\w:])",
            needles=":",
            anchor=r":[a-z0-9_+-]*[a-z][a-z0-9_+-]*:",
        ),
    ]
    return tuple(rules)


_TRIES = 16  # starts tried one by one before a plain scan is the cheaper way on


def _matches(rule: _Rule, text: str, *, anchored: bool) -> Iterable[re.Match[str]]:
    """The rule's matches in `text`, exactly as `finditer` finds them, faster with the anchor.

    The caller has checked the rule's needles.
    """
    if rule.anchor is None or not anchored:
        return rule.pattern.finditer(text)
    found = rule.anchor.search(text)
    if found is None:
        return ()
    if rule.reach is None:
        return rule.pattern.finditer(text)
    return _anchored_matches(rule.pattern, rule.anchor, rule.reach, text, found)


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


def find_spans(
    text: str, *, syntax: str, terms: Terms | None, mask_pii: bool, anchored: bool = True
) -> list[Span]:
    """Protected spans in `text`, leftmost-longest first, never overlapping.

    Args:
        text: the text of one run (decoded, for HTML).
        syntax: "text", "html" or "markdown": which inline rules apply.
        terms: compiled glossary terms, if any.
        mask_pii: also find phone, card and IBAN numbers.
        anchored: skip work with each rule's anchor (the default); False runs every rule over
            the whole text, the reference the anchored search must agree with.

    Returns:
        The spans in text order. When spans overlap, the one that starts first wins, then the
        longer one, then the rule listed first; glossary terms come after every rule.
    """
    candidates: list[_Candidate] = []
    for rank, rule in enumerate(_rules(syntax, mask_pii)):
        if anchored and rule.needles:
            for needle in rule.needles:  # a plain loop: `any` and a generator cost more
                if needle in text:
                    break
            else:
                continue
        for match in _matches(rule, text, anchored=anchored):
            if rule.spans is None:
                start, end = match.span()
                if end > start:
                    candidates.append((start, start - end, rank, rule.kind, None))
                continue
            for start, end in rule.spans(match):
                if end > start:
                    candidates.append((start, start - end, rank, rule.kind, None))
    if terms is not None:
        for match in terms.pattern.finditer(text):
            term = terms.term_for(match.group(0))
            start, end = match.span()
            candidates.append((start, start - end, 1_000, "term", term.replacement))
    if not candidates:
        return []
    candidates.sort(key=lambda c: c[:3])
    spans: list[Span] = []
    last_end = -1
    for start, negative_length, _, kind, restored in candidates:
        if start >= last_end:
            last_end = start - negative_length
            spans.append(Span(start, last_end, kind, restored))
    return spans
