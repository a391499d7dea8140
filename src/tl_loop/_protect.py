"""Segment a message by content type, mask what must survive untouched, and put it back.

`protect` turns a document into segments for an engine: sentences whose template placeholders,
URLs, e-mail addresses, order numbers, amounts, code, glossary terms, inline markup and (when
asked) personal data are replaced by sentinel tokens `⟦n⟧`. `ProtectedDocument.restore` puts
translated segments back into the document; given the untranslated segments it rebuilds the
input exactly (forced glossary terms aside, which it always applies).
"""

from __future__ import annotations

import functools
import html
import re
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field

from tl_loop._errors import ConfigurationError
from tl_loop._markup import Encoding, Markup, Piece, Run, Text, html_pieces, markdown_pieces
from tl_loop._markup import fenced_blocks as _fence_end
from tl_loop._models import ContentType
from tl_loop.engines._base import TOKEN_PATTERN

__all__ = ["ProtectedDocument", "ProtectedTerm", "Token", "protect"]


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
class Token:
    """One protected span: `placeholder` replaces `original` in a segment; `restored` goes back.

    `kind` is one of "placeholder", "url", "email", "order", "amount", "code", "term", "pii",
    "markup". In HTML, `original` is the decoded text (or, for markup, the source tags).
    """

    placeholder: str
    original: str
    restored: str
    kind: str


# --- finding spans --------------------------------------------------------------------------

_Finder = Callable[[re.Match[str]], Iterable[tuple[int, int]]]


@dataclass(frozen=True, slots=True)
class _Rule:
    kind: str
    pattern: re.Pattern[str]
    spans: _Finder | None = None


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
_PRINTF_TYPE = r"(?:l{1,2}|h)?[sdifuxXoeEgGcr@](?![A-Za-z])"
_SPACE = "[ \u00a0\u202f]?"
_NUMBER = r"(?:\d{1,3}(?:[,.'\u00a0\u202f]\d{3})+(?:[.,]\d{1,2})?(?!\d)|\d+(?:[.,]\d{1,2})?(?!\d))"
_SYMBOL = r"(?:US|CA|AU|NZ|HK|MX|R|C|A)?\$|[€£¥₹₩₽₺₴₪฿₫₱]"
_CODES = (
    "USD|EUR|GBP|JPY|CHF|CAD|AUD|NZD|MXN|BRL|ARS|CLP|COP|PEN|UYU|INR|CNY|RMB|HKD|SGD|SEK|NOK"
    "|DKK|PLN|CZK|HUF|RON|TRY|RUB|UAH|ZAR|KRW|ILS|AED|SAR"
)


