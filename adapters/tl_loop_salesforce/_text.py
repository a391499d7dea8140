"""Fitting text into Salesforce fields: plain-text comments, the Case Feed's rich text, limits.

A `CaseComment` body is plain text of at most 4,000 characters; a `FeedItem` body is rich text
of at most 10,000 characters in a small tag set (`p b i u s code ul ol li a`: anything else is
refused); chat messages are plain text. Notes longer than their field are cut with a line
saying so, and always keep `OWN_NOTE_MARKER` at the end (it keeps our own notes from looping
back); a customer reply is never cut: it is refused with the reason instead.
"""

from __future__ import annotations

import re
from html import escape

from tl_loop import ContentType, TextTooLongError
from tl_loop.helpdesk import OWN_NOTE_MARKER, html_to_markdown

__all__ = ["COMMENT_LIMIT", "FEED_LIMIT", "as_feed_html", "as_plain", "fit_note", "require_fits"]

SERVICE = "salesforce"
COMMENT_LIMIT = 4000
FEED_LIMIT = 10000

_FEED_TAGS = {"p", "b", "i", "u", "s", "code", "ul", "ol", "li", "a"}
_RENAME = {
    "strong": "b",
    "em": "i",
    "blockquote": "p",
    "h1": "p",
    "h2": "p",
    "h3": "p",
    "h4": "p",
    "div": "p",
    "pre": "code",
    "del": "s",
    "strike": "s",
}
_TAG = re.compile(r"<(/?)([a-zA-Z][a-zA-Z0-9]*)([^>]*)>")
_HREF = re.compile(r"""\bhref\s*=\s*("[^"]*"|'[^']*')""")


def as_plain(text: str, content_type: ContentType) -> str:
    """`text` for a plain-text field: HTML rendered as readable text, the rest as given."""
    return html_to_markdown(text) if content_type == "html" else text


def as_feed_html(text: str, content_type: ContentType) -> str:
    """`text` in the Case Feed's rich-text tag set: close relatives renamed (`strong` → `b`,
    `blockquote` → `p`), line breaks as paragraphs, other tags dropped with their text kept."""
    if content_type != "html":
        paragraphs = [escape(part) for part in text.split("\n") if part.strip()]
        return "".join(f"<p>{part}</p>" for part in paragraphs)

    def replace(match: re.Match[str]) -> str:
        closing, name, attributes = match.group(1), match.group(2).lower(), match.group(3)
        if name in ("br", "hr"):
            return "</p><p>"
        name = _RENAME.get(name, name)
        if name not in _FEED_TAGS:
            return ""
        if name == "a" and not closing:
            href = _HREF.search(attributes)
            return f"<a href={href.group(1)}>" if href else "<a>"
        return f"<{closing}{name}>"

    cleaned = _TAG.sub(replace, text)
    return re.sub(r"<p>\s*</p>", "", cleaned)


def fit_note(text: str, limit: int) -> str:
    """A note cut to `limit` characters, saying so, still ending with `OWN_NOTE_MARKER`."""
    if len(text) <= limit:
        return text
    tail = f"\n… (cut at {limit} characters, the field's limit)\n{OWN_NOTE_MARKER}"
    return text[: limit - len(tail)] + tail


def require_fits(text: str, limit: int, *, what: str) -> str:
    """`text` when it fits; a customer-facing message is never cut.

    Raises:
        TextTooLongError: over `limit`; the agent is told to shorten the reply.
    """
    if len(text) > limit:
        raise TextTooLongError(
            f"the {what} is {len(text)} characters, over Salesforce's {limit}; shorten the reply",
            service=SERVICE,
        )
    return text
