"""The back-translation preview and the round-trip review signal, through the public API."""

from __future__ import annotations

import anyio
import pytest
import sacrebleu

from tl_loop import (
    AsyncLoop,
    Conversation,
    Decision,
    Loop,
    RoundTripCheck,
    ServiceUnavailableError,
)
from tl_loop.relay import NoteComposer
from tl_loop.testing import FakeEngine
from tl_loop.text import chrf, compare_round_trip

REPLY = "We do not charge a fee for returns. Your refund arrives in 5 days."
SPANISH = {
    "We do not charge a fee for returns.": "No cobramos una tarifa por devoluciones.",
    "Your refund arrives in 5 days.": "Su reembolso llega en 5 días.",
}
ENGLISH = {spanish: english for english, spanish in SPANISH.items()}
# What a broken engine would write: the negation dropped, the number changed.
BROKEN = {
    "We do not charge a fee for returns.": "Cobramos una tarifa por devoluciones.",
    "Your refund arrives in 5 days.": "Su reembolso llega en 9 días.",
}
BROKEN_BACK = {
    "Cobramos una tarifa por devoluciones.": "We charge a fee for returns.",
    "Su reembolso llega en 9 días.": "Your refund arrives in 9 days.",
}


def engine(forward: dict[str, str], back: dict[str, str]) -> FakeEngine:
    return FakeEngine({**forward, **back}, pairs=[("en", "es"), ("es", "en")])


def spanish_customer() -> Conversation:
    conversation = Conversation(agent_languages=("en",))
    conversation.override_customer_language("es")
    return conversation


@pytest.mark.parametrize(
    ("hypothesis", "reference"),
    [
        ("The cat sat on the mat.", "The cat is on the mat."),
        ("Your order shipped.", "Your order did not ship."),
        ("completely different", "Hola, ¿qué tal?"),
    ],
)
def test_chrf_agrees_with_sacrebleu(hypothesis: str, reference: str) -> None:
    expected = sacrebleu.sentence_chrf(hypothesis, [reference]).score
    assert chrf(hypothesis, reference) == pytest.approx(expected)


def test_a_lost_negation_a_changed_number_and_a_lost_sentence_are_named() -> None:
    result = compare_round_trip(
        "Your order did not ship. It arrives on 12 May. Please call us tomorrow.",
        "Your order shipped. It arrives on 13 May.",
        language="en",
    )
    kinds = [difference.kind for difference in result.differences]
    assert kinds.count("negation") == 1
    assert "number" in kinds
    assert "sentence" in kinds


def test_shuffled_words_are_seen_although_chrf_barely_moves() -> None:
    source = "Please restart the application and try the payment again tomorrow."
    shuffled = "again the tomorrow application payment and restart try Please the."
    result = compare_round_trip(source, shuffled, language="en")
    assert result.order < 0.85
    assert "order" in [difference.kind for difference in result.differences]


def test_an_intact_round_trip_has_no_differences() -> None:
    source = "The technician will call you tomorrow morning."
    result = compare_round_trip(
        source, "The technician will call you tomorrow in the morning.", language="en"
    )
    assert result.differences == ()


def test_preview_shows_the_reply_read_back_in_the_agents_language() -> None:
    with Loop(engines=[engine(SPANISH, ENGLISH)]) as loop:
        translation = loop.preview(REPLY, spanish_customer())
    assert translation.translated == " ".join(SPANISH.values())
    assert translation.back_translation is not None
    assert translation.back_translation.text == REPLY
    assert translation.back_translation.differences == ()
    assert translation.decision == Decision.SEND


def test_preview_marks_a_dropped_negation_and_a_changed_number_and_holds() -> None:
    with Loop(engines=[engine(BROKEN, BROKEN_BACK)]) as loop:
        translation = loop.preview(REPLY, spanish_customer())
    back = translation.back_translation
    assert back is not None
    assert any(d.startswith("negation:") for d in back.differences)
    assert any(d.startswith("number: 5") for d in back.differences)
    assert {"negation", "round_trip"} <= set(translation.flag_codes)
    assert translation.decision == Decision.HOLD


def test_outbound_reads_back_only_when_the_policy_asks() -> None:
    fake = engine(BROKEN, BROKEN_BACK)
    with Loop(engines=[fake]) as loop:
        plain = loop.outbound(REPLY, spanish_customer())
    assert plain.back_translation is None
    assert all(target == "es" for _, target, _ in fake.calls)

    with Loop(engines=[engine(BROKEN, BROKEN_BACK)], round_trip=RoundTripCheck()) as loop:
        checked = loop.outbound(REPLY, spanish_customer())
    assert "negation" in checked.flag_codes
    assert checked.decision == Decision.HOLD


def test_doubtful_mode_skips_the_back_translation_of_a_clean_reply() -> None:
    fake = engine(SPANISH, ENGLISH)
    with Loop(engines=[fake], round_trip=RoundTripCheck(when="doubtful")) as loop:
        translation = loop.outbound(REPLY, spanish_customer())
    assert translation.back_translation is None
    assert [target for _, target, _ in fake.calls] == ["es"]


def test_a_failed_back_translation_is_reported_and_the_reply_still_translated() -> None:
    forward_only = FakeEngine(SPANISH, pairs=[("en", "es")])
    back_down = FakeEngine(
        pairs=[("es", "en")], fail_with=ServiceUnavailableError("down", service="b"), name="b"
    )
    with Loop(engines=[forward_only, back_down]) as loop:
        translation = loop.preview(REPLY, spanish_customer())
    assert translation.translated == " ".join(SPANISH.values())
    assert translation.back_translation is None
    assert "round_trip_unavailable" in translation.flag_codes


def test_async_preview_matches_sync() -> None:
    async def run() -> None:
        loop = AsyncLoop(engines=[engine(BROKEN, BROKEN_BACK)])
        translation = await loop.preview(REPLY, spanish_customer())
        await loop.aclose()
        assert "negation" in translation.flag_codes

    anyio.run(run)


def test_the_preview_note_shows_the_read_back_text_and_the_differences() -> None:
    with Loop(engines=[engine(BROKEN, BROKEN_BACK)]) as loop:
        translation = loop.preview(REPLY, spanish_customer())
    note = NoteComposer(format="text").preview_note(translation)
    assert "read back in en" in note
    assert "We charge a fee for returns." in note
    assert "a negation is missing" in note
