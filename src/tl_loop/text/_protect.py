"""Segment a message by content type, mask what must survive untouched, and put it back.

`protect` turns a document into segments for an engine: sentences whose template placeholders,
URLs, e-mail addresses, order numbers, amounts, code, glossary terms, inline markup and (when
asked) personal data are replaced by sentinel tokens `⟦n⟧`. `ProtectedDocument.restore` puts
translated segments back into the document; given the untranslated segments it rebuilds the
input exactly (forced glossary terms aside, which it always applies).

This module turns runs into segments and tokens and back; `tl_loop.text._walkers` walks a document
into runs, and `tl_loop.text._spans` finds the spans to protect in each run.
"""

from __future__ import annotations

import dataclasses
import html
import itertools
import re
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field

from tl_loop._errors import ConfigurationError
from tl_loop._models import ContentType
from tl_loop.text._markdown import markdown_pieces
from tl_loop.text._protection import DEFAULT_PROTECTION, Protection
from tl_loop.text._spans import ProtectedTerm, Terms, compile_terms, find_spans
from tl_loop.text._structured import holes
from tl_loop.text._token_markup import TOKEN_PATTERN
from tl_loop.text._walkers import Encoding, Markup, Piece, Run, Text, html_pieces, text_pieces

__all__ = ["ProtectedDocument", "ProtectedTerm", "Protection", "Token", "protect"]


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


# A frozen dataclass's __init__ sets each field through object.__setattr__; setting the slots
# directly builds the same token three times faster, and protect builds one per protected span.
_SET_PLACEHOLDER, _SET_ORIGINAL, _SET_RESTORED, _SET_KIND = (
    getattr(Token, each.name).__set__ for each in dataclasses.fields(Token)
)


def _token(placeholder: str, original: str, restored: str, kind: str) -> Token:
    """`Token(placeholder, original, restored, kind)`, built faster."""
    token = object.__new__(Token)
    _SET_PLACEHOLDER(token, placeholder)
    _SET_ORIGINAL(token, original)
    _SET_RESTORED(token, restored)
    _SET_KIND(token, kind)
    return token


# --- atoms: text and tokens of one run ----------------------------------------------------


# Atoms are built for every slice of every run: plain slotted classes, since frozen
# dataclasses take three times as long to build. Nothing changes them once built.


@dataclass(slots=True)
class _Chunk:
    """Text of a run and its raw source; `cuts[0] == 0` and `cuts[-1] == len(raw)`."""

    text: str
    raw: str
    cuts: tuple[int, ...] | None  # raw offset of each text offset; None: raw == text

    def raw_of(self, start: int, end: int) -> str:
        """The raw source of `text[start:end]`."""
        if self.cuts is None:
            return self.raw[start:end]
        return self.raw[self.cuts[start] : self.cuts[end]]

    def slice(self, start: int, end: int) -> _Chunk:
        cuts = self.cuts
        if cuts is None:
            return _Chunk(self.text[start:end], self.raw[start:end], None)
        low = cuts[start]
        shifted = tuple(c - low for c in cuts[start : end + 1])
        return _Chunk(self.text[start:end], self.raw[low : cuts[end]], shifted)

    def join(self, other: _Chunk) -> _Chunk:
        if self.cuts is None and other.cuts is None:
            return _Chunk(self.text + other.text, self.raw + other.raw, None)
        mine = self.cuts or tuple(range(len(self.text) + 1))
        theirs = other.cuts or tuple(range(len(other.text) + 1))
        cuts = mine[:-1] + tuple(c + len(self.raw) for c in theirs)
        return _Chunk(self.text + other.text, self.raw + other.raw, cuts)


@dataclass(slots=True)
class _Tok:
    kind: str
    original: str
    restored: str
    raw: str
    markup: bool = False  # `restored` is source markup: never escaped
    inner: tuple[Piece, ...] | None = None
    standalone: bool = False


_Atom = _Chunk | _Tok


def _text(chunk: _Chunk) -> Text:
    return Text(chunk.raw, chunk.text, chunk.cuts)


def _hole(chunk: _Chunk, icu: bool) -> tuple[Text | Markup, ...]:
    """The parts of a placeholder's prose; in an ICU message `#` (the number) is a token."""
    if not icu or "#" not in chunk.text:
        return (_text(chunk),)
    parts: list[Text | Markup] = []
    position = 0
    for index, char in enumerate(chunk.text):
        if char == "#":
            if index > position:
                parts.append(_text(chunk.slice(position, index)))
            parts.append(Markup(chunk.raw_of(index, index + 1), kind="placeholder"))
            position = index + 1
    if position < len(chunk.text):
        parts.append(_text(chunk.slice(position, len(chunk.text))))
    return tuple(parts)


