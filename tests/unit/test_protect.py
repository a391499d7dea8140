"""Protection: what is masked, how each content type is segmented, and how it comes back."""

from __future__ import annotations

import pytest

from tl_loop import ConfigurationError
from tl_loop.text import ProtectedDocument, ProtectedTerm, protect

MACRO = (
    "Hi {{ticket.requester.first_name}}, your order #48213 of $59.99 ships to "
    "jane.doe@example.com — track it at https://acme.example/t/48213?x=1."
)


def originals(document: ProtectedDocument) -> dict[str, str]:
    """Map each protected original to its kind."""
    return {token.original: token.kind for token in document.tokens.values()}


def upper(document: ProtectedDocument) -> str:
    """Restore a fake translation that upper-cases everything but the tokens."""
    return document.restore([segment.upper() for segment in document.segments])


def test_support_macro_masks_every_span_and_round_trips() -> None:
    document = protect(MACRO)

    assert originals(document) == {
        "{{ticket.requester.first_name}}": "placeholder",
        "#48213": "order",
        "$59.99": "amount",
        "jane.doe@example.com": "email",
        "https://acme.example/t/48213?x=1": "url",
    }
    assert document.segments == ("Hi ⟦0⟧, your order ⟦1⟧ of ⟦2⟧ ships to ⟦3⟧ — track it at ⟦4⟧.",)
    assert document.restore(document.segments) == MACRO
    assert upper(document) == (
        "HI {{ticket.requester.first_name}}, YOUR ORDER #48213 OF $59.99 SHIPS TO "
        "jane.doe@example.com — TRACK IT AT https://acme.example/t/48213?x=1."
    )


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("{{ 'x' | filter }}", "placeholder"),
        ("{% if ticket.open %}", "placeholder"),
        ("{name}", "placeholder"),
        ("{0}", "placeholder"),
        ("%s", "placeholder"),
        ("%d", "placeholder"),
        ("%(name)s", "placeholder"),
        (":smile:", "placeholder"),
        ("www.acme.example/help", "url"),
        ("ORD-2024-0042", "order"),
        ("INV-88812", "order"),
        ("€20", "amount"),
        ("20 €", "amount"),
        ("1.299,00 EUR", "amount"),
        ("USD 15", "amount"),
        ("`reset --hard`", "code"),
    ],
)
def test_each_kind_of_span_is_one_token(text: str, kind: str) -> None:
    document = protect(f"Please check {text} today.")

    assert originals(document) == {text: kind}
    assert document.segments == ("Please check ⟦0⟧ today.",)


@pytest.mark.parametrize(
    "text",
    [
        "Note: see below",
        "We open at 10:30 today",
        "It takes 3 days",
        "50% off today",
        "order 12345",
    ],
)
def test_ordinary_text_is_not_masked(text: str) -> None:
    assert protect(text).tokens == {}


def test_url_keeps_trailing_punctuation_outside() -> None:
    document = protect("Go to https://acme.example/a_(b). Then (see www.acme.example).")

    assert "https://acme.example/a_(b)" in originals(document)
    assert "www.acme.example" in originals(document)


def test_url_with_a_template_is_one_token() -> None:
    document = protect("Track it: https://acme.example/t/{{ticket.id}}. Then {{ 'x' | up }}")

    assert originals(document) == {
        "https://acme.example/t/{{ticket.id}}": "url",
        "{{ 'x' | up }}": "placeholder",
    }


def test_amount_with_symbol_and_code_is_one_token() -> None:
    assert originals(protect("That is $5 USD or 49,90 € today.")) == {
        "$5 USD": "amount",
        "49,90 €": "amount",
    }


def test_text_splits_lines_and_sentences_keeping_whitespace() -> None:
    text = "Hi Jane,\n\nThanks for writing! Your refund of 3.5 days... is done. ¿Algo más?\n  Bye  "
    document = protect(text)

    assert document.segments == (
        "Hi Jane,",
        "Thanks for writing!",
        "Your refund of 3.5 days... is done.",
        "¿Algo más?",
        "Bye",
    )
    assert document.restore(document.segments) == text


def test_abbreviations_do_not_end_sentences() -> None:
    document = protect("Use a browser, e.g. Firefox, or ask Dr. Smith. He knows.")

    assert document.segments == ("Use a browser, e.g. Firefox, or ask Dr. Smith.", "He knows.")


def test_text_code_fence_is_kept_verbatim() -> None:
    text = "Run this:\n```\nrm -rf build. Then rebuild\n```\nDone."
    document = protect(text)

    assert document.segments == ("Run this:", "Done.")
    assert document.restore(document.segments) == text


