"""Hints before sending: a corpus of agent replies with known issues per category, and clean ones.

The replies are written for these tests in the style of support macros and chat answers. Each
problem reply must get a hint of its category; clean replies (the plain ones in
bench/data/round_trip_replies.txt) must stay quiet.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tl_loop import (
    ConfigurationError,
    Conversation,
    Decision,
    HintRules,
    Loop,
    check_hints,
)
from tl_loop.testing import FakeEngine

CLEAN = [
    line.strip()
    for line in (Path(__file__).parents[2] / "bench/data/round_trip_replies.txt")
    .read_text(encoding="utf-8")
    .splitlines()
    if line.strip() and not line.startswith("#")
]

PROBLEMS: dict[str, list[str]] = {
    "idiom": [
        "I will touch base with the warehouse and get back to you.",
        "Please bear with us while we check your account.",
        "Resetting the router is a piece of cake.",
        "The ball is in your court now: confirm the address and we ship.",
        "In a nutshell, the update fixes the login problem.",
        "We dropped the ball on this one, sorry.",
    ],
    "phrasal_verb": [
        "We are looking into the missing refund.",
        "Please fill out the form on the returns page.",
        "I figured out why the payment failed.",
        "You can set up two-step verification in the settings.",
        "Let me sort out the billing problem for you.",
    ],
    "abbreviation": [
        "We will ship the replacement ASAP.",
        "FYI, the store is closed on Monday.",
        "The ETA for your parcel is Friday.",
        "Please send the receipt, e.g. a photo or a scan.",
        "Thx for waiting!",
    ],
    "slang": [
        "Yeah, that's gonna work.",
        "There was a small glitch in the app.",
        "We have tons of colours in stock.",
        "Sorry guys, the page is down.",
        "It's kinda slow today.",
    ],
    "humour": [
        "Your order is on its way, no more waiting lol",
        "Just kidding, the fee is waived!",
        "The printer hates everyone 😂",
        "We fixed it, haha.",
    ],
    "contraction": [
        "We'll refund the order today.",
        "You don't need to return the item.",
        "It's already on its way.",
        "They're sending a new card.",
    ],
    "long_sentence": [
        "When you open the application on your phone and go to the settings page you will see a "
        "list of devices that are connected to your account and you can remove the ones that "
        "you no longer use from there.",
    ],
    "ambiguous_pronoun": [
        "We sent the invoice and the new card. It should arrive on Monday.",
        "Your old plan or the new plan can be kept. This costs nothing extra.",
    ],
}

CULTURE: list[tuple[str, str, str]] = [
    ("title_greeting", "de", "Hi Anna, your order has shipped."),
    ("title_greeting", "ja", "Hello Kenji, the refund is processed."),
    ("upsell", "de", "We are sorry for the delay. Upgrade to premium for faster shipping!"),
    ("upsell", "fr", "Sorry for the inconvenience. Check out our new bundle."),
    ("response_time", "ja", "We will answer your question within 3 days."),
    ("response_time", "de", "Our team will get back to you within 3 business days."),
]


@pytest.mark.parametrize(
    ("category", "text"),
    [(category, text) for category, texts in PROBLEMS.items() for text in texts],
)
def test_each_known_problem_gets_a_hint_of_its_category(category: str, text: str) -> None:
    assert category in {hint.category for hint in check_hints(text)}


@pytest.mark.parametrize(("category", "locale", "text"), CULTURE)
def test_culture_hints_follow_the_customer_locale(category: str, locale: str, text: str) -> None:
    assert category in {h.category for h in check_hints(text, customer_language=locale)}
    # The same reply to a customer whose locale expects none of this gets no culture hint.
    assert category not in {h.category for h in check_hints(text, customer_language="en")}


def test_clean_replies_stay_quiet() -> None:
    noisy = {text: check_hints(text, customer_language="es") for text in CLEAN}
    noisy = {text: hints for text, hints in noisy.items() if hints}
    # One reply ("pick up your order") is a genuine phrasal verb; allow ≤ 5 % of the set.
    assert len(noisy) <= 0.05 * len(CLEAN), noisy


def test_every_hint_says_what_to_write_instead() -> None:
    hints = check_hints("FYI we'll touch base ASAP.")
    assert all(hint.advice for hint in hints)
    assert any("as soon as possible" in hint.advice for hint in hints)


def test_users_extend_the_lists_with_their_own_file(tmp_path: Path) -> None:
    extra = tmp_path / "acme-hints.toml"
    extra.write_text('[jargon]\n"SKU" = "product code"\n', encoding="utf-8")
    rules = HintRules.default().extended(phrases=extra)
    assert [h.category for h in check_hints("Send us the SKU.", rules=rules)] == ["jargon"]


def test_a_malformed_hint_file_says_what_shape_it_needs(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text("[idiom]\nphrase = 3\n", encoding="utf-8")
    with pytest.raises(ConfigurationError, match="must map phrases to rewrites"):
        HintRules.default().extended(phrases=bad)


def customer(language: str) -> Conversation:
    conversation = Conversation(agent_languages=("en",))
    conversation.override_customer_language(language)
    return conversation


def test_hints_are_info_flags_that_do_not_hold_a_reply() -> None:
    engine = FakeEngine(pairs=[("en", "de"), ("de", "en")])
    with Loop(engines=[engine], hints=HintRules.default()) as loop:
        translation = loop.outbound("We'll ship it ASAP.", customer("de"))
    assert {"hint_contraction", "hint_abbreviation"} <= set(translation.flag_codes)
    assert translation.decision != Decision.HOLD


def test_the_locale_register_is_asked_of_the_engine_and_flagged_when_ignored() -> None:
    engine = FakeEngine(pairs=[("en", "de")])
    with Loop(engines=[engine], hints=HintRules.default()) as loop:
        translation = loop.outbound("Your order has shipped.", customer("de"))
    assert engine.options[-1].formality == "formal"
    assert "formality_unsupported" in translation.flag_codes


def test_a_preview_shows_hints_even_when_the_loop_has_none_configured() -> None:
    engine = FakeEngine(pairs=[("en", "es"), ("es", "en")])
    with Loop(engines=[engine]) as loop:
        preview = loop.preview("Please bear with us.", customer("es"))
        sent = loop.outbound("Please bear with us.", customer("es"))
    assert "hint_idiom" in preview.flag_codes
    assert "hint_idiom" not in sent.flag_codes
