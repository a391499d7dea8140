"""Walk a Markdown document into raw pieces and runs, as help centers write Markdown.

Beyond CommonMark blocks this reads what documentation sites add: YAML front matter, Liquid
block tags, kramdown and attr_list attribute lists, footnotes, Docusaurus admonitions
(`:::tip Title` … `:::`), and MkDocs/Material admonitions (`!!! note "Title"`, `??? tip`) and
content tabs (`=== "Tab"`), whose indented bodies are Markdown of their own (walked again, then
indented back). Markers, keywords and labels are
kept; titles and bodies are translated. Inline markup is split by `_markdown_inline`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence

from tl_loop.text._markdown_inline import ATTRIBUTE_LIST, inline_parts, normalize_label
from tl_loop.text._walkers import (
    Markup,
    Piece,
    Run,
    Text,
    decode_html,
    fenced_blocks,
    html_pieces,
)

__all__ = ["markdown_pieces"]

_FRONT_MATTER = re.compile(
    r"\A\ufeff?(---|\+\+\+)[ \t]*\r?\n.*?^(?:\1|\.\.\.)[ \t]*(?:\r?\n|\Z)", re.M | re.S
)
_BLANK = re.compile(r"^[ \t]*\r?\n?$")
_THEMATIC = re.compile(r"^ {0,3}([-*_])(?:[ \t]*\1){2,}[ \t]*\r?\n?$")
_SETEXT = re.compile(r"^ {0,3}(?:=+|-+)[ \t]*\r?\n?$")
_HEADING = re.compile(r"^( {0,3}#{1,6})(?:[ \t]+|(?=\r?\n?$))")
_HEADING_CLOSE = re.compile(r"[ \t]+#+[ \t]*$|[ \t]*$")
_QUOTE = re.compile(r"^ {0,3}>[ \t]?")
_LIST = re.compile(r"^[ \t]*(?:[-*+]|\d{1,9}[.)])(?:[ \t]+\[[ xX]\])?(?:[ \t]+|(?=\r?\n?$))")
_FOOTNOTE = re.compile(r"^ {0,3}\[\^[^\]\s]+\]:[ \t]*")
_DEFINITION = re.compile(r"^:[ \t]+")  # a definition list's `: definition`
_INDENTED = re.compile(r"^(?: {4}|\t)")
_REFERENCE = re.compile(r"^ {0,3}\[(?!\^)[^\]\n]+\]:[ \t]*\S")
_LABELS = re.compile(r"^[ \t>]*\[(?!\^)((?:[^\]\\\n]|\\.)+)\]:", re.M)
_ATTRIBUTE_LINE = re.compile(rf"^[ \t]*{ATTRIBUTE_LIST}[ \t]*\r?\n?$")
_TRAILING_ATTRIBUTES = re.compile(rf"[ \t]*{ATTRIBUTE_LIST}[ \t]*$")
_MDX_STATEMENT = re.compile(  # Docusaurus/MDX: `import Tabs from '@theme/Tabs';`
    r"""^(?:import\s.+\sfrom\s+['"][^'"]+['"]|import\s+['"][^'"]+['"]"""
    r"""|export\s+(?:const|default|function)\b.*);?[ \t]*\r?\n?$"""
)
_LIQUID_BLOCK = re.compile(r"^[ \t]*\{%-?[ \t]*(highlight|raw|comment)\b[^%]*-?%\}[ \t]*\r?\n?$")
_CONTAINER = re.compile(  # admonition (`!!! type "Title"`) or content tab (`=== "Title"`)
    r"^(?P<indent>[ \t]*)(?:(?:!!!|\?\?\?\+?)[ \t]+[\w-]+(?:[ \t]+[\w-]+)*|===\+?(?=[ \t]+\"))"
    r"(?:[ \t]+\"(?P<title>[^\"\n]*)\"[^\n]*)?[ \t]*\r?\n?$"
)
_COLONS = re.compile(  # Docusaurus / markdown-it-container: `:::tip Title`, `:::note[Title]`, `:::`
    r"^(?P<marker>[ \t]*:{3,}[ \t]*[\w-]*)(?:\[(?P<bracketed>[^\]\n]*)\]|[ \t]+(?P<title>[^\n]*?))?"
    r"[ \t]*\r?\n?$"
)
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


def _line_run(content: str) -> Run:
    return Run((Text(content, content),), syntax="markdown")


def _split_line(line: str) -> tuple[str, str, str]:
    """Split a paragraph-like line into block markers, content, and what closes it."""
    body = line.rstrip("\r\n")
    ending = line[len(body) :]
    prefix = ""
    while True:  # blockquote markers, then list, footnote, definition or heading markers
        marker = (
            _QUOTE.match(body)
            or _LIST.match(body)
            or _FOOTNOTE.match(body)
            or _DEFINITION.match(body)
            or _HEADING.match(body)
        )
        if marker is None or not marker.group(0):
            break
        prefix += marker.group(0)
        body = body[marker.end() :]
    closing = ""
    attributes = _TRAILING_ATTRIBUTES.search(body)
    if attributes is not None and attributes.start() > 0:  # `## Title {#id}`: kept as is
        closing = attributes.group(0)
        body = body[: attributes.start()]
    if _HEADING.match(line):
        closing_match = _HEADING_CLOSE.search(body)
        if closing_match is not None:
            closing = closing_match.group(0) + closing
            body = body[: closing_match.start()]
    return prefix, body, closing + ending


def _paragraph_line(pieces: list[Piece], line: str, *, continues: bool) -> bool:
    """Append one line; a continuation line joins the previous run. Returns: may be continued."""
    prefix, body, suffix = _split_line(line)
    previous = pieces[-2] if continues and len(pieces) >= 2 else None
    gap = pieces[-1] if previous is not None else None
    if not prefix and body and isinstance(previous, Run) and isinstance(gap, str):
        # one text for the paragraph, so markup that spans a line break is seen whole
        del pieces[-2:]
        joined = "".join(part.raw for part in previous.parts) + gap + body
        pieces.append(_line_run(joined))
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


def _liquid_end(lines: list[str], start: int) -> int | None:
    """`{% highlight %}`, `{% raw %}` or `{% comment %}` alone on a line: through its end tag."""
    opening = _LIQUID_BLOCK.match(lines[start])
    if opening is None:
        return None
    closing = re.compile(rf"\{{%-?[ \t]*end{opening.group(1)}[ \t]*-?%\}}")
    return next((i + 1 for i in range(start + 1, len(lines)) if closing.search(lines[i])), None)


def _literal_end(lines: list[str], index: int, *, after_blank: bool, in_list: bool) -> int | None:
    """Index after a block kept verbatim starting at `index`, or None for text."""
    line = lines[index]
    end = fenced_blocks(lines, index) or _liquid_end(lines, index)
    if end is None and after_blank and not in_list and _INDENTED.match(line):
        end = _code_end(lines, index)
    if end is None and (
        _BLANK.match(line)
        or _THEMATIC.match(line)
        or _REFERENCE.match(line)
        or _ATTRIBUTE_LINE.match(line)
        or _MDX_STATEMENT.match(line)
    ):
        end = index + 1
    if end is None and not after_blank and _SETEXT.match(line):
        end = index + 1
    return end


def _indent_width(prefix: str) -> int:
    return sum(4 - column % 4 if char == "\t" else 1 for column, char in enumerate(prefix))


def _container_body(lines: list[str], start: int, indent: int) -> int:
    """Index after the indented body of a container whose marker is at `lines[start - 1]`."""
    end = last = start
    while end < len(lines):
        line = lines[end]
        if _BLANK.match(line):
            end += 1
            continue
        if _indent_width(line[: len(line) - len(line.lstrip(" \t"))]) < indent + 4:
            break
        end = last = end + 1
    return last


def _dedent(lines: Sequence[str], width: int) -> tuple[list[str], list[str]]:
    """Remove up to `width` columns of leading whitespace; return the lines and what went."""
    bodies, removed = [], []
    for line in lines:
        cut = 0
        while cut < len(line) and line[cut] in " \t" and _indent_width(line[: cut + 1]) <= width:
            cut += 1
        bodies.append(line[cut:])
        removed.append(line[:cut])
    return bodies, removed


class _Indenter:
    """Put back, at the start of each line, the indentation `_dedent` removed."""

    def __init__(self, removed: Sequence[str]) -> None:
        self.removed, self.line, self.at_start = removed, 0, True

    def raw(self, raw: str) -> str:
        out: list[str] = []
        for chunk in raw.splitlines(keepends=True):
            if self.at_start and self.line < len(self.removed):
                out.append(self.removed[self.line])
            out.append(chunk)
            self.at_start = chunk.endswith(("\n", "\r"))
            self.line += self.at_start
        return "".join(out)

    def piece(self, piece: Piece) -> Piece:
        if isinstance(piece, str):
            return self.raw(piece)
        return Run(tuple(self.part(p) for p in piece.parts), piece.encoding, piece.syntax)

    def part(self, part: Text | Markup) -> Text | Markup:
        if isinstance(part, Text):
            raw = self.raw(part.raw)
            return Text(raw, raw) if part.cuts is None else decode_html(raw)
        if part.inner is None:
            return Markup(self.raw(part.raw), part.kind, None, part.standalone)
        inner = tuple(self.piece(p) for p in part.inner)
        raw = "".join(p if isinstance(p, str) else "".join(x.raw for x in p.parts) for p in inner)
        return Markup(raw, part.kind, inner, part.standalone)


def _container(lines: list[str], index: int, labels: frozenset[str]) -> tuple[list[Piece], int]:
    """An admonition or content tab at `lines[index]`: marker, title and body, and its end."""
    marker = _CONTAINER.match(lines[index])
    assert marker is not None
    pieces: list[Piece] = []
    title = marker.group("title")
    if title is not None and title.strip():
        pieces += [lines[index][: marker.start("title")], _line_run(title)]
        pieces.append(lines[index][marker.end("title") :])
    else:
        pieces.append(lines[index])
    indent = _indent_width(marker.group("indent"))
    end = _container_body(lines, index + 1, indent)
    body, removed = _dedent(lines[index + 1 : end], indent + 4)
    indenter = _Indenter(removed)
    pieces += [indenter.piece(piece) for piece in _blocks(body, labels)]
    return pieces, end


def _blocks(lines: list[str], labels: frozenset[str]) -> list[Piece]:
    """Walk block by block: verbatim blocks, HTML blocks, containers, tables, paragraphs."""
    pieces: list[Piece] = []
    index, after_blank, in_list, continues = 0, True, False, False
    while index < len(lines):
        line = lines[index]
        if _CONTAINER.match(line):
            found, index = _container(lines, index, labels)
            pieces += found
            after_blank, continues = True, False
            continue
        colons = _COLONS.match(line)
        if colons is not None:  # marker and type keyword kept, a title translated
            group = "bracketed" if colons.group("bracketed") is not None else "title"
            title = colons.group(group)
            if title and title.strip():
                pieces += [line[: colons.start(group)], _line_run(title)]
                pieces.append(line[colons.end(group) :])
            else:
                pieces.append(line)
            index, after_blank, continues = index + 1, True, False
            continue
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


def _with_inline(piece: Piece, labels: frozenset[str]) -> Piece:
    if isinstance(piece, str) or piece.syntax != "markdown":
        return piece
    text = "".join(part.raw for part in piece.parts)
    return Run(tuple(inline_parts(text, labels)), syntax="markdown")


def markdown_pieces(source: str) -> list[Piece]:
    """Walk a Markdown document into raw pieces and runs, one run per paragraph or cell.

    Front matter, fenced and indented code, Liquid `highlight`/`raw`/`comment` blocks, link
    reference definitions, attribute lists and thematic breaks are kept verbatim; HTML blocks
    are walked as HTML; block markers, admonition and tab markers stay outside the runs.
    """
    pieces: list[Piece] = []
    front = _FRONT_MATTER.match(source)
    if front is not None:
        pieces.append(front.group(0))
        source = source[front.end() :]
    labels = frozenset(normalize_label(label) for label in _LABELS.findall(source))
    blocks = _blocks(source.splitlines(keepends=True), labels)
    pieces += [_with_inline(piece, labels) for piece in blocks]
    return pieces
