"""Note and reply composition: what agents and customers see, and that untrusted HTML never gets
through."""

from __future__ import annotations

import pytest

from tl_loop import OWN_NOTE_MARKER, LanguageDetector, Loop, Message, Translation
from tl_loop.relay import NoteComposer, Trigger, parse_trigger
from tl_loop.testing import FakeEngine

ATTACKS = [
    ("<p>Hola</p><script>alert('x')</script>", "html"),
    ("<p onclick=\"alert('x')\">Hola</p><img src=x onerror=\"alert('x')\">", "html"),
    ("<a href=\"javascript:alert('x')\">Hola</a>", "html"),
    ("Hola <script>alert('x')</script>", "text"),
    ("Hola <script>alert('x')</script>", "markdown"),
]


@pytest.fixture(scope="module")
def loop() -> Loop:
    return Loop(engines=[FakeEngine()], detector=LanguageDetector(["en", "es"]))


def inbound(loop: Loop, text: str, content_type: str = "text") -> Translation:
    conversation = loop.conversation()
    conversation.override_customer_language("es")
    return loop.inbound(Message(text=text, content_type=content_type, language="es"), conversation)  # type: ignore[arg-type]


@pytest.mark.parametrize("note_format", ["html", "text"])
@pytest.mark.parametrize(("text", "content_type"), ATTACKS)
def test_customer_script_never_reaches_a_note(
    loop: Loop, note_format: str, text: str, content_type: str
) -> None:
    note = NoteComposer(format=note_format).inbound_note(inbound(loop, text, content_type))  # type: ignore[arg-type]
    lowered = note.lower()
    assert "<script" not in lowered
    assert "javascript:" not in lowered
    assert "onerror" not in lowered
    assert "onclick" not in lowered
    assert "hola" in lowered  # the message itself is still shown


def test_the_inbound_note_shows_languages_translation_flags_and_original() -> None:
    loop = Loop(
        engines=[FakeEngine({"Mi pedido no ha llegado.": "My order has not arrived."})],
        detector=LanguageDetector(["en", "es"]),
    )
    conversation = loop.conversation()
    translation = loop.inbound("Mi pedido no ha llegado.", conversation)
    note = NoteComposer().inbound_note(translation)
    assert "customer wrote in es" in note
    assert f"confidence {translation.audit.detection_confidence:.0%}" in note
    assert note.index("My order has not arrived.") < note.index("Original (es):")
    assert note.index("Original (es):") < note.index("Mi pedido no ha llegado.")
    assert "Review flags: none" in note
    assert note.endswith(OWN_NOTE_MARKER)


def test_flags_are_listed_in_the_note(loop: Loop) -> None:
    text = "Hola, mi pedido no ha llegado todavía y necesito ayuda."
    translation = inbound(loop, text)  # the fake copies the words: flagged as untranslated
    note = NoteComposer(format="text").inbound_note(translation)
    assert translation.flags
    for flag in translation.flags:
        assert f"{flag.severity.value} {flag.code}" in note


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("#tl Your order ships today.", Trigger("reply", "Your order ships today.")),
        ("#tl? Your order ships today.", Trigger("preview", "Your order ships today.")),
        ("  #tl\nThanks!", Trigger("reply", "  Thanks!")),
        ("<p>#tl Thanks!</p>", Trigger("reply", "<p>Thanks!</p>")),
        ("<div><p>#tl?&nbsp;Thanks!</p></div>", Trigger("preview", "<div><p>Thanks!</p></div>")),
        ("#tlThanks", None),
        ("#tl", None),
        ("<p>#tl </p>", None),
        ("Thanks #tl", None),
        ("Internal remark, no trigger", None),
    ],
)
def test_parse_trigger(text: str, expected: Trigger | None) -> None:
    assert parse_trigger(text) == expected


def test_triggers_are_configurable() -> None:
    assert parse_trigger("!tr Hi", trigger="!tr", preview_trigger="!tr?") == Trigger("reply", "Hi")
    assert parse_trigger("#tl Hi", trigger="!tr", preview_trigger="!tr?") is None


def outbound(loop: Loop, text: str, content_type: str = "text") -> Translation:
    conversation = loop.conversation()
    conversation.override_customer_language("es")
    return loop.outbound(Message(text=text, content_type=content_type), conversation)  # type: ignore[arg-type]


def test_the_reply_is_the_translation_alone_by_default(loop: Loop) -> None:
    translation = outbound(loop, "Your order ships today.")
    assert NoteComposer().reply(translation) == "[es] Your order ships today."


def test_disclosure_adds_the_line_and_the_original(loop: Loop) -> None:
    translation = outbound(loop, "<p>Your order ships today.</p>", "html")
    reply = NoteComposer().reply(translation, disclosure="Traducido automáticamente.")
    assert reply.index("[es] Your order ships today.") < reply.index("Traducido automáticamente.")
    assert reply.index("Traducido automáticamente.") < reply.rindex("Your order ships today.")
    assert OWN_NOTE_MARKER not in reply  # the customer never sees our marker


def test_held_and_preview_notes_say_nothing_was_sent(loop: Loop) -> None:
    translation = outbound(loop, "Your order ships today.")
    held = NoteComposer().held_note(translation)
    preview = NoteComposer().preview_note(translation)
    assert "NOT sent" in held
    assert "[es] Your order ships today." in held
    assert "not sent" in preview
    assert "[es] Your order ships today." in preview
    assert held.endswith(OWN_NOTE_MARKER)
    assert preview.endswith(OWN_NOTE_MARKER)