def test_pii_is_masked_only_when_asked() -> None:
    text = (
        "Call +34 612 345 678 or (555) 123-4567, card 4111 1111 1111 1111, "
        "IBAN ES91 2100 0418 4502 0005 1332."
    )
    # without masking only the IBAN's letters-and-digits head is kept, as any such code is
    assert originals(protect(text)) == {"ES91": "identifier"}

    masked = originals(protect(text, mask_pii=True))
    assert masked == {
        "+34 612 345 678": "pii",
        "(555) 123-4567": "pii",
        "4111 1111 1111 1111": "pii",
        "ES91 2100 0418 4502 0005 1332": "pii",
    }


def test_invalid_card_and_iban_numbers_are_not_pii() -> None:
    text = "Numbers 4111 1111 1111 1112 and ES00 2100 0418 4502 0005 1332 stay."

    assert originals(protect(text, mask_pii=True)) == {"ES00": "identifier"}


def test_email_is_masked_with_or_without_pii_masking() -> None:
    for mask_pii in (False, True):
        assert originals(protect("Write to a.b@acme.example now.", mask_pii=mask_pii)) == {
            "a.b@acme.example": "email"
        }


def test_do_not_translate_term_restores_the_source_spelling() -> None:
    document = protect("Open acme cloud now.", terms=[ProtectedTerm("Acme Cloud")])

    assert document.segments == ("Open ⟦0⟧ now.",)
    assert upper(document) == "OPEN acme cloud NOW."


def test_forced_term_is_restored_to_its_replacement() -> None:
    document = protect("Your ticket is open.", terms=[ProtectedTerm("ticket", "caso")])

    assert document.segments == ("Your ⟦0⟧ is open.",)
    assert document.restore(["Su ⟦0⟧ está abierto."]) == "Su caso está abierto."
    assert document.restore(document.segments) == "Your caso is open."


def test_case_sensitive_term_only_matches_its_case() -> None:
    terms = [ProtectedTerm("Go", case_sensitive=True)]

    assert originals(protect("Try Go today.", terms=terms)) == {"Go": "term"}
    assert protect("Where do we go now?", terms=terms).tokens == {}


def test_terms_match_whole_words_in_any_alphabet() -> None:
    terms = [ProtectedTerm("Pro")]

    assert protect("Profile and Próximo", terms=terms).tokens == {}
    assert originals(protect("Ñandú Pro día", terms=terms)) == {"Pro": "term"}


def test_longest_overlapping_term_wins() -> None:
    terms = [ProtectedTerm("Acme"), ProtectedTerm("Acme Cloud Sync"), ProtectedTerm("Cloud")]

    assert originals(protect("Use Acme Cloud Sync or Cloud.", terms=terms)) == {
        "Acme Cloud Sync": "term",
        "Cloud": "term",
    }


def test_term_inside_url_is_left_to_the_url() -> None:
    document = protect("See https://acme.example/acme", terms=[ProtectedTerm("acme")])

    assert originals(document) == {"https://acme.example/acme": "url"}


def test_html_inline_tags_stay_in_one_segment() -> None:
    source = "<p>Your <b>order</b> ships <a href='/t'>today</a>.<br>Thanks!</p><p>Bye</p>"
    document = protect(source, content_type="html")

    assert document.segments == ("Your ⟦0⟧order⟦1⟧ ships ⟦2⟧today⟦3⟧.⟦4⟧Thanks!", "Bye")
    assert upper(document) == (
        "<p>YOUR <b>ORDER</b> SHIPS <a href='/t'>TODAY</a>.<br>THANKS!</p><p>BYE</p>"
    )


@pytest.mark.parametrize(
    "kept",
    [
        '<div translate="no">Acme Rocket</div>',
        '<div class="box notranslate">Acme Rocket</div>',
        "<pre>Acme Rocket</pre>",
        "<script>var a = 'Acme Rocket';</script>",
        "<style>.acme { color: red }</style>",
    ],
)
def test_html_untranslatable_blocks_are_kept(kept: str) -> None:
    source = f"<p>Hello there</p>{kept}"
    document = protect(source, content_type="html")

    assert document.segments == ("Hello there",)
    assert upper(document) == f"<p>HELLO THERE</p>{kept}"


def test_html_inline_code_and_notranslate_span_are_tokens() -> None:
    source = 'Run <code>make all</code> with <span translate="no">Acme Rocket</span> now'
    document = protect(source, content_type="html")

    assert document.segments == ("Run ⟦0⟧ with ⟦1⟧ now",)
    assert originals(document) == {
        "<code>make all</code>": "code",
        '<span translate="no">Acme Rocket</span>': "markup",
    }


def test_html_title_and_alt_are_translated_in_place() -> None:
    source = '<a href="/x" title="Open the page">Go</a> <img src="a.png" alt=Logo>'
    document = protect(source, content_type="html")

    assert set(document.segments) == {"Open the page", "⟦0⟧Go⟦1⟧ ⟦2⟧", "Logo"}
    assert (
        upper(document) == '<a href="/x" title="OPEN THE PAGE">GO</a> <img src="a.png" alt="LOGO">'
    )