@functools.cache
def _rules(syntax: str, mask_pii: bool) -> tuple[_Rule, ...]:
    """The span rules for one syntax, most specific first (rank breaks ties)."""

    def rule(kind: str, pattern: str, spans: _Finder | None = None, flags: int = 0) -> _Rule:
        return _Rule(kind, re.compile(pattern, flags), spans)

    rules = [rule("placeholder", r"⟦\d+⟧")]
    if syntax in ("text", "markdown"):
        rules.append(rule("code", r"(?<!`)(`+)(?!`).+?(?<!`)\1(?!`)", flags=re.S))
    if syntax == "markdown":
        rules += [
            rule("url", r"<(?:https?|ftp|mailto):[^\s<>]+>"),
            rule("email", r"<[^\s<>@]+@[^\s<>@]+>"),
            rule(
                "markup",
                r"(?P<open>!?\[)(?:[^\[\]\\]|\\.)*(?P<close>\](?:\((?:[^()\s]|\([^()\s]*\))*"
                r"""(?:\s+(?:"[^"]*"|'[^']*'|\([^)]*\)))?\s*\)|\[[^\]]*\]))""",
                _link,
            ),
            rule("markup", r"<!--.*?-->|</?[A-Za-z][\w-]*(?:\s[^<>]*)?/?>", flags=re.S),
            rule("markup", r"\\[!-/:-@\[-`{-~]"),
            rule("markup", r"(?<![\\*])\*{1,3}(?!\*)|(?<![\\_])_{1,3}(?!_)|~~", _emphasis),
        ]
    rules += [
        rule("placeholder", r"\{\{\{.{0,300}?\}\}\}|\{\{.{0,300}?\}\}|\{%.{0,300}?%\}", flags=re.S),
        rule("url", r"\b(?:(?:https?|ftp)://|www\.|mailto:)[^\s<>\"'`\[\]]+", _url),
        rule("email", r"(?<![\w.%+-])[\w.%+-]+@[\w-]+(?:\.[\w-]+)*\.[^\W\d_]{2,}(?![\w-])"),
    ]
    if mask_pii:
        rules += [
            rule("pii", r"\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]){11,30}\b", _iban),
            rule("pii", r"(?<![\d-])\d(?:[ -]?\d){12,18}(?![\d-])", _luhn),
            rule("pii", r"(?<![\w+])\+\d{1,3}(?:[ .-]?\(?\d{1,4}\)?){2,6}(?![\w-])", _phone),
            rule("pii", r"(?<![\w(])\(\d{2,4}\)[ .-]?\d{3,4}[ .-]?\d{3,4}(?![\w-])"),
            rule("pii", r"(?<![\w-])\d{3}[.-]\d{3}[.-]\d{4}(?![\w-])"),
        ]
    rules += [
        rule("order", r"(?<![\w#&])#\d+(?:-\d+)*(?!\w)"),
        rule("order", r"(?<![\w-])[A-Z]{2,}(?:-[A-Z0-9]+)*-\d{2,}(?:-[A-Z0-9]+)*(?![\w-])"),
        rule(
            "amount",
            rf"(?<![\w$€£¥₹₩₽₺₴₪฿₫₱])(?:{_SYMBOL}){_SPACE}{_NUMBER}(?:{_SPACE}(?:{_CODES})\b)?",
        ),
        rule("amount", rf"(?<![\w.,]){_NUMBER}{_SPACE}(?:{_SYMBOL}|(?:{_CODES})\b)"),
        rule("amount", rf"\b(?:{_CODES}){_SPACE}(?:{_NUMBER})"),
        rule(
            "placeholder",
            r"\$\{[\w.]+\}|%\{\w+\}|\{(?:[A-Za-z_][\w.]*|\d*)(?:![rsa])?(?::[^{}\n]{0,20})?\}",
        ),
        rule(
            "placeholder",
            r"%(?:\(\w+\)|\d+\$)?[-+0#]*\d*(?:\.\d+)?(?:l{1,2}|h)?[sdifuxXoeEgGcr@](?![A-Za-z])",
        ),
        rule("placeholder", r"(?<![\w:]):[a-z0-9_+-]*[a-z][a-z0-9_+-]*:(?![\w:])"),
    ]
    return tuple(rules)


@dataclass(frozen=True, slots=True)
class _Terms:
    """Glossary terms compiled for matching: one regex, and the term behind each match."""

    pattern: re.Pattern[str]
    exact: Mapping[tuple[str, ...], ProtectedTerm]  # case-sensitive terms, by their words
    folded: Mapping[tuple[str, ...], ProtectedTerm]  # the others, by case-folded words

    def term_for(self, found: str) -> ProtectedTerm:
        words = tuple(found.split())
        term = self.exact.get(words) or self.folded.get(tuple(w.casefold() for w in words))
        if term is None:  # matched under re.IGNORECASE but folds differently (rare)
            term = next(
                t
                for t in self.folded.values()
                if re.fullmatch(r"\s+".join(map(re.escape, t.term.split())), found, re.I)
            )
        return term


