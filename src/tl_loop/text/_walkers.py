"""Walk plain text and HTML into pieces: raw text kept verbatim and runs to translate.

A walker never changes the source: joining every piece's raw text gives back the input exactly.
`text._protect` turns each `Run` into segments with tokens; everything else is emitted as is.
Inline markup inside a run (`<b>`, `<a href>`, a Markdown link's `](url)`) becomes a `Markup`
part so one sentence stays one segment. `tl_loop.text._markdown` walks Markdown into the same
pieces.
"""

from __future__ import annotations

import html
import re
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


# --- code fences ---------------------------------------------------------------------------

# Any indentation: a fence inside a list item or an admonition is indented past the three
# spaces CommonMark allows at the top level, and it is code wherever it sits.
_FENCE = re.compile(r"^[ \t]*(`{3,}|~{3,})")


def fenced_blocks(lines: list[str], start: int) -> int | None:
    """If a code fence opens at `lines[start]`, the index after its closing line, else None."""
    opening = _FENCE.match(lines[start])
    if opening is None:
        return None
    fence = opening.group(1)
    if fence[0] == "`" and "`" in lines[start][opening.end() :]:
        return None  # a backtick fence's info string may not contain backticks
    # The closing fence sits at most three columns deeper than the opening one: a deeper
    # fence line is content (an example of a fence inside a fence).
    indent = len(opening.group(0)) - len(fence)
    closing = re.compile(
        rf"^[ \t]{{0,{indent + 3}}}{re.escape(fence[0])}{{{len(fence)},}}[ \t]*\r?\n?$"
    )
    for index in range(start + 1, len(lines)):
        if closing.match(lines[index]):
            return index + 1
    return len(lines)


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
