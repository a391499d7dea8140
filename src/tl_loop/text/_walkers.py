"""Walk plain text, HTML and Markdown into pieces: raw text kept verbatim and runs to translate.

A walker never changes the source: joining every piece's raw text gives back the input exactly.
`text._protect` turns each `Run` into segments with tokens; everything else is emitted as is.
Inline markup inside a run (`<b>`, `<a href>`, a Markdown link's `](url)`) becomes a `Markup`
part so one sentence stays one segment.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from dataclasses import dataclass
from html.parser import HTMLParser
from typing import Literal

__all__ = [
    "Encoding",
    "Markup",
    "Piece",
    "Run",
    "Text",
    "decode_html",
    "fenced_blocks",
    "html_pieces",
    "markdown_pieces",
    "text_pieces",
]

Encoding = Literal["plain", "html", "attr", "attr-bare"]
"""How translated text is written back: as is, HTML-escaped, as a (quoted) attribute value."""


@dataclass(frozen=True, slots=True)
class Text:
    """Text to translate: `text` is what the engine sees, `raw` what the source holds.

    `cuts[i]` is the offset in `raw` where `text[i]` starts (one more entry for the end); None
    means `raw == text`.
    """

    raw: str
    text: str
    cuts: tuple[int, ...] | None = None


@dataclass(frozen=True, slots=True)
class Markup:
    """Markup inside a run, carried as one token; `inner` holds its translatable attributes."""

    raw: str
    kind: str = "markup"
    inner: tuple[Piece, ...] | None = None
    standalone: bool = False  # <br>, <wbr>: may be moved out at the edges of a segment


@dataclass(frozen=True, slots=True)
class Run:
    """A stretch of text translated together, split later into sentences.

    Args:
        parts: text and inline markup, in source order.
        encoding: how to write translated text back.
        syntax: which inline patterns apply (Markdown emphasis and links, backtick code).
        split_lines: every line is its own segment (plain text); otherwise newlines are spaces.
    """

    parts: tuple[Text | Markup, ...]
    encoding: Encoding = "plain"
    syntax: Literal["text", "html", "markdown"] = "text"
    split_lines: bool = False


Piece = str | Run
"""A piece of a document: raw text kept as is, or a run to translate."""

_CHARREF = re.compile(r"&(#[0-9]+;?|#[xX][0-9a-fA-F]+;?|[^\t\n\f <&#;]{1,32};?)")


def decode_html(raw: str) -> Text:
    """Decode character references in `raw`, keeping where each decoded character came from."""
    if "&" not in raw:
        return Text(raw, raw)
    text: list[str] = []
    cuts: list[int] = []
    position = 0
    for match in _CHARREF.finditer(raw):
        for offset in range(position, match.start()):
            cuts.append(offset)
        text.append(raw[position : match.start()])
        decoded = html.unescape(match.group(0))
        cuts.extend([match.start()] * len(decoded))
        text.append(decoded)
        position = match.end()
    cuts.extend(range(position, len(raw) + 1))
    text.append(raw[position:])
    return Text(raw, "".join(text), tuple(cuts))


# --- HTML -----------------------------------------------------------------------------------

_INLINE = frozenset(
    {"a", "abbr", "b", "bdi", "bdo", "big", "br", "cite", "data", "del", "dfn", "em", "font"}
    | {"i", "img", "ins", "label", "mark", "q", "s", "small", "span", "strike", "strong"}
    | {"sub", "sup", "time", "u", "wbr"}
)
_STANDALONE = frozenset({"br", "wbr"})
_CODE = frozenset({"code", "kbd", "samp", "var", "tt"})
_SKIP = _CODE | {"pre", "script", "style", "textarea", "svg", "math", "template"}
_INLINE_SKIP = _CODE | {"svg", "math"}
_VOID = frozenset(
    {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param"}
    | {"source", "track", "wbr"}
)
_ATTRIBUTES = frozenset({"title", "alt", "placeholder", "aria-label"})
_ATTR = re.compile(
    r"""(?P<name>[^\s/>"'=]+)(?:\s*=\s*(?:"(?P<dq>[^"]*)"|'(?P<sq>[^']*)'|(?P<bare>[^\s>]+)))?"""
)
_TAG_NAME = re.compile(r"</?[^\s/>]+")


@dataclass(frozen=True, slots=True)
class _Event:
    kind: Literal["start", "startend", "end", "data", "other"]
    start: int
    tag: str = ""
    attrs: tuple[tuple[str, str | None], ...] = ()
    data: str = ""
    length: int = 0  # of the start tag itself, for attribute scanning


class _Recorder(HTMLParser):
    """Record where each construct starts; the source between two starts is its raw text."""

    def __init__(self, source: str) -> None:
        super().__init__(convert_charrefs=True)
        self.events: list[_Event] = []
        self._lines = [0] + [m.end() for m in re.finditer("\n", source)]

    def _at(self) -> int:
        line, column = self.getpos()
        return self._lines[line - 1] + column

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._tag("start", tag, attrs)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._tag("startend", tag, attrs)

    def _tag(
        self, kind: Literal["start", "startend"], tag: str, attrs: list[tuple[str, str | None]]
    ) -> None:
        length = len(self.get_starttag_text() or "")
        self.events.append(_Event(kind, self._at(), tag, tuple(attrs), length=length))

    def handle_endtag(self, tag: str) -> None:
        self.events.append(_Event("end", self._at(), tag))

    def handle_data(self, data: str) -> None:
        self.events.append(_Event("data", self._at(), data=data))

    def handle_comment(self, data: str) -> None:
        self.events.append(_Event("other", self._at()))

    def handle_decl(self, decl: str) -> None:
        self.events.append(_Event("other", self._at()))

    def handle_pi(self, data: str) -> None:
        self.events.append(_Event("other", self._at()))

    def unknown_decl(self, data: str) -> None:
        self.events.append(_Event("other", self._at()))


def _events(source: str) -> list[tuple[_Event, str]]:
    """Parse `source` into events paired with their exact raw text; adjacent data merged."""
    recorder = _Recorder(source)
    recorder.feed(source)
    recorder.close()
    events = sorted(recorder.events, key=lambda event: event.start)  # stable: order kept
    paired: list[tuple[_Event, str]] = []
    bounds = [event.start for event in events] + [len(source)]
    if events and events[0].start > 0:  # nothing should precede the first event; keep it anyway
        paired.append((_Event("other", 0), source[: events[0].start]))
    for index, event in enumerate(events):
        raw = source[event.start : bounds[index + 1]]
        if paired and event.kind == "data" and paired[-1][0].kind == "data":
            previous, previous_raw = paired.pop()
            event = _Event("data", previous.start, data=previous.data + event.data)
            raw = previous_raw + raw
        paired.append((event, raw))
    return paired


def _is_skip(event: _Event) -> bool:
    if event.tag in _SKIP:
        return True
    attrs = dict(event.attrs)
    if (attrs.get("translate") or "").strip().lower() == "no":
        return True
    return "notranslate" in (attrs.get("class") or "").lower().split()


def _skip_end(events: list[tuple[_Event, str]], index: int) -> int:
    """Index of the event that closes the skipped element opened at `index` (or the last)."""
    opener = events[index][0]
    if opener.kind == "startend" or opener.tag in _VOID:
        return index
    depth = 0
    for position in range(index, len(events)):
        event = events[position][0]
        if event.tag == opener.tag and event.kind == "start":
            depth += 1
        elif event.tag == opener.tag and event.kind == "end":
            depth -= 1
            if depth == 0:
                return position
    return len(events) - 1


def _tag_pieces(raw: str, length: int) -> tuple[Piece, ...] | None:
    """Split a start tag into raw pieces and runs for its translatable attributes, if any."""
    tag = raw[:length]
    name = _TAG_NAME.match(tag)
    if name is None:
        return None
    pieces: list[Piece] = []
    position = 0
    for match in _ATTR.finditer(tag, name.end()):
        group = next((g for g in ("dq", "sq", "bare") if match.group(g) is not None), None)
        if match.group("name").lower() not in _ATTRIBUTES or group is None:
            continue
        value = decode_html(match.group(group))
        if not value.text.strip():
            continue
        pieces.append(raw[position : match.start(group)])
        encoding: Encoding = "attr-bare" if group == "bare" else "attr"
        pieces.append(Run((value,), encoding=encoding, syntax="html"))
        position = match.end(group)
    if not pieces:
        return None
    pieces.append(raw[position:])
    return tuple(pieces)


def html_pieces(source: str) -> list[Piece]:
    """Walk an HTML document or fragment into raw pieces and runs.

    Text nodes and the `title`, `alt`, `placeholder` and `aria-label` attributes are translated;
    `<code>`, `<pre>`, `<script>`, `<style>` and anything marked `translate="no"` or
    `class="notranslate"` are kept verbatim. Inline elements stay inside the run as markup.
    """
    events = _events(source)
    pieces: list[Piece] = []
    run: list[Text | Markup] = []

    def flush() -> None:
        if run:
            pieces.append(Run(tuple(run), encoding="html", syntax="html"))
            run.clear()

    index = 0
    while index < len(events):
        event, raw = events[index]
        if event.kind in ("start", "startend") and _is_skip(event):
            end = _skip_end(events, index)
            whole = "".join(r for _, r in events[index : end + 1])
            if event.tag in _INLINE or event.tag in _INLINE_SKIP:
                kind = "code" if event.tag in _CODE else "markup"
                run.append(Markup(whole, kind=kind))
            else:
                flush()
                pieces.append(whole)
            index = end + 1
            continue
        if event.kind == "data":
            decoded = decode_html(raw)
            if decoded.text == event.data:
                run.append(decoded)
            else:  # the parser skipped something inside (e.g. "</>"): keep it verbatim
                run.append(Markup(raw))
        elif event.kind in ("start", "startend", "end") and event.tag in _INLINE:
            inner = _tag_pieces(raw, event.length) if event.kind != "end" else None
            standalone = event.tag in _STANDALONE and inner is None
            run.append(Markup(raw, inner=inner, standalone=standalone))
        else:
            flush()
            inner = _tag_pieces(raw, event.length) if event.kind != "end" else None
            pieces.extend(inner if inner is not None else (raw,))
        index += 1
    flush()
    return pieces


# --- Markdown -------------------------------------------------------------------------------

_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
_FRONT_MATTER = re.compile(
    r"\A(---|\+\+\+)[ \t]*\r?\n.*?^(?:\1|\.\.\.)[ \t]*(?:\r?\n|\Z)", re.M | re.S
)
_BLANK = re.compile(r"^[ \t]*\r?\n?$")
_THEMATIC = re.compile(r"^ {0,3}([-*_])(?:[ \t]*\1){2,}[ \t]*\r?\n?$")
_SETEXT = re.compile(r"^ {0,3}(?:=+|-+)[ \t]*\r?\n?$")
_HEADING = re.compile(r"^( {0,3}#{1,6})(?:[ \t]+|(?=\r?\n?$))")
_HEADING_CLOSE = re.compile(r"[ \t]+#+[ \t]*$|[ \t]*$")
_QUOTE = re.compile(r"^ {0,3}>[ \t]?")
_LIST = re.compile(r"^[ \t]*(?:[-*+]|\d{1,9}[.)])(?:[ \t]+\[[ xX]\])?(?:[ \t]+|(?=\r?\n?$))")
_INDENTED = re.compile(r"^(?: {4}|\t)")
_REFERENCE = re.compile(r"^ {0,3}\[[^\]\n]+\]:[ \t]*\S")
_BLOCK_TAGS = (
    "address|article|aside|blockquote|body|caption|center|dd|details|dialog|div|dl|dt|fieldset"
    "|figcaption|figure|footer|form|h[1-6]|head|header|hr|html|iframe|legend|li|main|menu|nav"
    "|ol|p|section|summary|table|tbody|td|tfoot|th|thead|title|tr|ul|pre|script|style|textarea"
)
_HTML_BLOCK = re.compile(  # CommonMark HTML blocks: block tags, comments, a lone tag on a line
    rf"^ {{0,3}}(?:</?(?:{_BLOCK_TAGS})(?:[\s/>]|$)|<!--|<!\[CDATA\[|<\?|<![A-Z]"
    r"|</?[A-Za-z][\w-]*(?:\s[^<>]*)?/?>[ \t]*\r?\n?$)",
    re.I,
)
_HTML_RAW_BLOCK = re.compile(r"^ {0,3}<(pre|script|style|textarea)(?:[\s>]|$)", re.I)
_TABLE_RULE = re.compile(r"^ {0,3}\|?[ \t]*:?-+:?[ \t]*(?:\|[ \t]*:?-+:?[ \t]*)*\|?[ \t]*\r?\n?$")
_CELL = re.compile(r"((?:\\.|`[^`\n]*`|[^|\\`\n])+)")


def fenced_blocks(lines: list[str], start: int) -> int | None:
    """If a code fence opens at `lines[start]`, the index after its closing line, else None."""
    opening = _FENCE.match(lines[start])
    if opening is None:
        return None
    fence = opening.group(1)
    if fence[0] == "`" and "`" in lines[start][opening.end() :]:
        return None  # a backtick fence's info string may not contain backticks
    closing = re.compile(rf"^ {{0,3}}{re.escape(fence[0])}{{{len(fence)},}}[ \t]*\r?\n?$")
    for index in range(start + 1, len(lines)):
        if closing.match(lines[index]):
            return index + 1
    return len(lines)


def _line_run(content: str) -> Run:
    return Run((Text(content, content),), syntax="markdown")


def _split_line(line: str) -> tuple[str, str, str]:
    """Split a paragraph-like line into block markers, content, and heading close + ending."""
    body = line.rstrip("\r\n")
    ending = line[len(body) :]
    prefix = ""
    while True:  # blockquote markers, then a list marker or heading marker
        marker = _QUOTE.match(body) or _LIST.match(body) or _HEADING.match(body)
        if marker is None or not marker.group(0):
            break
        prefix += marker.group(0)
        body = body[marker.end() :]
    closing = ""
    if _HEADING.match(line):
        closing_match = _HEADING_CLOSE.search(body)
        if closing_match is not None:
            closing = closing_match.group(0)
            body = body[: closing_match.start()]
    return prefix, body, closing + ending


def _paragraph_line(pieces: list[Piece], line: str, *, continues: bool) -> bool:
    """Append one line; a continuation line joins the previous run. Returns: may be continued."""
    prefix, body, suffix = _split_line(line)
    previous = pieces[-2] if continues and len(pieces) >= 2 else None
    gap = pieces[-1] if previous is not None else None
    if not prefix and body and isinstance(previous, Run) and isinstance(gap, str):
        del pieces[-2:]
        parts = (*previous.parts, Text(gap, gap), Text(body, body))
        pieces.append(Run(parts, syntax="markdown"))
    else:
        pieces.extend(piece for piece in (prefix, _line_run(body) if body else "") if piece)
    pieces.append(suffix)
    return bool(body) and not _HEADING.match(line) and suffix in ("\n", "\r\n", "")


def _table_row(line: str) -> Iterator[Piece]:
    position = 0
    for match in _CELL.finditer(line.rstrip("\r\n")):
        if match.group(1).strip():
            yield line[position : match.start()]
            yield _line_run(match.group(1))
            position = match.end()
    yield line[position:]


def _html_block_end(lines: list[str], start: int) -> int:
    raw_block = _HTML_RAW_BLOCK.match(lines[start])
    if raw_block is not None:
        closing = f"</{raw_block.group(1).lower()}>"
        ends = (i for i in range(start, len(lines)) if closing in lines[i].lower())
    elif lines[start].lstrip().startswith("<!--"):
        ends = (i for i in range(start, len(lines)) if "-->" in lines[i])
    else:
        ends = (i - 1 for i in range(start + 1, len(lines)) if _BLANK.match(lines[i]))
    return next(ends, len(lines) - 1) + 1


def _code_end(lines: list[str], start: int) -> int:
    """Index after an indented code block starting at `start` (blank lines inside included)."""
    end = start + 1
    while end < len(lines) and (_INDENTED.match(lines[end]) or _BLANK.match(lines[end])):
        end += 1
    return end


def _literal_end(lines: list[str], index: int, *, after_blank: bool, in_list: bool) -> int | None:
    """Index after a block kept verbatim starting at `index`, or None for text."""
    line = lines[index]
    end = fenced_blocks(lines, index)
    if end is None and after_blank and not in_list and _INDENTED.match(line):
        end = _code_end(lines, index)
    if end is None and (_BLANK.match(line) or _THEMATIC.match(line) or _REFERENCE.match(line)):
        end = index + 1
    if end is None and not after_blank and _SETEXT.match(line):
        end = index + 1
    return end


def markdown_pieces(source: str) -> list[Piece]:
    """Walk a Markdown document into raw pieces and runs, one run per paragraph or cell.

    Front matter, fenced and indented code, link reference definitions and thematic breaks are
    kept verbatim; HTML blocks are walked as HTML; block markers stay outside the runs.
    """
    pieces: list[Piece] = []
    front = _FRONT_MATTER.match(source)
    if front is not None:
        pieces.append(front.group(0))
        source = source[front.end() :]
    lines = source.splitlines(keepends=True)
    index, after_blank, in_list, continues = 0, True, False, False
    while index < len(lines):
        line = lines[index]
        if _HTML_BLOCK.match(line) and fenced_blocks(lines, index) is None:
            end = _html_block_end(lines, index)
            pieces.extend(html_pieces("".join(lines[index:end])))
            index, after_blank, continues = end, False, False
            continue
        literal_end = _literal_end(lines, index, after_blank=after_blank, in_list=in_list)
        if literal_end is not None:
            end = literal_end
            pieces.append("".join(lines[index:end]))
            after_blank = bool(_BLANK.match(lines[end - 1]))
            if not after_blank and not lines[index][:1].isspace():
                in_list = False
            index, continues = end, False
            continue
        if index + 1 < len(lines) and "|" in line and _TABLE_RULE.match(lines[index + 1]):
            pieces.extend(_table_row(line))
            pieces.append(lines[index + 1])
            index += 2
            while index < len(lines) and "|" in lines[index] and not _BLANK.match(lines[index]):
                pieces.extend(_table_row(lines[index]))
                index += 1
            after_blank, continues = False, False
            continue
        if _LIST.match(line):
            in_list = True
        elif after_blank and not line[:1].isspace():
            in_list = False
        continues = _paragraph_line(pieces, line, continues=continues and not after_blank)
        index, after_blank = index + 1, False
    return pieces


# --- plain text -----------------------------------------------------------------------------


def text_pieces(text: str) -> list[Piece]:
    """Walk plain text: one run, every line its own segment; closed code fences kept verbatim."""
    if "```" not in text and "~~~" not in text:  # no fence: skip the line-by-line walk
        return [Run((Text(text, text),), split_lines=True)] if text else []
    pieces: list[Piece] = []
    lines = text.splitlines(keepends=True)
    buffer: list[str] = []
    index = 0
    while index < len(lines):
        end = fenced_blocks(lines, index)
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
