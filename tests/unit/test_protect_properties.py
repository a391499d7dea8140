"""Properties of protection that must hold for any input: exact round trip, token parity."""

from __future__ import annotations

import html
import os

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tl_loop import ContentType
from tl_loop.engines import TOKEN_PATTERN
from tl_loop.text import ProtectedDocument, find_spans, protect

# PROTECT_EXAMPLES=5000 runs a deeper search by hand; 200 keeps the suite fast.
SETTINGS = settings(
    max_examples=int(os.environ.get("PROTECT_EXAMPLES", "200")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)

PROTECTED = [
    "{{ticket.id}}",
    "{{ 'x' | filter }}",
    "{% if open %}",
    "{name}",
    "{0}",
    "%s",
    "%(count)d",
    ":smile:",
    "https://acme.example/t/1?x=1",
    "www.acme.example/help",
    "jane.doe@example.com",
    "#48213",
    "ORD-2024-0042",
    "$59.99",
    "20 €",
    "1.299,00 EUR",
    "USD 15",
]
WORDS = st.text(st.characters(categories=["L"]), min_size=1, max_size=8)
PUNCTUATION = st.sampled_from(
    [".", ",", "!", "?", "…", "¿", "¡", ":", ";", "-", "e.g.", "3", "3.5", "10:30", "⟦3⟧"]
)
SEPARATORS = st.sampled_from([" ", "  ", "\n", "\n\n", "\t", " \r\n"])
HTML_MARKUP = st.sampled_from(
    [
        "<p>",
        "</p>",
        "<b>",
        "</b>",
        "<br>",
        "<a href='/x?a=1&amp;b=2' title='Open it'>",
        "</a>",
        "<code>x &lt; y</code>",
        '<span class="notranslate">',
        "</span>",
        '<div translate="no">',
        "</div>",
        "&amp;",
        "&nbsp;",
        "&lt;",
        "&#169;",
        "<!-- note -->",
        "<img src=a.png alt=Logo>",
        "<pre>",
        "</pre>",
        "<li>",
        "<",
        ">",
    ]
)
MARKDOWN_SYNTAX = st.sampled_from(
    [
        "# ",
        "## ",
        "- ",
        "1. ",
        "> ",
        "**",
        "*",
        "_",
        "`code`",
        "[the link](https://acme.example/x)",
        "![alt text](logo.png)",
        "\n```\nx = 1\n```\n",
        "\n---\n",
        "| a | b |\n|---|---|\n| c | d |\n",
        "\n    indented\n",
        "\\*",
    ]
)
# A line that starts with a tag opens an HTML block (CommonMark): its text is walked as HTML.
MARKDOWN_MARKUP = st.one_of(MARKDOWN_SYNTAX, st.sampled_from(["<b>", "<div>", "<!-- c -->"]))


def documents(
    markup: st.SearchStrategy[str] | None = None, *, glue: bool = False
) -> st.SearchStrategy[str]:
    """Text mixing words, protected spans, punctuation, separators and markup fragments.

    With `glue`, elements may also touch each other with no separator at all.
    """
    elements = [WORDS, st.sampled_from(PROTECTED), PUNCTUATION]
    if markup is not None:
        elements.append(markup)
    separators = st.one_of(SEPARATORS, st.just("")) if glue else SEPARATORS
    pairs = st.tuples(st.one_of(*elements), separators)
    return st.lists(pairs, max_size=30).map(lambda items: "".join(a + b for a, b in items))


def mixed(content_type: ContentType) -> st.SearchStrategy[str]:
    """Generated documents for a content type, plus arbitrary text now and then."""
    markup = {"text": None, "html": HTML_MARKUP, "markdown": MARKDOWN_MARKUP}[content_type]
    return st.one_of(documents(markup), documents(markup, glue=True), st.text(max_size=80))


def upper_translation(document: ProtectedDocument) -> list[str]:
    """A fake translation: upper-case everything except the tokens."""
    translated = []
    for segment in document.segments:
        out, position = [], 0
        for match in TOKEN_PATTERN.finditer(segment):
            out += [segment[position : match.start()].upper(), match.group(0)]
            position = match.end()
        translated.append("".join(out) + segment[position:].upper())
    return translated


@SETTINGS
@given(text=mixed("text"))
def test_text_round_trip_is_exact(text: str) -> None:
    document = protect(text)
    assert document.restore(document.segments) == text


@SETTINGS
@given(text=mixed("html"))
def test_html_round_trip_is_exact(text: str) -> None:
    document = protect(text, content_type="html")
    assert document.restore(document.segments) == text


@SETTINGS
@given(text=mixed("markdown"))
def test_markdown_round_trip_is_exact(text: str) -> None:
    document = protect(text, content_type="markdown")
    assert document.restore(document.segments) == text


@SETTINGS
@given(text=documents(), mask_pii=st.booleans())
def test_text_tokens_come_from_the_source_and_nothing_leaks(text: str, mask_pii: bool) -> None:
    document = protect(text, mask_pii=mask_pii)

    for token in document.tokens.values():
        assert token.original in text
    for segment in document.segments:
        for sample in PROTECTED:
            assert sample not in segment


@SETTINGS
@given(text=documents(HTML_MARKUP))
def test_html_segments_hold_no_markup_or_protected_spans(text: str) -> None:
    document = protect(text, content_type="html")

    for token in document.tokens.values():
        assert token.original in text or token.original in html.unescape(text)
    for segment in document.segments:
        assert "<b>" not in segment
        assert "<a " not in segment
        for sample in PROTECTED:
            assert sample not in segment


@SETTINGS
@given(text=documents(MARKDOWN_SYNTAX))
def test_markdown_segments_hold_no_link_targets_or_code(text: str) -> None:
    document = protect(text, content_type="markdown")

    for token in document.tokens.values():
        assert token.original in text
    for segment in document.segments:
        assert "](" not in segment
        assert "`code`" not in segment
        assert "x = 1" not in segment


def check_parity(document: ProtectedDocument, translated: list[str]) -> None:
    for index, segment in enumerate(translated):
        assert document.missing_tokens(index, segment) == ()
        assert document.extra_tokens(index, segment) == ()
    placed = sum(len(document.segment_tokens(i)) for i in range(len(document.segments)))
    assert placed == len(document.tokens)


@SETTINGS
@given(text=mixed("text"))
def test_text_tokens_survive_a_translation(text: str) -> None:
    document = protect(text)
    translated = upper_translation(document)
    output = document.restore(translated)

    check_parity(document, translated)
    for token in document.tokens.values():
        assert token.restored in output


@SETTINGS
@given(text=mixed("html"))
def test_html_tokens_survive_a_translation(text: str) -> None:
    document = protect(text, content_type="html")
    translated = upper_translation(document)
    output = document.restore(translated)

    check_parity(document, translated)
    for token in document.tokens.values():
        if token.kind != "markup":
            assert html.escape(token.restored, quote=False) in output or token.restored in output


@SETTINGS
@given(text=mixed("markdown"))
def test_markdown_tokens_survive_a_translation(text: str) -> None:
    document = protect(text, content_type="markdown")
    translated = upper_translation(document)
    output = document.restore(translated)

    check_parity(document, translated)
    for token in document.tokens.values():
        assert token.restored in output


# Characters that start, end or anchor a span rule, so generated text lands on rule edges.
RULE_EDGES = st.lists(
    st.sampled_from([*"aZ09 .,-:/@#$€_*~`[]()<>{}%+⟦⟧\n", "US$", "EUR", "www.", "://"]),
    max_size=40,
).map("".join)


@SETTINGS
@given(
    text=st.one_of(RULE_EDGES, documents(MARKDOWN_SYNTAX, glue=True)),
    syntax=st.sampled_from(["text", "html", "markdown"]),
    mask_pii=st.booleans(),
)
def test_anchored_span_search_finds_what_a_full_scan_finds(
    text: str, syntax: str, mask_pii: bool
) -> None:
    fast = find_spans(text, syntax=syntax, terms=None, mask_pii=mask_pii)
    full = find_spans(text, syntax=syntax, terms=None, mask_pii=mask_pii, anchored=False)

    assert fast == full
