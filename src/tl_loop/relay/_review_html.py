"""HTML for the reviewer page: flagged spans, highlighting, escaping and the templates.

Every value put into a template is escaped unless it is `Markup` built here from escaped parts,
so customer and agent text always shows as text, never as markup.
"""

from __future__ import annotations

import contextlib
import functools
import html
import re
import string
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from importlib import resources

from tl_loop._models import ReviewFlag

__all__ = ["Markup", "Span", "age", "asset", "escape", "flagged_spans", "highlight", "render"]

_QUOTED = re.compile(r"'(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\"")
_NUMBER = re.compile(r"\d+(?:[.,\s]\d{3})*(?:[.,]\d+)?")
_LISTED_NUMBERS = re.compile(r"(?:missing|unexpected) ([\d, ]+)")
_SEVERITY_RANK = {"error": 2, "warning": 1, "info": 0}


@dataclass(frozen=True, slots=True)
class Span:
    """A flagged stretch of text: `text[start:end]`, and the flag that names it."""

    start: int
    end: int
    flag: ReviewFlag


def _quoted_strings(detail: str) -> list[str]:
    # Flag details quote the text they are about with Python's repr (see tl_loop._policy).
    found = []
    for match in _QUOTED.findall(detail):
        inner = match[1:-1]
        with contextlib.suppress(UnicodeDecodeError):  # a malformed escape: keep it raw
            inner = inner.encode("latin-1", "backslashreplace").decode("unicode_escape")
        if inner.strip():
            found.append(inner)
    return found


def _needles(flag: ReviewFlag) -> tuple[list[str], set[str]]:
    """The strings a flag's detail names, and (number flags) the digit strings it names."""
    if flag.code == "number_mismatch":
        digits = {n.strip() for m in _LISTED_NUMBERS.findall(flag.detail) for n in m.split(",")}
        return [], {d for d in digits if d}
    if flag.code == "unknown_words":
        _, _, listed = flag.detail.partition(":")
        words = [w.strip() for w in listed.split(",") if w.strip()]
        # Apertium marks unknown words with *, @ or #; the draft may show them with or without.
        return words + [w.lstrip("*@#") for w in words if w[:1] in "*@#"], set()
    return _quoted_strings(flag.detail), set()


def _literal_pattern(needle: str) -> re.Pattern[str]:
    # Whole words only: a flagged "ola" must not light up inside "hola".
    before = r"(?<!\w)" if re.match(r"\w", needle) else ""
    after = r"(?!\w)" if re.search(r"\w$", needle) else ""
    return re.compile(before + re.escape(needle) + after, re.IGNORECASE)


def flagged_spans(text: str, flags: Sequence[ReviewFlag]) -> list[Span]:
    """Where in `text` the flags point: the strings their details name, found in the text.

    Details quote tokens, glossary terms and segments (`'...'`), list unknown words after a
    colon, and list numbers with their separators removed; each is looked up in `text`
    (case-insensitive, whole words; numbers compared without separators). Flags that name no
    text (length, language) give no span. Overlaps keep the more severe flag, then the longer
    span.

    Returns:
        non-overlapping spans, in text order.
    """
    candidates: list[Span] = []
    for flag in flags:
        literals, digits = _needles(flag)
        for needle in dict.fromkeys(literals):
            candidates += [
                Span(m.start(), m.end(), flag) for m in _literal_pattern(needle).finditer(text)
            ]
        if digits:
            candidates += [
                Span(m.start(), m.end(), flag)
                for m in _NUMBER.finditer(text)
                if re.sub(r"[.,\s]", "", m.group()) in digits
            ]
    candidates.sort(
        key=lambda s: (-_SEVERITY_RANK.get(str(s.flag.severity), 0), -(s.end - s.start), s.start)
    )
    chosen: list[Span] = []
    for span in candidates:
        if all(span.end <= other.start or span.start >= other.end for other in chosen):
            chosen.append(span)
    return sorted(chosen, key=lambda s: s.start)


class Markup(str):
    """HTML that is already safe (escaped or built from escaped parts)."""

    __slots__ = ()


def escape(value: object) -> Markup:
    if isinstance(value, Markup):
        return value
    return Markup(html.escape("" if value is None else str(value), quote=True))


def highlight(text: str, flags: Sequence[ReviewFlag]) -> Markup:
    """`text` escaped for HTML, each flagged span wrapped in `<mark>` naming its flag."""
    parts: list[str] = []
    position = 0
    for span in flagged_spans(text, flags):
        parts.append(escape(text[position : span.start]))
        title = escape(f"{span.flag.code}: {span.flag.detail}")
        parts.append(
            f'<mark class="flag severity-{escape(span.flag.severity)}" title="{title}" '
            f'data-flag="{escape(span.flag.code)}">{escape(text[span.start : span.end])}</mark>'
        )
        position = span.end
    parts.append(escape(text[position:]))
    return Markup("".join(parts))


# -- templates -------------------------------------------------------------------------------


@functools.cache
def _template(name: str) -> string.Template:
    source = resources.files("tl_loop.relay").joinpath("review_assets", name)
    return string.Template(source.read_text(encoding="utf-8"))


@functools.cache
def asset(name: str) -> bytes:
    """A static file of `review_assets/`."""
    return resources.files("tl_loop.relay").joinpath("review_assets", name).read_bytes()


def render(name: str, **values: object) -> Markup:
    """Fill a template; every value is escaped unless it is `Markup`."""
    return Markup(_template(name).substitute({k: escape(v) for k, v in values.items()}))


def age(created: datetime, now: datetime) -> str:
    """How long ago `created` was, roughly: `42 s`, `5 min`, `3 h`, `2 d`."""
    seconds = max(0, int((now - created).total_seconds()))
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if seconds >= size:
            return f"{seconds // size} {unit}"
    return f"{seconds} s"
