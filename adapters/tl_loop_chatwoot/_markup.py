"""HTML to Markdown, just enough for notes: Chatwoot renders Markdown in messages, not HTML."""

from __future__ import annotations

import re
from html.parser import HTMLParser

__all__ = ["html_to_markdown"]

_BLOCKS = frozenset(
    {"p", "div", "ul", "ol", "h1", "h2", "h3", "h4", "h5", "h6", "tr", "table", "blockquote"}
)
_BOLD = frozenset({"strong", "b"})
_ITALIC = frozenset({"em", "i"})


class _ToMarkdown(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        # Index of each open link's "[" and its href, so a link without href leaves no brackets.
        self._links: list[tuple[int, str | None]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "br":
            self.parts.append("\n")
        elif tag in _BOLD:
            self.parts.append("**")
        elif tag in _ITALIC:
            self.parts.append("_")
        elif tag == "code":
            self.parts.append("`")
        elif tag == "li":
            self.parts.append("\n- ")
        elif tag == "a":
            self._links.append((len(self.parts), dict(attrs).get("href")))
            self.parts.append("[")
        elif tag in _BLOCKS:
            self.parts.append("\n\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in _BOLD:
            self.parts.append("**")
        elif tag in _ITALIC:
            self.parts.append("_")
        elif tag == "code":
            self.parts.append("`")
        elif tag == "a" and self._links:
            index, href = self._links.pop()
            if href:
                self.parts.append(f"]({href})")
            else:
                self.parts[index] = ""
        elif tag in _BLOCKS:
            self.parts.append("\n\n")

    def handle_data(self, data: str) -> None:
        # Whitespace in HTML source is not significant; line breaks come from tags.
        self.parts.append(re.sub(r"[ \t\r\n]+", " ", data))


def html_to_markdown(html: str) -> str:
    """Render an HTML fragment as Markdown: paragraphs, line breaks, lists, bold, links."""
    parser = _ToMarkdown()
    parser.feed(html)
    parser.close()
    text = "".join(parser.parts)
    lines = [line.strip() for line in text.split("\n")]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()
