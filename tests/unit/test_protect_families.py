"""Span families: what support replies really contain is masked whole, prose is left alone."""

from __future__ import annotations

import pytest

from tl_loop import ConfigurationError, Protection, protect

# (family, text as an agent writes it inside a sentence, the span that must be one token)
FAMILIES = [
    ("version", "v2.7.1-beta"),
    ("version", "1.4.0-rc.1"),
    ("version", "10.0.0.1"),
    ("path", "/var/log/acme/sync.log"),
    ("path", "~/Downloads/acme"),
    ("path", "C:\\Users\\jane\\AppData\\Local\\Acme"),
    ("path", "%APPDATA%\\Acme\\logs"),
    ("path", "\\\\fileserver\\share\\report.xlsx"),
    ("path", "src/app/main.py"),
    ("domain", "acme.example/status"),
    ("domain", "help.acme.io/billing"),
    ("domain", "localhost:8080"),
    ("slug", "eu-west-1"),
    ("slug", "europe-west1"),
    ("slug", "us-central1-a"),
    ("identifier", "max_retry_count"),
    ("identifier", "ERR_CONNECTION_RESET"),
    ("identifier", "firstName"),
    ("identifier", "config.yml"),
    ("identifier", "ticket.requester.email"),
    ("code", "0x80070005"),
    ("code", "Z999AA10123456784"),
    ("code", "E1234"),
    ("chord", "Ctrl+Shift+R"),
    ("chord", "Cmd+Option+I"),
    ("chord", "⌘K"),
    ("chord", "Alt+F4"),
    ("mention", "@support-team"),
    ("hashtag", "#billing-help"),
    ("time", "10:30 AM"),
    ("time", "9 pm"),
    ("zammad", "#{ticket.number}"),
    ("zammad", "[Ticket#31001]"),
    ("url", "#{config.http_type}://#{config.fqdn}/#ticket/zoom/#{ticket.id}"),
    ("i18n", ":name"),
    ("i18n", "%days%"),
    ("i18n", "$(file)"),
    ("i18n", "$t(common.save)"),
    ("i18n", "@:message.hello"),
    ("i18n", "~s"),
    ("format", "%<name>s"),
    ("format", "%#@count@"),
    ("format", "%1"),
    ("format", "%L1"),
    ("format", "{0,1:N0}"),
    ("format", "{0,number,integer}"),
    ("format", "%zd"),
    ("format", "%Lf"),
    ("format", "%1$tH"),
    ("format", "${amount}"),
]


@pytest.mark.parametrize(("family", "span"), FAMILIES)
def test_each_family_masks_its_span_whole_and_restores_it(family: str, span: str) -> None:
    text = f"Please check {span} before Friday."
    doc = protect(text)
    assert [token.original for token in doc.tokens.values()] == [span]
    assert doc.restore(list(doc.segments)) == text
    off = protect(text, protection=Protection(disabled=frozenset({family})))
    assert span not in [token.original for token in off.tokens.values()]


@pytest.mark.parametrize(
    "prose",
    [
        "It is 3.5 times faster, 50% off, for 24-hour access on the 1st of May.",
        "E.g. the U.S. office and/or the EU one; see Settings > Billing.",
        "Note: the plan costs less. Reply at 10:30 or call us.",
        "Use two-factor login and the e-mail app, FAQ and API docs.",
    ],
)
def test_prose_is_not_masked(prose: str) -> None:
    assert protect(prose).tokens == {}


def test_the_amount_rule_never_eats_the_dollar_of_a_placeholder() -> None:
    doc = protect("You owe 30 ${amount} today.")
    assert [t.original for t in doc.tokens.values()] == ["${amount}"]
    assert doc.segments == ("You owe 30 ⟦0⟧ today.",)


def test_icu_keeps_structure_and_number_sign_and_translates_each_message() -> None:
    text = "You have {count, plural, =0 {no messages} one {# message} other {# messages}}."
    doc = protect(text)
    assert doc.segments == ("no messages", "⟦1⟧ message", "⟦2⟧ messages", "You have ⟦0⟧.")
    restored = doc.restore(["ningún mensaje", "⟦1⟧ mensaje", "⟦2⟧ mensajes", "Tienes ⟦0⟧."])
    assert restored == (
        "Tienes {count, plural, =0 {ningún mensaje} one {# mensaje} other {# mensajes}}."
    )


def test_icu_select_and_selectordinal_and_nesting() -> None:
    text = (
        "{gender, select, female {She replied} male {He replied} other {They replied}} "
        "on the {n, selectordinal, one {#st} two {#nd} few {#rd} other {#th}} try."
    )
    doc = protect(text)
    assert "She replied" in doc.segments
    assert doc.restore(list(doc.segments)) == text
    nested = "{n, plural, one {{g, select, female {her file} other {their file}}} other {# files}}"
    doc = protect(nested)
    assert {"her file", "their file"} <= set(doc.segments)
    assert any(segment.endswith(" files") for segment in doc.segments)
    assert doc.restore(list(doc.segments)) == nested


@pytest.mark.parametrize(
    ("text", "translated"),
    [
        ('Hi {{first_name | fallback: "there"}},', 'Hola {{first_name | fallback: "ahí"}},'),
        ("Hi {%customer.firstName,fallback=there%},", "Hola {%customer.firstName,fallback=ahí%},"),
        ("Hi {{ contact.first_name || 'there' }},", "Hola {{ contact.first_name || 'ahí' }},"),
        ('Hi {{ name | default: "there" }},', 'Hola {{ name | default: "ahí" }},'),
    ],
)
def test_fallback_text_is_its_own_segment(text: str, translated: str) -> None:
    doc = protect(text)
    assert doc.segments == ("there", "Hi ⟦0⟧,")
    assert doc.restore(["ahí", "Hola ⟦0⟧,"]) == translated


def test_fallbacks_in_html_are_translated_and_escaped() -> None:
    doc = protect('<p>Hi {{first_name | fallback: "there &amp; all"}}!</p>', content_type="html")
    assert doc.segments == ("there & all", "Hi ⟦0⟧!")
    restored = doc.restore(["todos & más", "Hola ⟦0⟧!"])
    assert restored == '<p>Hola {{first_name | fallback: "todos &amp; más"}}!</p>'


def test_a_pattern_of_your_own_is_masked_and_wins_ties() -> None:
    protection = Protection(patterns=(r"\bTKT-[A-Z]{3}\b", r"Acme\s+Cloud"))
    doc = protect("Ticket TKT-ABC is on Acme  Cloud.", protection=protection)
    assert {t.original: t.kind for t in doc.tokens.values()} == {
        "TKT-ABC": "custom",
        "Acme  Cloud": "custom",
    }


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"disabled": frozenset({"versions"})}, "unknown protection family 'versions'"),
        ({"patterns": ("TKT-(",)}, "is not a valid regex"),
        ({"patterns": ("x*",)}, "matches the empty string"),
    ],
)
def test_bad_protection_settings_say_what_is_wrong(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigurationError, match=message):
        Protection(**kwargs)  # type: ignore[arg-type]
