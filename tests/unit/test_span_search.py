"""The fast span search masks exactly what the straightforward one masks.

`find_spans` skips work: rules whose needles are absent are not run, anchors limit where a
rule's regex is tried, word rules search only the words holding an anchor. `anchored=False`
runs every rule's regex over the whole text instead. The two must agree on every text: the
real articles and helpdesk payloads in `../shared/realworld`, and generated text made of every
family's shapes glued to the characters the anchors look for (Unicode digits, no-break spaces,
capitals, AM/PM, currency codes, dots, hashes).
"""

from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fidelity_corpus import cases
from realworld_texts import REALWORLD, realworld_texts
from tl_loop import Protection
from tl_loop.text import find_spans

SYNTAXES = ("text", "markdown", "html")
PROTECTIONS = (
    Protection(),
    Protection(disabled=frozenset({"identifier", "code", "amount", "format"})),
    Protection(patterns=(r"ACME-\d+", r"\bnow\b")),
)


def _disagreements(text: str, syntax: str, protection: Protection) -> list[str]:
    found = []
    for mask_pii in (False, True):
        fast = find_spans(text, syntax=syntax, terms=None, mask_pii=mask_pii, protection=protection)
        full = find_spans(
            text, syntax=syntax, terms=None, mask_pii=mask_pii, protection=protection,
            anchored=False,
        )  # fmt: skip
        if fast != full:
            missed = [text[s.start : s.end] for s in full if s not in fast]
            extra = [text[s.start : s.end] for s in fast if s not in full]
            found.append(f"{syntax} pii={mask_pii} {text[:60]!r}: missed {missed}, extra {extra}")
    return found


@pytest.mark.skipif(not REALWORLD.is_dir(), reason="realworld material not found")
@pytest.mark.parametrize("syntax", SYNTAXES)
def test_fast_search_masks_what_a_full_scan_masks_on_real_texts(syntax: str) -> None:
    texts = realworld_texts(whole_articles=True)
    assert len(texts) > 1_000  # the material is all there

    wrong = [d for text in texts for d in _disagreements(text, syntax, PROTECTIONS[0])]

    assert wrong == []


# The shapes of every family, as agents write them (tests/fidelity_corpus.py) ...
SHAPES = sorted({keep for case in cases() for keep in case.keep})
# ... and the characters and words the rules' needles and anchors look for.
EDGES = [
    *"aZ09 .,-:/\\@#$€£_*~`[](){}<>%+=|!?'\"⟦⟧\n\t",
    "\u00a0", "\u202f", "٣", "१", "²", "Ⅻ", "é", "ß",
    "AM", "pm", "a.m.", "P.M", "US$", "R$", "EUR", "usd", "USD", "v2", "V10", "1.2.3",
    "1.2-beta", "1.2+b.5", "59.99", "0x1F", "A1", "1st", "22nd", "Ticket#1", "[Ticket#1]",
    "#1", "ab#1", "camelCase", "x.com", "x.comx", ".io", "localhost", "plural", "select",
    "{n, plural,", "{0,number}", "e.g.", "www.", "://", "mailto:", "ORD-1", "eu-west-1",
]  # fmt: skip
PIECES = st.lists(st.sampled_from(SHAPES + EDGES), max_size=25).map("".join)
PROSE = st.lists(
    st.one_of(st.sampled_from(SHAPES), st.sampled_from(EDGES), st.text(max_size=6)),
    max_size=20,
).map(" ".join)


@settings(
    max_examples=int(os.environ.get("PROTECT_EXAMPLES", "300")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(
    text=st.one_of(PIECES, PROSE),
    syntax=st.sampled_from(SYNTAXES),
    protection=st.sampled_from(PROTECTIONS),
)
def test_fast_search_masks_what_a_full_scan_masks_on_generated_texts(
    text: str, syntax: str, protection: Protection
) -> None:
    assert _disagreements(text, syntax, protection) == []
