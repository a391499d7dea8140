"""Long and first messages reach the agent: within each platform's note cap; from a new ticket.

A 200 KB customer message once made a 398,290-character note that Chatwoot refused (422, its
150,000-character cap): the agent got nothing. Against the platform emulators (real HTTP, the
platforms' caps), the relay now leaves the quoted original out and splits the translation over
notes that each fit.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tl_loop import OWN_NOTE_MARKER, LanguageDetector, Loop
from tl_loop.relay import Relay, RelaySettings
from tl_loop.testing import FakeEngine
from tl_loop.testing.emulators import EMULATORS

PARAGRAPH = (
    "Hola, les escribo porque mi pedido número {n} no ha llegado todavía y necesito saber "
    "dónde está. El repartidor dijo que vendría el martes, pero nadie vino a mi casa."
)


def long_message(size: int) -> str:
    paragraphs, n = [], 0
    while sum(len(p) + 2 for p in paragraphs) < size:
        n += 1
        paragraphs.append(PARAGRAPH.format(n=n))
    return "\n\n".join(paragraphs)


@pytest.mark.parametrize("platform", ["chatwoot", "zendesk"])
def test_a_200_kb_message_arrives_as_notes_the_platform_accepts(
    platform: str, tmp_path: Path
) -> None:
    text = long_message(200_000)
    with EMULATORS[platform]() as emulator:
        adapter = emulator.adapter()
        assert adapter.max_note_chars is not None
        relay = Relay(
            loop=Loop(engines=[FakeEngine()], detector=LanguageDetector(["en", "es"])),
            adapters={platform: adapter},
            settings=RelaySettings(queue_path=tmp_path / "queue.sqlite3"),
        )
        with relay:
            conversation = emulator.open_conversation()
            webhook = emulator.customer_message(conversation, text)
            assert relay.accept(platform, webhook.body, webhook.headers).status == 202
            relay.drain(timeout=60)
            assert relay.queue.failed_jobs() == []
            notes = emulator.notes(str(conversation.id))
    assert len(notes) >= 2
    assert all(len(note.body) <= adapter.max_note_chars for note in notes)
    assert all(OWN_NOTE_MARKER in note.body for note in notes)
    assert f"part 1 of {len(notes)}" in notes[0].body
    # Every paragraph's translation is in one of the notes, in order.
    joined = "".join(note.body for note in notes)
    first, last = "número 1 no ha llegado", f"número {text.count(chr(10) * 2) + 1} no ha llegado"
    assert joined.index(first) < joined.index(last)
    assert joined.count("no ha llegado") == text.count("no ha llegado")  # nothing lost


def test_a_new_freshdesk_ticket_is_translated_from_its_description(tmp_path: Path) -> None:
    # The conversations API does not list a ticket's first message: the event's text is used.
    with EMULATORS["freshdesk"]() as emulator:
        relay = Relay(
            loop=Loop(engines=[FakeEngine()], detector=LanguageDetector(["en", "es"])),
            adapters={"freshdesk": emulator.adapter()},
            settings=RelaySettings(queue_path=tmp_path / "queue.sqlite3"),
        )
        with relay:
            conversation = emulator.open_conversation()
            webhook = emulator.customer_message(conversation, "Hola, no puedo entrar.")
            assert webhook.json()["freshdesk_webhook"]["event"] == "ticket_created"
            assert relay.accept("freshdesk", webhook.body, webhook.headers).status == 202
            relay.drain(timeout=30)
            assert relay.queue.failed_jobs() == []
            [note] = emulator.notes(str(conversation.id))
    assert "no puedo entrar" in note.body
