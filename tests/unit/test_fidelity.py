"""The fidelity check: every non-prose token of the source must reach the output byte-exact."""

from __future__ import annotations

import pytest

from tl_loop import Conversation, Decision, Glossary, Loop, Message, Protection, Severity
from tl_loop.testing import FakeEngine
from tl_loop.text import identifiers, missing_identifiers, prose_only


def rewriting(old: str, new: str) -> FakeEngine:
    """An engine that "translates" by rewriting `old` as `new`, as a careless engine would."""
    return FakeEngine(transform=lambda segment, _source, _target: segment.replace(old, new))


def spanish() -> Conversation:
    return Conversation(id="c1", customer_language="es", customer_language_confidence=0.99)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Update to v2.7.1-beta now.", ["v2.7.1-beta"]),
        (
            "See /var/log/acme/sync.log and C:\\Users\\jane\\AppData.",
            ["/var/log/acme/sync.log", "C:\\Users\\jane\\AppData"],
        ),
        ("Region eu-west-1, press Ctrl+Shift+R.", ["eu-west-1", "Ctrl+Shift+R"]),
        (
            "Set max_retry_count or ERR_CONNECTION_RESET or firstName.",
            ["max_retry_count", "ERR_CONNECTION_RESET", "firstName"],
        ),
        ("Ask @support-team in #billing-help.", ["@support-team", "#billing-help"]),
        ("Call at 10:30 AM about [Ticket#31001].", ["10:30 AM", "Ticket#31001"]),
        ("Open acme.example/status (or config.yml).", ["acme.example/status", "config.yml"]),
        (
            "Hello :name, %days% left, $(file), $t(key), @:key.",
            [":name", "%days%", "$(file)", "$t(key)", "@:key"],
        ),
        ("Run `acme sync --force` today.", ["`acme sync --force`"]),
        # prose: numbers, ordinals, abbreviations, word pairs, emphasis, possessives
        ("It is 50% off for 3 days, 1st time, 1,299.00 in total at 10:30.", []),
        ("E.g. the U.S. office and/or **Settings** and _this_, AcmeSync's app.", ["AcmeSync"]),
    ],
)
def test_identifiers_are_the_non_prose_tokens(text: str, expected: list[str]) -> None:
    assert identifiers(text) == expected


def test_placeholders_with_prose_inside_are_code_around_the_prose() -> None:
    text = 'Hi {{first_name | fallback: "there"}}, {count, plural, one {# file} other {# files}}.'
    assert identifiers(text) == [
        '{{first_name | fallback: "', '"}}', "{count, plural, one {", "} other {", "}}",
    ]  # fmt: skip
    translated = 'Hola {{first_name | fallback: "ahí"}}, {count, plural, one {# archivo} ' \
        "other {# archivos}}."  # fmt: skip
    assert missing_identifiers(text, translated) == []
    damaged = "Hola {{first_name | fallback: \"ahí\"}}, {cuenta, plural, un {# archivo} " \
        "otros {# archivos}}."  # fmt: skip
    assert missing_identifiers(text, damaged) == ["{count, plural, one {", "} other {"]


def test_a_token_written_twice_must_come_back_twice() -> None:
    source = "Use v2.1.0 on web and v2.1.0 on mobile."
    assert missing_identifiers(source, "Usa v2.1.0 en web y v2.1 en móvil.") == ["v2.1.0"]
    assert missing_identifiers(source, "Usa v2.1.0 en web y v2.1.0 en móvil.") == []


@pytest.mark.parametrize(
    "text",
    [
        "Go to aaa.aaa.www.aaa now.",
        "see config.yaml.www.example.com",
        "v1.2.3.www.io",
        "Status page x:www.status.io now.",
    ],
)
def test_an_untouched_text_misses_none_of_its_own_tokens(text: str) -> None:
    # Dotted runs read as two tokens, neither of which stands alone: still found intact.
    assert missing_identifiers(text, text.replace("now", "NOW")) == []
    damaged = text.replace("www", "ww w")
    assert missing_identifiers(text, damaged) != []


def test_html_is_compared_as_text_outside_tags() -> None:
    source = '<p>Run <a href="https://acme.example/x">this</a> with max_retry_count &amp; more</p>'
    intact = '<p>Ejecuta <a href="https://acme.example/x">esto</a> con max_retry_count &amp; y</p>'
    assert missing_identifiers(source, intact, content_type="html") == []
    damaged = '<p>Ejecuta <a href="https://acme.example/x">esto</a> con max_retry_cuenta y más.</p>'
    assert missing_identifiers(source, damaged, content_type="html") == ["max_retry_count"]


def test_damage_to_unmasked_text_holds_the_reply_and_names_the_token() -> None:
    # a careless cloud engine rewriting text that no span rule masked
    unmasked = Protection(disabled=frozenset({"code"}))
    loop = Loop(engines=[rewriting("Z999AA", "Z999-AA")], protection=unmasked)
    reply = loop.outbound(Message(text="Your parcel Z999AA10123456784 is on its way."), spanish())
    fidelity = [flag for flag in reply.flags if flag.code == "fidelity"]
    assert fidelity
    assert fidelity[0].severity is Severity.ERROR
    assert "'Z999AA10123456784'" in fidelity[0].detail
    assert reply.decision == Decision.HOLD


def test_intact_replies_carry_no_fidelity_flag() -> None:
    loop = Loop(engines=[FakeEngine()])
    reply = loop.outbound(
        Message(text="Your parcel Z999AA10123456784 ships from eu-west-1 with v2.7.1-beta."),
        spanish(),
    )
    assert "fidelity" not in reply.flag_codes
    assert reply.decision != Decision.HOLD  # the fake copies its input: other flags may show


def test_inbound_damage_is_flagged_but_never_held() -> None:
    unmasked = Protection(disabled=frozenset({"code"}))
    loop = Loop(engines=[rewriting("0x8007", "0x8O07")], protection=unmasked)
    note = loop.inbound(Message(text="Error 0x80070005 otra vez", language="es"), spanish())
    assert "fidelity" in note.flag_codes
    assert note.decision == Decision.SEND_FLAGGED


def test_a_lost_masked_token_is_reported_once_by_token_parity() -> None:
    loop = Loop(engines=[FakeEngine(transform=lambda s, _a, _b: s.replace("⟦0⟧", ""))])
    reply = loop.outbound(Message(text="See https://acme.example/help for more."), spanish())
    assert "token_parity" in reply.flag_codes
    assert "fidelity" not in reply.flag_codes


def test_unknown_words_never_name_a_piece_of_an_intact_identifier() -> None:
    engine = FakeEngine(unknown_words=["x80070005", "Frobnicate"])
    loop = Loop(engines=[engine])
    reply = loop.outbound(Message(text="Error 0x80070005 means Frobnicate failed."), spanish())
    [flag] = [flag for flag in reply.flags if flag.code == "unknown_words"]
    assert flag.detail.endswith("Frobnicate")


def test_glossary_compliance_ignores_urls_emails_link_targets_and_placeholders() -> None:
    glossary = Glossary.from_tsv("billing\tfacturación\n", source="en", target="es")
    source = (
        "Open https://acme.example/billing, write to billing@acme.example, see "
        "[the page](https://acme.example/billing) or {{billing_url}}."
    )
    assert "billing" not in prose_only(source)
    assert glossary.check(source, source, source="en", target="es") == ()
    violations = glossary.check("Ask billing.", "Pregunta a billing.", source="en", target="es")
    assert [v.source_term for v in violations] == ["billing"]
