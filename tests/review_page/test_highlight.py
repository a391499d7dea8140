"""Which stretches of the original and the draft the page highlights, from the flags' details."""

from __future__ import annotations

from tl_loop import ReviewFlag, Severity, TermViolation
from tl_loop._policy import (
    Thresholds,
    check_numbers,
    check_scores,
    check_token_parity,
    check_unknown_words,
)
from tl_loop.relay._review_html import flagged_spans, highlight


def marked(text: str, flags: list[ReviewFlag]) -> list[str]:
    return [text[span.start : span.end] for span in flagged_spans(text, flags)]


def test_numbers_are_found_whatever_their_separators() -> None:
    flags = check_numbers("Total 1,299.50 in 3 days", "Total 1.299,00 en 5 días")
    assert marked("Total 1,299.50 in 3 days", flags) == ["1,299.50", "3"]
    assert marked("Total 1.299,00 en 5 días", flags) == ["1.299,00", "5"]


def test_a_lost_protected_token_is_highlighted_in_the_original() -> None:
    flags = check_token_parity([("⟦0⟧", "https://acme.example/track?id=7")], [])
    original = "Track it at https://acme.example/track?id=7 today"
    assert marked(original, flags) == ["https://acme.example/track?id=7"]
    assert marked("Rastréelo hoy", flags) == []


def test_quoted_strings_with_quotes_inside_are_read_back() -> None:
    flags = check_token_parity([("⟦0⟧", "Bob's order")], [])
    assert marked("About Bob's order.", flags) == ["Bob's order"]


def test_glossary_terms_are_highlighted_as_whole_words() -> None:
    violation = TermViolation(source_term="Acme Cloud", expected="Acme Cloud")
    flag = ReviewFlag(code="glossary_violation", severity=Severity.WARNING, detail=violation.detail)
    assert marked("Try acme cloud now", [flag]) == ["acme cloud"]
    inner = ReviewFlag(code="glossary_violation", severity=Severity.WARNING, detail="'ola' x")
    assert marked("hola ola", [inner]) == ["ola"]


def test_unknown_words_are_found_with_or_without_the_engine_marks() -> None:
    flags = check_unknown_words(["*wibble", "zork"])
    assert marked("The *wibble and the wibble and zork", flags) == ["*wibble", "wibble", "zork"]


def test_flags_that_name_no_text_give_no_span() -> None:
    flag = ReviewFlag(
        code="length_ratio", severity=Severity.WARNING, detail="the translation is 3.10× the length"
    )
    assert marked("the translation is long 3.10", [flag]) == []


def test_low_score_names_its_segment() -> None:
    flags = check_scores([("Es un día raro.", 0.2)], Thresholds())
    assert marked("Hola. Es un día raro. Adiós.", flags) == ["Es un día raro."]


def test_overlaps_keep_the_more_severe_flag() -> None:
    error = ReviewFlag(code="token_parity", severity=Severity.ERROR, detail="lost 'ORD-1234'")
    warning = ReviewFlag(code="number_mismatch", severity=Severity.WARNING, detail="missing 1234")
    [span] = flagged_spans("Order ORD-1234", [warning, error])
    assert span.flag is error


def test_highlight_escapes_text_inside_and_outside_the_marks() -> None:
    flag = ReviewFlag(code="unknown_words", severity=Severity.WARNING, detail="did not know: <b>")
    html = highlight("a <b> & <script>alert(1)</script>", [flag])
    assert "<script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert ">&lt;b&gt;</mark> &amp; " in html
    assert 'title="unknown_words: did not know: &lt;b&gt;"' in html
