"""What each `⟦n⟧` token of a segment stands for, as a translator's tool should show it.

A token is an inline code: markup (`**`, `<a href>`, `](url)`), code, a placeholder, a URL…
`describe` names it for a CAT tool (`disp`: "bold", "link", "code") and gives the text it
reads as (`equiv`: the code itself, a placeholder, "" for pure formatting). `pair_up` finds
which tokens open and close a span (`**`…`**`, `<b>`…`</b>`, `[`…`](url)`), so XLIFF can
write them as paired codes (`<pc>`, `<sc>`/`<ec>`, `<bpt>`/`<ept>`).
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from dataclasses import dataclass

__all__ = ["InlineCode", "describe", "pair_up"]


@dataclass(frozen=True, slots=True)
class InlineCode:
    """One token of a segment: its kind (`markup`, `code`, `url`, …) and its source text."""

    kind: str
    original: str


@dataclass(frozen=True, slots=True)
class Description:
    """How a tool shows a code (`disp`), what text it reads as (`equiv`), its XLIFF type."""

    disp: str
    equiv: str
    type: str  # XLIFF 2 `type`: fmt, link, image, ui, other


_EMPHASIS = {"*": "italic", "_": "italic", "**": "bold", "__": "bold", "~~": "strikethrough"}
_EMPHASIS |= {"***": "bold italic", "___": "bold italic"}
_TAGS = {"b": "bold", "strong": "bold", "i": "italic", "em": "italic", "u": "underline"}
_TAGS |= {"s": "strikethrough", "del": "strikethrough", "a": "link", "img": "image"}
_TAGS |= {"br": "line break", "code": "code", "kbd": "key", "sup": "superscript"}
_TAGS |= {"sub": "subscript", "span": "span", "mark": "highlight", "small": "small"}
_TAG = re.compile(r"<(/?)([A-Za-z][\w-]*)")
_HREF = re.compile(r"""\bhref\s*=\s*["']?([^"'\s>]+)""")
_LINK_END = re.compile(r"\]\(\s*<?([^\s)>]*)|\]\[([^\]]*)\]")


def _markup(original: str) -> Description:
    if original in _EMPHASIS:
        return Description(_EMPHASIS[original], "", "fmt")
    if original in ("[", "!["):
        name = "image" if original == "![" else "link"
        return Description(name, "", name)
    link_end = _LINK_END.match(original)
    if link_end is not None:
        return Description(f"/link {link_end.group(1) or link_end.group(2)}", "", "link")
    if original.startswith("&"):
        return Description(original, html.unescape(original), "other")
    if original.startswith("[^"):
        return Description(f"footnote {original[2:-1]}", "", "link")
    if original.startswith("{"):
        return Description(original, "", "other")
    tag = _TAG.match(original)
    if tag is not None:
        closing, name = tag.group(1), tag.group(2).lower()
        label = _TAGS.get(name, name)
        href = _HREF.search(original)
        if href is not None and not closing:
            label += f" {href.group(1)}"
        kind = "link" if name == "a" else "image" if name == "img" else "fmt"
        return Description(closing + label, "\n" if name == "br" else "", kind)
    return Description(original, "", "other")


def describe(code: InlineCode) -> Description:
    """How a translator's tool should show `code`."""
    if code.kind == "markup":
        return _markup(code.original)
    if code.kind == "code":
        inner = re.sub(r"^`+\s?|\s?`+$", "", code.original)
        return Description("code", inner if code.original.startswith("`") else "", "fmt")
    if code.kind == "pii":
        return Description("personal data", "", "other")
    return Description(code.original, code.original, "other")


def _opens(code: InlineCode) -> bool:
    if code.kind != "markup":
        return False
    original = code.original
    if original in ("[", "![") or original in _EMPHASIS:
        return True
    tag = _TAG.match(original)
    return (
        tag is not None
        and not tag.group(1)
        and not original.endswith("/>")
        and tag.group(2).lower() not in ("br", "img", "hr", "wbr", "input")
    )


def _closes(opener: InlineCode, closer: InlineCode) -> bool:
    if closer.kind != "markup":
        return False
    if opener.original in _EMPHASIS:
        return closer.original == opener.original
    if opener.original in ("[", "!["):
        return _LINK_END.match(closer.original) is not None
    start, end = _TAG.match(opener.original), _TAG.match(closer.original)
    return (
        start is not None
        and end is not None
        and end.group(1) == "/"
        and end.group(2).lower() == start.group(2).lower()
    )


def pair_up(order: Sequence[int], codes: Sequence[InlineCode]) -> dict[int, tuple[int, bool]]:
    """Pair the tokens of one text: opener number → (closer number, nested).

    Args:
        order: the token numbers as they appear in the text (each at most once to be paired).
        codes: what each token number stands for.

    Returns:
        For each opener whose closer follows it, the closer and whether the pair nests with
        the pairs around it (`<pc>`), or crosses one (`<sc>`/`<ec>`).
    """
    counts = {number: order.count(number) for number in order}
    stack: list[int] = []
    pairs: dict[int, tuple[int, bool]] = {}
    for number in order:
        if number >= len(codes) or counts[number] != 1:
            continue
        code = codes[number]
        match = next(
            (
                depth
                for depth in range(len(stack) - 1, -1, -1)
                if _closes(codes[stack[depth]], code)
            ),
            None,
        )
        if match is not None and not (code.original in _EMPHASIS and match != len(stack) - 1):
            pairs[stack[match]] = (number, match == len(stack) - 1)
            del stack[match]
        elif _opens(code):
            stack.append(number)
    return pairs
