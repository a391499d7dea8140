"""The loop end to end on fake engines: every behaviour runs under both shells."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest

from shells import Shell
from tl_loop import (
    Conversation,
    Decision,
    Message,
    PolicyRule,
    QuotaExceededError,
    ReviewPolicy,
    ServiceUnavailableError,
    Severity,
    Translation,
)
from tl_loop.engines import Capabilities, SegmentResult
from tl_loop.stores import InMemoryTranslationMemory, MemoryEntry
from tl_loop.testing import FakeEngine

SPANISH = "Hola, mi pedido #48213 no ha llegado todavía y necesito ayuda, por favor."
ENGLISH = "Hello, my order ⟦0⟧ has not arrived yet and I need help, please."


def spanish_conversation() -> Conversation:
    return Conversation(id="c1", customer_language="es", customer_language_confidence=0.99)


def test_inbound_detects_the_customer_language_and_translates_for_the_agent(
    make_loop: Callable[..., Shell],
) -> None:
    engine = FakeEngine({"Hola, mi pedido ⟦0⟧ no ha llegado todavía y necesito ayuda, por favor.":
                         ENGLISH})  # fmt: skip
    shell = make_loop(engines=[engine])
    conversation = Conversation(id="c1")

    note = shell.inbound(SPANISH, conversation)

    assert note.translated == "Hello, my order #48213 has not arrived yet and I need help, please."
    assert note.original == SPANISH
    assert (note.source_language, note.target_language) == ("es", "en")
    assert note.decision is Decision.SEND
    assert conversation.customer_language == "es"
    assert note.audit.detected_language == "es"
    assert note.audit.engine == "fake"
    assert note.audit.characters_sent == len(engine.calls[0][2][0])


def test_inbound_is_skipped_when_the_agent_reads_the_customer_language(
    make_loop: Callable[..., Shell],
) -> None:
    engine = FakeEngine()
    shell = make_loop(engines=[engine])

    note = shell.inbound("Hi, my order has not arrived yet. Can you check it please?",
                         Conversation())  # fmt: skip

    assert note.skipped
    assert note.translated == note.original
    assert engine.calls == []


def test_outbound_keeps_placeholders_order_numbers_amounts_and_urls(
    make_loop: Callable[..., Shell],
) -> None:
    shell = make_loop(engines=[FakeEngine()])
    macro = (
        "Hi {{ticket.requester.first_name}}, we refunded $59.99 for order #48213. "
        "Details: https://acme.example/billing?id=48213 or write to help@acme.example."
    )

    reply = shell.outbound(macro, spanish_conversation())

    for kept in ("{{ticket.requester.first_name}}", "$59.99", "#48213",
                 "https://acme.example/billing?id=48213", "help@acme.example"):  # fmt: skip
        assert kept in reply.translated
    assert "token_parity" not in reply.flag_codes
    assert reply.target_language == "es"


def drop_tokens(segment: str, source: str, target: str) -> str:
    return re.sub(r"⟦\d+⟧", "", segment)


def test_a_lost_placeholder_holds_the_reply(make_loop: Callable[..., Shell]) -> None:
    shell = make_loop(engines=[FakeEngine(transform=drop_tokens)])

    reply = shell.outbound("Your order #48213 ships today.", spanish_conversation())

    assert reply.decision is Decision.HOLD
    assert "token_parity" in reply.flag_codes
    assert "#48213" in next(f.detail for f in reply.flags if f.code == "token_parity")


def test_changed_numbers_are_flagged(make_loop: Callable[..., Shell]) -> None:
    shell = make_loop(engines=[FakeEngine(transform=lambda s, _src, _tgt: s.replace("3", "8"))])

    reply = shell.outbound("It will arrive in 3 days.", spanish_conversation())

    assert "number_mismatch" in reply.flag_codes
    assert reply.decision is Decision.SEND_FLAGGED


def test_when_every_engine_fails_inbound_keeps_the_original_and_outbound_is_held(
    make_loop: Callable[..., Shell],
) -> None:
    outage = ServiceUnavailableError("connection refused", service="fake")
    shell = make_loop(engines=[FakeEngine(fail_with=outage)])
    conversation = spanish_conversation()

    note = shell.inbound(SPANISH, conversation)
    reply = shell.outbound("Your order ships today.", conversation)

    assert note.translated == SPANISH
    assert note.flag_codes == ("engine_failed",)
    assert note.decision is Decision.SEND_FLAGGED
    assert reply.translated == "Your order ships today."
    assert reply.decision is Decision.HOLD
    assert "connection refused" in reply.flags[0].detail


def test_failover_to_the_next_engine_is_recorded(make_loop: Callable[..., Shell]) -> None:
    broken = FakeEngine(name="primary", fail_with=QuotaExceededError("quota", service="primary"))
    backup = FakeEngine(name="backup", transform=lambda s, _src, tgt: f"<{tgt}>{s}")
    shell = make_loop(engines=[broken, backup])

    reply = shell.outbound("Thanks for your patience.", spanish_conversation())

    assert reply.engine == "backup"
    assert reply.translated == "<es>Thanks for your patience."
    assert "engine_fallback" in reply.flag_codes
    assert reply.decision is not Decision.HOLD


def test_pivot_through_a_third_language_when_no_direct_pair(
    make_loop: Callable[..., Shell],
) -> None:
    engine = FakeEngine(
        {"Olá, obrigado.": "Hola, gracias.", "Hola, gracias.": "Hello, thank you."},
        pairs=[("pt", "es"), ("es", "en")],
    )
    shell = make_loop(engines=[engine])

    note = shell.inbound(Message(text="Olá, obrigado.", language="pt"), Conversation())

    assert note.translated == "Hello, thank you."
    assert note.audit.route == ("pt", "es", "en")
    assert "pivot" in note.flag_codes


def test_an_unsupported_pair_keeps_the_original_with_a_flag(
    make_loop: Callable[..., Shell],
) -> None:
    shell = make_loop(engines=[FakeEngine(pairs=[("es", "en")])])

    note = shell.inbound(Message(text="Γεια σας, η παραγγελία μου δεν έφτασε.", language="el"),
                         Conversation())  # fmt: skip

    assert note.translated == note.original
    assert note.flag_codes == ("unsupported_language",)
    assert "es→en" in note.flags[0].detail


def test_the_cache_serves_repeats_without_calling_the_engine(
    make_loop: Callable[..., Shell],
) -> None:
    engine = FakeEngine()
    shell = make_loop(engines=[engine])
    conversation = spanish_conversation()

    first = shell.outbound("Thanks for waiting. Thanks for waiting.", conversation)
    second = shell.outbound("Thanks for waiting.", conversation)

    assert engine.segments_sent == 1  # the repeated sentence went to the engine once
    assert first.audit.cache_hits == 0
    assert second.audit.cache_hits == 1
    assert second.audit.characters_sent == 0
    assert shell.loop.cache.stats.hits == 1


def test_outbound_without_a_customer_language_is_held(make_loop: Callable[..., Shell]) -> None:
    engine = FakeEngine()
    shell = make_loop(engines=[engine])

    reply = shell.outbound("Hello!", Conversation())

    assert reply.decision is Decision.HOLD
    assert reply.flag_codes == ("customer_language_unknown",)
    assert engine.calls == []


def test_short_messages_do_not_change_the_conversation_language(
    make_loop: Callable[..., Shell],
) -> None:
    shell = make_loop(engines=[FakeEngine()])
    conversation = Conversation()
    shell.inbound("Buenos días, tengo un problema con la factura de este mes.", conversation)

    note = shell.inbound("ok thx", conversation)

    assert conversation.customer_language == "es"
    assert note.source_language == "es"


def test_a_manual_override_wins_over_detection(make_loop: Callable[..., Shell]) -> None:
    shell = make_loop(engines=[FakeEngine()])
    conversation = Conversation()
    conversation.override_customer_language("ca")

    note = shell.inbound("Buenos días, tengo un problema con la factura de este mes.", conversation)

    assert conversation.customer_language == "ca"
    assert note.source_language == "ca"


def test_personal_data_never_reaches_an_untrusted_engine(make_loop: Callable[..., Shell]) -> None:
    cloud = FakeEngine(capabilities=Capabilities(trusted=False))
    shell = make_loop(engines=[cloud])

    reply = shell.outbound(
        "Call me at +34 612 345 678 or write to jane.doe@example.com.", spanish_conversation()
    )

    sent = " ".join(segment for _, _, segments in cloud.calls for segment in segments)
    assert "612 345 678" not in sent
    assert "jane.doe@example.com" not in sent
    assert "+34 612 345 678" in reply.translated
    assert "jane.doe@example.com" in reply.translated


def test_glossary_forced_terms_and_do_not_translate(
    make_loop: Callable[..., Shell], sample_glossary: object
) -> None:
    shell = make_loop(engines=[FakeEngine(transform=lambda s, _src, _tgt: s)],
                      glossary=sample_glossary)  # fmt: skip

    reply = shell.outbound("Open the dashboard of Acme Cloud.", spanish_conversation())

    assert "panel de control" in reply.translated
    assert "Acme Cloud" in reply.translated
    assert "glossary_violation" not in reply.flag_codes


def _comparable(translation: Translation) -> dict[str, object]:
    data = translation.model_dump()
    data["audit"].pop("timings_ms")
    data["audit"].pop("created_at")
    return data


SCENARIOS = [
    ("inbound", SPANISH),
    ("inbound", "ok gracias"),
    ("outbound", "Hi {{name}}, your refund of €20 for #48213 is on its way."),
    ("outbound", "<p>Click <b>Save</b> in the <code>settings</code> page.</p>"),
]


@pytest.mark.parametrize(("direction", "text"), SCENARIOS)
def test_both_shells_give_identical_results(direction: str, text: str) -> None:
    results = []
    for kind in ("sync", "async"):
        shell = Shell(kind, engines=[FakeEngine()])
        content_type = "html" if text.startswith("<") else "text"
        message = Message(text=text, content_type=content_type)
        results.append(_comparable(getattr(shell, direction)(message, spanish_conversation())))
    assert results[0] == results[1]


def test_an_invented_protected_token_is_flagged_not_a_crash(
    make_loop: Callable[..., Shell],
) -> None:
    shell = make_loop(engines=[FakeEngine(transform=lambda s, _src, _tgt: s + " ⟦99⟧")])

    reply = shell.outbound("Your order #48213 ships today.", spanish_conversation())

    assert reply.decision is Decision.HOLD
    assert "added '⟦99⟧'" in reply.flags[0].detail


def test_a_native_glossary_engine_gets_the_glossary_and_compliance_is_still_checked(
    make_loop: Callable[..., Shell], sample_glossary: object
) -> None:
    native = FakeEngine(transform=lambda s, _src, _tgt: s, capabilities=Capabilities(glossary=True))
    shell = make_loop(engines=[native], glossary=sample_glossary)

    reply = shell.outbound("Open the dashboard of Acme Cloud.", spanish_conversation())

    assert native.options[0].glossary is sample_glossary
    assert "dashboard" in native.calls[0][2][0]  # not hidden behind a token: the engine inflects
    assert "Acme Cloud" not in native.calls[0][2][0]  # do-not-translate stays protected
    assert "glossary_violation" in reply.flag_codes  # this engine ignored it: caught anyway


def test_a_register_the_engine_cannot_honour_is_flagged(make_loop: Callable[..., Shell]) -> None:
    shell = make_loop(engines=[FakeEngine()], formality="formal")

    reply = shell.outbound("Could you send us a screenshot?", spanish_conversation())

    assert "formality_unsupported" in reply.flag_codes


def test_a_register_the_engine_honours_is_passed_and_not_flagged(
    make_loop: Callable[..., Shell],
) -> None:
    polite = FakeEngine(capabilities=Capabilities(formality=True))
    shell = make_loop(engines=[polite], formality="informal")

    reply = shell.outbound("Could you send us a screenshot?", spanish_conversation())

    assert polite.options[0].formality == "informal"
    assert "formality_unsupported" not in reply.flag_codes


def test_segments_the_engine_was_unsure_of_are_flagged(make_loop: Callable[..., Shell]) -> None:
    class Unsure(FakeEngine):
        def _translate_one(self, segment: str, source: str, target: str) -> SegmentResult:
            score = 0.2 if "refund" in segment else 0.9
            return SegmentResult(text=segment, score=score)

    shell = make_loop(engines=[Unsure()])

    sure = shell.outbound("Thanks for your patience.", spanish_conversation())
    unsure = shell.outbound("Thanks. We sent the refund today.", spanish_conversation())

    assert "low_score" not in sure.flag_codes
    [low] = [flag for flag in unsure.flags if flag.code == "low_score"]
    assert "0.20" in low.detail
    assert "refund" in low.detail


def test_a_human_approved_translation_wins_over_the_engine(
    make_loop: Callable[..., Shell],
) -> None:
    memory = InMemoryTranslationMemory()
    memory.put(
        MemoryEntry(
            source_text="Your order ⟦0⟧ ships today.",
            target_text="Tu pedido ⟦0⟧ sale hoy.",
            source="en",
            target="es",
            glossary_version=None,
        )
    )
    engine = FakeEngine()
    shell = make_loop(engines=[engine], memory=memory)

    reply = shell.outbound("Your order #48213 ships today. Thanks!", spanish_conversation())

    assert reply.translated.startswith("Tu pedido #48213 sale hoy.")
    assert reply.audit.memory_hits == 1
    assert engine.calls[0][2] == ("Thanks!",)  # only the unknown sentence went to the engine


def test_review_policy_per_channel_and_language(make_loop: Callable[..., Shell]) -> None:
    strict = ReviewPolicy(hold_at=Severity.WARNING)
    shell = make_loop(
        engines=[FakeEngine(transform=lambda s, _src, _tgt: s.replace("3", "8"))],
        policy_rules=[PolicyRule(strict, channel="email"), PolicyRule(strict, language="de")],
    )
    reply = "It will arrive in 3 days."

    chat = shell.outbound(Message(text=reply, channel="chat"), spanish_conversation())
    email = shell.outbound(Message(text=reply, channel="email"), spanish_conversation())
    german = shell.outbound(
        Message(text=reply, channel="chat"), Conversation(customer_language="de")
    )

    assert chat.decision is Decision.SEND_FLAGGED
    assert email.decision is Decision.HOLD
    assert german.decision is Decision.HOLD
