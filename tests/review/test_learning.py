"""Memory that learns: what a decision teaches, keyed as the pipeline will look it up next time."""

from __future__ import annotations

from dataclasses import replace

import pytest

from tl_loop import (
    ContentType,
    Conversation,
    Glossary,
    LanguageDetector,
    Loop,
    Message,
    ReviewPolicy,
    Severity,
)
from tl_loop.review import ReviewItem, ReviewState, learn, learned_entries, pair_segments
from tl_loop.stores import InMemoryTranslationMemory
from tl_loop.testing import FakeEngine
from tl_loop.text import protect

GLOSSARY = Glossary.from_csv("en,es,dnt\nAcme Cloud,,yes\ninvoice,factura,no\n")


def make_loop(*, glossary: Glossary | None = None, memory: bool = True) -> Loop:
    return Loop(
        engines=[FakeEngine()],
        detector=LanguageDetector(["en", "es"]),
        policy=ReviewPolicy(hold_at=Severity.WARNING),
        glossary=glossary,
        memory=InMemoryTranslationMemory() if memory else None,
    )


def outbound(loop: Loop, text: str, content_type: ContentType = "text") -> ReviewItem:
    conversation = loop.conversation("c1")
    conversation.override_customer_language("es")
    message = Message(text=text, content_type=content_type)
    translation = loop.outbound(message, conversation)
    return ReviewItem.from_translation(translation, held=True, adapter="memory")


def decide(item: ReviewItem, state: ReviewState, final: str | None = None) -> ReviewItem:
    return item.decided(state=state, reviewer="ana", final=final if final else item.draft)


def test_matching_segments_give_one_entry_each_with_the_sources_token_numbers() -> None:
    source = protect("Your order #4821 ships today. Track it at https://acme.example/t please.")
    # The reviewer moved the URL before the order number in the second sentence's rewrite.
    final = protect("Su pedido #4821 sale hoy. Puede seguirlo en https://acme.example/t.")
    assert pair_segments(source, final) == [
        ("Your order ⟦0⟧ ships today.", "Su pedido ⟦0⟧ sale hoy."),
        ("Track it at ⟦1⟧ please.", "Puede seguirlo en ⟦1⟧."),
    ]


def test_tokens_are_matched_by_what_they_protect_not_by_their_order() -> None:
    source = protect("Order #12 replaces order #34.")
    final = protect("El pedido #34 se sustituye por el #12.")
    [(_, target)] = pair_segments(source, final)
    assert target == "El pedido ⟦1⟧ se sustituye por el ⟦0⟧."


def test_a_different_sentence_count_gives_one_entry_for_the_whole_message() -> None:
    source = protect("Your order #4821 ships today, and it arrives on Monday.")
    final = protect("Su pedido #4821 sale hoy. Llega el lunes.")
    assert pair_segments(source, final) == [
        ("Your order ⟦0⟧ ships today, and it arrives on Monday.",
         "Su pedido ⟦0⟧ sale hoy. Llega el lunes."),
    ]  # fmt: skip


def test_spans_the_reviewer_changed_are_kept_as_text_and_removed_ones_stay_missing() -> None:
    source = protect("Order #12 ships. See https://acme.example/t.")
    final = protect("El pedido #13 sale. Gracias.")
    [(source_text, target)] = pair_segments(source, final)
    assert source_text == "Order ⟦0⟧ ships. See ⟦1⟧."
    assert target == "El pedido #13 sale. Gracias."


def test_html_markup_tokens_pair_up_in_html_replies() -> None:
    source = protect("<p>Hello <b>Ana</b>, order #12 ships.</p>", content_type="html")
    final = protect("<p>Hola <b>Ana</b>, el pedido #12 sale.</p>", content_type="html")
    assert pair_segments(source, final) == [
        ("Hello ⟦0⟧Ana⟦1⟧, order ⟦2⟧ ships.", "Hola ⟦0⟧Ana⟦1⟧, el pedido ⟦2⟧ sale.")
    ]


def test_an_edit_is_served_from_memory_next_time_with_the_reviewers_wording() -> None:
    loop = make_loop()
    text = "Your order #4821 ships today. Track it at https://acme.example/t please."
    item = outbound(loop, text)
    assert item.draft.startswith("[es]")  # the doubtful draft
    final = "Su pedido #4821 sale hoy. Puede seguirlo en https://acme.example/t."
    entries = learn(decide(item, ReviewState.EDITED, final), loop.parts)
    assert [entry.origin for entry in entries] == ["edited", "edited"]
    assert {entry.author for entry in entries} == {"ana"}

    again = loop.outbound(text, _spanish(loop))
    assert again.translated == final
    assert again.audit.memory_hits == 2
    assert again.audit.characters_sent == 0


def test_an_approval_is_learned_as_approved() -> None:
    loop = make_loop()
    item = outbound(loop, "Thanks for waiting.")
    [entry] = learn(decide(item, ReviewState.APPROVED), loop.parts)
    assert (entry.origin, entry.target_text) == ("approved", "[es] Thanks for waiting.")


def test_glossary_terms_are_protected_on_both_sides_as_the_pipeline_does() -> None:
    loop = make_loop(glossary=GLOSSARY)
    text = "Your invoice for Acme Cloud is ready."
    item = outbound(loop, text)
    final = "Su factura de Acme Cloud está lista."
    [entry] = learn(decide(item, ReviewState.EDITED, final), loop.parts)
    assert entry.glossary_version == GLOSSARY.version
    assert "⟦" in entry.source_text
    assert "invoice" not in entry.source_text
    assert "factura" not in entry.target_text
    assert "Acme Cloud" not in entry.target_text
    assert loop.outbound(text, _spanish(loop)).translated == final


@pytest.mark.parametrize(
    ("case", "reason"),
    [
        ("rejected", "a rejection teaches nothing"),
        ("no_memory", "no memory configured"),
        ("glossary_changed", "the key would not match"),
        ("untranslated", "an approved draft no engine made"),
    ],
)
def test_nothing_is_learned_when_it_would_be_wrong(case: str, reason: str) -> None:
    loop = make_loop(memory=case != "no_memory", glossary=GLOSSARY)
    item = outbound(loop, "Your invoice is ready, and the courier calls first.")
    if case == "rejected":
        decided = item.decided(state=ReviewState.REJECTED, reviewer="ana", final=None)
    elif case == "glossary_changed":
        changed = replace(item, glossary_version="0" * 16)
        decided = decide(changed, ReviewState.EDITED, "Su factura está lista.")
    elif case == "untranslated":
        untranslated = replace(item, engine=None, draft=item.original)
        decided = decide(untranslated, ReviewState.APPROVED)
    else:
        decided = decide(item, ReviewState.EDITED, "Su factura está lista.")
    assert learned_entries(decided, loop.parts) == [], reason
    if loop.parts.memory is not None:
        assert len(loop.parts.memory) == 0


def test_a_reply_to_a_customer_of_unknown_language_is_not_learned() -> None:
    loop = make_loop()
    translation = loop.outbound("Your order ships today.", loop.conversation("new"))
    item = ReviewItem.from_translation(translation, held=True)
    assert item.source_language == item.target_language == "en"
    assert (
        learned_entries(decide(item, ReviewState.EDITED, "Su pedido sale hoy."), loop.parts) == []
    )


def _spanish(loop: Loop) -> Conversation:
    conversation = loop.conversation("c2")
    conversation.override_customer_language("es")
    return conversation