def test_html_entities_are_decoded_for_translation_and_escaped_back() -> None:
    source = "<p>Tom &amp; Jerry&nbsp;say &lt;hi&gt; &#169;</p>"
    document = protect(source, content_type="html")

    assert document.segments == ("Tom & Jerry\xa0say <hi> ©",)
    assert document.restore(document.segments) == source
    assert document.restore(["A <b> & c"]) == "<p>A &lt;b&gt; &amp; c</p>"


def test_markdown_link_image_and_code() -> None:
    source = (
        "---\ntitle: Reset\n---\n# Reset your *password*\n\n"
        'Open [the settings](https://acme.example/s "Settings") and ![the logo](logo.png).\n\n'
        "```sh\nacme reset --all\n```\n\n    indented code\n\n- Run `acme login` first\n"
    )
    document = protect(source, content_type="markdown")

    assert document.segments == (
        "Reset your ⟦0⟧password⟦1⟧",
        "Settings",  # the link title, translated on its own
        "Open ⟦2⟧the settings⟦3⟧ and ⟦4⟧the logo⟦5⟧.",
        "Run ⟦6⟧ first",
    )
    assert document.tokens["⟦3⟧"].original == '](https://acme.example/s "Settings")'
    assert document.restore(document.segments) == source
    assert upper(document) == source.replace("Reset your", "RESET YOUR").replace(
        "password", "PASSWORD"
    ).replace("Open [the settings]", "OPEN [THE SETTINGS]").replace(
        '"Settings"', '"SETTINGS"'
    ).replace("and ![the logo]", "AND ![THE LOGO]").replace(
        "Run `acme login` first", "RUN `acme login` FIRST"
    )


def test_markdown_wrapped_paragraph_is_one_sentence() -> None:
    document = protect("Your order\nships today.\n\n> Quoted text\n", content_type="markdown")

    assert document.segments == ("Your order\nships today.", "Quoted text")


def test_markdown_table_cells_and_html_block() -> None:
    source = "| Plan | Price |\n|---|---|\n| Basic plan | $5 |\n\n<div>Hello <b>there</b></div>\n"
    document = protect(source, content_type="markdown")

    assert document.segments == ("Plan", "Price", "Basic plan", "Hello ⟦0⟧there⟦1⟧")
    assert document.restore(document.segments) == source


def test_parity_checks_report_missing_and_extra_tokens() -> None:
    document = protect("Order #1 and #2 shipped.")

    assert document.segment_tokens(0) == ("⟦0⟧", "⟦1⟧")
    assert document.missing_tokens(0, "Pedido ⟦0⟧ enviado.") == ("⟦1⟧",)
    assert document.extra_tokens(0, "Pedido ⟦0⟧ ⟦0⟧ y ⟦1⟧ ⟦7⟧.") == ("⟦0⟧", "⟦7⟧")
    assert document.restore(["Pedido ⟦0⟧ enviado."]) == "Pedido #1 enviado."


def test_source_text_that_looks_like_a_token_is_protected() -> None:
    document = protect("Keep ⟦7⟧ as is.")

    assert document.segments == ("Keep ⟦0⟧ as is.",)
    assert upper(document) == "KEEP ⟦7⟧ AS IS."


def test_nothing_to_translate_gives_no_segments() -> None:
    document = protect("  \n https://acme.example \n#123\n")

    assert document.segments == ()
    assert document.restore([]) == "  \n https://acme.example \n#123\n"


def test_restore_needs_one_translation_per_segment() -> None:
    with pytest.raises(ValueError, match="one translation per segment"):
        protect("Hello there.").restore([])


def test_unknown_content_type_is_a_configuration_error() -> None:
    with pytest.raises(ConfigurationError, match="'text', 'html' or 'markdown'"):
        protect("x", content_type="rtf")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("text", "span", "kind"),
    [
        ("Refund of US$ 5 and more.", "US$ 5", "amount"),
        ("Refund of CA$5, thanks.", "CA$5", "amount"),
        ("Paid 1.299,00 EUR today.", "1.299,00 EUR", "amount"),
        ("See ftp://files.acme.example/x now.", "ftp://files.acme.example/x", "url"),
        ("Visit xhttps://a.example or https://b.example/y.", "https://b.example/y", "url"),
        ("Ticket ##12 and #34-5 closed.", "#34-5", "order"),
        ("Ref A-12, then ORD-X-99-Z and ABC-12.", "ORD-X-99-Z", "order"),
        ("Say :not:a: but :ok_hand: please.", ":ok_hand:", "placeholder"),
    ],
)
def test_spans_next_to_near_misses_are_found(text: str, span: str, kind: str) -> None:
    # The span search skips ahead to likely places; a near miss before a span must not hide it.
    document = protect(text)

    assert originals(document).get(span) == kind
    assert document.restore(document.segments) == text
