"""The fidelity check's fast reading finds what its one-regex definition finds.

`identifiers` reads structured tokens (URLs, code, tags, placeholders, times, chords) one kind
at a time and finds candidate words from their marks; `_STRUCTURED` (every kind in one regex)
and `_CANDIDATE` (a word holding a mark) define what they must find. Both are compared at every
starting point of the real articles and payloads in `../shared/realworld` and of generated
text.
"""

from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fidelity_corpus import cases
from realworld_texts import REALWORLD, realworld_texts
from tl_loop.text._fidelity import _CANDIDATE, _STRUCTURED, _candidates, _Structured


def _disagreements(text: str) -> list[str]:
    wrong = []
    structured = _Structured(text)
    for position in range(len(text) + 1):  # forward, as the reading goes
        found = structured.search(position)
        expected = _STRUCTURED.search(text, position)
        got = None if found is None else (found[0], found[1].span())
        want = None if expected is None else (expected.lastgroup, expected.span())
        if got != want:
            wrong.append(f"{text[:60]!r} from {position}: {got} != {want}")
    for start in range(len(text) + 1):
        if list(_candidates(text, start, len(text))) != _CANDIDATE.findall(text, start):
            wrong.append(f"{text[:60]!r} words from {start}")
    return wrong


@pytest.mark.skipif(not REALWORLD.is_dir(), reason="realworld material not found")
def test_fast_reading_finds_what_the_definition_finds_in_real_texts() -> None:
    texts = [
        t for t in realworld_texts(whole_articles=False) if len(t) <= 300
    ]  # every start point: quadratic
    assert len(texts) > 300  # the material is all there

    assert [d for text in texts for d in _disagreements(text)] == []


SHAPES = sorted({keep for case in cases() for keep in case.keep} | {c.sentence for c in cases()})
EDGES = [
    *" \n\t.,:;!?()[]{}<>`'\"#$%@+=/\\_-~|^", "aB", "Ab", "AB", "ab", "10:30 AM", "9pm",
    "7 a.m.", "Ctrl + K", "⌘+K", "https://x.io/a).", "www.x.com", "mailto:a@b.c", "{{x}}",
    "{%x%}", "{n, plural, one {# x} other {# y}}", "{n, select,", "``", "`x`", "</b>",
]  # fmt: skip
TEXTS = st.lists(st.sampled_from(SHAPES + EDGES), max_size=12).map("".join)


@settings(
    max_examples=int(os.environ.get("PROTECT_EXAMPLES", "300")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(text=TEXTS)
def test_fast_reading_finds_what_the_definition_finds_in_generated_texts(text: str) -> None:
    assert _disagreements(text) == []