def _inner(chunk: _Chunk, start: int, end: int, run: Run) -> tuple[Piece, ...] | None:
    """A placeholder with prose inside (ICU messages, a fallback) as code and runs to translate."""
    original = chunk.text[start:end]
    found = holes(original)
    if not found:
        return None
    icu = not original.startswith(("{{", "{%"))
    pieces: list[Piece] = []
    position = start
    for hole_start, hole_end in found:
        pieces.append(chunk.raw_of(position, start + hole_start))
        hole = chunk.slice(start + hole_start, start + hole_end)
        pieces.append(Run(_hole(hole, icu), encoding=run.encoding, syntax="text"))
        position = start + hole_end
    pieces.append(chunk.raw_of(position, end))
    return tuple(pieces)


def _mask(run: Run, terms: Terms | None, mask_pii: bool, protection: Protection) -> list[_Atom]:
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
        spans = find_spans(
            part.text, syntax=run.syntax, terms=terms, mask_pii=mask_pii, protection=protection
        )
        for span in spans:
            original = part.text[span.start : span.end]
            restored = original if span.restored is None else span.restored
            if span.start > position:  # an empty chunk would be dropped anyway
                add(chunk.slice(position, span.start))
            raw = chunk.raw_of(span.start, span.end)
            inner = _inner(chunk, span.start, span.end, run) if span.kind == "placeholder" else None
            add(_Tok(span.kind, original, restored, raw, inner=inner))
            position = span.end
        if position < len(part.text):
            add(chunk if position == 0 else chunk.slice(position, len(part.text)))
    return atoms


# --- sentences ------------------------------------------------------------------------------

_TOKEN_MARK = "\ue000"  # stands for a token while looking for sentence ends
# `[.!?…][.!?…]*` rather than `[.!?…]+`: a pattern that starts with a character class lets the
# regex engine skip ahead to the next candidate instead of trying every position.
_END = re.compile(r"([.!?…][.!?…]*)[\"'”’»)\]]*(\s+)")
_INITIALISM = re.compile(r"(?:\w\.)+\w")  # e.g, U.S
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
    if not (following.isupper() or following in _OPENERS):
        return False  # decided by the next character alone: no need to look at the word before
    before = probe[max(0, match.start() - 20) : match.start()].split()
    word = before[-1] if before else ""
    if word.casefold() in _ABBREVIATIONS or (len(word) == 1 and word.isalpha()):
        return False
    return not _INITIALISM.fullmatch(word)


def _gaps(atoms: Sequence[_Atom], split_lines: bool) -> list[tuple[int, int]]:
    """Where to cut a run, as (start, end) of the whitespace between segments."""
    probe = "".join([a.text if isinstance(a, _Chunk) else _TOKEN_MARK for a in atoms])
    gaps = [m.span(2) for m in _END.finditer(probe) if _is_sentence_end(probe, m)]
    if split_lines and "\n" in probe:
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
        local, size = 0, len(atom.text)
        while pending and pending[-1][0] < position + size:
            start, end = pending.pop()
            start, end = start - position, min(end - position, size)
            if start > local:  # an empty chunk would be dropped anyway
                current.append(atom.slice(local, start))
            yield current
            yield atom.raw_of(start, end)
            current, local = [], end
        current.append(atom if local == 0 else atom.slice(local, size))
        position += size
    yield current


# --- building the document ------------------------------------------------------------------

_Layout = tuple[str | int, ...]  # raw text, or the index of a segment


@dataclass(frozen=True, slots=True)
class _Slot:
    placeholder: str  # a token rendered on restore: forced term, or markup with attributes


# Built for every segment: not frozen, like the atoms above; nothing changes them once built.
@dataclass(slots=True)
class _Plan:
    pieces: tuple[str | _Slot, ...]  # the segment's source, for an untranslated segment
    encoding: Encoding
    placeholders: tuple[str, ...]


@dataclass(slots=True)
class _Render:
    markup: bool
    inner: _Layout | None


def _blank(atom: _Atom) -> bool:
    return atom.standalone if isinstance(atom, _Tok) else not atom.text.strip()


