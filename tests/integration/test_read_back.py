"""Events that name no message: the relay reads the conversation back (Freshdesk's automation
rules, over real HTTP against the Freshdesk emulator).

Each such event must get its own message: two identical customer messages are two notes, a
burst of messages is one note each, and neither a private note nor one of the relay's own
notes (however the helpdesk renders its marker) is ever taken for the message.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tl_loop import LanguageDetector, Loop
from tl_loop.relay import Relay, RelaySettings
from tl_loop.testing import FakeEngine, FreshdeskEmulator, FrontEmulator, Webhook
from tl_loop.testing.emulators import EmulatedConversation

THANKS = "Muchas gracias por su ayuda con el pedido."
WHERE = "Hola, mi pedido no ha llegado todavía."
TRANSLATIONS = {
    THANKS: "Thank you very much for your help with the order.",
    WHERE: "Hello, my order has not arrived yet.",
    "It ships today.": "Sale hoy.",
}


@pytest.fixture
def helpdesk() -> Iterator[FreshdeskEmulator]:
    with FreshdeskEmulator() as emulator:
        yield emulator


@pytest.fixture
def relay(helpdesk: FreshdeskEmulator, tmp_path: Path) -> Iterator[Relay]:
    loop = Loop(engines=[FakeEngine(TRANSLATIONS)], detector=LanguageDetector(["en", "es"]))
    relay = Relay(
        loop=loop,
        adapters={"freshdesk": helpdesk.adapter()},
        settings=RelaySettings(queue_path=tmp_path / "relay.sqlite3", retry_backoff_seconds=0.01),
    )
    yield relay
    relay.close()


def _ticket(helpdesk: FreshdeskEmulator) -> EmulatedConversation:
    conversation = helpdesk.open_conversation()
    # The first message is the ticket's description: the follow-ups are the case here.
    helpdesk.store.add_message(conversation, "Hola", author="customer", public=True)
    return conversation


def _deliver(relay: Relay, webhook: Webhook) -> int:
    return relay.accept("freshdesk", webhook.body, webhook.headers).status


def _notes(helpdesk: FreshdeskEmulator, conversation: EmulatedConversation) -> list[str]:
    return [note.body for note in helpdesk.notes(conversation.id)]


def test_two_identical_customer_messages_are_two_notes(
    helpdesk: FreshdeskEmulator, relay: Relay
) -> None:
    conversation = _ticket(helpdesk)
    first = helpdesk.customer_message(conversation, THANKS)
    time.sleep(1.05)  # {{ticket.modified_on}} has whole seconds
    second = helpdesk.customer_message(conversation, THANKS)
    assert first.body != second.body
    assert [_deliver(relay, first), _deliver(relay, second)] == [202, 202]
    assert _deliver(relay, second) == 200  # Freshdesk retrying a delivery: still one
    relay.drain()
    notes = _notes(helpdesk, conversation)
    assert len(notes) == 2
    assert all("Thank you very much" in note for note in notes)


def test_a_burst_of_messages_gets_one_note_each(helpdesk: FreshdeskEmulator, relay: Relay) -> None:
    # Both messages are in the ticket before either webhook is handled: each event must take
    # its own message, not both the newest.
    conversation = _ticket(helpdesk)
    first = helpdesk.customer_message(conversation, WHERE)
    time.sleep(1.05)
    second = helpdesk.customer_message(conversation, THANKS)
    _deliver(relay, first)
    _deliver(relay, second)
    relay.drain()
    notes = _notes(helpdesk, conversation)
    assert len(notes) == 2
    assert "my order has not arrived" in notes[0]
    assert "Thank you very much" in notes[1]


def test_the_read_back_takes_no_private_note_and_no_note_of_the_relay(
    helpdesk: FreshdeskEmulator, relay: Relay
) -> None:
    conversation = _ticket(helpdesk)
    webhook = helpdesk.customer_message(conversation, WHERE)
    # Between the webhook and the read: an e-mail Freshdesk filed as a private incoming note,
    # and a note of the relay as Freshdesk renders it (the marker's dash and space as HTML).
    helpdesk.store.add_message(
        conversation, "<div>Reenviado: el pedido 4412 sale mañana.</div>",
        author="customer", public=False,
    )  # fmt: skip
    helpdesk.store.add_message(
        conversation, "<p>Translation: Hello</p><p>&mdash;&nbsp;tl_loop</p>",
        author="customer", public=True,
    )  # fmt: skip
    _deliver(relay, webhook)
    relay.drain()
    [note] = _notes(helpdesk, conversation)
    assert "my order has not arrived" in note


def test_an_agent_note_is_read_back_past_the_relays_own_note(
    helpdesk: FreshdeskEmulator, relay: Relay
) -> None:
    conversation = _ticket(helpdesk)
    helpdesk.store.add_message(conversation, WHERE, author="customer", public=True)
    webhook = helpdesk.agent_note(conversation, "#tl It ships today.")
    helpdesk.store.add_message(
        conversation, "<p>Traducción: Hola</p><p>&#8212; tl_loop</p>", author="agent", public=False
    )
    _deliver(relay, webhook)
    relay.drain()
    [reply] = helpdesk.replies(conversation.id)
    assert "Sale hoy." in reply.body


def test_a_front_preview_comment_is_read_back_from_the_comments(tmp_path: Path) -> None:
    """A rule webhook sending previews carries the comment's id, not its body: the relay finds
    the `#tl` note among the conversation's comments (Front lists them apart from messages)."""
    with FrontEmulator(webhook_kind="rule") as front:
        loop = Loop(engines=[FakeEngine(TRANSLATIONS)], detector=LanguageDetector(["en", "es"]))
        relay = Relay(
            loop=loop,
            adapters={"front": front.adapter()},
            settings=RelaySettings(queue_path=tmp_path / "relay.sqlite3"),
        )
        conversation = front.open_conversation()
        front.store.add_message(conversation, WHERE, author="customer", public=True)
        webhook = front.agent_note(conversation, "#tl It ships today.")
        event = json.loads(webhook.body)
        event["target"]["data"] = {
            key: event["target"]["data"][key] for key in ("_links", "id")
        }  # a preview: ids and links only
        preview = front.webhook(event, event="comment")
        assert relay.accept("front", preview.body, preview.headers).status == 202
        relay.drain()
        relay.close()
        [reply] = front.replies(front.conversation_key(conversation))
        assert "Sale hoy." in reply.body
