"""Sentinel tokens in the do-not-translate markup of HTML- and XML-mode engines.

A segment reaches an engine with its protected spans replaced by `⟦n⟧` tokens. Services that
translate markup leave an element alone when asked to: Google, Azure, Amazon and LibreTranslate
honour `<span translate="no">`, DeepL skips the tags named in `ignore_tags`. So an engine in
markup mode sends the segment HTML-escaped with each token wrapped in such an element, and on the
way back unwraps the elements and unescapes the rest. Plain-text segments are sent as they are:
only batches that hold a token need markup at all (`has_tokens`).

Everything here is a pure function of its input. Engines with a real variation keep a thin
wrapper of their own: DeepL wraps tokens in an ignored XML tag, and LibreTranslate also encodes
line breaks and gets its answer back already unescaped.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Iterable, Sequence

__all__ = [
    "TOKEN_PATTERN",
    "escape_text",
    "escape_with_tokens",
    "has_tokens",
    "html_to_segment",
    "no_translate",
    "render_batch",
    "segment_to_html",
    "unwrap_token_spans",
]

TOKEN_PATTERN = re.compile(r"⟦\d+⟧")
"""A protected span inside a segment: `⟦0⟧`, `⟦1⟧`, ... Engines must return each one unchanged."""

# `<span ... translate="no" ...>`: services add attributes (Google adds `style` for right-to-left
# targets), and any quoting of the value is valid HTML. Whitespace just inside the element is
# the service's, not the customer's, so it goes with the element.
_SPAN_OPEN = r"""<span\b[^>]*?\btranslate\s*=\s*(?:"no"|'no'|no(?=[\s/>]))[^>]*>\s*"""
_SPAN_CLOSE = r"\s*</span\s*>"
_ANY_SPAN = re.compile(rf"{_SPAN_OPEN}(.*?){_SPAN_CLOSE}", re.S)
_TOKEN_SPAN = re.compile(rf"{_SPAN_OPEN}({TOKEN_PATTERN.pattern}){_SPAN_CLOSE}")


def has_tokens(segments: Iterable[str]) -> bool:
    """Whether any segment holds a `⟦n⟧` token, so the batch must go in markup mode.

    Args:
        segments: the segments of one request.
    """
    return any(TOKEN_PATTERN.search(segment) for segment in segments)


def no_translate(markup: str) -> str:
    """Wrap already-escaped `markup` in `<span translate="no">`, which the services leave alone.

    Args:
        markup: HTML that is safe to insert as is (a token, or escaped text).
    """
    return f'<span translate="no">{markup}</span>'


def escape_text(text: str) -> str:
    """HTML-escape text between tokens: `&`, `<` and `>` (valid XML text too)."""
    return html.escape(text, quote=False)


def escape_with_tokens(
    segment: str,
    *,
    wrap: Callable[[str], str] = no_translate,
    escape: Callable[[str], str] = escape_text,
) -> str:
    """Render `segment` as markup: each `⟦n⟧` token through `wrap`, the text between through
    `escape`.

    Args:
        segment: a protected segment.
        wrap: renders one token; `no_translate` by default.
        escape: renders one run of text between tokens, called on the runs in order (an engine
            may mark more in them, e.g. glossary terms or line breaks); `escape_text` by
            default.

    Returns:
        The segment as HTML (or XML) text, holding exactly the segment's tokens.
    """
    parts = TOKEN_PATTERN.split(segment)
    out = [escape(parts[0])]
    for token, text in zip(TOKEN_PATTERN.findall(segment), parts[1:], strict=True):
        out += [wrap(token), escape(text)]
    return "".join(out)


def segment_to_html(segment: str) -> str:
    """`segment` as HTML: escaped text, each token in `<span translate="no">`.

    Example:
        >>> segment_to_html("Order ⟦0⟧ & more")
        'Order <span translate="no">⟦0⟧</span> &amp; more'
    """
    return escape_with_tokens(segment)


def html_to_segment(text: str) -> str:
    """Undo `segment_to_html` on a service's HTML answer: unwrap no-translate spans, unescape.

    Any span with `translate="no"` is unwrapped whatever it holds, so text an engine itself put
    in one (Azure's verbatim glossary terms) comes back too. Only for answers the service
    returns escaped: there every `<span` is markup, never the customer's text.

    Example:
        >>> html_to_segment('Pedido <span translate="no" style="x">⟦0⟧</span> &amp; más')
        'Pedido ⟦0⟧ & más'
    """
    return html.unescape(_ANY_SPAN.sub(r"\1", text))


def unwrap_token_spans(text: str) -> str:
    """Unwrap the no-translate spans that hold a single token, and nothing else.

    For answers a service returns already unescaped (LibreTranslate): a customer's own
    `<span translate="no">` text must then stay as it is, and only spans around our tokens
    are ours.
    """
    return _TOKEN_SPAN.sub(r"\1", text)


def render_batch(
    segments: Sequence[str], *, render: Callable[[str], str] = segment_to_html
) -> tuple[list[str], bool]:
    """The texts to send for one request, and whether they are markup.

    A request has one format flag, so when any segment holds a token every segment is
    rendered; otherwise all go as plain text, unchanged (markup mode would hand plain text back
    full of entities, and some services bill the markup).

    Args:
        segments: the segments of one request.
        render: renders one segment as markup; `segment_to_html` by default.

    Example:
        >>> render_batch(["a & b", "⟦0⟧"])
        (['a &amp; b', '<span translate="no">⟦0⟧</span>'], True)
    """
    if not has_tokens(segments):
        return list(segments), False
    return [render(segment) for segment in segments], True
