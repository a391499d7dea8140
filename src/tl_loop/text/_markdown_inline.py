"""Split the text of one Markdown paragraph into prose and inline markup kept as tokens.

What this module marks, the span rules never see, so each construct is read once and whole:
code spans and inline `<code>`/`<kbd>` elements, links and images (a reference label is never
translated; a link title is), footnote references, GitHub alert markers (`[!NOTE]`),
character references such as `&nbsp;`, and attribute lists (`{: .class}`, `{#id}`,
`{ .md-button }`). Emphasis, raw HTML tags, autolinks, Liquid and template placeholders are
left to `tl_loop.text._spans`.
"""

from __future__ import annotations

import re
from collections.abc import Collection

from tl_loop.text._walkers import Markup, Piece, Run, Text

__all__ = ["ATTRIBUTE_LIST", "inline_parts", "normalize_label"]

ATTRIBUTE_LIST = r"\{(?::[^{}\n]*|[ \t]*(?:[#.][\w-]|[\w-]+=)[^{}\n]*)\}"
"""A kramdown or attr_list attribute list: `{: #id .class}`, `{#id}`, `{ .md-button }`."""

_SPECIAL = re.compile(
    r"(?P<code>(?<!`)(?P<ticks>`+)(?!`).+?(?<!`)(?P=ticks)(?!`))"
    r"|(?P<element><(?P<tag>code|kbd|samp|var|tt)\b[^<>]*>.*?</(?P=tag)\s*>)"
    r"|(?P<footnote>\[\^[^\]\s]+\](?!:))"
    r"|(?P<entity>&(?:#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6}|[A-Za-z][A-Za-z0-9]{1,31});)"
    rf"|(?P<attributes>{ATTRIBUTE_LIST})"
    r"|(?P<tag_or_autolink><[^<>]*>)"  # left whole to the span rules: no link inside
    r"|(?P<escape>\\.)"
    r"|(?P<alert>\[![A-Za-z]+\])"  # GitHub alerts: > [!NOTE]
    r"|(?P<open>!?\[)",
    re.S | re.I,
)
_DESTINATION = re.compile(
    r"\(\s*(?:<[^<>\n]*>|(?:[^()\s]|\((?:[^()\s])*\))*)"
    r"(?:\s+(?P<quote>\"(?P<dq>[^\"]*)\"|'(?P<sq>[^']*)'|\((?P<pq>[^()]*)\)))?\s*\)"
)
_LABEL = re.compile(r"\[((?:[^\[\]\\]|\\.){0,999})\]")
_FILE_NAME = re.compile(r"[\w.-]+\.[A-Za-z0-9]{2,5}")


def normalize_label(label: str) -> str:
    """A reference label as Markdown matches it: case-folded, inner whitespace collapsed."""
    return " ".join(label.split()).casefold()


def _closing_bracket(text: str, start: int) -> int | None:
    """Index of the `]` matching the `[` just before `start`, skipping code and escapes."""
    depth, position = 1, start
    while position < len(text):
        char = text[position]
        if char == "\\":
            position += 2
            continue
        if char == "`":
            ticks = re.match(r"`+", text[position:])
            assert ticks is not None
            close = text.find(ticks.group(0), position + len(ticks.group(0)))
            position = position + len(ticks.group(0)) if close < 0 else close + len(ticks.group(0))
            continue
        if char == "[":
            depth += 1
        elif char == "]":
            depth -= 1
            if depth == 0:
                return position
        position += 1
    return None


def _title_markup(raw: str, base: int, match: re.Match[str]) -> Markup:
    """`](url "Title")` found at `base`: the title is translated, the rest kept."""
    group = next((g for g in ("dq", "sq", "pq") if match.group(g) is not None), None)
    if group is None or not any(char.isalpha() for char in match.group(group)):
        return Markup(raw)
    start, end = match.start(group) - base, match.end(group) - base
    title = raw[start:end]
    inner: tuple[Piece, ...] = (raw[:start], Run((Text(title, title),)), raw[end:])
    return Markup(raw, inner=inner)


def inline_parts(text: str, labels: Collection[str]) -> list[Text | Markup]:
    """Split `text` into prose and markup; `labels` are the document's reference labels."""
    parts: list[Text | Markup] = []
    position = 0  # start of the text not yet emitted

    def emit(start: int, markup: Markup | None = None, end: int = 0) -> None:
        nonlocal position
        if start > position:
            parts.append(Text(text[position:start], text[position:start]))
        if markup is not None:
            parts.append(markup)
            position = end

    scan = 0
    while (found := _SPECIAL.search(text, scan)) is not None:
        kind = found.lastgroup
        if kind in ("code", "element"):
            emit(found.start(), Markup(found.group(0), kind="code"), found.end())
        elif kind in ("footnote", "entity", "attributes", "alert"):
            emit(found.start(), Markup(found.group(0)), found.end())
        elif kind == "open":
            link = _link(text, found.start(), found.end(), labels)
            if link is not None:
                pieces, end = link
                emit(found.start())
                parts.extend(pieces)
                position = scan = end
                continue
        scan = max(found.end(), scan + 1)
    emit(len(text))
    return parts


def _link(
    text: str, start: int, after_open: int, labels: Collection[str]
) -> tuple[list[Text | Markup], int] | None:
    """A link or image opening at `start`: its parts and end, or None when it is not one."""
    close = _closing_bracket(text, after_open)
    if close is None:
        return None
    content = text[after_open:close]
    image = text[start] == "!"
    rest = close + 1
    destination = _DESTINATION.match(text, rest)
    reference = _LABEL.match(text, rest) if destination is None else None
    if destination is not None:
        end = destination.end()
    elif reference is not None and reference.group(1).strip():
        if normalize_label(reference.group(1)) not in labels:
            return None
        end = reference.end()
    else:  # collapsed `[label][]` or shortcut `[label]`: the text is the label, kept whole
        if normalize_label(content) not in labels:
            return None
        end = reference.end() if reference is not None else rest
        return [Markup(text[start:end])], end
    if image and _FILE_NAME.fullmatch(content.strip()):
        return [Markup(text[start:end])], end  # alt text that is a file name
    tail = text[close:end]
    closing = _title_markup(tail, close, destination) if destination is not None else Markup(tail)
    return [Markup(text[start:after_open]), *inline_parts(content, labels), closing], end
