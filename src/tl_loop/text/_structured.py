"""Placeholders with prose inside: ICU MessageFormat choices and helpdesk fallbacks.

Most placeholders are opaque: `{{ticket.id}}` goes back exactly as written. Two kinds hold text a
customer reads and that must be translated, while everything around it stays byte-exact:

- ICU MessageFormat `plural`, `select` and `selectordinal`: in
  `{count, plural, one {# message} other {# messages}}` the argument, the type and the keywords
  are code; the message of each case is a sentence (with `#`, the number, inside it).
- Fallbacks and defaults of helpdesk placeholders, shown when the value is empty:
  `{{first_name | fallback: "there"}}` (Intercom), `{%customer.firstName,fallback=there%}` (Help
  Scout), `{{ contact.first_name || 'there' }}` (Chatwoot), `{{ name | default: "there" }}`
  (Liquid, as in Zendesk).

`holes` names the stretches of such a placeholder that are prose; `icu_end` finds where an ICU
argument closes (braces nest, so a regex cannot). Protection translates each hole as its own
segment, and the fidelity check treats the text between holes as code.
"""

from __future__ import annotations

import re

__all__ = ["Hole", "holes", "icu_end"]

Hole = tuple[int, int]
"""Start and end of a stretch of prose inside a placeholder, relative to the placeholder."""

_ICU_HEAD = re.compile(r"\{\s*[A-Za-z_][\w.]*\s*,\s*(?:plural|selectordinal|select)\s*,\s*")
_OFFSET = re.compile(r"offset\s*:\s*\d+\s*")
_KEY = re.compile(r"(?:=-?\d+(?:\.\d+)?|[\w-]+)\s*")
_FALLBACK = re.compile(
    r"""(?:\|\s*(?:fallback|default)\s*:\s*|\|\|\s*)(?P<q>["'])(?P<text>[^"'\n]*)(?P=q)"""
    r"""|,\s*fallback\s*=\s*(?P<bare>[^%}\n]*?)\s*%\}$"""
)
_LETTER = re.compile(r"[^\W\d_]")
_MAX_DEPTH = 8


def _close(text: str, start: int) -> int | None:
    """The index just past the `}` closing the `{` at `start`, skipping nested braces."""
    depth = 0
    for index in range(start, len(text)):
        char = text[index]
        if char == "{":
            depth += 1
        elif char == "}":
            depth -= 1
            if depth == 0:
                return index + 1
    return None


def _icu(text: str, start: int, depth: int = 0) -> tuple[int, list[Hole]] | None:
    """Parse the ICU choice argument at `start`: its end and its messages' spans, or None."""
    head = _ICU_HEAD.match(text, start)
    if head is None or depth > _MAX_DEPTH:
        return None
    position = head.end()
    if offset := _OFFSET.match(text, position):
        position = offset.end()
    messages: list[Hole] = []
    while position < len(text):
        if text[position] == "}":
            return (position + 1, messages) if messages else None
        key = _KEY.match(text, position)
        if key is None or key.end() >= len(text) or text[key.end()] != "{":
            return None
        end = _close(text, key.end())
        if end is None:
            return None
        messages.append((key.end() + 1, end - 1))
        position = end
        while position < len(text) and text[position].isspace():
            position += 1
    return None


def icu_end(text: str, start: int) -> int | None:
    """Where the ICU `plural`/`select`/`selectordinal` argument opening at `start` ends."""
    parsed = _icu(text, start)
    return None if parsed is None else parsed[0]


def holes(placeholder: str) -> tuple[Hole, ...]:
    """The stretches of prose in a placeholder, in order; () when it is all code.

    For an ICU choice, each case's message (which may hold nested arguments of its own); for a
    helpdesk placeholder, the fallback or default text. A stretch without a letter is not prose.
    """
    if not placeholder.startswith("{") or ("," not in placeholder and "|" not in placeholder):
        return ()  # an ICU choice and every fallback hold a comma or a bar: most placeholders
    parsed = _icu(placeholder, 0)
    if parsed is not None and parsed[0] == len(placeholder):
        return tuple((a, b) for a, b in parsed[1] if _LETTER.search(placeholder, a, b))
    if not placeholder.startswith(("{{", "{%")):
        return ()
    found: list[Hole] = []
    for match in _FALLBACK.finditer(placeholder):
        group = "text" if match.group("text") is not None else "bare"
        start, end = match.span(group)
        if _LETTER.search(placeholder, start, end):
            found.append((start, end))
    return tuple(found)