def _trim(atoms: list[_Atom]) -> tuple[list[_Atom], list[_Atom], list[_Atom]]:
    """Split off leading and trailing whitespace and standalone markup (kept raw)."""
    low, high = 0, len(atoms)
    while low < high and _blank(atoms[low]):
        low += 1
    while high > low and _blank(atoms[high - 1]):
        high -= 1
    head, body, tail = atoms[:low], atoms[low:high], atoms[high:]
    if body and isinstance(first := body[0], _Chunk):
        size = len(first.text) - len(first.text.lstrip())
        if size:
            head.append(first.slice(0, size))
            body[0] = first.slice(size, len(first.text))
    if body and isinstance(last := body[-1], _Chunk):
        size = len(last.text.rstrip())
        if size < len(last.text):
            tail.insert(0, last.slice(size, len(last.text)))
            body[-1] = last.slice(0, size)
    return head, body, tail


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

    def __init__(
        self, terms: Sequence[ProtectedTerm], mask_pii: bool, protection: Protection
    ) -> None:
        self.terms = compile_terms(tuple(terms))
        self.mask_pii = mask_pii
        self.protection = protection
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
        atoms = _mask(piece, self.terms, self.mask_pii, self.protection)
        for item in _cut(atoms, _gaps(atoms, piece.split_lines)):
            if isinstance(item, str):
                self.literal(item)
            else:
                self.sentence(item, piece.encoding)

    def sentence(self, atoms: list[_Atom], encoding: Encoding) -> None:
        head, body, tail = _trim([a for a in atoms if not isinstance(a, _Chunk) or a.raw])
        for atom in head:
            self.atom(atom)
        if _translatable(body):
            self.segment(body, encoding)
        else:
            for atom in body:
                self.atom(atom)
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
        placeholders: list[str] = []
        tokens = self.tokens
        for atom in atoms:
            if isinstance(atom, _Chunk):
                text.append(atom.text)
                pieces.append(atom.raw)
                continue
            placeholder = f"⟦{len(tokens)}⟧"
            tokens[placeholder] = _token(placeholder, atom.original, atom.restored, atom.kind)
            inner = self.sub_layout(atom.inner) if atom.inner is not None else None
            if atom.markup or inner is not None:
                self.renders[placeholder] = _Render(atom.markup, inner)
            dynamic = inner is not None or atom.restored != atom.original
            pieces.append(_Slot(placeholder) if dynamic else atom.raw)
            text.append(placeholder)
            placeholders.append(placeholder)
        self.layout.append(len(self.segments))
        self.segments.append("".join(text))
        self.plans.append(_Plan(tuple(pieces), encoding, tuple(placeholders)))

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


_EMPHASIS = frozenset("*_~")


def _glue_emphasis(
    text: str, source: str, placeholders: Sequence[str], tokens: Mapping[str, Token]
) -> str:
    """Take out spaces an engine put between a Markdown emphasis marker and its word.

    `**teacher**,` must not come back as `**profesor **,`: a closing marker after a space (or an
    opening one before a space) is no longer emphasis. Only sides glued in the source are fixed.
    A pair left empty (`will **start**` → `empezará ****`: the engine merged the word into
    another) goes around the word before it.
    """
    emphasis = [p for p in placeholders if set(tokens[p].original) <= _EMPHASIS]
    for first, second in itertools.pairwise(emphasis):
        pair = first + second
        if pair in text and pair not in source:
            text = re.sub(f"(\\w[\\w'’-]*)(\\s*){re.escape(pair)}", f"{first}\\1{second}\\2", text)
    for placeholder in emphasis:
        if placeholder not in text:
            continue
        at = source.find(placeholder)
        before = source[at - 1 : at]
        after = source[at + len(placeholder) : at + len(placeholder) + 1]
        if after and not after.isspace():
            text = re.sub(f"{re.escape(placeholder)}[ \t]+", placeholder, text)
        if before and not before.isspace():
            text = re.sub(f"[ \t]+{re.escape(placeholder)}", placeholder, text)
    return text


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
        found = TOKEN_PATTERN.findall(translated)
        if not found or found == list(self.segment_tokens(index)):
            return ()
        expected = Counter(self.segment_tokens(index))
        seen = Counter(found)
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
        text = _glue_emphasis(text, self.segments[index], plan.placeholders, self.tokens)
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


def protect(
    text: str,
    *,
    content_type: ContentType = "text",
    terms: Sequence[ProtectedTerm] = (),
    mask_pii: bool = False,
    protection: Protection | None = None,
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
        protection: span families to turn off and patterns to add; by default every family.

    Returns:
        The protected document; `restore` puts translated segments back.

    Raises:
        ConfigurationError: `content_type` is not one of the three above.
    """
    if content_type == "text":
        pieces = text_pieces(text)
    elif content_type == "html":
        pieces = html_pieces(text)
    elif content_type == "markdown":
        pieces = markdown_pieces(text)
    else:
        raise ConfigurationError(
            f"unknown content_type {content_type!r}; use 'text', 'html' or 'markdown'"
        )
    builder = _Builder(terms, mask_pii, protection or DEFAULT_PROTECTION)
    for piece in pieces:
        builder.piece(piece)
    return builder.document()