def _compile_terms(terms: Sequence[ProtectedTerm]) -> _Terms | None:
    """Compile terms, longest first, each with its own case rule and word bounds.

    Terms are grouped by first letter behind a one-character look-ahead: the regex engine
    tries a few groups at each position instead of every term of a large glossary.
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
    return _Terms(pattern, exact, folded)


@dataclass(frozen=True, slots=True)
class _Span:
    start: int
    end: int
    kind: str
    restored: str | None = None  # None: the original goes back


def _find_spans(text: str, *, syntax: str, terms: _Terms | None, mask_pii: bool) -> list[_Span]:
    """Protected spans in `text`, leftmost-longest first, never overlapping."""
    candidates: list[tuple[int, int, int, _Span]] = []
    for rank, rule in enumerate(_rules(syntax, mask_pii)):
        for match in rule.pattern.finditer(text):
            for start, end in (rule.spans or _whole)(match):
                if end > start:
                    candidates.append((start, start - end, rank, _Span(start, end, rule.kind)))
    if terms is not None:
        for match in terms.pattern.finditer(text):
            term = terms.term_for(match.group(0))
            span = _Span(match.start(), match.end(), "term", term.replacement)
            candidates.append((match.start(), match.start() - match.end(), 1_000, span))
    spans: list[_Span] = []
    for *_, span in sorted(candidates, key=lambda c: c[:3]):
        if not spans or span.start >= spans[-1].end:
            spans.append(span)
    return spans


# --- atoms: text and tokens of one run ----------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Chunk:
    text: str
    raw: str
    cuts: tuple[int, ...] | None  # raw offset of each text offset; None: raw == text

    def at(self, offset: int) -> int:
        return offset if self.cuts is None else self.cuts[offset]

    def slice(self, start: int, end: int) -> _Chunk:
        low, high = self.at(start), self.at(end)
        cuts = None if self.cuts is None else tuple(c - low for c in self.cuts[start : end + 1])
        return _Chunk(self.text[start:end], self.raw[low:high], cuts)

    def join(self, other: _Chunk) -> _Chunk:
        if self.cuts is None and other.cuts is None:
            return _Chunk(self.text + other.text, self.raw + other.raw, None)
        mine = self.cuts or tuple(range(len(self.text) + 1))
        theirs = other.cuts or tuple(range(len(other.text) + 1))
        cuts = mine[:-1] + tuple(c + len(self.raw) for c in theirs)
        return _Chunk(self.text + other.text, self.raw + other.raw, cuts)


@dataclass(frozen=True, slots=True)
class _Tok:
    kind: str
    original: str
    restored: str
    raw: str
    markup: bool = False  # `restored` is source markup: never escaped
    inner: tuple[Piece, ...] | None = None
    standalone: bool = False


_Atom = _Chunk | _Tok


def _mask(run: Run, terms: _Terms | None, mask_pii: bool) -> list[_Atom]:
    """The atoms of a run: text chunks and tokens, adjacent chunks merged."""
    atoms: list[_Atom] = []

    def add(atom: _Atom) -> None:
        if isinstance(atom, _Chunk) and atoms and isinstance(atoms[-1], _Chunk):
            atoms[-1] = atoms[-1].join(atom)
        elif not isinstance(atom, _Chunk) or atom.text or atom.raw:
            atoms.append(atom)

    for part in run.parts:
        if isinstance(part, Markup):
            add(_Tok(part.kind, part.raw, part.raw, part.raw, True, part.inner, part.standalone))
            continue
        chunk = _Chunk(part.text, part.raw, part.cuts)
        position = 0
        for span in _find_spans(part.text, syntax=run.syntax, terms=terms, mask_pii=mask_pii):
            original = part.text[span.start : span.end]
            restored = original if span.restored is None else span.restored
            raw = chunk.slice(span.start, span.end).raw
            add(chunk.slice(position, span.start))
            add(_Tok(span.kind, original, restored, raw))
            position = span.end
        add(chunk.slice(position, len(part.text)))
    return atoms


# --- sentences ------------------------------------------------------------------------------

_TOKEN_MARK = "\ue000"  # stands for a token while looking for sentence ends
_END = re.compile(r"([.!?…]+)[\"'”’»)\]]*(\s+)")
_LINE_GAP = re.compile(r"\s*\n\s*")
_OPENERS = "¿¡“«\"'(" + _TOKEN_MARK
_ABBREVIATIONS = frozenset(
    {"e.g", "i.e", "etc", "vs", "approx", "mr", "mrs", "ms", "dr", "st", "no", "nr", "sr"}
    | {"sra", "srta", "dra", "ud", "uds", "p.ej", "aprox", "núm", "tel", "inc", "ltd", "co"}
    | {"corp", "jr", "min", "max", "fig", "ca", "cf", "al"}
)


def _is_sentence_end(probe: str, match: re.Match[str]) -> bool:
    following = probe[match.end() : match.end() + 1]
    if not following:
        return False
    if match.group(1).strip(".…"):  # ! or ?: any letter may start the next sentence
        return following.isalnum() or following in _OPENERS
    if match.group(1) != ".":  # an ellipsis often goes on in lower case
        return following.isupper() or following in _OPENERS
    before = probe[max(0, match.start() - 20) : match.start()].split()
    word = before[-1] if before else ""
    if word.casefold() in _ABBREVIATIONS or (len(word) == 1 and word.isalpha()):
        return False
    if re.fullmatch(r"(?:\w\.)+\w", word):  # e.g, U.S
        return False
    return following.isupper() or following in _OPENERS


def _gaps(atoms: Sequence[_Atom], split_lines: bool) -> list[tuple[int, int]]:
    """Where to cut a run, as (start, end) of the whitespace between segments."""
    probe = "".join(a.text if isinstance(a, _Chunk) else _TOKEN_MARK for a in atoms)
    gaps = [m.span(2) for m in _END.finditer(probe) if _is_sentence_end(probe, m)]
    if split_lines:
        gaps += [m.span() for m in _LINE_GAP.finditer(probe)]
    merged: list[tuple[int, int]] = []
    for start, end in sorted(gaps):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


def _cut(atoms: Sequence[_Atom], gaps: Sequence[tuple[int, int]]) -> Iterator[list[_Atom] | str]:
    """Yield the atoms of each sentence, and the raw whitespace between them."""
    current: list[_Atom] = []
    position, pending = 0, list(reversed(gaps))
    for atom in atoms:
        if isinstance(atom, _Tok):
            current.append(atom)
            position += 1
            continue
        local = 0
        while pending and pending[-1][0] < position + len(atom.text):
            start, end = pending.pop()
            start, end = start - position, min(end - position, len(atom.text))
            current.append(atom.slice(local, start))
            yield current
            yield atom.slice(start, end).raw
            current, local = [], end
        current.append(atom.slice(local, len(atom.text)))
        position += len(atom.text)
    yield current


# --- building the document ------------------------------------------------------------------

_Layout = tuple[str | int, ...]  # raw text, or the index of a segment


@dataclass(frozen=True, slots=True)
class _Slot:
    placeholder: str  # a token rendered on restore: forced term, or markup with attributes


@dataclass(frozen=True, slots=True)
class _Plan:
    pieces: tuple[str | _Slot, ...]  # the segment's source, for an untranslated segment
    encoding: Encoding
    placeholders: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class _Render:
    markup: bool
    inner: _Layout | None


def _blank(atom: _Atom) -> bool:
    return atom.standalone if isinstance(atom, _Tok) else not atom.text.strip()


def _trim(atoms: list[_Atom]) -> tuple[list[_Atom], list[_Atom], list[_Atom]]:
    """Split off leading and trailing whitespace and standalone markup (kept raw)."""
    head: list[_Atom] = []
    tail: list[_Atom] = []
    while atoms and _blank(atoms[0]):
        head.append(atoms.pop(0))
    while atoms and _blank(atoms[-1]):
        tail.insert(0, atoms.pop())
    if atoms and isinstance(first := atoms[0], _Chunk):
        size = len(first.text) - len(first.text.lstrip())
        head.append(first.slice(0, size))
        atoms[0] = first.slice(size, len(first.text))
    if atoms and isinstance(last := atoms[-1], _Chunk):
        size = len(last.text.rstrip())
        tail.insert(0, last.slice(size, len(last.text)))
        atoms[-1] = last.slice(0, size)
    return head, atoms, tail


def _translatable(atoms: Sequence[_Atom]) -> bool:
    """Whether an engine has anything to do: a letter outside tokens, or a forced term."""
    for atom in atoms:
        if isinstance(atom, _Chunk) and any(char.isalpha() for char in atom.text):
            return True
        if isinstance(atom, _Tok) and atom.restored != atom.original:
            return True
    return False


class _Builder:
    """Collects the layout, segments and tokens of one document."""

    def __init__(self, terms: Sequence[ProtectedTerm], mask_pii: bool) -> None:
        self.terms = _compile_terms(terms)
        self.mask_pii = mask_pii
        self.layout: list[str | int] = []
        self.segments: list[str] = []
        self.plans: list[_Plan] = []
        self.tokens: dict[str, Token] = {}
        self.renders: dict[str, _Render] = {}

    def literal(self, raw: str) -> None:
        if raw and self.layout and isinstance(self.layout[-1], str):
            self.layout[-1] += raw
        elif raw:
            self.layout.append(raw)

    def piece(self, piece: Piece) -> None:
        if isinstance(piece, str):
            self.literal(piece)
            return
        atoms = _mask(piece, self.terms, self.mask_pii)
        for item in _cut(atoms, _gaps(atoms, piece.split_lines)):
            if isinstance(item, str):
                self.literal(item)
            else:
                self.sentence(item, piece.encoding)

    def sentence(self, atoms: list[_Atom], encoding: Encoding) -> None:
        head, body, tail = _trim([a for a in atoms if not isinstance(a, _Chunk) or a.raw])
        translatable = _translatable(body)
        for atom in head + ([] if translatable else body):
            self.atom(atom)
        if translatable:
            self.segment(body, encoding)
        for atom in tail:
            self.atom(atom)

    def atom(self, atom: _Atom) -> None:
        """Emit an atom as raw text (its attributes still translated)."""
        if isinstance(atom, _Tok) and atom.inner is not None:
            for piece in atom.inner:
                self.piece(piece)
        else:
            self.literal(atom.raw)

    def segment(self, atoms: Sequence[_Atom], encoding: Encoding) -> None:
        text: list[str] = []
        pieces: list[str | _Slot] = []
        for atom in atoms:
            if isinstance(atom, _Chunk):
                text.append(atom.text)
                pieces.append(atom.raw)
                continue
            placeholder = f"⟦{len(self.tokens)}⟧"
            self.tokens[placeholder] = Token(placeholder, atom.original, atom.restored, atom.kind)
            inner = self.sub_layout(atom.inner) if atom.inner is not None else None
            if atom.markup or inner is not None:
                self.renders[placeholder] = _Render(atom.markup, inner)
            dynamic = inner is not None or atom.restored != atom.original
            pieces.append(_Slot(placeholder) if dynamic else atom.raw)
            text.append(placeholder)
        placeholders = tuple(p for p in text if p in self.tokens)
        self.layout.append(len(self.segments))
        self.segments.append("".join(text))
        self.plans.append(_Plan(tuple(pieces), encoding, placeholders))

    def sub_layout(self, pieces: Sequence[Piece]) -> _Layout:
        outer, self.layout = self.layout, []
        for piece in pieces:
            self.piece(piece)
        inner, self.layout = tuple(self.layout), outer
        return inner

    def document(self) -> ProtectedDocument:
        return ProtectedDocument(
            tuple(self.segments), dict(self.tokens), tuple(self.layout), tuple(self.plans),
            dict(self.renders),
        )  # fmt: skip


def _encode(text: str, encoding: Encoding) -> str:
    if encoding == "plain":
        return text
    return html.escape(text, quote=encoding != "html")


# --- the document ---------------------------------------------------------------------------


@dataclass(frozen=True)
class ProtectedDocument:
    """A document split into protected segments, and how to put translated segments back.

    Build it with `protect`. `segments` are what an engine translates; each holds sentinel
    tokens `⟦n⟧` for the spans in `tokens`, numbered uniquely across the document.
    """

    segments: tuple[str, ...]
    tokens: Mapping[str, Token]
    _layout: _Layout = field(default=(), repr=False, compare=False)
    _plans: tuple[_Plan, ...] = field(default=(), repr=False, compare=False)
    _renders: Mapping[str, _Render] = field(default_factory=dict, repr=False, compare=False)

    def segment_tokens(self, index: int) -> tuple[str, ...]:
        """The placeholders in `segments[index]`, in order."""
        return self._plans[index].placeholders

    def missing_tokens(self, index: int, translated: str) -> tuple[str, ...]:
        """Placeholders of `segments[index]` absent from its translation `translated`."""
        found = set(TOKEN_PATTERN.findall(translated))
        return tuple(p for p in self.segment_tokens(index) if p not in found)

    def extra_tokens(self, index: int, translated: str) -> tuple[str, ...]:
        """Placeholders in `translated` that its source segment lacks, or has fewer times.

        May include placeholders the engine invented, which are not in `tokens`.
        """
        expected = Counter(self.segment_tokens(index))
        seen = Counter(TOKEN_PATTERN.findall(translated))
        return tuple(p for p, count in seen.items() if count > expected[p])

    def restore(self, translated: Sequence[str]) -> str:
        """Rebuild the document with `translated[i]` in place of `segments[i]`.

        Each placeholder found is replaced by its token's `restored` text (forced glossary
        terms get their translation); missing placeholders stay missing, and placeholders
        from elsewhere are left as they are: `missing_tokens` and `extra_tokens` report both.
        Given the untranslated segments, it returns the original document exactly (with
        forced terms applied). HTML text that changed is escaped; untouched text keeps its
        source spelling.

        Raises:
            ValueError: `translated` does not have one entry per segment.
        """
        if len(translated) != len(self.segments):
            raise ValueError(
                f"restore needs one translation per segment: got {len(translated)}, "
                f"expected {len(self.segments)}"
            )
        return self._render(self._layout, translated)

    def _render(self, layout: _Layout, translated: Sequence[str]) -> str:
        return "".join(
            piece if isinstance(piece, str) else self._segment(piece, translated)
            for piece in layout
        )

    def _segment(self, index: int, translated: Sequence[str]) -> str:
        plan, text = self._plans[index], translated[index]
        encoding: Encoding = "attr" if plan.encoding == "attr-bare" else plan.encoding
        if text == self.segments[index]:
            return "".join(
                piece
                if isinstance(piece, str)
                else self._token(piece.placeholder, encoding, translated)
                for piece in plan.pieces
            )
        own = set(plan.placeholders)
        out: list[str] = []
        position = 0
        for match in TOKEN_PATTERN.finditer(text):
            out.append(_encode(text[position : match.start()], encoding))
            placeholder = match.group(0)
            if placeholder in own:
                out.append(self._token(placeholder, encoding, translated))
            else:
                out.append(placeholder)
            position = match.end()
        out.append(_encode(text[position:], encoding))
        result = "".join(out)
        return f'"{result}"' if plan.encoding == "attr-bare" else result

    def _token(self, placeholder: str, encoding: Encoding, translated: Sequence[str]) -> str:
        render = self._renders.get(placeholder)
        token = self.tokens[placeholder]
        if render is not None and render.inner is not None:
            return self._render(render.inner, translated)
        if render is not None and render.markup:
            return token.restored
        return _encode(token.restored, encoding)


# --- entry point ----------------------------------------------------------------------------


def _text_pieces(text: str) -> list[Piece]:
    """Plain text: one run, every line its own segment; closed code fences kept verbatim."""
    pieces: list[Piece] = []
    lines = text.splitlines(keepends=True)
    buffer: list[str] = []
    index = 0
    while index < len(lines):
        end = _fence_end(lines, index)
        if (
            end is not None
            and end - 1 > index
            and lines[end - 1].strip().startswith(lines[index].strip()[:3])
        ):
            if buffer:
                pieces.append(Run((Text("".join(buffer), "".join(buffer)),), split_lines=True))
                buffer = []
            pieces.append("".join(lines[index:end]))
            index = end
        else:
            buffer.append(lines[index])
            index += 1
    if buffer:
        pieces.append(Run((Text("".join(buffer), "".join(buffer)),), split_lines=True))
    return pieces


def protect(
    text: str,
    *,
    content_type: ContentType = "text",
    terms: Sequence[ProtectedTerm] = (),
    mask_pii: bool = False,
) -> ProtectedDocument:
    """Split `text` into segments to translate, with protected spans replaced by tokens.

    Args:
        text: the message or article as written.
        content_type: `text` (lines and sentences), `html` (text nodes and the `title`, `alt`,
            `placeholder`, `aria-label` attributes) or `markdown` (paragraphs, headings, list
            items, table cells; code and front matter kept verbatim).
        terms: glossary terms to keep as written or force to a translation.
        mask_pii: also mask phone, card and IBAN numbers (for engines outside the trust
            boundary); e-mail addresses are always masked.

    Returns:
        The protected document; `restore` puts translated segments back.

    Raises:
        ConfigurationError: `content_type` is not one of the three above.
    """
    if content_type == "text":
        pieces = _text_pieces(text)
    elif content_type == "html":
        pieces = html_pieces(text)
    elif content_type == "markdown":
        pieces = markdown_pieces(text)
    else:
        raise ConfigurationError(
            f"unknown content_type {content_type!r}; use 'text', 'html' or 'markdown'"
        )
    builder = _Builder(terms, mask_pii)
    for piece in pieces:
        builder.piece(piece)
    return builder.document()
